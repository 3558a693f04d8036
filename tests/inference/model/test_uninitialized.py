"""Layers built for a folder's weights skip their random draws: in the building thread only, inside the block only."""

from __future__ import annotations

import threading

import torch
from torch import nn

from inference.model.uninitialized import LAYERS, uninitialized_layers


def _build() -> list[nn.Module]:
    return [nn.Linear(8, 8), nn.Embedding(10, 8), nn.LayerNorm(8)]


def _draws_random_numbers(build) -> bool:
    torch.manual_seed(0)
    before = torch.get_rng_state()
    build()
    return not torch.equal(before, torch.get_rng_state())


def test_layers_built_inside_draw_nothing_and_outside_draw_as_usual():
    assert _draws_random_numbers(_build)
    with uninitialized_layers():
        assert not _draws_random_numbers(_build)
    assert _draws_random_numbers(_build)
    assert all("_skipped_in" not in layer.reset_parameters.__qualname__ for layer in LAYERS)


def test_another_thread_initialises_its_layers_while_one_thread_skips():
    drawn: list[bool] = []
    with uninitialized_layers():
        worker = threading.Thread(target=lambda: drawn.append(_draws_random_numbers(_build)))
        worker.start()
        worker.join()
    assert drawn == [True]


def test_the_layers_are_restored_when_the_block_raises():
    try:
        with uninitialized_layers():
            raise RuntimeError("a failed load")
    except RuntimeError:
        pass
    assert _draws_random_numbers(_build)
