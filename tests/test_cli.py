"""Tests for the prediction command line, inference.cli (newsclf-predict, python -m inference)."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import make_rows, write_jsonl

from inference import Predictor
from inference.cli import CHUNK, main

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
    monkeypatch.setattr("inference.cli.CHUNK", 7)  # several chunks, one of them partial
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
        cwd=Path(__file__).parents[1],
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
