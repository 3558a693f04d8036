"""Command line prediction (``newsclf-predict``, ``python -m inference``).

    python -m inference --model runs/default/model --input articles.jsonl --output predictions.jsonl
    echo "Senate passes the budget bill" | python -m inference --model runs/default/model
    newsclf-predict --model runs/default/model --text "Storm floods the coast"
    newsclf-predict --model runs/default/model --input archive.parquet --output out.jsonl --workers 2
    newsclf-predict --model runs/default/model --input archive/ --output out.parquet --engine ray --address auto

Input formats are those of :mod:`inference.batch.articles`; the input is streamed a chunk at a time, so memory
does not grow with its length. ``--output`` is only replaced once every article is predicted, so it
is never half-written; with ``--input FILE`` an interrupted run continues where it stopped when the
same command runs again (:mod:`inference.batch.resumable`), and ``--restart`` discards that partial work
instead. ``--workers N`` predicts in N processes (:mod:`inference.batch.workers`), output still in input order.
``--engine ray`` predicts a file or a folder of files on Ray Data (:mod:`inference.batch.ray_engine`), locally
or on a cluster (``--address``), into JSON lines or Parquet; the same lines, written whole at the end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import atomic_writer
from ..model.loading import ModelFolderError
from ..options import add_predictor_arguments, options_from_args
from ..paths import refuse_overwriting_inputs
from .articles import (
    CHUNK,
    CHUNK_VARIABLE,
    FORMATS,
    InputError,
    chunk_size,
    located_articles,
    read_articles,
    write_located,
)
from .resumable import PartialOutputError, ResumableOutput
from .workers import PredictorPool

if TYPE_CHECKING:  # imported once the command line is read: --help and usage errors need no torch
    from ..options import PredictOptions
    from ..prediction.predictor import Predictor
    from ..prediction.tfidf import TfidfPredictor

__all__ = ["CHUNK", "CHUNK_VARIABLE", "InputError", "main", "read_articles"]  # the last three stay importable here


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Reads the command line; a bad one exits with argparse's usage message (status 2)."""
    parser = argparse.ArgumentParser(prog="newsclf-predict", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model folder written by newsclf-train or newsclf-baseline")
    parser.add_argument(
        "--input",
        help="a .jsonl(.gz) file (one JSON object a line: title, content, target, id), .parquet (one article a "
        "row) or .txt (each line one whole article's text); default: standard input, read as --format says",
    )
    parser.add_argument(
        "--format",
        dest="line_format",
        choices=FORMATS,
        default="auto",
        help="how --input's or standard input's lines are read: jsonl (one JSON object or string a line), text (one "
        "article's text a line) or auto (default): by the file's suffix, else by the first line (JSON: jsonl, "
        "plain text: text); a .txt of JSON lines, or a line that starts like JSON but is none, is refused",
    )
    parser.add_argument("--text", action="append", help="an article's text (repeatable)")
    parser.add_argument(
        "--output",
        help="JSONL file to write, replaced only when complete; with --input, an interrupted run continues "
        "where it stopped when run again; default: standard output",
    )
    parser.add_argument(
        "--restart", action="store_true", help="discard the partial output of an interrupted run and start over"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes that predict (each loads the model and uses an equal share of the cores, or --threads)",
    )
    parser.add_argument("--engine", choices=["local", "ray"], default="local", help="what runs the prediction")
    parser.add_argument("--address", help="--engine ray: the cluster (auto, HOST:PORT); default: a local one")
    parser.add_argument("--concurrency", type=int, help="--engine ray: actors (default: one per CPU)")
    add_predictor_arguments(parser)
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    if args.engine == "ray":
        if args.input is None or args.output is None or args.text:
            parser.error("--engine ray reads --input (a file or a folder) and writes --output")
        if args.workers > 1 or args.restart:
            parser.error("--workers and --restart are for --engine local; Ray has --concurrency")
        if args.line_format == "text":
            parser.error("--engine ray reads JSON lines and Parquet; --format text is for --engine local")
        if args.concurrency is not None and args.concurrency < 1:
            parser.error(f"--concurrency must be at least 1, got {args.concurrency}")
    elif args.address or args.concurrency:
        parser.error("--address and --concurrency need --engine ray")
    return args


def main(argv: list[str] | None = None) -> int:
    """Runs ``newsclf-predict``; returns the exit status (2 on an error, 130 when interrupted)."""
    args = _parse_args(argv)
    resumable = None
    pool = None
    try:
        _refuse_overwriting(args)
        if args.engine == "ray":
            return _predict_on_ray(args)
        size = chunk_size()
        options = options_from_args(args)
        predictor = _load_predictor(args.model, options)
        if args.workers > 1:
            pool = PredictorPool(args.model, args.workers, options)
        if args.output is None:
            write_located(predictor, located_articles(args.input, args.text, args.line_format), sys.stdout, size, pool)
            return 0
        target = Path(args.output)
        if args.input is not None and not args.text:
            resumable = ResumableOutput(target, restart=args.restart)
            count = resumable.run(predictor, args.input, args.model, size, pool, args.line_format)
        else:
            with atomic_writer(target) as out:
                articles = located_articles(args.input, args.text, args.line_format)
                count = write_located(predictor, articles, out, size, pool)
        resumed = f" ({resumable.resumed} of them predicted before)" if resumable and resumable.resumed else ""
        print(f"wrote {count} predictions to {target}{resumed}", file=sys.stderr)
        return 0
    except (ModelFolderError, InputError, PartialOutputError, TypeError, ValueError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        _say_kept(resumable)
        return 2
    except OSError as error:
        print(f"error: {error.filename}: {error.strerror}" if error.filename else f"error: {error}", file=sys.stderr)
        _say_kept(resumable)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        _say_kept(resumable)
        return 130
    finally:
        if pool is not None:
            pool.close()


def _predict_on_ray(args: argparse.Namespace) -> int:
    from .ray_engine import predict_files

    count = predict_files(
        args.input,
        args.model,
        args.output,
        address=args.address,
        concurrency=args.concurrency,
        rows_per_call=chunk_size(),
        options=options_from_args(args),
    )
    print(f"wrote {count} predictions to {args.output}", file=sys.stderr)
    return 0


def _load_predictor(model: str, options: PredictOptions) -> Predictor | TfidfPredictor:
    from ..prediction.predictor import Predictor  # after the command line is read: --help needs no torch

    return Predictor.from_options(model, options)


def _refuse_overwriting(args: argparse.Namespace) -> None:
    """``--output`` and the partial files beside it must be neither ``--input`` nor a file of ``--model``."""
    if args.output is not None:
        refuse_overwriting_inputs(ResumableOutput(args.output).files, [args.input, args.model])


def _say_kept(resumable: ResumableOutput | None) -> None:
    if resumable is not None and resumable.done:
        print(
            f"{resumable.done} predictions are kept in {resumable.partial}: the same command continues from there "
            "(--restart starts over)",
            file=sys.stderr,
        )


if __name__ == "__main__":
    sys.exit(main())
