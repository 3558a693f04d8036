"""Batch prediction in several worker processes, each with its own copy of the model.

    newsclf-predict --model runs/default/model --input archive.jsonl --output out.jsonl --workers 2

On a CPU, a few processes with a share of the cores each usually score more articles per second than
one process using them all, because tokenizing and the small matrix products of one batch leave cores
idle. Chunks go to the workers in order and come back in the same order; at most ``2 * workers`` chunks
are in flight, so memory stays flat however long the input is.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from ..options import PredictOptions

if TYPE_CHECKING:
    from ..prediction.predictor import Predictor
    from ..prediction.tfidf import TfidfPredictor

_worker_predictor: Predictor | TfidfPredictor | None = None


def threads_per_worker(workers: int, threads: int | None = None) -> int:
    """CPU threads each worker uses: ``threads`` if given, else an equal share of the machine's cores.

    >>> threads_per_worker(2, None) == max(1, (os.cpu_count() or 1) // 2)
    True
    >>> threads_per_worker(4, 3)
    3
    """
    return threads if threads is not None else max(1, (os.cpu_count() or 1) // workers)


def _start_worker(model: str, options: PredictOptions) -> None:
    global _worker_predictor
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the pool
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    from ..prediction.predictor import Predictor

    _worker_predictor = Predictor.from_options(model, options)


def _exit_with(parent: Any) -> None:
    # A worker holds both ends of its task pipe, so it would wait forever for work from a parent that was
    # killed (SIGKILL, OOM killer), keeping a copy of the model in memory: end it with its parent instead.
    parent.join()
    os._exit(1)


def _run_in_worker(work: Callable[[Predictor | TfidfPredictor, Any], Any], item: Any) -> Any:
    assert _worker_predictor is not None, "worker started without a model"
    return work(_worker_predictor, item)


class PredictorPool:
    """Worker processes that each load the model folder once and then score chunks of articles.

    Args:
        model: the model folder.
        workers: how many processes (at least 1).
        options: how each worker predicts; ``num_threads`` defaults to an equal share of the cores.

    >>> with PredictorPool("runs/default/model", workers=2) as pool:  # doctest: +SKIP
    ...     for chunk, results in pool.map(score, chunks):
    ...         ...
    """

    def __init__(self, model: str, workers: int, options: PredictOptions = PredictOptions()) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        options = options.replace(num_threads=threads_per_worker(workers, options.num_threads))
        self.workers = workers
        # spawn, not fork: a forked copy of a process that has started torch's thread pool can hang
        self._executor = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(model, options),
        )

    def map(
        self, work: Callable[[Predictor | TfidfPredictor, Any], Any], items: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]:
        """``(item, work(worker's predictor, item))`` for each item, in input order.

        ``work`` must be a module-level function (it is pickled to the workers); an error it raises
        is raised here, for the first item (in input order) that failed.
        """
        pending: deque[tuple[Any, Future]] = deque()
        for item in items:
            pending.append((item, self._executor.submit(_run_in_worker, work, item)))
            if len(pending) >= 2 * self.workers:
                item, future = pending.popleft()
                yield item, future.result()
        while pending:
            item, future = pending.popleft()
            yield item, future.result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PredictorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
