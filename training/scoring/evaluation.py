"""Scores a saved model on a labelled file: the rows of a file or split a model can be scored on, and each task's
scores for the model's predictions of them. The command line is :mod:`training.evaluate`."""

from __future__ import annotations

import copy
import numbers
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset

from inference.model.folder_layout import TRAINING_CONFIG_FILE
from inference.model.loading import is_baseline_folder
from inference.options import PredictOptions
from inference.paths import refuse_overwriting_inputs
from inference.prediction.predictor import Predictor
from inference.prediction.tfidf import TfidfPredictor
from training.config import Config, ConfigError, load_config
from training.data import (
    DataError,
    join_columns,
    label_ids,
    prepare,
    read_rows,
    seeded_draw,
    split_rows,
    user_columns,
    where,
)
from training.runs.overwrite import dataset_files
from training.scoring.metrics import summarise, task_scores

SAMPLE_SEED = 0  # the draw of ``sample`` rows: the same rows on every call


def check_sample(sample: int | None) -> None:
    """Refuses a ``sample`` of rows that is not a positive whole number (Python's or numpy's)."""
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, numbers.Integral) or sample < 1):
        raise ValueError(f"sample: expected a positive number of rows, got {sample!r}")


def evaluate_folder(
    model: str | Path,
    options: PredictOptions,
    data: str | Path | None = None,
    config_file: str | Path | None = None,
    overrides: list[str] | None = None,
    dataset: str | None = None,
    split: str | None = None,
    unseen_label: str = "error",
    output: str | Path | None = None,
    sample: int | None = None,
) -> dict[str, Any]:
    """:func:`evaluate` for a model folder (a TF-IDF baseline's too) and a file, as ``newsclf-evaluate`` runs it.

    Args:
        model: the model folder.
        options: how to predict (backend, precision, batch size, threads).
        data: the labelled file; None: the config's ``data.train_file``.
        config_file: the config naming the columns and splits; None: the model's own ``training_config.yaml``.
        overrides: ``KEY=VALUE`` changes to that config.
        dataset: with a config of several datasets, the one ``data`` is.
        split: score only this split of the file.
        unseen_label: ``error``, ``drop`` or ``ignore`` rows whose label the model does not know.
        output: where the caller will write the result: refused if it is one of the inputs.
        sample: score a seeded draw of at most this many of the rows (None: all).
    """
    check_sample(sample)  # before the model loads
    refuse_overwriting_inputs([output], [data, config_file, model])
    predictor: Predictor | TfidfPredictor
    if is_baseline_folder(model):
        predictor = TfidfPredictor.from_pretrained(model)
    else:
        predictor = Predictor.from_options(model, options)
    config = dataset_config(load_config(config_file or Path(model) / TRAINING_CONFIG_FILE, overrides), dataset)
    data = data or config.data.train_file
    refuse_overwriting_inputs([output], [data, *dataset_files(config.data)])
    if data is None:
        raise DataError("no labelled file to score: none given, and the config's data.train_file is null")
    return evaluate(predictor, config, data, split, unseen_label, sample)


def evaluate(
    predictor: Predictor | TfidfPredictor,
    config: Config,
    data: str | Path,
    split: str | None = None,
    unseen_label: str = "error",
    sample: int | None = None,
) -> dict[str, Any]:
    """Predicts every row of ``data`` (or of one of its splits, or a seeded draw of ``sample`` of them) and scores
    the model's tasks on it (``config`` is left as it is)."""
    check_sample(sample)
    rows, tasks = labelled_rows(predictor, config, data, split, unseen_label)
    rows = seeded_draw(rows, sample, SAMPLE_SEED)
    per_task = score_rows(predictor, rows, tasks)
    return {"data": str(data), "split": split, "articles": len(rows), "tasks": per_task, "summary": summarise(per_task)}


def labelled_rows(
    predictor: Predictor | TfidfPredictor,
    config: Config,
    data: str | Path,
    split: str | None = None,
    unseen_label: str = "error",
) -> tuple[Dataset, list[str]]:
    """The rows of ``data`` (or of one of its splits) a model is scored on, and the names of the model's tasks whose
    label column the file has; a label the model does not know is an error, drops its row (``unseen_label="drop"``)
    or counts as missing for its task alone (``"ignore"``)."""
    config = copy.deepcopy(config)  # its tasks are narrowed to those scored
    table = join_columns(read_rows(data), config, data)
    config.tasks = [task for task in config.tasks if task.name in predictor.tasks]
    present = [task for task in config.tasks if task.label_column in table.column_names]
    if not present:
        columns = [task.label_column for task in config.tasks]
        raise DataError(
            f"{data}: none of the label columns {columns} is in the file ({', '.join(user_columns(table))})"
        )
    config.tasks = present
    if split:
        parts = split_rows(table, config, data)
        if split not in parts:
            raise DataError(f"{data}: no rows in split {split!r} (found {sorted(parts)})")
        rows = parts[split]
    else:
        rows = prepare(table, config, data)
    dropped: set[int] = set()
    for task in present:
        labels = set(predictor.labels(task.name))
        for index, label in enumerate(rows[f"label_{task.name}"]):
            if label not in labels:
                if unseen_label == "error":
                    raise DataError(
                        f"{where(rows, index)}, column {task.label_column!r}: label {label!r} is not one the model "
                        f"knows ({sorted(labels)}); pass --unseen-label drop to skip such rows, or ignore to leave "
                        "that task's label out"
                    )
                if unseen_label == "drop":
                    dropped.add(index)  # "ignore" keeps the row: its label of this task counts as missing
    rows = rows.select([i for i in range(len(rows)) if i not in dropped]) if dropped else rows
    return rows, [task.name for task in present]


def score_rows(predictor: Predictor | TfidfPredictor, rows: Dataset, tasks: list[str]) -> dict[str, dict[str, Any]]:
    """Each task's scores (:func:`training.scoring.metrics.task_scores`) for the model's predictions of ``rows``."""
    targets = list(rows["target"]) if "target" in rows.column_names else None
    probabilities = predictor.predict_proba(list(rows["text"]), target=targets)
    per_task = {}
    for task in tasks:
        labels = predictor.labels(task)
        truth = label_ids(rows[f"label_{task}"], labels)
        per_task[task] = task_scores(truth, np.asarray(probabilities[task]).argmax(-1), labels)
    return per_task


def dataset_config(config: Config, name: str | None) -> Config:
    """The part of a config of several datasets that describes dataset ``name`` (default: the first)."""
    parts = config.parts()
    if name is None:
        return next(iter(parts.values()))
    if name not in parts:
        raise ConfigError(f"--dataset {name!r}: the config's datasets with tasks are {sorted(parts)}")
    return parts[name]
