"""How long a fresh process takes to import newsclf and predict one article, and where that time goes.

    python benchmarks/cold_start.py --model runs/latest/model --output docs/speed.md

Each measurement is a new ``python`` process (the median of ``--repeats``): ``import inference`` alone;
``newsclf-predict --help``; and, per backend (torch, and ONNX Runtime when the folder has an export), one clock
for the first prediction: the time from starting a ``python -c`` process that loads the folder and predicts one
article to its printed answer, as a user's script meets it, beside that same process's own breakdown (importing
torch when the backend needs it, importing newsclf, loading the folder, predicting), the rest (the interpreter's
start), and the exit that follows the answer. It also says whether the process imported torch and transformers'
model classes.
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
if {backend!r} == "torch":
    import torch
marks.append(time.perf_counter())
from inference.prediction.predictor import Predictor
marks.append(time.perf_counter())
predictor = Predictor.from_pretrained({model!r}, backend={backend!r})
marks.append(time.perf_counter())
predictor.predict({article!r})
marks.append(time.perf_counter())
stages = [b - a for a, b in zip(marks, marks[1:])]
print(json.dumps([stages, "torch" in sys.modules, "transformers.modeling_utils" in sys.modules]), flush=True)
"""
STAGE_NAMES = ("import torch", "import newsclf", "load", "predict")


def wall_seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def median_wall(command: list[str], repeats: int) -> float:
    return statistics.median(wall_seconds(command) for _ in range(repeats))


def answered_and_ended(code: str) -> tuple[float, float, str]:
    """Seconds from starting ``python -c code`` to its last line of output (printed, flushed, once it has the
    answer) and to its exit, and that line."""
    started = time.perf_counter()
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        answered, last = started, ""
        for line in process.stdout:  # each line as it is printed; the loop ends when the process closes stdout
            if line.strip():
                answered, last = time.perf_counter(), line
        if process.wait() != 0:
            raise subprocess.CalledProcessError(process.returncode, [sys.executable, "-c", "..."])
    return answered - started, time.perf_counter() - started, last


def first_prediction(model: str, backend: str, repeats: int) -> dict:
    """Medians over ``repeats`` fresh processes of the time to the answer and to the exit, and each stage, all from
    the same processes."""
    answers, walls, stages, torch_loaded, heavy = [], [], [], False, False
    for _ in range(repeats):
        answered, ended, line = answered_and_ended(STAGES.format(model=model, backend=backend, article=ARTICLE))
        answers.append(answered)
        walls.append(ended)
        seconds, imported_torch, imported_classes = json.loads(line)
        stages.append(seconds)
        torch_loaded, heavy = torch_loaded or imported_torch, heavy or imported_classes
    return {
        "answer": statistics.median(answers),
        "wall": statistics.median(walls),
        "interpreter": statistics.median(answer - sum(row) for answer, row in zip(answers, stages)),
        "exit": statistics.median(wall - answer for wall, answer in zip(walls, answers)),
        "stages": [statistics.median(column) for column in zip(*stages)],
        "torch": torch_loaded,
        "transformers": heavy,
    }


def table(model: str, results: dict[str, dict]) -> list[str]:
    """The first-prediction table: one column per backend, the user's clock on top."""
    names = list(results)
    yes_no = {True: "yes", False: "no"}
    rows = [
        ("**first `predict()`, `python -c` to the answer**", [f"**{r['answer']:.2f}**" for r in results.values()]),
        ("interpreter start", [f"{r['interpreter']:.2f}" for r in results.values()]),
        *[(name, [f"{r['stages'][i]:.2f}" for r in results.values()]) for i, name in enumerate(STAGE_NAMES)],
        ("the process's exit, after the answer", [f"{r['exit']:.2f}" for r in results.values()]),
        ("`python -c` to the process's end", [f"{r['wall']:.2f}" for r in results.values()]),
        ("torch imported", [yes_no[r["torch"]] for r in results.values()]),
        ("transformers' model classes imported", [yes_no[r["transformers"]] for r in results.values()]),
    ]
    return [
        f"| {Path(model).name}: seconds | {' | '.join(f'backend={name}' for name in names)} |",
        "|---|" + "---:|" * len(names),
        *[f"| {label} | {' | '.join(cells)} |" for label, cells in rows],
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model folder")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--backends", nargs="+", choices=("torch", "onnx"), help="default: torch, and onnx when the folder has one"
    )
    parser.add_argument("--output", help="markdown file whose cold-start section is replaced")
    args = parser.parse_args(argv)
    python = sys.executable
    backends = args.backends or ["torch", *(["onnx"] if (Path(args.model) / "onnx").is_dir() else [])]
    results = {backend: first_prediction(args.model, backend, args.repeats) for backend in backends}
    lines = [
        "## Cold start: importing newsclf and predicting one article",
        "",
        f"`python benchmarks/cold_start.py --model {Path(args.model).name} --repeats {args.repeats}`  ",
        f"on {describe_machine()}, {date.today().isoformat()}; medians of {args.repeats} fresh processes.",
        "",
        "| what | seconds |",
        "|---|---:|",
        f"| `python -c 'import inference'` | {median_wall([python, '-c', 'import inference'], args.repeats):.2f} |",
        f"| `newsclf-predict --help` | {median_wall([python, '-m', 'inference', '--help'], args.repeats):.2f} |",
        "",
        *table(args.model, results),
        "",
        (
            "The answer's time is when the process has printed it (what a user waits for); the breakdown is the "
            "same processes' own clock, and the interpreter's start the rest of that time; the exit that follows "
            "is the process's own end, mostly torch's teardown."
        ),
    ]
    publish("\n".join(lines), args.output, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
