"""Reads labelled articles, splits them and checks them before any training starts.

    splits = load_splits(config)          # {"train": Dataset, "validation": Dataset, ...}
    label_lists = fit_labels(config, splits["train"])
    splits, label_lists, scrub_names = load_task_data(config)   # all of it, for one or several datasets

Files are read with the ``datasets`` library (CSV, TSV, JSON, JSONL, ``.gz`` and Parquet). Every
problem is a :class:`DataError` naming the file, the row (1-based, as a person counts rows; for
CSV the header is not counted) and the column.
"""

from __future__ import annotations

import bz2
import codecs
import contextlib
import csv
import difflib
import gzip
import io
import json
import logging
import lzma
import sys
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import datasets
import numpy as np
from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold, train_test_split
from tqdm.auto import tqdm

from inference.model.windowing import ARTICLE_FIELDS, TARGET_FIELD, article_text
from inference.prediction.scrub import OutletScrubber

from .config import Config, ConfigError, DataConfig, TaskConfig

logger = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
BIG_FILE_BYTES = 20_000_000
FORMATS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}
# the compressions whose bytes are checked here; .zst has no decoder in the standard library before Python 3.14
DECOMPRESSORS = {".gz": ("gzip", gzip.open), ".bz2": ("bzip2", bz2.open), ".xz": ("xz", lzma.open)}
# what reading a compressed file raises on bytes that are not of its kind or end too soon (gzip.BadGzipFile
# and bz2's "Invalid data stream" are OSErrors)
DECOMPRESSION_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)


class DataError(ValueError):
    """Training or evaluation data that cannot be used as it is."""


def file_format(path: Path) -> str:
    """The ``datasets`` builder for a file, from its extension (``.gz`` looks one further)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zst"):
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in FORMATS:
        raise DataError(f"{path}: unknown file type; expected one of {', '.join(FORMATS)} (optionally .gz)")
    return FORMATS[suffixes[-1]]


@contextlib.contextmanager
def quiet_datasets(quiet: bool = True) -> Iterator[None]:
    """Turns off the ``datasets`` progress bars (select, flatten, small reads) and restores them after."""
    enabled = datasets.is_progress_bar_enabled()
    if quiet:
        datasets.disable_progress_bars()
    try:
        yield
    finally:
        if enabled:
            datasets.enable_progress_bars()
        else:
            datasets.disable_progress_bars()


def open_data(file: Path) -> IO[bytes]:
    """The file's bytes, decompressed when its suffix names one of :data:`DECOMPRESSORS`."""
    _, opener = DECOMPRESSORS.get(file.suffix.lower(), ("", open))
    return opener(file, "rb")


@contextlib.contextmanager
def reading(file: Path) -> Iterator[None]:
    """Turns the errors of reading ``file`` (damaged compression, a file the OS will not open) into a
    :class:`DataError` naming the file."""
    try:
        yield
    except DECOMPRESSION_ERRORS as error:
        kind, _ = DECOMPRESSORS.get(file.suffix.lower(), ("", None))
        if not kind or (isinstance(error, OSError) and error.errno is not None):  # the OS's, not the decompressor's
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise DataError(f"{file}: cannot read it: {reason}") from None
        raise DataError(
            f"{file}: cannot read it as {kind}: damaged, cut short or not {kind} at all, though its name ends in "
            f"{file.suffix} ({error})"
        ) from None


def check_utf8(file: Path) -> None:
    """Raises a :class:`DataError` naming the line and column of the first byte that is not UTF-8.

    (Arrow's JSON and CSV readers accept such bytes and fail much later, far from the file.) A compressed
    file is decompressed as it is read, so one that is damaged or not what its suffix says fails here too.
    """
    with reading(file), open_data(file) as handle:
        _check_utf8_bytes(file, handle)


def _check_utf8_bytes(file: Path, handle: IO[bytes]) -> None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, line_start, offset = 1, 0, 0  # line_start: where the current line begins in the file
    for block in iter(lambda: handle.read(1 << 20), b""):
        try:
            decoder.decode(block)
        except UnicodeDecodeError as error:
            before = block[: error.start]
            line += before.count(b"\n")
            if b"\n" in before:
                line_start = offset + before.rfind(b"\n") + 1
            column = offset + error.start - line_start + 1
            raise DataError(
                f"{file}, line {line}, byte {column} of the line: not valid UTF-8 "
                f"(0x{block[error.start]:02x}); save the file as UTF-8"
            ) from None
        line += block.count(b"\n")
        if b"\n" in block:
            line_start = offset + block.rfind(b"\n") + 1
        offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise DataError(f"{file}: ends in the middle of a UTF-8 character; save the file as UTF-8") from None


def check_csv_rows(file: Path, delimiter: str = ",") -> None:
    """Raises a :class:`DataError` naming the line of the first CSV record with more fields than the header
    (which pandas either refuses deep inside ``datasets`` or, when every row has one more, reads shifted by
    a column), or that the ``csv`` module cannot parse."""
    limit = csv.field_size_limit(sys.maxsize)  # an article can be longer than the default 131,072 characters
    try:
        with reading(file), io.TextIOWrapper(open_data(file), encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter)
            try:
                header = next(reader, [])
                for record in reader:
                    if len(record) > len(header):
                        raise DataError(
                            f"{file}, line {reader.line_num}: {len(record)} fields where the header has "
                            f"{len(header)}; quote the fields that hold a {delimiter!r}"
                        )
            except csv.Error as error:
                raise DataError(f"{file}, line {reader.line_num}: not readable as CSV ({error})") from None
    finally:
        csv.field_size_limit(limit)


def check_parquet(file: Path) -> None:
    """Raises a :class:`DataError` when ``file`` has no readable Parquet footer (it is not Parquet, or cut short)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pq.ParquetFile(file).close()
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"{file}: cannot read it as parquet: {error}") from None


def first_bad_json_line(file: Path) -> str | None:
    """Where a JSON-lines file first holds a line that is not a JSON object, or None: read only once
    ``datasets`` has failed on the file, to say which line."""
    with reading(file), io.TextIOWrapper(open_data(file), encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                return f"line {number}, column {error.colno}: invalid JSON: {error.msg}"
            if not isinstance(value, dict):
                return f"line {number}: a JSON {type(value).__name__} where each line must be an object (one row)"
    return None


def check_file(file: Path, builder: str) -> None:
    """The checks before ``datasets`` reads a file: its compression, UTF-8, CSV records, Parquet footer."""
    if builder == "parquet":
        if file.suffix.lower() == ".parquet":
            check_parquet(file)
        return
    if _readable_here(file):
        check_utf8(file)
        if builder == "csv":
            check_csv_rows(file, "\t" if ".tsv" in _suffixes(file) else ",")


def read_table(path: str | Path) -> datasets.Dataset:
    """Reads one data file into a ``datasets.Dataset``.

    Raises:
        DataError: naming the file (and the line, where one is to blame) when it is missing, of an unknown
            type, not what its suffix says (damaged compression, not Parquet), not UTF-8, a CSV record with
            more fields than the header, or a JSON line that is not an object.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"{file}: no such data file")
    builder = file_format(file)
    check_file(file, builder)
    options: dict[str, Any] = {"sep": "\t"} if ".tsv" in _suffixes(file) else {}
    # a progress bar helps while a big file is read, and only clutters the output of a small one
    loud = file.stat().st_size > BIG_FILE_BYTES
    try:
        with quiet_datasets(not loud):
            table = datasets.load_dataset(builder, data_files=str(file), split="train", **options)
    except Exception as error:  # the builders raise many types; all mean the file is unreadable
        cause = error.__cause__ or error
        jsonl = builder == "json" and ".jsonl" in _suffixes(file) and _readable_here(file)
        where = first_bad_json_line(file) if jsonl else None
        if where:
            raise DataError(f"{file}, {where}") from error
        reason = " ".join(f"{type(cause).__name__}: {cause}".split())  # one line, whatever the reader said
        raise DataError(f"{file}: cannot read it as {builder}: {reason}") from error
    if builder == "parquet":
        check_arrow_values(file, table)
    return table


def check_arrow_values(file: Path, table: datasets.Dataset) -> None:
    """Raises a :class:`DataError` when the table read holds values Arrow itself refuses, e.g. text that is not
    UTF-8: Parquet readers do not check it, and the bytes would fail later, far from the file."""
    import pyarrow as pa

    try:
        table.data.table.validate(full=True)
    except pa.ArrowInvalid as error:
        raise DataError(f"{file}: damaged values: {' '.join(str(error).split())}") from None


def _suffixes(file: Path) -> list[str]:
    return [suffix.lower() for suffix in file.suffixes]


def _readable_here(file: Path) -> bool:
    """Whether this module can decompress the file to check it (plain, or a suffix of :data:`DECOMPRESSORS`)."""
    return file.suffix.lower() in DECOMPRESSORS or file.suffix.lower() in FORMATS


def require_columns(table: datasets.Dataset, columns: list[str], file: str | Path) -> None:
    """Raises if any of ``columns`` is missing, suggesting the closest existing column."""
    for column in columns:
        if column not in table.column_names:
            close = difflib.get_close_matches(column, table.column_names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DataError(f"{file}: no column {column!r}{hint} (columns: {', '.join(user_columns(table))})")


def user_columns(table: datasets.Dataset) -> list[str]:
    """The file's own columns, without the ``_file``/``_row`` bookkeeping that :func:`read_rows` adds."""
    return [name for name in table.column_names if name not in ("_file", "_row")]


def read_rows(path: str | Path) -> datasets.Dataset:
    """:func:`read_table` plus ``_file`` and ``_row`` columns, so errors can point at the file's row."""
    table = read_table(path)
    table = table.add_column("_row", list(range(1, len(table) + 1)))
    return table.add_column("_file", [str(path)] * len(table))


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


def check_article_fields(config: Config) -> None:
    """Refuses, in every dataset of ``config``, text fields other than the article fields every model reads
    (``title``, ``content``), and ``columns`` for no text field. (Reading data accepts any column name as a
    text field, as the configs saved with older models have them; a model to train needs the one format.)"""
    for name, part in config.parts().items():
        _check_fields(part.data, "data" if name == "data" else f"datasets.{name}")


def _check_fields(data: DataConfig, where: str) -> None:
    for name in data.text_fields:
        if name not in ARTICLE_FIELDS:
            raise ConfigError(
                f"{where}.text_fields: {name!r} is not an article field; models read {' and '.join(ARTICLE_FIELDS)} "
                f"(and {TARGET_FIELD}, for pair tasks): list the field the column holds and name the column in "
                f"{where}.columns, e.g. text_fields: [content] and columns: {{content: {name}}}"
            )
    for name in data.columns:
        if name == TARGET_FIELD:
            raise ConfigError(f"{where}.columns.{name}: a pair task's target column is tasks.N.target_column")
        if name not in data.text_fields:
            raise ConfigError(f"{where}.columns.{name}: not one of {where}.text_fields {data.text_fields}")


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
        table = _replace(table, name, values)
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
    result = result.add_column("text", texts) if "text" not in result.column_names else _replace(result, "text", texts)
    if target_column:
        result = _replace(result, TARGET_FIELD, targets)
    for task in tasks:
        result = _replace(result, f"label_{task.name}", labels[task.name])
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


def _replace(table: datasets.Dataset, column: str, values: list[Any]) -> datasets.Dataset:
    if column in table.column_names:
        table = table.remove_columns(column)
    return table.add_column(column, values)


def _read_split_file(config: Config) -> dict[str, str]:
    split = config.data.split
    path = Path(split.file)
    if not path.is_file():
        raise DataError(f"{path}: no such split file (data.split.file)")
    check_utf8(path)
    check_csv_rows(path)
    with reading(path), io.TextIOWrapper(open_data(path), encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for column in (split.id_column, split.column):
            if column not in (reader.fieldnames or []):
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
        if name in splits and limit and limit < len(splits[name]):
            splits[name] = splits[name].shuffle(seed=config.run.seed).select(range(limit))
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
    scrubbed = {}
    for name, part in splits.items():
        texts = [scrub(text) for text in tqdm(part["text"], desc=f"scrubbing {name}", unit="article", disable=None)]
        scrubbed[name] = _replace(part, "text", texts)
    logger.info("scrubbed %d outlet names and outlet boilerplate from the texts", len(names))
    return scrubbed, names


def fit_labels(config: Config, train: datasets.Dataset) -> dict[str, list[str]]:
    """Each task's label list, from the config or the training labels (sorted)."""
    label_lists = {}
    for task in config.tasks:
        seen = Counter(train[f"label_{task.name}"])
        if task.labels:
            unknown = sorted(set(seen) - set(task.labels))
            if unknown:
                raise DataError(
                    f"{config.data.train_file}, column {task.label_column!r}: labels {unknown} are not in "
                    f"tasks.{task.name}.labels {task.labels}"
                )
            labels = list(task.labels)
        else:
            labels = sorted(seen)
        if len(seen) < 2:
            raise DataError(
                f"{config.data.train_file}, column {task.label_column!r}: task {task.name!r} has a single class "
                f"{sorted(seen)} in the training data; a classifier needs at least two"
            )
        refuse_untrained_labels(config, task, [label for label in labels if not seen[label]])
        undescribed = sorted(set(task.descriptions or {}) - set(labels))
        if undescribed:
            raise DataError(
                f"tasks.{task.name}.descriptions: {undescribed} are not labels of the task (from "
                f"{config.data.train_file}, column {task.label_column!r}: {labels})"
            )
        label_lists[task.name] = labels
    return label_lists


def refuse_untrained_labels(config: Config, task: TaskConfig, untrained: list[str]) -> None:
    """A label listed in a task's ``labels`` that no training row has would be scored (support 0, F1 0) but never
    learnt: refused unless ``untrained_labels: keep``, which keeps it out of macro-F1."""
    if not untrained:
        return
    where = f"{config.data.train_file}, column {task.label_column!r} (train split)"
    if task.untrained_labels == "error":
        raise DataError(
            f"{where}: tasks.{task.name}.labels lists {untrained}, which no training row has; remove them, add "
            f"training rows, or set tasks.{task.name}.untrained_labels: keep"
        )
    logger.warning("%s: task %s keeps labels no training row has, %s, out of its macro-F1", where, task.name, untrained)


def untrained_label_ids(train_labels: dict[str, list[int]], label_lists: dict[str, list[str]]) -> dict[str, list[int]]:
    """Per task, the ids of its labels that no training row has (kept only with ``untrained_labels: keep``)."""
    seen = {task: set(train_labels.get(task, [])) for task in label_lists}
    return {task: [i for i in range(len(labels)) if i not in seen[task]] for task, labels in label_lists.items()}


def check_eval_labels(
    config: Config, splits: dict[str, datasets.Dataset], label_lists: dict[str, list[str]]
) -> dict[str, datasets.Dataset]:
    """Refuses (or drops, with ``data.unseen_label=drop``) evaluation rows whose label training never saw.

    With ``ignore`` such a label counts as missing for its task only (:func:`label_ids` gives it ``-100``);
    an ``adversarial`` task's unseen labels are always ignored (new outlets are what it is scored on).
    """
    checked = dict(splits)
    for name in ("validation", "test"):
        if name not in splits or config.data.unseen_label == "ignore":
            continue
        part = splits[name]
        bad_rows = []
        for task in (task for task in config.tasks if task.kind != "adversarial"):
            known = set(label_lists[task.name])
            for row, label in enumerate(part[f"label_{task.name}"]):
                if label not in known:
                    if config.data.unseen_label == "error":
                        raise DataError(
                            f"{where(part, row)} ({name} split), column {task.label_column!r}: label {label!r} never "
                            f"appears in training (known: {sorted(known)}); set data.unseen_label=drop to skip it"
                        )
                    bad_rows.append(row)
        if bad_rows:
            logger.warning("%s split: dropped %d rows with labels unseen in training", name, len(set(bad_rows)))
            checked[name] = part.select(sorted(set(range(len(part))) - set(bad_rows)))
    return checked


def label_ids(values: Sequence[Any], labels: Sequence[str]) -> list[int]:
    """Each value's position in ``labels``; ``-100`` (the loss's "no label") for a value outside them.

    >>> label_ids(["right", "left", None], ["left", "center", "right"])
    [2, 0, -100]
    """
    position = {label: i for i, label in enumerate(labels)}
    return [position.get(value, -100) for value in values]


def encode_labels(part: datasets.Dataset, label_lists: dict[str, list[str]]) -> dict[str, list[int]]:
    """Label ids per task (``-100`` for a label outside the task's list)."""
    return {task: label_ids(part[f"label_{task}"], labels) for task, labels in label_lists.items()}


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


def load_task_data(
    config: Config,
) -> tuple[dict[str, datasets.Dataset], dict[str, list[str]], list[str] | None]:
    """Reads, splits, checks and scrubs the data of every task: the splits, each task's labels and the
    outlet names scrubbed (None without ``scrub_column``).

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
        loaded[name] = (splits, label_lists, names)
    if len(loaded) == 1:
        return next(iter(loaded.values()))
    found = {task: labels for _, lists, _ in loaded.values() for task, labels in lists.items()}
    label_lists = {task.name: found[task.name] for task in config.tasks}
    names = sorted({n for _, _, found in loaded.values() for n in found or []}) or None
    columns = ["text", "_dataset", "_file", "_row", *(f"label_{task}" for task in label_lists)]
    columns += [TARGET_FIELD] if any(task.kind == "pair" for task in config.tasks) else []
    stacked = {}
    for split in SPLITS:
        tables = {name: splits[split] for name, (splits, _, _) in loaded.items() if split in splits}
        if any(len(table) for table in tables.values()):
            stacked[split] = stack_datasets(tables, columns)
            counts = Counter(stacked[split]["_dataset"])
            logger.info("%s split: %s", split, ", ".join(f"{n} {counts[n]}" for n in loaded if counts[n]))
    return stacked, label_lists, names
