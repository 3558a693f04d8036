"""Notebook 2 trains a small run with the packaged MiniLM (minutes on 2 cores) into a temporary runs folder, and
notebook 3 loads the model it wrote from there; both in a fresh kernel, on AllSides when ``../shared/data`` is
present, else the embedded sample. Apart from tests/test_notebooks.py so that `make test`'s workers can run
the two halves at once."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from testkit.notebooks import notebook_env, printed, run_notebook, runner


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return notebook_env(tmp_path_factory)


@pytest.fixture(scope="module")
def trained(runs: dict[str, str]) -> nbformat.NotebookNode:
    return run_notebook("02_train_and_evaluate.ipynb", runs)


@pytest.mark.slow
def test_train_notebook_runs_and_saves_a_model(trained: nbformat.NotebookNode, runs: dict[str, str]):
    assert len(runner.figures(trained)) == 4  # scores and curve, confusion matrices, reliability, per outlet
    latest = Path(runs["NEWSCLF_RUNS"]) / "latest"
    assert (latest / "model" / "model.safetensors").is_file()
    assert (latest / "metrics.json").is_file()


@pytest.mark.slow
def test_predict_notebook_runs_on_the_trained_model(trained: nbformat.NotebookNode, runs: dict[str, str]):
    notebook = run_notebook("03_predict_and_explain.ipynb", runs)
    assert len(runner.figures(notebook)) == 4  # probabilities, confidence, two explanations
    text = printed(notebook)
    assert str(Path(runs["NEWSCLF_RUNS"]) / "latest" / "model") in text
    assert "training code imported: False" in text
