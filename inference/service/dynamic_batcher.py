"""Dynamic batching: concurrent requests gathered into one forward pass, computed off the event loop.

A server that runs one forward pass per request wastes most of a CPU: the batched encoder costs far less per
article than one article at a time. :class:`DynamicBatcher` queues each request's items; one worker takes whatever
is queued, up to ``max_batch`` items, runs it in a single compute thread, and hands each request its own slice of
the results. A request that finds the model idle goes at once (a lone client never waits for company that does
not come); those that arrive while the model is busy share the next pass. ``max_wait_ms`` above 0 makes the first
request of a batch wait that long for others as well. Requests of different ``key`` (with and without a target,
say) never share a batch. If a batch fails, each of its requests is retried alone, so one bad request cannot fail
the others.

>>> import asyncio
>>> async def demo():
...     batcher = DynamicBatcher(lambda items: [item * 2 for item in items], max_batch=8)
...     await batcher.start()
...     results = await asyncio.gather(batcher.submit([1, 2]), batcher.submit([3]))
...     await batcher.stop()
...     return results, batcher.batches
>>> asyncio.run(demo())
([[2, 4], [6]], 1)
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

Result = TypeVar("Result")


@dataclass
class _Job:
    items: Sequence[Any]
    key: Hashable
    future: asyncio.Future = field(repr=False)


class DynamicBatcher:
    """Gathers the items of concurrent :meth:`submit` calls into calls of ``compute``.

    Args:
        compute: takes a list of items, returns one result per item, in order (e.g. a
            ``Predictor.predict`` over articles). It runs in one thread of its own, never two at once.
        max_batch: most items per call (a single larger request still runs, alone).
        max_wait_ms: how long the first queued request may wait for others to join its batch (0: it goes with
            what is already queued).
    """

    def __init__(self, compute: Callable[..., list], max_batch: int = 32, max_wait_ms: float = 0.0) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be 0 or more, got {max_wait_ms}")
        self.compute = compute
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.batches = 0
        """Calls of ``compute`` so far."""
        self._queue: asyncio.Queue[_Job] | None = None
        self._held: deque[_Job] = deque()  # taken from the queue, but of another key than the batch being built
        self._worker: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        """Starts the worker on the running event loop."""
        if self._worker is not None:
            raise RuntimeError("the batcher is already running")
        self._queue = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsclf-compute")
        self._worker = asyncio.create_task(self._work(), name="newsclf-batcher")

    async def stop(self) -> None:
        """Finishes the queued requests, then stops the worker and its thread."""
        if self._worker is None:
            return
        while self._held or (self._queue is not None and not self._queue.empty()):
            await asyncio.sleep(0.001)
        self._worker.cancel()
        try:
            await self._worker
        except asyncio.CancelledError:
            pass
        assert self._executor is not None  # start() made it with the worker
        self._executor.shutdown(wait=True)
        self._worker = self._executor = None

    async def submit(self, items: Sequence[Any], key: Hashable = None) -> list:
        """Queues ``items`` and returns their results once the batch they joined is computed.

        Raises:
            whatever ``compute`` raised for these items when run alone.
        """
        if self._queue is None:
            raise RuntimeError("the batcher is not running: await start() first")
        if not items:
            return []
        future = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(list(items), key, future))
        return await future

    async def run(self, function: Callable[..., Result], *args: Any) -> Result:
        """Runs another job (an explanation, say) in the compute thread, between batches."""
        if self._executor is None:
            raise RuntimeError("the batcher is not running: await start() first")
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    async def _work(self) -> None:
        while True:
            jobs = await self._gather()
            await self._compute(jobs)

    async def _gather(self) -> list[_Job]:
        """The next batch: the first waiting job and those of its key that arrive within ``max_wait``."""
        assert self._queue is not None  # the worker runs only after start() made the queue
        first = self._held.popleft() if self._held else await self._queue.get()
        jobs, count = [first], len(first.items)
        deadline = asyncio.get_running_loop().time() + self.max_wait
        for job in list(self._held):  # jobs held back from an earlier batch go first
            if count >= self.max_batch:
                return jobs
            if job.key == first.key and count + len(job.items) <= self.max_batch:
                self._held.remove(job)
                jobs.append(job)
                count += len(job.items)
        while count < self.max_batch:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 and self._queue.empty():
                break
            try:
                job = (
                    self._queue.get_nowait()
                    if not self._queue.empty()
                    else await asyncio.wait_for(self._queue.get(), remaining)
                )
            except asyncio.TimeoutError:
                break
            if job.key != first.key or count + len(job.items) > self.max_batch:
                self._held.append(job)
                continue
            jobs.append(job)
            count += len(job.items)
        return jobs

    async def _compute(self, jobs: list[_Job]) -> None:
        live = [job for job in jobs if not job.future.done()]  # a client that went away cancelled its future
        if not live:
            return
        items = [item for job in live for item in job.items]
        try:
            results = await self.run(self._counted, items)
        except Exception as error:
            if len(live) == 1:
                _settle(live[0].future, error=error)
                return
            for job in live:  # find the request that failed; the others still get their results
                await self._compute([job])
            return
        start = 0
        for job in live:
            _settle(job.future, result=results[start : start + len(job.items)])
            start += len(job.items)

    def _counted(self, items: list) -> list:
        self.batches += 1
        results = self.compute(items)
        if len(results) != len(items):
            raise RuntimeError(f"compute returned {len(results)} results for {len(items)} items")
        return results


def _settle(future: asyncio.Future, result: Any = None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
