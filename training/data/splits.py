"""Which rows train, validate and test: split files, split columns or a seeded draw; sample limits; outlet scrubbing."""

from __future__ import annotations

import csv
import difflib
import io
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold, train_test_split
from tqdm.auto import tqdm

from inference.prediction.scrub import OutletScrubber
from training.config import Config, DataConfig
from training.data.files import (
    DataError,
    check_csv_rows,
    check_utf8,
    open_data,
    quiet_datasets,
    read_rows,
    reading,
    require_columns,
)
from training.data.rows import join_columns, prepare, replace_column, seeded_draw

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")


def _read_split_file(config: Config) -> dict[str, str]:
    split = config.data.split
    assert split.file is not None  # split_rows reads a split file only where data.split.file names one
    path = Path(split.file)
    if not path.is_file():
        raise DataError(f"{path}: no such split file (data.split.file)")
    check_utf8(path)
    check_csv_rows(path)
    with reading(path), io.TextIOWrapper(open_data(path), encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for column in (split.id_column, split.column):
            if column not in (reader.fieldnames or []):
                if column is None:
                    raise DataError(
                        f"{path}: data.split.column is null; with a split file it names the file's split column"
                    )
                close = difflib.get_close_matches(column, reader.fieldnames or [], n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise DataError(f"{path}: no column {column!r}{hint} (columns: {', '.join(reader.fieldnames or [])})")
        return {row[split.id_column]: row[split.column] for row in reader}


def _split_by_values(table: datasets.Dataset, values: list[Any], config: Config) -> dict[str, datasets.Dataset]:
    split = config.data.split
    names = {split.train: "train", split.validation: "validation", split.test: "test"}
    rows: dict[str, list[int]] = {name: [] for name in SPLITS}
    for row, value in enumerate(values):
        name = names.get("" if value is None else str(value).strip())
        if name:
            rows[name].append(row)
    return {name: table.select(indices) for name, indices in rows.items() if indices}


def _seeded_split(table: datasets.Dataset, config: Config) -> dict[str, datasets.Dataset]:
    split, seed = config.data.split, config.run.seed
    task_names = [t.name for t in config.tasks]
    if split.stratify_by and split.stratify_by not in task_names:
        close = difflib.get_close_matches(split.stratify_by, task_names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (tasks: {task_names})"
        raise DataError(f"data.split.stratify_by: no task {split.stratify_by!r}{hint}")
    if split.group_by:
        require_columns(table, [split.group_by], config.data.train_file)
    indices = np.arange(len(table))
    strata = table[f"label_{split.stratify_by}"] if split.stratify_by else None
    groups = table[split.group_by] if split.group_by else None

    def draw(pool: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
        pool_strata = None if strata is None else [strata[i] for i in pool]
        pool_groups = None if groups is None else [groups[i] for i in pool]
        if pool_groups is not None and pool_strata is not None:
            folds = max(2, round(1 / size))
            splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
            keep, held = next(splitter.split(pool, pool_strata, pool_groups))
            return pool[keep], pool[held]
        if pool_groups is not None:
            keep, held = next(GroupShuffleSplit(1, test_size=size, random_state=seed).split(pool, groups=pool_groups))
            return pool[keep], pool[held]
        counts = Counter(pool_strata or [])
        if pool_strata is not None and min(counts.values()) < 2:
            rare = sorted(label for label, n in counts.items() if n < 2)
            raise DataError(
                f"{config.data.train_file}: cannot stratify by {split.stratify_by!r}: labels {rare} have "
                "fewer than 2 rows"
            )
        keep, held = train_test_split(pool, test_size=size, random_state=seed, stratify=pool_strata)
        return keep, held

    result = {}
    if split.test_size > 0:
        indices, test = draw(indices, split.test_size)
        result["test"] = table.select(sorted(test))
    if split.validation_size > 0:
        size = split.validation_size / (1 - split.test_size)
        indices, validation = draw(indices, size)
        result["validation"] = table.select(sorted(validation))
    result["train"] = table.select(sorted(indices))
    return result


def split_rows(table: datasets.Dataset, config: Config, file: str | Path) -> dict[str, datasets.Dataset]:
    """Splits one file's rows by the split column, the split file, or a seeded draw, and prepares them."""
    split = config.data.split
    if split.file:
        require_columns(table, [split.id_column], file)
        mapping = _read_split_file(config)
        values = [mapping.get(str(identifier), "") for identifier in table[split.id_column]]
    elif split.column:
        try:
            require_columns(table, [split.column], file)
        except DataError as error:  # the default, `split`, is the sample data's column
            raise DataError(f"{error}; split.column names it (null: draw validation_size of the rows)") from None
        values = table[split.column]
    else:
        return _seeded_split(prepare(table, config, file), config)
    return {name: prepare(part, config, file) for name, part in _split_by_values(table, values, config).items()}


def load_splits(config: Config) -> dict[str, datasets.Dataset]:
    """Reads the configured files and returns the ``train``/``validation``/``test`` splits that exist.

    Each split has the original columns, those of the text fields renamed to the fields (``data.columns``),
    plus ``text``, ``target`` for pair tasks (in place of their target column) and ``label_<task>`` (strings).
    """
    with quiet_datasets():
        return _load_splits(config)


def _load_splits(config: Config) -> dict[str, datasets.Dataset]:
    data = config.data
    if data.train_file is None:  # zero-shot: no training rows, only files to score
        splits = {name: _read_part(file, config) for name, file in _evaluation_files(data).items()}
        return _limited(splits, config)
    train_file = Path(data.train_file)
    table = join_columns(read_rows(train_file), config, train_file)
    if data.validation_file:
        splits = {"train": prepare(table, config, train_file)}
        splits.update({name: _read_part(file, config) for name, file in _evaluation_files(data).items()})
    else:
        splits = split_rows(table, config, train_file)
        if data.test_file:
            splits["test"] = _read_part(data.test_file, config)
    if "train" not in splits or len(splits["train"]) == 0:
        raise DataError(f"{train_file}: no training rows (check data.split)")
    return _limited(splits, config)


def _evaluation_files(data: DataConfig) -> dict[str, str]:
    return {name: file for name, file in (("validation", data.validation_file), ("test", data.test_file)) if file}


def _read_part(file: str, config: Config) -> datasets.Dataset:
    return prepare(join_columns(read_rows(file), config, file), config, file)


def _limited(splits: dict[str, datasets.Dataset], config: Config) -> dict[str, datasets.Dataset]:
    """The splits cut to ``data.max_train_samples`` / ``max_eval_samples`` (a seeded draw), logged."""
    data = config.data
    for name, limit in (
        ("train", data.max_train_samples),
        ("validation", data.max_eval_samples),
        ("test", data.max_eval_samples),
    ):
        if name in splits and limit:
            splits[name] = seeded_draw(splits[name], limit, config.run.seed)
    for name, part in splits.items():
        logger.info("%s split: %d articles", name, len(part))
    return splits


def scrub_splits(
    config: Config, splits: dict[str, datasets.Dataset]
) -> tuple[dict[str, datasets.Dataset], list[str] | None]:
    """With ``data.scrub_column``, removes the training split's outlet names and outlet boilerplate
    from every split's text; returns the splits and the names (saved with the model)."""
    column = config.data.scrub_column
    if not column:
        return splits, None
    require_columns(splits["train"], [column], config.data.train_file)
    names = sorted({str(name).strip() for name in splits["train"][column] if name and str(name).strip()})
    scrub = OutletScrubber(names)
    scrubbed = {name: scrub_texts(part, scrub, name) for name, part in splits.items()}
    logger.info("scrubbed %d outlet names and outlet boilerplate from the texts", len(names))
    return scrubbed, names


def scrub_texts(part: datasets.Dataset, scrub: OutletScrubber, name: str) -> datasets.Dataset:
    """``part`` with its ``text`` column scrubbed (a progress bar named ``name``)."""
    texts = [scrub(text) for text in tqdm(part["text"], desc=f"scrubbing {name}", unit="article", disable=None)]
    return replace_column(part, "text", texts)
