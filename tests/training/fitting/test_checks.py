"""Tests for training.fitting.checks: every number of a config in range, the encoder's length, errors that
name the config file and the key."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path

import pytest
from transformers import RobertaConfig

from inference.model.windowing import STRATEGIES, WINDOW_RULES, WindowConfig
from training.config import Config, ConfigError, ModelConfig, load_config, rule_of
from training.fitting import checks
from training.fitting.checks import check_config, check_ranges, config_fields

ROOT = Path(__file__).parents[3]
DEFAULT_YAML = ROOT / "configs" / "default.yaml"
NUMBER_TYPES = (int, float)


def _number_fields(cls: type) -> list[str]:
    """The fields of a config section annotated int or float (alone or with None)."""
    names = []
    for name, hint in typing.get_type_hints(cls).items():
        args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
        if any(arg in NUMBER_TYPES for arg in args):
            names.append(name)
    return names


def _sections(cls: type) -> set[type]:
    """``cls`` and every config section nested in it (in lists and mappings too)."""
    found = {cls}
    for hint in typing.get_type_hints(cls).values():
        for arg in (hint, *typing.get_args(hint)):
            if dataclasses.is_dataclass(arg) and arg not in found:
                found |= _sections(arg)
    return found


def test_every_number_of_every_section_has_a_rule():
    sections = _sections(Config)
    assert len(sections) >= 8  # Config, run, data, split, join, tasks, model, training, evaluation
    missing = [f"{cls.__name__}.{name}" for cls in sections for name in _number_fields(cls) if not rule_of(cls, name)]
    assert missing == []


def test_the_window_keys_take_their_range_and_default_from_the_window_config():
    """A window range is written once, in inference.model.windowing, and the config's keys use it."""
    assert set(WINDOW_RULES) == {"max_length", "stride", "max_windows", "head_fraction", "max_target_tokens"}
    for name, rule in WINDOW_RULES.items():
        assert rule_of(ModelConfig, name) is rule
        assert getattr(ModelConfig(), name) == getattr(WindowConfig(), name)
    assert typing.get_args(typing.get_type_hints(ModelConfig)["window"]) == STRATEGIES
    assert ModelConfig().window == WindowConfig().strategy
    with pytest.raises(ValueError, match=r"max_length must be a whole number of at least 8, got 7"):
        WindowConfig(max_length=7)


def test_the_shipped_configs_are_in_range(monkeypatch):
    monkeypatch.setenv("NEWSCLF_DATA", "/data")
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        check_ranges(load_config(path))


def test_keys_are_spelt_as_in_overrides_and_other_errors():
    config = load_config(
        None, ["datasets.claims.train_file=x", "tasks=[{name: topic}, {name: stance, dataset: claims}]"]
    )
    keys = {key for key, *_ in config_fields(config)}
    assert {"training.learning_rate", "tasks[1].weight", "datasets.claims.split.test_size", "run.seed"} <= keys


BAD = [
    ("training.learning_rate=-1", "training.learning_rate: expected a positive number, got -1.0"),
    ("training.learning_rate=.inf", "training.learning_rate: expected a positive number, got inf"),
    ("training.epochs=0", "training.epochs: expected a positive number, got 0.0"),
    ("training.max_steps=0", "training.max_steps: expected a whole number of at least 1, or -1 to use epochs, got 0"),
    ("training.batch_size=0", "training.batch_size: expected a whole number of at least 1, got 0"),
    ("training.eval_batch_size=-4", "training.eval_batch_size: expected a whole number of at least 1 (or null: about"),
    ("training.gradient_accumulation=0", "training.gradient_accumulation: expected a whole number of at least 1"),
    ("training.weight_decay=-0.1", "training.weight_decay: expected a number of at least 0, got -0.1"),
    ("training.warmup_ratio=1", "training.warmup_ratio: expected a share of the steps in [0, 1), got 1.0"),
    ("training.warmup_ratio=-0.1", "training.warmup_ratio: expected a share of the steps in [0, 1), got -0.1"),
    ("training.max_grad_norm=-1", "training.max_grad_norm: expected a number of at least 0 (0: no clipping)"),
    ("training.early_stopping_patience=0", "training.early_stopping_patience: expected a whole number of at least 1"),
    ("training.eval_steps=0", "training.eval_steps: expected a whole number of at least 1 (or null: evaluate once"),
    ("training.logging_steps=0", "training.logging_steps: expected a whole number of at least 1, got 0"),
    ("training.save_total_limit=0", "training.save_total_limit: expected a whole number of at least 1, got 0"),
    ("training.num_threads=0", "training.num_threads: expected a whole number of at least 1 (or null: torch's"),
    ("training.dataloader_workers=-1", "training.dataloader_workers: expected a whole number of at least 0, got -1"),
    ("training.sampling_temperature=0", "training.sampling_temperature: expected a positive number, got 0.0"),
    ("model.classifier_dropout=1", "model.classifier_dropout: expected a probability in [0, 1), got 1.0"),
    ("model.attention_dropout=-0.1", "model.attention_dropout: expected a probability in [0, 1), got -0.1"),
    ("model.hidden_dropout=1.5", "model.hidden_dropout: expected a probability in [0, 1), got 1.5"),
    ("model.max_length=4", "model.max_length: expected a whole number of at least 8, got 4"),
    ("model.stride=-1", "model.stride: expected a whole number of at least 0, got -1"),
    ("model.max_windows=0", "model.max_windows: expected a whole number of at least 1, got 0"),
    ("model.head_fraction=1.5", "model.head_fraction: expected a share in [0, 1], got 1.5"),
    ("model.max_target_tokens=0", "model.max_target_tokens: expected a whole number of at least 1, got 0"),
    ("tasks.0.weight=0", "tasks[0].weight: expected a positive number, got 0.0"),
    ("tasks.0.reversal=0", "tasks[0].reversal: expected a positive number, got 0.0"),
    ("model.train_windows=-1", "model.train_windows: expected a whole number of at least 0, got -1"),
    ("training.label_smoothing=1", "training.label_smoothing: expected a share in [0, 1), got 1.0"),
    ("run.seed=-1", "run.seed: expected a whole number in [0, 2**32), got -1"),
    ("data.split.validation_size=1", "data.split.validation_size: expected a share in [0, 1), got 1.0"),
    ("data.split.test_size=-0.2", "data.split.test_size: expected a share in [0, 1), got -0.2"),
    ("data.max_train_samples=0", "data.max_train_samples: expected a whole number of at least 1 (or null: every"),
    ("data.max_eval_samples=-5", "data.max_eval_samples: expected a whole number of at least 1 (or null: every"),
]


@pytest.mark.parametrize(("override", "message"), BAD, ids=[override for override, _ in BAD])
def test_a_number_out_of_range_is_named_with_the_config_file(override, message):
    config = load_config(DEFAULT_YAML, [override])
    with pytest.raises(ConfigError) as error:
        check_config(config)
    assert str(error.value).startswith(f"{DEFAULT_YAML}: {message}")


def test_a_dataset_entry_is_checked_like_data():
    config = load_config(
        None,
        [
            "datasets.claims.train_file=x",
            "tasks=[{name: topic}, {name: stance, dataset: claims}]",
            "datasets.claims.max_train_samples=0",
        ],
    )
    with pytest.raises(ConfigError, match=r"^datasets\.claims\.max_train_samples: expected a whole number"):
        check_ranges(config)


def test_split_shares_must_leave_training_rows():
    with pytest.raises(ConfigError, match=r"data\.split: validation_size \+ test_size must be below 1.*0\.5 \+ 0\.5"):
        check_ranges(
            load_config(None, ["data.split.validation_size=0.5", "data.split.test_size=0.5", "data.split.column=null"])
        )
    check_ranges(
        load_config(None, ["data.split.validation_size=0.5", "data.split.test_size=0.5", "data.split.column=s"])
    )


@pytest.mark.parametrize(
    "overrides",
    [
        ["training.warmup_ratio=0", "training.max_steps=-1", "training.max_grad_norm=0", "model.stride=0"],
        ["model.classifier_dropout=0", "model.attention_dropout=null", "model.head_fraction=1"],
        ["training.early_stopping_patience=null", "training.eval_steps=null", "training.num_threads=null"],
        ["run.seed=0", "data.max_train_samples=1", "tasks.0.weight=0.01", "training.max_steps=1"],
    ],
)
def test_edge_values_in_range_pass(overrides):
    check_ranges(load_config(None, overrides))


def test_a_config_without_a_file_is_not_prefixed():
    with pytest.raises(ConfigError) as error:
        check_config(load_config(None, ["training.batch_size=0"]))
    assert str(error.value).startswith("training.batch_size: expected")


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


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.train_windows=1"], "model.train_windows: draws windows of model.window=chunks, but the window is"),
        (
            ["model.window=chunks", "model.max_windows=2", "model.train_windows=3"],
            "model.train_windows: expected at most model.max_windows (2), got 3",
        ),
        (["tasks=[{name: outlet, kind: adversarial}]"], "tasks: adversarial tasks only shape what the others learn"),
        (
            ["training.fuse_tfidf=true", "datasets.claims.train_file=x", "tasks.1={name: stance, dataset: claims}"],
            "training.fuse_tfidf: the TF-IDF model is fitted on one dataset",
        ),
        (["training.tfidf_share=0.5"], "training.tfidf_share: set, but training.fuse_tfidf is false"),
    ],
)
def test_settings_read_together_are_refused_with_their_keys(overrides, message):
    with pytest.raises(ConfigError) as error:
        check_config(load_config(None, overrides))
    assert str(error.value).startswith(message)


def test_an_adversarial_task_may_sit_beside_single_tasks():
    check_config(load_config(None, ["tasks.1={name: outlet, label_column: source, kind: adversarial}"]))
    check_config(load_config(None, ["model.window=chunks", "model.max_windows=4", "model.train_windows=4"]))
