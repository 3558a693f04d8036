"""Optuna trials over a config, each a full run scored on validation; the command line is
:mod:`training.search`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from transformers import TrainerCallback

from inference.atomic import write_json
from inference.model.folder_layout import METRICS_FILE
from training.config import Config, ConfigError, load_config
from training.fitting.checks import check_config
from training.fitting.recipe import train

KINDS = ("log", "float", "int", "choice")


def parse_param(text: str) -> tuple[str, str, list[Any]]:
    """``KEY=KIND:...`` as ``(key, kind, values)``.

    >>> parse_param("training.learning_rate=log:1e-5:1e-3")
    ('training.learning_rate', 'log', [1e-05, 0.001])
    >>> parse_param("training.batch_size=choice:16,32")
    ('training.batch_size', 'choice', [16, 32])
    """
    key, _, spec = text.partition("=")
    kind, _, rest = spec.partition(":")
    where = f"--param {text!r}"
    if not key or kind not in KINDS or not rest:
        raise ConfigError(f"{where}: expected KEY=log:LOW:HIGH, float:LOW:HIGH, int:LOW:HIGH or choice:A,B,...")
    if kind == "choice":
        values = [yaml.safe_load(value) for value in rest.split(",")]
        if len(values) < 2:
            raise ConfigError(f"{where}: a choice needs at least two values")
        return key, kind, values
    try:
        low, high = (int(part) if kind == "int" else float(part) for part in rest.split(":"))
    except ValueError:
        raise ConfigError(f"{where}: expected two {'whole ' if kind == 'int' else ''}numbers LOW:HIGH") from None
    if not low < high or (kind == "log" and low <= 0):
        raise ConfigError(f"{where}: expected LOW < HIGH{' and LOW > 0 on a log scale' if kind == 'log' else ''}")
    return key, kind, [low, high]


def suggest(trial: Any, key: str, kind: str, values: list[Any]) -> Any:
    if kind == "choice":
        return trial.suggest_categorical(key, values)
    if kind == "int":
        return trial.suggest_int(key, *values)
    return trial.suggest_float(key, *values, log=kind == "log")


class ReportToTrial(TrainerCallback):
    """Passes each validation score to the Optuna trial and stops the run when Optuna prunes it."""

    def __init__(self, trial: Any, metric: str) -> None:
        self.trial = trial
        self.metric = metric

    def on_evaluate(self, args: Any, state: Any, control: Any, metrics: dict[str, float] | None = None, **kw: Any):
        import optuna

        value = (metrics or {}).get(f"eval_{self.metric}")
        if value is None:
            return
        self.trial.report(value, step=state.global_step)
        if self.trial.should_prune():
            pruned = optuna.TrialPruned(f"{self.metric} {value:.4f} at step {state.global_step}")
            pruned.keeps_run_folder = True  # its log and tracking files show why; train() keeps them
            raise pruned


def search(
    config_path: str, params: list[str], trials: int, study: str, overrides: list[str], prune: bool = True
) -> dict[str, Any]:
    """Runs ``trials`` more trials of the study and returns its summary (also written to ``study.json``)."""
    try:
        import optuna
    except ImportError:
        raise ConfigError("newsclf-search needs Optuna: pip install 'newsclf[search]'") from None
    space = [parse_param(param) for param in params]
    if not space:
        raise ConfigError("no --param to search: give at least one, e.g. training.learning_rate=log:1e-5:1e-3")
    base = load_config(config_path, overrides)
    metric = base.training.metric
    if metric.endswith("loss"):
        raise ConfigError(f"training.metric {metric!r}: the search maximises a validation score; choose e.g. macro_f1")
    for key, _, values in space:  # a bad key, type or range fails now, before the study's folder, not in trial 5
        for value in values:  # every choice, or both ends of a range
            check_config(load_config(config_path, [*overrides, setting(key, value)]))
    folder = Path(base.run.output_dir) / study
    folder.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{(folder / 'optuna.db').resolve()}"
    sampler = optuna.samplers.TPESampler(seed=base.run.seed)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2) if prune else optuna.pruners.NopPruner()
    runs = optuna.create_study(
        study_name=study, storage=storage, direction="maximize", sampler=sampler, pruner=pruner, load_if_exists=True
    )

    def objective(trial: Any) -> float:
        chosen = {key: suggest(trial, key, kind, values) for key, kind, values in space}
        config = trial_config(config_path, overrides, chosen, folder, trial.number)
        run_dir = train(config, extra_callbacks=[ReportToTrial(trial, metric)])
        trial.set_user_attr("run_dir", str(run_dir))
        return load_validation_score(run_dir, metric)

    runs.optimize(objective, n_trials=trials, catch=())
    summary = summarise_study(runs, metric)
    write_json(folder / "study.json", summary)
    return summary


def setting(key: str, value: Any) -> str:
    """The ``--set`` override giving ``key`` the (YAML) ``value``."""
    return f"{key}={yaml.safe_dump(value, default_flow_style=True).strip()}"


def trial_config(config_path: str, overrides: list[str], chosen: dict[str, Any], folder: Path, number: int) -> Config:
    settings = [setting(key, value) for key, value in chosen.items()]
    fixed = [
        f"run.output_dir={folder}",
        f"run.name=trial-{number:03d}",
        "evaluation.test=false",
        "evaluation.example=false",
    ]
    return load_config(config_path, [*overrides, *settings, *fixed])


def load_validation_score(run_dir: Path, metric: str) -> float:
    metrics = json.loads((run_dir / METRICS_FILE).read_text(encoding="utf-8"))
    try:
        return float(metrics["summary"]["validation"][metric])
    except KeyError:
        raise ConfigError(
            f"{run_dir}: no validation {metric} to compare trials by (is there a validation split?)"
        ) from None


def summarise_study(runs: Any, metric: str) -> dict[str, Any]:
    import optuna

    done = [t for t in runs.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(done, key=lambda t: t.value) if done else None
    return {
        "study": runs.study_name,
        "metric": f"validation {metric}",
        "best": None if best is None else _trial_record(best),
        "trials": [_trial_record(t) for t in runs.trials],
    }


def _trial_record(trial: Any) -> dict[str, Any]:
    return {
        "number": trial.number,
        "state": trial.state.name.lower(),
        "value": trial.value,
        "params": trial.params,
        "run_dir": trial.user_attrs.get("run_dir"),
    }
