"""Per-task scores, classification reports and confusion-matrix plots.

>>> scores = task_scores([0, 1, 1], [0, 1, 0], ["left", "right"])
>>> round(scores["accuracy"], 3), round(scores["macro_f1"], 3)
(0.667, 0.667)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

from training.config import SUMMARY_METRICS

FNC_RELATED = ("agree", "disagree", "discuss")


def fnc_score(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
    """The Fake News Challenge (FNC-1) score of stance labels, and its share of the best possible score.

    A pair earns 0.25 when related/unrelated is right, and a related pair 0.75 more when its exact
    stance (agree, disagree, discuss) is right; the best score gives every pair its due.

    >>> fnc_score(["unrelated", "agree", "discuss", "agree"], ["unrelated", "discuss", "discuss", "unrelated"])
    {'score': 1.5, 'max_score': 3.25, 'relative': 0.4615}
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true and y_pred differ in length: {len(y_true)} and {len(y_pred)}")
    score = best = 0.0
    for true, pred in zip(y_true, y_pred):
        related_true, related_pred = true in FNC_RELATED, pred in FNC_RELATED
        best += 1.0 if related_true else 0.25
        if related_true == related_pred:
            score += 0.25
            if related_true and true == pred:
                score += 0.75
    return {"score": score, "max_score": best, "relative": round(score / best, 4) if best else 0.0}


def task_scores(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    labels: list[str],
    untrained: Collection[int] = (),
) -> dict[str, Any]:
    """Accuracy, macro and weighted F1, per-class precision/recall/F1/support and the confusion matrix
    (and ``fnc_score``, the FNC-1 score's share of its maximum, for a task whose labels are FNC-1's stances).

    Rows whose true label is ``-100`` (missing) are ignored; the ``untrained`` label ids (no training row has
    them, ``untrained_labels: keep``) are reported per class but left out of macro-F1.
    """
    true, pred = np.asarray(y_true), np.asarray(y_pred)
    keep = true != -100
    true, pred = true[keep], pred[keep]
    ids = list(range(len(labels)))
    if not len(true):
        zeros = {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0.0}
        return {
            "accuracy": 0.0,
            "macro_f1": 0.0,
            "weighted_f1": 0.0,
            "support": 0,
            "per_class": {label: dict(zeros) for label in labels},
            "confusion_matrix": [[0] * len(labels) for _ in labels],
            "labels": list(labels),
        }
    report = classification_report(true, pred, labels=ids, target_names=labels, output_dict=True, zero_division=0)
    extra = {}
    if set(labels) == {*FNC_RELATED, "unrelated"}:  # FNC-1's stances: its competition score too
        extra["fnc_score"] = fnc_score([labels[i] for i in true], [labels[i] for i in pred])["relative"]
    return {
        **extra,
        "accuracy": float(accuracy_score(true, pred)),
        "macro_f1": float(
            f1_score(true, pred, labels=[i for i in ids if i not in untrained], average="macro", zero_division=0)
        ),
        "weighted_f1": float(f1_score(true, pred, labels=ids, average="weighted", zero_division=0)),
        "support": len(true),
        "per_class": {label: {k: float(v) for k, v in report[label].items()} for label in labels},
        "confusion_matrix": confusion_matrix(true, pred, labels=ids).tolist(),
        "labels": list(labels),
    }


def summarise(per_task: dict[str, dict[str, Any]], unranked: Collection[str] = ()) -> dict[str, float]:
    """Flat ``<task>_<metric>`` numbers plus each metric's mean over the tasks not ``unranked`` (the
    selection metric; an adversarial task is reported but should score low, so it is left out of the mean)."""
    flat = {f"{task}_{name}": scores[name] for task, scores in per_task.items() for name in SUMMARY_METRICS}
    ranked = [scores for task, scores in per_task.items() if task not in unranked]
    for name in SUMMARY_METRICS:
        flat[name] = float(np.mean([scores[name] for scores in ranked]))
    return flat


def as_task_tuple(values: Any) -> tuple[Any, ...]:
    """The Trainer gives one array per task as a tuple, but may unwrap a single task's array."""
    return tuple(values) if isinstance(values, (tuple, list)) else (values,)


def make_compute_metrics(
    label_lists: dict[str, list[str]], unranked: Collection[str] = (), untrained: dict[str, list[int]] | None = None
) -> Callable[[Any], dict[str, float]]:
    """A ``compute_metrics`` for the Trainer: logits and labels come as one array per task
    (``unranked`` tasks left out of the means, as in :func:`summarise`; ``untrained`` label ids out of macro-F1)."""

    def compute(prediction: Any) -> dict[str, float]:
        logits, label_ids = as_task_tuple(prediction.predictions), as_task_tuple(prediction.label_ids)
        per_task = {
            task: task_scores(label_ids[i], np.asarray(logits[i]).argmax(-1), labels, (untrained or {}).get(task, ()))
            for i, (task, labels) in enumerate(label_lists.items())
        }
        return summarise(per_task, unranked)

    return compute


def format_report(task: str, scores: dict[str, Any]) -> str:
    """A readable per-class table for one task."""
    width = max(12, *(len(label) for label in scores["labels"]))
    lines = [
        (
            f"task: {task}   accuracy {scores['accuracy']:.4f}   macro-F1 {scores['macro_f1']:.4f}   "
            f"weighted-F1 {scores['weighted_f1']:.4f}   n={scores['support']}"
            + (f"   FNC score {scores['fnc_score']:.2%}" if "fnc_score" in scores else "")
        ),
        f"{'label':<{width}}  precision  recall  f1      support",
    ]
    for label in scores["labels"]:
        row = scores["per_class"][label]
        lines.append(
            f"{label:<{width}}  {row['precision']:9.4f}  {row['recall']:6.4f}  {row['f1-score']:6.4f}  "
            f"{int(row['support']):7d}"
        )
    return "\n".join(lines)


def draw_confusion_matrix(axes: Any, scores: dict[str, Any], title: str) -> None:
    """Draws a row-normalised confusion matrix, with counts in the cells, on a Matplotlib ``Axes``."""
    counts = np.asarray(scores["confusion_matrix"], dtype=float)
    labels = scores["labels"]
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    image = axes.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    if len(labels) <= 25:
        for i in range(len(labels)):
            for j in range(len(labels)):
                colour = "white" if rates[i, j] > 0.5 else "black"
                axes.text(j, i, int(counts[i, j]), ha="center", va="center", fontsize=7, color=colour)
    axes.figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of true class")


def confusion_figure_size(n_labels: int) -> tuple[float, float]:
    """A figure size that keeps the labels of an ``n_labels`` matrix readable."""
    size = max(4.0, 0.45 * n_labels + 2)
    return size + 1, size


def plot_confusion_matrix(scores: dict[str, Any], title: str, path: str | Path) -> None:
    """Saves :func:`draw_confusion_matrix` as a PNG (without pyplot, so no GUI backend is touched)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=confusion_figure_size(len(scores["labels"])))
    draw_confusion_matrix(figure.add_subplot(), scores, title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def write_reports(run_dir: Path, split: str, per_task: dict[str, dict[str, Any]], plots: bool) -> str:
    """Writes each task's report of ``split`` (and its confusion matrix, with ``plots``) into ``run_dir/reports``;
    returns the reports as printed at the end of a run."""
    reports = run_dir / "reports"
    reports.mkdir(exist_ok=True)
    texts = []
    for task, scores in per_task.items():
        text = format_report(task, scores)
        texts.append(f"[{split}] {text}")
        (reports / f"{task}_{split}.txt").write_text(text + "\n", encoding="utf-8")
        if plots:
            plot_confusion_matrix(scores, f"{task} — {split}", reports / f"{task}_{split}_confusion.png")
    return "\n\n".join(texts)
