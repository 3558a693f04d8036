"""TF-IDF + linear SVM, one per task: the strong, cheap baseline every fine-tuned model must beat.

    python -m training.baseline --config configs/allsides-outlet.yaml --set run.name=tfidf-outlet
    python -m training.evaluate --model runs/tfidf-outlet/model --data FILE   # same evaluate command

Trained from the same config as the transformer (same files, splits, tasks, label maps and
scrubbing). Word uni- and bigrams, sublinear TF, one shared vocabulary; each task's SVM cost C is
picked on the validation split. The fitted model and its folder format (no pickle) live in
:mod:`inference.prediction.tfidf`, so a fine-tuned model can carry one (``training.fuse_tfidf``).
"""

from __future__ import annotations

import argparse
import sys

from training.command_line import add_set_option, command_parser, run_command


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = command_parser("newsclf-baseline", __doc__)
    parser.add_argument("--config", default="configs/default.yaml", help="YAML config (default: configs/default.yaml)")
    add_set_option(parser)
    parser.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def run() -> None:
        from training.config import load_config
        from training.scoring.tfidf_baseline import baseline_run

        model_dir, metrics, report = baseline_run(load_config(args.config, args.overrides), overwrite=args.overwrite)
        print(report)
        train = metrics["train"]
        print(f"\nfitted in {train['seconds']} s (C per task: {train['C']}); saved to {model_dir}")

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
