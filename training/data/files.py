"""Reading a data file: its format, its bytes (UTF-8, compression), its rows and columns; each problem is named by
file, row and column."""

from __future__ import annotations

import bz2
import codecs
import contextlib
import csv
import difflib
import gzip
import io
import json
import lzma
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeAlias

import datasets

BIG_FILE_BYTES = 20_000_000
FORMATS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}
# the compressions whose bytes are checked here; .zst has no decoder in the standard library before Python 3.14
BinaryReader: TypeAlias = gzip.GzipFile | bz2.BZ2File | lzma.LZMAFile | io.BufferedReader
"""What :func:`open_data` returns: a file's bytes, decompressed or as they are."""
DECOMPRESSORS: dict[str, tuple[str, Callable[..., BinaryReader]]] = {
    ".gz": ("gzip", gzip.open),
    ".bz2": ("bzip2", bz2.open),
    ".xz": ("xz", lzma.open),
}
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


def open_data(file: Path) -> BinaryReader:
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


def _check_utf8_bytes(file: Path, handle: BinaryReader) -> None:
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
    """Reads one data file into an in-memory ``datasets.Dataset`` (no copy of it is left in any cache).

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
        # datasets keeps an Arrow copy of every file it reads in its cache and never removes one; read into memory
        # through a scratch cache instead, so that reading a file (each training run, each test) leaves nothing behind
        with quiet_datasets(not loud), tempfile.TemporaryDirectory(prefix="newsclf-read-") as scratch:
            table = datasets.load_dataset(
                builder, data_files=str(file), split="train", cache_dir=scratch, keep_in_memory=True, **options
            )
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


def require_columns(table: datasets.Dataset, columns: list[str], file: str | Path | None) -> None:
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
