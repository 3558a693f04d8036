"""Analyses behind the notebooks: calibration, accuracy per group, window coverage, duplicate texts.

Plot helpers draw on a Matplotlib ``Axes`` that the caller owns, so they work inline in Jupyter
and in scripts alike.

>>> table = reliability([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]], [0, 1, 1], bins=5)
>>> table.count.tolist(), round(table.ece, 3)
([0, 0, 1, 1, 1], 0.333)
>>> accuracy_by_group(["cnn", "cnn", "fox"], [0, 1, 2], [0, 0, 2])
[('cnn', 2, 0.5), ('fox', 1, 1.0)]
>>> duplicate_groups(["A  cat.", "a cat", "dog", "a cat!"])
[[0, 1, 3]]
>>> duplicate_groups(["A cat sat.", "A cat ran."], first_words=2)
[[0, 1]]
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.model.windowing import WindowConfig, split_tokens


@dataclass
class Reliability:
    """Confidence against accuracy in equal-width bins of the predicted label's probability."""

    edges: np.ndarray
    """``bins + 1`` bin edges from 0 to 1."""
    confidence: np.ndarray
    """Mean confidence per bin (NaN where a bin is empty)."""
    accuracy: np.ndarray
    """Share of correct predictions per bin (NaN where a bin is empty)."""
    count: np.ndarray
    ece: float
    """Expected calibration error: the count-weighted mean gap between accuracy and confidence."""


def reliability(probabilities: Any, y_true: Sequence[int], bins: int = 10) -> Reliability:
    """Bins predictions by confidence (the top probability) and measures each bin's accuracy.

    Args:
        probabilities: ``(n_articles, n_labels)`` class probabilities.
        y_true: the true label ids; rows with ``-100`` (missing) are ignored.
        bins: number of equal-width confidence bins.
    """
    probabilities, true = np.asarray(probabilities, dtype=float), np.asarray(y_true)
    if probabilities.ndim != 2 or len(probabilities) != len(true):
        raise ValueError(f"probabilities must be (n, labels) with n = {len(true)}, got shape {probabilities.shape}")
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    keep = true != -100
    probabilities, true = probabilities[keep], true[keep]
    confidence = probabilities.max(axis=1) if len(true) else np.zeros(0)
    correct = probabilities.argmax(axis=1) == true if len(true) else np.zeros(0, dtype=bool)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(which, weights=confidence, minlength=bins) / count
        mean_accuracy = np.bincount(which, weights=correct.astype(float), minlength=bins) / count
    gaps = np.nan_to_num(np.abs(mean_accuracy - mean_confidence)) * count
    ece = float(gaps.sum() / max(len(true), 1))
    return Reliability(edges, mean_confidence, mean_accuracy, count, ece)


def plot_reliability(axes: Any, table: Reliability, title: str = "") -> None:
    """Draws a reliability diagram: accuracy per confidence bin against the diagonal of perfect calibration."""
    centres = (table.edges[:-1] + table.edges[1:]) / 2
    width = table.edges[1] - table.edges[0]
    filled = table.count > 0
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    axes.bar(centres[filled], table.accuracy[filled], width=width * 0.9, color="tab:blue", alpha=0.8, label="accuracy")
    axes.scatter(table.confidence[filled], table.accuracy[filled], color="k", s=12, zorder=3, label="mean confidence")
    for x, y, n in zip(centres[filled], table.accuracy[filled], table.count[filled]):
        axes.annotate(str(n), (x, y), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.05)
    axes.set_xlabel("confidence (top probability)")
    axes.set_ylabel("accuracy")
    axes.set_title(f"{title} (ECE {table.ece:.3f})".strip())
    axes.legend(loc="upper left", fontsize=7)


def accuracy_by_group(
    groups: Sequence[Any], y_true: Sequence[Any], y_pred: Sequence[Any], min_count: int = 1
) -> list[tuple[str, int, float]]:
    """``(group, articles, accuracy)`` for each group with at least ``min_count`` articles, largest first."""
    if not len(groups) == len(y_true) == len(y_pred):
        raise ValueError(f"groups, y_true and y_pred differ in length: {len(groups)}, {len(y_true)}, {len(y_pred)}")
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for group, true, pred in zip(groups, y_true, y_pred):
        total = totals[str(group)]
        total[0] += 1
        total[1] += int(true == pred)
    rows = [(group, n, right / n) for group, (n, right) in totals.items() if n >= min_count]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def tokens_read(n_tokens: int, window: WindowConfig, special_tokens: int = 2) -> int:
    """How many of an article's ``n_tokens`` the model reads with this windowing (overlaps counted once)."""
    budget = window.max_length - special_tokens
    positions = split_tokens(list(range(n_tokens)), window, budget)
    return len({position for part in positions for position in part})


def normalise_text(text: str) -> str:
    """Lower case, words only, single spaces: texts that differ in case, punctuation or spacing compare equal."""
    return " ".join(re.findall(r"\w+", str(text).casefold()))


def duplicate_groups(texts: Sequence[str], first_words: int | None = None) -> list[list[int]]:
    """Indices of texts that are the same after :func:`normalise_text`, one list per repeated text.

    With ``first_words``, texts that only share their first ``first_words`` words count as the same
    (near duplicates: updated versions of a story, syndicated copies with another ending).
    """
    seen: dict[str, list[int]] = defaultdict(list)
    for index, text in enumerate(texts):
        key = normalise_text(text)
        if first_words is not None:
            key = " ".join(key.split(" ")[:first_words])
        seen[key].append(index)
    return [indices for key, indices in seen.items() if key and len(indices) > 1]
