"""Each part of a trained model scored on the same articles, with what it costs to predict.

    python benchmarks/side_by_side.py --run outlet=runs/lpft-outlet --probe outlet=runs/probe-outlet \\
        --splits validation --windows 1 2 --output docs/results.md

For every ``--run NAME=RUN_FOLDER`` (a folder written by ``newsclf-train``) the table holds: the saved model as it
predicts (fused, where the folder holds a TF-IDF model), its encoder and heads alone, its TF-IDF model alone, and the
frozen probe of the same data (``--probe NAME=RUN_FOLDER``, a run with ``training.mode: probe``). A folder that fuses
no TF-IDF model takes its TF-IDF row from a baseline run of the same config (``--tfidf NAME=RUN_FOLDER``, written
by ``newsclf-baseline``). ``--windows K``
adds, on the first split only, the encoder alone reading at most K windows of each article (``chunks`` models
only): what reading more of the article buys, and what it costs. A run of several datasets gets a table per
dataset, with that dataset's tasks. Every row scores the same rows of the run's own
split, read as the run's ``training_config.yaml`` says, with torch in the CPU's best precision; articles/s is the
wall time of ``predict_proba`` over the split, tokenizing included, one row after another in one process.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from common import describe_machine, encoder_alone, publish

from inference import Predictor
from inference.prediction.tfidf import TfidfPredictor
from training.config import Config, load_config
from training.scoring.evaluation import labelled_rows, score_rows

BEGIN, END = "<!-- side-by-side:begin -->", "<!-- side-by-side:end -->"
Model = Predictor | TfidfPredictor


def model_parts(
    run_dir: Path, probe_dir: Path | None, windows: list[int], tfidf_dir: Path | None = None
) -> tuple[dict[str, Model], set[str]]:
    """The rows of one run's table (name -> what predicts them), and the names of the narrowed encoders' rows."""
    saved = Predictor.from_pretrained(run_dir / "model", backend="torch")
    parts: dict[str, Model] = {}
    if saved.tfidf is not None:
        parts.update({"saved model (fused)": saved, "encoder alone": encoder_alone(saved), "TF-IDF alone": saved.tfidf})
    else:
        parts["saved model (encoder)"] = saved
        if tfidf_dir is not None:
            parts["TF-IDF alone"] = TfidfPredictor.from_pretrained(tfidf_dir / "model")
    narrowed: set[str] = set()
    if saved.window.strategy == "chunks":
        for count in sorted(set(windows) - {saved.window.max_windows}):
            encoder = encoder_alone(saved)
            encoder.window = replace(saved.window, max_windows=count)
            name = f"encoder alone, {count} window{'s' if count > 1 else ''}"
            parts[name] = encoder
            narrowed.add(name)
    if probe_dir is not None:
        parts["frozen probe"] = Predictor.from_pretrained(probe_dir / "model", backend="torch")
    return parts, narrowed


def reads(model: Model) -> str:
    """How much of an article a row's model reads."""
    if isinstance(model, TfidfPredictor):
        return "every word"
    window = model.window
    if window.strategy == "chunks":
        return f"≤ {window.max_windows} × {window.max_length} tokens"
    return f"{window.max_length} tokens ({window.strategy})"


def split_source(config: Config, split: str) -> tuple[str, str | None]:
    """The file a split's rows are in, and the split to take from it (``None``: all its rows)."""
    own_file = {"validation": config.data.validation_file, "test": config.data.test_file}.get(split)
    return (own_file, None) if own_file else (config.data.train_file, split)


def table(name: str, run_dir: Path, others: dict[str, Path], splits: list[str], windows: list[int]) -> list[str]:
    """One run's rows, a table per dataset it was trained on; ``others`` holds its ``probe`` and ``tfidf`` run
    folders where given."""
    datasets = load_config(run_dir / "model" / "training_config.yaml").parts()
    probe_dir = others.get("probe")
    parts, narrowed = model_parts(run_dir, probe_dir, windows, others.get("tfidf"))
    lines: list[str] = []
    for dataset, config in datasets.items():
        title = f"**{name}**" + (f", dataset `{dataset}`" if len(datasets) > 1 else "")
        lines += [f"{title} (`{run_dir}`)" + (f", probe `{probe_dir}`" if probe_dir else "") + ":", ""]
        lines += [*dataset_rows(config, parts, narrowed, splits), ""]
    return lines[:-1]


def dataset_rows(config: Config, parts: dict[str, Model], narrowed: set[str], splits: list[str]) -> list[str]:
    """The table of one dataset's tasks: every part scored on each split's rows."""
    first = next(iter(parts.values()))
    lines: list[str] = []
    for split in splits:
        rows, tasks = labelled_rows(first, config, *split_source(config, split))
        if not lines:
            lines += [
                "| split | model | reads | " + " | ".join(f"{task} acc / F1" for task in tasks) + " | articles/s |",
                "|---" * (len(tasks) + 4) + "|",
            ]
        for label, model in parts.items():
            if (label in narrowed and split != splits[0]) or not set(tasks) <= set(model.tasks):
                continue  # a TF-IDF model fitted on another dataset has none of this one's tasks
            score_rows(model, rows.select(range(min(8, len(rows)))), tasks)  # warm-up
            started = time.perf_counter()
            scores = score_rows(model, rows, tasks)
            speed = len(rows) / (time.perf_counter() - started)
            cells = [f"{100 * scores[t]['accuracy']:.1f} / {100 * scores[t]['macro_f1']:.1f}" for t in tasks]
            lines.append(
                f"| {split} ({len(rows)}) | {label} | {reads(model)} | " + " | ".join(cells) + f" | {speed:.1f} |"
            )
            print(lines[-1], flush=True)
    return lines


def named_folders(items: list[str], flag: str) -> dict[str, Path]:
    folders = {}
    for item in items:
        name, _, folder = item.partition("=")
        if not name or not folder or not Path(folder, "model").is_dir():
            raise SystemExit(f"{flag} {item!r}: expected NAME=RUN_FOLDER, a run folder holding model/")
        folders[name] = Path(folder)
    return folders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", nargs="+", required=True, metavar="NAME=RUN_FOLDER", help="trained runs to score")
    parser.add_argument("--probe", nargs="+", default=[], metavar="NAME=RUN_FOLDER", help="each run's frozen probe")
    parser.add_argument(
        "--tfidf", nargs="+", default=[], metavar="NAME=RUN_FOLDER", help="a TF-IDF baseline run, for a run fusing none"
    )
    parser.add_argument("--splits", nargs="+", default=["validation"], choices=["validation", "test"])
    parser.add_argument("--windows", nargs="+", type=int, default=[], help="also score the encoder at these windows")
    parser.add_argument("--output", type=Path, help="markdown file whose side-by-side section is replaced")
    args = parser.parse_args(argv)
    runs = named_folders(args.run, "--run")
    others = {"probe": named_folders(args.probe, "--probe"), "tfidf": named_folders(args.tfidf, "--tfidf")}
    for kind, folders in others.items():
        if set(folders) - set(runs):
            parser.error(f"--{kind} names {sorted(set(folders) - set(runs))}, which no --run names")
    lines = [
        "## Each model's parts side by side",
        "",
        f"Command: `python benchmarks/side_by_side.py {' '.join(sys.argv[1:] if argv is None else argv)}`  ",
        f"Machine: {describe_machine()}  ",
        f"Date: {date.today().isoformat()}  ",
        "Scores are accuracy / macro-F1 in %; articles/s is one process predicting the whole split (torch, bf16",
        "where the CPU has it).",
        "",
    ]
    for name, run_dir in runs.items():
        own = {kind: folders[name] for kind, folders in others.items() if name in folders}
        lines += [*table(name, run_dir, own, args.splits, args.windows), ""]
    publish("\n".join(lines).rstrip(), args.output, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
