"""DynamicBatcher: concurrent requests share compute calls, by key, and one bad request fails alone."""

from __future__ import annotations

import asyncio
import threading

import pytest

from inference.service.dynamic_batcher import DynamicBatcher


class Recorder:
    """``compute``: doubles numbers, fails on a negative one, and records each call's items and thread."""

    def __init__(self) -> None:
        self.calls: list[list] = []
        self.threads: set[str] = set()

    def __call__(self, items: list) -> list:
        self.calls.append(list(items))
        self.threads.add(threading.current_thread().name)
        if any(item < 0 for item in items):
            raise ValueError(f"negative item in {items}")
        return [item * 2 for item in items]


async def run_with(batcher: DynamicBatcher, *coroutines):
    await batcher.start()
    try:
        return await asyncio.gather(*coroutines, return_exceptions=True)
    finally:
        await batcher.stop()


def test_concurrent_requests_share_one_call_and_get_their_own_results():
    compute = Recorder()
    batcher = DynamicBatcher(compute, max_batch=16, max_wait_ms=50)
    results = asyncio.run(run_with(batcher, *(batcher.submit([i, i + 100]) for i in range(5))))
    assert results == [[2 * i, 2 * (i + 100)] for i in range(5)]
    assert len(compute.calls) == 1 == batcher.batches
    assert sorted(compute.calls[0]) == sorted(x for i in range(5) for x in (i, i + 100))
    assert compute.threads and threading.main_thread().name not in compute.threads  # off the event loop


def test_batches_hold_at_most_max_batch_items_and_a_larger_request_runs_alone():
    compute = Recorder()
    batcher = DynamicBatcher(compute, max_batch=4, max_wait_ms=50)
    results = asyncio.run(run_with(batcher, batcher.submit(list(range(10))), *(batcher.submit([i]) for i in range(6))))
    assert results[0] == [2 * i for i in range(10)]
    assert results[1:] == [[2 * i] for i in range(6)]
    assert [len(call) for call in compute.calls if len(call) != 10] and all(
        len(call) <= 4 for call in compute.calls if len(call) != 10
    )
    assert sum(len(call) for call in compute.calls) == 16


def test_requests_of_different_keys_never_share_a_call():
    compute = Recorder()
    batcher = DynamicBatcher(compute, max_batch=32, max_wait_ms=50)
    requests = [batcher.submit([i], key=i % 2) for i in range(8)]
    results = asyncio.run(run_with(batcher, *requests))
    assert results == [[2 * i] for i in range(8)]
    assert len(compute.calls) == 2
    assert sorted(map(sorted, compute.calls)) == [[0, 2, 4, 6], [1, 3, 5, 7]]


def test_a_failing_request_fails_alone():
    compute = Recorder()
    batcher = DynamicBatcher(compute, max_batch=32, max_wait_ms=50)
    results = asyncio.run(run_with(batcher, batcher.submit([1]), batcher.submit([-1]), batcher.submit([3])))
    assert results[0] == [2] and results[2] == [6]
    assert isinstance(results[1], ValueError) and "negative" in str(results[1])


def test_no_wait_computes_each_request_as_it_comes():
    compute = Recorder()
    batcher = DynamicBatcher(compute, max_batch=32, max_wait_ms=0)

    async def one_after_another():
        return [await batcher.submit([i]) for i in range(3)]

    assert asyncio.run(run_with(batcher, one_after_another())) == [[[0], [2], [4]]]
    assert len(compute.calls) == 3


def test_run_uses_the_compute_thread_and_empty_requests_cost_nothing():
    compute = Recorder()
    batcher = DynamicBatcher(compute)
    name, empty = asyncio.run(
        run_with(batcher, batcher.run(lambda: threading.current_thread().name), batcher.submit([]))
    )
    assert name.startswith("newsclf-compute") and empty == [] and compute.calls == []


def test_misuse_is_refused():
    with pytest.raises(ValueError, match="max_batch"):
        DynamicBatcher(Recorder(), max_batch=0)
    with pytest.raises(ValueError, match="max_wait_ms"):
        DynamicBatcher(Recorder(), max_wait_ms=-1)
    with pytest.raises(RuntimeError, match="start"):
        asyncio.run(DynamicBatcher(Recorder()).submit([1]))


def test_a_request_that_finds_the_model_idle_goes_alone_and_those_arriving_while_it_is_busy_share_the_next():
    """Without max_wait_ms the first request is computed at once; the ones that come while it runs go together."""
    started, release = threading.Event(), threading.Event()
    calls: list[list] = []

    def compute(items: list) -> list:
        calls.append(list(items))
        started.set()
        release.wait(10)  # the model is busy until the later requests are queued
        return [item * 2 for item in items]

    async def scenario() -> list:
        batcher = DynamicBatcher(compute, max_batch=8)
        await batcher.start()
        try:
            first = asyncio.ensure_future(batcher.submit([1]))
            await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
            later = [asyncio.ensure_future(batcher.submit([n])) for n in (2, 3, 4)]
            await asyncio.sleep(0)  # the three are queued while the first batch computes
            release.set()
            return await asyncio.gather(first, *later)
        finally:
            await batcher.stop()

    assert asyncio.run(scenario()) == [[2], [4], [6], [8]]
    assert calls == [[1], [2, 3, 4]]
    assert DynamicBatcher(compute).max_wait == 0  # the default: no request waits for company
