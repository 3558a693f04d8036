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
import json
import sys

from inference.options import add_predictor_arguments, options_from_args
from training.command_line import add_set_option, command_parser, run_command


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = command_parser("newsclf-evaluate", __doc__)
    parser.add_argument("--model", required=True, help="model folder written by newsclf-train or newsclf-baseline")
    parser.add_argument(
        "--data",
        help="labelled CSV, TSV, JSON, JSON lines (.gz) or Parquet file (default: the config's train_file)",
    )
    parser.add_argument("--config", help="config naming the columns and splits (default: the model's own)")
    add_set_option(parser)
    parser.add_argument("--dataset", help="with a config of several datasets: the one the file is (default: data)")
    parser.add_argument("--split", choices=["train", "validation", "test"], help="score only this split of the file")
    parser.add_argument(
        "--unseen-label",
        choices=["error", "drop", "ignore"],
        default="error",
        help="rows whose label the model does not know: error (default) | drop the row | ignore (keep the row; that "
        "task's label counts as missing), as data.unseen_label in a config",
    )
    parser.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="score a seeded draw of N of the rows (the same N rows every time), e.g. a look at a large training split",
    )
    parser.add_argument("--output", help="write the JSON metrics to this file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    add_predictor_arguments(parser, backend="torch", precision="fp32")  # exact scores unless asked otherwise
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def run() -> None:
        from inference.atomic import write_json
        from training.scoring.evaluation import evaluate_folder
        from training.scoring.metrics import format_report

        result = evaluate_folder(
            args.model,
            options_from_args(args),
            args.data,
            args.config,
            args.overrides,
            args.dataset,
            args.split,
            args.unseen_label,
            args.output,
            args.sample,
        )
        if args.output:
            write_json(args.output, result)
        if args.json:
            print(json.dumps(result, indent=2))
            return
        header = f"{result['data']}" + (f" [{args.split}]" if args.split else "") + f": {result['articles']} articles"
        print(header + "\n\n" + "\n\n".join(format_report(task, s) for task, s in result["tasks"].items()))

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
