"""Tests for training.scoring.analysis (calibration, per-group accuracy, window coverage, duplicates) and the
confusion-matrix drawing in training.metrics."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from inference.model.windowing import WindowConfig
from training.scoring.analysis import (
    accuracy_by_group,
    duplicate_groups,
    normalise_text,
    plot_reliability,
    reliability,
    tokens_read,
)
from training.scoring.metrics import draw_confusion_matrix, plot_confusion_matrix, task_scores


def _sampled(confidences: np.ndarray, hit_rate: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two-class probabilities with the given top probability, right with probability ``hit_rate``."""
    rng = np.random.default_rng(seed)
    probabilities = np.stack([confidences, 1 - confidences], axis=1)
    truth = np.where(rng.random(len(confidences)) < hit_rate, 0, 1)
    return probabilities, truth


def test_calibrated_predictions_have_small_ece():
    confidences = np.random.default_rng(1).uniform(0.5, 1.0, 20_000)
    probabilities, truth = _sampled(confidences, confidences)
    table = reliability(probabilities, truth)
    assert table.ece < 0.02
    assert table.count.sum() == 20_000
    assert np.all(table.count[:5] == 0) and np.all(np.isnan(table.accuracy[:5]))


def test_overconfident_predictions_have_large_ece():
    confidences = np.full(5_000, 0.95)
    probabilities, truth = _sampled(confidences, np.full(5_000, 0.6))
    table = reliability(probabilities, truth, bins=10)
    assert table.ece == pytest.approx(0.35, abs=0.03)
    assert table.count[9] == 5_000
    assert table.confidence[9] == pytest.approx(0.95)


def test_reliability_ignores_missing_labels_and_checks_shapes():
    table = reliability([[0.8, 0.2], [0.4, 0.6], [0.5, 0.5]], [0, -100, 1], bins=2)
    assert table.count.tolist() == [1, 1]
    assert table.accuracy.tolist() == [0.0, 1.0]
    with pytest.raises(ValueError, match="must be \\(n, labels\\) with n = 2"):
        reliability([0.2, 0.8], [0, 1])
    with pytest.raises(ValueError, match="bins must be at least 1"):
        reliability([[0.2, 0.8]], [1], bins=0)


def test_plot_reliability_draws_one_bar_per_filled_bin():
    table = reliability([[0.95, 0.05], [0.25, 0.75], [0.65, 0.35]], [0, 1, 1], bins=10)
    axes = Figure().add_subplot()
    plot_reliability(axes, table, "topic")
    assert len(axes.patches) == int((table.count > 0).sum()) == 3
    assert "ECE" in axes.get_title()


def test_accuracy_by_group():
    groups = ["a", "b", "a", "c", "a", "b"]
    rows = accuracy_by_group(groups, [1, 0, 1, 2, 0, 1], [1, 0, 0, 2, 0, 0])
    assert rows == [("a", 3, pytest.approx(2 / 3)), ("b", 2, 0.5), ("c", 1, 1.0)]
    assert [row[0] for row in accuracy_by_group(groups, groups, groups, min_count=2)] == ["a", "b"]
    with pytest.raises(ValueError, match="differ in length"):
        accuracy_by_group(["a"], [1, 2], [1, 2])


@pytest.mark.parametrize(
    ("window", "n_tokens", "expected"),
    [
        (WindowConfig(strategy="head", max_length=32), 20, 20),
        (WindowConfig(strategy="head", max_length=32), 500, 30),
        (WindowConfig(strategy="head+tail", max_length=32), 500, 30),
        (WindowConfig(strategy="chunks", max_length=32, stride=5, max_windows=4), 100, 100),  # fits in 4 windows
        (WindowConfig(strategy="chunks", max_length=32, stride=5, max_windows=4), 1000, 115),  # 4 spread windows
    ],
)
def test_tokens_read(window: WindowConfig, n_tokens: int, expected: int):
    assert tokens_read(n_tokens, window) == expected


def test_duplicates_ignore_case_punctuation_and_spacing():
    texts = ["Rates rise.", "other", "rates  RISE", "", "", "Other!", "new"]
    assert normalise_text("Rates,  RISE!") == "rates rise"
    assert duplicate_groups(texts) == [[0, 2], [1, 5]]
    assert duplicate_groups(["a", "b"]) == []


def test_near_duplicates_share_their_opening_words():
    texts = ["The senate voted late. Details follow.", "THE SENATE VOTED late; an update", "The house voted."]
    assert duplicate_groups(texts) == []
    assert duplicate_groups(texts, first_words=4) == [[0, 1]]
    assert duplicate_groups(texts, first_words=5) == []


def test_confusion_matrix_drawing_and_file(tmp_path: Path):
    scores = task_scores([0, 1, 1, 2], [0, 1, 2, 2], ["left", "center", "right"])
    axes = Figure().add_subplot()
    draw_confusion_matrix(axes, scores, "leaning")
    assert sorted(text.get_text() for text in axes.texts) == sorted(["1", "0", "0", "0", "1", "1", "0", "0", "1"])
    backend = matplotlib.get_backend()
    plot_confusion_matrix(scores, "leaning", tmp_path / "cm.png")
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"
    assert matplotlib.get_backend() == backend, "saving a PNG must not switch the user's (notebook's) backend"
