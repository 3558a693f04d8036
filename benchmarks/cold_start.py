"""How long a fresh process takes to import newsclf and predict one article, and where that time goes.

    python benchmarks/cold_start.py --model runs/latest/model --output docs/speed.md

Each measurement is a new ``python`` process (the median of ``--repeats``): ``import inference`` alone;
``newsclf-predict --help``; and ``predict("...", model=DIR)`` from nothing, split into its imports (torch,
then the rest of newsclf), loading the folder and the prediction itself, and whether that process imported
transformers' model classes (a BERT-family folder loads without them:
:func:`inference.model.loading.load_for_prediction`).
Wall-clock times include the interpreter's start and exit, as a user's script pays them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from common import describe_machine, publish

BEGIN, END = "<!-- cold-start:begin -->", "<!-- cold-start:end -->"
ARTICLE = "Senate passes the budget after a late-night vote"
STAGES = """
import json, sys, time
marks = [time.perf_counter()]
import torch
marks.append(time.perf_counter())
from inference.prediction.predictor import Predictor
marks.append(time.perf_counter())
predictor = Predictor.from_pretrained({model!r})
marks.append(time.perf_counter())
predictor.predict({article!r})
marks.append(time.perf_counter())
print(json.dumps([[b - a for a, b in zip(marks, marks[1:])], "transformers.modeling_utils" in sys.modules]))
"""
STAGE_NAMES = ("import torch", "import the rest of newsclf", "load", "predict")


def wall_seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def median_wall(command: list[str], repeats: int) -> float:
    return statistics.median(wall_seconds(command) for _ in range(repeats))


def stage_seconds(model: str, repeats: int) -> tuple[list[float], bool]:
    """The median of each stage over ``repeats`` fresh processes, and whether any imported transformers'
    model classes."""
    runs, heavy = [], False
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", STAGES.format(model=model, article=ARTICLE)],
            check=True,
            capture_output=True,
            text=True,
        )
        seconds, imported = json.loads(done.stdout.strip().splitlines()[-1])
        runs.append(seconds)
        heavy = heavy or imported
    return [statistics.median(column) for column in zip(*runs)], heavy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model folder")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", help="markdown file whose cold-start section is replaced")
    args = parser.parse_args(argv)
    python = sys.executable
    rows = [
        ("`python -c 'import inference'`", median_wall([python, "-c", "import inference"], args.repeats)),
        ("`newsclf-predict --help`", median_wall([python, "-m", "inference", "--help"], args.repeats)),
        (
            "`predict(article, model=DIR)` from a fresh process",
            median_wall(
                [python, "-c", f"from inference import predict; predict({ARTICLE!r}, model={args.model!r})"],
                args.repeats,
            ),
        ),
    ]
    stages, heavy = stage_seconds(args.model, args.repeats)
    lines = [
        "## Cold start: importing newsclf and predicting one article",
        "",
        f"`python benchmarks/cold_start.py --model {Path(args.model).name} --repeats {args.repeats}`  ",
        f"on {describe_machine()}, {date.today().isoformat()}; medians of {args.repeats} fresh processes.",
        "",
        "| what | seconds |",
        "|---|---:|",
        *[f"| {name} | {seconds:.2f} |" for name, seconds in rows],
        "",
        "| stage of the first prediction (in-process clock) | seconds |",
        "|---|---:|",
        *[f"| {name} | {seconds:.2f} |" for name, seconds in zip(STAGE_NAMES, stages)],
        f"| total | {sum(stages):.2f} |",
        "",
        f"transformers' model classes (`transformers.modeling_utils`) imported: {'yes' if heavy else 'no'}.",
    ]
    publish("\n".join(lines), args.output, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
