"""From a table's rows to the article fields and labels the model reads: joins, renames, targets, dropped rows."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import datasets

from inference.model.windowing import TARGET_FIELD, article_text
from training.config import Config, DataConfig, TaskConfig
from training.data.files import DataError, read_table, require_columns

logger = logging.getLogger(__name__)


def _join_key(value: Any) -> str:
    return "" if value is None else str(value).strip()


def join_columns(table: datasets.Dataset, config: Config, file: str | Path) -> datasets.Dataset:
    """Adds the columns of the ``data.join`` tables to every row with the same ``data.join.key`` key.

    Raises:
        DataError: a key missing from the tables, a key listed twice with other values, or a
            column both in the data and in a table, naming the file, row and key.
    """
    join = config.data.join
    if not join.files:
        return table
    if not join.key:
        raise DataError("data.join.key: name the key column shared by the data and data.join.files")
    require_columns(table, [join.key], file)
    lookup: dict[str, dict[str, Any]] = {}
    columns: list[str] = []
    for path in join.files:
        extra = read_table(path)
        require_columns(extra, [join.key], path)
        columns += [c for c in extra.column_names if c != join.key and c not in columns]
        for row in extra.to_list():
            key = _join_key(row.pop(join.key))
            if key in lookup and lookup[key] != {**lookup[key], **row}:
                raise DataError(f"{path}: {join.key} {key!r} is listed twice with different values (data.join.files)")
            lookup.setdefault(key, {}).update(row)
    clash = [c for c in columns if c in table.column_names]
    if clash:
        raise DataError(f"{file}: columns {clash} are both in the data and in data.join.files {join.files}")
    keys = [_join_key(value) for value in table[join.key]]
    for index, key in enumerate(keys):
        if key not in lookup:
            raise DataError(
                f"{where(table, index)}, column {join.key!r}: {key!r} is in none of data.join.files {join.files}"
            )
    for column in columns:
        table = table.add_column(column, [lookup[key].get(column) for key in keys])
    return table


def where(part: datasets.Dataset, index: int) -> str:
    """``file, row N`` for a row of a table made by :func:`read_rows`."""
    if "_row" in part.column_names:
        return f"{part[index]['_file']}, row {part[index]['_row']}"
    return f"row {index + 1}"


def field_columns(data: DataConfig) -> dict[str, str]:
    """The data column each text field is read from: the one ``data.columns`` names, else its namesake."""
    return {name: data.columns.get(name, name) for name in data.text_fields}


def _named_columns(config: Config) -> set[str]:
    """Data columns that keys other than the text fields and the target read."""
    data, split = config.data, config.data.split
    named = {data.id_column, data.group_column, data.scrub_column, data.join.key, split.column, split.id_column}
    named |= {split.group_by, *(task.label_column for task in config.tasks)}
    return {name for name in named if name}


def _to_article_fields(
    table: datasets.Dataset, fields: dict[str, str], target_column: str | None, config: Config
) -> datasets.Dataset:
    """Renames the data columns read as text fields to those fields (``articleBody`` to ``content``),
    replacing any column already called so, and drops the target's column (now ``target``); a column
    that another key reads (the group column, a label) is kept."""
    moved = {name: table[column] for name, column in fields.items() if column != name}
    for name, values in moved.items():
        table = replace_column(table, name, values)
    sources = {fields[name] for name in moved} | ({target_column} if target_column else set())
    unused = sorted(sources - set(moved) - {TARGET_FIELD} - _named_columns(config))
    return table.remove_columns(unused) if unused else table


def prepare(table: datasets.Dataset, config: Config, file: str | Path, labelled: bool = True) -> datasets.Dataset:
    """Adds the joined ``text`` column (and, for pair tasks, ``target``) and clean string labels,
    dropping or refusing bad rows; the columns of the text fields are renamed to the fields.

    Text fields that a file lacks are an error only when it has none of them.
    """
    sources = field_columns(config.data)
    fields = [f for f, column in sources.items() if column in table.column_names]
    if not fields:
        require_columns(table, list(sources.values())[:1], file)
    tasks = config.tasks if labelled else []
    require_columns(table, [task.label_column for task in tasks], file)
    target_column = next((t.target_column for t in config.tasks if t.kind == "pair"), None)
    if target_column:
        require_columns(table, [target_column], file)
    labels: dict[str, list[str]]
    texts, targets, labels, keep = [], [], {task.name: [] for task in tasks}, []
    wanted = [
        *(sources[f] for f in fields),
        *(t.label_column for t in tasks),
        *([target_column] if target_column else []),
    ]
    # one conversion to Python lists: indexing a datasets column row by row re-slices the Arrow table each time
    columns = table.select_columns(list(dict.fromkeys(wanted))).to_dict()
    for row in range(len(table)):
        text = article_text({f: columns[sources[f]][row] for f in fields}, fields)
        target = _target(columns[target_column][row]) if target_column else ""
        if not text or (target_column and not target):
            if config.data.empty_text == "drop":
                continue
            empty = f"target column {target_column!r}" if text else f"text in {[sources[f] for f in fields]}"
            raise DataError(
                f"{where(table, row)}: empty {empty} (expected article text; "
                "set data.empty_text=drop to skip such rows)"
            )
        row_labels = _row_labels(columns, row, tasks)
        if len(row_labels) < len(tasks):
            if config.data.missing_label == "drop":
                continue
            missing = next(t for t in tasks if t.name not in row_labels)
            raise DataError(
                f"{where(table, row)}, column {missing.label_column!r}: empty label "
                "(set data.missing_label=drop to skip such rows)"
            )
        keep.append(row)
        texts.append(text)
        targets.append(target)
        for name, label in row_labels.items():
            labels[name].append(label)
    dropped = len(table) - len(keep)
    _report_dropped(file, len(table), len(keep))
    result = table.select(keep) if dropped else table
    result = (
        result.add_column("text", texts) if "text" not in result.column_names else replace_column(result, "text", texts)
    )
    if target_column:
        result = replace_column(result, TARGET_FIELD, targets)
    for task in tasks:
        result = replace_column(result, f"label_{task.name}", labels[task.name])
    return _to_article_fields(result, {f: sources[f] for f in fields}, target_column, config)


def _row_labels(columns: dict[str, list[Any]], row: int, tasks: list[TaskConfig]) -> dict[str, str]:
    """The row's cleaned (stripped, mapped) label per task, stopping at the first empty one."""
    row_labels = {}
    for task in tasks:
        raw = columns[task.label_column][row]
        label = "" if raw is None else str(raw).strip()
        if label and task.label_map:
            label = task.label_map.get(label, label)
        if not label:
            break
        row_labels[task.name] = label
    return row_labels


def _report_dropped(file: str | Path, total: int, kept: int) -> None:
    """Warns when rows were dropped; refuses a file that has no row left."""
    dropped = total - kept
    if dropped:
        logger.warning("%s: dropped %d of %d rows with empty text or label", file, dropped, total)
    if dropped and not kept:
        raise DataError(
            f"{file}: all {total} rows have an empty text or label, so none is left "
            "(data.empty_text / data.missing_label are set to drop)"
        )


def _target(value: Any) -> str:
    return "" if value is None else article_text(str(value), [])


def replace_column(table: datasets.Dataset, column: str, values: list[Any]) -> datasets.Dataset:
    if column in table.column_names:
        table = table.remove_columns(column)
    return table.add_column(column, values)


def seeded_draw(rows: datasets.Dataset, limit: int | None, seed: int) -> datasets.Dataset:
    """At most ``limit`` of ``rows``, drawn at random with ``seed`` (the same rows for the same seed); all of
    them when ``limit`` is None or at least their number."""
    if limit is None or limit >= len(rows):
        return rows
    return rows.shuffle(seed=seed).select(range(limit))
