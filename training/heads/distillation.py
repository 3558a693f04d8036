"""Distillation: a run learns from a teacher model's probabilities as well as from its labels.

The teacher is any saved model folder with the run's tasks (``training.teacher``), typically a probe on the
frozen all-mpnet-base-v2, which is about 11 times MiniLM's cost per window: the student keeps MiniLM's speed.
Its probabilities for every training article are computed once, the way the teacher predicts (its own
tokenizer and windows, its fused TF-IDF model, its temperature unless ``training.teacher_temperature`` sets
another), from the feature cache where the teacher's frozen encoder already embedded the same texts. Each task's
loss is then ``(1 - distill_weight) * CE(labels) + distill_weight * CE(teacher's probabilities)``. With
``training.teacher_targets: out_of_fold`` a probe teacher's heads are fitted again without each article's outlet
(:mod:`training.heads.teacher_folds`), so its targets do not hand the article's own label back.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.nn import functional

from inference.model.folder_layout import CONFIG_FILE
from inference.model.loading import ModelFolderError, check_model_folder
from inference.model.settings import ModelSettings
from inference.prediction.fusion import TaskCalibration, fused_probabilities
from inference.prediction.tfidf import pair_text
from training.config import Config, ConfigError
from training.heads.feature_cache import FeatureCache
from training.heads.probe import cache_folder, model_logits
from training.heads.teacher_folds import check_out_of_fold_teacher, out_of_fold_logits

if TYPE_CHECKING:
    from inference.prediction.predictor import Predictor

logger = logging.getLogger("newsclf")


def check_teacher(config: Config, label_lists: dict[str, list[str]] | None = None) -> None:
    """Refuses a ``training.teacher`` that is no loadable model folder, lacks one of the run's tasks or orders
    its labels otherwise (``label_lists``: the run's labels where known; else each task's ``labels:``).

    Raises:
        ConfigError: naming the key, the folder and the task.
    """
    folder = config.training.teacher
    if folder is None:
        return
    try:
        settings = ModelSettings.from_file(check_model_folder(folder, verify=False) / CONFIG_FILE)
    except (ModelFolderError, OSError, ValueError, TypeError) as error:
        raise ConfigError(f"training.teacher: {error}") from None
    for task in config.tasks:
        if task.kind == "adversarial":
            continue
        if task.name not in settings.task_names:
            raise ConfigError(
                f"training.teacher: the teacher {folder} has no task {task.name!r} (it has {settings.task_names})"
            )
        expected = (label_lists or {}).get(task.name) or task.labels
        if expected and list(expected) != settings.task_labels(task.name):
            raise ConfigError(
                f"training.teacher: task {task.name!r} has the labels {list(expected)} in this run but "
                f"{settings.task_labels(task.name)} in the teacher {folder}"
            )
    if config.training.teacher_targets == "out_of_fold":
        check_out_of_fold_teacher(config)


def load_teacher(config: Config) -> Predictor:
    """``training.teacher``'s folder as a torch Predictor in fp32.

    Raises:
        ConfigError: the folder loads as a TF-IDF baseline, not a model of newsclf-train.
    """
    from inference.prediction.predictor import Predictor

    folder = config.training.teacher
    assert folder is not None  # a run learns from a teacher only where training.teacher names one
    teacher = Predictor.from_pretrained(folder, backend="torch", precision="fp32")
    if not isinstance(teacher, Predictor):  # baseline.json beside config.json loads the TF-IDF baseline
        raise ConfigError(f"training.teacher: {folder} loads as a TF-IDF baseline, not a model of newsclf-train")
    return teacher


def teacher_probabilities(
    config: Config,
    split: Any,
    tasks: list[str],
    tokenize: Any,
    bf16: bool,
    labels: dict[str, list[int]] | None = None,
    *,
    teacher: Predictor | None = None,
) -> dict[str, np.ndarray]:
    """The teacher's calibrated probabilities of ``tasks`` for every row of ``split`` (a ``datasets.Dataset``
    with ``text`` and, for pair tasks, ``target``), in the rows' order.

    Args:
        tokenize: :func:`training.fitting.building.tokenize` (texts → windows with a tokenizer and window settings).
        bf16: the precision the teacher's vectors are cached in (the run's).
        labels: task -> the rows' label ids, which ``training.teacher_targets: out_of_fold`` fits the teacher's
            heads on again (:mod:`training.heads.teacher_folds`); None for articles outside the training split
            (``training.teacher_articles``), which no head saw: the heads as fitted score them.
        teacher: the teacher already loaded (:func:`load_teacher`; None: loaded here).
    """
    if teacher is None:
        teacher = load_teacher(config)
    model, tokenizer = teacher.model, teacher.tokenizer
    assert model is not None  # the torch backend keeps the model
    texts = list(split["text"])
    probabilities: dict[str, np.ndarray] = {}
    for kind in ("single", "pair"):
        wanted = [task for task in model.config.tasks_of_kind(kind) if task in tasks]
        if not wanted:
            continue
        targets = list(split["target"]) if kind == "pair" else None
        windows = tokenize(tokenizer, texts, teacher.window, "train (teacher)", targets)
        sep = tokenizer.sep_token_id if kind == "pair" else None
        cache = FeatureCache(cache_folder(config), model, sep, tokenizer.pad_token_id, bf16)
        vectors = cache.vectors(windows, "train (teacher)")
        if config.training.teacher_targets == "out_of_fold" and labels is not None:
            logits = out_of_fold_logits(config, model, vectors, split, labels, wanted)
        else:
            logits = model_logits(model, vectors)
        fused = [task for task in wanted if teacher.calibration.get(task, TaskCalibration()).tfidf_weight > 0]
        sparse_texts = texts if kind == "single" else [pair_text(t, x) for t, x in zip(targets or [], texts)]
        sparse: dict[str, np.ndarray] = {}
        if fused:
            assert teacher.tfidf is not None  # Predictor refuses tasks that fuse TF-IDF scores without a sparse model
            sparse = teacher.tfidf.scores(sparse_texts, fused)
        for task in wanted:
            calibration = teacher.calibration.get(task, TaskCalibration())
            if config.training.teacher_temperature is not None:
                calibration = replace(calibration, temperature=config.training.teacher_temperature)
            probabilities[task] = fused_probabilities(logits[task], calibration, sparse.get(task))
    logger.info("teacher %s: probabilities of %s for %d rows", config.training.teacher, tasks, len(texts))
    return probabilities


def soft_target_loss(
    logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor], task_weights: dict[str, float] | None = None
) -> torch.Tensor | None:
    """The weighted sum of each task's mean cross-entropy against the teacher's probabilities (None: no task).

    >>> soft_target_loss({"topic": torch.zeros(1, 2)}, {"topic": torch.tensor([[0.5, 0.5]])})
    tensor(0.6931)
    """
    total = None
    for task, target in targets.items():
        loss = functional.cross_entropy(logits[task].float(), target.float())
        loss = (task_weights or {}).get(task, 1.0) * loss
        total = loss if total is None else total + loss
    return total
