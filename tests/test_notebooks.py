"""Tests for the notebooks: committed without outputs, the runner's checks, and notebooks 1 and 4 run top to
bottom in a fresh kernel (notebooks 2 and 3, which train a model and load it: tests/test_notebooks_2_and_3.py).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from testkit.notebooks import notebook_env, printed, run_notebook, runner

KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return notebook_env(tmp_path_factory)


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


@pytest.mark.slow
def test_explore_data_notebook_runs(runs: dict[str, str]):
    notebook = run_notebook("01_explore_data.ipynb", runs)
    assert len(runner.figures(notebook)) == 5  # labels, lengths, topic x leaning, outlets, duplicates
    assert "articles; tasks" in printed(notebook)


@pytest.mark.slow
def test_from_zero_labels_notebook_runs_every_step(runs: dict[str, str]):
    notebook = run_notebook("04_from_zero_labels.ipynb", runs)
    assert len(runner.figures(notebook)) == 1  # the learning curve
    text = printed(notebook)
    assert "zero-shot accuracy on 250 held-out articles" in text
    for per_class in (2, 4, 8):
        assert f"{per_class} labels a class: suggest" in text
    assert "LP-FT on " in text
