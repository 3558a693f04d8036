"""Training from Python, for notebooks: :func:`fit` takes data in memory or in files and returns the model.

    from training import fit
    model = fit(df, tasks=["topic", "leaning"], settings={"training.epochs": 1})
    model.predict("Senate passes the budget")["topic"]["label"]
    model.metrics["validation"]["topic"]["accuracy"]

``fit`` runs :func:`training.fitting.recipe.train`, the code behind ``newsclf-train``, on a config built from ``config``
and ``settings`` (checked as ``--set`` overrides are). Data in memory is written to temporary files, so the
checks and loaders of :mod:`training.data` apply, and their errors name the data as it was passed ("the train
DataFrame, row 3"). Nothing of the caller's is changed: not the objects passed, not the working folder, not
``runs/latest``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
import weakref
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import datasets
import numpy as np
import pandas as pd
import pyarrow as pa

from inference.model.folder_layout import CONFIG_FILE, METRICS_FILE, TRAINING_CONFIG_FILE
from inference.model.loading import check_model_folder, is_baseline_folder, verify_checksums
from inference.model.windowing import Article
from inference.prediction.predictor import Predictor
from inference.prediction.results import as_batch
from inference.prediction.tfidf import TfidfPredictor
from training.config import Config, ConfigError, load_config, with_settings
from training.data import DataError, quiet_datasets, read_table
from training.fitting.recipe import train as train_run
from training.runs.folders import CHECKPOINTS
from training.runs.logs import logging_restored
from training.scoring.evaluation import dataset_config
from training.scoring.evaluation import evaluate as evaluate_file

Data: TypeAlias = str | os.PathLike | pd.DataFrame | datasets.Dataset | Sequence[Mapping[str, Any]]
"""Training data: a file training reads (CSV, TSV, JSON, JSONL, Parquet), a DataFrame, a Dataset or a list of dicts."""


def fit(
    train: Data | None,
    validation: Data | None = None,
    test: Data | None = None,
    *,
    tasks: Sequence[str | Mapping[str, Any]],
    config: str | Path | Config | None = None,
    settings: Mapping[str, Any] | None = None,
    output_dir: str | Path | None = None,
    name: str | None = None,
    verbose: bool = False,
) -> TrainedModel:
    """Trains a model on ``train`` and returns it.

    Args:
        train: the training articles, with the text fields (``title``, ``content``) and a column per label; None
            with ``settings={"training.mode": "zero-shot"}`` (heads from each task's ``descriptions``).
        validation: articles that pick the best epoch and are scored; None: a seeded share of ``train`` (the
            config's ``data.split``; a split column the config names is used when ``train`` has it).
        test: articles scored once at the end (``evaluation.test``).
        tasks: one entry per head: a label column (a task named after it) or a mapping of task keys, e.g.
            ``{"name": "stance", "label_column": "stance", "kind": "pair", "target_column": "claim"}``.
        config: a YAML file or a :class:`~training.config.Config` to start from; None: the package's defaults
            (as ``load_config()``; ``configs/default.yaml`` is a file of the repository, pass it to use it).
        settings: dotted keys and values, e.g. ``{"training.epochs": 1}``, as ``newsclf-train --set``.
        output_dir: where the run folder goes; None: a new temporary folder without the checkpoints, removed
            with the returned model (when nothing refers to it any more, or at exit): ``save()`` keeps a copy.
        name: the run folder's name; None: ``<config name>-<time>``.
        verbose: log and print as ``newsclf-train`` does; otherwise only progress bars show.

    Raises:
        ConfigError, DataError: before any training, naming the key, or the data, row and column.
    """
    if settings is not None and not isinstance(settings, Mapping):
        raise ConfigError(
            f"settings: expected a mapping of dotted keys to values, e.g. {{'training.epochs': 1}}, got {settings!r}"
        )
    settings = dict(settings or {})
    base, base_dir = _base_config(config)
    run_config = with_settings(base, {"tasks": task_entries(tasks), **settings}, base_dir)
    folder = output_dir or settings.get("run.output_dir")
    made = folder is None
    folder = Path(tempfile.mkdtemp(prefix="newsclf-runs-") if folder is None else folder)
    try:
        with data_files({"train": train, "validation": validation, "test": test}) as files, logging_restored():
            run_config = _with_run_files(run_config, files, settings, folder, name)
            run_dir = train_run(run_config, update_latest=False, quiet=not verbose)
    except BaseException:
        if made:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    if not made:
        return TrainedModel(run_dir / "model", run_dir)
    shutil.rmtree(run_dir / CHECKPOINTS, ignore_errors=True)  # hundreds of MB no one would resume from
    model = TrainedModel(run_dir / "model", run_dir)
    # the folder nobody asked for goes with the model (or at exit, whichever comes first)
    weakref.finalize(model, shutil.rmtree, folder, ignore_errors=True)
    return model


def _base_config(config: str | Path | Config | None) -> tuple[Config, Path | None]:
    """The config to start from, and the folder its tasks' ``label_map_file`` paths are relative to."""
    if config is None or isinstance(config, Config):
        return config or load_config(), None
    if isinstance(config, (str, os.PathLike)):
        return load_config(config), Path(config).parent
    raise ConfigError(f"config: expected a YAML file or a training.config.Config, got {type(config).__name__}")


def task_entries(tasks: Sequence[str | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The config's ``tasks`` for :func:`fit`'s ``tasks``: a column name is a single task named after it, and a
    mapping missing ``name`` or ``label_column`` takes one from the other."""
    if isinstance(tasks, (str, Mapping)) or not isinstance(tasks, Sequence):
        raise ConfigError(f"tasks: expected a list of label columns or task mappings, e.g. ['topic'], got {tasks!r}")
    entries = []
    for index, task in enumerate(tasks):
        if isinstance(task, str):
            entries.append({"name": task, "label_column": task})
        elif isinstance(task, Mapping) and ("name" in task or "label_column" in task):
            entry = dict(task)
            entry.setdefault("name", entry.get("label_column"))
            entry.setdefault("label_column", entry["name"])
            entries.append(entry)
        else:
            raise ConfigError(
                f"tasks[{index}]: expected a label column or a mapping with a name and/or label_column, got {task!r}"
            )
    return entries


def _with_run_files(
    config: Config, files: dict[str, str | None], settings: Mapping[str, Any], folder: Path, name: str | None
) -> Config:
    """``config`` given the data files, the run folder and, for a seeded validation draw from data that names no
    split, no split column."""
    split = config.data.split
    drawn = files["validation"] is None and not split.file and split.column and "data.split.column" not in settings
    if drawn and files["train"] is not None and split.column not in read_table(files["train"]).column_names:
        split = dataclasses.replace(split, column=None)  # the data names no split: draw validation_size of it
    data = dataclasses.replace(
        config.data,
        train_file=files["train"],
        validation_file=files["validation"],
        test_file=files["test"],
        split=split,
    )
    run = dataclasses.replace(config.run, output_dir=str(folder), name=config.run.name if name is None else name)
    return dataclasses.replace(config, data=data, run=run)


@contextlib.contextmanager
def data_files(inputs: Mapping[str, Data | None]) -> Iterator[dict[str, str | None]]:
    """Each input as a file to read: a path as it is, data in memory written to a temporary folder removed on
    leaving. A :class:`DataError` or :class:`ConfigError` raised inside names such data as it was passed."""
    with tempfile.TemporaryDirectory(prefix="newsclf-data-") as folder:
        files, names = {}, {}
        for role, data in inputs.items():
            file, label = as_file(data, role, Path(folder))
            files[role] = file
            if file is not None and label:  # as_file names data in memory only, and always gives its file
                names[file] = label
        try:
            yield files
        except (ConfigError, DataError) as error:
            message = str(error)
            for file, label in names.items():
                message = message.replace(file, label)
            if message == str(error):
                raise
            raise type(error)(message) from None


def as_file(data: Data | None, role: str, folder: Path) -> tuple[str | None, str | None]:
    """The file that holds ``data`` and, for data in memory (written into ``folder``), how messages name it."""
    if data is None or isinstance(data, (str, os.PathLike)):
        return (None if data is None else os.fspath(data)), None
    if isinstance(data, (pd.DataFrame, datasets.Dataset)):
        kind = type(data).__name__
    elif isinstance(data, Sequence) and not isinstance(data, bytes):
        kind = "list"
    else:
        raise DataError(
            f"{role}: expected a file path, a pandas DataFrame, a datasets.Dataset or a list of dicts, "
            f"got {type(data).__name__}"
        )
    label = f"the {role} {kind}"
    if len(data) == 0:
        raise DataError(f"{label}: no rows")
    if kind == "list":
        return _write_rows(data, folder / f"{role}-list.jsonl", label), label
    try:
        table: datasets.Dataset = (
            data if kind == "Dataset" else datasets.Dataset.from_pandas(data, preserve_index=False)
        )
        with quiet_datasets():
            table.to_parquet(folder / f"{role}-{kind}.parquet")
    except (ValueError, TypeError, pa.ArrowException) as error:
        raise DataError(f"{label}: cannot be stored as a table: {' '.join(str(error).split())}") from None
    return str(folder / f"{role}-{kind}.parquet"), label


def _write_rows(rows: Sequence[Any], file: Path, label: str) -> str:
    """Writes dicts as JSON lines (every key of every row becomes a column)."""
    with file.open("w", encoding="utf-8") as out:
        for index, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise DataError(f"{label}, row {index + 1}: expected a dict of column values, got {type(row).__name__}")
            try:
                out.write(json.dumps(dict(row), ensure_ascii=False, default=_json_value) + "\n")
            except (TypeError, ValueError) as error:
                raise DataError(f"{label}, row {index + 1}: {error}") from None
    return str(file)


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):  # a NumPy number or string
        return value.item()
    raise TypeError(f"a {type(value).__name__} value cannot be stored; use text, numbers, lists or dicts")


class TrainedModel:
    """A trained model: :func:`fit` returns one, :meth:`from_pretrained` loads one (a fine-tuned or a TF-IDF model
    folder, or the run folder around one), :meth:`save_pretrained` writes one. It predicts as
    :class:`inference.Predictor` does and holds the scores of the run that made it.

    Attributes:
        path: the model folder (``config.json`` or ``baseline.json``, the weights, ``metrics.json``, ...), which
            ``Predictor.from_pretrained`` loads too.
        run_dir: the run folder around it (``config.yaml``, ``train.log``, ``reports/``), where there is one.
        metrics: scores per split and task (``metrics.json``'s ``splits``; empty for a folder without one), e.g.
            ``metrics["validation"]["topic"]["accuracy"]``.
    """

    def __init__(self, path: str | Path, run_dir: str | Path | None = None) -> None:
        self.path = Path(path)
        self.run_dir = None if run_dir is None else Path(run_dir)
        metrics = self.path / METRICS_FILE
        self.metrics: dict[str, dict[str, dict[str, Any]]] = (
            json.loads(metrics.read_text(encoding="utf-8"))["splits"] if metrics.is_file() else {}
        )
        self._predictor: Predictor | TfidfPredictor | None = None

    @classmethod
    def from_pretrained(cls, path: str | Path) -> TrainedModel:
        """Loads a model folder, or a run folder (which holds one in ``model/``), after checking its files against
        its manifest; the weights themselves are read on the first prediction.

        Raises:
            ModelFolderError: not a model folder, or a file changed since it was saved.
        """
        path = Path(path)
        holds_model = (path / CONFIG_FILE).is_file() or is_baseline_folder(path)
        run_dir = path if not holds_model and (path / "model").is_dir() else None
        folder = path / "model" if run_dir else path
        if is_baseline_folder(folder):
            verify_checksums(folder)
        else:
            check_model_folder(folder)
        return cls(folder, run_dir)

    def save_pretrained(self, path: str | Path) -> Path:
        """Writes the model folder to ``path``, a folder that does not exist yet, and returns it; the copy loads
        with :meth:`from_pretrained` or ``Predictor.from_pretrained`` alone."""
        path = Path(path)
        if path.exists():
            raise FileExistsError(f"{path}: already exists; save_pretrained writes a new folder and replaces nothing")
        return Path(shutil.copytree(self.path, path))

    @property
    def predictor(self) -> Predictor | TfidfPredictor:
        """The saved model, loaded on first use in exact fp32 torch (as the run scored it); a TF-IDF folder's
        :class:`~inference.prediction.tfidf.TfidfPredictor`."""
        if self._predictor is None:
            self._predictor = Predictor.from_pretrained(self.path, backend="torch", precision="fp32")
        return self._predictor

    @property
    def tasks(self) -> list[str]:
        return self.predictor.tasks

    def labels(self, task: str) -> list[str]:
        return self.predictor.labels(task)

    def predict(
        self, articles: Article | Sequence[Article], target: str | Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]] | list[dict[str, dict[str, Any]]]:
        """As :meth:`inference.Predictor.predict`."""
        return self.predictor.predict(articles, target)

    def predict_proba(
        self, articles: Article | Sequence[Article], target: str | Sequence[str] | None = None
    ) -> dict[str, np.ndarray]:
        """As :meth:`inference.Predictor.predict_proba`."""
        return self.predictor.predict_proba(articles, target)

    def evaluate(self, data: Data, *, split: str | None = None, unseen_label: str = "error") -> dict[str, Any]:
        """Scores labelled ``data`` (or one split of it, split as in training) as ``newsclf-evaluate`` does:
        per task, accuracy, macro-F1, weighted F1, per-class scores and the confusion matrix."""
        config = dataset_config(load_config(self.path / TRAINING_CONFIG_FILE), None)
        with data_files({"evaluation": data}) as files:
            file = files["evaluation"]
            assert file is not None  # as_file gives every data but None a file
            return evaluate_file(self.predictor, config, file, split, unseen_label)["tasks"]

    def suggest(
        self,
        pool: str | os.PathLike | pd.DataFrame | datasets.Dataset | Iterable[Article],
        n: int = 50,
        task: str | None = None,
        *,
        exclude: Collection[str] = (),
        cache: str | Path = "runs/feature-cache",
    ) -> list[dict[str, Any]]:
        """The ``n`` articles of ``pool`` to label next for ``task`` (None: the first), none whose ``id`` is in
        ``exclude``, as ``newsclf-suggest`` chooses them: each article's fields, the task's column to fill in, and
        ``suggested_label``, ``suggested_score`` and ``suggested_margin``, most uncertain first
        (:mod:`training.labelling.suggest`)."""
        from training.labelling.pool import pool_articles
        from training.labelling.suggest import rows_to_label

        if isinstance(pool, (str, os.PathLike)):
            articles: list[Any] = pool_articles(pool)
        else:
            single, articles = as_batch(pool)  # a DataFrame's rows without their empty cells, a Dataset's, a list
            if single:
                raise ValueError(
                    f"pool: expected a file, a DataFrame, a Dataset or a list of articles, got {type(pool).__name__}"
                )
        excluded = {exclude} if isinstance(exclude, str) else set(map(str, exclude))  # one id, not its letters
        skip = [i for i, row in enumerate(articles) if isinstance(row, Mapping) and str(row.get("id")) in excluded]
        predictor = self.predictor
        if not isinstance(predictor, Predictor):
            raise ValueError("suggest needs a model written by newsclf-train (it reads the model's article vectors)")
        return rows_to_label(predictor, articles, n, task, cache, skip=skip)

    def __repr__(self) -> str:
        scores = self.metrics.get("validation", {})
        accuracy = ", ".join(f"{task} {s['accuracy']:.3f}" for task, s in scores.items()) or "no validation split"
        return f"TrainedModel({str(self.path)!r}; validation accuracy: {accuracy})"
