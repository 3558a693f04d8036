"""Experiment tracking without a server: TensorBoard event files and a local MLflow store.

    python -m training.train --config configs/default.yaml --set training.report_to=tensorboard
    tensorboard --logdir runs/<name>/tracking/tensorboard
    python -m training.train --config configs/default.yaml --set training.report_to=tensorboard,mlflow \\
        training.tracking_dir=runs/tracking              # one store shared by many runs, to compare them
    mlflow ui --backend-store-uri sqlite:///runs/tracking/mlflow/mlflow.db

The Trainer's own callbacks log the losses, the evaluation metrics and the settings; this module only
points them at files (under ``tracking/`` in the run folder unless ``training.tracking_dir`` says
otherwise) instead of environment variables, so two runs in one notebook never write to each other's.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from training.config import ConfigError

TRACKERS = {"tensorboard": "tensorboard", "mlflow": "mlflow"}  # tracker: the package it needs
EXPERIMENT = "newsclf"


def tracking_uri(store: Path) -> str:
    """The MLflow tracking URI of a local store folder: a SQLite file (MLflow 3 retired plain-file stores)."""
    return f"sqlite:///{(store / 'mlflow.db').resolve()}"


def trackers(report_to: str) -> list[str]:
    """The trackers named by ``training.report_to`` (``none``, or a comma-separated list).

    >>> trackers("tensorboard, mlflow")
    ['tensorboard', 'mlflow']
    >>> trackers("none")
    []
    """
    names = [name.strip() for name in report_to.split(",") if name.strip()]
    if names == ["none"]:
        return []
    unknown = [name for name in names if name not in TRACKERS]
    if unknown or not names:
        raise ConfigError(
            f"training.report_to: expected none or a comma-separated list of {sorted(TRACKERS)}, got {report_to!r}"
        )
    for name in names:
        if importlib.util.find_spec(TRACKERS[name]) is None:
            raise ConfigError(
                f"training.report_to: {name} needs the {TRACKERS[name]} package: pip install 'newsclf[tracking]'"
            )
    return names


def tracking_callbacks(report_to: str, folder: Path, run_name: str) -> list[TrainerCallback]:
    """Trainer callbacks writing under ``folder``: ``tensorboard/<run_name>``, and ``mlflow/mlflow.db``
    (experiment ``newsclf``; the Trainer names the MLflow run after ``TrainingArguments.run_name``)."""
    callbacks: list[TrainerCallback] = []
    for name in trackers(report_to):
        if name == "tensorboard":
            from torch.utils.tensorboard import SummaryWriter
            from transformers.integrations import TensorBoardCallback

            callbacks.append(TensorBoardCallback(SummaryWriter(log_dir=str(folder / "tensorboard" / run_name))))
        else:
            callbacks.append(_local_mlflow(folder / "mlflow"))
    return callbacks


def _local_mlflow(store: Path) -> TrainerCallback:
    import mlflow
    from transformers.integrations import MLflowCallback

    class LocalMLflowCallback(MLflowCallback):
        """MLflow's Trainer callback, pointed at the local SQLite store before it starts its run."""

        def setup(self, args: Any, state: Any, model: Any) -> None:
            if state.is_world_process_zero:
                store.mkdir(parents=True, exist_ok=True)
                mlflow.set_tracking_uri(tracking_uri(store))
                if mlflow.get_experiment_by_name(EXPERIMENT) is None:
                    # explicit, or MLflow puts artifacts in ./mlruns of whatever folder training ran from
                    mlflow.create_experiment(EXPERIMENT, artifact_location=(store / "artifacts").resolve().as_uri())
                mlflow.set_experiment(EXPERIMENT)
            super().setup(args, state, model)

    return LocalMLflowCallback()
