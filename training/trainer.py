"""The Hugging Face ``Trainer``, taught to read windowed articles and several tasks at once.

Each item of an :class:`ArticleDataset` is one article: its windows and one label id per task.
:class:`WindowCollator` flattens a batch's windows for the encoder and keeps which article each
came from; :class:`MultiTaskTrainer` adds the tasks' weighted cross-entropies, with optional class
weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from torch import nn
from transformers import Trainer
from transformers.trainer_pt_utils import LengthGroupedSampler

from inference.modeling import multitask_loss
from inference.windowing import collate_windows

from .sampling import PerDatasetSampler


class ArticleDataset(torch.utils.data.Dataset):
    """Articles as windows of token ids, with per-task label ids."""

    def __init__(
        self, windows: list[list[list[int]]], labels: dict[str, list[int]], sources: list[str] | None = None
    ) -> None:
        for task, ids in labels.items():
            if len(ids) != len(windows):
                raise ValueError(f"task {task!r}: {len(ids)} labels for {len(windows)} articles")
        if sources is not None and len(sources) != len(windows):
            raise ValueError(f"{len(sources)} dataset names for {len(windows)} articles")
        self.windows = windows
        self.labels = labels
        self.sources = sources  # each article's dataset, when the tasks come from several

    def __len__(self) -> int:
        return len(self.windows)

    def lengths(self) -> list[int]:
        """Tokens per article, all windows together (what length grouping sorts by)."""
        return [sum(len(window) for window in article) for article in self.windows]

    def __getitem__(self, index: int) -> dict[str, Any]:
        item: dict[str, Any] = {"windows": self.windows[index]}
        for task, ids in self.labels.items():
            item[f"labels_{task}"] = ids[index]
        return item


class WindowCollator:
    """Pads the windows of a batch and stacks the label ids of each task."""

    def __init__(self, pad_token_id: int, sep_token_id: int | None = None) -> None:
        self.pad_token_id = pad_token_id
        self.sep_token_id = sep_token_id  # given for (target, text) pairs: adds their segment ids

    def __call__(self, items: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = collate_windows([item["windows"] for item in items], self.pad_token_id, self.sep_token_id)
        for key in items[0]:
            if key.startswith("labels_"):
                batch[key] = torch.tensor([item[key] for item in items], dtype=torch.long)
        return batch


def balanced_class_weights(label_ids: list[int], num_labels: int) -> torch.Tensor:
    """Inverse-frequency weights (``n / (k * count)``); a class absent from training gets 1."""
    ids = np.asarray([i for i in label_ids if i != -100])
    present = np.unique(ids)
    weights = np.ones(num_labels, dtype=np.float32)
    weights[present] = compute_class_weight("balanced", classes=present, y=ids)
    return torch.tensor(weights)


class MultiTaskTrainer(Trainer):
    """``Trainer`` whose loss is the weighted sum of each task's cross-entropy.

    Args:
        task_names: tasks in the model's order.
        task_weights: loss weight per task (default 1).
        class_weights: optional per-task class-weight tensors.
        group_by_length: draw training batches of similar-length articles (less padding), still shuffled.
        sampling_temperature: with articles from several datasets (``ArticleDataset.sources``), each
            batch comes from one dataset, drawn with weight ``rows ** (1 / T)`` (1: proportional).
    """

    def __init__(
        self,
        *args: Any,
        task_names: list[str],
        task_weights: dict[str, float] | None = None,
        class_weights: dict[str, torch.Tensor] | None = None,
        group_by_length: bool = False,
        sampling_temperature: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.task_names = task_names
        self.task_weights = task_weights or {}
        self.class_weights = class_weights or {}
        self.group_by_length = group_by_length
        self.sampling_temperature = sampling_temperature

    def _get_train_sampler(self, train_dataset: Any = None) -> torch.utils.data.Sampler | None:
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if isinstance(dataset, ArticleDataset) and dataset.sources and len(set(dataset.sources)) > 1:
            return PerDatasetSampler(
                dataset.sources, self.args.train_batch_size, self.sampling_temperature, self.args.seed
            )
        if not (self.group_by_length and isinstance(dataset, ArticleDataset)):
            return super()._get_train_sampler(train_dataset)
        batch = self.args.train_batch_size * self.args.gradient_accumulation_steps
        return LengthGroupedSampler(batch, lengths=dataset.lengths())

    def compute_loss(
        self, model: nn.Module, inputs: dict[str, torch.Tensor], return_outputs: bool = False, **kwargs: Any
    ) -> Any:
        features = {key: value for key, value in inputs.items() if not key.startswith("labels_")}
        outputs = model(**features)
        labels = {task: inputs[f"labels_{task}"] for task in self.task_names if f"labels_{task}" in inputs}
        total = multitask_loss(
            dict(zip(self.task_names, outputs.logits)), labels, self.task_weights, self.class_weights
        )
        if total is None:  # a batch without labels still joins the backward pass (DDP waits for every process)
            total = sum(logits.sum() * 0.0 for logits in outputs.logits)
        outputs["loss"] = total
        return (total, outputs) if return_outputs else total
