"""Choices that hold across outlets (``training.choose_on: groups``): each probe head's penalty, TF-IDF share and
temperature are chosen by cross-validation over groups of the training split (``data.group_column``, e.g. the
outlet), instead of on a validation split of a handful of outlets, where they swing from seed to seed.

Each fold's heads, and its TF-IDF SVMs, are fitted without the fold's groups and score the fold's rows: every
training article gets an out-of-fold score, from models that never saw its outlet. Those scores stand in for
validation's when the run chooses. Only a probe affords this (a few linear fits a fold): its encoder is frozen, so
an article's vector does not depend on having trained on it. The TF-IDF vocabulary (no labels) is the one fitted on
the whole training split, and each task's SVM keeps the cost its full fit chose.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold
from sklearn.svm import LinearSVC

from training.config import Config
from training.data import DataError
from training.heads.probe import Folds
from training.scoring.tfidf_baseline import full_rank

logger = logging.getLogger("newsclf")


def split_by_group(groups: Sequence[Any], folds: int, column: str, key: str = "training.choose_on groups") -> Folds:
    """``(fit rows, held-out rows)`` of each of ``folds`` folds, no group in two folds (``key``: the setting that
    asked for them, named in errors).

    Raises:
        DataError: a row has no group, or there are fewer groups than folds.
    """
    missing = [row for row, group in enumerate(groups) if group is None or group == ""]
    if missing:
        raise DataError(
            f"{key}: {len(missing)} training rows have no {column!r} (the first is row "
            f"{missing[0] + 1}); every row needs its group"
        )
    distinct = len(set(groups))
    if distinct < folds:
        raise DataError(
            f"{key}: the training split has {distinct} {column!r} groups, fewer than training.group_folds ({folds})"
        )
    return list(GroupKFold(n_splits=folds).split(np.zeros(len(groups)), groups=list(groups)))


def folds_of_split(split: Any, config: Config, key: str = "training.choose_on groups") -> Folds:
    """:func:`split_by_group` over ``data.group_column`` of a training split (a ``datasets.Dataset``), in
    ``training.group_folds`` folds (``key``: the setting that asked for them, named in errors).

    Raises:
        DataError: the split has no such column, or see :func:`split_by_group`.
    """
    column = config.data.group_column
    if column is None or column not in split.column_names:
        raise DataError(f"{key}: the training split has no column {column!r} (data.group_column)")
    return split_by_group(split[column], config.training.group_folds, column, key)


@dataclass
class HeldOut:
    """What the run chooses on instead of validation: every training row's out-of-fold logits per task, its
    label ids per task, and the folds (for the TF-IDF model's own out-of-fold scores)."""

    logits: dict[str, np.ndarray]
    truth: dict[str, list[int]]
    folds: Folds


def out_of_fold_tfidf(
    vectorizer: Any, texts: list[str], held_out: HeldOut, costs: dict[str, float]
) -> dict[str, np.ndarray]:
    """Each task's out-of-fold TF-IDF + linear SVM scores ``(rows, labels)`` on the training texts."""
    features = vectorizer.transform(texts)
    scores = {}
    for task, logits in held_out.logits.items():
        y = np.asarray(held_out.truth[task])
        held_scores = np.zeros(logits.shape, dtype=np.float32)
        for fit_rows, held in held_out.folds:
            keep = fit_rows[y[fit_rows] != -100]
            svm = LinearSVC(C=costs[task], random_state=0).fit(features[keep], y[keep])
            coef, intercept = full_rank(svm)
            decision = np.asarray(features[held] @ coef.T) + intercept
            # a class the fold's rows lack ranks last, below the row's lowest score (not -inf: the temperature
            # fit would then see an infinite loss)
            columns = np.repeat(decision.min(1, keepdims=True) - 1, logits.shape[1], axis=1)
            columns[:, svm.classes_] = decision
            held_scores[held] = columns
        scores[task] = held_scores
        logger.info("TF-IDF %s: out-of-fold scores over %d folds", task, len(held_out.folds))
    return scores
