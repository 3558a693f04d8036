"""inference.batch.ray_engine: newsclf-predict --engine ray on a local Ray (2 CPUs) gives the local command's output,
for JSON lines, gzip, Parquet and folders, into JSON lines or Parquet, and survives an actor killed mid-run."""

from __future__ import annotations

import gzip
import json
import os
import signal
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from testkit.articles import make_rows
from testkit.same import assert_same_prediction_lines, assert_same_predictions

from inference.batch.cli import main
from inference.options import PredictOptions

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'newsclf[ray]')")
FP32 = ["--backend", "torch", "--precision", "fp32"]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def articles(count: int, seed: int = 0) -> list[dict]:
    rows = make_rows(per_cell=max(1, count // 9 + 1), seed=seed)[:count]
    return [{"id": row["id"], "title": row["title"], "content": row["content"]} for row in rows]


def write_lines(path: Path, lines: list[str]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return path


def local_output(model: Path, source: Path, output: Path, capsys) -> bytes:
    assert main(["--model", str(model), "--input", str(source), "--output", str(output), *FP32]) == 0, capsys
    return output.read_bytes()


def ray_output(model: Path, source: Path, output: Path, *extra: str) -> int:
    return main(
        ["--model", str(model), "--input", str(source), "--output", str(output), "--engine", "ray", *FP32, *extra]
    )


def test_json_lines_give_the_local_commands_bytes(tiny_model_dir: Path, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setenv("NEWSCLF_PREDICT_CHUNK", "7")  # many batches, so their order matters
    lines = [json.dumps(a) for a in articles(40)]
    lines[3] = json.dumps("a plain string article about the bank")  # a line may be just text
    lines.insert(5, "   ")  # blank lines are skipped by both
    source = write_lines(tmp_path / "articles.jsonl.gz", lines)
    expected = local_output(tiny_model_dir, source, tmp_path / "local.jsonl", capsys)
    assert ray_output(tiny_model_dir, source, tmp_path / "ray.jsonl", "--concurrency", "2") == 0
    assert_same_prediction_lines((tmp_path / "ray.jsonl").read_bytes(), expected)
    assert "wrote 40 predictions" in capsys.readouterr().err


def test_an_mpnet_folder_gives_the_local_commands_lines(tiny_mpnet_model_dir: Path, tmp_path: Path, capsys):
    source = write_lines(tmp_path / "articles.jsonl", [json.dumps(a) for a in articles(12)])
    expected = local_output(tiny_mpnet_model_dir, source, tmp_path / "local.jsonl", capsys)
    assert ray_output(tiny_mpnet_model_dir, source, tmp_path / "ray.jsonl") == 0
    assert_same_prediction_lines((tmp_path / "ray.jsonl").read_bytes(), expected)


def test_a_folder_of_parquet_files_gives_the_local_lines_in_file_order(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NEWSCLF_PREDICT_CHUNK", "4")
    folder = tmp_path / "archive"
    folder.mkdir()
    parts = {"part-1.parquet": articles(12, seed=1), "part-0.parquet": articles(8, seed=2)}
    for name, rows in parts.items():
        pq.write_table(pa.Table.from_pylist(rows), folder / name, row_group_size=4)
    expected = b"".join(
        local_output(tiny_model_dir, folder / name, tmp_path / f"{name}.jsonl", capsys) for name in sorted(parts)
    )
    assert ray_output(tiny_model_dir, folder, tmp_path / "ray.jsonl") == 0
    assert_same_prediction_lines((tmp_path / "ray.jsonl").read_bytes(), expected)
    assert ray_output(tiny_model_dir, folder, tmp_path / "ray.parquet") == 0
    records = pq.read_table(tmp_path / "ray.parquet").to_pylist()
    assert_same_predictions(records, [json.loads(line) for line in expected.decode().splitlines()])


def test_an_actor_killed_mid_run_still_gives_a_complete_output(tiny_model_dir, tmp_path, capsys, monkeypatch):
    import psutil

    from inference.batch.ray_engine import LINE, predict_dataset, read_dataset

    monkeypatch.setenv("NEWSCLF_PREDICT_CHUNK", "4")  # the batches of the Ray run below
    source = write_lines(tmp_path / "articles.jsonl", [json.dumps(a) for a in articles(600)])
    expected = local_output(tiny_model_dir, source, tmp_path / "local.jsonl", capsys).decode().splitlines(True)
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    lines = predict_dataset(
        read_dataset(source), tiny_model_dir, concurrency=2, rows_per_call=4, options=PredictOptions("torch", "fp32")
    )
    seen, killed = [], []
    for batch in lines.iter_batches(batch_format="numpy", batch_size=4):
        seen.extend(batch[LINE])
        if not killed:
            workers = [p for p in psutil.process_iter(["cmdline"]) if "MapWorker" in " ".join(p.info["cmdline"] or [])]
            assert workers, "no actor process found"
            os.kill(workers[0].pid, signal.SIGKILL)
            killed.append(workers[0].pid)
    assert killed and len(seen) == len(expected)
    assert_same_prediction_lines("".join(seen), "".join(expected))  # complete, in order, no duplicates


def test_an_actor_keeps_no_copy_of_the_model_on_disk(tiny_model_dir: Path, tmp_path: Path, monkeypatch):
    """Ray ends actors without running ``__del__``: a copy kept for the actor's life stayed in /tmp for good."""
    from inference.batch.ray_engine import LINE, _PredictorActor, ship_model
    from inference.prediction.predictor import Predictor

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    options = PredictOptions(backend="torch", precision="fp32")
    actor = _PredictorActor(ship_model(tiny_model_dir), options)
    assert list(scratch.iterdir()) == []
    batch = [json.dumps(article) for article in articles(3)]
    lines = actor({"text": batch})[LINE]
    local = Predictor.from_options(tiny_model_dir, options).predict([json.loads(line) for line in batch])
    assert [json.loads(line)["topic"]["label"] for line in lines] == [result["topic"]["label"] for result in local]


def test_bad_inputs_are_refused_before_ray_does_any_work(tiny_model_dir: Path, tmp_path: Path, capsys):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    write_lines(mixed / "a.jsonl", [json.dumps("text")])
    pq.write_table(pa.Table.from_pylist([{"content": "x"}]), mixed / "b.parquet")
    (tmp_path / "empty").mkdir()
    cases = [
        (mixed, "both Parquet and JSON-lines"),
        (tmp_path / "empty", "no .jsonl"),
        (tmp_path / "missing.jsonl", "no such input"),
        (write_lines(tmp_path / "notes.txt", ["x"]), "--engine ray reads"),
    ]
    for source, message in cases:
        assert ray_output(tiny_model_dir, source, tmp_path / "out.jsonl") == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--model", str(tiny_model_dir), "--input", str(mixed / "a.jsonl"), "--engine", "ray"])  # no --output
    assert "--engine ray reads --input" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--model", str(tiny_model_dir), "--text", "x", "--concurrency", "2"])
    assert "need --engine ray" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_without_ray_the_error_says_what_to_install(monkeypatch):
    import builtins

    from inference.batch import ray_engine

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ImportError, match=r"pip install 'newsclf\[ray\]'"):
        ray_engine.import_ray()
