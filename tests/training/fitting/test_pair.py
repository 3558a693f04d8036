"""Pair tasks: a text read against a target (stance toward a claim or headline), from config to predict."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from testkit.articles import CLAIMS, pair_rows, write_fnc1_like, write_jsonl
from testkit.same import raw_logits
from testkit.tiny import PAIR_TASK, pair_config, tiny_overrides

from inference import Predictor, explain
from inference.batch.cli import main as predict_main
from inference.model.manifest import write_manifest
from inference.model.windowing import collate_windows, encode_pairs
from inference.prediction.onnx_export import main as export_main
from training.config import load_config
from training.data import DataError, load_splits
from training.evaluate import main as evaluate_main
from training.fitting.recipe import train
from training.train import main as train_main


@pytest.fixture(scope="module")
def pair_model(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> Path:
    return train(pair_config(tmp_path_factory.mktemp("pair"), tiny_encoder_dir)) / "model"


@pytest.fixture(scope="module")
def predictor(pair_model: Path) -> Predictor:
    return Predictor.from_pretrained(pair_model, backend="torch", precision="fp32")


def test_pair_model_is_trained_and_saved_as_pair(pair_model: Path, predictor: Predictor):
    config = json.loads((pair_model / "config.json").read_text())
    assert [task["kind"] for task in config["tasks"]] == ["pair"]
    assert config["window"]["max_target_tokens"] == 64
    assert predictor.config.reads_pairs
    assert predictor.labels("stance") == ["agree", "disagree", "unrelated"]
    metrics = json.loads((pair_model / "metrics.json").read_text())
    assert metrics["splits"]["validation"]["stance"]["support"] == 12


def test_target_field_target_argument_and_shared_target_agree(predictor: Predictor):
    bodies = ["Officials deny the storm flooded the coast: a hoax.", "Reports confirm the team won the final."]
    claim = CLAIMS[1]
    with_fields = predictor.predict_proba([{"target": claim, "content": body} for body in bodies])["stance"]
    with_list = predictor.predict_proba(bodies, target=[claim, claim])["stance"]
    with_one = predictor.predict_proba(bodies, target=claim)["stance"]
    np.testing.assert_allclose(with_fields, with_list, atol=1e-6)
    np.testing.assert_allclose(with_fields, with_one, atol=1e-6)
    single = predictor.predict({"target": claim, "content": bodies[0]})
    assert set(single) == {"stance"} and single["stance"]["label"] in predictor.labels("stance")


def test_the_target_changes_the_prediction(predictor: Predictor):
    body = "Reports confirm the bank raised rates, verified."
    first = raw_logits(predictor, [body], target=CLAIMS[0])["stance"]
    other = raw_logits(predictor, [body], target=CLAIMS[3])["stance"]
    assert np.abs(first - other).max() > 1e-4


def test_a_pair_model_needs_a_target_and_a_single_model_refuses_one(predictor: Predictor, tiny_model_dir: Path):
    with pytest.raises(ValueError, match="article 1: this model scores each text against a target"):
        predictor.predict([{"target": "x", "content": "a"}, {"content": "b"}])
    with pytest.raises(ValueError, match="2 targets for 1 articles"):
        predictor.predict(["a"], target=["x", "y"])
    with pytest.raises(ValueError, match="takes no target"):
        Predictor.from_pretrained(tiny_model_dir, precision="fp32").predict("text", target="claim")


def test_explain_a_pair_prediction(predictor: Predictor):
    article = {"target": CLAIMS[0], "content": "Reports confirm it. The bank raised rates. Officials deny a hoax."}
    explanation = explain(predictor, article, task="stance")
    assert [s.text for s in explanation.sentences] == [
        "Reports confirm it.",
        "The bank raised rates.",
        "Officials deny a hoax.",
    ]


def test_evaluate_and_predict_commands_read_the_target(pair_model: Path, tmp_path: Path, capsys):
    data = write_jsonl(tmp_path / "pairs.jsonl", pair_rows(seed=1))
    assert evaluate_main(["--model", str(pair_model), "--data", str(data), "--split", "validation", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["articles"] == 12 and "accuracy" in result["tasks"]["stance"]
    articles = write_jsonl(
        tmp_path / "in.jsonl", [{"id": "a", "target": CLAIMS[0], "content": "The bank raised rates."}]
    )
    assert predict_main(["--model", str(pair_model), "--input", str(articles), "--precision", "fp32"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["id"] == "a" and record["stance"]["label"] in {"agree", "disagree", "unrelated"}


def test_onnx_export_of_a_pair_model_reads_the_segments(pair_model: Path, predictor: Predictor, tmp_path: Path):
    pytest.importorskip("onnxruntime")
    folder = tmp_path / "model"
    shutil.copytree(pair_model, folder)
    assert export_main(["--model", str(folder)]) == 0
    onnx = Predictor.from_pretrained(folder, backend="onnx", precision="fp32")
    bodies = ["Officials deny the storm flooded the coast: a hoax.", "Reports confirm the team won the final."]
    expected = predictor.predict_proba(bodies, target=CLAIMS[1])["stance"]
    np.testing.assert_allclose(onnx.predict_proba(bodies, target=CLAIMS[1])["stance"], expected, atol=1e-4)
    # the graph reads the segment ids: without them (all zero) the same windows score otherwise
    windows = encode_pairs(onnx.tokenizer, [CLAIMS[1]] * 2, bodies, onnx.window)
    batch = collate_windows(windows, onnx.tokenizer.pad_token_id, onnx.tokenizer.sep_token_id)
    with_segments = onnx.backend(batch)[0]
    batch.pop("token_type_ids")
    assert np.abs(onnx.backend(batch)[0] - with_segments).max() > 1e-5
    record = json.loads((folder / "onnx" / "export.json").read_text())
    assert record["files"]["fp32"]["check_against_torch"]["stance"]["max_abs_probability_diff"] < 1e-3


def test_a_pair_probe_embeds_target_and_text_as_the_saved_model_reads_them(tmp_path: Path, tiny_encoder_dir: Path):
    rows = pair_rows()
    run = train(pair_config(tmp_path, tiny_encoder_dir, rows, "training.mode=probe"))
    validation = [row for row in rows if row["split"] == "validation"]
    scored = json.loads((run / "metrics.json").read_text())["splits"]["validation"]["stance"]
    predictor = Predictor.from_pretrained(run / "model", backend="torch", precision="fp32")
    predicted = predictor.predict([{"target": row["claim"], "content": row["content"]} for row in validation])
    # the probe scored vectors from its cache; the folder embeds each pair again: both must read the same segments
    correct = sum(p["stance"]["label"] == row["stance"] for p, row in zip(predicted, validation))
    assert scored["support"] == len(validation)
    assert scored["accuracy"] == pytest.approx(correct / len(validation))


def test_pair_config_errors(tmp_path: Path, tiny_encoder_dir: Path, capsys):
    data = write_jsonl(tmp_path / "pairs.jsonl", pair_rows())
    base = ["--config", "configs/default.yaml", "--set", f"data.train_file={data}", f"model.name={tiny_encoder_dir}"]
    mixed = f"{PAIR_TASK[:-1]}, {{name: s2, label_column: stance}}]"
    assert train_main([*base, mixed]) == 2
    assert "single and pair tasks read different inputs" in capsys.readouterr().err
    assert train_main([*base, "tasks=[{name: stance, label_column: stance, kind: pair}]"]) == 2
    assert "needs the same target_column" in capsys.readouterr().err


def test_missing_or_empty_targets_name_the_column_and_row(tmp_path: Path, tiny_encoder_dir: Path):
    with pytest.raises(DataError, match=r"pairs\.jsonl: no column 'headline'"):
        load_splits(pair_config(tmp_path, tiny_encoder_dir, None, "tasks.0.target_column=headline"))
    rows = pair_rows()
    rows[4]["claim"] = "  "
    with pytest.raises(DataError, match=r"pairs\.jsonl, row 5: empty target column 'claim'"):
        load_splits(pair_config(tmp_path, tiny_encoder_dir, rows))


# --- FNC-1's columns (Headline, articleBody) are read as the article fields target and content ---------


def fnc1_config(tmp_path: Path, encoder: Path, *extra: str):
    """configs/fnc1.yaml itself, on FNC-1-shaped files with the tiny encoder."""
    folder = tmp_path / "fnc1"
    write_fnc1_like(folder)
    bodies = [str(folder / "train_bodies.csv"), str(folder / "competition_test_bodies.csv")]
    files = [f"data.test_file={folder / 'competition_test_stances.csv'}", f"data.join.files={json.dumps(bodies)}"]
    overrides = tiny_overrides(
        tmp_path, encoder, folder / "train_stances.csv", [*files, "evaluation.example=true", *extra]
    )
    return load_config(Path(__file__).parents[3] / "configs" / "fnc1.yaml", overrides)


@pytest.fixture(scope="module")
def fnc1_model(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> Path:
    return train(fnc1_config(tmp_path_factory.mktemp("fnc1"), tiny_encoder_dir)) / "model"


def test_a_model_of_fnc1_reads_target_and_content(fnc1_model: Path, capsys):
    assert json.loads((fnc1_model / "config.json").read_text())["text_fields"] == ["content"]
    stance = Predictor.from_pretrained(fnc1_model, backend="torch", precision="fp32")
    assert stance.text_fields == ["content"]
    body = "Doctors confirmed the vaccine works, indeed true."
    result = stance.predict({"target": "health news 7", "content": body})
    assert result["stance"]["scores"] == pytest.approx(
        dict(zip(stance.labels("stance"), stance.predict_proba(body, target="health news 7")["stance"].tolist()))
    )
    with pytest.raises(ValueError, match=r"article has none of the text fields \['content'\]"):
        stance.predict({"target": "health news 7", "articleBody": body})


def test_evaluate_reads_fnc1_files_with_the_configs_column_names(fnc1_model: Path, tmp_path: Path, capsys):
    test_file = Path(load_config(fnc1_model / "training_config.yaml").data.test_file)
    assert evaluate_main(["--model", str(fnc1_model), "--data", str(test_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["articles"] == 12


def test_an_older_model_that_stored_the_data_column_names_still_predicts(fnc1_model: Path, tmp_path: Path):
    """Models saved before data.columns stored FNC-1's ``articleBody``: they read ``content`` too."""
    older = Path(shutil.copytree(fnc1_model, tmp_path / "model"))
    config = json.loads((older / "config.json").read_text())
    (older / "config.json").write_text(json.dumps({**config, "text_fields": ["articleBody"]}), encoding="utf-8")
    write_manifest(older)
    old = Predictor.from_pretrained(older, backend="torch", precision="fp32")
    new = Predictor.from_pretrained(fnc1_model, backend="torch", precision="fp32")
    assert old.text_fields == ["content"]
    body, headline = "Officials denied it: a hoax, false.", "sport news 4"
    expected = new.predict_proba({"target": headline, "content": body})["stance"]
    for article in ({"target": headline, "content": body}, {"target": headline, "articleBody": body}):
        np.testing.assert_allclose(old.predict_proba(article)["stance"], expected, atol=1e-6)
