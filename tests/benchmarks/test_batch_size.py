"""Tests for benchmarks/batch_size.py: the alternating rounds and the report of a tiny model."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from inference.prediction.backends import default_batch_size

ROOT = Path(__file__).resolve().parents[2]
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
    assert "One pipeline per task" not in text


def test_pipelines_run_in_the_same_rounds_and_set_the_chunks_ratio(tmp_path: Path, tiny_model_dir: Path):
    data = tmp_path / "articles.jsonl"
    data.write_text("".join(json.dumps({"title": "t", "content": "budget vote " * n}) + "\n" for n in (3, 80)))
    argv = ["--model", str(tiny_model_dir), "--data", str(data), "--sizes", "2", "--baseline", "2", "--rounds", "1"]
    assert bench.main([*argv, "--precision", "fp32", "--pipelines", "--output", str(tmp_path / "b.md")]) == 0
    text = (tmp_path / "b.md").read_text(encoding="utf-8")
    ratio = text.split("chunks at the default batch: ")[1].split("×")[0]
    assert float(ratio) > 0 and "One pipeline per task on the head, in the same rounds" in text
