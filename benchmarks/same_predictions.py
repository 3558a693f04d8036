"""Proof that a refactor changed no prediction: models trained with an older commit's code give
bit-identical probabilities under the current code.

    python benchmarks/same_predictions.py --before 9694bb1 --work /tmp/same
    python benchmarks/same_predictions.py --before 9694bb1 --work /tmp/same --data ../shared/data \\
        --output docs/reliability.md       # also writes the table as a section of docs/reliability.md
    python benchmarks/same_predictions.py --compare /tmp/same/old.npz /tmp/same/new.npz   # compare again

Steps, each in a child process (``HF_HUB_OFFLINE=1``) whose output goes to ``WORK/logs/``:

1. the tree of ``--before`` is unpacked into ``WORK/old`` (``git archive``, so no worktree entry);
2. with that code (cwd ``WORK/old``, ``PYTHONPATH=WORK/old``) three short MiniLM runs on
   ``data/sample`` (mean/chunks, cls/max, head+tail) and, when ``--data`` (default ``$NEWSCLF_DATA``
   or ``../shared/data``) has ``fnc1/``, one FNC-1 pair run are trained into ``WORK/runs``; the
   single-text models get an fp32 ONNX file from the old code's ``newsclf-export`` module; their
   probabilities on fixed articles (torch fp32, torch bf16, ONNX fp32) go to ``WORK/old.npz``;
3. the model folders are copied to ``WORK/runs-new`` (without checkpoints), their ONNX files are
   exported again with the current code, and the current code's probabilities go to ``WORK/new.npz``;
4. the two files are compared array by array; the exit status is 1 if any array differs.

The probabilities come from this script run in a hidden mode (``--probabilities``) that imports only
``inference`` and uses only API that old and new code share, so the same lines score both.
Torch bf16 rows that only one of the two codes could run are left out (and named).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
from datetime import date
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- same-predictions:begin -->", "<!-- same-predictions:end -->"
BACKENDS = ("torch-fp32", "torch-bf16", "onnx-fp32")
OPTIONAL_BACKENDS = ("torch-bf16",)  # rows kept only where both codes could run them
ARTICLES = 60  # the first articles of data/sample, plus one long article of many windows
PAIR_TARGET = "Spider burrowed into a tourist's stomach"
QUIET = ["evaluation.example=false", "evaluation.confusion_matrices=false", "evaluation.test=false"]
QUIET += ["training.bf16=false", "training.batch_size=8", "model.stride=8", "data.max_train_samples=48"]


class Run(NamedTuple):
    """One short training run: its name, config file and ``--set`` overrides."""

    name: str
    config: str
    overrides: list[str]
    pair: bool = False


SHORT = ["training.max_steps=6", "model.max_length=64"]
SINGLE_RUNS = [
    Run("mean-chunks", "configs/default.yaml", [*SHORT, "model.window=chunks", "model.max_windows=4"]),
    Run(
        "cls-max",
        "configs/default.yaml",
        [*SHORT, "model.window=chunks", "model.token_pooling=cls", "model.window_pooling=max", "model.max_windows=3"],
    ),
    Run("headtail", "configs/default.yaml", [*SHORT, "model.window=head+tail"]),
]
PAIR_OVERRIDES = ["training.max_steps=4", "model.max_length=96", "data.max_eval_samples=16"]
PAIR_RUN = Run("pair", "configs/fnc1.yaml", [*PAIR_OVERRIDES, "model.window=chunks", "model.max_windows=3"], True)


class StepError(Exception):
    """A step that cannot go on; main prints it as ``error: ...`` and exits 2."""


# ---------------------------------------------------------------- hidden mode: run under old or new code


def probabilities(out: Path, inputs: Path, code: Path, models: list[Path]) -> int:
    """Writes to ``out`` the probabilities of each model folder, backend and task on the articles of
    ``inputs``, keyed ``<run>|<backend>|<task>``; refuses if ``inference`` is not imported from ``code``."""
    import inference

    where = Path(inference.__file__).resolve()
    if code.resolve() not in where.parents:
        raise StepError(f"inference was imported from {where}, not from {code}")
    spec = json.loads(inputs.read_text(encoding="utf-8"))
    arrays: dict[str, np.ndarray] = {}
    for folder in models:
        for backend in BACKENDS:
            if backend.startswith("onnx") and not (folder / "onnx").is_dir():
                continue  # pair models are not exported
            for task, probs in model_probabilities(folder, backend, spec).items():
                arrays[f"{folder.parent.name}|{backend}|{task}"] = probs
    np.savez(out, **arrays)
    print(f"{len(arrays)} arrays from the code in {code} -> {out}")
    return 0


def model_probabilities(folder: Path, backend: str, spec: dict) -> dict[str, np.ndarray]:
    """``predict_proba`` of one model folder under ``backend`` (e.g. ``torch-bf16``); a pair model reads
    the articles' contents as plain strings against ``spec["target"]``. An optional backend that cannot
    run gives ``{}``."""
    from inference import Predictor

    name, precision = backend.split("-")
    try:
        predictor = Predictor.from_pretrained(folder, backend=name, precision=precision, num_threads=1)
        articles = spec["articles"]
        if not predictor.config.reads_pairs:
            return predictor.predict_proba(articles)
        texts = [article if isinstance(article, str) else article["content"] for article in articles]
        return predictor.predict_proba(texts, target=spec["target"])
    except (RuntimeError, ValueError) as error:
        if backend not in OPTIONAL_BACKENDS:
            raise
        print(f"{folder} {backend} skipped: {error}")
        return {}


# ---------------------------------------------------------------- comparison


def compare(old_path: Path, new_path: Path) -> tuple[int, str]:
    """Compares the arrays of two ``.npz`` files key by key, prints a table (one row per array) and
    ``N/N arrays bit-identical``, and returns the exit status (1 if any array differs or is missing on
    one side, or if there is nothing to compare) and that report as Markdown."""
    old, new = load_arrays(old_path), load_arrays(new_path)
    lines = ["| model | backend | task | shape | old code → current code |", "|---|---|---|---|---|"]
    notes, identical, rows = [], 0, 0
    for key in sorted(old.keys() | new.keys()):
        model, backend, task = key.split("|")
        if key in old and key in new:
            same, result = compare_arrays(old[key], new[key])
            shape = "×".join(map(str, old[key].shape))
        else:
            side = "old" if key in old else "current"
            if backend in OPTIONAL_BACKENDS:
                notes.append(f"{model} {backend} {task}: only the {side} code could run it; left out")
                continue
            same, result, shape = False, f"MISSING: only the {side} code wrote it", "-"
        rows += 1
        identical += same
        lines.append(f"| {model} | {backend} | {task} | {shape} | {result} |")
    lines += ["", f"{identical}/{rows} arrays bit-identical", *notes]
    report = "\n".join(lines)
    print(report)
    return (0 if rows and identical == rows else 1), report


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a ``.npz`` file written by the hidden mode; each key must read ``<run>|<backend>|<task>``."""
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    for key in arrays:
        if key.count("|") != 2:
            raise StepError(f"{path}: array {key!r} is not named <run>|<backend>|<task>")
    return arrays


def compare_arrays(old: np.ndarray, new: np.ndarray) -> tuple[bool, str]:
    """Whether two arrays are identical (dtype, shape, every element) and the table cell saying so."""
    if old.dtype != new.dtype or old.shape != new.shape:
        return False, f"DIFFERENT: {old.dtype}{list(old.shape)} → {new.dtype}{list(new.shape)}"
    if np.array_equal(old, new):
        return True, "identical"
    diff = np.abs(old.astype(np.float64) - new.astype(np.float64))
    changed = int(np.count_nonzero(old.argmax(-1) != new.argmax(-1)))
    labels = "labels equal" if not changed else f"{changed} of {old.shape[0]} labels differ"
    return False, f"DIFFERENT: max abs diff {np.nanmax(diff):.3g} ({np.count_nonzero(diff)} elements); {labels}"


# ---------------------------------------------------------------- the steps


def unpack(before: str, work: Path) -> tuple[str, Path]:
    """The full hash of ``before`` and its tree unpacked into ``work/old`` (``work`` must be new or empty)."""
    if work.exists() and (not work.is_dir() or any(work.iterdir())):
        raise StepError(f"{work} exists and is not empty; give --work a new folder (nothing is overwritten)")
    found = git("rev-parse", "--verify", "--quiet", f"{before}^{{commit}}")
    if found.returncode:
        raise StepError(f"--before {before!r} is not a commit of {ROOT}")
    commit = found.stdout.decode().strip()
    archive = git("archive", commit)
    if archive.returncode:
        raise StepError(f"git archive {commit} failed: {archive.stderr.decode().strip()}")
    old = work / "old"
    old.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(old, filter="data")
    return commit, old


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, check=False)


def child_env(code_path: Path | None, data: Path | None) -> dict[str, str]:
    """The environment of a child: offline, ``PYTHONPATH`` only for the old code, ``NEWSCLF_DATA`` if given."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.pop("PYTHONPATH", None)
    if code_path is not None:
        env["PYTHONPATH"] = str(code_path)
    if data is not None:
        env["NEWSCLF_DATA"] = str(data)
    return env


def run_child(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
    """Runs ``python ARGS`` in ``cwd``, its output appended to ``log``; a failure raises with the log's tail."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"$ python {' '.join(args)}\n")
        out.flush()
        code = subprocess.run(
            [sys.executable, *args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    if code:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
        raise StepError(f"`python {' '.join(args)}` (in {cwd}) exited {code}; its output is in {log}:\n{tail}")


def train_old(old: Path, runs: Path, data: Path, log: Path) -> list[Run]:
    """Trains the short runs with the old code into ``runs``, the pair run only if ``data/fnc1`` exists."""
    chosen = [*SINGLE_RUNS, *([PAIR_RUN] if (data / "fnc1").is_dir() else [])]
    env = child_env(old, data)
    for run in chosen:
        print(f"training {run.name} with the old code ...", flush=True)
        settings = [*QUIET, *run.overrides, f"run.output_dir={runs}", f"run.name={run.name}"]
        run_child(["-m", "training.train", "--config", run.config, "--set", *settings], old, env, log)
    return chosen


def export_module(code: Path) -> str:
    """The module behind ``newsclf-export`` in ``code``: older trees kept it at the package's top level."""
    flat = code / "inference" / "export.py"
    return "inference.export" if flat.is_file() else "inference.prediction.onnx_export"


def export_and_score(code: Path, runs: Path, chosen: list[Run], out: Path, logs: Path) -> None:
    """With the code in ``code``: writes fp32 ONNX files for the single-text models of ``runs`` (replacing
    any), then their probabilities (all models) into ``out``."""
    is_old = code != ROOT
    env = child_env(code if is_old else None, None)
    log = logs / f"{'old' if is_old else 'current'}-code.log"
    exporter = export_module(code)
    for run in chosen:
        if not run.pair:
            model = str(runs / run.name / "model")
            run_child(["-m", exporter, "--model", model, *([] if is_old else ["--overwrite"])], code, env, log)
    models = [str(runs / run.name / "model") for run in chosen]
    hidden = ["--probabilities", str(out), "--inputs", str(out.parent / "inputs.json"), "--code", str(code)]
    print(f"scoring {len(models)} models with the {'old' if is_old else 'current'} code ...", flush=True)
    run_child([str(Path(__file__).resolve()), *hidden, *models], code, env, log)


def write_inputs(path: Path) -> None:
    """The fixed articles both codes score: the first ``ARTICLES`` of data/sample and one long article."""
    with open(ROOT / "data" / "sample" / "articles.jsonl", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()][:ARTICLES]
    articles: list = [{"title": row.get("title", ""), "content": row.get("content", "")} for row in rows]
    articles.append(" ".join(article["content"] for article in articles[:5]) * 3)  # many windows
    path.write_text(json.dumps({"articles": articles, "target": PAIR_TARGET}), encoding="utf-8")


def copy_models(runs: Path, runs_new: Path, chosen: list[Run]) -> None:
    """Copies each run folder without its checkpoints (they do not predict and weigh a lot)."""
    import shutil

    for run in chosen:
        shutil.copytree(runs / run.name, runs_new / run.name, ignore=shutil.ignore_patterns("checkpoints"))


# ---------------------------------------------------------------- main


def write_section(output: Path, commit: str, report: str, argv: list[str]) -> None:
    """Writes the report as the same-predictions section of ``output``."""
    from common import describe_machine, replace_section

    head = git("rev-parse", "--short", "HEAD").stdout.decode().strip()
    summary = (
        f"{date.today().isoformat()}. Models trained with the code of commit `{commit[:7]}` score fixed articles "
        f"with that code and with the current code (working tree of `{head}`); every array of probabilities "
        "must be bit-identical."
    )
    command = f"python benchmarks/same_predictions.py {' '.join(argv)}"
    heading = "## Same predictions before and after a refactor"
    section = f"{heading}\n\n{summary}\n\nMachine: {describe_machine()}. Command: `{command}`\n\n{report}"
    replace_section(output, BEGIN, END, section)
    print(f"section written to {output}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="the older commit (e.g. 9694bb1) whose code trains the models")
    parser.add_argument("--work", type=Path, help="a new (or empty) folder for the old code, runs and arrays")
    default_data = Path(os.environ.get("NEWSCLF_DATA", ROOT.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=default_data, help="data folder; with fnc1/: a pair run too")
    parser.add_argument("--output", type=Path, help="also write the table as a section of this Markdown file")
    parser.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("OLD", "NEW"),
        help="only compare two .npz files (of an earlier run; with --before and --output, write its section)",
    )
    parser.add_argument("--probabilities", type=Path, help=argparse.SUPPRESS)  # hidden mode: the output .npz
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("models", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probabilities is None and args.compare is None and not (args.before and args.work):
        parser.error("give --before COMMIT and --work FOLDER (or --compare OLD NEW)")
    return args


def check(before: str, work: Path, data: Path) -> tuple[int, str, str]:
    """Steps 1-4; returns the exit status, the full hash of ``before`` and the report."""
    work, data = work.resolve(), data.resolve()
    commit, old = unpack(before, work)
    runs, runs_new, logs = work / "runs", work / "runs-new", work / "logs"
    print(f"old code: {commit} in {old}; logs in {logs}", flush=True)
    write_inputs(work / "inputs.json")
    chosen = train_old(old, runs, data, logs / "train.log")
    if not any(run.pair for run in chosen):
        print(f"no {data / 'fnc1'}: no pair run")
    export_and_score(old, runs, chosen, work / "old.npz", logs)
    copy_models(runs, runs_new, chosen)
    export_and_score(ROOT, runs_new, chosen, work / "new.npz", logs)
    status, report = compare(work / "old.npz", work / "new.npz")
    return status, commit, report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    try:
        if args.probabilities is not None:
            return probabilities(args.probabilities, args.inputs, args.code, args.models)
        if args.compare is not None:
            status, report = compare(*args.compare)
            if args.output is not None and args.before:
                write_section(args.output, args.before, report, argv)
            return status
        status, commit, report = check(args.before, args.work, args.data)
        if args.output is not None:
            write_section(args.output, commit, report, argv)
        return status
    except (StepError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
