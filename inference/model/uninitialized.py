"""Building a model whose every weight is loaded next, without first drawing random weights it would throw away.

torch's layers draw their initial weights as they are built: for all-mpnet-base-v2's 110M parameters that took
0.67 s of a fresh process's first prediction here, and copying the loaded weights over them 0.62 s more. Inside
:func:`uninitialized_layers`, the layers this thread builds keep the memory ``torch.empty`` gave them; a strict
``load_state_dict(..., assign=True)`` then fills every one with the folder's own tensors (safetensors maps the file,
copy-on-write, so they are neither read twice nor copied). The skipping is this thread's alone: a layer another
thread builds meanwhile is initialised as usual.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from torch import nn

LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, nn.Embedding, nn.LayerNorm)
_SWAP = threading.Lock()  # one thread swaps the layers' methods at a time


def _skipped_in(thread: int, initialise: Callable[[nn.Module], None]) -> Callable[[nn.Module], None]:
    def reset_parameters(self: nn.Module) -> None:
        if threading.get_ident() != thread:
            initialise(self)

    return reset_parameters


@contextlib.contextmanager
def uninitialized_layers() -> Iterator[None]:
    """Inside the block, :data:`LAYERS` built by this thread skip their random initialisation (their memory is
    uninitialised until a state dict is loaded into them)."""
    thread = threading.get_ident()
    with _SWAP:
        originals = {layer: layer.__dict__["reset_parameters"] for layer in LAYERS}
        for layer, initialise in originals.items():
            layer.reset_parameters = _skipped_in(thread, initialise)
        try:
            yield
        finally:
            for layer, initialise in originals.items():
                layer.reset_parameters = initialise
