"""Each task's label list, fitted on the training rows, and labels as ids; labels no training row has are refused."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import datasets
import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight

from training.config import Config, TaskConfig
from training.data.files import DataError
from training.data.rows import where

logger = logging.getLogger(__name__)


def fit_labels(config: Config, train: datasets.Dataset) -> dict[str, list[str]]:
    """Each task's label list, from the config or the training labels (sorted)."""
    label_lists = {}
    for task in config.tasks:
        seen = Counter(train[f"label_{task.name}"])
        if task.labels:
            unknown = sorted(set(seen) - set(task.labels))
            if unknown:
                raise DataError(
                    f"{config.data.train_file}, column {task.label_column!r}: labels {unknown} are not in "
                    f"tasks.{task.name}.labels {task.labels}"
                )
            labels = list(task.labels)
        else:
            labels = sorted(seen)
        if len(seen) < 2:
            raise DataError(
                f"{config.data.train_file}, column {task.label_column!r}: task {task.name!r} has a single class "
                f"{sorted(seen)} in the training data; a classifier needs at least two"
            )
        refuse_untrained_labels(config, task, [label for label in labels if not seen[label]])
        undescribed = sorted(set(task.descriptions or {}) - set(labels))
        if undescribed:
            raise DataError(
                f"tasks.{task.name}.descriptions: {undescribed} are not labels of the task (from "
                f"{config.data.train_file}, column {task.label_column!r}: {labels})"
            )
        label_lists[task.name] = labels
    return label_lists


def refuse_untrained_labels(config: Config, task: TaskConfig, untrained: list[str]) -> None:
    """A label listed in a task's ``labels`` that no training row has would be scored (support 0, F1 0) but never
    learnt: refused unless ``untrained_labels: keep``, which keeps it out of macro-F1."""
    if not untrained:
        return
    where = f"{config.data.train_file}, column {task.label_column!r} (train split)"
    if task.untrained_labels == "error":
        raise DataError(
            f"{where}: tasks.{task.name}.labels lists {untrained}, which no training row has; remove them, add "
            f"training rows, or set tasks.{task.name}.untrained_labels: keep"
        )
    logger.warning("%s: task %s keeps labels no training row has, %s, out of its macro-F1", where, task.name, untrained)


def untrained_label_ids(train_labels: dict[str, list[int]], label_lists: dict[str, list[str]]) -> dict[str, list[int]]:
    """Per task, the ids of its labels that no training row has (kept only with ``untrained_labels: keep``)."""
    seen = {task: set(train_labels.get(task, [])) for task in label_lists}
    return {task: [i for i in range(len(labels)) if i not in seen[task]] for task, labels in label_lists.items()}


def check_eval_labels(
    config: Config, splits: dict[str, datasets.Dataset], label_lists: dict[str, list[str]]
) -> dict[str, datasets.Dataset]:
    """Refuses (or drops, with ``data.unseen_label=drop``) evaluation rows whose label training never saw.

    With ``ignore`` such a label counts as missing for its task only (:func:`label_ids` gives it ``-100``);
    an ``adversarial`` task's unseen labels are always ignored (new outlets are what it is scored on).
    """
    checked = dict(splits)
    for name in ("validation", "test"):
        if name not in splits or config.data.unseen_label == "ignore":
            continue
        part = splits[name]
        bad_rows = []
        for task in (task for task in config.tasks if task.kind != "adversarial"):
            known = set(label_lists[task.name])
            for row, label in enumerate(part[f"label_{task.name}"]):
                if label not in known:
                    if config.data.unseen_label == "error":
                        raise DataError(
                            f"{where(part, row)} ({name} split), column {task.label_column!r}: label {label!r} never "
                            f"appears in training (known: {sorted(known)}); set data.unseen_label=drop to skip it"
                        )
                    bad_rows.append(row)
        if bad_rows:
            logger.warning("%s split: dropped %d rows with labels unseen in training", name, len(set(bad_rows)))
            checked[name] = part.select(sorted(set(range(len(part))) - set(bad_rows)))
    return checked


def label_ids(values: Sequence[Any], labels: Sequence[str]) -> list[int]:
    """Each value's position in ``labels``; ``-100`` (the loss's "no label") for a value outside them.

    >>> label_ids(["right", "left", None], ["left", "center", "right"])
    [2, 0, -100]
    """
    position = {label: i for i, label in enumerate(labels)}
    return [position.get(value, -100) for value in values]


def encode_labels(part: datasets.Dataset, label_lists: dict[str, list[str]]) -> dict[str, list[int]]:
    """Label ids per task (``-100`` for a label outside the task's list)."""
    return {task: label_ids(part[f"label_{task}"], labels) for task, labels in label_lists.items()}


def balanced_class_weights(label_ids: list[int], num_labels: int) -> torch.Tensor:
    """Inverse-frequency weights (``n / (k * count)``); a class absent from training gets 1."""
    ids = np.asarray([i for i in label_ids if i != -100])
    present = np.unique(ids)
    weights = np.ones(num_labels, dtype=np.float32)
    weights[present] = compute_class_weight("balanced", classes=present, y=ids)
    return torch.tensor(weights)
