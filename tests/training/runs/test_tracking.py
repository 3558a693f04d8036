"""Tests for training.runs.tracking: TensorBoard and MLflow files written into the run, from the config."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from testkit.tiny import tiny_config

from training.config import ConfigError
from training.fitting.recipe import train
from training.runs.tracking import trackers, tracking_uri


def _tensorboard_scalars(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {tag: [(event.step, event.value) for event in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def _mlflow_runs(store):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri(store))
    experiment = client.get_experiment_by_name("newsclf")
    return client, client.search_runs([experiment.experiment_id])


def test_tensorboard_and_mlflow_record_the_runs_numbers_inside_the_run_folder(tmp_path, tiny_encoder_dir):
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, ["training.report_to=tensorboard,mlflow"]))
    history = json.loads((run_dir / "log_history.json").read_text())
    evaluations = [entry for entry in history if "eval_topic_accuracy" in entry]
    assert len(evaluations) == 2

    scalars = _tensorboard_scalars(run_dir / "tracking" / "tensorboard" / "tiny")
    assert [round(value, 5) for _, value in scalars["eval/topic_accuracy"]] == [
        round(entry["eval_topic_accuracy"], 5) for entry in evaluations
    ]
    assert "train/loss" in scalars

    client, runs = _mlflow_runs(run_dir / "tracking" / "mlflow")
    assert len(runs) == 1
    run = runs[0]
    assert run.info.run_name == "tiny" and run.info.status == "FINISHED"
    recorded = [metric.value for metric in client.get_metric_history(run.info.run_id, "eval_leaning_macro_f1")]
    assert recorded == pytest.approx([entry["eval_leaning_macro_f1"] for entry in evaluations])
    assert run.data.params["learning_rate"] == "0.001"


def test_a_shared_tracking_folder_holds_each_run_once(tmp_path, tiny_encoder_dir):
    shared = tmp_path / "tracking"
    for name in ("first", "second"):
        train(
            tiny_config(
                tmp_path,
                tiny_encoder_dir,
                [
                    "training.report_to=mlflow",
                    f"training.tracking_dir={shared}",
                    f"run.name={name}",
                    "training.epochs=1",
                ],
            )
        )
    _, runs = _mlflow_runs(shared / "mlflow")
    assert sorted(run.info.run_name for run in runs) == ["first", "second"]
    assert not (tmp_path / "runs" / "first" / "tracking").exists()


def test_no_tracking_by_default_and_no_tracking_files(tmp_path, tiny_encoder_dir):
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, ["training.epochs=1"]))
    assert not (run_dir / "tracking").exists()
    assert not (tmp_path / "mlruns").exists() and not Path("mlruns").exists()


@pytest.mark.parametrize("value", ["wandb", "tensorboard,wandb", "", "none,mlflow"])
def test_unknown_trackers_are_refused_with_the_key(value):
    with pytest.raises(ConfigError, match=r"training\.report_to: expected none or"):
        trackers(value)


def test_a_missing_tracking_package_is_named(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mlflow" else real(name, *a))
    with pytest.raises(ConfigError, match=r"mlflow needs the mlflow package: pip install 'newsclf\[tracking\]'"):
        trackers("tensorboard,mlflow")
