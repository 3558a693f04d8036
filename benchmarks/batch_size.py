"""Windows per forward pass against prediction speed: an alternating A/B in one process.

    python benchmarks/batch_size.py --model runs/bench/model --articles 96 --rounds 4 --output docs/speed.md

Machines like ours vary by ±15% from one process to the next, more than the effect measured here, so
every batch size runs in the same process, round after round in turn, on the same articles (the model's
own validation split, or ``--data``), once with the model's windowing and once with ``chunks`` (the
whole article). The table gives the median articles/s of the rounds, their spread, and the speed
against ``--baseline`` (32, the Predictor's batch until 2026-12-05); the row of ``None`` is the
Predictor's default (:func:`inference.prediction.backends.default_batch_size`). ``--pipelines`` adds, in the same
rounds, one transformers pipeline per task reading the head (``prediction_speed.py``'s baseline, as
many texts a pass as the default batch), and the speed of the default batch's chunks against it.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
from dataclasses import replace
from datetime import date

import torch
from common import describe_machine, publish, time_turns
from prediction_speed import benchmark_articles, pipelines_worker

from inference import Predictor

BEGIN, END = "<!-- batch-size:begin -->", "<!-- batch-size:end -->"
PIPELINES = ("pipelines", None)


class Pipelines:
    """``prediction_speed.py``'s pipelines baseline with a Predictor's ``predict`` (for the rounds)."""

    def __init__(self, model_dir: str, articles: list[dict]) -> None:
        self.run, _, _ = pipelines_worker(model_dir, articles, None)

    def predict(self, articles: list[dict]) -> dict:
        return self.run()  # the articles it was built on


def time_rounds(predictors: dict[tuple[str, int | None], Predictor], articles: list[dict], rounds: int) -> dict:
    """Articles/s of each predictor in each round, the predictors taking turns (:func:`common.take_turns`)."""
    calls = {key: functools.partial(predictor.predict, articles) for key, predictor in predictors.items()}
    return {key: [len(articles) / t for t in seconds] for key, seconds in time_turns(calls, rounds).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model folder")
    parser.add_argument("--data", help="JSON lines of articles; default: the model's own validation split")
    parser.add_argument("--articles", type=int, default=96)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 16, 8, 4], help="batch sizes besides None")
    parser.add_argument("--baseline", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pipelines", action="store_true", help="also time the pipelines baseline")
    parser.add_argument("--output", help="markdown file whose batch-size section is replaced")
    args = parser.parse_args(argv)
    args.command = " ".join(["python benchmarks/batch_size.py", *(sys.argv[1:] if argv is None else argv)])
    torch.set_num_threads(args.threads)  # the pipelines' threads; each Predictor holds its own while it runs
    articles = benchmark_articles(args.model, args.articles, args.data)
    sizes: list[int | None] = [None, *dict.fromkeys([args.baseline, *args.sizes])]
    predictors = {}
    for strategy in ("model", "chunks"):
        for size in sizes:
            predictor = Predictor.from_pretrained(
                args.model, backend="torch", precision=args.precision, batch_size=size, num_threads=args.threads
            )
            if strategy == "chunks":
                predictor.window = replace(predictor.window, strategy="chunks")
            predictor.predict(articles[:4])  # warm-up
            predictors[strategy, size] = predictor
    if args.pipelines:
        predictors[PIPELINES] = Pipelines(args.model, articles)
    speeds = time_rounds(predictors, articles, args.rounds)
    publish(report(args, predictors, speeds, len(articles)), args.output, BEGIN, END)
    return 0


def report(args: argparse.Namespace, predictors: dict, speeds: dict, count: int) -> str:
    any_predictor = next(iter(predictors.values()))
    lines = [
        "## Batch size: windows per forward pass (prediction, one process)",
        "",
        f"`{args.command}`  ",
        (
            f"on {describe_machine()}, {args.threads} threads, torch {torch.__version__}, {date.today().isoformat()}; "
            f"{count} articles, {args.rounds} alternating rounds, {any_predictor.backend.precision} torch, "
            f"windows of {any_predictor.window.max_length} tokens."
        ),
        "",
        "| windowing | batch (windows) | articles/s (median) | spread | × batch " + f"{args.baseline} |",
        "|---|---|---:|---|---:|",
    ]
    pipelines = speeds.pop(PIPELINES, None)
    for (strategy, size), values in speeds.items():
        name = f"the model's ({any_predictor.window.strategy})" if strategy == "model" else "chunks"
        baseline = statistics.median(speeds[strategy, args.baseline])
        median = statistics.median(values)
        label = f"{predictors[strategy, size].batch_size} (default)" if size is None else str(size)
        spread = f"{min(values):.1f}–{max(values):.1f}"
        lines.append(f"| {name} | {label} | {median:.1f} | {spread} | {median / baseline:.2f} |")
    if pipelines:
        chunks, head = statistics.median(speeds["chunks", None]), statistics.median(pipelines)
        lines += [
            "",
            (
                f"One pipeline per task on the head, in the same rounds: {head:.1f} articles/s (median; "
                f"{min(pipelines):.1f}–{max(pipelines):.1f}); chunks at the default batch: {chunks / head:.2f}× that."
            ),
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
