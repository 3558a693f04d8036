"""One encoder for every task, or one model per dataset? FNC-1 stance and AllSides topic/leaning,
trained alone and together, scored on the same splits, plus what the joint model saves when predicting.

    python benchmarks/multitask.py --train fnc1 allsides joint            # ~2 h on 2 CPU cores
    python benchmarks/multitask.py --runs fnc1=runs/bench-fnc1 allsides=runs/bench-allsides joint=runs/bench-joint
    python benchmarks/multitask.py --train fnc1 allsides joint --samples 0 --set training.epochs=2 model.max_length=256

The three runs share their settings (``SHARED``; ``--set`` adds to them): each dataset's training rows
are the same seeded sample in the single-dataset run and in the joint one (``configs/news-all.yaml``),
so the joint model sees exactly the examples of both single models, in one-dataset batches. Settings
are not tuned on test data: every run is scored once on its validation and test splits (FNC-1: the
official competition test set, with the FNC score). The prediction cost compares the two single models
with the joint one on the same FNC-1 validation pairs (topic and leaning of the body, and its stance
toward the headline). The section replaces the multi-task part of ``--output``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from common import PLAIN_FINETUNE, describe_machine, replace_section

from inference import Predictor
from training.config import load_config
from training.data import load_splits
from training.fitting.recipe import train

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- multitask:begin -->", "<!-- multitask:end -->"
SHARED = [*PLAIN_FINETUNE, "training.epochs=1", "model.max_length=128", "model.window=head", "evaluation.example=false"]
RUNS = {
    "fnc1": ("fnc1.yaml", ["data.max_train_samples={samples}"]),
    # a sample of AllSides misses some rare topics: their validation/test articles are left out
    "allsides": ("allsides.yaml", ["data.max_train_samples={samples}", "data.unseen_label=drop"]),
    "joint": (
        "news-all.yaml",
        ["data.max_train_samples={samples}", "data.unseen_label=drop", "datasets.fnc1.max_train_samples={samples}"],
    ),
}


def trained_run(name: str, extra: list[str], output_dir: str, samples: int | None = 10000) -> Path:
    """Trains run ``name`` into ``<output_dir>/bench-<name>`` (resuming one left unfinished) on ``samples``
    training rows per dataset (None: all)."""
    config_file, overrides = RUNS[name]
    overrides = [item.format(samples="null" if samples is None else samples) for item in overrides]
    config = load_config(
        ROOT / "configs" / config_file,
        [*SHARED, *overrides, *extra, f"run.name=bench-{name}", f"run.output_dir={output_dir}"],
    )
    run_dir = Path(config.run.output_dir) / config.run.name
    if (run_dir / "metrics.json").is_file():
        return run_dir
    return train(config, resume=run_dir.is_dir())


def score_rows(runs: dict[str, Path]) -> list[str]:
    """One table row per task, split and run."""
    rows = []
    for name, run_dir in runs.items():
        splits = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["splits"]
        for split, per_task in splits.items():
            for task, scores in per_task.items():
                fnc = f"{100 * scores['fnc_score']:.1f}" if "fnc_score" in scores else "–"
                rows.append(
                    f"| {task} | {split} | {name} | {100 * scores['accuracy']:.1f} | {100 * scores['macro_f1']:.1f} | "
                    f"{fnc} | {scores['support']} |"
                )
    return sorted(rows, key=lambda row: (row.split("|")[1], row.split("|")[2], row.split("|")[3] != " joint "))


def fnc_pairs(joint_dir: Path, count: int) -> tuple[list[str], list[str]]:
    """``count`` FNC-1 validation pairs (headlines, bodies), read as the joint run read them."""
    saved = load_config(joint_dir / "config.yaml")
    part = saved.parts()["fnc1"]
    part.data.max_train_samples = part.data.max_eval_samples = count
    validation = load_splits(part)["validation"]
    return list(validation["target"]), list(validation["text"])


def parameter_count(model) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def prediction_cost(runs: dict[str, Path], count: int, repeats: int) -> list[str]:
    """Seconds to give ``count`` FNC-1 bodies their topic, leaning and stance: two models or one."""
    targets, bodies = fnc_pairs(runs["joint"], count)
    load = {
        name: Predictor.from_pretrained(run / "model", backend="torch", precision="fp32") for name, run in runs.items()
    }

    def separate() -> None:
        load["allsides"].predict_proba(bodies)
        load["fnc1"].predict_proba(bodies, target=targets)

    def joint() -> None:
        load["joint"].predict_proba(bodies, target=targets)

    seconds = {}
    for label, call in (("two models (AllSides + FNC-1)", separate), ("joint model", joint)):
        call()  # warm-up
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        seconds[label] = min(times)
    parameters = {
        "two models (AllSides + FNC-1)": sum(parameter_count(load[n].model) for n in ("allsides", "fnc1")),
        "joint model": parameter_count(load["joint"].model),
    }
    base = seconds["two models (AllSides + FNC-1)"]
    return [
        f"| {label} | {parameters[label] / 1e6:.1f} M | {value:.1f} s | {count / value:.1f} | {value / base:.2f} |"
        for label, value in seconds.items()
    ]


def report(args: argparse.Namespace, runs: dict[str, Path]) -> str:
    train_rows = []
    for name, run_dir in runs.items():
        train_metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["train"]
        train_rows.append(
            f"| {name} | {train_metrics['steps']} | {train_metrics['seconds'] / 60:.0f} min | "
            f"{train_metrics['samples_per_second'] or 0:.1f} |"
        )
    lines = [
        "## One encoder for all tasks: FNC-1 stance and AllSides topic/leaning, alone and joint",
        "",
        f"Command: `python benchmarks/multitask.py {' '.join(args.argv)}`  ",
        f"Machine: {describe_machine()}  ",
        f"Date: {date.today().isoformat()}  ",
        (
            f"Settings shared by the runs: `{' '.join(SHARED + args.set)}`; a dataset's training rows (a seeded "
            "sample, `max_train_samples`) are the same in its single run and in the joint run "
            "(`configs/news-all.yaml`)."
        ),
        "",
        "| task | split | run | accuracy | macro-F1 | FNC score % | n |",
        "|---|---|---|---|---|---|---|",
        *score_rows(runs),
        "",
        "| run | steps | training time | samples/s |",
        "|---|---|---|---|",
        *train_rows,
    ]
    if {"fnc1", "allsides", "joint"} <= set(runs) and args.cost_pairs:
        lines += [
            "",
            (
                f"Prediction cost: topic, coarse topic, leaning and stance of {args.cost_pairs} FNC-1 validation "
                f"pairs (torch fp32, best of {args.repeats}):"
            ),
            "",
            "| models | parameters | time | pairs/s | time vs two models |",
            "|---|---|---|---|---|",
            *prediction_cost(runs, args.cost_pairs, args.repeats),
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", nargs="*", default=[], choices=sorted(RUNS), help="runs to train (or resume)")
    parser.add_argument("--runs", nargs="*", default=[], metavar="NAME=RUN_DIR", help="runs trained before")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="overrides for every run")
    parser.add_argument(
        "--samples", type=int, default=10000, help="training rows per dataset, the same in every run (0: all)"
    )
    parser.add_argument("--output-dir", default="runs", help="where --train writes its run folders")
    parser.add_argument("--cost-pairs", type=int, default=500, help="pairs timed for the prediction cost (0: skip)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(ROOT / "docs" / "results.md"))
    args = parser.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    runs = {name: Path(path) for name, path in (item.partition("=")[::2] for item in args.runs)}
    unknown = sorted(set(runs) - set(RUNS))
    if unknown:
        print(f"error: --runs {unknown}: names are {sorted(RUNS)}", file=sys.stderr)
        return 2
    for name in args.train:
        if name not in runs:
            runs[name] = trained_run(name, args.set, args.output_dir, args.samples or None)
    missing = [name for name, path in runs.items() if not (path / "metrics.json").is_file()]
    if missing or not runs:
        print(
            f"error: no finished run for {missing or 'any run'} (give --train or --runs NAME=RUN_DIR)", file=sys.stderr
        )
        return 2
    section = report(args, dict(sorted(runs.items(), key=lambda item: list(RUNS).index(item[0]))))
    replace_section(args.output, BEGIN, END, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
