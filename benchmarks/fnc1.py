"""FNC-1 stance on all its training pairs: the competition test set, scored once, beside the published systems.

    python benchmarks/fnc1.py --train                      # the shipped recipe: ~30 min on 2 Intel AMX cores
    python benchmarks/fnc1.py --run runs/bench-fnc1-full   # report a finished run

Trains ``configs/fnc1.yaml`` (44,770 training pairs, validation grouped by body, the 25,413-pair
competition test set) with the ``--set`` overrides into ``<output-dir>/bench-fnc1-full`` (an unfinished
run there is resumed), or reads a finished run, and writes the FNC-1 section of ``--output``: the FNC
score, accuracy and per-class F1 on validation and test, the test confusion matrix and the published
reference systems. The run's own ``config.yaml`` supplies the settings shown, so a reported run can be
repeated exactly.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from common import describe_machine, replace_section

from training.config import load_config
from training.fitting.recipe import train

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- fnc1:begin -->", "<!-- fnc1:end -->"
STANCES = ("agree", "disagree", "discuss", "unrelated")
# the reference points the project's issue gives (official FNC-1 results; top-three macro-F1 as
# re-scored by Hanselowski et al., 2018, "A Retrospective Analysis of the Fake News Challenge Stance-Detection Task")
PUBLISHED = [
    ("official baseline (gradient boosting on hand-made features)", "75.2", "–"),
    ("winning team", "82.0", "58–60 (top three teams)"),
]


def trained_run(overrides: list[str], output_dir: str) -> Path:
    config = load_config(
        ROOT / "configs" / "fnc1.yaml",
        ["evaluation.example=false", *overrides, "run.name=bench-fnc1-full", f"run.output_dir={output_dir}"],
    )
    run_dir = Path(config.run.output_dir) / config.run.name
    if (run_dir / "metrics.json").is_file():
        return run_dir
    return train(config, resume=run_dir.is_dir())


def settings_line(run_dir: Path) -> str:
    config = load_config(run_dir / "config.yaml")
    task = config.tasks[0]
    samples = config.data.max_train_samples or "all"
    return (
        f"training rows: {samples}; epochs {config.training.epochs:g}, batch {config.training.batch_size}, "
        f"learning rate {config.training.learning_rate:g}, `{config.model.window}` window of "
        f"{config.model.max_length} tokens (headline ≤ {config.model.max_target_tokens}), class weights "
        f"`{task.class_weights}`, encoder `{config.model.name}`"
    )


def report(run_dir: Path, argv: list[str]) -> str:
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    splits = metrics["splits"]
    if "test" not in splits:
        raise SystemExit(f"{run_dir}: the run did not score the test split (evaluation.test was false)")
    train_info = metrics["train"]
    samples = load_config(run_dir / "config.yaml").data.max_train_samples
    lines = [
        f"## FNC-1 stance, trained on {'all training pairs' if samples is None else f'{samples:,} training pairs'}",
        "",
        f"Command: `python benchmarks/fnc1.py {' '.join(argv)}`  ",
        f"Machine: {describe_machine()}  ",
        f"Date: {date.today().isoformat()}  ",
        (
            f"Run: {settings_line(run_dir)}; {train_info['steps']} steps in {train_info['seconds'] / 60:.0f} min "
            f"({train_info['samples_per_second'] or 0:.1f} pairs/s). The test split was scored once, at the end."
        ),
        "",
        "| split | FNC score (% of max) | accuracy | macro-F1 | F1 agree | F1 disagree | F1 discuss | F1 unrelated |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for split in ("validation", "test"):
        scores = splits[split]["stance"]
        per_class = " | ".join(f"{100 * scores['per_class'][label]['f1-score']:.1f}" for label in STANCES)
        lines.append(
            f"| {split} ({scores['support']:,} pairs) | {100 * scores['fnc_score']:.1f} | "
            f"{100 * scores['accuracy']:.1f} | {100 * scores['macro_f1']:.1f} | {per_class} |"
        )
    lines += ["", "Reference points on the same competition test set:", ""]
    lines += ["| system | FNC score (%) | macro-F1 (%) |", "|---|---|---|"]
    lines += [f"| {name} | {fnc} | {f1} |" for name, fnc, f1 in PUBLISHED]
    test = splits["test"]["stance"]
    lines += ["", "Test confusion matrix (rows: true stance, columns: predicted):", ""]
    lines += ["| true \\ predicted | " + " | ".join(test["labels"]) + " |", "|---" * (len(test["labels"]) + 1) + "|"]
    for label, row in zip(test["labels"], test["confusion_matrix"]):
        lines.append(f"| {label} | " + " | ".join(f"{count:,}" for count in row) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", action="store_true", help="train (or resume) the run with --set overrides")
    parser.add_argument("--run", type=Path, help="a finished FNC-1 run folder to report instead")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="overrides of configs/fnc1.yaml")
    parser.add_argument("--output-dir", default="runs", help="where --train puts bench-fnc1-full")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "results.md")
    args = parser.parse_args(argv)
    if args.train == (args.run is not None):
        parser.error("give --train or --run RUN_FOLDER")
    run_dir = trained_run(args.set, args.output_dir) if args.train else args.run
    replace_section(args.output, BEGIN, END, report(run_dir, argv))
    print(f"wrote the FNC-1 section of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
