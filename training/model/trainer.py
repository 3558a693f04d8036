"""The Hugging Face ``Trainer``, taught to read windowed articles and several tasks at once.

Each item of an :class:`ArticleDataset` is one article: its windows and one label id per task.
:class:`WindowCollator` flattens a batch's windows for the encoder and keeps which article each
came from; :class:`MultiTaskTrainer` adds the tasks' weighted cross-entropies, with optional class
weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence, Sized
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import Trainer, TrainerCallback, TrainerState
from transformers.trainer_pt_utils import LengthGroupedSampler

from inference.model.loss import multitask_loss
from inference.model.windowing import collate_windows
from inference.prediction.backends import default_batch_size
from training.heads.distillation import soft_target_loss
from training.model.sampling import PerDatasetSampler


def default_eval_batch_size(max_length: int, windows_per_article: int = 1) -> int:
    """Articles per evaluation step where ``training.eval_batch_size`` is null: 32 on a GPU; on a CPU as many as
    fill the Predictor's default batch of about 2,048 tokens, counting ``windows_per_article`` windows each
    (on a CPU: 8 articles of 256 tokens, 4 of up to 4 windows of 128).
    """
    if torch.cuda.is_available():
        return default_batch_size(max_length, "cuda")
    return default_batch_size(max_length * windows_per_article)


class ArticleDataset(torch.utils.data.Dataset):
    """Articles as windows of token ids, with per-task label ids.

    With ``draw_windows`` = k, an item holds k of its article's windows (in text order), drawn again for
    each ``epoch`` (set by :class:`DrawWindowsEachEpoch`) from ``seed``, the epoch and the article: a
    model trains on the whole article over the epochs at the cost of k windows a step. ``soft_labels`` holds a
    teacher's probabilities per task, ``(articles, labels)`` each (:mod:`training.heads.distillation`).
    """

    def __init__(
        self,
        windows: list[list[list[int]]],
        labels: dict[str, list[int]],
        sources: list[str] | None = None,
        draw_windows: int = 0,
        seed: int = 0,
        soft_labels: dict[str, np.ndarray] | None = None,
    ) -> None:
        counted: list[tuple[str, Sized]] = [*labels.items(), *(soft_labels or {}).items()]
        for task, ids in counted:
            if len(ids) != len(windows):
                raise ValueError(f"task {task!r}: {len(ids)} labels for {len(windows)} articles")
        if sources is not None and len(sources) != len(windows):
            raise ValueError(f"{len(sources)} dataset names for {len(windows)} articles")
        self.windows = windows
        self.labels = labels
        self.sources = sources  # each article's dataset, when the tasks come from several
        self.draw_windows = draw_windows
        self.seed = seed
        self.epoch = 0
        self.soft_labels = soft_labels or {}

    def __len__(self) -> int:
        return len(self.windows)

    def followed_by(self, windows: list[list[list[int]]], soft_labels: dict[str, np.ndarray]) -> ArticleDataset:
        """A new dataset: these articles, then ``windows``' articles, which have no label (``-100`` for every
        task) and learn from their ``soft_labels`` alone. This dataset is left as it is."""
        if self.sources is not None:
            raise ValueError("articles without labels join the articles of one dataset, not of several")
        if not self.soft_labels or set(soft_labels) != set(self.soft_labels):
            raise ValueError(
                f"articles without labels need soft labels for the tasks this dataset has them for "
                f"({sorted(self.soft_labels)}), got {sorted(soft_labels)}"
            )
        missing = [-100] * len(windows)
        return ArticleDataset(
            [*self.windows, *windows],
            {task: [*ids, *missing] for task, ids in self.labels.items()},
            draw_windows=self.draw_windows,
            seed=self.seed,
            soft_labels={task: np.concatenate([ours, soft_labels[task]]) for task, ours in self.soft_labels.items()},
        )

    def article_windows(self, index: int) -> list[list[int]]:
        windows = self.windows[index]
        if not self.draw_windows or len(windows) <= self.draw_windows:
            return windows
        rng = np.random.default_rng([self.seed, self.epoch, index])
        return [windows[i] for i in sorted(rng.choice(len(windows), self.draw_windows, replace=False))]

    def lengths(self) -> list[int]:
        """Tokens per article, all windows together (what length grouping sorts by)."""
        return [sum(len(window) for window in article) for article in self.windows]

    def __getitem__(self, index: int) -> dict[str, Any]:
        item: dict[str, Any] = {"windows": self.article_windows(index)}
        for task, ids in self.labels.items():
            item[f"labels_{task}"] = ids[index]
        for task, probabilities in self.soft_labels.items():
            item[f"teacher_{task}"] = probabilities[index]
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
            elif key.startswith("teacher_"):
                batch[key] = torch.from_numpy(np.stack([item[key] for item in items]))
        return batch


class DrawWindowsEachEpoch(TrainerCallback):
    """Tells an :class:`ArticleDataset` which epoch it is in, so it draws other windows each epoch."""

    def __init__(self, dataset: ArticleDataset) -> None:
        self.dataset = dataset

    def on_epoch_begin(self, args: Any, state: TrainerState, control: Any, **kwargs: Any) -> None:
        self.dataset.epoch = int(state.epoch or 0)


class ReversalSchedule(TrainerCallback):
    """Sets each adversarial head's reversal strength before every step: constant, or ramped from 0 with
    training progress p as ``2 / (1 + exp(-10 p)) - 1`` (Ganin & Lempitsky, 2015), so the head first learns
    what it is to predict before the encoder is pushed away from it."""

    def __init__(self, schedules: dict[str, tuple[float, str]]) -> None:
        self.schedules = schedules  # task -> (strength, "constant" or "ramp")

    def on_step_begin(self, args: Any, state: TrainerState, control: Any, model: Any = None, **kwargs: Any) -> None:
        progress = state.global_step / max(state.max_steps, 1)
        for task, (strength, schedule) in self.schedules.items():
            factor = 1.0 if schedule == "constant" else 2.0 / (1.0 + math.exp(-10.0 * progress)) - 1.0
            unwrap(model).reversal[task] = strength * factor


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DDP or compile wrapper."""
    return getattr(model, "module", model)


class MultiTaskTrainer(Trainer):
    """``Trainer`` whose loss is the weighted sum of each task's cross-entropy.

    Args:
        task_names: tasks in the model's order.
        task_weights: loss weight per task (default 1).
        class_weights: optional per-task class-weight tensors.
        group_by_length: draw training batches of similar-length articles (less padding), still shuffled.
        sampling_temperature: with articles from several datasets (``ArticleDataset.sources``), each
            batch comes from one dataset, drawn with weight ``rows ** (1 / T)`` (1: proportional).
        label_smoothing: share of each target spread over the other labels.
        head_learning_rate: peak learning rate of the task heads (None: the encoder's).
        distill_weight: where batches carry a teacher's probabilities (``teacher_<task>``), their loss's share
            of each task's loss (:func:`training.heads.distillation.soft_target_loss`).
    """

    def __init__(
        self,
        *args: Any,
        task_names: list[str],
        task_weights: dict[str, float] | None = None,
        class_weights: dict[str, torch.Tensor] | None = None,
        group_by_length: bool = False,
        sampling_temperature: float = 1.0,
        label_smoothing: float = 0.0,
        head_learning_rate: float | None = None,
        distill_weight: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.task_names = task_names
        self.task_weights = task_weights or {}
        self.class_weights = class_weights or {}
        self.group_by_length = group_by_length
        self.sampling_temperature = sampling_temperature
        self.label_smoothing = label_smoothing
        self.head_learning_rate = head_learning_rate
        self.distill_weight = distill_weight

    def create_optimizer(self, model: nn.Module | None = None) -> torch.optim.Optimizer:
        """The Trainer's AdamW, its groups split so the task heads take ``head_learning_rate``.

        Set before the scheduler is made, the heads' rate is warmed up and decayed like the encoder's.
        """
        fresh = self.optimizer is None
        optimizer = super().create_optimizer(model)
        if not fresh or self.head_learning_rate is None:
            return optimizer
        heads = {id(p) for p in unwrap(model if model is not None else self.model).heads.parameters()}
        groups = []
        for group in optimizer.param_groups:
            for is_head in (False, True):
                params = [p for p in group["params"] if (id(p) in heads) == is_head]
                if params:
                    lr = self.head_learning_rate if is_head else group["lr"]
                    groups.append({**group, "params": params, "lr": lr})
        optimizer.param_groups[:] = groups  # no step taken yet: the optimizer holds no state to move
        return optimizer

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
        features = {key: value for key, value in inputs.items() if not key.startswith(("labels_", "teacher_"))}
        outputs = model(**features)
        logits = dict(zip(self.task_names, outputs.logits))
        labels = {task: inputs[f"labels_{task}"] for task in self.task_names if f"labels_{task}" in inputs}
        total = multitask_loss(
            logits, labels, self.task_weights, self.class_weights, self.label_smoothing if model.training else 0.0
        )
        soft = {task: inputs[f"teacher_{task}"] for task in self.task_names if f"teacher_{task}" in inputs}
        if soft:
            distilled = soft_target_loss(logits, soft, self.task_weights)
            assert distilled is not None  # None only without a task, and soft has one
            share = self.distill_weight
            total = share * distilled if total is None else (1.0 - share) * total + share * distilled
        if total is None:  # a batch without labels still joins the backward pass (DDP waits for every process)
            total = sum(logits.sum() * 0.0 for logits in outputs.logits)
        outputs["loss"] = total
        return (total, outputs) if return_outputs else total
