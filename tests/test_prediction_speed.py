"""Tests for benchmarks/prediction_speed.py: the report's ratios, agreement and macro-F1."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("prediction_speed", ROOT / "benchmarks" / "prediction_speed.py")
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def _result(speed: float, labels: list[str]) -> dict:
    return {"labels": {"leaning": labels}, "articles_per_s": speed, "p50_ms": 10.0, "p95_ms": 12.0, "peak_rss_mb": 900}


def test_report_ratios_agreement_and_f1():
    articles = [{"gold_leaning": gold} for gold in ["left", "right", "left", "center"]]
    results = {
        "pipelines": _result(10.0, ["left", "left", "left", "center"]),
        "torch-fp32": _result(30.0, ["left", "right", "left", "center"]),
        "onnx-int8": _result(50.0, ["left", "right", "right", "center"]),
    }
    args = argparse.Namespace(model="runs/x/model", latency=5, threads=2)
    report = bench.report(args, articles, results).splitlines()
    lines = {cells[0]: cells for cells in (line.strip("| ").split(" | ") for line in report)}
    assert lines["pipelines"][2] == "1.00"
    assert lines["torch-fp32"][2] == "3.00"
    assert lines["onnx-int8"][2] == "5.00"
    assert lines["torch-fp32"][6:8] == ["100.0", "100.0"]
    assert lines["onnx-int8"][6] == "75.0"
    assert lines["pipelines"][6] == "75.0"


def test_peak_rss_is_positive():
    assert bench.peak_rss_mb() > 10
