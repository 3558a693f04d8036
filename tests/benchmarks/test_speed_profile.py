"""Tests for benchmarks/speed_profile.py: operator kinds, and one small run's report on the tiny model."""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import pytest

profile = importlib.import_module("speed_profile")  # benchmarks/ is on pytest's path


@pytest.fixture(autouse=True)
def known_ceiling(monkeypatch):
    """A stand-in for the measured matrix-product ceiling: where bf16 is emulated (the AVX2 row of make
    test-matrix) measuring it takes minutes, and these tests check the report, not the CPU."""
    monkeypatch.setattr(profile, "matmul_ceiling", lambda dtype="bf16", **_: 600.0)


@pytest.mark.parametrize(
    ("operator", "kind"),
    [
        ("aten::addmm", "matrix products"),
        ("aten::mm", "matrix products"),
        ("aten::_scaled_dot_product_flash_attention_for_cpu_backward", "attention"),
        ("aten::native_layer_norm_backward", "layer norm"),
        ("aten::gelu", "GELU"),
        ("aten::bernoulli_", "dropout masks (random numbers)"),
        ("aten::_to_copy", "dtype casts and copies"),
        ("Optimizer.step#AdamW.step", "optimizer"),
        ("aten::embedding_dense_backward", "embeddings"),
        ("aten::something_new", "other"),
    ],
)
def test_operators_are_sorted_into_kinds(operator: str, kind: str):
    assert profile.kind_of(operator) == kind


def test_a_small_run_reports_every_stage_and_the_ceiling(tiny_model_dir: Path, tmp_path: Path):
    output = tmp_path / "benchmarks.md"
    argv = ["--model", str(tiny_model_dir), "--articles", "6", "--train-steps", "1", "--train-batch-size", "2"]
    assert profile.main([*argv, "--threads", "1", "--precision", "fp32", "--output", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    assert text.count("<!-- profile:begin -->") == 1
    for stage in ("tokenize", "encoder", "pad batches", "pool and heads", "calibrate", "matrix products"):
        assert f"| {stage} |" in text
    assert re.search(r"bf16 \d+ GFLOP/s, fp32 \d+", text)
    shares = [int(share) for share in re.findall(r"\| (\d+)% \|", text.split("| encoder operators")[0])]
    assert 98 <= sum(shares) <= 102  # the stages of prediction add up to the whole
    assert "samples/s" in text


def test_a_bf16_run_times_the_fused_layers_against_the_plain_ones_in_turns(tiny_model_dir: Path, tmp_path: Path):
    output = tmp_path / "benchmarks.md"
    argv = ["--model", str(tiny_model_dir), "--articles", "6", "--train-steps", "1", "--train-batch-size", "2"]
    assert profile.main([*argv, "--threads", "1", "--precision", "bf16", "--rounds", "2", "--output", str(output)]) == 0
    text = output.read_text(encoding="utf-8")
    assert re.search(r"2 rounds, medians: fused \d+\.\d+ s, plain \d+\.\d+ s: \*\*\d+\.\d+×\*\*", text)
    assert "spread 600–600" in text  # the stand-in ceiling, probed once a round
    table = text.split("| encoder operators (torch.profiler, self time, 4 batches) | plain s | fused s |")[1]
    assert "| matrix products |" in table.split("\n\n")[0]


def test_max_windows_reads_whole_articles_as_more_windows_than_the_folder(tiny_model_dir: Path):
    options = {"model": str(tiny_model_dir), "precision": "fp32", "batch_size": None, "threads": 1}
    own = profile.load_predictor(argparse.Namespace(**options, window=None, max_windows=None))
    wider = profile.load_predictor(
        argparse.Namespace(**options, window="chunks", max_windows=own.window.max_windows + 3)
    )
    assert wider.window.strategy == "chunks"
    assert wider.window.max_windows == own.window.max_windows + 3
