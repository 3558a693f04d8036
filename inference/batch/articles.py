"""Reading articles for batch prediction and writing their predictions as JSON lines.

Input: JSON lines (``.jsonl``, optionally ``.gz``; one JSON object with the model's text fields, or one JSON
string, per line), ``.parquet`` (one article per row, read a row group at a time) or text (``.txt``: one article's
text per line). Files and standard input are read the same way (:data:`FORMATS`): the format given, else the
file's suffix, else the first line (a JSON object or string: JSON lines; anything else: text), and a reading
that could go either way is refused rather than guessed. Every article keeps where it came from (``file, line N``
or ``file, row N``), so an article that cannot be read is named in the error. Articles are predicted
``CHUNK`` at a time (``$NEWSCLF_PREDICT_CHUNK`` changes it), in this process or, given a
:class:`~inference.batch.workers.PredictorPool`, in worker processes.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

from tqdm.auto import tqdm

if TYPE_CHECKING:
    from ..prediction.predictor import Predictor
    from ..prediction.tfidf import TfidfPredictor
    from .workers import PredictorPool
from ..model.windowing import article_text

CHUNK = 256
FORMATS = ("auto", "jsonl", "text")  # how lines are read: detected, one JSON value a line, one article's text a line
CHUNK_VARIABLE = "NEWSCLF_PREDICT_CHUNK"

Located = tuple[str | None, Any]  # (where the article came from, for error messages; the article)


class InputError(ValueError):
    """An input file cannot be read as articles."""


def read_articles(path: str | None, texts: list[str] | None = None, line_format: str = "auto") -> Iterator[Any]:
    """Yields articles from ``--text``, a file, or standard input."""
    for _, article in located_articles(path, texts, line_format):
        yield article


def located_articles(path: str | None, texts: list[str] | None = None, line_format: str = "auto") -> Iterator[Located]:
    if texts:
        yield from ((None, text) for text in texts)
        return
    if path is None:
        lines = ((number, line.rstrip("\n")) for number, line in enumerate(sys.stdin, start=1) if line.strip())
        yield from parsed_lines("standard input", lines, line_format)
        return
    file = input_file(path)
    yield from parsed_articles(file, file_lines(file), line_format)


def input_file(path: str | Path) -> Path:
    """``path`` as a ``Path``, after checking that it is a file."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: no such input file")
    return file


def file_lines(file: Path) -> Iterator[tuple[int, str]]:
    """(line number, line without its newline) of every line of ``file`` that is not blank; for a
    Parquet file, (row number, the row as a line of JSON)."""
    if file.suffix == ".parquet":
        yield from _parquet_rows(file)
        return
    opener = gzip.open if file.suffix == ".gz" else open
    try:
        with opener(file, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line.rstrip("\n")
    except UnicodeDecodeError as error:
        raise InputError(f"{file}: not valid UTF-8 text ({error.reason} at byte {error.start})") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise InputError(f"{file}: not a complete gzip file ({error})") from None


def _parquet_rows(file: Path, rows_per_read: int = 1024) -> Iterator[tuple[int, str]]:
    # rows as JSON lines, so a resumed run checks Parquet input by the same line hashes as JSONL input
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(file)
        number = 0
        for batch in table.iter_batches(batch_size=rows_per_read):
            try:
                rows = batch.to_pylist()
            except UnicodeDecodeError as error:  # Parquet readers leave text unchecked: a damaged file gets here
                bad = number + _first_undecodable_row(batch)
                raise InputError(f"{file}, row {bad}: text that is not valid UTF-8 ({error.reason})") from None
            for row in rows:
                number += 1
                yield number, row_as_json(row)
    except (pa.ArrowException, OSError) as error:
        raise InputError(f"{file}: not a readable Parquet file ({error})") from None


def _first_undecodable_row(batch: Any) -> int:
    """The 1-based row of a record batch whose text does not decode (only looked for once the batch failed)."""
    for index in range(batch.num_rows):
        try:
            batch.slice(index, 1).to_pylist()
        except UnicodeDecodeError:
            return index + 1
    return batch.num_rows


def row_as_json(row: dict[str, Any]) -> str:
    """A Parquet row as the JSON line it is read as (dates and other non-JSON values as strings)."""
    return json.dumps(row, ensure_ascii=False, default=str)


def parsed_articles(file: Path, lines: Iterable[tuple[int, str]], line_format: str = "auto") -> Iterator[Located]:
    if file.suffix == ".parquet":
        if line_format == "text":
            raise InputError(f"{file}: a Parquet file holds rows of fields, not lines of text; drop --format text")
        yield from ((f"{file}, row {number}", json.loads(line)) for number, line in lines)
        return
    if line_format == "auto" and (".jsonl" in file.suffixes or ".json" in file.suffixes):
        line_format = "jsonl"
    yield from parsed_lines(str(file), lines, line_format, named_text=file.suffix == ".txt")


def parsed_lines(
    source: str, lines: Iterable[tuple[int, str]], line_format: str, named_text: bool = False
) -> Iterator[Located]:
    """Articles of numbered lines read as ``line_format`` (:data:`FORMATS`; ``auto``: from the first line).
    ``named_text``: the file's name says text (``.txt``), so JSON lines in it are refused under ``auto``."""
    lines = iter(lines)
    first = next(lines, None)
    if first is None:
        return
    if line_format == "auto":
        line_format = _detected_format(source, first, named_text)
    for number, line in itertools.chain([first], lines):
        where = f"{source}, line {number}"
        if line_format == "text":
            yield where, line
            continue
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{where}, column {error.colno}: invalid JSON: {error.msg}") from None


def _detected_format(source: str, first: tuple[int, str], named_text: bool) -> str:
    """``jsonl`` where the first line is a JSON object or string, ``text`` where it is plain text; refuses a line
    that starts like a JSON object but is none, and JSON in a file named ``.txt``."""
    number, line = first
    stripped = line.strip()
    try:
        value = json.loads(stripped) if stripped[:1] in ("{", '"') else None
    except json.JSONDecodeError as error:
        if stripped.startswith("{"):
            raise InputError(
                f"{source}, line {number}, column {error.colno}: starts like a JSON object but is invalid JSON "
                f"({error.msg}); fix it, or give --format text to read each line as an article's text"
            ) from None
        value = None
    is_json = isinstance(value, (dict, str))
    if is_json and named_text:
        raise InputError(
            f"{source}: a .txt file is read as one article's text a line, but its line {number} is JSON; give "
            "--format jsonl to read the JSON's fields, or --format text to read each line as it is"
        )
    return "jsonl" if is_json else "text"


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def output_line(article: Any, result: dict[str, Any]) -> str:
    record = {"id": article["id"]} if isinstance(article, dict) and "id" in article else {}
    record.update(result)
    line = json.dumps(record, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate from a broken \\u escape in an id: keep it escaped
        line = json.dumps(record)
    return line + "\n"


def predict_chunk(predictor: Predictor | TfidfPredictor, chunk: Sequence[Located]) -> list[dict[str, Any]]:
    """Predicts a chunk; an article that cannot be read is named by its file and line."""
    try:
        results = predictor.predict([article for _, article in chunk])
        assert isinstance(results, list)  # a list in, a list out
        return results
    except (TypeError, ValueError):
        for where, article in chunk:
            try:
                article_text(article, predictor.text_fields)
            except (TypeError, ValueError) as error:
                if where is not None:
                    raise InputError(f"{where}: {error}") from None
        raise


def predicted_chunks(
    predictor: Predictor | TfidfPredictor,
    articles: Iterator[Located],
    size: int,
    done: int = 0,
    pool: PredictorPool | None = None,
) -> Iterator[str]:
    """The output lines of each chunk of ``size`` articles, one string a chunk, in input order, with a
    progress bar (articles/s); ``pool``: predicted by its worker processes instead of ``predictor``."""
    with tqdm(desc="predicting", unit="article", file=sys.stderr, disable=None, initial=done) as progress:
        chunks = _chunks(articles, size)
        if pool is not None:
            scored = pool.map(predict_chunk, chunks)
        else:
            scored = ((chunk, predict_chunk(predictor, chunk)) for chunk in chunks)
        for chunk, results in scored:
            yield "".join(output_line(article, result) for (_, article), result in zip(chunk, results))
            progress.update(len(chunk))


def write_predictions(predictor: Predictor | TfidfPredictor, articles: Iterator[Any], out: TextIO) -> int:
    """Predicts chunk by chunk and writes one JSON line per article; returns how many."""
    return write_located(predictor, ((None, article) for article in articles), out, chunk_size())


def write_located(
    predictor: Predictor | TfidfPredictor,
    articles: Iterator[Located],
    out: IO[str],
    size: int,
    pool: PredictorPool | None = None,
) -> int:
    count = 0
    for text in predicted_chunks(predictor, articles, size, pool=pool):
        out.write(text)
        count += text.count("\n")
    return count


def chunk_size() -> int:
    """Articles predicted (and, into a file, saved) at a time: ``CHUNK``, or ``$NEWSCLF_PREDICT_CHUNK``."""
    value = os.environ.get(CHUNK_VARIABLE)
    if value is None:
        return CHUNK
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"{CHUNK_VARIABLE} must be a whole number of articles, at least 1, got {value!r}")
    return int(value)
