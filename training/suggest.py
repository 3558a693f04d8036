"""Ranks unlabelled articles by what labelling them would teach a model, and writes the ones to label next.

    newsclf-suggest --model runs/probe/model --pool archive.jsonl --n 50 --task topic --output next.jsonl
    newsclf-suggest --model runs/round2/model --pool archive.jsonl --exclude next.jsonl --output round2.jsonl

The output holds each chosen article's own fields, the task's column empty (fill it in: the file is then
training data for ``newsclf-train`` or ``fit``), and the model's guess, its probability and the margin between
the two likeliest labels (``suggested_*``), most uncertain first. The pool's article vectors are kept in the
feature cache, so a second round with a model on the same encoder (a probe's) costs seconds; a killed run
resumes where its embedding stopped. How articles are chosen: :mod:`training.labelling.suggest`.
"""

from __future__ import annotations

import argparse
import sys

from training.command_line import command_parser, run_command


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = command_parser("newsclf-suggest", __doc__)
    parser.add_argument("--model", required=True, help="a model folder (newsclf-train's run/model)")
    parser.add_argument(
        "--pool",
        required=True,
        help="unlabelled articles: JSON lines (.jsonl, .jsonl.gz: objects with title/content, or strings), "
        ".parquet, or .txt (one article a line)",
    )
    parser.add_argument("--output", required=True, help="JSON lines file to write (never one of the inputs)")
    parser.add_argument("--n", type=int, default=50, help="articles to suggest (default: 50)")
    parser.add_argument("--task", help="the task to rank for (default: the model's first)")
    parser.add_argument(
        "--exclude",
        nargs="+",
        default=[],
        metavar="FILE",
        help="files of articles already labelled or suggested (read as --pool is): their ids are left out",
    )
    parser.add_argument(
        "--cache", default="runs/feature-cache", help="feature cache folder (default: runs/feature-cache)"
    )
    parser.add_argument(
        "--candidates",
        type=int,
        default=10,
        help="the N x this most uncertain articles are clustered into N groups, one article from each (default: 10)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def run() -> None:
        from training.labelling.pool import write_suggestions

        count = write_suggestions(
            args.model, args.pool, args.output, args.n, args.task, args.exclude, args.cache, args.candidates
        )
        print(f"{count} articles to label written to {args.output}", file=sys.stderr)

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
