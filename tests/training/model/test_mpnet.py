"""all-mpnet-base-v2 as an encoder, on a tiny MPNet of the same shape: the whole recipe (cached probe, LP-FT, refit,
TF-IDF fusion) trains it, its folder stands alone, and every prediction path (Predictor, ONNX, the server) reads it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from testkit.processes import call, wait_ready
from testkit.same import assert_same_predictions
from testkit.tiny import pair_config

from inference import Predictor
from inference.options import PredictOptions
from inference.service.server import create_app, serve_in_background

ARTICLES = [
    "Inflation and interest rates push the bank to act on wages.",
    {"title": "Hospital vaccine", "content": "Doctors and nurses treat patients in the clinic."},
    "The coach praised the team after the match. " * 40,  # several windows at max_length 32
    {"content": "Taxes, freedom and borders dominate the debate."},
]


@pytest.fixture(scope="module")
def alone(tiny_mpnet_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the folder in a place where nothing of its training run is near."""
    folder = tmp_path_factory.mktemp("mpnet-alone") / "model"
    shutil.copytree(tiny_mpnet_model_dir, folder)
    return folder


def test_the_recipe_ran_every_stage_on_mpnet(tiny_mpnet_model_dir: Path):
    metrics = json.loads((tiny_mpnet_model_dir.parent / "metrics.json").read_text())
    assert metrics["train"]["mode"] == "probe+finetune" and metrics["train"]["steps"] > 0
    assert {"probe", "refit"} <= set(metrics["train"])
    config = json.loads((tiny_mpnet_model_dir / "config.json").read_text())
    assert config["encoder"]["model_type"] == "mpnet" and config["encoder"]["pad_token_id"] == 1
    calibration = json.loads((tiny_mpnet_model_dir / "calibration.json").read_text())
    assert all(task["tfidf_weight"] == 0.5 for task in calibration.values())


def test_the_folder_predicts_without_the_encoder_it_started_from(alone: Path, tiny_mpnet_model_dir: Path):
    got = Predictor.from_pretrained(alone, backend="torch", precision="fp32").predict(ARTICLES)
    expected = Predictor.from_pretrained(tiny_mpnet_model_dir, backend="torch", precision="fp32").predict(ARTICLES)
    assert_same_predictions(got, expected)
    assert all(abs(sum(r["topic"]["scores"].values()) - 1) < 1e-5 for r in got)


def test_onnx_export_of_mpnet_predicts_as_torch(alone: Path):
    from inference.prediction.onnx_export import main

    pytest.importorskip("onnxruntime")
    assert main(["--model", str(alone), "--min-agreement", "0"]) == 0
    torch_predictor = Predictor.from_pretrained(alone, backend="torch", precision="fp32")
    onnx_predictor = Predictor.from_pretrained(alone, backend="onnx", precision="fp32")
    expected, got = torch_predictor.predict_proba(ARTICLES), onnx_predictor.predict_proba(ARTICLES)
    for task in torch_predictor.tasks:
        np.testing.assert_allclose(got[task], expected[task], atol=1e-4)


def test_the_server_answers_with_an_mpnet_folder(tiny_mpnet_model_dir: Path):
    options = PredictOptions(backend="torch", precision="fp32")
    offline = Predictor.from_pretrained(tiny_mpnet_model_dir, backend="torch", precision="fp32")
    with serve_in_background(create_app(tiny_mpnet_model_dir, options=options)) as url:
        wait_ready(url)
        status, served = call(url, "/predict", {"articles": ARTICLES})
    assert status == 200
    assert [r["topic"]["label"] for r in served] == [r["topic"]["label"] for r in offline.predict(ARTICLES)]


def test_an_mpnet_pair_task_reads_target_and_text_as_mpnet_pairs(tiny_mpnet_dir: Path, tmp_path: Path):
    from training.fitting.recipe import train

    config = pair_config(tmp_path, tiny_mpnet_dir, None, "training.mode=probe", "training.epochs=1")
    folder = train(config) / "model"
    predictor = Predictor.from_pretrained(folder, backend="torch", precision="fp32")
    ids = predictor.tokenizer("A spider was found", "No spider")["input_ids"]
    assert ids[0] == 0 and ids.count(2) == 3  # <s> target </s></s> text </s>
    result = predictor.predict(["No spider at all."], target="Spider burrowed into a tourist")
    assert result[0]["stance"]["label"] in predictor.labels("stance")
