"""Screens training ideas on a fixed seeded sample of AllSides, each variant on the same budget.

    python benchmarks/ablation.py --output docs/results.md                       # every variant, ~8 min each
    python benchmarks/ablation.py --variants shipped-128 two-tasks --work /tmp/screen
    python benchmarks/ablation.py --report-only --work /tmp/screen --output docs/results.md

Every variant is ``configs/allsides-outlet.yaml`` (outlets of validation never seen in training) with
the overrides of :data:`VARIANTS`, trained on the same 8,000 seeded training articles for one epoch
and scored on the whole validation split; the test split is not touched (``evaluation.test=false``).
A variant whose run folder already holds ``metrics.json`` is read, not trained again. The prediction
cost is the Trainer's own validation pass (articles/s), so variants that read more windows show it.
The section replaces the ablation part of ``--output``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from common import PLAIN_FINETUNE, describe_machine, publish

from training.config import load_config
from training.fitting.recipe import train

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- ablation:begin -->", "<!-- ablation:end -->"
HEADER = (
    "| variant | what | leaning acc | leaning macro-F1 | topic acc | topic macro-F1 | outlet acc "
    "| train min | samples/s | predict articles/s |"
)
SCREEN = [
    *PLAIN_FINETUNE,
    "data.max_train_samples=8000",
    "data.unseen_label=ignore",  # a sample misses rare topics: those validation labels count as missing
    "training.fuse_tfidf=false",  # the encoder is what is screened; a fused TF-IDF model would be alike in every row
    "training.epochs=1",
    "evaluation.test=false",
    "evaluation.example=false",
    "evaluation.confusion_matrices=false",
]
TOPIC = "{name: topic, label_column: topic}"
COARSE = "{name: topic_coarse, label_column: topic, label_map_file: taxonomies/allsides_coarse.yaml}"
LEANING = "{name: leaning, label_column: bias, labels: [left, center, right]}"
OUTLET = "{name: outlet, label_column: source, kind: adversarial}"
TWO_TASKS = [f"tasks=[{TOPIC}, {LEANING}]", "model.max_length=128"]
VARIANTS: dict[str, tuple[str, list[str]]] = {
    "shipped-256": ("the shipped recipe: 3 tasks, head+tail 256", []),
    "shipped-128": ("3 tasks, head+tail 128", ["model.max_length=128"]),
    "two-tasks": ("topic + leaning, head+tail 128 (no coarse-topic head)", TWO_TASKS),
    "leaning-only": ("leaning alone, head+tail 128", [f"tasks=[{LEANING}]", "model.max_length=128"]),
    "topic-weight-0.3": ("two-tasks, topic loss weight 0.3", [*TWO_TASKS, "tasks.0.weight=0.3"]),
    "topic-weights-0.1": (
        "3 tasks, head+tail 128, both topic losses weighted 0.1",
        ["model.max_length=128", "tasks.0.weight=0.1", "tasks.1.weight=0.1"],
    ),
    "adversarial-outlet": ("two-tasks + outlet head through gradient reversal", [*TWO_TASKS, f"tasks.2={OUTLET}"]),
    "adversarial-outlet-0.3": (
        "two-tasks + outlet adversary, reversal 0.3",
        [*TWO_TASKS, f"tasks.2={OUTLET}", "tasks.2.reversal=0.3"],
    ),
    "draw-1-of-8": (
        "two-tasks, chunks of 128: 1 window drawn per article and epoch, prediction pools up to 8",
        [*TWO_TASKS, "model.window=chunks", "model.max_windows=8", "model.train_windows=1"],
    ),
    "chunks-2": (
        "two-tasks, chunks of 128: 2 windows per article in training and prediction",
        [*TWO_TASKS, "model.window=chunks", "model.max_windows=2"],
    ),
    "label-smoothing-0.1": ("two-tasks, label smoothing 0.1", [*TWO_TASKS, "training.label_smoothing=0.1"]),
    "topic-balanced": ("two-tasks, balanced class weights on topic", [*TWO_TASKS, "tasks.0.class_weights=balanced"]),
    "lr-5e-5": ("two-tasks, learning rate 5e-5", [*TWO_TASKS, "training.learning_rate=5e-5"]),
}


def run_variant(name: str, work: Path, extra: list[str]) -> Path:
    """The run folder of a variant, trained (or resumed) unless it already holds its metrics."""
    _, overrides = VARIANTS[name]
    config = load_config(
        ROOT / "configs" / "allsides-outlet.yaml",
        [*SCREEN, *overrides, *extra, f"run.name={name}", f"run.output_dir={work}"],
    )
    run_dir = work / name
    if (run_dir / "metrics.json").is_file():
        return run_dir
    return train(config, resume=run_dir.is_dir())


def eval_speed(run_dir: Path) -> float | None:
    """Articles/s of the last validation pass the Trainer logged."""
    history = json.loads((run_dir / "log_history.json").read_text(encoding="utf-8"))
    speeds = [entry["eval_samples_per_second"] for entry in history if "eval_samples_per_second" in entry]
    return speeds[-1] if speeds else None


def encoder_scores(metrics: dict) -> dict[str, float]:
    """Validation scores of the encoder alone: the summary, or for a run that fused TF-IDF (the shipped
    config's default), the encoder's own scores from its calibration report."""
    summary = dict(metrics["summary"]["validation"])
    for task, calibration in (metrics.get("calibration") or {}).items():
        if calibration.get("tfidf_weight", 0) > 0:
            row = calibration["splits"]["validation"]
            summary.update({f"{task}_{m}": row[f"encoder_{m}"] for m in ("accuracy", "macro_f1")})
    return summary


def table_row(name: str, run_dir: Path) -> str:
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    summary = encoder_scores(metrics)

    def score(key: str) -> str:
        return f"{100 * summary[key]:.1f}" if key in summary else "–"

    train_info = metrics["train"]
    speed = eval_speed(run_dir)
    return (
        f"| {name} | {VARIANTS[name][0]} | {score('leaning_accuracy')} | {score('leaning_macro_f1')} | "
        f"{score('topic_accuracy')} | {score('topic_macro_f1')} | {score('outlet_accuracy')} | "
        f"{train_info['seconds'] / 60:.1f} | {train_info['samples_per_second'] or 0:.1f} | "
        f"{'–' if speed is None else f'{speed:.1f}'} |"
    )


def report(work: Path, names: list[str], command: str) -> str:
    rows = [table_row(name, work / name) for name in names if (work / name / "metrics.json").is_file()]
    return "\n".join(
        [
            "## Ablation: training ideas on a seeded AllSides sample (outlet protocol, validation)",
            "",
            f"Command: `{command}`  ",
            f"Machine: {describe_machine()}  ",
            f"Date: {date.today().isoformat()}  ",
            "Each row: 8,000 seeded training articles (the same for every row), 1 epoch, the encoder alone scored on",
            "the whole outlet-disjoint validation split (3,288 articles from outlets never seen in training); test",
            "untouched.",
            "`outlet` is the adversary's own accuracy at naming the (unseen) validation outlet: 0 by construction.",
            "",
            HEADER,
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "ablation", help="where the runs go")
    parser.add_argument("--set", dest="overrides", nargs="+", default=[], metavar="KEY=VALUE")
    parser.add_argument("--report-only", action="store_true", help="tabulate the finished runs, train nothing")
    parser.add_argument("--output", type=Path, help="markdown file whose ablation section is replaced")
    args = parser.parse_args(argv)
    if not args.report_only:
        for name in args.variants:
            print(f"== {name}: {VARIANTS[name][0]}", flush=True)
            run_variant(name, args.work, args.overrides)
    section = report(args.work, args.variants, "python benchmarks/ablation.py " + " ".join(sys.argv[1:]))
    publish(section, args.output, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
