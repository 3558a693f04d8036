"""From a task's logits to the probabilities a model folder promises: TF-IDF fusion, then a temperature.

A folder trained with ``training.calibrate`` (and ``training.fuse_tfidf``) holds ``calibration.json``:
per task, the share of the sparse model's probabilities averaged in (``tfidf_weight``), how sharp its
softmax is (``tfidf_sharpness``, multiplying the SVM scores) and one ``temperature`` dividing the
log-probabilities of the mix (Guo et al., 2017: one scalar per task keeps the argmax of the mix and
makes its confidence match its accuracy). Every backend's logits go through :func:`fused_probabilities`.

>>> import numpy as np
>>> logits = np.array([[2.0, 0.0]])
>>> fused_probabilities(logits, TaskCalibration()).round(3)
array([[0.881, 0.119]], dtype=float32)
>>> fused_probabilities(logits, TaskCalibration(temperature=2.0)).round(3)
array([[0.731, 0.269]], dtype=float32)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.special import log_softmax, softmax

from ..atomic import atomic_writer
from ..model.folder_layout import CALIBRATION_FILE


@dataclass(frozen=True)
class TaskCalibration:
    """How one task's logits become probabilities (the defaults change nothing)."""

    temperature: float = 1.0
    tfidf_weight: float = 0.0
    tfidf_sharpness: float = 1.0

    def __post_init__(self) -> None:
        if not self.temperature > 0 or not 0 <= self.tfidf_weight <= 1 or not self.tfidf_sharpness > 0:
            raise ValueError(f"a calibration needs temperature > 0, tfidf_weight in [0, 1], sharpness > 0: {self}")


def fused_log_probabilities(
    logits: np.ndarray, calibration: TaskCalibration, tfidf_scores: np.ndarray | None = None
) -> np.ndarray:
    """Log of the mix ``(1 - w) softmax(logits) + w softmax(sharpness * scores)``, before the temperature."""
    log_p = log_softmax(np.asarray(logits, dtype=np.float64), axis=1)
    weight = calibration.tfidf_weight
    if weight == 0:
        return log_p
    if tfidf_scores is None:
        raise ValueError("this calibration fuses TF-IDF scores (tfidf_weight > 0), but none were given")
    log_q = log_softmax(calibration.tfidf_sharpness * np.asarray(tfidf_scores, dtype=np.float64), axis=1)
    if weight == 1:
        return log_q
    return np.logaddexp(np.log1p(-weight) + log_p, np.log(weight) + log_q)


def fused_probabilities(
    logits: np.ndarray, calibration: TaskCalibration, tfidf_scores: np.ndarray | None = None
) -> np.ndarray:
    """The calibrated probabilities of ``(articles, labels)`` logits (and the sparse model's scores)."""
    log_p = fused_log_probabilities(logits, calibration, tfidf_scores)
    return softmax(log_p / calibration.temperature, axis=1).astype(np.float32)


def read_calibration(folder: str | Path) -> dict[str, TaskCalibration]:
    """The folder's calibrations per task; ``{}`` (plain softmax) for a folder without the file."""
    path = Path(folder) / CALIBRATION_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {task: TaskCalibration(**values) for task, values in data.items()}
    except (ValueError, TypeError) as error:
        raise ValueError(f"{path}: not a calibration file ({error})") from None


def write_calibration(folder: str | Path, calibrations: dict[str, TaskCalibration]) -> None:
    with atomic_writer(Path(folder) / CALIBRATION_FILE) as out:
        out.write(json.dumps({task: asdict(c) for task, c in calibrations.items()}, indent=2) + "\n")
