"""Runs the notebooks top to bottom in fresh kernels and keeps them committed without outputs.

    python notebooks/execute.py                          # run all, in order (02 trains the model 03 loads)
    python notebooks/execute.py 01_explore_data.ipynb    # run one
    python notebooks/execute.py --output runs/notebooks  # keep the executed copies and every figure as PNG
    python notebooks/execute.py --strip                  # remove outputs in place before committing
    python notebooks/execute.py --check                  # exit 1 if a notebook was committed with outputs

Each notebook runs from this folder, as Jupyter would start it. ``make test`` runs them through
``tests/test_notebooks.py``; a failing cell fails the build.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from inference.paths import InputOverwriteError, refuse_overwriting_inputs

HERE = Path(__file__).resolve().parent
NOTEBOOKS = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
KEPT_METADATA = {"kernelspec", "language_info"}


def execute(path: Path, timeout: int = 1800, env: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """Runs every cell of ``path`` in a new kernel; raises ``CellExecutionError`` at the first failing cell."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    # the inline backend even where MPLBACKEND says otherwise (Agg on servers): figures must land in the outputs
    client.execute(env={**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline", **(env or {})})
    return notebook


def output_problems(notebook: nbformat.NotebookNode) -> list[str]:
    """What a committed notebook should not hold: outputs, execution counts, extra metadata."""
    extra = sorted(set(notebook.metadata) - KEPT_METADATA)
    problems = [f"notebook metadata {extra}"] if extra else []
    for index, cell in enumerate(notebook.cells, start=1):
        if cell.get("outputs"):
            problems.append(f"cell {index} has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {index} has an execution count")
        if cell.get("metadata"):
            problems.append(f"cell {index} has metadata {sorted(cell.metadata)}")
    return problems


def strip(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Removes outputs, execution counts and all metadata but the kernel's, in place."""
    notebook.metadata = {key: value for key, value in notebook.metadata.items() if key in KEPT_METADATA}
    for cell in notebook.cells:
        cell.metadata = {}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook


def figures(notebook: nbformat.NotebookNode) -> list[bytes]:
    """The PNG images a run displayed, in order."""
    return [
        base64.b64decode(output["data"]["image/png"])
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]


def errors(notebook: nbformat.NotebookNode) -> list[str]:
    """Error outputs and stderr tracebacks a run left (a cell can print one and still succeed)."""
    found = []
    for index, cell in enumerate(notebook.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append(f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
            elif output.get("name") == "stderr" and "Traceback (most recent call last)" in output.get("text", ""):
                found.append(f"cell {index}: a traceback on stderr")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to handle (default: all, in order)")
    parser.add_argument("--output", type=Path, help="folder for the executed copies and their figures")
    parser.add_argument("--strip", action="store_true", help="remove outputs in place instead of running")
    parser.add_argument("--check", action="store_true", help="report notebooks that hold outputs instead of running")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds a cell may run")
    args = parser.parse_args(argv)
    paths = [p if p.is_absolute() or p.exists() else HERE / p for p in args.notebooks] or NOTEBOOKS
    if args.output and not (args.strip or args.check):
        try:
            refuse_overwriting_inputs([args.output / path.name for path in paths], paths)
        except InputOverwriteError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    status = 0
    for path in paths:
        if args.strip:
            nbformat.write(strip(nbformat.read(path, as_version=4)), path)
            print(f"stripped {path.name}")
        elif args.check:
            problems = output_problems(nbformat.read(path, as_version=4))
            if problems:
                status = 1
                print(f"{path.name}: {'; '.join(problems)} (run: python notebooks/execute.py --strip)")
        else:
            started = time.perf_counter()
            notebook = execute(path, args.timeout)
            images = figures(notebook)
            print(f"{path.name}: ran in {time.perf_counter() - started:.0f} s, {len(images)} figures")
            if args.output:
                args.output.mkdir(parents=True, exist_ok=True)
                nbformat.write(notebook, args.output / path.name)
                for number, image in enumerate(images, start=1):
                    (args.output / f"{path.stem}_fig{number}.png").write_bytes(image)
    return status


if __name__ == "__main__":
    sys.exit(main())
