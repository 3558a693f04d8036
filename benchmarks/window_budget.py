"""What reading more of an article buys: the outlet split's validation scores at 1, 2 and 4 windows of 128 tokens.

    python benchmarks/window_budget.py --probe 1 2 4 4-max --work runs/windows      # frozen MiniLM, ~30 min
    python benchmarks/window_budget.py --model runs/minilm-outlet-w1/model --windows 1 2 4
    python benchmarks/window_budget.py --probe 1 2 4 4-max --model M --windows 1 2 4 --output docs/results.md

Two questions, both on validation only (the test split is not touched):

- ``--probe``: does the frozen encoder's article vector carry more when it averages more windows? Each budget is
  ``--config`` (``configs/allsides-outlet.yaml``; ``--set`` adds overrides) as a probe (no fine-tuning, no
  TF-IDF) on the whole training split (or ``data.max_train_samples`` of it), its heads fitted on the mean
  (``4-max``: the element-wise max) of up to that many windows' vectors. Vectors are cached
  (``training.feature_cache``), so a budget embedded once is read, not embedded, again.
- ``--model``: does a fine-tuned folder gain from reading more windows than it was trained on? The same folder
  predicts validation at each budget (its heads unchanged), with articles/s at each.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import date
from pathlib import Path

from common import describe_machine, markers, publish

from inference import Predictor
from training.config import load_config
from training.fitting.recipe import train
from training.scoring.evaluation import labelled_rows, score_rows

ROOT = Path(__file__).resolve().parents[1]
PROBE = [
    "training.mode=probe",
    "training.refit_heads=false",
    "training.fuse_tfidf=false",
    "evaluation.test=false",
    "evaluation.example=false",
    "evaluation.confusion_matrices=false",
    "model.window=chunks",
    "model.train_windows=0",
]


def probe_budget(budget: str, work: Path, cache: Path, config: Path, extra: list[str]) -> dict[str, dict[str, float]]:
    """Validation scores of the frozen probe at ``budget`` ("4": mean of up to 4 windows, "4-max": their max),
    trained unless its run folder already holds them."""
    windows, _, pooling = budget.partition("-")
    run_dir = work / f"probe-w{budget}"
    if not (run_dir / "metrics.json").is_file():
        overrides = [
            *PROBE,
            f"model.max_windows={windows}",
            f"model.window_pooling={pooling or 'mean'}",
            f"run.name={run_dir.name}",
            f"run.output_dir={work}",
            f"training.feature_cache={cache}",
            *extra,
        ]
        train(load_config(config, overrides))
    return json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["splits"]["validation"]


def model_budgets(folder: Path, budgets: list[int]) -> dict[int, tuple[dict[str, dict[str, float]], float]]:
    """The folder's validation scores and articles/s at each window budget (its encoder alone: no TF-IDF)."""
    predictor = Predictor.from_pretrained(folder, backend="torch")
    config = load_config(folder / "training_config.yaml")
    rows, tasks = labelled_rows(predictor, config, config.data.train_file, "validation")
    results = {}
    trained = predictor.window
    for budget in budgets:
        predictor.window = dataclasses.replace(trained, max_windows=budget)
        start = time.perf_counter()
        scores = score_rows(predictor, rows, tasks)
        results[budget] = (scores, len(rows) / (time.perf_counter() - start))
    predictor.window = trained
    return results


def cells(scores: dict[str, dict[str, float]]) -> str:
    return " | ".join(f"{100 * s['accuracy']:.1f} / {100 * s['macro_f1']:.1f}" for s in scores.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probe", nargs="*", default=[], metavar="BUDGET", help="frozen-probe budgets: 1, 2, 4, 4-max")
    parser.add_argument(
        "--config", type=Path, default=ROOT / "configs" / "allsides-outlet.yaml", help="the probe runs' config"
    )
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="more overrides of the probe runs")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "windows", help="where the probe runs go")
    parser.add_argument(
        "--feature-cache", type=Path, default=ROOT / "runs" / "feature-cache", help="the probe runs' vector cache"
    )
    parser.add_argument("--model", type=Path, help="a fine-tuned model folder to predict at each of --windows")
    parser.add_argument("--windows", nargs="+", type=int, default=[1, 2, 4], help="budgets for --model")
    parser.add_argument("--output", type=Path, help="markdown file whose --section is replaced")
    parser.add_argument(
        "--section", default="windows", help="the marked section of --output (<!-- NAME:begin --> to <!-- NAME:end -->)"
    )
    args = parser.parse_args(argv)
    lines = [
        f"Command: `python benchmarks/window_budget.py {' '.join(sys.argv[1:] if argv is None else argv)}`  ",
        f"Machine: {describe_machine()}; {date.today().isoformat()}.  ",
        "Validation (outlets unseen in training), the encoder alone; accuracy / macro-F1 per task.",
        "",
    ]
    probes = {
        budget: probe_budget(budget, args.work, args.feature_cache, args.config, args.set) for budget in args.probe
    }
    if probes:
        tasks = next(iter(probes.values()))
        encoder = load_config(args.config, args.set).model.name
        lines += [f"| frozen {encoder} probe, windows | " + " | ".join(tasks) + " |", "|---" * (len(tasks) + 1) + "|"]
        lines += [f"| {budget} | {cells(scores)} |" for budget, scores in probes.items()]
    if args.model:
        results = model_budgets(args.model, args.windows)
        tasks = next(iter(results.values()))[0]
        lines += ["", f"| `{args.model}` predicting, windows | " + " | ".join(tasks) + " | articles/s |"]
        lines.append("|---" * (len(tasks) + 2) + "|")
        lines += [f"| {budget} | {cells(scores)} | {speed:.1f} |" for budget, (scores, speed) in results.items()]
    publish("\n".join(lines), args.output, *markers(args.section))
    return 0


if __name__ == "__main__":
    sys.exit(main())
