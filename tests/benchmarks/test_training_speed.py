"""The training-speed benchmark script, run for two settings on a tiny encoder and synthetic text."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SPEC = importlib.util.spec_from_file_location("training_speed", ROOT / "benchmarks" / "training_speed.py")
speed = importlib.util.module_from_spec(SPEC)
sys.modules[SPEC.name] = speed  # dataclasses look their module up there
SPEC.loader.exec_module(speed)


@pytest.fixture(autouse=True)
def known_ceiling(monkeypatch):
    """A stand-in for the measured matrix-product ceiling: where bf16 is emulated (the AVX2 row of make
    test-matrix) measuring it takes minutes, and these tests check the report, not the CPU."""
    monkeypatch.setattr(speed, "matmul_ceiling", lambda dtype="bf16": 600.0)


def test_training_speed_reports_each_setting_against_the_fp32_baseline(tmp_path, tiny_encoder_dir, monkeypatch):
    monkeypatch.setenv("NEWSCLF_DATA", str(tmp_path / "no-data"))  # no AllSides here: synthetic articles
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\nEarlier text.\n", encoding="utf-8")
    argv = ["--encoder", str(tiny_encoder_dir), "--max-length", "32", "--batch-size", "4", "--steps", "2"]
    argv += ["--warmup", "1", "--only", "baseline", "fp32, attention", "--output", str(output)]
    assert speed.main(argv) == 0
    text = output.read_text(encoding="utf-8")
    assert "Earlier text." in text and text.count(speed.BEGIN) == 1
    rows = [line.split("|") for line in text.splitlines() if line.startswith("| ") and "samples/s" not in line]
    assert [row[1].strip() for row in rows] == ["plain Trainer fp32 (baseline)", "fp32, attention dropout 0"]
    assert float(rows[0][3]) == 1.0 and all(float(row[2]) > 0 for row in rows)
    assert "Data: synthetic" in text and "Machine:" in text and "ceiling in this run" in text
    assert all(float(row[4]) == float(row[2]) and 0 <= float(row[5]) < 100 for row in rows)  # one window a sample


def test_the_micro_batch_row_runs_the_same_batch_in_two_passes(tmp_path, tiny_encoder_dir, monkeypatch):
    monkeypatch.setenv("NEWSCLF_DATA", str(tmp_path / "no-data"))
    [setting] = [s for s in speed.SETTINGS if s.accumulation > 1]
    assert setting.accumulation == 2 and setting.hidden_dropout == 0.0 and setting.bf16
    argv = ["--encoder", str(tiny_encoder_dir), "--max-length", "32", "--batch-size", "4", "--steps", "2"]
    assert speed.main([*argv, "--warmup", "1", "--only", "baseline", "micro-batches"]) == 0
    seen = []

    class Built(Exception):
        pass

    def arguments(**kwargs):
        seen.append(kwargs)
        raise Built

    monkeypatch.setattr(speed, "TrainingArguments", arguments)
    args = speed.argparse.Namespace(batch_size=4, warmup=1, steps=2, max_length=32)
    with pytest.raises(Built):
        speed.measure(setting, str(tiny_encoder_dir), None, 0, args)
    assert (seen[0]["per_device_train_batch_size"], seen[0]["gradient_accumulation_steps"]) == (2, 2)


def test_synthetic_articles_are_used_without_shared_data(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSCLF_DATA", str(tmp_path))
    texts, source = speed.article_texts(5, seed=1)
    assert source == "synthetic" and len(texts) == 5 and len({len(t) for t in texts}) > 1


def test_training_work_counts_each_drawn_window_three_times_its_forward():
    from training.model.trainer import ArticleDataset

    dataset = ArticleDataset([[[1] * 10], [[1] * 10, [1] * 20]], {"topic": [0, 1]})
    shape = {"hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 2}
    windows, gflop = speed.training_work(dataset, shape)
    assert windows == 1.5
    expected = 3 * (2 * speed.window_gflop(shape, 10) + speed.window_gflop(shape, 20)) / 2
    assert abs(gflop - expected) < 1e-12
