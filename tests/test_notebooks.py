"""Tests for the notebooks: committed without outputs, and each one runs top to bottom in a fresh kernel.

Notebook 2 trains a small run with the packaged MiniLM (minutes on 2 cores) into a temporary runs
folder; notebook 3 loads the model it wrote from there. Both read AllSides when ``../shared/data``
is present, else the embedded sample, exactly as a user running them would.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

NOTEBOOK_DIR = Path(__file__).parents[1] / "notebooks"
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}
_spec = importlib.util.spec_from_file_location("notebook_runner", NOTEBOOK_DIR / "execute.py")
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)


def test_the_four_notebooks_are_found():
    assert [path.name for path in runner.NOTEBOOKS] == [
        "01_explore_data.ipynb",
        "02_train_and_evaluate.ipynb",
        "03_predict_and_explain.ipynb",
        "04_from_zero_labels.ipynb",
    ]


@pytest.mark.parametrize("path", runner.NOTEBOOKS, ids=lambda path: path.stem)
def test_committed_without_outputs(path: Path):
    problems = runner.output_problems(nbformat.read(path, as_version=4))
    assert problems == [], f"{path.name}: {problems}; run `python notebooks/execute.py --strip`"


def _executed_looking_notebook() -> nbformat.NotebookNode:
    notebook = new_notebook(metadata={"kernelspec": KERNEL, "widgets": {"state": {}}})
    code = new_code_cell("print(1)", execution_count=3, metadata={"scrolled": True})
    code.outputs = [new_output("stream", name="stdout", text="1\n")]
    notebook.cells = [new_markdown_cell("# title"), code]
    return notebook


def test_output_problems_name_each_cell():
    problems = runner.output_problems(_executed_looking_notebook())
    assert problems == [
        "notebook metadata ['widgets']",
        "cell 2 has outputs",
        "cell 2 has an execution count",
        "cell 2 has metadata ['scrolled']",
    ]


def test_strip_keeps_the_code_and_removes_the_rest():
    stripped = runner.strip(_executed_looking_notebook())
    assert runner.output_problems(stripped) == []
    assert [cell.source for cell in stripped.cells] == ["# title", "print(1)"]
    assert stripped.metadata == {"kernelspec": KERNEL}


def test_check_command_fails_on_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "01_dirty.ipynb"
    nbformat.write(_executed_looking_notebook(), path)
    assert runner.main(["--check", str(path)]) == 1
    assert "01_dirty.ipynb: notebook metadata" in capsys.readouterr().out
    assert runner.main(["--strip", str(path)]) == 0
    assert runner.main(["--check", str(path)]) == 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Where the notebooks write their runs: a temporary folder, never the project's runs/."""
    return {"NEWSCLF_RUNS": str(tmp_path_factory.mktemp("notebook-runs")), "NEWSCLF_MODEL": ""}


def _run(name: str, env: dict[str, str]) -> nbformat.NotebookNode:
    notebook = runner.execute(NOTEBOOK_DIR / name, env=env)
    assert runner.errors(notebook) == []
    return notebook


def _printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(out.get("text", "") for cell in notebook.cells for out in cell.get("outputs", []))


@pytest.fixture(scope="module")
def trained(runs: dict[str, str]) -> nbformat.NotebookNode:
    return _run("02_train_and_evaluate.ipynb", runs)


@pytest.mark.slow
def test_explore_data_notebook_runs(runs: dict[str, str]):
    notebook = _run("01_explore_data.ipynb", runs)
    assert len(runner.figures(notebook)) == 5  # labels, lengths, topic x leaning, outlets, duplicates
    assert "articles; tasks" in _printed(notebook)


@pytest.mark.slow
def test_train_notebook_runs_and_saves_a_model(trained: nbformat.NotebookNode, runs: dict[str, str]):
    assert len(runner.figures(trained)) == 4  # scores and curve, confusion matrices, reliability, per outlet
    latest = Path(runs["NEWSCLF_RUNS"]) / "latest"
    assert (latest / "model" / "model.safetensors").is_file()
    assert (latest / "metrics.json").is_file()


@pytest.mark.slow
def test_predict_notebook_runs_on_the_trained_model(trained: nbformat.NotebookNode, runs: dict[str, str]):
    notebook = _run("03_predict_and_explain.ipynb", runs)
    assert len(runner.figures(notebook)) == 4  # probabilities, confidence, two explanations
    printed = _printed(notebook)
    assert str(Path(runs["NEWSCLF_RUNS"]) / "latest" / "model") in printed
    assert "training code imported: False" in printed


@pytest.mark.slow
def test_from_zero_labels_notebook_runs_every_step(runs: dict[str, str]):
    notebook = _run("04_from_zero_labels.ipynb", runs)
    assert len(runner.figures(notebook)) == 1  # the learning curve
    printed = _printed(notebook)
    assert "zero-shot accuracy on 250 held-out articles" in printed
    for per_class in (2, 4, 8):
        assert f"{per_class} labels a class: suggest" in printed
    assert "LP-FT on " in printed
