"""Tests for inference.batch.workers (worker processes) and streaming prediction of Parquet files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from testkit.articles import make_rows, write_jsonl
from testkit.processes import kill_after_progress
from testkit.same import assert_same_prediction_lines

from inference.batch.cli import main
from inference.batch.workers import PredictorPool
from inference.options import PredictOptions


def _score_titles(predictor, titles):
    return [result["topic"]["label"] for result in predictor.predict(titles)]


def _fail_on_bad(predictor, item):
    if item == "bad":
        raise ValueError("a bad item")
    return item.upper()


def _articles(count: int = 40) -> list[dict]:
    rows = make_rows(per_cell=5)[:count]
    return [{"id": row["id"], "title": row["title"], "content": row["content"]} for row in rows]


def _predict(argv: list[str], capsys) -> tuple[int, str]:
    code = main([*argv, "--precision", "fp32", "--backend", "torch"])
    return code, capsys.readouterr().err


def test_workers_write_the_same_file_as_one_process(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NEWSCLF_PREDICT_CHUNK", "3")  # many chunks, so their order matters
    source = write_jsonl(tmp_path / "articles.jsonl", _articles())
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert _predict(["--model", str(tiny_model_dir), "--input", str(source), "--output", str(one)], capsys)[0] == 0
    code, err = _predict(
        ["--model", str(tiny_model_dir), "--input", str(source), "--output", str(two), "--workers", "2"], capsys
    )
    assert code == 0, err
    assert_same_prediction_lines(two.read_bytes(), one.read_bytes())
    assert [json.loads(line)["id"] for line in two.read_text().splitlines()] == [a["id"] for a in _articles()]


def test_parquet_input_is_predicted_like_the_same_jsonl(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NEWSCLF_PREDICT_CHUNK", "7")
    articles = _articles()
    source = write_jsonl(tmp_path / "articles.jsonl", articles)
    table = tmp_path / "articles.parquet"
    # small row groups: the file is read a group at a time
    pq.write_table(pa.Table.from_pylist(articles), table, row_group_size=6)
    from_jsonl, from_parquet = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert (
        _predict(["--model", str(tiny_model_dir), "--input", str(source), "--output", str(from_jsonl)], capsys)[0] == 0
    )
    code, err = _predict(
        ["--model", str(tiny_model_dir), "--input", str(table), "--output", str(from_parquet), "--workers", "2"], capsys
    )
    assert code == 0, err
    assert_same_prediction_lines(from_parquet.read_bytes(), from_jsonl.read_bytes())


def test_a_bad_parquet_row_is_named_by_file_and_row(tiny_model_dir, tmp_path, capsys):
    rows = [{"id": str(i), "headline": "Rates rise", "body": "The bank raised rates."} for i in range(10)]
    table = tmp_path / "articles.parquet"
    pq.write_table(pa.Table.from_pylist(rows), table, row_group_size=4)
    out = tmp_path / "out.jsonl"
    code, err = _predict(["--model", str(tiny_model_dir), "--input", str(table), "--output", str(out)], capsys)
    assert code == 2
    assert f"{table}, row 1: article has none of the text fields ['title', 'content']" in err
    assert "Traceback" not in err and not out.exists()


def test_a_file_that_is_not_parquet_is_refused_clearly(tiny_model_dir, tmp_path, capsys):
    table = tmp_path / "articles.parquet"
    table.write_text("this is not parquet\n")
    code, err = _predict(
        ["--model", str(tiny_model_dir), "--input", str(table), "--output", str(tmp_path / "o")], capsys
    )
    assert code == 2
    assert err.startswith(f"error: {table}: not a readable Parquet file")


def test_zero_workers_is_refused(tiny_model_dir, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--model", str(tiny_model_dir), "--text", "a", "--workers", "0"])
    assert stopped.value.code == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


def test_pool_keeps_order_reads_its_input_lazily_and_raises_a_worker_error(tiny_model_dir):
    pulled = 0

    def items():
        nonlocal pulled
        for index in range(50):
            pulled += 1
            yield f"item {index}"

    with PredictorPool(str(tiny_model_dir), workers=2, options=PredictOptions(precision="fp32")) as pool:
        results = pool.map(_fail_on_bad, items())
        first = next(results)
        assert first == ("item 0", "ITEM 0")
        assert pulled <= 4, "at most 2 chunks per worker are in flight: memory stays flat"
        rest = list(results)
        assert [result for _, result in rest] == [f"ITEM {i}" for i in range(1, 50)]

        titles = [["Inflation pushes the bank to raise rates."], ["The coach praised the team."]]
        assert [out for _, out in pool.map(_score_titles, titles)] == [
            _score_titles(_local_predictor(tiny_model_dir), chunk) for chunk in titles
        ]
        with pytest.raises(ValueError, match="a bad item"):
            list(pool.map(_fail_on_bad, ["fine", "bad", "fine"]))


def _local_predictor(folder: Path):
    from inference import Predictor

    return Predictor.from_pretrained(folder, precision="fp32")


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(child) for child in (task / "children").read_text().split())
        except OSError:
            pass
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for a parent to reap it."""
    try:
        state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State:"))
    except (OSError, StopIteration):
        return False
    return "Z" not in state.split()[1]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads child processes from /proc")
def test_a_killed_run_with_workers_leaves_no_worker_behind_and_resumes_to_the_same_file(
    tiny_model_dir, tmp_path, capsys, monkeypatch
):
    articles = [{"id": f"k{i}", "content": f"Report {i}: the bank raised rates and wages rose."} for i in range(400)]
    source = write_jsonl(tmp_path / "articles.jsonl", articles)
    target = tmp_path / "predictions.jsonl"
    progress = tmp_path / "predictions.jsonl.partial.json"
    argv = ["--model", str(tiny_model_dir), "--input", str(source), "--output", str(target), "--workers", "2"]
    process = subprocess.Popen(
        [sys.executable, "-m", "inference", *argv, "--precision", "fp32", "--backend", "torch"],
        cwd=Path(__file__).parents[3],
        env={**os.environ, "NEWSCLF_PREDICT_CHUNK": "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    workers: set[int] = set()
    kill_after_progress(process, progress, at_least=4, each_poll=lambda: workers.update(_children(process.pid)))
    assert len(workers) >= 2, "the run had started its workers"
    # a worker left running would hold the standard error pipe open
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, stderr.decode()
    deadline = time.monotonic() + 30
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers), "workers outlive a killed parent"
    done = json.loads(progress.read_text(encoding="utf-8"))["done"]
    assert 4 <= done < 400 and not target.exists()

    monkeypatch.setenv("NEWSCLF_PREDICT_CHUNK", "2")
    code, err = _predict(argv, capsys)
    assert code == 0, err
    assert f"resuming: {done} articles already predicted" in err
    reference = tmp_path / "reference.jsonl"
    assert (
        _predict(["--model", str(tiny_model_dir), "--input", str(source), "--output", str(reference)], capsys)[0] == 0
    )
    assert_same_prediction_lines(target.read_bytes(), reference.read_bytes())
