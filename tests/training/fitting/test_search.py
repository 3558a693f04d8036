"""Tests for training.search: Optuna trials over a config, each a run scored on validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from testkit.articles import make_rows, write_jsonl

from training.config import ConfigError, load_config
from training.fitting.search import parse_param
from training.search import main

ROOT = Path(__file__).parents[3]


@pytest.fixture()
def tiny_args(tmp_path, tiny_encoder_dir) -> list[str]:
    data = write_jsonl(tmp_path / "articles.jsonl", make_rows())
    overrides = [
        f"data.train_file={data}",
        f"model.name={tiny_encoder_dir}",
        f"run.output_dir={tmp_path / 'runs'}",
        "model.max_length=32",
        "training.epochs=2",
        "training.batch_size=8",
        "training.bf16=false",
        "evaluation.confusion_matrices=false",
    ]
    return ["--config", str(ROOT / "configs" / "default.yaml"), "--study", "s", "--set", *overrides]


def test_each_trial_is_a_run_with_the_suggested_settings_and_the_best_is_named(tmp_path, tiny_args, capsys):
    space = ["--param", "training.learning_rate=log:1e-4:1e-2", "--param", "model.classifier_dropout=choice:0.0,0.3"]
    assert main([*tiny_args, *space, "--trials", "3", "--no-prune"]) == 0
    study = tmp_path / "runs" / "s"
    summary = json.loads((study / "study.json").read_text())
    assert [trial["number"] for trial in summary["trials"]] == [0, 1, 2]
    scores = {}
    for trial in summary["trials"]:
        run_dir = Path(trial["run_dir"])
        assert run_dir == study / f"trial-{trial['number']:03d}"
        used = load_config(run_dir / "config.yaml")
        assert used.training.learning_rate == pytest.approx(trial["params"]["training.learning_rate"])
        assert used.model.classifier_dropout == trial["params"]["model.classifier_dropout"]
        assert 1e-4 <= used.training.learning_rate <= 1e-2
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert "test" not in metrics["splits"], "trials never touch the test split"
        scores[trial["number"]] = metrics["summary"]["validation"]["macro_f1"]
        assert trial["value"] == pytest.approx(scores[trial["number"]])
    assert summary["best"]["value"] == pytest.approx(max(scores.values()))
    assert "best of 3 trials" in capsys.readouterr().out

    # the same command continues the study
    assert main([*tiny_args, *space, "--trials", "1", "--no-prune"]) == 0
    summary = json.loads((study / "study.json").read_text())
    assert [trial["number"] for trial in summary["trials"]] == [0, 1, 2, 3]
    assert (study / "trial-003" / "model" / "model.safetensors").is_file()


def test_pruned_trials_are_recorded_as_pruned(tmp_path, tiny_args):
    # one evaluation per epoch. The 1e-9 runs score as untrained, the 0.003 ones differently, so whichever
    # setting scores lower after the first epoch is stopped once two trials are in; which one that is
    # turns on a tiny model's first epoch (float rounding can flip it), so the test does not name it
    space = ["--param", "training.learning_rate=choice:0.003,0.000000001"]
    assert main([*tiny_args, *space, "--trials", "4"]) == 0
    summary = json.loads((tmp_path / "runs" / "s" / "study.json").read_text())
    states = [trial["state"] for trial in summary["trials"]]
    assert set(states) == {"complete", "pruned"}, states
    best = max(trial["value"] for trial in summary["trials"] if trial["state"] == "complete")
    for trial in summary["trials"]:
        if trial["state"] == "pruned":  # stopped after its first evaluation: no model saved
            assert trial["value"] <= best
            run_dir = tmp_path / "runs" / "s" / f"trial-{trial['number']:03d}"
            assert not (run_dir / "model").exists()
            assert (run_dir / "train.log").is_file()  # kept, though stopped before its first checkpoint


@pytest.mark.parametrize(
    "text",
    [
        "training.learning_rate",
        "training.learning_rate=uniform:1:2",
        "x=log:0:1",
        "x=float:2:1",
        "x=int:1.5:3",
        "x=choice:16",
    ],
)
def test_bad_search_specs_name_the_param(text):
    with pytest.raises(ConfigError, match="--param"):
        parse_param(text)


def test_an_unknown_key_fails_before_any_trial(tmp_path, tiny_args, capsys):
    assert main([*tiny_args, "--param", "training.learning_rat=log:1e-4:1e-2", "--trials", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "learning_rat" in err
    assert not (tmp_path / "runs" / "s" / "trial-000").exists()


@pytest.mark.parametrize(
    ("param", "words"),
    [
        ("training.learning_rate=float:-0.1:0.1", "training.learning_rate: expected a positive number, got -0.1"),
        ("training.batch_size=choice:8,0", "training.batch_size: expected a whole number of at least 1, got 0"),
        ("model.max_length=int:64:4096", "model.max_length: expected at most 128"),
    ],
)
def test_a_value_out_of_range_fails_before_the_study_is_made(tmp_path, tiny_args, capsys, param, words):
    assert main([*tiny_args, "--param", param, "--trials", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_choice_values_keep_their_yaml_types():
    assert parse_param("model.window=choice:head,chunks") == ("model.window", "choice", ["head", "chunks"])
    assert parse_param("training.epochs=choice:1,2.5") == ("training.epochs", "choice", [1, 2.5])
    assert yaml.safe_load("1e-4") == "1e-4"  # why log/float bounds are parsed as numbers, not YAML
