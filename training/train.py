"""Fine-tunes one shared encoder with one head per task and writes a self-contained run folder.

    python -m training.train --config configs/default.yaml
    python -m training.train --config configs/allsides.yaml --set training.epochs=1 data.max_train_samples=2000
    python -m training.train --resume runs/default-20261125-101500      # continue a killed run
    newsclf-train --config configs/default.yaml --set run.name=first

A run writes ``runs/<name>/``: ``config.yaml`` (as used), ``train.log``, ``checkpoints/``,
``model/`` (weights, tokenizer, label maps, config, metrics, model card), ``metrics.json`` and
``reports/`` (a classification report and a confusion-matrix PNG per task and split). An existing
run folder is never overwritten unless ``--overwrite`` is given. Settings are checked before the
folder is made (:mod:`training.fitting.checks`); a new run that fails before its first checkpoint removes
its folder again. The run itself is :func:`training.fitting.recipe.train`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training.command_line import add_set_option, command_parser, run_command


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = command_parser("newsclf-train", __doc__)
    parser.add_argument("--config", help="YAML config (default: configs/default.yaml, or the resumed run's)")
    add_set_option(parser)
    parser.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="RUN_FOLDER",
        help="continue from the last checkpoint (of run.name, or of RUN_FOLDER)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def run() -> None:
        from training.config import load_config
        from training.fitting.recipe import train

        config_path, overrides = args.config, list(args.overrides)
        if isinstance(args.resume, str):
            run_dir = Path(args.resume)
            config_path = config_path or str(run_dir / "config.yaml")
            overrides += [f"run.output_dir={run_dir.parent}", f"run.name={run_dir.name}"]
        config = load_config(config_path or "configs/default.yaml", overrides)
        if isinstance(args.resume, str):
            config.source = None
        train(config, resume=bool(args.resume), overwrite=args.overwrite)

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
