"""Tests for training.convert_allsides on a tiny fictional copy of the original layout."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from training.convert_allsides import ConversionError, convert_allsides, main

KEYS = ["id", "title", "content", "topic", "bias", "source", "date", "url"]


def _article(article_id: str, **overrides: Any) -> dict[str, Any]:
    """Build one article in the original repository's JSON layout."""
    article: dict[str, Any] = {
        "topic": "elections",
        "source": f"Outlet {article_id}",
        "bias": 1,
        "url": f"https://example.org/{article_id}",
        "title": f"Title of {article_id}",
        "date": "2019-05-04",
        "authors": "A. Writer",
        "content": f"Body of {article_id} , tokenised .\nSecond paragraph .",
        "content_original": f"Body of {article_id}, as published.\n\nSecond paragraph.",
        "source_url": "www.example.org",
        "bias_text": "center",
        "ID": article_id,
    }
    article.update(overrides)
    return article


def _write_json(repo: Path, name: str, payload: Any) -> Path:
    path = repo / "data" / "jsons" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=4), encoding="utf-8")
    return path


def _write_tsv(repo: Path, folder: str, split: str, rows: list[str], header: str) -> Path:
    path = repo / "data" / "splits" / folder / f"{split}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small source tree: four articles, a random split and a media split.

    The media split lists one id ("zzGhost") with no article, and article "dNoSplit"
    is in the random split only.
    """
    root = tmp_path / "Article-Bias-Prediction"
    _write_json(root, "cLeft", _article("cLeft", bias=0, bias_text="left"))
    _write_json(root, "aRight", _article("aRight", bias=2, bias_text="right", date=None))
    # No content_original: falls back to the tokenised content.
    no_original = _article("bCenter")
    del no_original["content_original"]
    _write_json(root, "bCenter", no_original)
    # No bias_text and no ID: numeric bias is mapped and the id comes from the file name.
    numeric = _article("dNoSplit", bias=0)
    del numeric["bias_text"]
    del numeric["ID"]
    _write_json(root, "dNoSplit", numeric)

    header = "ID\tbias"
    _write_tsv(root, "random", "train", ["cLeft\t0", "aRight\t2"], header)
    _write_tsv(root, "random", "valid", ["bCenter\t1"], header)
    _write_tsv(root, "random", "test", ["dNoSplit\t0"], header)
    _write_tsv(root, "media", "train", ["aRight\t2", "zzGhost\t1"], header)
    _write_tsv(root, "media", "valid", [], header)
    _write_tsv(root, "media", "test", ["cLeft\t0", "bCenter\t1"], header)
    return root


def _read_jsonl_gz(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _read_splits(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_converts_articles_and_splits(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = convert_allsides(repo, out, progress=False)

    rows = _read_jsonl_gz(out / "articles.jsonl.gz")
    assert [row["id"] for row in rows] == ["aRight", "bCenter", "cLeft", "dNoSplit"]
    assert all(list(row) == KEYS for row in rows)
    by_id = {row["id"]: row for row in rows}
    assert by_id["cLeft"] == {
        "id": "cLeft",
        "title": "Title of cLeft",
        "content": "Body of cLeft, as published.\n\nSecond paragraph.",
        "topic": "elections",
        "bias": "left",
        "source": "Outlet cLeft",
        "date": "2019-05-04",
        "url": "https://example.org/cLeft",
    }
    assert by_id["aRight"]["bias"] == "right"
    assert by_id["aRight"]["date"] == ""
    # Fallbacks: tokenised content; numeric bias and id from the file name.
    assert by_id["bCenter"]["content"] == "Body of bCenter , tokenised .\nSecond paragraph ."
    assert by_id["bCenter"]["bias"] == "center"
    assert by_id["dNoSplit"]["bias"] == "left"

    splits = _read_splits(out / "splits.csv")
    assert list(splits[0]) == ["id", "random_split", "media_split"]
    assert splits == [
        {"id": "aRight", "random_split": "train", "media_split": "train"},
        {"id": "bCenter", "random_split": "valid", "media_split": "test"},
        {"id": "cLeft", "random_split": "train", "media_split": "test"},
        {"id": "dNoSplit", "random_split": "test", "media_split": ""},
    ]

    assert summary["articles"] == 4
    assert summary["bias"] == {"left": 2, "center": 1, "right": 1}
    assert summary["splits"]["random_split"] == {
        "train": 2,
        "valid": 1,
        "test": 1,
        "none": 0,
    }
    assert summary["splits"]["media_split"] == {
        "train": 1,
        "valid": 0,
        "test": 2,
        "none": 1,
    }
    assert summary["unknown_split_ids"] == {"random_split": 0, "media_split": 1}
    assert summary["missing_split_folders"] == []


def test_output_is_deterministic(repo: Path, tmp_path: Path) -> None:
    convert_allsides(repo, tmp_path / "one", progress=False)
    convert_allsides(repo, tmp_path / "two", progress=False)
    for name in ("articles.jsonl.gz", "splits.csv"):
        first = (tmp_path / "one" / name).read_bytes()
        assert first == (tmp_path / "two" / name).read_bytes()


def test_main_writes_files_and_prints_summary(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    code = main(["--source", str(repo), "--output", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0
    assert "wrote 4 articles" in captured.out
    assert "left 2, center 1, right 1" in captured.out
    assert "media_split: train 1, valid 0, test 2, none 1" in captured.out
    assert "1 id(s) with no article" in captured.err
    assert "zzGhost" in captured.err
    assert len(_read_jsonl_gz(out / "articles.jsonl.gz")) == 4
    assert (out / "splits.csv").is_file()
    assert sorted(p.name for p in out.iterdir()) == ["articles.jsonl.gz", "splits.csv"]


def test_plain_jsonl_output_path(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "plain" / "allsides.jsonl"
    convert_allsides(repo, target, progress=False)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [
        "aRight",
        "bCenter",
        "cLeft",
        "dNoSplit",
    ]
    assert (tmp_path / "plain" / "splits.csv").is_file()


def test_missing_split_folder_leaves_column_empty(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for tsv in (repo / "data" / "splits" / "media").iterdir():
        tsv.unlink()
    (repo / "data" / "splits" / "media").rmdir()
    summary = convert_allsides(repo, tmp_path / "out", progress=False)
    splits = _read_splits(tmp_path / "out" / "splits.csv")
    assert [row["media_split"] for row in splits] == ["", "", "", ""]
    assert [row["random_split"] for row in splits] == [
        "train",
        "valid",
        "train",
        "test",
    ]
    assert summary["missing_split_folders"] == ["media"]
    assert "split folder" in capsys.readouterr().err


def test_extra_split_folder_gets_a_column(repo: Path, tmp_path: Path) -> None:
    _write_tsv(repo, "outlet", "test", ["dNoSplit\t0"], "ID\tbias")
    convert_allsides(repo, tmp_path / "out", progress=False)
    splits = _read_splits(tmp_path / "out" / "splits.csv")
    assert list(splits[0]) == ["id", "random_split", "media_split", "outlet_split"]
    assert [row["outlet_split"] for row in splits] == ["", "", "", "test"]


def test_loads_with_datasets(repo: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "out"
    convert_allsides(repo, out, progress=False)
    loaded = datasets.load_dataset(
        "json",
        data_files=str(out / "articles.jsonl.gz"),
        split="train",
        cache_dir=str(tmp_path / "hf_cache"),
    )
    assert loaded.num_rows == 4
    assert sorted(loaded.column_names) == sorted(KEYS)
    assert loaded["bias"] == ["right", "center", "left", "left"]


def test_broken_json_names_file_and_position(repo: Path, tmp_path: Path) -> None:
    broken = repo / "data" / "jsons" / "eBroken.json"
    broken.write_text('{\n  "ID": "eBroken",\n  "title": oops\n}\n', encoding="utf-8")
    with pytest.raises(ConversionError) as info:
        convert_allsides(repo, tmp_path / "out", progress=False)
    message = str(info.value)
    assert "eBroken.json" in message
    assert "line 3, column 12" in message
    assert not (tmp_path / "out" / "articles.jsonl.gz").exists()


def test_main_reports_error_and_returns_2(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "data" / "jsons" / "eBroken.json").write_text("{", encoding="utf-8")
    code = main(["--source", str(repo), "--output", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ")
    assert "eBroken.json" in err
    assert "Traceback" not in err


def test_missing_field_is_named(repo: Path, tmp_path: Path) -> None:
    article = _article("eNoTopic")
    del article["topic"]
    _write_json(repo, "eNoTopic", article)
    with pytest.raises(ConversionError, match=r"eNoTopic\.json.*'topic'"):
        convert_allsides(repo, tmp_path / "out", progress=False)


def test_missing_both_bodies_is_an_error(repo: Path, tmp_path: Path) -> None:
    article = _article("eNoBody")
    del article["content"]
    del article["content_original"]
    _write_json(repo, "eNoBody", article)
    with pytest.raises(ConversionError, match=r"eNoBody\.json.*content_original"):
        convert_allsides(repo, tmp_path / "out", progress=False)


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"bias_text": "far-left"}, r"eBadBias\.json: bias_text is 'far-left'"),
        ({"bias_text": None, "bias": 3}, r"eBadBias\.json: bias is 3"),
        ({"bias_text": None, "bias": "x"}, r"eBadBias\.json: bias is 'x'"),
    ],
)
def test_bad_bias_value(repo: Path, tmp_path: Path, overrides: dict[str, Any], pattern: str) -> None:
    _write_json(repo, "eBadBias", _article("eBadBias", **overrides))
    with pytest.raises(ConversionError, match=pattern):
        convert_allsides(repo, tmp_path / "out", progress=False)


def test_split_file_without_id_column(repo: Path, tmp_path: Path) -> None:
    bad = _write_tsv(repo, "random", "valid", ["bCenter\t1"], "article\tbias")
    with pytest.raises(ConversionError) as info:
        convert_allsides(repo, tmp_path / "out", progress=False)
    assert str(bad) in str(info.value)
    assert "'ID'" in str(info.value)


def test_missing_jsons_folder(tmp_path: Path) -> None:
    (tmp_path / "empty_repo" / "data").mkdir(parents=True)
    with pytest.raises(ConversionError, match="data/jsons") as info:
        convert_allsides(tmp_path / "empty_repo", tmp_path / "out", progress=False)
    assert isinstance(info.value, FileNotFoundError)


def test_refuses_to_overwrite_without_flag(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["--source", str(repo), "--output", str(out), "--no-progress"]) == 0
    before = (out / "articles.jsonl.gz").read_bytes()
    capsys.readouterr()

    # Change the source: a refused run must leave the old output untouched.
    _write_json(repo, "eExtra", _article("eExtra"))
    assert main(["--source", str(repo), "--output", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err
    assert "--overwrite" in err
    assert (out / "articles.jsonl.gz").read_bytes() == before
    with pytest.raises(ConversionError, match="already exists"):
        convert_allsides(repo, out, progress=False)

    argv = ["--source", str(repo), "--output", str(out), "--overwrite", "--no-progress"]
    assert main(argv) == 0
    assert len(_read_jsonl_gz(out / "articles.jsonl.gz")) == 5
    assert len(_read_splits(out / "splits.csv")) == 5
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
