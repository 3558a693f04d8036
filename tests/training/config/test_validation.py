"""Tests for training.config.validation: every number of a config in range, the settings read together, refused as
the config is built (file, overrides) with errors that name the file and the key; a config changed in code is
checked again before a run."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path

import pytest

from inference.model.windowing import STRATEGIES, WINDOW_RULES, WindowConfig
from training.config import Config, ConfigError, ModelConfig, load_config, rule_of, validate_config
from training.config.validation import check_ranges, config_fields
from training.fitting.checks import check_config

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
        check_ranges(load_config(path))  # load_config validates too; this names the rule that is meant


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
def test_a_number_out_of_range_is_refused_as_the_config_is_read_naming_the_file(override, message):
    with pytest.raises(ConfigError) as error:
        load_config(DEFAULT_YAML, [override])
    assert str(error.value).startswith(f"{DEFAULT_YAML} (with --set overrides): {message}")


def test_a_config_made_in_code_is_checked_again_before_a_run():
    """Building a config validates it; one changed in code (dataclasses.replace) is caught by check_config."""
    config = load_config(DEFAULT_YAML)
    changed = dataclasses.replace(config, training=dataclasses.replace(config.training, learning_rate=-1.0))
    with pytest.raises(ConfigError) as error:
        check_config(changed)
    assert str(error.value).startswith(f"{DEFAULT_YAML}: training.learning_rate: expected a positive number")
    with pytest.raises(ConfigError, match=r"^training\.learning_rate: expected a positive number"):
        validate_config(changed)


def test_a_dataset_entry_is_checked_like_data():
    overrides = [
        "datasets.claims.train_file=x",
        "tasks=[{name: topic}, {name: stance, dataset: claims}]",
        "datasets.claims.max_train_samples=0",
    ]
    with pytest.raises(ConfigError, match=r"^datasets\.claims\.max_train_samples: expected a whole number"):
        load_config(None, overrides)


def test_split_shares_must_leave_training_rows():
    with pytest.raises(ConfigError, match=r"data\.split: validation_size \+ test_size must be below 1.*0\.5 \+ 0\.5"):
        load_config(None, ["data.split.validation_size=0.5", "data.split.test_size=0.5", "data.split.column=null"])
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
        load_config(None, ["training.batch_size=0"])
    assert str(error.value).startswith("training.batch_size: expected")


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
        load_config(None, overrides)
    assert str(error.value).startswith(message)


def test_the_window_keys_travel_as_one_checked_window_config():
    config = load_config(None, ["model.window=chunks", "model.max_length=64", "model.stride=8", "model.max_windows=3"])
    assert config.model.windowing == WindowConfig(strategy="chunks", max_length=64, stride=8, max_windows=3)
    refused = r"^model: stride must be in \[0, max_length/2\), got 32 \(keys model\.window"
    with pytest.raises(ConfigError, match=refused):
        load_config(None, ["model.window=chunks", "model.max_length=64", "model.stride=32"])


def test_validate_config_refuses_what_is_not_a_config():
    with pytest.raises(TypeError, match=r"validate_config takes a Config .*got dict"):
        validate_config({"training": {"epochs": 1}})
