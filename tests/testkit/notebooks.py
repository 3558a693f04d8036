"""What the notebook tests share: the runner (notebooks/execute.py) and one way to run a notebook in a fresh kernel.

Each notebook writes its runs into a temporary folder (``NEWSCLF_RUNS``), never the project's ``runs/``, and reads
AllSides when ``../shared/data`` is present, else the embedded sample, exactly as a user running it would.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).parents[2] / "notebooks"
_spec = importlib.util.spec_from_file_location("notebook_runner", NOTEBOOK_DIR / "execute.py")
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)


def notebook_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The notebooks' environment: their runs go to a temporary folder, never the project's runs/."""
    return {"NEWSCLF_RUNS": str(tmp_path_factory.mktemp("notebook-runs")), "NEWSCLF_MODEL": ""}


def run_notebook(name: str, env: dict[str, str]) -> nbformat.NotebookNode:
    notebook = runner.execute(NOTEBOOK_DIR / name, env=env)
    assert runner.errors(notebook) == []
    return notebook


def printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(out.get("text", "") for cell in notebook.cells for out in cell.get("outputs", []))
