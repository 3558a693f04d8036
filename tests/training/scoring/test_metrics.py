"""Tests for training.scoring.metrics against hand-computed scores."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from training.scoring.metrics import format_report, make_compute_metrics, plot_confusion_matrix, summarise, task_scores

LABELS = ["a", "b", "c"]
# true a,a,b,b,c,c,c and a missing label; predicted a,b,b,b,c,a,c (and c for the missing one)
Y_TRUE = [0, 0, 1, 1, 2, 2, 2, -100]
Y_PRED = [0, 1, 1, 1, 2, 0, 2, 2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_task_scores_by_hand() -> None:
    scores = task_scores(Y_TRUE, Y_PRED, LABELS)
    # per class: a P=1/2 R=1/2 F=1/2 n=2; b P=2/3 R=1 F=4/5 n=2; c P=1 R=2/3 F=4/5 n=3
    assert scores["accuracy"] == pytest.approx(5 / 7)
    assert scores["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.8) / 3)
    assert scores["weighted_f1"] == pytest.approx((2 * 0.5 + 2 * 0.8 + 3 * 0.8) / 7)
    assert scores["support"] == 7
    assert scores["labels"] == LABELS
    assert scores["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 2]]
    expected = {
        "a": (1 / 2, 1 / 2, 1 / 2, 2),
        "b": (2 / 3, 1.0, 0.8, 2),
        "c": (1.0, 2 / 3, 0.8, 3),
    }
    for label, (precision, recall, f1, support) in expected.items():
        row = scores["per_class"][label]
        assert row["precision"] == pytest.approx(precision)
        assert row["recall"] == pytest.approx(recall)
        assert row["f1-score"] == pytest.approx(f1)
        assert row["support"] == support


def test_task_scores_ignores_missing_labels() -> None:
    with_missing = task_scores([-100, 0, -100, 1], [1, 0, 0, 0], ["x", "y"])
    assert with_missing["support"] == 2
    assert with_missing["accuracy"] == 0.5
    assert with_missing["confusion_matrix"] == [[1, 0], [1, 0]]
    assert with_missing == task_scores([0, 1], [0, 0], ["x", "y"])


def test_task_scores_counts_absent_classes_in_macro_f1() -> None:
    scores = task_scores(Y_TRUE, Y_PRED, [*LABELS, "d"])
    assert scores["macro_f1"] == pytest.approx((0.5 + 0.8 + 0.8 + 0.0) / 4)
    assert scores["per_class"]["d"] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0.0}
    assert scores["confusion_matrix"][3] == [0, 0, 0, 0]
    assert [row[3] for row in scores["confusion_matrix"]] == [0, 0, 0, 0]


def test_task_scores_perfect() -> None:
    scores = task_scores([0, 1, 2, 1], np.array([0, 1, 2, 1]), LABELS)
    assert (scores["accuracy"], scores["macro_f1"], scores["weighted_f1"]) == (1.0, 1.0, 1.0)


def test_task_scores_values_are_plain_python() -> None:
    scores = task_scores(np.array(Y_TRUE), np.array(Y_PRED), LABELS)
    assert type(scores["accuracy"]) is float
    assert type(scores["support"]) is int
    assert type(scores["per_class"]["a"]["precision"]) is float
    assert type(scores["confusion_matrix"][0][0]) is int


def test_task_scores_all_missing() -> None:
    scores = task_scores([-100, -100], [0, 1], ["x", "y"])
    assert scores["support"] == 0
    assert scores["accuracy"] == 0.0
    assert scores["macro_f1"] == 0.0
    assert scores["confusion_matrix"] == [[0, 0], [0, 0]]


def test_summarise_flattens_and_averages() -> None:
    per_task = {
        "topic": {"accuracy": 0.5, "macro_f1": 0.4, "weighted_f1": 0.3, "support": 10},
        "leaning": {"accuracy": 1.0, "macro_f1": 0.8, "weighted_f1": 0.7, "support": 10},
    }
    assert summarise(per_task) == pytest.approx(
        {
            "topic_accuracy": 0.5,
            "topic_macro_f1": 0.4,
            "topic_weighted_f1": 0.3,
            "leaning_accuracy": 1.0,
            "leaning_macro_f1": 0.8,
            "leaning_weighted_f1": 0.7,
            "accuracy": 0.75,
            "macro_f1": 0.6,
            "weighted_f1": 0.5,
        }
    )


def test_summarise_one_task() -> None:
    flat = summarise({"topic": task_scores(Y_TRUE, Y_PRED, LABELS)})
    assert flat["accuracy"] == flat["topic_accuracy"] == pytest.approx(5 / 7)
    assert set(flat) == {"topic_accuracy", "topic_macro_f1", "topic_weighted_f1", "accuracy", "macro_f1", "weighted_f1"}


def logits_for(predicted: list[int], classes: int) -> np.ndarray:
    """Logits whose argmax is ``predicted``."""
    logits = np.random.default_rng(0).normal(size=(len(predicted), classes)).astype(np.float32)
    logits[np.arange(len(predicted)), predicted] = 10.0
    return logits


def test_compute_metrics_single_task() -> None:
    compute = make_compute_metrics({"topic": LABELS})
    prediction = SimpleNamespace(predictions=logits_for(Y_PRED, 3), label_ids=np.array(Y_TRUE))
    metrics = compute(prediction)
    assert metrics["topic_accuracy"] == pytest.approx(5 / 7)
    assert metrics["macro_f1"] == pytest.approx(0.7)
    assert metrics == summarise({"topic": task_scores(Y_TRUE, Y_PRED, LABELS)})


def test_compute_metrics_two_tasks() -> None:
    compute = make_compute_metrics({"topic": LABELS, "leaning": ["l", "r"]})
    leaning_true, leaning_pred = [0, 1, 1, 0, -100, 1, 0, 1], [0, 1, 0, 0, 1, 1, 1, 1]
    prediction = SimpleNamespace(
        predictions=(logits_for(Y_PRED, 3), logits_for(leaning_pred, 2)),
        label_ids=(np.array(Y_TRUE), np.array(leaning_true)),
    )
    metrics = compute(prediction)
    assert metrics["topic_accuracy"] == pytest.approx(5 / 7)
    assert metrics["leaning_accuracy"] == pytest.approx(5 / 7)
    assert metrics["accuracy"] == pytest.approx(5 / 7)
    leaning = task_scores(leaning_true, leaning_pred, ["l", "r"])
    assert metrics["macro_f1"] == pytest.approx((0.7 + leaning["macro_f1"]) / 2)


def test_compute_metrics_single_task_as_the_trainer_passes_it() -> None:
    compute = make_compute_metrics({"topic": LABELS})
    prediction = SimpleNamespace(predictions=(logits_for(Y_PRED, 3),), label_ids=np.array(Y_TRUE))
    assert compute(prediction)["topic_accuracy"] == pytest.approx(5 / 7)


def test_format_report() -> None:
    report = format_report("topic", task_scores(Y_TRUE, Y_PRED, LABELS))
    lines = report.splitlines()
    assert lines[0].startswith("task: topic")
    assert "accuracy 0.7143" in lines[0]
    assert "macro-F1 0.7000" in lines[0]
    assert "weighted-F1 0.7143" in lines[0]
    assert "n=7" in lines[0]
    assert lines[1].split() == ["label", "precision", "recall", "f1", "support"]
    assert len(lines) == 2 + len(LABELS)
    assert lines[3].split() == ["b", "0.6667", "1.0000", "0.8000", "2"]
    assert lines[4].split() == ["c", "1.0000", "0.6667", "0.8000", "3"]


def test_format_report_long_labels_align() -> None:
    labels = ["short", "a-rather-long-label-name"]
    report = format_report("t", task_scores([0, 1], [0, 1], labels))
    rows = report.splitlines()[1:]
    assert rows[0].startswith("label" + " " * (len("a-rather-long-label-name") - len("label")) + "  precision")
    assert rows[2].startswith("a-rather-long-label-name  ")
    assert len({len(row) for row in rows}) == 1  # header and rows line up


def test_plot_confusion_matrix(tmp_path: Path) -> None:
    path = tmp_path / "cm.png"
    plot_confusion_matrix(task_scores(Y_TRUE, Y_PRED, LABELS), "topic — validation", path)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert len(data) > 1000


def test_plot_confusion_matrix_many_labels(tmp_path: Path) -> None:
    labels = [f"label-{i}" for i in range(30)]
    true = list(range(30)) * 2
    pred = [(i + 1) % 30 for i in range(30)] + list(range(30))
    path = tmp_path / "big.png"
    plot_confusion_matrix(task_scores(true, pred, labels), "many", path)
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_fnc_score_follows_the_official_weights():
    from training.scoring.metrics import fnc_score

    gold = ["unrelated", "agree", "disagree", "discuss"]
    assert fnc_score(gold, gold) == {"score": 3.25, "max_score": 3.25, "relative": 1.0}
    # every pair: related/unrelated right gives 0.25; exact related stance 0.75 more
    assert fnc_score(gold, ["unrelated"] * 4)["score"] == 0.25
    assert fnc_score(gold, ["discuss", "discuss", "agree", "agree"])["score"] == 0.25 + 0.25 + 0.25
    assert fnc_score(["agree"], ["agree"])["score"] == 1.0
    with pytest.raises(ValueError, match="differ in length"):
        fnc_score(gold, gold[:2])


def test_task_scores_add_the_fnc_score_for_fnc_stances():
    labels = ["agree", "disagree", "discuss", "unrelated"]
    scores = task_scores([3, 0, 2, 0], [3, 2, 2, 3], labels)
    assert scores["fnc_score"] == round((0.25 + 0.25 + 1.0 + 0) / 3.25, 4)
    assert "FNC score 46.15%" in format_report("stance", scores)
    assert "fnc_score" not in task_scores([0, 1], [0, 1], ["left", "right"])
