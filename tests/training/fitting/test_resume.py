"""Resuming a training process killed with SIGKILL: from its last whole checkpoint, to the same model.

Every run trains the same config with the same seed in its own ``python -m training.train`` process
(one torch thread, no bf16: the arithmetic is reproducible). The uninterrupted reference run starts
once per module and runs beside the tests that kill and resume.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit.articles import make_rows
from testkit.tiny import tiny_config

from training.config import save_config
from training.runs.folders import last_complete_checkpoint

ROOT = Path(__file__).parents[3]
TIMEOUT = 300
# 117 training articles in batches of 8: 15 steps an epoch, 45 in all. Checkpoints every 4 steps never
# fall on an epoch's end, so resuming always starts mid-epoch (the Trainer skips the epoch's first
# batches and restores the RNG states saved with the checkpoint).
STEPS = 45
OVERRIDES = [
    "training.epochs=3",
    "training.batch_size=8",
    "training.eval_steps=4",
    "training.logging_steps=1",
    "training.num_threads=1",
    "training.bf16=false",
    "training.early_stopping_patience=null",
]
TIMING_KEYS = ("runtime", "per_second", "seconds")
PROGRESS = re.compile(r"newsclf\.progress: step (\d+)/")


def start_run(runs: Path, name: str, *arguments: str) -> subprocess.Popen:
    """Starts ``python -m training.train ARGUMENTS``; its output goes to ``runs/name.out`` and ``.err``."""
    runs.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "training.train", *arguments]
    with (runs / f"{name}.out").open("wb") as out, (runs / f"{name}.err").open("wb") as err:
        return subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)


def start_training(config_file: Path, runs: Path, name: str) -> subprocess.Popen:
    """Starts training run ``runs/name`` on ``config_file``."""
    return start_run(runs, name, "--config", str(config_file), "--set", f"run.output_dir={runs}", f"run.name={name}")


def finish(process: subprocess.Popen, runs: Path, name: str) -> str:
    """Waits for a process of :func:`start_run` and returns its stderr; fails the test unless it exited 0."""
    try:
        code = process.wait(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)
    stderr = (runs / f"{name}.err").read_text(errors="replace")
    assert code == 0, stderr[-3000:]
    return stderr


def resume(runs: Path, name: str) -> str:
    """``python -m training.train --resume runs/name``, to the end; returns its stderr."""
    return finish(start_run(runs, f"{name}-resumed", "--resume", str(runs / name)), runs, f"{name}-resumed")


def kill_when(process: subprocess.Popen, ready: Callable[[], bool]) -> None:
    """SIGKILLs ``process`` as soon as ``ready()`` holds, and checks that it was killed, not finished."""
    deadline = time.monotonic() + TIMEOUT
    try:
        while not ready():
            assert process.poll() is None, f"the run ended (exit {process.returncode}) before it could be killed"
            assert time.monotonic() < deadline, "timed out waiting for the moment to kill the run"
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=TIMEOUT) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()


def complete_checkpoints(run: Path) -> list[Path]:
    """The run's checkpoints whose ``trainer_state.json`` (written last) is there."""
    return [path.parent for path in (run / "checkpoints").glob("checkpoint-*/trainer_state.json")]


def read_json(path: Path) -> Any:
    """The JSON in ``path``."""
    return json.loads(path.read_text(encoding="utf-8"))


def without_timings(entry: dict[str, Any]) -> dict[str, Any]:
    """A log-history entry without its run times and speeds (which differ from run to run)."""
    return {key: value for key, value in entry.items() if not key.endswith(TIMING_KEYS)}


def assert_same_numbers(got: Any, expected: Any, where: str = "") -> None:
    """Equal structure; floats equal within 1e-6 (what resuming achieves: they match bit for bit)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys(), where
        for key in expected:
            assert_same_numbers(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), where
        for i, (a, b) in enumerate(zip(got, expected)):
            assert_same_numbers(a, b, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert math.isclose(got, expected, rel_tol=0, abs_tol=1e-6), f"{where}: {got} != {expected}"
    else:
        assert got == expected, f"{where}: {got!r} != {expected!r}"


def assert_same_training(got: Path, expected: Path, whole_run_loss: bool = True) -> None:
    """The two runs took the same steps, logged the same losses and score the validation split alike."""
    metrics, reference = read_json(got / "metrics.json"), read_json(expected / "metrics.json")
    assert metrics["train"]["steps"] == reference["train"]["steps"] == STEPS
    assert Path(metrics["train"]["best_checkpoint"]).name == Path(reference["train"]["best_checkpoint"]).name
    if whole_run_loss:
        assert math.isclose(metrics["train"]["loss"], reference["train"]["loss"], abs_tol=1e-6)
    for task, scores in reference["splits"]["validation"].items():
        assert metrics["splits"]["validation"][task]["accuracy"] == scores["accuracy"], task
        assert metrics["splits"]["validation"][task]["confusion_matrix"] == scores["confusion_matrix"], task
    assert_same_numbers(metrics["splits"], reference["splits"], "splits")
    assert_same_numbers(metrics["summary"], reference["summary"], "summary")

    history, reference_history = read_json(got / "log_history.json"), read_json(expected / "log_history.json")
    assert len(history) == len(reference_history)
    for entry, reference_entry in zip(history[:-1], reference_history[:-1]):
        assert_same_numbers(without_timings(entry), without_timings(reference_entry), f"step {entry['step']}")
    final, reference_final = without_timings(history[-1]), without_timings(reference_history[-1])
    if not whole_run_loss:
        del final["train_loss"], reference_final["train_loss"]
    assert_same_numbers(final, reference_final, "final")


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> Path:
    """The config every run of this module trains (with its own run.name and output_dir)."""
    folder = tmp_path_factory.mktemp("resume")
    path = folder / "config.yaml"
    save_config(tiny_config(folder, tiny_encoder_dir, OVERRIDES, rows=make_rows(per_cell=20)), path)
    return path


@pytest.fixture(scope="module")
def reference(config_file: Path) -> Iterator[Callable[[], Path]]:
    """Starts the uninterrupted run at once; calling the fixture's value waits for it and returns its folder."""
    runs = config_file.parent / "runs"
    process = start_training(config_file, runs, "reference")
    done: list[Path] = []

    def wait() -> Path:
        if not done:
            finish(process, runs, "reference")
            done.append(runs / "reference")
        return done[0]

    yield wait
    if process.poll() is None:
        process.kill()
        process.wait(timeout=TIMEOUT)


@pytest.mark.slow
def test_run_killed_mid_epoch_resumes_from_its_last_checkpoint_to_the_same_model(tmp_path, config_file, reference):
    runs = tmp_path / "runs"
    run = runs / "killed"
    process = start_training(config_file, runs, "killed")
    kill_when(process, lambda: bool(complete_checkpoints(run)))
    assert not (run / "metrics.json").exists()
    last = max(complete_checkpoints(run), key=lambda path: int(path.name.split("-")[1]))
    state = read_json(last / "trainer_state.json")
    step = state["global_step"]
    assert 0 < step < STEPS and step % 15, "the kill should land mid-epoch, well before the end"
    # What a kill while saving leaves: a newer checkpoint folder without its trainer_state.json.
    partial = run / "checkpoints" / "checkpoint-999"
    partial.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(last / name, partial / name)

    stderr = resume(runs, "killed")

    assert f"resuming from {last}\n" in stderr
    assert f"removing {partial}" in stderr and not partial.exists()
    # The resumed process began with the step after the checkpoint's: nothing before it was redone.
    resumed_log = (run / "train.log").read_text().split(f"resuming from {last}")[-1]
    assert [int(n) for n in PROGRESS.findall(resumed_log)][:1] == [step + 1]
    history = read_json(run / "log_history.json")
    assert history[: len(state["log_history"])] == state["log_history"]
    assert [entry["step"] for entry in history if "loss" in entry] == list(range(1, STEPS + 1))
    # The Trainer's train_loss averages only the steps its own process ran, so it is not the reference's.
    assert_same_training(run, reference(), whole_run_loss=False)


@pytest.mark.slow
def test_run_killed_before_its_first_checkpoint_resumes_from_the_start(tmp_path, config_file, reference):
    runs = tmp_path / "runs"
    run = runs / "early"
    process = start_training(config_file, runs, "early")
    log = run / "train.log"
    kill_when(process, lambda: log.is_file() and "training on " in log.read_text())
    assert not complete_checkpoints(run) and not (run / "metrics.json").exists()

    stderr = resume(runs, "early")

    assert "resuming from the start (no checkpoint yet)" in stderr
    assert_same_training(run, reference())


def write_checkpoint(folder: Path, step: int, state: str | None = '{"global_step": 0}') -> Path:
    """A stand-in ``checkpoint-<step>`` folder; ``state`` is its trainer_state.json text (None: none)."""
    path = folder / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(b"weights")
    if state is not None:
        (path / "trainer_state.json").write_text(state)
    return path


def test_resume_skips_and_removes_checkpoints_cut_short_while_saving(tmp_path):
    folder = tmp_path / "checkpoints"
    assert last_complete_checkpoint(folder) is None
    older_partial = write_checkpoint(folder, 2, state=None)
    write_checkpoint(folder, 5)
    last = write_checkpoint(folder, 10)
    no_state = write_checkpoint(folder, 15, state=None)
    cut_json = write_checkpoint(folder, 20, state='{"global_step": 20, "log_hi')
    (folder / "checkpoint-30").write_text("not a folder")
    (folder / "checkpoint-40.tmp").mkdir()

    assert last_complete_checkpoint(folder) == str(last)

    assert not no_state.exists() and not cut_json.exists()
    assert older_partial.is_dir() and (folder / "checkpoint-30").is_file() and (folder / "checkpoint-40.tmp").is_dir()
    assert last_complete_checkpoint(tmp_path / "nothing") is None
    assert last_complete_checkpoint(write_checkpoint(tmp_path / "only-partial", 4, state=None).parent) is None
