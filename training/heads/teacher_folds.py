"""Out-of-fold teacher targets (``training.teacher_targets: out_of_fold``): a probe teacher's heads fitted again on
folds of the training split's groups (``data.group_column``, e.g. the outlet), each training article scored by the
heads of the fold that left its group out.

A teacher's heads fitted on every training article give those articles back their own labels (the top-6 mpnet
teacher: 87% leaning accuracy on its training articles, 55% on unseen outlets), so a student taught by them learns
to recognise outlets. Heads fitted without an article's outlet give the targets the teacher would give an unseen
outlet. Only a probe teacher affords it: its encoder is frozen, so an article's vector does not depend on having
trained on it, and each fold costs a few linear fits on the cached vectors. The folds' heads are fitted as the
teacher fitted its own: its penalty per task (from its ``metrics.json``), its label smoothing and class weights.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inference.model.folder_layout import METRICS_FILE, TRAINING_CONFIG_FILE
from inference.prediction.fusion import read_calibration
from training.config import Config, ConfigError, load_config
from training.data.labels import balanced_class_weights
from training.heads.group_cv import folds_of_split
from training.heads.probe import head_inputs, metric_kind, out_of_fold_heads

logger = logging.getLogger("newsclf")

KEY = "training.teacher_targets out_of_fold"


def check_out_of_fold_teacher(config: Config) -> None:
    """Refuses out-of-fold targets from a teacher whose encoder was fine-tuned or which fuses TF-IDF (both fitted
    on every training article, so refitting the heads would not hide an article's outlet), or without groups.

    Raises:
        ConfigError: naming the key, the teacher folder and what it needs.
    """
    folder = Path(str(config.training.teacher))
    if not config.data.group_column:
        raise ConfigError(f"{KEY}: needs data.group_column (e.g. source, the outlet) to fold the training split by")
    teacher = teacher_config(folder)
    if teacher.training.mode != "probe":
        raise ConfigError(
            f"{KEY}: the teacher {folder} was trained with training.mode {teacher.training.mode}; only a probe "
            "teacher (training.mode probe: a frozen encoder) gives a held-out article the vector it would have had"
        )
    teacher_penalties(folder)
    fused = [task for task, calibration in read_calibration(folder).items() if calibration.tfidf_weight > 0]
    if fused:
        raise ConfigError(
            f"{KEY}: the teacher {folder} fuses TF-IDF for {fused}, fitted on every training article; train the "
            "teacher with training.fuse_tfidf false"
        )


def teacher_penalties(folder: Path) -> dict[str, float]:
    """Each task's penalty on the teacher's head weights, as its probe chose it (its ``metrics.json``)."""
    try:
        heads = json.loads((folder / METRICS_FILE).read_text(encoding="utf-8"))["train"]["probe"]["heads"]
        return {task: float(head["l2"]) for task, head in heads.items()}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(
            f"{KEY}: the teacher {folder} records no probe penalties in {METRICS_FILE} (train.probe.heads.TASK.l2: "
            f"{error!r}); train the teacher with newsclf-train"
        ) from None


def teacher_config(folder: Path) -> Config:
    """The whole config of the run that made the teacher folder (its ``training_config.yaml``)."""
    try:
        return load_config(folder / TRAINING_CONFIG_FILE)
    except (OSError, ConfigError) as error:
        raise ConfigError(f"{KEY}: cannot read how the teacher {folder} was trained: {error}") from None


def out_of_fold_logits(
    config: Config,
    model: Any,
    vectors: np.ndarray,
    split: Any,
    labels: dict[str, list[int]],
    tasks: Sequence[str],
) -> dict[str, np.ndarray]:
    """Each task's logits ``(rows, labels)`` for every row of the training ``split`` (a ``datasets.Dataset``
    with ``data.group_column``), from the teacher's head fitted without the row's group (``labels``: task ->
    label ids, -100: none)."""
    folder = Path(str(config.training.teacher))
    teacher, penalties = teacher_config(folder), teacher_penalties(folder)
    folds = folds_of_split(split, config, KEY)
    inputs = head_inputs(model, {"train": vectors})["train"]
    balanced = {task.name for task in teacher.tasks if task.class_weights == "balanced"}
    logits = {}
    for task in tasks:
        names, y = model.config.task_labels(task), np.asarray(labels[task])
        weights = balanced_class_weights(labels[task], len(names)) if task in balanced else None
        logger.info(
            "teacher %s: out-of-fold %s targets over %d folds of %s", folder, task, len(folds), config.data.group_column
        )
        _, held_out = out_of_fold_heads(
            inputs, y, names, metric_kind(config), folds, (penalties[task],), weights, teacher.training.label_smoothing
        )
        logits[task] = held_out[penalties[task]]
    return logits
