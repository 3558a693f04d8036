"""Batches drawn one dataset at a time, for a model whose tasks come from several datasets.

    sampler = PerDatasetSampler(sources, batch_size=32, temperature=2.0, seed=42)

Every run of ``batch_size`` consecutive indices comes from one dataset, so each batch holds one
dataset's rows and each task's loss is computed on a full batch of its own examples. The Trainer's
``DataLoader`` cuts batches from the index stream as usual, which keeps gradient accumulation and
resuming (skipping the batches already seen) working unchanged.

An epoch has as many batches as proportional sampling would need to show every row once. Those
batches go to the datasets in proportion to ``rows ** (1 / temperature)`` (temperature 1:
proportional; larger: closer to uniform), so a small dataset is repeated and a large one is seen in
part, a different part each epoch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import torch


def dataset_weights(sizes: Sequence[int], temperature: float = 1.0) -> np.ndarray:
    """Each dataset's share of the batches: ``size ** (1 / temperature)``, normalised.

    >>> dataset_weights([900, 100], temperature=1.0).round(2).tolist()
    [0.9, 0.1]
    >>> dataset_weights([900, 100], temperature=2.0).round(2).tolist()
    [0.75, 0.25]
    """
    if temperature <= 0:
        raise ValueError(f"sampling temperature must be positive, got {temperature}")
    weights = np.asarray(sizes, dtype=np.float64) ** (1.0 / temperature)
    return weights / weights.sum()


def batches_per_dataset(sizes: Sequence[int], batch_size: int, temperature: float = 1.0) -> list[int]:
    """Batches of each dataset in one epoch: the proportional total, shared out by :func:`dataset_weights`
    (largest remainders; every dataset gets at least one)."""
    total = sum(math.ceil(size / batch_size) for size in sizes)
    wanted = dataset_weights(sizes, temperature) * total
    counts = np.maximum(np.floor(wanted).astype(int), 1)
    # the at-least-one floor can overshoot: take the excess from those furthest above their share
    while counts.sum() > total:
        counts[np.argmax(np.where(counts > 1, counts - wanted, -np.inf))] -= 1
    for index in np.argsort(-(wanted - np.floor(wanted)), kind="stable"):
        if counts.sum() >= total:
            break
        counts[index] += 1
    return counts.tolist()


class PerDatasetSampler(torch.utils.data.Sampler[int]):
    """Row indices in runs of ``batch_size`` from one dataset each (see the module docstring).

    Args:
        sources: the dataset (any hashable name or number) of each row.
        batch_size: rows per batch, the Trainer's ``train_batch_size``.
        temperature: 1 for proportional sampling; larger values even out the datasets' shares.
        seed: with the epoch (:meth:`set_epoch`), fixes the order, so a resumed run sees the same batches.
    """

    def __init__(self, sources: Sequence[object], batch_size: int, temperature: float = 1.0, seed: int = 0) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        codes = {name: code for code, name in enumerate(dict.fromkeys(sources))}
        dataset_of_row = np.fromiter((codes[s] for s in sources), dtype=np.int64, count=len(sources))
        self.rows = [np.flatnonzero(dataset_of_row == code) for code in range(len(codes))]
        self.batch_size = batch_size
        self.counts = batches_per_dataset([len(rows) for rows in self.rows], batch_size, temperature)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return sum(self.counts) * self.batch_size

    def __iter__(self) -> Iterator[int]:
        generator = np.random.default_rng([self.seed, self.epoch])
        runs: list[np.ndarray] = []
        for rows, count in zip(self.rows, self.counts):
            needed = count * self.batch_size
            # whole shuffled passes until enough rows: a small dataset repeats, each pass in a new order
            order = np.concatenate([generator.permutation(rows) for _ in range(math.ceil(needed / len(rows)))])[:needed]
            runs.extend(order.reshape(count, self.batch_size))
        for index in generator.permutation(len(runs)):
            yield from (int(row) for row in runs[index])
