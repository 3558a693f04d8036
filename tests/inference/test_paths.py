"""Tests for inference.paths: an output that is, holds or lies in one of the inputs is refused."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.paths import InputOverwriteError, refuse_overwriting_inputs

ARTICLES = b'{"title": "Senate passes the budget"}\n'


@pytest.fixture
def articles(tmp_path: Path) -> Iterator[Path]:
    """An input file whose bytes every test checks afterwards."""
    path = tmp_path / "articles.jsonl"
    path.write_bytes(ARTICLES)
    yield path
    assert path.read_bytes() == ARTICLES


@pytest.fixture
def model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "onnx").mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "onnx" / "model.onnx").write_bytes(b"onnx")
    return folder


def _refused(outputs: list[Path], inputs: list[Path | None], *words: str) -> str:
    with pytest.raises(InputOverwriteError) as caught:
        refuse_overwriting_inputs(outputs, inputs)
    message = str(caught.value)
    assert "\n" not in message
    missing = [word for word in words if word not in message]
    assert not missing, f"{missing} not in {message!r}"
    return message


def test_the_same_path_is_refused(articles: Path):
    message = _refused([articles], [articles], "refusing to write", "is the input", "choose another output path")
    assert message.count(str(articles)) == 2


def test_another_spelling_of_the_path_is_refused(articles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    _refused([Path("articles.jsonl")], [articles], "refusing to write articles.jsonl", f"is the input {articles}")


def test_an_output_that_does_not_exist_yet_but_leads_to_the_input_is_refused(articles: Path, tmp_path: Path):
    _refused([tmp_path / "new" / ".." / "articles.jsonl"], [articles], "new/../articles.jsonl", "is the input")


def test_an_output_symlinked_to_the_input_is_refused(articles: Path, tmp_path: Path):
    link = tmp_path / "link.jsonl"
    link.symlink_to(articles)
    _refused([link], [articles], "link.jsonl", str(articles), "through a symlink")


def test_an_input_symlinked_to_the_output_is_refused(articles: Path, tmp_path: Path):
    link = tmp_path / "link.jsonl"
    link.symlink_to(articles)
    _refused([articles], [link], f"refusing to write {articles}", "link.jsonl", "through a symlink")


def test_an_output_through_a_symlinked_folder_is_refused(articles: Path, tmp_path: Path):
    (tmp_path / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    _refused([tmp_path / "elsewhere" / "articles.jsonl"], [articles], "elsewhere/articles.jsonl", "through a symlink")


def test_an_output_hard_linked_to_the_input_is_refused(articles: Path, tmp_path: Path):
    copy = tmp_path / "copy.jsonl"
    os.link(articles, copy)
    _refused([copy], [articles], "copy.jsonl", str(articles), "through a hard link")
    _refused([articles], [copy], str(articles), "copy.jsonl", "through a hard link")


def test_an_output_folder_holding_the_input_is_refused(articles: Path, tmp_path: Path):
    _refused([tmp_path], [articles], f"refusing to write {tmp_path}:", "holds the input", str(articles))
    _refused([tmp_path.parent], [articles], "holds the input")


def test_an_output_folder_holding_a_hard_link_to_the_input_is_refused(articles: Path, tmp_path: Path):
    run = tmp_path / "runs" / "quick"
    run.mkdir(parents=True)
    os.link(articles, run / "copy.jsonl")
    _refused([run], [articles], "runs/quick", "copy.jsonl", "hard link", str(articles))


def test_an_existing_file_inside_an_input_folder_is_refused(model: Path):
    _refused([model / "config.json"], [model], "model/config.json", "inside the input folder", str(model))
    _refused([model / "onnx"], [model], "model/onnx", "inside the input folder")


def test_a_hard_link_to_a_file_inside_an_input_folder_is_refused(model: Path, tmp_path: Path):
    copy = tmp_path / "config-copy.json"
    os.link(model / "config.json", copy)
    _refused([copy], [model], "config-copy.json", "hard link", "model/config.json", str(model))


def test_a_symlink_into_an_input_folder_is_refused(model: Path, tmp_path: Path):
    link = tmp_path / "weights.onnx"
    link.symlink_to(model / "onnx" / "model.onnx")
    _refused([link], [model], "weights.onnx", "inside the input folder")


def test_the_input_folder_itself_is_refused(model: Path):
    _refused([model], [model], "is the input")


def test_separate_files_are_allowed(articles: Path, model: Path, tmp_path: Path):
    other = tmp_path / "predictions.jsonl"
    other.write_text("{}\n", encoding="utf-8")
    os.link(tmp_path / "predictions.jsonl", tmp_path / "predictions-copy.jsonl")  # a hard link, but not to an input
    refuse_overwriting_inputs([other, tmp_path / "new.jsonl", model / "new.json"], [articles, model])
    refuse_overwriting_inputs([model / "onnx" / "new"], [articles])


def test_none_and_missing_inputs_are_skipped(articles: Path, tmp_path: Path):
    refuse_overwriting_inputs([None, tmp_path / "out.jsonl"], [None, tmp_path / "missing.jsonl", articles])
    refuse_overwriting_inputs([tmp_path / "missing.jsonl"], [tmp_path / "missing.jsonl"])


def test_the_error_is_a_value_error():
    assert issubclass(InputOverwriteError, ValueError)
