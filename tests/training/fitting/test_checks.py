"""Tests for training.fitting.checks: a config against what it names outside itself (the encoder's length, its
folder and weights), errors that name the config file and the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import RobertaConfig

from training.config import ConfigError, load_config
from training.fitting import checks
from training.fitting.checks import check_config

ROOT = Path(__file__).parents[3]
DEFAULT_YAML = ROOT / "configs" / "default.yaml"


def test_max_length_is_checked_against_the_encoders_positions(tiny_encoder_dir):
    config = load_config(DEFAULT_YAML, [f"model.name={tiny_encoder_dir}", "model.max_length=128"])
    check_config(config)  # the tiny BERT has 128 positions: a window of 128 tokens fits
    config.model.max_length = 100000
    with pytest.raises(ConfigError) as error:
        check_config(config)
    assert str(error.value) == (
        f"{DEFAULT_YAML}: model.max_length: expected at most 128, the positions encoder {str(tiny_encoder_dir)!r} "
        "reads (max_position_embeddings 128 in its config.json), got 100000"
    )


def test_a_roberta_like_encoder_loses_its_padding_offset_and_only_its_json_is_read(tmp_path):
    folder = tmp_path / "roberta"
    folder.mkdir()
    RobertaConfig(max_position_embeddings=514, pad_token_id=1).to_json_file(folder / "config.json")
    (folder / "model.safetensors").write_bytes(b"not weights: never read by the check")
    check_config(load_config(None, [f"model.name={folder}", "model.max_length=512"]))
    with pytest.raises(ConfigError, match=r"at most 512, .*max_position_embeddings 514 in its config\.json, less 2"):
        check_config(load_config(None, [f"model.name={folder}", "model.max_length=513"]))


def test_the_packaged_minilm_reads_512_positions():
    check_config(load_config(None, ["model.max_length=512"]))
    with pytest.raises(ConfigError, match=r"model\.max_length: expected at most 512"):
        check_config(load_config(None, ["model.max_length=513"]))


def test_a_hub_encoder_whose_config_cannot_be_fetched_is_left_to_the_loader(monkeypatch):
    def offline(name):
        raise OSError(f"cannot reach the hub for {name}")

    monkeypatch.setattr(checks.transformers.PretrainedConfig, "get_config_dict", offline)
    assert checks.encoder_fields("some-org/some-encoder") is None
    check_config(load_config(None, ["model.name=some-org/some-encoder", "model.max_length=100000"]))


def test_a_hub_encoder_config_is_read_when_available(monkeypatch):
    fetched = {"model_type": "bert", "max_position_embeddings": 64}
    monkeypatch.setattr(checks.transformers.PretrainedConfig, "get_config_dict", lambda name: (fetched, {}))
    with pytest.raises(ConfigError, match="expected at most 64"):
        check_config(load_config(None, ["model.name=some-org/some-encoder", "model.max_length=65"]))


def test_the_encoder_folder_must_exist_and_hold_safetensors(tmp_path):
    with pytest.raises(ValueError, match="no such folder"):
        check_config(load_config(None, [f"model.name={tmp_path / 'missing'}"]))
    (tmp_path / "enc").mkdir()
    (tmp_path / "enc" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ValueError, match="no weights"):
        check_config(load_config(None, [f"model.name={tmp_path / 'enc'}"]))


def test_an_adversarial_task_may_sit_beside_single_tasks():
    check_config(load_config(None, ["tasks.1={name: outlet, label_column: source, kind: adversarial}"]))
    check_config(load_config(None, ["model.window=chunks", "model.max_windows=4", "model.train_windows=4"]))
