"""Tests for benchmarks/cold_start.py: a report of fresh-process start-up times on the tiny model."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

cold = importlib.import_module("cold_start")  # benchmarks/ is on pytest's path


def test_the_report_times_each_start_and_each_stage(tiny_model_dir: Path, tmp_path: Path):
    output = tmp_path / "benchmarks.md"
    assert cold.main(["--model", str(tiny_model_dir), "--repeats", "1", "--output", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    assert text.count(cold.BEGIN) == 1
    times = {name: float(value) for name, value in re.findall(r"^\| (.+?) \| (\d+\.\d\d) \|$", text, re.M)}
    for stage in cold.STAGE_NAMES:
        assert stage in times
    assert times["total"] > 0
    assert abs(times["total"] - sum(times[stage] for stage in cold.STAGE_NAMES)) < 0.03
    # the tiny model is a BERT with a fast tokenizer: predicting needs none of transformers' model classes
    assert "(`transformers.modeling_utils`) imported: no." in text
