"""All of a config's data at once, for one dataset or several on one encoder."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import datasets

from inference.model.windowing import TARGET_FIELD
from training.config import Config, check_article_fields
from training.data.labels import check_eval_labels, fit_labels
from training.data.splits import SPLITS, load_splits, scrub_splits

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskData:
    """A config's data, read and checked: the splits (``train``, ``validation``, ``test`` where there is one), each
    task's labels as fitted on the training rows, and the outlet names scrubbed from the texts (None without
    ``data.scrub_column``)."""

    splits: dict[str, datasets.Dataset]
    label_lists: dict[str, list[str]]
    scrub_names: list[str] | None


def stack_datasets(parts: dict[str, datasets.Dataset], columns: list[str]) -> datasets.Dataset:
    """The rows of several datasets' splits in one table with ``columns``: each row's dataset in ``_dataset``,
    None in the columns its dataset does not have (another dataset's labels, or a target)."""
    features = datasets.Features(
        {column: datasets.Value("int64" if column == "_row" else "string") for column in columns}
    )
    tables = []
    for name, part in parts.items():
        part = part.add_column("_dataset", [name] * len(part))
        for column in columns:
            if column not in part.column_names:
                part = part.add_column(column, [None] * len(part))
        tables.append(part.select_columns(columns).cast(features))
    return datasets.concatenate_datasets(tables)


def load_task_data(config: Config) -> TaskData:
    """Reads, splits, checks and scrubs the data of every task.

    With ``datasets``, each dataset is read with its own settings and only its tasks, then the
    datasets' splits are stacked: a row has a label (``label_<task>``) for its own dataset's tasks and
    None for the others, a ``target`` where its dataset's tasks are pairs (None otherwise), and its
    dataset's name in ``_dataset``.

    Raises:
        ConfigError: a dataset's text fields are not article fields (:func:`check_article_fields`).
        DataError: a file, row or column that cannot be used.
    """
    check_article_fields(config)
    loaded = {}
    for name, part in config.parts().items():
        splits = load_splits(part)
        label_lists = fit_labels(part, splits["train"])
        splits = check_eval_labels(part, splits, label_lists)
        splits, names = scrub_splits(part, splits)
        loaded[name] = TaskData(splits, label_lists, names)
    if len(loaded) == 1:
        return next(iter(loaded.values()))
    found = {task: labels for part in loaded.values() for task, labels in part.label_lists.items()}
    label_lists = {task.name: found[task.name] for task in config.tasks}
    names = sorted({n for part in loaded.values() for n in part.scrub_names or []}) or None
    columns = ["text", "_dataset", "_file", "_row", *(f"label_{task}" for task in label_lists)]
    columns += [TARGET_FIELD] if any(task.kind == "pair" for task in config.tasks) else []
    stacked = {}
    for split in SPLITS:
        tables = {name: part.splits[split] for name, part in loaded.items() if split in part.splits}
        if any(len(table) for table in tables.values()):
            stacked[split] = stack_datasets(tables, columns)
            counts = Counter(stacked[split]["_dataset"])
            logger.info("%s split: %s", split, ", ".join(f"{n} {counts[n]}" for n in loaded if counts[n]))
    return TaskData(stacked, label_lists, names)
