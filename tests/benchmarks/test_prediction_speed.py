"""Tests for benchmarks/prediction_speed.py: the report's ratios, agreement and macro-F1."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("prediction_speed", ROOT / "benchmarks" / "prediction_speed.py")
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def _result(speed: float, labels: list[str], windows: float = 1.0) -> dict:
    return {
        "labels": {"leaning": labels},
        "articles_per_s": speed,
        "windows_per_s": windows * speed,
        "gflop_per_s": 6.0 * windows * speed,
        "p50_ms": 10.0,
        "p95_ms": 12.0,
        "peak_rss_mb": 900,
    }


def test_report_ratios_agreement_and_f1(tmp_path):
    articles = [{"gold_leaning": gold} for gold in ["left", "right", "left", "center"]]
    results = {
        "pipelines": _result(10.0, ["left", "left", "left", "center"]),
        "torch-fp32": _result(30.0, ["left", "right", "left", "center"]),
        "onnx-int8": _result(50.0, ["left", "right", "right", "center"], windows=2.0),
    }
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(
        json.dumps({"window": {"strategy": "chunks", "max_length": 128, "max_windows": 1}})
    )
    args = argparse.Namespace(
        model=str(model), latency=5, threads=2, batch_size=None, rounds=1, ceiling={"bf16": 600.0, "fp32": 150.0}
    )
    args.chunk_windows = None
    args.rows = list(bench.ROWS)
    text = bench.report(args, articles, results)
    assert "the Predictor's default batch" in text and "--batch-size" not in text and "--rows" not in text
    assert "(here chunks, at most 1 window of 128 tokens)" in text
    args.rows = ["pipelines", "torch-bf16"]
    assert " --rows pipelines torch-bf16`" in bench.report(args, articles, results)
    args.rows = list(bench.ROWS)
    args.batch_size = 16
    assert "--batch-size 16`" in bench.report(args, articles, results)
    report = text.splitlines()
    lines = {cells[0]: cells for cells in (line.strip("| ").split(" | ") for line in report)}
    assert lines["pipelines"][4] == "1.00"
    assert lines["torch-fp32"][4] == "3.00"
    assert lines["onnx-int8"][4] == "5.00"
    assert lines["onnx-int8"][2:4] == ["100.0", "100"]  # 100 windows/s of 6 GFLOP: the whole 600 GFLOP/s
    assert lines["torch-fp32"][2:4] == ["30.0", "30"]
    assert lines["torch-fp32"][8:10] == ["100.0", "100.0"]
    assert lines["onnx-int8"][8] == "75.0"
    assert lines["pipelines"][8] == "75.0"
    assert lines["torch-fp32"][-1] == "30.0" and "ran 1 time(s)" in text


def test_rows_take_turns_and_each_reports_its_median_run(monkeypatch):
    order = []
    speeds = {"pipelines": iter([9.0, 7.0, 8.0]), "torch-bf16": iter([50.0, 70.0, 60.0])}

    def fake_worker(args, row, input_file):
        order.append(row)
        return {**_result(next(speeds[row]), ["left"]), "row": row}

    monkeypatch.setattr(bench, "run_worker", fake_worker)
    monkeypatch.setattr(bench, "matmul_ceiling", lambda dtype: 600.0)
    monkeypatch.setattr(bench, "benchmark_articles", lambda *a: [{"gold_leaning": "left"}])
    argv = ["--model", "m", "--rows", "pipelines", "torch-bf16", "--rounds", "3", "--latency", "1"]
    captured = []
    monkeypatch.setattr(bench, "report", lambda args, articles, results: captured.append(results) or "")
    assert bench.main(argv) == 0
    assert order == ["pipelines", "torch-bf16", "torch-bf16", "pipelines", "pipelines", "torch-bf16"]
    assert captured[0]["pipelines"]["articles_per_s"] == 8.0 and captured[0]["torch-bf16"]["articles_per_s"] == 60.0
    assert captured[0]["torch-bf16"]["all_articles_per_s"] == [50.0, 60.0, 70.0]


def test_window_flops_follow_the_encoder_shape():
    minilm = {"hidden_size": 384, "intermediate_size": 1536, "num_hidden_layers": 6}
    assert abs(bench.window_gflop(minilm, 256) - 6.04) < 0.01  # the ~6 GFLOP of a 256-token MiniLM window
    assert bench.window_gflop(minilm, 128) < bench.window_gflop(minilm, 256) / 2 + 0.01


def test_peak_rss_is_positive():
    assert bench.peak_rss_mb() > 10


def test_transformers_rows_put_the_same_weights_in_bertmodel(tiny_model_dir: Path):
    from transformers import BertModel

    from inference.model.classifier import transformers_encoder
    from inference.model.loading import load_for_prediction

    articles = [{"title": "Rates", "content": "inflation market wages " * 20}, {"title": "Cup", "content": "goal"}]
    labels = {}
    for row in ("torch-fp32", "torch-fp32-transformers"):
        run_all, _, work = bench.predictor_worker(str(tiny_model_dir), row, articles, batch_size=4)
        labels[row] = run_all()
        assert work["windows"] >= len(articles)
    assert labels["torch-fp32"] == labels["torch-fp32-transformers"]
    model, _ = load_for_prediction(tiny_model_dir)
    encoder = transformers_encoder(model)
    assert isinstance(encoder, BertModel) and not encoder.training
    ids = torch.randint(1, 100, (2, 9), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        torch.testing.assert_close(encoder(ids).last_hidden_state, model.encoder(ids).last_hidden_state)


def test_pipelines_default_to_the_predictors_batch_and_agree_at_any(tiny_model_dir: Path):
    articles = [{"title": "Rates", "content": "inflation market wages " * 20}, {"title": "Cup", "content": "goal"}]
    labels = [bench.pipelines_worker(str(tiny_model_dir), articles, size)[0]() for size in (None, 1)]
    assert labels[0] == labels[1] and len(labels[0]["leaning"]) == len(articles)


def test_chunk_rows_read_as_many_windows_as_asked(tiny_model_dir: Path):
    articles = [{"title": "Rates", "content": "inflation market wages " * 80}]
    counts = {}
    for windows in (1, 3):
        _, _, work = bench.predictor_worker(str(tiny_model_dir), "torch-fp32-chunks", articles, 4, windows)
        counts[windows] = work["windows"]
    assert counts == {1: 1, 3: 3}
