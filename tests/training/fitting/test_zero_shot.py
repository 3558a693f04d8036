"""Zero-shot heads (training.mode: zero-shot): a model folder from label descriptions alone, and the checks that
refuse what it cannot do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from testkit.articles import make_rows, write_jsonl
from testkit.same import raw_logits
from testkit.tiny import tiny_config, tiny_overrides

from inference import Predictor
from training import fit
from training.config import ConfigError, load_config
from training.fitting.recipe import train
from training.heads.probe import head_inputs

DESCRIPTIONS = {"economy": "money, prices and jobs", "health": "doctors and hospitals", "sport": "the match and goals"}
ZERO_SHOT = [
    "training.mode=zero-shot",
    "data.train_file=null",
    "tasks=[{name: topic, label_column: topic, descriptions: "
    + json.dumps(DESCRIPTIONS)
    + ", templates: ['News about {}.', '{}']}]",
]


@pytest.fixture(scope="module")
def zero_shot_dir(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> Path:
    tmp_path = tmp_path_factory.mktemp("zero-shot")
    return train(tiny_config(tmp_path, tiny_encoder_dir, ZERO_SHOT), update_latest=False) / "model"


def test_each_template_sentence_scores_alike_against_its_label(zero_shot_dir: Path):
    predictor = Predictor.from_pretrained(zero_shot_dir, backend="torch", precision="fp32")
    labels = predictor.labels("topic")
    assert labels == list(DESCRIPTIONS)
    # a head row is the unit mean of the two templates' unit vectors u1, u2: an article reading exactly as either
    # sentence has the logit scale * sqrt((1 + u1.u2) / 2) for it, the same for both and at most the scale
    for label, description in DESCRIPTIONS.items():
        logits = raw_logits(predictor, [f"News about {description}.", description])["topic"]
        row = labels.index(label)
        np.testing.assert_allclose(logits[0, row], logits[1, row], rtol=1e-4)
        assert 0 < logits[0, row] <= 20.0 + 1e-3


def test_the_folder_says_it_normalises_and_was_made_without_rows(zero_shot_dir: Path):
    settings = json.loads((zero_shot_dir / "config.json").read_text())
    assert settings["normalize_articles"] is True
    metrics = json.loads((zero_shot_dir / "metrics.json").read_text())
    assert metrics["train"]["mode"] == "zero-shot"
    assert metrics["splits"] == {}
    assert "Zero-shot heads" in (zero_shot_dir / "README.md").read_text()


def test_article_length_does_not_change_a_zero_shot_probability(zero_shot_dir: Path):
    predictor = Predictor.from_pretrained(zero_shot_dir, backend="torch", precision="fp32")
    model = predictor.model
    vectors = torch.randn(4, model.config.encoder["hidden_size"])
    short, long = model.classify(vectors)[0], model.classify(vectors * 7.5)[0]
    torch.testing.assert_close(short, long, rtol=1e-5, atol=1e-5)


def test_a_zero_shot_run_scores_validation_and_calibrates(tmp_path: Path, tiny_encoder_dir: Path):
    rows = make_rows(per_cell=18)
    data = write_jsonl(tmp_path / "rows.jsonl", rows)
    overrides = [*ZERO_SHOT[:1], *ZERO_SHOT[2:], f"data.train_file={data}", "data.split.column=split"]
    overrides[1] = overrides[1].replace("'News about {}.', '{}'", "'{}'")
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, overrides), update_latest=False)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    validation = sum(row["split"] == "validation" for row in rows)
    assert metrics["splits"]["validation"]["topic"]["support"] == validation
    assert "topic" in metrics["calibration"]
    assert (run_dir / "model" / "calibration.json").exists()
    # one template, "{}": an article that is a label's description has cosine 1 with its row, a logit of the scale
    predictor = Predictor.from_pretrained(run_dir / "model", backend="torch", precision="fp32")
    logits = raw_logits(predictor, list(DESCRIPTIONS.values()))["topic"]
    np.testing.assert_allclose(np.diag(logits), 20.0, rtol=1e-4)
    assert list(logits.argmax(1)) == [0, 1, 2]


def test_fit_makes_a_zero_shot_model_from_nothing_but_descriptions(tiny_encoder_dir: Path):
    model = fit(
        None,
        tasks=[{"name": "topic", "label_column": "topic", "descriptions": DESCRIPTIONS}],
        settings={"training.mode": "zero-shot", "model.name": str(tiny_encoder_dir), "model.max_length": 32},
    )
    assert model.labels("topic") == list(DESCRIPTIONS)
    predictions = model.predict(["prices and jobs", "doctors in hospitals"])
    assert [p["topic"]["label"] in DESCRIPTIONS for p in predictions] == [True, True]
    assert model.metrics == {}


def test_head_inputs_are_unit_vectors_only_where_the_model_normalises(tmp_path: Path, tiny_encoder_dir: Path):
    from training.fitting.building import build_model

    features = {"train": np.random.default_rng(0).normal(size=(5, 32)).astype(np.float32) * 3}
    for normalise in (True, False):
        config = tiny_config(tmp_path, tiny_encoder_dir, [f"model.normalize_articles={str(normalise).lower()}"])
        model = build_model(config, {"topic": ["a", "b"], "leaning": ["l", "r"]})
        norms = np.linalg.norm(head_inputs(model, features)["train"], axis=1)
        expected = np.ones(5) if normalise else np.linalg.norm(features["train"], axis=1)
        np.testing.assert_allclose(norms, expected, rtol=1e-5)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["training.fuse_tfidf=true"], r"training\.fuse_tfidf: not with training\.mode zero-shot"),
        (["model.normalize_articles=false"], r"model\.normalize_articles: false: not with"),
        (
            ["tasks=[{name: topic, labels: [economy, health], descriptions: {sport: goals}}]"],
            r"tasks\.topic\.descriptions: \['sport'\] are not in tasks\.topic\.labels",
        ),
        (["tasks=[{name: topic, descriptions: {economy: money}}]"], r"tasks\.topic: a zero-shot head needs two"),
        (
            ["tasks=[{name: stance, kind: pair, target_column: claim, labels: [agree, disagree]}]"],
            r"tasks\.stance: a zero-shot head compares one text",
        ),
        (["tasks=[{name: topic, labels: [a, b], templates: ['News']}]"], r"tasks\.topic\.templates: each template"),
        (["training.refit_heads=true"], r"training\.refit_heads: a zero-shot run"),
    ],
)
def test_zero_shot_refuses_what_it_cannot_do(tmp_path: Path, tiny_encoder_dir: Path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(
            Path(__file__).parents[3] / "configs" / "default.yaml",
            [*tiny_overrides(tmp_path, tiny_encoder_dir, tmp_path / "unused.jsonl"), *ZERO_SHOT, *overrides],
        )


def test_other_modes_still_need_training_rows(tmp_path: Path, tiny_encoder_dir: Path):
    with pytest.raises(ConfigError, match=r"data\.train_file: training\.mode probe needs training rows"):
        tiny_config(tmp_path, tiny_encoder_dir, ["data.train_file=null", "training.mode=probe"])


def test_onnx_reads_a_zero_shot_folder_as_torch_does(zero_shot_dir: Path, tmp_path: Path):
    pytest.importorskip("onnxruntime")
    import shutil

    from inference.prediction.onnx_export import main as export

    folder = Path(shutil.copytree(zero_shot_dir, tmp_path / "model"))
    assert export(["--model", str(folder), "--min-agreement", "0"]) == 0
    texts = ["Prices and jobs at the bank", "The coach and the goals", "Hospital doctors " * 30]
    torch_probabilities = Predictor.from_pretrained(folder, backend="torch", precision="fp32").predict_proba(texts)
    onnx_probabilities = Predictor.from_pretrained(folder, backend="onnx", precision="fp32").predict_proba(texts)
    np.testing.assert_allclose(onnx_probabilities["topic"], torch_probabilities["topic"], atol=1e-4)


def test_a_strong_pull_keeps_a_probe_head_at_its_prior_and_none_lets_it_go():
    from training.heads.probe import fit_linear_head

    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 6)).astype(np.float32)
    y = np.arange(12) % 3
    prior = (rng.normal(size=(3, 6)).astype(np.float32), np.zeros(3, dtype=np.float32))
    held, _ = fit_linear_head(x, y, 3, l2=1e4, prior=prior)
    np.testing.assert_allclose(held, prior[0], atol=1e-2)
    free, _ = fit_linear_head(x, y, 3, l2=1e-6, prior=prior)
    assert np.abs(free - prior[0]).max() > 0.1


def test_a_probe_with_descriptions_starts_from_the_zero_shot_heads(tmp_path: Path, tiny_encoder_dir: Path):
    from training.heads.probe import PRIOR_GRID

    tasks = "tasks=[{name: topic, label_column: topic, descriptions: " + json.dumps(DESCRIPTIONS) + "}]"
    config = tiny_config(tmp_path, tiny_encoder_dir, ["training.mode=probe", tasks, "data.split.column=split"])
    run_dir = train(config, update_latest=False)
    heads = json.loads((run_dir / "metrics.json").read_text())["train"]["probe"]["heads"]["topic"]
    assert sorted(map(float, heads["scores"])) == sorted(PRIOR_GRID)
    assert json.loads((run_dir / "model" / "config.json").read_text())["normalize_articles"] is True


def test_descriptions_of_labels_the_data_lacks_are_refused(tmp_path: Path, tiny_encoder_dir: Path):
    from training.data import DataError

    tasks = "tasks=[{name: topic, label_column: topic, descriptions: {weather: rain}}]"
    config = tiny_config(tmp_path, tiny_encoder_dir, ["training.mode=probe", tasks])
    with pytest.raises(DataError, match=r"tasks\.topic\.descriptions: \['weather'\] are not labels of the task"):
        train(config, update_latest=False)
