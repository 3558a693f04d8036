"""A larger teacher and a MiniLM student side by side: what each scored, what it cost to train and to predict.

    python benchmarks/distillation.py --run teacher=runs/allsides-outlet-mpnet \\
        student=runs/allsides-outlet-student "MiniLM alone=runs/allsides-outlet-minilm-w1" --output docs/results.md

Scores are each run's own ``metrics.json`` (validation, and the test split the run scored once); nothing is scored
again. Speed is measured here, in one process, on the same articles (the first ``--articles`` of the run's
validation split) for every folder in turns (``--rounds``), each folder's best round, as a ratio to the first run
named: articles/s through ``Predictor.predict_proba`` in the CPU's best precision, tokenizing included.

``--seeds`` sets seeds of the same recipes side by side instead, from their ``metrics.json`` alone (no model is
loaded): each name's mean test score over its runs, the lowest and highest, and the difference of each name's mean
from the first name's::

    python benchmarks/distillation.py --seeds "MiniLM alone=runs/minilm-outlet-w1" \
        "MiniLM alone=runs/minilm-outlet-w1-s43" student=runs/student-outlet-w1 ... --output docs/results.md
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from datetime import date
from pathlib import Path

from common import describe_machine, markers, publish, time_turns

from inference import Predictor
from training.config import load_config
from training.scoring.evaluation import labelled_rows


def run_line(name: str, run_dir: Path, speed: float, baseline: float) -> list[str]:
    """One row per split the run scored: each task's accuracy / macro-F1, its training time and its speed."""
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    config = load_config(run_dir / "model" / "training_config.yaml")
    teacher = f", teacher `{config.training.teacher}`" if config.training.teacher else ""
    layers = config.training.trainable_layers
    top = f", top {layers} layers" if layers is not None else ""
    what = f"{config.model.name}, {config.training.mode}{top}{teacher}"
    lines = []
    for split, per_task in metrics["splits"].items():
        cells = [f"{100 * s['accuracy']:.1f} / {100 * s['macro_f1']:.1f}" for s in per_task.values()]
        minutes = metrics["train"]["seconds"] / 60
        lines.append(
            f"| {split} | {name} ({what}) | " + " | ".join(cells) + f" | {minutes:.0f} | {speed:.1f} "
            f"({speed / baseline:.2f}×) |"
        )
    return lines


def named_run(item: str, option: str) -> tuple[str, Path]:
    """``NAME=RUN_FOLDER`` as the name and the folder of a finished run."""
    name, _, folder = item.partition("=")
    if not name or not Path(folder, "metrics.json").is_file():
        raise SystemExit(f"{option} {item!r}: expected NAME=RUN_FOLDER, a finished run folder")
    return name, Path(folder)


def scores_on_test(run_dir: Path) -> dict[str, tuple[float, float]]:
    """Each task's test accuracy and macro-F1 (in %) from a finished run's ``metrics.json``."""
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    if "test" not in metrics["splits"]:
        raise SystemExit(f"{run_dir}: its metrics.json holds no test split (evaluation.test was off)")
    return {task: (100 * s["accuracy"], 100 * s["macro_f1"]) for task, s in metrics["splits"]["test"].items()}


def seeds_table(groups: dict[str, list[Path]]) -> list[str]:
    """Per name: the runs' mean test accuracy / macro-F1 per task, their range, and the mean's gap to the first."""
    scores = {name: [scores_on_test(folder) for folder in folders] for name, folders in groups.items()}
    tasks = list(next(iter(scores.values()))[0])
    means = {
        name: {t: [sum(r[t][i] for r in runs) / len(runs) for i in (0, 1)] for t in tasks}
        for name, runs in scores.items()
    }
    first = next(iter(means))
    lines = [
        "| run | seeds | " + " | ".join(f"{t} acc / F1 (F1 range)" for t in tasks) + " | F1 − first, per task |",
        "|---" * (len(tasks) + 3) + "|",
    ]
    for name, runs in scores.items():
        cells = []
        for task in tasks:
            f1 = [run[task][1] for run in runs]
            accuracy, macro_f1 = means[name][task]
            cells.append(f"{accuracy:.1f} / {macro_f1:.1f} ({min(f1):.1f}–{max(f1):.1f})")
        gaps = " / ".join(f"{means[name][t][1] - means[first][t][1]:+.1f}" for t in tasks)
        lines.append(f"| {name} | {len(runs)} | " + " | ".join(cells) + f" | {gaps} |")
    return lines


def main_seeds(items: list[str], output: Path | None, section: str) -> int:
    groups: dict[str, list[Path]] = {}
    for item in items:
        name, folder = named_run(item, "--seeds")
        groups.setdefault(name, []).append(folder)
    lines = [
        f"Command: `python {shlex.join(sys.argv)}`  ",
        f"Machine: {describe_machine()}; {date.today().isoformat()}. Test split, mean over each name's runs.",
        "",
        *seeds_table(groups),
    ]
    publish("\n".join(lines), output, *markers(section))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", nargs="+", metavar="NAME=RUN_FOLDER", help="run folders, baseline first")
    parser.add_argument(
        "--seeds",
        nargs="+",
        metavar="NAME=RUN_FOLDER",
        help="instead of --run: several runs (seeds) under each name, their test scores' mean and range side by side",
    )
    parser.add_argument("--articles", type=int, default=256, help="validation articles each speed round predicts")
    parser.add_argument("--rounds", type=int, default=3, help="speed rounds per folder, taken in turns")
    parser.add_argument("--output", type=Path, help="markdown file whose --section is replaced")
    parser.add_argument(
        "--section",
        help="the marked section of --output (<!-- NAME:begin --> to <!-- NAME:end -->); "
        "default: distillation, or distillation-seeds with --seeds",
    )
    args = parser.parse_args(argv)
    if args.seeds:
        return main_seeds(args.seeds, args.output, args.section or "distillation-seeds")
    if not args.run:
        parser.error("give --run (or --seeds)")
    runs = dict(named_run(item, "--run") for item in args.run)
    predictors = {name: Predictor.from_pretrained(folder / "model", backend="torch") for name, folder in runs.items()}
    first = next(iter(runs.values()))
    config = load_config(first / "model" / "training_config.yaml")
    rows, _ = labelled_rows(next(iter(predictors.values())), config, config.data.train_file, "validation")
    articles = list(rows["text"])[: args.articles]
    calls = {name: (lambda p=predictor: p.predict_proba(articles)) for name, predictor in predictors.items()}
    seconds = time_turns(calls, args.rounds)
    speed = {name: len(articles) / min(times) for name, times in seconds.items()}
    baseline = speed[next(iter(runs))]
    tasks = [task.name for task in config.tasks]
    lines = [
        f"Command: `python {shlex.join(sys.argv)}`  ",
        f"Machine: {describe_machine()}; {date.today().isoformat()}",
        "",
        "| split | run | " + " | ".join(f"{t} acc / F1" for t in tasks) + " | train min | articles/s |",
        "|---" * (len(tasks) + 4) + "|",
    ]
    for name, folder in runs.items():
        lines += run_line(name, folder, speed[name], baseline)
    publish("\n".join(lines), args.output, *markers(args.section or "distillation"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
