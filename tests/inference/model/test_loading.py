"""Tests for inference.model.loading: safe loading of model folders, and inference's independence from training."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoConfig, AutoModel

from inference import ModelFolderError, NewsClassifier, Predictor, check_model_folder, load_model_folder
from inference.model.loading import encoder_positions
from inference.model.manifest import write_manifest
from inference.model.windowing import article_text, encode_articles


@pytest.fixture
def model_copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    """A copy of the trained tiny model folder that a test may damage."""
    return Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))


def test_check_model_folder_accepts_trained_folder(tiny_model_dir: Path):
    assert check_model_folder(str(tiny_model_dir)) == tiny_model_dir
    assert isinstance(check_model_folder(tiny_model_dir), Path)


def test_load_model_folder_returns_eval_model_and_tokenizer(tiny_model_dir: Path):
    model, tokenizer = load_model_folder(tiny_model_dir)
    assert isinstance(model, NewsClassifier)
    assert not model.training
    assert model.config.task_names == ["topic", "leaning"]
    assert model.task_labels("topic") == ["economy", "health", "sport"]
    assert model.task_labels("leaning") == ["left", "center", "right"]
    assert model.config.window["strategy"] == "chunks"
    assert model.config.window["max_length"] == 32
    assert model.config.text_fields == ["title", "content"]
    assert tokenizer("market")["input_ids"][0] == tokenizer.cls_token_id
    assert next(model.parameters()).device == torch.device("cpu")


def test_missing_folder(tmp_path: Path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelFolderError, match="no such model folder") as excinfo:
        check_model_folder(missing)
    assert str(missing) in str(excinfo.value)
    with pytest.raises(ModelFolderError, match="no such model folder"):
        load_model_folder(missing)


def test_a_file_is_not_a_model_folder(tmp_path: Path):
    file = tmp_path / "model.safetensors"
    file.write_bytes(b"")
    with pytest.raises(ModelFolderError, match="no such model folder"):
        check_model_folder(file)


def test_model_folder_error_is_a_value_error():
    assert issubclass(ModelFolderError, ValueError)


def test_missing_config_json(model_copy: Path):
    (model_copy / "config.json").unlink()
    with pytest.raises(ModelFolderError, match=r"missing config\.json"):
        check_model_folder(model_copy)
    with pytest.raises(ModelFolderError, match=r"missing config\.json"):
        load_model_folder(model_copy)


def test_missing_model_safetensors(model_copy: Path):
    (model_copy / "model.safetensors").unlink()
    with pytest.raises(ModelFolderError, match=r"missing model\.safetensors"):
        check_model_folder(model_copy)
    with pytest.raises(ModelFolderError, match=r"missing model\.safetensors"):
        load_model_folder(model_copy)


def test_only_pickle_weights_are_refused(model_copy: Path):
    weights = model_copy / "model.safetensors"
    weights.rename(model_copy / "pytorch_model.bin")
    with pytest.raises(ModelFolderError) as excinfo:
        load_model_folder(model_copy)
    message = str(excinfo.value)
    assert "pickle" in message
    assert "safetensors" in message
    assert "pytorch_model.bin" in message
    assert str(model_copy) in message


def test_pickle_next_to_safetensors_is_ignored(model_copy: Path):
    (model_copy / "pytorch_model.bin").write_bytes(b"not a pickle at all")
    model, _ = load_model_folder(model_copy)
    assert model.config.task_names == ["topic", "leaning"]


def test_invalid_config_json(model_copy: Path):
    (model_copy / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelFolderError, match=r"config\.json changed since the model was saved"):
        load_model_folder(model_copy)
    with pytest.raises(ModelFolderError, match="cannot load the model"):  # the loader's own check, manifest aside
        load_model_folder(model_copy, verify=False)


def test_saved_folder_lists_every_file_in_its_manifest(tiny_model_dir: Path):
    manifest = json.loads((tiny_model_dir / "manifest.json").read_text())
    files = {p.relative_to(tiny_model_dir).as_posix() for p in tiny_model_dir.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == files - {"manifest.json"}
    weights = manifest["files"]["model.safetensors"]
    assert weights["sha256"] == hashlib.sha256((tiny_model_dir / "model.safetensors").read_bytes()).hexdigest()
    assert weights["bytes"] == (tiny_model_dir / "model.safetensors").stat().st_size


@pytest.mark.parametrize("name", ["model.safetensors", "tokenizer.json", "training_config.yaml", "README.md"])
def test_a_changed_file_is_caught(model_copy: Path, name: str):
    path = model_copy / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit, same size
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFolderError, match=rf"{re.escape(name)} changed since the model was saved") as excinfo:
        Predictor.from_pretrained(model_copy)
    assert str(model_copy) in str(excinfo.value)


def test_a_removed_file_is_caught(model_copy: Path):
    (model_copy / "tokenizer.json").unlink()
    with pytest.raises(ModelFolderError, match=r"tokenizer\.json is listed in manifest\.json but missing"):
        check_model_folder(model_copy)


def test_a_corrupted_manifest_is_a_clear_error(model_copy: Path):
    (model_copy / "manifest.json").write_text("[1, 2", encoding="utf-8")
    with pytest.raises(ModelFolderError, match=r"manifest\.json: not valid JSON"):
        check_model_folder(model_copy)


def test_a_folder_without_manifest_loads_with_a_warning(model_copy: Path, caplog: pytest.LogCaptureFixture):
    (model_copy / "manifest.json").unlink()
    with caplog.at_level("WARNING", logger="newsclf"):
        model, _ = load_model_folder(model_copy)
    assert model.config.task_names == ["topic", "leaning"]
    assert "has no manifest.json" in caplog.text


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupted_safetensors_gives_model_folder_error(model_copy: Path, damage: str):
    weights = model_copy / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"\x00garbage" * 3, "empty": b""}[damage])
    with pytest.raises(ModelFolderError, match=r"model\.safetensors changed since the model was saved"):
        load_model_folder(model_copy)
    with pytest.raises(ModelFolderError, match="cannot load the model"):  # the loader's own check, manifest aside
        load_model_folder(model_copy, verify=False)


# --- windows that fit the encoder ---------------------------------------------------------------------


@pytest.mark.parametrize("model_type", ["bert", "roberta", "xlm-roberta", "camembert", "mpnet", "electra"])
def test_encoder_positions_is_the_longest_input_transformers_accepts(model_type: str):
    config = AutoConfig.for_model(
        model_type,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        vocab_size=50,
        max_position_embeddings=24,
    )
    encoder = AutoModel.from_config(config).eval()
    limit = encoder_positions(config.to_dict())
    assert limit == (22 if model_type in ("roberta", "xlm-roberta", "camembert", "mpnet") else 24)
    with torch.no_grad():
        encoder(input_ids=torch.full((2, limit), 7))  # the longest window fits
        with pytest.raises((IndexError, RuntimeError)):
            encoder(input_ids=torch.full((2, limit + 1), 7))


@pytest.mark.parametrize(
    ("encoder", "expected"),
    [
        ({"model_type": "bert", "max_position_embeddings": 512}, 512),
        ({"model_type": "xlm-roberta", "max_position_embeddings": 514, "pad_token_id": 1}, 512),
        ({"model_type": "markuplm", "max_position_embeddings": 514, "pad_token_id": 0}, 513),
        ({"model_type": "deberta-v2", "max_position_embeddings": 512, "position_biased_input": False}, None),
        ({"model_type": "deberta-v2", "max_position_embeddings": 512, "position_biased_input": True}, 512),
        ({"model_type": "t5"}, None),
    ],
)
def test_encoder_positions_from_a_config(encoder: dict, expected: int | None):
    assert encoder_positions(encoder) == expected


def _set_window(folder: Path, **window: object) -> Path:
    """Changes the folder's config.json window and records the change in its manifest, as if saved so."""
    config = json.loads((folder / "config.json").read_text())
    config["window"].update(window)
    (folder / "config.json").write_text(json.dumps(config))
    write_manifest(folder)
    return folder


def test_windows_longer_than_the_encoder_are_refused(model_copy: Path):
    _set_window(model_copy, max_length=129)  # the tiny encoder has 128 positions
    for load in (check_model_folder, load_model_folder, Predictor.from_pretrained):
        with pytest.raises(ModelFolderError) as excinfo:
            load(model_copy)
        message = str(excinfo.value)
        assert message.startswith(f"{model_copy}: its windows hold 129 tokens")
        assert "at most 128" in message and "model.max_length of at most 128" in message


@pytest.mark.parametrize("strategy", ["head", "head+tail", "chunks"])
def test_windows_at_the_encoders_limit_read_a_very_long_article(model_copy: Path, strategy: str):
    _set_window(model_copy, strategy=strategy, max_length=128, stride=16, max_windows=3)
    predictor = Predictor.from_pretrained(model_copy)
    article = {"title": "Rates rise", "content": " ".join(["the bank raised interest rates again"] * 4000)}
    windows = encode_articles(predictor.tokenizer, [article_text(article, ["title", "content"])], predictor.window)
    assert max(len(window) for window in windows[0]) == 128  # windows as long as the encoder reads
    result = predictor.predict([article, "short"])
    assert [set(r) for r in result] == [{"topic", "leaning"}] * 2


def test_inference_does_not_import_training():
    code = (
        "import sys\n"
        "import inference\n"
        "from inference import Predictor\n"
        "assert Predictor.__module__ == 'inference.prediction.predictor'\n"
        "loaded = sorted(m for m in sys.modules if m == 'training' or m.startswith('training.'))\n"
        "print('TRAINING_MODULES=' + ','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=Path(__file__).parents[3]
    )
    assert result.returncode == 0, result.stderr
    assert "TRAINING_MODULES=\n" in result.stdout
