"""Pair tasks: a text read against a target (stance toward a claim or headline), from config to predict."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import tiny_config, write_jsonl

from inference import Predictor, explain
from inference.cli import main as predict_main
from inference.export import main as export_main
from inference.windowing import collate_windows, encode_pairs
from training.data import DataError, load_splits
from training.evaluate import main as evaluate_main
from training.train import main as train_main
from training.train import train

CLAIMS = ["the bank raised rates", "the storm flooded the coast", "the team won the final", "the vaccine works well"]
STANCE_WORDS = {
    "agree": "confirmed true indeed verified reports confirm",
    "disagree": "false denied hoax untrue officials deny",
}
PAIR_TASK = "tasks=[{name: stance, label_column: stance, kind: pair, target_column: claim}]"


def pair_rows(seed: int = 0) -> list[dict[str, Any]]:
    """(claim, body, stance) rows: agree/disagree bodies repeat the claim with words for their stance;
    unrelated bodies are about another claim."""
    rng = random.Random(seed)
    rows = []
    for index in range(72):
        claim = CLAIMS[index % 4]
        stance = ("agree", "disagree", "unrelated")[index % 3]
        if stance == "unrelated":
            words = CLAIMS[(index + 1) % 4].split() * 2
        else:
            words = claim.split() + STANCE_WORDS[stance].split()
        rng.shuffle(words)
        split = "validation" if index % 6 == 0 else "train"
        rows.append(
            {"id": f"p{index}", "claim": claim, "content": " ".join(words) + ".", "stance": stance, "split": split}
        )
    return rows


def pair_config(tmp_path: Path, encoder: Path, rows: list[dict[str, Any]] | None = None, *extra: str):
    data = write_jsonl(tmp_path / "pairs.jsonl", rows or pair_rows())
    return tiny_config(
        tmp_path,
        encoder,
        [f"data.train_file={data}", "data.text_fields=[content]", PAIR_TASK, "training.epochs=3", *extra],
    )


@pytest.fixture(scope="module")
def pair_model(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> Path:
    return train(pair_config(tmp_path_factory.mktemp("pair"), tiny_encoder_dir)) / "model"


@pytest.fixture(scope="module")
def predictor(pair_model: Path) -> Predictor:
    return Predictor.from_pretrained(pair_model, backend="torch", precision="fp32")


def test_pair_model_is_trained_and_saved_as_pair(pair_model: Path, predictor: Predictor):
    config = json.loads((pair_model / "config.json").read_text())
    assert [task["kind"] for task in config["tasks"]] == ["pair"]
    assert config["max_target_tokens"] == 64
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
    first = predictor.predict_proba(body, target=CLAIMS[0])["stance"]
    other = predictor.predict_proba(body, target=CLAIMS[3])["stance"]
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
    windows = encode_pairs(onnx.tokenizer, [CLAIMS[1]] * 2, bodies, onnx.window, 64)
    batch = collate_windows(windows, onnx.tokenizer.pad_token_id, onnx.tokenizer.sep_token_id)
    with_segments = onnx.backend(batch)[0]
    batch.pop("token_type_ids")
    assert np.abs(onnx.backend(batch)[0] - with_segments).max() > 1e-5
    record = json.loads((folder / "onnx" / "export.json").read_text())
    assert record["files"]["fp32"]["check_against_torch"]["stance"]["max_abs_probability_diff"] < 1e-3


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
