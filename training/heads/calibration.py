"""Fits what :mod:`inference.prediction.fusion` applies: per task, the TF-IDF share and one temperature.

Both are chosen on the validation split after training and never on test. The TF-IDF share and the
sharpness of its softmax are picked from a small grid by validation macro-F1 (ties go to the smaller
share); the temperature then minimises the validation log-loss of the mix (Guo et al., 2017). The
expected calibration error (ECE, 15 equal-width confidence bins) is reported before and after.

>>> truth = np.array([0, 1, 1, 0])
>>> round(expected_calibration_error(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]]), truth), 3)
0.3
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

from inference.prediction.fusion import TaskCalibration, fused_log_probabilities, fused_probabilities
from inference.prediction.tfidf import TfidfPredictor
from training.config import Config
from training.heads.group_cv import HeldOut, out_of_fold_tfidf
from training.scoring.metrics import task_scores
from training.scoring.tfidf_baseline import fit_tfidf, tfidf_texts

logger = logging.getLogger("newsclf")
TFIDF_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
TFIDF_SHARPNESS = (1.0, 3.0, 10.0)
MIN_TEMPERATURE_ROWS = 50  # labelled validation rows a task needs before its temperature is fitted
TEMPERATURE_BOUNDS = (0.25, 20.0)


def labelled(values: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``values`` with a label (``-100``: none) and their labels."""
    truth = np.asarray(truth)
    keep = truth != -100
    return np.asarray(values)[keep], truth[keep]


def expected_calibration_error(probabilities: np.ndarray, truth: np.ndarray, bins: int = 15) -> float:
    """How far the top label's probability is from its accuracy, averaged over confidence bins by size."""
    probabilities, truth = labelled(probabilities, truth)
    if not len(truth):
        return 0.0
    confidence = probabilities.max(1)
    correct = probabilities.argmax(1) == truth
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for b in np.unique(which):
        in_bin = which == b
        error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(error)


def temperature_support(truth: Sequence[int] | np.ndarray) -> str | None:
    """Why validation cannot support a fitted temperature (too few labelled rows, or one class), else None:
    on a handful of rows that the model separates perfectly the log-loss falls as the temperature falls, and the
    fitted value would saturate every probability."""
    truth = np.asarray(truth)
    rows = int((truth != -100).sum())
    if rows < MIN_TEMPERATURE_ROWS:
        return f"not fitted: validation has {rows} labelled rows, fewer than {MIN_TEMPERATURE_ROWS}"
    if len(np.unique(truth[truth != -100])) < 2:
        return "not fitted: validation holds a single class"
    return None


def fit_temperature(log_probabilities: np.ndarray, truth: np.ndarray) -> float:
    """The temperature (in [0.25, 20]) that minimises the log-loss of ``softmax(log_p / T)`` on labelled rows;
    1 where :func:`temperature_support` says validation cannot support one."""
    if temperature_support(truth) is not None:
        return 1.0
    log_p, truth = labelled(log_probabilities, truth)
    rows = np.arange(len(truth))

    def log_loss(log_temperature: float) -> float:
        return float(-log_softmax(log_p / np.exp(log_temperature), axis=1)[rows, truth].mean())

    best = minimize_scalar(log_loss, bounds=np.log(TEMPERATURE_BOUNDS), method="bounded")
    return round(float(np.exp(best.x)), 4)


def choose_tfidf_share(
    logits: np.ndarray,
    tfidf_scores: np.ndarray,
    truth: np.ndarray,
    labels: list[str],
    shares: tuple[float, ...] = TFIDF_WEIGHTS,
) -> TaskCalibration:
    """The TF-IDF share (one of ``shares``) and sharpness with the best validation macro-F1 (the smaller
    share on ties)."""
    best: tuple[float, TaskCalibration] | None = None
    for weight in shares:
        for sharpness in TFIDF_SHARPNESS if weight > 0 else (1.0,):
            candidate = TaskCalibration(tfidf_weight=weight, tfidf_sharpness=sharpness)
            predicted = fused_log_probabilities(logits, candidate, tfidf_scores).argmax(1)
            score = task_scores(truth, predicted, labels)["macro_f1"]
            if best is None or score > best[0] + 1e-9:
                best = (score, candidate)
    assert best is not None  # shares is never empty: TFIDF_WEIGHTS, or the one share the config fixes
    return best[1]


def calibrate_task(
    logits: np.ndarray,
    truth: np.ndarray,
    labels: list[str],
    tfidf_scores: np.ndarray | None = None,
    share: float | None = None,
) -> TaskCalibration:
    """One task's calibration from its validation logits, labels and (to fuse) the sparse model's scores,
    with the TF-IDF share fixed at ``share`` or, when None, chosen on validation."""
    shares = TFIDF_WEIGHTS if share is None else (share,)
    fusion = (
        TaskCalibration() if tfidf_scores is None else choose_tfidf_share(logits, tfidf_scores, truth, labels, shares)
    )
    temperature = fit_temperature(fused_log_probabilities(logits, fusion, tfidf_scores), truth)
    return TaskCalibration(temperature, fusion.tfidf_weight, fusion.tfidf_sharpness)


def plain_probabilities(logits: np.ndarray) -> np.ndarray:
    """The encoder's own probabilities (softmax, no calibration): what ECE "before" measures."""
    return softmax(np.asarray(logits, dtype=np.float64), axis=1)


@dataclass
class RunCalibration:
    """What a run adds to its model folder after training: per task, the calibration, and the sparse model
    it fuses (None without ``training.fuse_tfidf``); ``tfidf_scores`` per split and task, for scoring."""

    tasks: dict[str, TaskCalibration] = field(default_factory=dict)
    tfidf: TfidfPredictor | None = None
    tfidf_scores: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    tfidf_info: dict[str, Any] = field(default_factory=dict)
    chosen_on: str = "validation"  # or "out-of-fold training rows" (training.choose_on: groups)

    def probabilities(self, split: str, task: str, logits: np.ndarray) -> np.ndarray:
        """What the saved model will predict for ``split``'s articles, from the encoder's logits."""
        calibration = self.tasks.get(task, TaskCalibration())
        return fused_probabilities(logits, calibration, self.tfidf_scores.get(split, {}).get(task))


def calibrate_run(
    config: Config,
    splits: dict[str, Any],
    truth: dict[str, dict[str, list[int]]],
    label_lists: dict[str, list[str]],
    scrub_names: list[str] | None,
    logits: dict[str, dict[str, np.ndarray]],
    held_out: HeldOut | None = None,
) -> RunCalibration:
    """Fits ``training.fuse_tfidf``'s sparse model and each task's calibration on validation, or with ``held_out``
    (``training.choose_on: groups``) on the training rows' out-of-fold scores.

    Args:
        config: the run's config.
        splits: the run's splits as read (their ``text``, and ``target`` for pairs).
        truth: label ids per split and task.
        label_lists: the tasks to calibrate (the predicted ones) and their labels.
        scrub_names: the outlet names the model scrubs (the sparse model scrubs the same).
        logits: the encoder's logits per split and task.
        held_out: the probe's out-of-fold logits of the training rows, their labels and folds.
    """
    nothing_to_choose_on = "validation" not in logits and held_out is None
    if nothing_to_choose_on or not (config.training.calibrate or config.training.fuse_tfidf):
        return RunCalibration()
    result = RunCalibration()
    if config.training.fuse_tfidf:
        logger.info("fitting TF-IDF + linear SVM on %d articles to fuse with the encoder", len(splits["train"]))
        result.tfidf, result.tfidf_info = fit_tfidf(
            splits, label_lists, config.data.text_fields, scrub_names, config.training.num_threads
        )
        result.tfidf_scores = {split: result.tfidf.scores(tfidf_texts(splits[split])) for split in logits}
    if result.tfidf is not None:
        logger.info("TF-IDF fitted in %.0f s (C per task: %s)", result.tfidf_info["seconds"], result.tfidf_info["C"])
    chosen_on, choice_truth = logits.get("validation"), truth.get("validation")
    choice_tfidf = result.tfidf_scores.get("validation", {})
    if held_out is not None:
        chosen_on, choice_truth = held_out.logits, held_out.truth
        result.chosen_on = "out-of-fold training rows"
        if result.tfidf is not None:
            texts = tfidf_texts(splits["train"])
            choice_tfidf = out_of_fold_tfidf(result.tfidf.vectorizer, texts, held_out, result.tfidf_info["C"])
    for task, labels in label_lists.items():
        # validation's logits, or held_out's (the early return above saw one of them); truth has the same splits
        assert chosen_on is not None and choice_truth is not None
        calibration = calibrate_task(
            chosen_on[task],
            np.asarray(choice_truth[task]),
            labels,
            choice_tfidf.get(task),
            config.training.tfidf_share,
        )
        if not config.training.calibrate:
            calibration = TaskCalibration(1.0, calibration.tfidf_weight, calibration.tfidf_sharpness)
        result.tasks[task] = calibration
        logger.info("task %s calibrated: %s", task, calibration)
    return result


def calibration_report(
    run: RunCalibration,
    logits: dict[str, dict[str, np.ndarray]],
    truth: dict[str, dict[str, list[int]]],
    label_lists: dict[str, list[str]],
) -> dict[str, Any]:
    """Per task: the fitted values, and per split the ECE before (encoder softmax) and after (what the
    folder predicts), with the encoder's and the sparse model's own accuracy and macro-F1 when there is one."""
    report: dict[str, Any] = {}
    for task, calibration in run.tasks.items():
        entry: dict[str, Any] = {**asdict(calibration), "splits": {}}
        if run.chosen_on != "validation":
            entry["temperature_fitted"] = f"fitted on {run.chosen_on}"
        elif "validation" in truth:
            entry["temperature_fitted"] = temperature_support(truth["validation"][task]) or "fitted on validation"
        for split, per_task in logits.items():
            labels = np.asarray(truth[split][task])
            row = {
                "ece_before": round(expected_calibration_error(plain_probabilities(per_task[task]), labels), 4),
                "ece_after": round(
                    expected_calibration_error(run.probabilities(split, task, per_task[task]), labels), 4
                ),
            }
            if run.tfidf is not None:
                names = label_lists[task]
                for name, predicted in (("encoder", per_task[task]), ("tfidf", run.tfidf_scores[split][task])):
                    scores = task_scores(labels, predicted.argmax(1), names)
                    row[f"{name}_accuracy"], row[f"{name}_macro_f1"] = scores["accuracy"], scores["macro_f1"]
            entry["splits"][split] = row
        report[task] = entry
    return report
