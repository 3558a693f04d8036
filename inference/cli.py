"""Command line prediction.

    python -m inference --model runs/default/model --input articles.jsonl --output predictions.jsonl
    echo "Senate passes the budget bill" | python -m inference --model runs/default/model
    newsclf-predict --model runs/default/model --text "Storm floods the coast"

Input: ``.jsonl`` (optionally ``.gz``; one JSON object with the model's text fields, or one JSON
string, per line), ``.txt`` or standard input (one article per line). Output: one JSON object per
article, in input order, with the article's ``id`` when it has one.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from tqdm.auto import tqdm

from .atomic import atomic_writer
from .loading import ModelFolderError
from .predictor import Predictor

CHUNK = 256


class InputError(ValueError):
    """An input file cannot be read as articles."""


def read_articles(path: str | None, texts: list[str] | None = None) -> Iterator[Any]:
    """Yields articles from ``--text``, a file, or standard input."""
    if texts:
        yield from texts
        return
    if path is None:
        yield from (line.rstrip("\n") for line in sys.stdin if line.strip())
        return
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: no such input file")
    opener = gzip.open if file.suffix == ".gz" else open
    is_jsonl = ".jsonl" in file.suffixes or ".json" in file.suffixes
    try:
        with opener(file, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                if not is_jsonl:
                    yield line.rstrip("\n")
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise InputError(
                        f"{file}, line {number}, column {error.colno}: invalid JSON: {error.msg}"
                    ) from None
    except UnicodeDecodeError as error:
        raise InputError(f"{file}: not valid UTF-8 text ({error.reason} at byte {error.start})") from None


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_predictions(predictor: Predictor, articles: Iterator[Any], out: TextIO) -> int:
    """Predicts chunk by chunk and writes one JSON line per article; returns how many."""
    count = 0
    with tqdm(desc="predicting", unit="article", file=sys.stderr, disable=None) as progress:
        for chunk in _chunks(articles, CHUNK):
            for article, result in zip(chunk, predictor.predict(chunk)):
                record = {"id": article["id"]} if isinstance(article, dict) and "id" in article else {}
                record.update(result)
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += len(chunk)
            progress.update(len(chunk))
    return count


def add_predictor_arguments(parser: argparse.ArgumentParser, backend: str = "auto", precision: str = "auto") -> None:
    """Adds ``--batch-size``, ``--backend``, ``--precision`` and ``--threads`` (see ``Predictor.from_pretrained``)."""
    parser.add_argument("--batch-size", type=int, default=32, help="windows per forward pass")
    parser.add_argument("--backend", choices=["auto", "torch", "onnx"], default=backend, help="what scores the windows")
    parser.add_argument(
        "--precision", choices=["auto", "fp32", "bf16", "int8"], default=precision, help="number format"
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")


def predictor_from_args(args: argparse.Namespace) -> Predictor:
    """Loads ``args.model`` with the options :func:`add_predictor_arguments` added."""
    return Predictor.from_pretrained(
        args.model,
        backend=args.backend,
        precision=args.precision,
        batch_size=args.batch_size,
        num_threads=args.threads,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsclf-predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model folder written by newsclf-train")
    parser.add_argument("--input", help=".jsonl(.gz) or .txt file; default: standard input, one article a line")
    parser.add_argument("--text", action="append", help="an article's text (repeatable)")
    parser.add_argument("--output", help="JSONL file to write (atomically); default: standard output")
    add_predictor_arguments(parser)
    args = parser.parse_args(argv)
    try:
        predictor = predictor_from_args(args)
        articles = read_articles(args.input, args.text)
        if args.output is None:
            write_predictions(predictor, articles, sys.stdout)
            return 0
        target = Path(args.output)
        with atomic_writer(target) as out:
            count = write_predictions(predictor, articles, out)
        print(f"wrote {count} predictions to {target}", file=sys.stderr)
        return 0
    except (ModelFolderError, InputError, TypeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
