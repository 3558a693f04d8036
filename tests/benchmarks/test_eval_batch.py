"""Tests for benchmarks/eval_batch.py: the default evaluation batch against fixed ones, on a tiny encoder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("eval_batch", ROOT / "benchmarks" / "eval_batch.py")
bench = importlib.util.module_from_spec(SPEC)
sys.modules[SPEC.name] = bench
SPEC.loader.exec_module(bench)


def test_each_batch_size_is_timed_and_the_default_is_named(tmp_path, tiny_encoder_dir, monkeypatch):
    monkeypatch.setenv("NEWSCLF_DATA", str(tmp_path / "no-data"))  # synthetic articles
    output = tmp_path / "benchmarks.md"
    argv = ["--encoder", str(tiny_encoder_dir), "--max-length", "64", "--articles", "12", "--sizes", "5", "32"]
    assert bench.main([*argv, "--rounds", "2", "--output", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    assert text.count(bench.BEGIN) == 1 and "12 articles (head+tail, 64 tokens), 2 rounds" in text
    lines = [line for line in text.splitlines() if line.startswith("| ") and "median" not in line]
    rows = [line.strip("| ").split(" | ") for line in lines]
    assert [row[0] for row in rows] == ["32 (default)", "5"]  # 2,048 tokens of 64-token windows; 32 given twice
    assert all(float(row[1]) > 0 for row in rows) and min(float(row[3]) for row in rows) == 1.0
