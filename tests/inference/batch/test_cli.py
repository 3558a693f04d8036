"""Tests for the prediction command line, inference.batch.cli (newsclf-predict, python -m inference)."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from testkit.articles import make_rows, write_jsonl
from testkit.processes import kill_after_progress

from inference import Predictor
from inference.batch.cli import CHUNK, CHUNK_VARIABLE, main

TASKS = ("topic", "leaning")


@pytest.fixture(scope="module")
def predictor(tiny_model_dir: Path) -> Predictor:
    return Predictor.from_pretrained(tiny_model_dir, precision="fp32")


def _records(text: str) -> list[dict[str, Any]]:
    lines = text.splitlines()
    assert all(line.strip() for line in lines), "no blank lines in the output"
    return [json.loads(line) for line in lines]


def _assert_matches(record: dict[str, Any], expected: dict[str, Any]) -> None:
    for task in TASKS:
        assert record[task]["label"] == expected[task]["label"]
        assert record[task]["scores"] == pytest.approx(expected[task]["scores"], abs=1e-5)
        assert record[task]["score"] == pytest.approx(expected[task]["score"], abs=1e-5)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    # fp32, to compare with the fp32 predictor exactly (auto may pick bf16 on this CPU)
    code = main([*argv, "--precision", "fp32"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_text_arguments(tiny_model_dir: Path, predictor: Predictor, capsys):
    texts = ["Inflation pushes the bank to raise rates.", "The coach praised the team after the match."]
    code, out, _ = _run(["--model", str(tiny_model_dir), "--text", texts[0], "--text", texts[1]], capsys)
    assert code == 0
    records = _records(out)
    assert len(records) == 2
    for record, text in zip(records, texts):
        assert set(record) == set(TASKS)
        _assert_matches(record, predictor.predict(text))


def test_jsonl_input_keeps_ids_and_order(
    tiny_model_dir: Path, predictor: Predictor, tmp_path: Path, monkeypatch, capsys
):
    monkeypatch.setattr("inference.batch.articles.CHUNK", 7)  # several chunks, one of them partial
    rows = make_rows(per_cell=3)
    random.Random(1).shuffle(rows)
    articles = [{"id": row["id"], "title": row["title"], "content": row["content"]} for row in rows]
    articles[5] = {"title": "No id here", "content": "Doctors and nurses."}
    path = write_jsonl(tmp_path / "articles.jsonl", articles)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\n   \n")  # blank lines are skipped
        handle.write(json.dumps("A plain JSON string article about the league season.") + "\n")

    code, out, _ = _run(["--model", str(tiny_model_dir), "--input", str(path), "--batch-size", "8"], capsys)
    assert code == 0
    records = _records(out)
    assert len(records) == len(articles) + 1 == 28
    assert [r.get("id") for r in records[: len(articles)]] == [a.get("id") for a in articles]
    assert "id" not in records[5]
    assert "id" not in records[-1]
    for index in (0, 5, 6, 7, 20, len(articles) - 1):
        _assert_matches(records[index], predictor.predict(articles[index]))
    _assert_matches(records[-1], predictor.predict("A plain JSON string article about the league season."))


def test_jsonl_with_more_articles_than_one_chunk(tiny_model_dir: Path, tmp_path: Path, capsys):
    articles = [{"id": f"n{i}", "content": f"Article number {i} about wages."} for i in range(CHUNK + 3)]
    path = write_jsonl(tmp_path / "many.jsonl", articles)
    code, out, _ = _run(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 0
    assert [r["id"] for r in _records(out)] == [a["id"] for a in articles]


def test_jsonl_with_lone_surrogate_escape(tiny_model_dir: Path, tmp_path: Path, capsys):
    path = tmp_path / "surrogate.jsonl"
    path.write_text('{"id": 1, "title": "Broken emoji \\ud83d", "content": "Rates rise."}\n', encoding="utf-8")
    code, out, _ = _run(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 0
    assert [r["id"] for r in _records(out)] == [1]


def test_jsonl_gz_input(tiny_model_dir: Path, predictor: Predictor, tmp_path: Path, capsys):
    articles = [
        {"id": "b", "title": "Vaccine", "content": "Hospital care."},
        {"id": "a", "title": "Goal", "content": "Stadium"},
        {"id": 7, "title": "Ünïcødé “quotes”", "content": "Prices — wages"},
    ]
    path = tmp_path / "articles.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(article) + "\n" for article in articles))
    code, out, _ = _run(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 0
    records = _records(out)
    assert [r["id"] for r in records] == ["b", "a", 7]
    for record, article in zip(records, articles):
        _assert_matches(record, predictor.predict(article))


def test_truncated_gzip_input(tiny_model_dir: Path, tmp_path: Path, capsys):
    path = tmp_path / "articles.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"id": 1, "content": "Rates rise."}\n' * 50)[:-12])
    code, _, err = _run(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 2
    assert err.startswith(f"error: {path}: not a complete gzip file")
    assert "Traceback" not in err


def test_txt_input_one_article_per_line(tiny_model_dir: Path, predictor: Predictor, tmp_path: Path, capsys):
    path = tmp_path / "articles.txt"
    path.write_text('First line about rates.\n\n{"title": "not parsed"}\nLast line, no newline', encoding="utf-8")
    code, out, _ = _run(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 0
    records = _records(out)
    assert len(records) == 3
    expected = ["First line about rates.", '{"title": "not parsed"}', "Last line, no newline"]
    for record, text in zip(records, expected):
        assert "id" not in record
        _assert_matches(record, predictor.predict(text))


def test_stdin_in_process(tiny_model_dir: Path, predictor: Predictor, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("Rates rise.\n\n   \nThe team won the match.\n"))
    code, out, _ = _run(["--model", str(tiny_model_dir)], capsys)
    assert code == 0
    records = _records(out)
    assert len(records) == 2
    _assert_matches(records[0], predictor.predict("Rates rise."))
    _assert_matches(records[1], predictor.predict("The team won the match."))


def test_json_lines_on_stdin_are_read_as_in_a_jsonl_file(
    tiny_model_dir: Path, predictor: Predictor, monkeypatch, capsys
):
    article = {"id": "x1", "title": "Fed raises rates", "content": "The bank lifted its rate."}
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(article) + '\n"a plain JSON string"\n'))
    code, out, _ = _run(["--model", str(tiny_model_dir)], capsys)
    assert code == 0
    records = _records(out)
    assert records[0]["id"] == "x1" and "id" not in records[1]
    _assert_matches(records[0], predictor.predict(article))
    _assert_matches(records[1], predictor.predict("a plain JSON string"))


@pytest.mark.parametrize("source", ["stdin", "articles.txt", "articles.data"])
def test_format_text_reads_json_looking_lines_as_text(
    tiny_model_dir: Path, predictor: Predictor, tmp_path: Path, monkeypatch, capsys, source: str
):
    line = '{"title": "Fed raises rates"}'
    if source == "stdin":
        monkeypatch.setattr(sys, "stdin", io.StringIO(line + "\n"))
        where = []
    else:
        (tmp_path / source).write_text(line + "\n", encoding="utf-8")
        where = ["--input", str(tmp_path / source)]
    code, out, _ = _run(["--model", str(tiny_model_dir), *where, "--format", "text"], capsys)
    assert code == 0
    _assert_matches(_records(out)[0], predictor.predict(line))


def test_a_txt_file_of_json_lines_is_refused_in_one_line_unless_a_format_is_given(
    tiny_model_dir: Path, predictor: Predictor, tmp_path: Path, capsys
):
    path = tmp_path / "one.txt"
    path.write_text('{"id": "x1", "title": "Fed raises rates"}\n', encoding="utf-8")
    code, out, err = _run(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"{path}: a .txt file is read as one article's text a line" in err
    assert "--format jsonl" in err
    code, out, _ = _run(["--model", str(tiny_model_dir), "--input", str(path), "--format", "jsonl"], capsys)
    assert code == 0 and _records(out)[0]["id"] == "x1"


def test_json_lines_in_a_file_of_another_suffix_are_detected(tiny_model_dir: Path, tmp_path: Path, capsys):
    path = tmp_path / "export.data"
    path.write_text('{"id": "x1", "title": "Fed raises rates"}\n{"id": "x2", "content": "Rates."}\n', encoding="utf-8")
    code, out, _ = _run(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 0 and [r["id"] for r in _records(out)] == ["x1", "x2"]


def test_a_first_line_that_starts_like_json_but_is_none_is_refused(tiny_model_dir: Path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"title": "Fed raises rates",}\n'))
    code, out, err = _run(["--model", str(tiny_model_dir)], capsys)
    assert code == 2 and out == ""
    assert "standard input, line 1, column 30: starts like a JSON object but is invalid JSON" in err
    assert "--format text" in err


def test_python_m_inference_reads_stdin(tiny_model_dir: Path, predictor: Predictor, tmp_path: Path):
    target = tmp_path / "out" / "predictions.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "inference",
            "--model",
            str(tiny_model_dir),
            "--threads",
            "1",
            "--precision",
            "fp32",
            "--output",
            str(target),
        ],
        input="Vaccine trials at the hospital.\n\nThe central bank raised rates.\n",
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).parents[3],
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 2 predictions" in result.stderr
    records = _records(target.read_text(encoding="utf-8"))
    assert len(records) == 2
    _assert_matches(records[0], predictor.predict("Vaccine trials at the hospital."))
    _assert_matches(records[1], predictor.predict("The central bank raised rates."))
    assert sorted(p.name for p in target.parent.iterdir()) == ["predictions.jsonl"]


def test_output_file_is_written_atomically(tiny_model_dir: Path, tmp_path: Path, capsys):
    source = write_jsonl(tmp_path / "in" / "articles.jsonl", make_rows(per_cell=1))
    target = tmp_path / "new" / "folder" / "predictions.jsonl"
    code, out, err = _run(["--model", str(tiny_model_dir), "--input", str(source), "--output", str(target)], capsys)
    assert code == 0
    assert out == ""
    assert f"wrote 9 predictions to {target}" in err
    records = _records(target.read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == [row["id"] for row in make_rows(per_cell=1)]
    assert sorted(p.name for p in target.parent.iterdir()) == ["predictions.jsonl"]


def test_output_replaces_existing_file(tiny_model_dir: Path, tmp_path: Path, capsys):
    target = tmp_path / "predictions.jsonl"
    target.write_text("old content\n" * 100, encoding="utf-8")
    code, _, _ = _run(["--model", str(tiny_model_dir), "--text", "Rates rise.", "--output", str(target)], capsys)
    assert code == 0
    records = _records(target.read_text(encoding="utf-8"))
    assert len(records) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predictions.jsonl"]


def test_output_file_has_normal_permissions(tiny_model_dir: Path, tmp_path: Path, capsys):
    umask = os.umask(0o022)
    os.umask(umask)
    target = tmp_path / "predictions.jsonl"
    code, _, _ = _run(["--model", str(tiny_model_dir), "--text", "Rates rise.", "--output", str(target)], capsys)
    assert code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_invalid_json_line(tiny_model_dir: Path, tmp_path: Path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"title": "ok", "content": "fine"}\n\n{"title": "broken", \n', encoding="utf-8")
    code, _, err = _run(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 2
    assert "line 3" in err
    assert "invalid JSON" in err
    assert str(path) in err
    assert "Traceback" not in err


def test_invalid_json_keeps_existing_output_and_leaves_no_temp_file(tiny_model_dir: Path, tmp_path: Path, capsys):
    path = tmp_path / "in" / "bad.jsonl"
    path.parent.mkdir()
    path.write_text('{"title": "ok", "content": "fine"}\nnot json\n', encoding="utf-8")
    target = tmp_path / "out" / "predictions.jsonl"
    target.parent.mkdir()
    target.write_text("previous run\n", encoding="utf-8")
    code, _, err = _run(["--model", str(tiny_model_dir), "--input", str(path), "--output", str(target)], capsys)
    assert code == 2
    assert "line 2" in err
    assert target.read_text(encoding="utf-8") == "previous run\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["predictions.jsonl"]


def test_invalid_json_without_existing_output_writes_nothing(tiny_model_dir: Path, tmp_path: Path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text("{oops}\n", encoding="utf-8")
    target = tmp_path / "out" / "predictions.jsonl"
    code, _, err = _run(["--model", str(tiny_model_dir), "--input", str(path), "--output", str(target)], capsys)
    assert code == 2
    assert "line 1" in err
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_json_line_that_is_not_an_article(tiny_model_dir: Path, tmp_path: Path, capsys):
    path = tmp_path / "numbers.jsonl"
    path.write_text("42\n", encoding="utf-8")
    code, _, err = _run(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 2
    assert err.startswith("error:")


def test_json_object_without_text_fields(tiny_model_dir: Path, tmp_path: Path, capsys):
    path = write_jsonl(tmp_path / "wrong.jsonl", [{"id": "x", "headline": "Wrong field"}])
    code, _, err = _run(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 2
    assert "title" in err
    assert "content" in err


def test_input_that_is_not_utf8(tiny_model_dir: Path, tmp_path: Path, capsys):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\u00e9 prices rise\n".encode("latin-1"))
    code, _, err = _run(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 2
    assert "UTF-8" in err


def test_missing_model_folder(tmp_path: Path, capsys):
    missing = tmp_path / "no-model"
    code, out, err = _run(["--model", str(missing), "--text", "hello"], capsys)
    assert code == 2
    assert out == ""
    assert "no such model folder" in err
    assert str(missing) in err


def test_missing_input_file(tiny_model_dir: Path, tmp_path: Path, capsys):
    missing = tmp_path / "nothing.jsonl"
    code, out, err = _run(["--model", str(tiny_model_dir), "--input", str(missing)], capsys)
    assert code == 2
    assert out == ""
    assert "no such input file" in err
    assert str(missing) in err


def test_missing_input_file_with_output_leaves_nothing(tiny_model_dir: Path, tmp_path: Path, capsys):
    target = tmp_path / "out" / "predictions.jsonl"
    code, _, _ = _run(
        ["--model", str(tiny_model_dir), "--input", str(tmp_path / "nope.txt"), "--output", str(target)], capsys
    )
    assert code == 2
    assert not target.exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_model_flag_is_required(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["--text", "hello"])
    assert excinfo.value.code == 2
    assert "--model" in capsys.readouterr().err


def test_lone_surrogate_in_an_id_is_written_escaped(tiny_model_dir: Path, tmp_path: Path, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "x\\ud83d", "content": "Rates rise."}\n', encoding="utf-8")
    target = tmp_path / "out.jsonl"
    code, _, err = _run(["--model", str(tiny_model_dir), "--input", str(path), "--output", str(target)], capsys)
    assert code == 0, err
    assert [r["id"] for r in _records(target.read_text(encoding="utf-8"))] == ["x\ud83d"]


def test_article_that_is_not_one_is_named_by_file_and_line(tiny_model_dir: Path, tmp_path: Path, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text('"fine"\n\n{"headline": "x"}\n', encoding="utf-8")
    code, _, err = _run(["--model", str(tiny_model_dir), "--input", str(path)], capsys)
    assert code == 2
    assert err.startswith(f"error: {path}, line 3: article has none of the text fields")
    assert len(err.splitlines()) == 1


def test_output_into_a_folder_that_is_a_file(tiny_model_dir: Path, tmp_path: Path, capsys):
    (tmp_path / "file").write_text("", encoding="utf-8")
    target = tmp_path / "file" / "out.jsonl"
    code, _, err = _run(["--model", str(tiny_model_dir), "--text", "Rates rise.", "--output", str(target)], capsys)
    assert code == 2
    assert err.startswith("error: ")
    assert str(tmp_path / "file") in err
    assert "Traceback" not in err


# Resuming an interrupted prediction into a file. CHUNK is 4 here, so 18 articles are 5 chunks.

RESUME_CHUNK = 4


@pytest.fixture(scope="module")
def resume_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("resume") / "articles.jsonl", make_rows(per_cell=2))


@pytest.fixture(scope="module")
def uninterrupted(tiny_model_dir: Path, resume_input: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """What a run that is never interrupted writes for ``resume_input``."""
    target = tmp_path_factory.mktemp("uninterrupted") / "predictions.jsonl"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("inference.batch.articles.CHUNK", RESUME_CHUNK)
        code = main(["--model", str(tiny_model_dir), "--input", str(resume_input), "--output", str(target), *FP32])
    assert code == 0
    return target.read_bytes()


FP32 = ["--precision", "fp32"]
PREDICT = Predictor.predict


class CountingPredict:
    """Replaces ``Predictor.predict``: counts the articles predicted; Ctrl-C after ``chunks`` calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, chunks: int | None = None) -> None:
        self.articles = 0
        self.calls = 0
        original = PREDICT

        def predict(predictor: Predictor, articles: Any) -> Any:
            if self.calls == chunks:
                raise KeyboardInterrupt
            self.calls += 1
            self.articles += len(articles)
            return original(predictor, articles)

        monkeypatch.setattr(Predictor, "predict", predict)


def _interrupted_run(
    model: Path, source: Path, target: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """Runs into ``target``, stopped by Ctrl-C while predicting its third chunk; returns stderr."""
    monkeypatch.setattr("inference.batch.articles.CHUNK", RESUME_CHUNK)
    CountingPredict(monkeypatch, chunks=2)
    code, out, err = _run(["--model", str(model), "--input", str(source), "--output", str(target)], capsys)
    assert code == 130, err
    assert out == ""
    return err


def _partial(target: Path) -> tuple[Path, Path]:
    return target.with_name(target.name + ".partial"), target.with_name(target.name + ".partial.json")


def test_interrupted_prediction_resumes_where_it_stopped(
    tiny_model_dir: Path, resume_input: Path, uninterrupted: bytes, tmp_path: Path, monkeypatch, capsys
):
    target = tmp_path / "predictions.jsonl"
    target.write_text("previous run\n", encoding="utf-8")
    partial, progress = _partial(target)

    err = _interrupted_run(tiny_model_dir, resume_input, target, monkeypatch, capsys)
    assert err.splitlines() == [
        "interrupted",
        f"8 predictions are kept in {partial}: the same command continues from there (--restart starts over)",
    ]
    assert target.read_text(encoding="utf-8") == "previous run\n"  # untouched until the end
    assert partial.read_bytes() == b"".join(uninterrupted.splitlines(keepends=True)[:8])  # the 2 finished chunks
    assert json.loads(progress.read_text(encoding="utf-8"))["done"] == 8

    counter = CountingPredict(monkeypatch)
    code, _, err = _run(["--model", str(tiny_model_dir), "--input", str(resume_input), "--output", str(target)], capsys)
    assert code == 0, err
    assert f"resuming: 8 articles already predicted in {partial}" in err
    assert f"wrote 18 predictions to {target} (8 of them predicted before)" in err
    assert (counter.articles, counter.calls) == (10, 3)  # only the rest: 4 + 4 + 2
    assert target.read_bytes() == uninterrupted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predictions.jsonl"]


def test_resume_drops_the_chunk_that_was_being_written(
    tiny_model_dir: Path, resume_input: Path, uninterrupted: bytes, tmp_path: Path, monkeypatch, capsys
):
    target = tmp_path / "predictions.jsonl"
    partial, _ = _partial(target)
    _interrupted_run(tiny_model_dir, resume_input, target, monkeypatch, capsys)
    # killed while writing the third chunk: one whole line and half of the next reached the file
    lines = uninterrupted.splitlines(keepends=True)
    with partial.open("ab") as handle:
        handle.write(lines[8] + lines[9][:25])

    counter = CountingPredict(monkeypatch)
    code, _, err = _run(["--model", str(tiny_model_dir), "--input", str(resume_input), "--output", str(target)], capsys)
    assert code == 0, err
    assert "resuming: 8 articles" in err
    assert counter.articles == 10  # the whole third chunk again
    assert target.read_bytes() == uninterrupted
    assert not partial.exists()


def test_partial_output_of_another_input_is_refused(
    tiny_model_dir: Path, resume_input: Path, tmp_path: Path, monkeypatch, capsys
):
    source = tmp_path / "articles.jsonl"
    source.write_bytes(resume_input.read_bytes())
    target = tmp_path / "out" / "predictions.jsonl"
    partial, progress = _partial(target)
    _interrupted_run(tiny_model_dir, source, target, monkeypatch, capsys)
    kept = partial.read_bytes(), progress.read_bytes()
    other = write_jsonl(tmp_path / "other.jsonl", make_rows(per_cell=1, seed=5))
    argv = ["--model", str(tiny_model_dir), "--output", str(target)]

    counter = CountingPredict(monkeypatch)
    code, _, err = _run([*argv, "--input", str(other)], capsys)
    assert code == 2
    assert err.splitlines() == [
        (
            f"error: {partial} holds predictions of the first 8 articles of {source}, and those are not "
            f"the first 8 articles of {other}; pass --restart to discard it and start over"
        )
    ]
    source.write_text(source.read_text(encoding="utf-8").replace("a005", "a005-edited"), encoding="utf-8")
    code, _, err = _run([*argv, "--input", str(source)], capsys)
    assert code == 2
    assert err == (
        f"error: {partial} holds predictions of the first 8 articles of {source}, and the first 8 articles of "
        f"{source} have changed since; pass --restart to discard it and start over\n"
    )
    source.write_bytes(resume_input.read_bytes())
    recorded = json.loads(kept[1])
    progress.write_text(json.dumps({**recorded, "backend": "onnx-int8"}), encoding="utf-8")
    code, _, err = _run([*argv, "--input", str(source)], capsys)
    assert code == 2
    assert "predicted in onnx-int8, this run would use torch-fp32" in err
    assert "--restart" in err
    progress.write_text(json.dumps({**recorded, "model_sha256": "0" * 64}), encoding="utf-8")
    code, _, err = _run([*argv, "--input", str(source)], capsys)
    assert code == 2
    assert f"{partial} holds predictions of another model" in err
    progress.write_bytes(kept[1])
    assert counter.articles == 0
    assert partial.read_bytes() == kept[0]
    assert not target.exists()

    code, _, err = _run([*argv, "--input", str(other), "--restart"], capsys)
    assert code == 0, err
    assert "resuming" not in err
    assert counter.articles == 9  # all of the other input
    assert [r["id"] for r in _records(target.read_text(encoding="utf-8"))] == [r["id"] for r in make_rows(1, seed=5)]
    assert sorted(p.name for p in target.parent.iterdir()) == ["predictions.jsonl"]


def test_input_that_grew_after_the_interruption_is_continued(
    tiny_model_dir: Path, resume_input: Path, tmp_path: Path, monkeypatch, capsys
):
    source = tmp_path / "articles.jsonl"
    source.write_bytes(resume_input.read_bytes())
    target = tmp_path / "predictions.jsonl"
    _interrupted_run(tiny_model_dir, source, target, monkeypatch, capsys)
    with source.open("a", encoding="utf-8") as handle:
        handle.write("\n" + json.dumps({"id": "new", "content": "Late news about the league."}) + "\n")
    counter = CountingPredict(monkeypatch)
    code, _, err = _run(["--model", str(tiny_model_dir), "--input", str(source), "--output", str(target)], capsys)
    assert code == 0, err
    assert counter.articles == 11
    ids = [r["id"] for r in _records(target.read_text(encoding="utf-8"))]
    assert ids == [row["id"] for row in make_rows(per_cell=2)] + ["new"]


def test_partial_file_without_progress_file_is_refused(
    tiny_model_dir: Path, resume_input: Path, tmp_path: Path, capsys
):
    target = tmp_path / "predictions.jsonl"
    partial, _ = _partial(target)
    partial.write_text("something\n", encoding="utf-8")
    argv = ["--model", str(tiny_model_dir), "--input", str(resume_input), "--output", str(target)]
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert err == (
        f"error: {partial} has no predictions.jsonl.partial.json saying what it holds; "
        "pass --restart to discard it and start over\n"
    )
    assert partial.read_text(encoding="utf-8") == "something\n"
    code, _, err = _run([*argv, "--restart"], capsys)
    assert code == 0, err
    assert len(_records(target.read_text(encoding="utf-8"))) == 18


def test_error_after_some_chunks_keeps_them(tiny_model_dir: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setattr("inference.batch.articles.CHUNK", RESUME_CHUNK)
    source = write_jsonl(tmp_path / "in" / "articles.jsonl", make_rows(per_cell=1))
    with source.open("a", encoding="utf-8") as handle:
        handle.write("{broken\n")
    target = tmp_path / "out" / "predictions.jsonl"
    argv = ["--model", str(tiny_model_dir), "--input", str(source), "--output", str(target)]
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert err.splitlines()[0].startswith(f"error: {source}, line 10, column 2: invalid JSON")
    assert "8 predictions are kept in" in err
    # fixing the broken line continues after the 8 articles already predicted
    source.write_text(source.read_text(encoding="utf-8").replace("{broken", '"fixed"'), encoding="utf-8")
    counter = CountingPredict(monkeypatch)
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    assert counter.articles == 2
    assert len(_records(target.read_text(encoding="utf-8"))) == 10


def test_killed_process_resumes(tiny_model_dir: Path, predictor: Predictor, tmp_path: Path, monkeypatch, capsys):
    """A real SIGKILL of ``python -m inference`` at whatever point it was, then the same command again."""
    articles = [{"id": f"k{i}", "content": f"Report {i}: the bank raised rates and wages rose."} for i in range(600)]
    source = write_jsonl(tmp_path / "articles.jsonl", articles)
    target = tmp_path / "out" / "predictions.jsonl"
    partial, progress = _partial(target)
    argv = ["--model", str(tiny_model_dir), "--input", str(source), "--output", str(target), *FP32]
    process = subprocess.Popen(
        [sys.executable, "-m", "inference", *argv, "--threads", "1"],
        cwd=Path(__file__).parents[3],
        env={**os.environ, CHUNK_VARIABLE: "2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    kill_after_progress(process, progress, at_least=2)
    _, stderr = process.communicate()
    assert process.returncode == -signal.SIGKILL, stderr.decode()
    assert not target.exists()
    done = json.loads(progress.read_text(encoding="utf-8"))["done"]
    kept = partial.read_bytes()[: json.loads(progress.read_text(encoding="utf-8"))["bytes"]]
    assert 2 <= done < 600
    assert kept.count(b"\n") == done

    counter = CountingPredict(monkeypatch)
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    assert f"resuming: {done} articles already predicted" in err
    assert counter.articles == 600 - done
    assert counter.calls == (600 - done) // 2  # the chunk size of the killed run
    written = target.read_bytes()
    assert written.startswith(kept)

    monkeypatch.setenv(CHUNK_VARIABLE, "2")
    reference = tmp_path / "reference.jsonl"
    code, _, _ = _run(["--model", str(tiny_model_dir), "--input", str(source), "--output", str(reference)], capsys)
    assert code == 0
    assert written[len(kept) :] == reference.read_bytes()[len(kept) :]
    records, expected = _records(written.decode()), _records(reference.read_text(encoding="utf-8"))
    assert [r["id"] for r in records] == [a["id"] for a in articles]
    for record, want in zip(records, expected):
        _assert_matches(record, want)
    assert sorted(p.name for p in target.parent.iterdir()) == ["predictions.jsonl"]
