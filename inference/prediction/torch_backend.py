"""The torch backend: a :class:`NewsClassifier` or a folder's :class:`~inference.model.heads.FolderModel` scoring
padded windows in fp32 or under bf16 autocast, on a scoped number of threads."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..model.heads import FolderModel, window_assignment
from ..model.settings import TaskSpecs

if TYPE_CHECKING:
    from ..model.classifier import NewsClassifier


_THREAD_SETTING = threading.RLock()  # re-entrant: a scoped call may run inside another (training that predicts)


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Runs a block on ``count`` torch CPU threads, then puts back the caller's setting (None: leaves it).

    torch's thread count is one setting for the whole process, so a library call that changes it for
    its own work must restore it; the lock keeps two such calls from restoring each other's value.

    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if count is None:
        yield
        return
    with _THREAD_SETTING:
        before = torch.get_num_threads()
        if count != before:
            torch.set_num_threads(count)
        try:
            yield
        finally:
            if count != before:
                torch.set_num_threads(before)


class TorchBackend:
    """Runs a :class:`NewsClassifier` or :class:`~inference.model.heads.FolderModel` with torch, in fp32 or
    under bf16 autocast (which leaves the model's own weights in fp32; casting the encoder to bf16 instead
    measured no faster, docs/speed.md).

    Args:
        model: the model.
        device: ``cpu`` or ``cuda``.
        precision: ``fp32`` or ``bf16``.
        num_threads: torch CPU threads for each call (the process's own setting is restored after);
            ``None``: whatever the process uses.
    """

    name = "torch"

    def __init__(
        self,
        model: NewsClassifier | FolderModel,
        device: str = "cpu",
        precision: str = "fp32",
        num_threads: int | None = None,
    ) -> None:
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"the torch backend runs fp32 or bf16, got {precision!r}")
        if num_threads is not None and num_threads < 1:
            raise ValueError(f"num_threads must be at least 1, got {num_threads}")
        self.model = model.to(device).eval()
        self.config: TaskSpecs = model.config
        self.device = device
        self.precision = precision
        self.num_threads = num_threads

    @property
    def autocast(self) -> bool:
        return self.precision == "bf16"

    def __call__(self, batch: Mapping[str, Any]) -> list[np.ndarray]:
        """Each task's logits for a batch of :func:`~inference.model.windowing.pad_windows` (numpy arrays or
        tensors)."""
        inputs = {key: torch.as_tensor(value).to(self.device) for key, value in batch.items()}
        with self.context():
            logits = self.model(**inputs).logits
        return [task_logits.float().cpu().numpy() for task_logits in logits]

    def window_vectors(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """Each window's vector (fp32, on the CPU), for windows batched apart from their articles."""
        inputs = {
            key: torch.as_tensor(value).to(self.device) for key, value in batch.items() if key != "window_to_article"
        }
        with self.context():
            return self.model.encode_windows(**inputs).cpu()

    def article_logits(self, vectors: Sequence[torch.Tensor], window_to_article: np.ndarray) -> list[np.ndarray]:
        """Each task's logits for the articles whose windows' ``vectors`` (from :meth:`window_vectors`) are given,
        in order, with each window's article (as :meth:`__call__`)."""
        with self.context():
            assignment = window_assignment(torch.as_tensor(window_to_article).to(self.device))
            stacked = torch.stack(list(vectors)).to(self.device)
            logits = self.model.classify(self.model.pool_windows(stacked, assignment))
        return [task_logits.float().cpu().numpy() for task_logits in logits]

    def context(self) -> contextlib.ExitStack:
        """The threads, inference mode and autocast every call runs under (for code that runs parts of the model)."""
        stack = contextlib.ExitStack()
        stack.enter_context(torch_threads(self.num_threads))
        stack.enter_context(torch.inference_mode())
        device_type = "cuda" if self.device.startswith("cuda") else "cpu"
        stack.enter_context(torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.autocast))
        return stack


def fuse_for_bf16(model: Any) -> None:
    """A folder's plain-torch BERT predicts through its fused bf16 layers (:meth:`BertLayer.fuse`); call it only on a
    model loaded for one predictor alone, so nothing else sees the change."""
    if isinstance(model, FolderModel):
        model.encoder.fuse(torch.bfloat16)
