"""Tests for benchmarks/cold_start.py: a report of fresh-process start-up times on the tiny model."""

from __future__ import annotations

import importlib
import re
import shutil
from pathlib import Path

import pytest

cold = importlib.import_module("cold_start")  # benchmarks/ is on pytest's path


def first_prediction_table(text: str) -> dict[str, list[str]]:
    """The rows of the per-backend table: label -> cells, one per backend (markdown bold removed)."""
    rows = re.findall(r"^\| (.+?) \| (.+) \|$", text, re.M)
    return {label.strip("*"): [cell.strip("*") for cell in cells.split(" | ")] for label, cells in rows}


def test_the_report_gives_one_clock_per_backend(tiny_model_dir: Path, tmp_path: Path):
    pytest.importorskip("onnxruntime")
    from inference.prediction.onnx_export import main as export

    folder = Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))
    assert export(["--model", str(folder), "--min-agreement", "0"]) == 0
    output = tmp_path / "benchmarks.md"
    assert cold.main(["--model", str(folder), "--repeats", "1", "--output", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    assert text.count(cold.BEGIN) == 1
    rows = first_prediction_table(text)
    assert rows["model: seconds"] == ["backend=torch", "backend=onnx"]
    answer = [float(value) for value in rows["first `predict()`, `python -c` to the answer"]]
    parts = [rows["interpreter start"], *[rows[stage] for stage in cold.STAGE_NAMES]]
    ended = [float(value) for value in rows["`python -c` to the process's end"]]
    exits = [float(value) for value in rows["the process's exit, after the answer"]]
    for column, total in enumerate(answer):
        assert abs(total - sum(float(part[column]) for part in parts)) < 0.04  # rounding of six cells
        assert ended[column] >= total and exits[column] >= 0
    assert rows["torch imported"] == ["yes", "no"]
    assert float(rows["import torch"][1]) == 0.0
    # the tiny model is a BERT with a fast tokenizer: predicting needs none of transformers' model classes
    assert rows["transformers' model classes imported"] == ["no", "no"]


def test_the_answer_is_timed_when_printed_not_when_the_process_ends():
    code = "import time; print('answer', flush=True); time.sleep(2)"
    answered, ended, line = cold.answered_and_ended(code)
    assert line.strip() == "answer"
    assert ended - answered > 1  # the 2 s after the answer are the process's, not the user's wait
