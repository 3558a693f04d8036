"""Scores a saved model on any labelled file.

    python -m training.evaluate --model runs/latest/model --data data/sample/articles.jsonl
    python -m training.evaluate --model runs/latest/model --data articles.jsonl.gz \\
        --config configs/allsides.yaml --split test --output test_metrics.json
    newsclf-evaluate --model DIR --data FILE --json

Columns and label maps come from ``--config`` or, by default, from the model's own
``training_config.yaml``; for a model trained on several datasets, ``--dataset NAME`` picks the one
whose columns, join and splits the file follows (default: the config's ``data``). Every task whose
label column the file has is scored: accuracy,
macro-F1, weighted F1, per-class precision/recall/F1 and the confusion matrix. A readable table
goes to standard output; the JSON goes to ``--output`` (written atomically) or, with ``--json``,
to standard output instead of the table.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset

from inference.model.loading import ModelFolderError
from inference.options import add_predictor_arguments, options_from_args
from inference.paths import refuse_overwriting_inputs
from inference.prediction.predictor import Predictor

from .baseline import TfidfPredictor, is_baseline_folder
from .config import Config, ConfigError, load_config
from .data import DataError, join_columns, label_ids, prepare, read_rows, split_rows, user_columns, where
from .metrics import format_report, summarise, task_scores
from .overwrite import dataset_files
from .saving import write_json_atomic


def evaluate(
    predictor: Predictor | TfidfPredictor,
    config: Config,
    data: str | Path,
    split: str | None = None,
    unseen_label: str = "error",
) -> dict[str, Any]:
    """Predicts every row of ``data`` (or of one of its splits) and scores the model's tasks on it (``config`` is
    left as it is)."""
    rows, tasks = labelled_rows(predictor, config, data, split, unseen_label)
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
    """Each task's scores (:func:`training.metrics.task_scores`) for the model's predictions of ``rows``."""
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsclf-evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model folder written by newsclf-train")
    parser.add_argument(
        "--data", help="labelled CSV/TSV/JSON/JSONL(.gz)/Parquet file (default: the config's train_file)"
    )
    parser.add_argument("--config", help="config naming the columns and splits (default: the model's own)")
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[], metavar="KEY=VALUE")
    parser.add_argument("--dataset", help="with a config of several datasets: the one the file is (default: data)")
    parser.add_argument("--split", choices=["train", "validation", "test"], help="score only this split of the file")
    parser.add_argument(
        "--unseen-label",
        choices=["error", "drop", "ignore"],
        default="error",
        help="rows whose label the model does not know: error (default) | drop the row | ignore (keep the row; that "
        "task's label counts as missing), as data.unseen_label in a config",
    )
    parser.add_argument("--output", help="write the JSON metrics to this file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    add_predictor_arguments(parser, backend="torch", precision="fp32")  # exact scores unless asked otherwise
    args = parser.parse_args(argv)
    try:
        refuse_overwriting_inputs([args.output], [args.data, args.config, args.model])
        if is_baseline_folder(args.model):
            predictor = TfidfPredictor.from_pretrained(args.model)
        else:
            predictor = Predictor.from_options(args.model, options_from_args(args))
        config = dataset_config(
            load_config(args.config or Path(args.model) / "training_config.yaml", args.overrides), args.dataset
        )
        data = args.data or config.data.train_file
        refuse_overwriting_inputs([args.output], [data, *dataset_files(config.data)])
        result = evaluate(predictor, config, data, args.split, args.unseen_label)
    except (ConfigError, DataError, ModelFolderError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.output:
        write_json_atomic(args.output, result)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        header = f"{result['data']}" + (f" [{args.split}]" if args.split else "") + f": {result['articles']} articles"
        print(header + "\n\n" + "\n\n".join(format_report(task, s) for task, s in result["tasks"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
