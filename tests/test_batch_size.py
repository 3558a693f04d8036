"""Tests for benchmarks/batch_size.py: the alternating rounds and the report of a tiny model."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from inference.backends import default_batch_size

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("batch_size", ROOT / "benchmarks" / "batch_size.py")
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


class Recorder:
    def __init__(self, name: str, calls: list[str]) -> None:
        self.name, self.calls = name, calls

    def predict(self, articles: list[dict]) -> list:
        self.calls.append(self.name)
        return [None] * len(articles)


def test_predictors_take_turns_and_none_always_runs_first():
    calls: list[str] = []
    predictors = {("model", size): Recorder(str(size), calls) for size in (None, 32, 8)}
    speeds = bench.time_rounds(predictors, [{"title": "a"}] * 3, rounds=3)
    assert calls == ["None", "32", "8", "8", "32", "None", "None", "32", "8"]
    assert all(len(values) == 3 and min(values) > 0 for values in speeds.values())


def test_report_of_a_tiny_model(tmp_path: Path, tiny_model_dir: Path):
    data = tmp_path / "articles.jsonl"
    texts = ["rates inflation " * 40, "the match ended late", "senate budget vote " * 90, "storm"]
    data.write_text("".join(json.dumps({"title": "t", "content": text}) + "\n" for text in texts))
    output = tmp_path / "benchmarks.md"
    argv = ["--model", str(tiny_model_dir), "--data", str(data), "--sizes", "2", "--baseline", "3"]
    assert bench.main([*argv, "--rounds", "2", "--precision", "fp32", "--output", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    assert text.count(bench.BEGIN) == 1 and "4 articles, 2 alternating rounds, fp32 torch" in text
    lines = [line for line in text.splitlines() if line.startswith("| ") and "median" not in line]
    rows = [line.strip("| ").split(" | ") for line in lines]
    window = json.loads((tiny_model_dir / "config.json").read_text())["window"]
    assert [row[0] for row in rows] == [f"the model's ({window['strategy']})"] * 3 + ["chunks"] * 3
    assert [row[1] for row in rows[:3]] == [f"{default_batch_size(window['max_length'])} (default)", "3", "2"]
    assert [row[4] for row in rows if row[1] == "3"] == ["1.00", "1.00"]
    assert all(float(row[2]) > 0 for row in rows)
