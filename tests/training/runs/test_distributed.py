"""Training as two processes on CPU (gloo), launched by torchrun and by accelerate, as users launch it."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from testkit.articles import make_rows, write_jsonl
from testkit.tiny import tiny_overrides

from inference import Predictor

ROOT = Path(__file__).parents[3]
BIN = Path(sys.executable).parent
LAUNCHERS = {
    "torchrun": [str(BIN / "torchrun"), "--standalone", "--nproc_per_node=2"],
    # accelerate's flag for several local processes; on a machine without GPUs they run on CPU with gloo
    "accelerate": [
        str(BIN / "accelerate"),
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
    ],
}


SAMPLE = ROOT / "data" / "sample" / "articles.jsonl"  # the embedded sample: 334 training, 85 validation articles


def launch(launcher: str, tmp_path: Path, encoder_dir: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    config = str(ROOT / "configs" / "default.yaml")
    overrides = tiny_overrides(tmp_path, encoder_dir, data, ["run.name=ddp", *extra])
    command = [*LAUNCHERS[launcher], "-m", "training.train", "--config", config, "--set", *overrides]
    scratch = tmp_path / "tmp"  # the launchers' own temporary folders (torchelastic_*), removed with tmp_path
    scratch.mkdir(exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "TMPDIR": str(scratch)}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("launcher", ["torchrun", "accelerate"])
def test_two_processes_train_one_run_folder_scored_on_the_whole_validation_set(launcher, tmp_path, tiny_encoder_dir):
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    if launcher == "accelerate":  # the small project-written data: a quicker second launcher
        rows = make_rows()
        write_jsonl(tmp_path / "articles.jsonl", rows)
    data = SAMPLE if launcher == "torchrun" else tmp_path / "articles.jsonl"
    result = launch(launcher, tmp_path, tiny_encoder_dir, data)
    assert result.returncode == 0, result.stderr[-3000:]

    runs = tmp_path / "runs"
    assert sorted(path.name for path in runs.iterdir()) == ["ddp", "latest"]
    run_dir = runs / "ddp"
    log = (run_dir / "train.log").read_text()
    assert log.count("run folder") == 1, "only the main process writes the log"
    assert "2 processes" in log
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["train"]["processes"] == 2
    # 8 articles per process and step: half the steps one process would take (2 epochs)
    training = sum(row["split"] == "train" for row in rows)
    assert metrics["train"]["steps"] == 2 * math.ceil(training / 16)

    assert_validation_scored_as_the_saved_model_predicts(run_dir, rows)


def assert_validation_scored_as_the_saved_model_predicts(run_dir: Path, rows: list[dict]) -> None:
    """Every validation article is scored once, in order: the saved model's own predictions agree."""
    validation = [row for row in rows if row["split"] == "validation"]
    scores = json.loads((run_dir / "metrics.json").read_text())["splits"]["validation"]
    predictor = Predictor.from_pretrained(run_dir / "model", precision="fp32")
    predicted = predictor.predict([{"title": row["title"], "content": row["content"]} for row in validation])
    for task in ("topic", "leaning"):
        assert scores[task]["support"] == len(validation)
        correct = sum(p[task]["label"] == row[task] for p, row in zip(predicted, validation))
        assert scores[task]["accuracy"] == pytest.approx(correct / len(validation))


def test_a_refusal_on_the_main_process_stops_every_process(tmp_path, tiny_encoder_dir):
    (tmp_path / "runs" / "ddp").mkdir(parents=True)
    (tmp_path / "runs" / "ddp" / "notes.txt").write_text("keep me")
    result = launch("torchrun", tmp_path, tiny_encoder_dir, SAMPLE)
    assert result.returncode != 0
    assert result.stderr.count("already exists") == 2, "both processes report the main one's refusal"
    assert (tmp_path / "runs" / "ddp" / "notes.txt").read_text() == "keep me"


def test_two_processes_share_the_probe_and_refit_embeddings_and_write_each_cache_file_once(tmp_path, tiny_encoder_dir):
    rows = make_rows()
    write_jsonl(tmp_path / "articles.jsonl", rows)
    cache = tmp_path / "cache"
    stages = ["training.mode=probe+finetune", "training.refit_heads=true", f"training.feature_cache={cache}"]
    result = launch("torchrun", tmp_path, tiny_encoder_dir, tmp_path / "articles.jsonl", *stages)
    assert result.returncode == 0, result.stderr[-3000:]

    # train and validation, embedded by the encoder before fine-tuning and again after it; no parts left behind
    assert sorted(path.suffix for path in cache.iterdir()) == [".npy"] * 4
    run_dir = tmp_path / "runs" / "ddp"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["train"]["processes"] == 2 and {"probe", "refit"} <= set(metrics["train"])
    assert_validation_scored_as_the_saved_model_predicts(run_dir, rows)
