"""Training launched as several processes (``torchrun``, ``accelerate launch``): who does what.

    torchrun --nproc_per_node=4 -m training.train --config configs/allsides.yaml
    accelerate launch --num_processes 4 -m training.train --config configs/allsides.yaml

Every process loads the data and trains its share of each batch (the Trainer wraps the model in
DistributedDataParallel); only the main process creates and writes the run folder, and it tells the
others which folder it made, or why it refused to, so no process waits for an answer that never comes.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

import torch

T = TypeVar("T")


def launched_processes() -> int:
    """How many processes the launcher started (``WORLD_SIZE``; 1 when run directly)."""
    try:
        return max(int(os.environ.get("WORLD_SIZE", "1")), 1)
    except ValueError:
        return 1


def start() -> Any:
    """Joins the process group when launched as several processes (the state the Trainer will use), else None."""
    if launched_processes() == 1:
        return None
    from accelerate import PartialState

    return PartialState(cpu=not torch.cuda.is_available())


def is_main(state: Any) -> bool:
    return state is None or state.is_main_process


def share(state: Any, value: T) -> T:
    """The main process's ``value``, on every process."""
    return value if state is None else from_rank_zero(value)


def run_on_main(state: Any, action: Any, *args: Any, error_types: tuple[type[Exception], ...] = (ValueError,)) -> Any:
    """``action(*args)`` on the main process only; its result, or its error, reaches every process.

    An error of ``error_types`` raised on the main process is raised again, with the same message, on
    every process, so they all stop instead of waiting for the main one.
    """
    outcome: tuple[str, Any] = ("ok", None)
    if is_main(state):
        try:
            outcome = ("ok", action(*args))
        except error_types as error:
            if state is None:
                raise
            outcome = ("error", (type(error), str(error)))
    kind, value = share(state, outcome)
    if kind == "error":
        error_type, message = value
        raise error_type(message)
    return value


def joined() -> bool:
    """Whether this process is one of several in a started process group."""
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def rank_and_count() -> tuple[int, int]:
    """This process's rank and the number of processes in the group; ``(0, 1)`` for a single process."""
    if not joined():
        return 0, 1
    return torch.distributed.get_rank(), torch.distributed.get_world_size()


def wait_for_everyone() -> None:
    """Blocks until every process of the group gets here; nothing for a single process."""
    if joined():
        torch.distributed.barrier()


def from_rank_zero(value: T) -> T:
    """Rank 0's ``value`` on every process of the group (``value`` itself for a single process)."""
    if not joined():
        return value
    shared = [value]
    torch.distributed.broadcast_object_list(shared, src=0)
    return shared[0]
