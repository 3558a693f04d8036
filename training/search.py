"""Hyperparameter search over a config with Optuna: each trial is a full run, scored on validation.

    newsclf-search --config configs/allsides.yaml --trials 12 \\
        --param training.learning_rate=log:2e-5:3e-4 --param training.batch_size=choice:16,32 \\
        --param model.classifier_dropout=float:0:0.3
    python -m training.search --config configs/default.yaml --trials 4 --param training.learning_rate=log:1e-4:1e-3

``--param KEY=SPEC`` searches any config key: ``log:LOW:HIGH`` and ``float:LOW:HIGH`` (real numbers,
the first on a log scale), ``int:LOW:HIGH``, ``choice:A,B,C`` (YAML values). Trials are run folders
``<run.output_dir>/<study>/trial-NNN`` with their config saved as usual; they never score the test
split (settings are chosen on validation; train the winner with the test split on afterwards). The
Trainer reports every evaluation to Optuna, which stops a trial that falls below the median of earlier
trials at the same step (``--no-prune`` keeps them all). The study is stored in
``<study>/optuna.db``: the same command run again adds trials to it. ``<study>/study.json`` names the
best trial, its settings and every trial's score.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training.command_line import add_set_option, command_parser, run_command


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = command_parser("newsclf-search", __doc__)
    parser.add_argument(
        "--config",
        default="configs/default.yaml",
        help="the config every trial starts from (default: configs/default.yaml)",
    )
    parser.add_argument("--param", action="append", default=[], metavar="KEY=SPEC", help="a config key to search")
    parser.add_argument(
        "--trials", type=int, default=10, help="trials to run now, added to an existing study (default: 10)"
    )
    parser.add_argument("--study", default=None, help="study name and folder (default: search-<config name>)")
    add_set_option(parser)
    parser.add_argument("--no-prune", action="store_true", help="run every trial to the end")
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error(f"--trials must be at least 1, got {args.trials}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    study = args.study or f"search-{Path(args.config).stem}"

    def run() -> int:
        from training.fitting.search import search

        summary = search(args.config, args.param, args.trials, study, args.overrides, prune=not args.no_prune)
        best = summary["best"]
        if best is None:
            print("no trial finished", file=sys.stderr)
            return 1
        settings = " ".join(f"{key}={value}" for key, value in best["params"].items())
        print(f"\nbest of {len(summary['trials'])} trials: {summary['metric']} {best['value']:.4f} ({best['run_dir']})")
        fixed = " ".join([*args.overrides, settings])
        print(f"train it with the test split: newsclf-train --config {args.config} --set {fixed}")
        return 0

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
