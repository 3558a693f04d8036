"""Tests for inference.prediction.onnx_export: the ONNX round trip and the ONNX backend against torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from inference import ModelFolderError, Predictor
from inference.prediction.onnx_export import main

ARTICLES = [
    "Inflation and interest rates push the bank to act on wages.",
    {"title": "Hospital vaccine", "content": "Doctors and nurses treat patients in the clinic."},
    "The coach praised the team after the match. " * 40,  # several windows at max_length 32
    "",
    {"content": "Taxes, freedom and borders dominate the debate."},
]


# Predicts in a fresh process in which importing torch fails, and prints the probabilities as JSON.
WITHOUT_TORCH = """
import json, sys

class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError("this process may not import " + name)

sys.meta_path.insert(0, NoTorch())
from inference import Predictor

predictor = Predictor.from_pretrained(sys.argv[1], backend=sys.argv[3], precision="fp32")
probabilities = predictor.predict_proba(json.loads(sys.argv[2]))
print(json.dumps({task: values.tolist() for task, values in probabilities.items()}))
"""


def predicted_without_torch(folder: Path, backend: str = "onnx") -> dict[str, np.ndarray]:
    command = [sys.executable, "-c", WITHOUT_TORCH, str(folder), json.dumps(ARTICLES), backend]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return {task: np.asarray(values) for task, values in json.loads(done.stdout).items()}


def assert_onnx_needs_no_torch(folder: Path) -> None:
    """The ONNX backend predicts the same as in this process (where torch is loaded) in one that cannot load torch."""
    expected = Predictor.from_pretrained(folder, backend="onnx", precision="fp32").predict_proba(ARTICLES)
    got = predicted_without_torch(folder)
    assert set(got) == set(expected)
    for task in expected:
        np.testing.assert_array_equal(got[task].argmax(axis=1), expected[task].argmax(axis=1))
        np.testing.assert_allclose(got[task], expected[task], atol=1e-5)


@pytest.fixture(scope="module")
def exported(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export") / "model"
    shutil.copytree(tiny_model_dir, folder)
    assert main(["--model", str(folder), "--quantize", "int8", "--min-agreement", "0"]) == 0
    return folder


def test_export_writes_both_files_and_its_check(exported: Path):
    files = sorted(path.name for path in (exported / "onnx").iterdir())
    assert files == ["export.json", "model.int8.onnx", "model.onnx"]
    record = json.loads((exported / "onnx" / "export.json").read_text())
    assert set(record["files"]) == {"fp32", "int8"}
    for task, check in record["files"]["fp32"]["check_against_torch"].items():
        assert task in {"topic", "leaning"}
        assert check["label_agreement"] == 1.0
        assert check["max_abs_probability_diff"] < 1e-3
    assert not [path for path in exported.iterdir() if path.name.startswith(".onnx-")]


def test_export_adds_its_files_to_the_manifest(exported: Path, tmp_path: Path):
    listed = json.loads((exported / "manifest.json").read_text())["files"]
    assert {"onnx/model.onnx", "onnx/model.int8.onnx", "onnx/export.json", "model.safetensors"} <= set(listed)
    damaged = Path(shutil.copytree(exported, tmp_path / "model"))
    with (damaged / "onnx" / "model.int8.onnx").open("ab") as out:
        out.write(b"\0")
    with pytest.raises(ModelFolderError, match=r"onnx/model\.int8\.onnx changed since the model was saved"):
        Predictor.from_pretrained(damaged, backend="onnx", precision="int8")


def test_onnx_fp32_matches_torch(exported: Path):
    torch_predictor = Predictor.from_pretrained(exported, backend="torch", precision="fp32")
    onnx_predictor = Predictor.from_pretrained(exported, backend="onnx", precision="fp32", batch_size=4)
    assert onnx_predictor.backend_name == "onnx-fp32"
    assert onnx_predictor.model is None
    expected, got = torch_predictor.predict_proba(ARTICLES), onnx_predictor.predict_proba(ARTICLES)
    for task in torch_predictor.tasks:
        np.testing.assert_allclose(got[task], expected[task], atol=1e-4)
    single = onnx_predictor.predict(ARTICLES[2])
    assert single["topic"]["label"] == torch_predictor.predict(ARTICLES[2])["topic"]["label"]


def test_the_onnx_backend_never_imports_torch(exported: Path):
    assert_onnx_needs_no_torch(exported)


def test_the_torch_free_check_fails_where_torch_is_needed(exported: Path):
    with pytest.raises(AssertionError, match="may not import torch"):
        predicted_without_torch(exported, backend="torch")


def test_onnx_int8_gives_valid_probabilities(exported: Path):
    predictor = Predictor.from_pretrained(exported, backend="onnx")
    assert predictor.backend_name == "onnx-int8"
    probabilities = predictor.predict_proba(ARTICLES)
    for task in predictor.tasks:
        assert probabilities[task].shape == (len(ARTICLES), len(predictor.labels(task)))
        assert np.allclose(probabilities[task].sum(axis=1), 1.0, atol=1e-5)


def test_auto_picks_int8_on_a_cpu_without_native_bf16(exported: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("inference.prediction.predictor.bf16_supported", lambda device: False)
    assert Predictor.from_pretrained(exported).backend_name == "onnx-int8"
    monkeypatch.setattr("inference.prediction.predictor.bf16_supported", lambda device: True)
    assert Predictor.from_pretrained(exported).backend_name == "torch-bf16"


def test_export_refuses_to_overwrite(exported: Path, capsys: pytest.CaptureFixture[str]):
    before = (exported / "onnx" / "model.onnx").stat().st_mtime_ns
    assert main(["--model", str(exported)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (exported / "onnx" / "model.onnx").stat().st_mtime_ns == before


def test_missing_onnx_file_names_the_export_command(tiny_model_dir: Path):
    with pytest.raises(ModelFolderError, match="newsclf-export"):
        Predictor.from_pretrained(tiny_model_dir, backend="onnx", precision="int8")


def test_export_of_a_missing_folder_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["--model", str(tmp_path / "nowhere")]) == 2
    assert "no such model folder" in capsys.readouterr().err


def test_a_model_fused_with_tfidf_exports_and_every_backend_fuses_it(
    tiny_encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory
):
    from testkit.tiny import tiny_config

    from inference.prediction.fusion import read_calibration
    from training.fitting.recipe import train

    tmp_path = tmp_path_factory.mktemp("fused")
    fused = ["training.fuse_tfidf=true", "training.tfidf_share=0.5", "training.epochs=1"]
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, fused))
    folder = run_dir / "model"
    assert main(["--model", str(folder), "--min-agreement", "0"]) == 0
    torch_predictor = Predictor.from_pretrained(folder, backend="torch", precision="fp32")
    onnx_predictor = Predictor.from_pretrained(folder, backend="onnx", precision="fp32")
    assert onnx_predictor.tfidf is not None and onnx_predictor.calibration == read_calibration(folder)
    expected, got = torch_predictor.predict_proba(ARTICLES), onnx_predictor.predict_proba(ARTICLES)
    for task in torch_predictor.tasks:
        np.testing.assert_allclose(got[task], expected[task], atol=1e-4)
    assert_onnx_needs_no_torch(folder)
