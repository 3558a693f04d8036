"""Calibration and TF-IDF fusion: what the folder applies (inference.prediction.fusion) and how it is fitted
(training.heads.calibration), down to a run whose saved model predicts what its metrics say."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.special import softmax
from testkit.articles import make_rows
from testkit.tiny import tiny_config

from inference import Predictor
from inference.model.loading import ModelFolderError
from inference.model.manifest import write_manifest
from inference.prediction.fusion import TaskCalibration, fused_probabilities, read_calibration, write_calibration
from training.fitting.recipe import train
from training.heads.calibration import (
    TFIDF_SHARPNESS,
    calibrate_task,
    choose_tfidf_share,
    expected_calibration_error,
    fit_temperature,
)

RNG = np.random.default_rng(0)


def _sample(n: int = 4000, classes: int = 3, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose softmax is the true class distribution, times ``scale``, and labels drawn from it."""
    logits = RNG.normal(0, 2, (n, classes))
    truth = np.array([RNG.choice(classes, p=p) for p in softmax(logits, axis=1)])
    return scale * logits, truth


def test_the_default_calibration_is_a_plain_softmax():
    logits = RNG.normal(0, 3, (5, 4))
    np.testing.assert_allclose(fused_probabilities(logits, TaskCalibration()), softmax(logits, axis=1), rtol=1e-6)


def test_fusion_mixes_the_two_softmaxes_and_the_temperature_keeps_the_argmax():
    logits, scores = RNG.normal(0, 2, (6, 3)), RNG.normal(0, 1, (6, 3))
    mixed = fused_probabilities(logits, TaskCalibration(tfidf_weight=0.25, tfidf_sharpness=3.0), scores)
    expected = 0.75 * softmax(logits, axis=1) + 0.25 * softmax(3.0 * scores, axis=1)
    np.testing.assert_allclose(mixed, expected, rtol=1e-5)
    only_tfidf = fused_probabilities(logits, TaskCalibration(tfidf_weight=1.0, tfidf_sharpness=2.0), scores)
    np.testing.assert_allclose(only_tfidf, softmax(2.0 * scores, axis=1), rtol=1e-5)
    hotter = fused_probabilities(logits, TaskCalibration(temperature=3.0, tfidf_weight=0.25), scores)
    assert (hotter.argmax(1) == fused_probabilities(logits, TaskCalibration(tfidf_weight=0.25), scores).argmax(1)).all()
    assert hotter.max(1).mean() < mixed.max(1).mean()
    with pytest.raises(ValueError, match="fuses TF-IDF scores"):
        fused_probabilities(logits, TaskCalibration(tfidf_weight=0.5))
    with pytest.raises(ValueError, match="temperature > 0"):
        TaskCalibration(temperature=0)


def test_calibration_file_round_trips_and_a_bad_one_names_itself(tmp_path):
    calibrations = {"topic": TaskCalibration(1.7, 0.5, 3.0), "leaning": TaskCalibration(0.9)}
    write_calibration(tmp_path, calibrations)
    assert read_calibration(tmp_path) == calibrations
    assert read_calibration(tmp_path / "nowhere") == {}
    (tmp_path / "calibration.json").write_text('{"topic": {"temperature": -1}}')
    with pytest.raises(ValueError, match=r"calibration\.json: not a calibration file"):
        read_calibration(tmp_path)


def test_the_fitted_temperature_undoes_overconfidence():
    logits, truth = _sample(scale=4.0)  # four times too sure of itself
    temperature = fit_temperature(logits, truth)
    assert temperature == pytest.approx(4.0, rel=0.15)
    before = expected_calibration_error(softmax(logits, axis=1), truth)
    after = expected_calibration_error(fused_probabilities(logits, TaskCalibration(temperature)), truth)
    assert after < 0.03 < before


def test_expected_calibration_error_of_calibrated_and_of_unlabelled_rows():
    logits, truth = _sample(8000)
    assert expected_calibration_error(softmax(logits, axis=1), truth) < 0.03
    assert expected_calibration_error(np.array([[0.9, 0.1]]), np.array([-100])) == 0.0
    always_sure_and_wrong = expected_calibration_error(np.array([[1.0, 0.0]] * 4), np.array([1, 1, 1, 1]))
    assert always_sure_and_wrong == pytest.approx(1.0)


def test_the_tfidf_share_goes_to_whichever_model_knows_the_labels():
    truth = np.arange(300) % 3
    knows = np.eye(3)[truth] * 4.0 + RNG.normal(0, 0.5, (300, 3))
    guesses = RNG.normal(0, 1, (300, 3))
    labels = ["a", "b", "c"]
    chosen = choose_tfidf_share(guesses, knows, truth, labels)
    assert chosen.tfidf_weight > 0
    assert (fused_probabilities(guesses, chosen, knows).argmax(1) == truth).all()
    assert choose_tfidf_share(knows, guesses, truth, labels).tfidf_weight == 0.0
    assert calibrate_task(knows, truth, labels).tfidf_weight == 0.0  # nothing to fuse without scores


def test_a_fixed_tfidf_share_is_kept_even_where_validation_prefers_another():
    truth = np.arange(300) % 3
    knows = np.eye(3)[truth] * 4.0 + RNG.normal(0, 0.5, (300, 3))
    guesses = RNG.normal(0, 1, (300, 3))
    fixed = calibrate_task(knows, truth, ["a", "b", "c"], guesses, share=0.5)
    assert fixed.tfidf_weight == 0.5 and fixed.tfidf_sharpness in TFIDF_SHARPNESS
    assert calibrate_task(knows, truth, ["a", "b", "c"], guesses).tfidf_weight == 0.0  # what it would choose


def test_a_fused_run_saves_both_models_and_predicts_what_its_metrics_say(tmp_path, tiny_encoder_dir):
    rows = make_rows()
    overrides = ["training.fuse_tfidf=true", "training.tfidf_share=0.5", "training.epochs=1"]
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, overrides, rows=rows))
    model = run_dir / "model"
    assert (model / "tfidf" / "weights.safetensors").is_file() and (model / "calibration.json").is_file()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    report = metrics["calibration"]["leaning"]
    assert set(report["splits"]["validation"]) >= {"ece_before", "ece_after", "encoder_macro_f1", "tfidf_macro_f1"}
    assert "## Calibration" in (model / "README.md").read_text()
    validation = [row for row in rows if row["split"] == "validation"]
    predictor = Predictor.from_pretrained(model, backend="torch", precision="fp32")
    assert predictor.tfidf is not None and set(predictor.calibration) == {"topic", "leaning"}
    predicted = predictor.predict(validation)
    for task in ("topic", "leaning"):
        accuracy = np.mean([p[task]["label"] == row[task] for p, row in zip(predicted, validation)])
        assert accuracy == pytest.approx(metrics["splits"]["validation"][task]["accuracy"])
    (model / "tfidf" / "baseline.json").write_text("{}")
    with pytest.raises(ModelFolderError, match=r"baseline\.json"):
        Predictor.from_pretrained(model)  # the manifest covers the sparse model's files too


def test_a_calibration_that_fuses_needs_its_sparse_model(tmp_path, tiny_model_dir):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    write_calibration(folder, {"topic": TaskCalibration(tfidf_weight=0.5)})
    write_manifest(folder)
    with pytest.raises(ModelFolderError, match="tfidf/ is missing"):
        Predictor.from_pretrained(folder, backend="torch", precision="fp32")
    base = Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32")
    with pytest.raises(ValueError, match=r"tasks \['topic'\] fuse TF-IDF scores"):
        Predictor(base.backend, base.tokenizer, calibration={"topic": TaskCalibration(tfidf_weight=0.5)})


def test_calibrate_false_leaves_a_plain_softmax(tmp_path, tiny_encoder_dir):
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, ["training.calibrate=false", "training.epochs=1"]))
    assert not (run_dir / "model" / "calibration.json").exists()
    assert "calibration" not in json.loads((run_dir / "metrics.json").read_text())


def test_a_few_shot_probe_gives_unsaturated_probabilities_and_says_why_its_temperature_is_1(tmp_path: Path):
    """24 training rows, 9 validation rows that the probe separates: no temperature of 0.05, no 1e-41."""
    from training import fit

    rows = make_rows(per_cell=3)
    train, validation = [r for r in rows if r["split"] == "train"][:24], [r for r in rows if r["split"] == "validation"]
    model = fit(
        train, validation=validation, tasks=["topic", "leaning"], settings={"training.mode": "probe"},
        output_dir=tmp_path / "run",
    )  # fmt: skip
    probabilities = model.predict_proba([row["content"] for row in validation])
    for task, values in probabilities.items():
        assert values.min() > 1e-4 and values.max() < 0.9999, task
    calibration = json.loads((model.run_dir / "metrics.json").read_text())["calibration"]
    for task in ("topic", "leaning"):
        assert calibration[task]["temperature"] == 1.0
        assert calibration[task]["temperature_fitted"].startswith("not fitted: validation has 9 labelled rows")


def test_a_temperature_is_fitted_within_its_bounds_where_validation_supports_one():
    from training.heads.calibration import (
        MIN_TEMPERATURE_ROWS,
        TEMPERATURE_BOUNDS,
        fit_temperature,
        temperature_support,
    )

    truth = np.arange(MIN_TEMPERATURE_ROWS) % 2
    separable = np.where(np.eye(2)[truth] == 1, 0.0, -5.0)  # every row right, by a wide margin
    assert temperature_support(truth) is None
    assert fit_temperature(separable, truth) == pytest.approx(TEMPERATURE_BOUNDS[0], rel=1e-2)
    assert fit_temperature(separable[:-1], truth[:-1]) == 1.0
    assert temperature_support(np.zeros(80, dtype=int)) == "not fitted: validation holds a single class"
