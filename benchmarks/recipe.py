"""The shipped AllSides recipes, trained in full and scored against TF-IDF and the targets.

    python benchmarks/recipe.py --train outlet random --output docs/results.md      # ~1 h each on 2 CPU cores
    python benchmarks/recipe.py --runs outlet=runs/recipe-outlet random=runs/recipe-random --output docs/results.md

Each protocol trains its config as shipped (``configs/allsides-outlet.yaml``, ``configs/allsides.yaml``),
which fits its TF-IDF + linear SVM model with the run (``training.fuse_tfidf``) on the same articles,
splits and scrubbing: the table sets the encoder alone, TF-IDF alone and what the saved model predicts
(the two fused and calibrated on validation) side by side, with the ECE of the encoder's softmax and of
the calibrated output. The test split of each run is scored once, at the end of its training.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from common import describe_machine, encoder_alone, publish

from inference import Predictor
from training.config import load_config
from training.data import field_columns, read_table
from training.fitting.recipe import train

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- recipe:begin -->", "<!-- recipe:end -->"
HEADER = (
    "| protocol | split | task | TF-IDF acc | TF-IDF F1 | encoder acc | encoder F1 | shipped acc | shipped F1 "
    "| TF-IDF share | temperature | ECE encoder | ECE shipped | target |"
)
CONFIGS = {"outlet": "allsides-outlet.yaml", "random": "allsides.yaml"}
# (protocol, split, task, metric) -> target, from issue 16
TARGETS = {
    ("outlet", "test", "leaning", "macro_f1"): 60.0,
    ("random", "test", "leaning", "macro_f1"): 90.0,
    ("random", "validation", "topic", "accuracy"): 70.0,
    ("outlet", "test", "topic_coarse", "accuracy"): 75.0,
}


def trained_run(protocol: str, output_dir: Path, extra: list[str]) -> Path:
    """Trains (or resumes, or reads a finished) ``recipe-<protocol>`` run folder."""
    config = load_config(
        ROOT / "configs" / CONFIGS[protocol],
        [f"run.name=recipe-{protocol}", f"run.output_dir={output_dir}", "evaluation.example=false", *extra],
    )
    run_dir = output_dir / config.run.name
    if (run_dir / "metrics.json").is_file():
        return run_dir
    return train(config, resume=run_dir.is_dir())


def scored(row: dict, name: str) -> str:
    """``acc | F1`` of the encoder or the TF-IDF model from a calibration report row."""
    if f"{name}_accuracy" not in row:
        return "– | –"
    return f"{100 * row[f'{name}_accuracy']:.1f} | {100 * row[f'{name}_macro_f1']:.1f}"


def target_marks(protocol: str, split: str, task: str, accuracy: float, macro_f1: float) -> str:
    marks = []
    for metric, value in (("accuracy", accuracy), ("macro_f1", macro_f1)):
        target = TARGETS.get((protocol, split, task, metric))
        if target is not None:
            outcome = "met" if value >= target else f"missed by {target - value:.1f}"
            marks.append(f"{metric} ≥ {target:g}: {outcome}")
    return "; ".join(marks)


def rows_of(protocol: str, run_dir: Path) -> list[str]:
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    rows = []
    for split, per_task in metrics["splits"].items():
        for task, scores in per_task.items():
            calibration = metrics.get("calibration", {}).get(task)
            if calibration is None:  # an adversarial task: not predicted
                continue
            row = calibration["splits"][split]
            accuracy, macro_f1 = 100 * scores["accuracy"], 100 * scores["macro_f1"]
            rows.append(
                f"| {protocol} | {split} | {task} | {scored(row, 'tfidf')} | {scored(row, 'encoder')} | "
                f"{accuracy:.1f} | {macro_f1:.1f} | {calibration['tfidf_weight']:.2f} | "
                f"{calibration['temperature']:.2f} | {row['ece_before']:.3f} | {row['ece_after']:.3f} | "
                f"{target_marks(protocol, split, task, accuracy, macro_f1)} |"
            )
    return rows


def cost_rows(protocol: str, run_dir: Path) -> list[str]:
    train_info = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["train"]
    tfidf = (train_info.get("tfidf") or {}).get("seconds")
    fit = "–" if tfidf is None else f"{tfidf / 60:.1f} min"
    speed = train_info["samples_per_second"] or 0
    return [f"| {protocol} | {train_info['seconds'] / 60:.0f} min | {speed:.1f} | {fit} | {train_info['steps']} |"]


def fusion_cost(run_dir: Path, count: int) -> str:
    """Articles/s of the saved model with and without its TF-IDF fusion, and the sparse model's share of the time."""
    config = load_config(run_dir / "config.yaml")
    table = read_table(config.data.train_file)
    rows = table.select(range(min(count, len(table))))
    count = len(rows)
    articles = [{field: row[column] for field, column in field_columns(config.data).items()} for row in rows]
    fused = Predictor.from_pretrained(run_dir / "model")
    if fused.tfidf is None:
        return f"{run_dir.name}: no TF-IDF model in the folder"
    alone = encoder_alone(fused)
    seconds = {}
    for name, predictor in (("encoder alone", alone), ("fused", fused)):
        predictor.predict(articles[:8])  # warm-up
        started = time.perf_counter()
        predictor.predict(articles)
        seconds[name] = time.perf_counter() - started
    share = 1 - seconds["encoder alone"] / seconds["fused"]
    return (
        f"{run_dir.name} ({fused.backend_name}, {count} articles): {count / seconds['encoder alone']:.1f} articles/s "
        f"without TF-IDF, {count / seconds['fused']:.1f} fused; TF-IDF takes {100 * share:.1f}% of prediction time"
    )


def report(runs: dict[str, Path], command: str, speed: int = 0) -> str:
    rows = [row for protocol, run_dir in runs.items() for row in rows_of(protocol, run_dir)]
    costs = [row for protocol, run_dir in runs.items() for row in cost_rows(protocol, run_dir)]
    return "\n".join(
        [
            "## AllSides: the shipped recipes against TF-IDF",
            "",
            f"Command: `{command}`  ",
            f"Machine: {describe_machine()}  ",
            f"Date: {date.today().isoformat()}  ",
            "Runs: " + ", ".join(f"{p} `{d}`" for p, d in runs.items()) + ". Settings are the configs' own; the",
            "TF-IDF share, its sharpness and the temperature were fitted on validation; each test split scored once.",
            "",
            HEADER,
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "| protocol | encoder training | samples/s | TF-IDF fit | steps |",
            "|---|---|---|---|---|",
            *costs,
            *(
                ["", "Prediction cost of the fusion: " + "; ".join(fusion_cost(d, speed) for d in runs.values())]
                if speed
                else []
            ),
        ]
    )


def parse_runs(items: list[str]) -> dict[str, Path]:
    runs = {}
    for item in items:
        protocol, _, folder = item.partition("=")
        if protocol not in CONFIGS or not folder:
            raise SystemExit(f"--runs {item!r}: expected PROTOCOL=RUN_FOLDER with PROTOCOL one of {list(CONFIGS)}")
        runs[protocol] = Path(folder)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", nargs="+", choices=list(CONFIGS), default=[], help="protocols to train")
    parser.add_argument("--runs", nargs="+", default=[], metavar="PROTOCOL=RUN_FOLDER", help="finished runs to read")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "runs", help="where --train puts its runs")
    parser.add_argument("--set", dest="overrides", nargs="+", default=[], metavar="KEY=VALUE")
    parser.add_argument("--output", type=Path, help="markdown file whose recipe section is replaced")
    parser.add_argument("--speed", type=int, default=500, help="articles timed with and without fusion (0: none)")
    args = parser.parse_args(argv)
    runs = parse_runs(args.runs)
    for protocol in args.train:
        runs[protocol] = trained_run(protocol, args.output_dir, args.overrides)
    if not runs:
        parser.error("nothing to report: give --train or --runs")
    section = report(runs, "python benchmarks/recipe.py " + " ".join(sys.argv[1:]), args.speed)
    publish(section, args.output, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
