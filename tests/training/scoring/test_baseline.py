"""The TF-IDF + linear SVM baseline: fits from a config, saves without pickle, evaluates like a model."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse
from testkit.articles import make_rows, write_jsonl
from testkit.tiny import tiny_config

from inference import ModelFolderError, Predictor, predict
from inference.batch.cli import main as predict_main
from inference.model.loading import is_baseline_folder
from inference.prediction.tfidf import TfidfPredictor
from training import TrainedModel
from training.baseline import main
from training.evaluate import main as evaluate_main
from training.scoring.tfidf_baseline import fit_baseline, fit_svms


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory, tiny_encoder_dir):
    tmp_path = tmp_path_factory.mktemp("baseline")
    config = tiny_config(tmp_path, tiny_encoder_dir, rows=make_rows(per_cell=8))
    overrides = [f"data.train_file={config.data.train_file}", f"run.output_dir={tmp_path / 'runs'}", "run.name=tfidf"]
    assert main(["--config", "configs/default.yaml", "--set", *overrides]) == 0
    return tmp_path / "runs" / "tfidf"


def test_baseline_learns_the_sample_words(baseline_run):
    metrics = json.loads((baseline_run / "metrics.json").read_text())
    assert metrics["splits"]["validation"]["topic"]["accuracy"] > 0.9
    assert set(metrics["train"]["C"]) == {"topic", "leaning"}


def test_baseline_folder_holds_no_pickle(baseline_run):
    names = {path.name for path in (baseline_run / "model").iterdir()}
    assert {"baseline.json", "weights.safetensors", "training_config.yaml", "metrics.json"} <= names
    assert not [name for name in names if name.endswith((".pkl", ".joblib", ".bin", ".pt"))]
    assert is_baseline_folder(baseline_run / "model")


def test_baseline_folder_is_checked_against_its_manifest(baseline_run, tmp_path):
    folder = Path(shutil.copytree(baseline_run / "model", tmp_path / "model"))
    listed = json.loads((folder / "manifest.json").read_text())["files"]
    assert {"baseline.json", "weights.safetensors", "metrics.json"} <= set(listed)
    TfidfPredictor.from_pretrained(folder)
    (folder / "weights.safetensors").write_bytes(b"tampered")
    with pytest.raises(ModelFolderError, match=r"weights\.safetensors changed since the model was saved"):
        TfidfPredictor.from_pretrained(folder)


def test_reloaded_baseline_scores_like_the_fitted_one(tmp_path, tiny_encoder_dir):
    config = tiny_config(tmp_path, tiny_encoder_dir, rows=make_rows(per_cell=8))
    predictor, _ = fit_baseline(config)
    predictor.save(tmp_path / "model")
    reloaded = TfidfPredictor.from_pretrained(tmp_path / "model")
    articles = [{"title": row["title"], "content": row["content"]} for row in make_rows(per_cell=2, seed=5)]
    before, after = predictor.predict_proba(articles), reloaded.predict_proba(articles)
    for task in ("topic", "leaning"):
        np.testing.assert_allclose(before[task], after[task], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(after[task].sum(axis=1), 1.0, rtol=1e-5)


def test_the_svms_fitted_side_by_side_are_those_fitted_one_at_a_time(tmp_path, tiny_encoder_dir):
    config = tiny_config(tmp_path, tiny_encoder_dir, rows=make_rows(per_cell=8))
    alone, side_by_side = copy.deepcopy(config), copy.deepcopy(config)
    alone.training.num_threads, side_by_side.training.num_threads = 1, 3
    (one, one_metrics), (pool, pool_metrics) = fit_baseline(alone), fit_baseline(side_by_side)
    assert one_metrics["train"]["C"] == pool_metrics["train"]["C"]
    for task in ("topic", "leaning"):
        for mine, theirs in zip(one.heads[task], pool.heads[task]):  # coefficients, intercepts
            # the same single-threaded solver on the same rows: equal to the bit, unless fits share a random state
            np.testing.assert_array_equal(mine, theirs)


def test_binary_task_keeps_one_row_per_class(tmp_path, tiny_encoder_dir):
    rows = [row for row in make_rows(per_cell=8) if row["leaning"] != "center"]
    config = tiny_config(tmp_path, tiny_encoder_dir, ["tasks.1.labels=null"], rows=rows)
    predictor, metrics = fit_baseline(config)
    assert predictor.heads["leaning"][0].shape[0] == 2
    probabilities = predictor.predict_proba([rows[0]])["leaning"]
    assert probabilities.shape == (1, 2)
    assert metrics["splits"]["validation"]["leaning"]["accuracy"] > 0.5


def test_evaluate_command_scores_a_baseline_folder(baseline_run, tmp_path, capsys):
    data = write_jsonl(tmp_path / "eval.jsonl", make_rows(per_cell=8))
    code = evaluate_main(
        ["--model", str(baseline_run / "model"), "--data", str(data), "--split", "validation", "--json"]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    metrics = json.loads((baseline_run / "metrics.json").read_text())
    for task in ("topic", "leaning"):
        assert result["tasks"][task]["accuracy"] == pytest.approx(metrics["splits"]["validation"][task]["accuracy"])


# issue 27: a baseline folder loads through the same door as a fine-tuned one, and answers in the same shapes


def test_predict_takes_a_baseline_folder(baseline_run):
    folder = baseline_run / "model"
    article = "inflation market wages bank interest rates"
    result = predict(article, model=folder)
    assert result == TfidfPredictor.from_pretrained(folder).predict(article)
    assert result["topic"]["label"] == "economy"
    assert isinstance(Predictor.from_pretrained(folder), TfidfPredictor)


def test_tfidf_predict_proba_of_one_article_is_one_row(baseline_run):
    tfidf = TfidfPredictor.from_pretrained(baseline_run / "model")
    single = tfidf.predict_proba("one article")
    assert {task: values.shape for task, values in single.items()} == {"topic": (3,), "leaning": (3,)}
    np.testing.assert_array_equal(single["topic"], tfidf.predict_proba(["one article"])["topic"][0])


def _shape(value):
    """The structure of a prediction without its numbers: array shapes, dict keys, list lengths, labels."""
    if isinstance(value, np.ndarray):
        return ("array", value.shape, str(value.dtype))
    if isinstance(value, dict):
        return {key: _shape(item) if key != "label" else "label" for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value]
    return type(value).__name__


@pytest.fixture(scope="module")
def fine_tuned(tiny_model_dir):
    return Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32")


@pytest.mark.parametrize(
    "articles",
    ["one article", {"title": "Rates", "content": "The bank raised rates."}, ["one", {"content": "two"}], [], ("a",)],
    ids=["string", "dict", "list", "empty list", "tuple"],
)
def test_tfidf_answers_in_the_shapes_the_predictor_does(baseline_run, fine_tuned, articles):
    tfidf = TfidfPredictor.from_pretrained(baseline_run / "model")
    assert tfidf.tasks == fine_tuned.tasks
    assert _shape(tfidf.predict_proba(articles)) == _shape(fine_tuned.predict_proba(articles))
    assert _shape(tfidf.predict(articles)) == _shape(fine_tuned.predict(articles))


def test_tfidf_refuses_what_the_predictor_refuses(baseline_run):
    tfidf = TfidfPredictor.from_pretrained(baseline_run / "model")
    with pytest.raises(TypeError, match="must be a string or a dict"):
        tfidf.predict(42)
    with pytest.raises(ValueError, match="none of the text fields"):
        tfidf.predict({"headline": "x"})
    with pytest.raises(ValueError, match="1 targets for 2 articles"):
        tfidf.predict(["a", "b"], target=["one"])


def test_newsclf_predict_takes_a_baseline_folder(baseline_run, tmp_path, capsys):
    folder = baseline_run / "model"
    rows = make_rows(per_cell=1, seed=3)
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    assert predict_main(["--model", str(folder), "--input", str(source), "--output", str(tmp_path / "out.jsonl")]) == 0
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    expected = TfidfPredictor.from_pretrained(folder).predict(rows)
    assert lines == [{"id": row["id"], **result} for row, result in zip(rows, expected)]
    assert "wrote 9 predictions" in capsys.readouterr().err


def test_a_damaged_baseline_folder_is_one_model_folder_error(baseline_run, tmp_path):
    folder = Path(shutil.copytree(baseline_run / "model", tmp_path / "model"))
    (folder / "manifest.json").unlink()  # an older folder: nothing to check the files against
    (folder / "baseline.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelFolderError, match=r"model: cannot load the TF-IDF baseline: 'vectorizer'"):
        Predictor.from_pretrained(folder)


def test_scores_are_the_svm_decision_values(baseline_run):
    tfidf = TfidfPredictor.from_pretrained(baseline_run / "model")
    texts = ["inflation market wages bank", "hospital vaccine doctors", "goal team season coach league"]
    features = tfidf.vectorizer.transform(texts).toarray()
    scores = tfidf.scores(texts)
    for task, (coef, intercept) in tfidf.heads.items():
        np.testing.assert_allclose(scores[task], features @ coef.T + intercept, rtol=1e-5, atol=1e-6)
    assert tfidf.scores(texts[:1])["topic"].shape == (1, len(tfidf.labels("topic")))


def test_without_validation_the_svm_cost_is_cross_validated(tmp_path, tiny_encoder_dir, monkeypatch):
    import training.scoring.tfidf_baseline as baseline

    searched = []
    real = baseline.GridSearchCV
    monkeypatch.setattr(baseline, "GridSearchCV", lambda *a, **k: searched.append(k["cv"].n_splits) or real(*a, **k))
    rows = [{**row, "split": "train"} for row in make_rows()]
    config = tiny_config(tmp_path, tiny_encoder_dir, rows=rows)
    _, metrics = fit_baseline(config)
    assert searched == [5, 5]  # one search per task, over 5 folds
    assert set(metrics["train"]["C"].values()) <= set(baseline.COSTS)
    assert baseline.cross_validated_cost(np.eye(3), np.array([0, 1, 2])) == baseline.COSTS[1]  # one row a class


def test_a_baseline_loads_behind_the_model_class_with_its_scores(baseline_run, tmp_path):
    model = TrainedModel.from_pretrained(baseline_run)
    assert model.path == baseline_run / "model" and model.run_dir == baseline_run
    metrics = json.loads((baseline_run / "metrics.json").read_text())
    assert model.metrics == metrics["splits"] and model.tasks == ["topic", "leaning"]
    direct = TfidfPredictor.from_pretrained(baseline_run / "model")
    copy = TrainedModel.from_pretrained(model.save_pretrained(tmp_path / "copy"))
    assert copy.predict(["rates and wages", "vaccine clinic"]) == direct.predict(["rates and wages", "vaccine clinic"])


def test_svms_fitted_side_by_side_are_bit_for_bit_those_fitted_one_at_a_time():
    # big enough that liblinear's fits overlap in time: fits sharing one random generator would interleave its draws
    features = scipy.sparse.random(3000, 5000, density=0.01, format="csr", random_state=0)
    labels = np.random.default_rng(0).integers(0, 5, 3000)
    rows, costs = {"a": (features, labels), "b": (features, labels)}, {"a": (0.1, 1.0), "b": (0.3, 1.0)}
    one, pool = fit_svms(rows, costs, workers=1), fit_svms(rows, costs, workers=4)
    for task, fits in one.items():
        for cost, svm in fits.items():
            np.testing.assert_array_equal(svm.coef_, pool[task][cost].coef_)
