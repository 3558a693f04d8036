"""Bad input everywhere it enters, through the command lines users run: each case must end in one
clear ``error:`` line on stderr that names the file, row/line, column or key and what was expected,
with exit code 2 and no traceback.

Each row of ``CASES`` builds its bad input in a temporary folder and names the command, its
arguments and the words the message must contain.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import make_rows, write_jsonl

from inference.cli import main as predict_main
from inference.export import main as export_main
from training.baseline import main as baseline_main
from training.evaluate import main as evaluate_main
from training.train import main as train_main

ROOT = Path(__file__).parents[1]


@dataclass
class Setup:
    """What a case gets to build its input with."""

    tmp: Path
    encoder: Path
    model: Path

    def data(self, rows: list[dict[str, Any]] | None = None, name: str = "articles.jsonl") -> Path:
        return write_jsonl(self.tmp / name, make_rows() if rows is None else rows)

    def train_args(self, data: Path | str | None = None, *overrides: str, config: Path | None = None) -> list[str]:
        return [
            "--config",
            str(config or ROOT / "configs" / "default.yaml"),
            "--set",
            f"data.train_file={data or self.data()}",
            f"model.name={self.encoder}",
            f"run.output_dir={self.tmp / 'runs'}",
            "model.max_length=32",
            "training.epochs=1",
            "training.bf16=false",
            "evaluation.example=false",
            "evaluation.confusion_matrices=false",
            *overrides,
        ]

    def model_copy(self) -> Path:
        return Path(shutil.copytree(self.model, self.tmp / "model"))


def _rows_with(index: int, **changes: Any) -> list[dict[str, Any]]:
    rows = make_rows()
    rows[index].update(changes)
    return rows


def _yaml(setup: Setup, text: str) -> Path:
    path = setup.tmp / "bad.yaml"
    path.write_text(f"extends: {ROOT / 'configs' / 'default.yaml'}\n{text}", encoding="utf-8")
    return path


def _invalid_utf8(setup: Setup, name: str) -> Path:
    path = setup.data(name=name)
    path.write_bytes(path.read_bytes().replace(b"Inflation", b"Infl\xe9tion", 1).replace(b"inflation", b"infl\xff", 1))
    return path


def _single_class(setup: Setup) -> Path:
    return setup.data([{**row, "leaning": "left"} for row in make_rows()])


def _class_only_in_validation(setup: Setup) -> Path:
    rows = make_rows()
    for row in rows:
        if row["topic"] == "sport":
            row["split"] = "validation"
    return setup.data(rows)


def _pickle_only_encoder(setup: Setup) -> Path:
    folder = Path(shutil.copytree(setup.encoder, setup.tmp / "encoder"))
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    return folder


def _damaged_model(setup: Setup, name: str) -> Path:
    folder = setup.model_copy()
    path = folder / name
    path.write_bytes(path.read_bytes()[:-7])
    return folder


def _model_without(setup: Setup, name: str) -> Path:
    folder = setup.model_copy()
    (folder / name).unlink()
    return folder


@dataclass
class Case:
    name: str
    command: Callable[[list[str]], int]
    argv: Callable[[Setup], list[str]]
    expected: tuple[str, ...]


CASES = [
    # configs
    Case(
        "misspelled config key",
        train_main,
        lambda s: s.train_args(None, config=_yaml(s, "trainig:\n  epochs: 1\n")),
        ("bad.yaml", "unknown key 'trainig'", "did you mean 'training'"),
    ),
    Case(
        "misspelled override",
        train_main,
        lambda s: s.train_args(None, "training.epoch=1"),
        ("unknown key 'training.epoch'", "did you mean 'epochs'"),
    ),
    Case(
        "wrong type in a config",
        train_main,
        lambda s: s.train_args(None, config=_yaml(s, "training:\n  batch_size: two\n")),
        ("bad.yaml", "training.batch_size", "expected int", "'two'"),
    ),
    Case(
        "invalid YAML",
        train_main,
        lambda s: s.train_args(None, config=_yaml(s, "training:\n  epochs: [1\n")),
        ("bad.yaml", "line", "column", "invalid YAML"),
    ),
    Case("missing config file", train_main, lambda s: ["--config", str(s.tmp / "nope.yaml")], ("nope.yaml",)),
    # data files
    Case(
        "missing data file",
        train_main,
        lambda s: s.train_args(s.tmp / "missing.jsonl"),
        ("missing.jsonl", "no such data file"),
    ),
    Case(
        "missing label column",
        train_main,
        lambda s: s.train_args(None, "tasks.1.label_column=leanin"),
        ("articles.jsonl", "'leanin'", "did you mean 'leaning'"),
    ),
    Case(
        "empty text",
        train_main,
        lambda s: s.train_args(s.data(_rows_with(3, title="", content=""))),
        ("articles.jsonl, row 4", "empty text"),
    ),
    Case(
        "whitespace-only text",
        train_main,
        lambda s: s.train_args(s.data(_rows_with(3, title=" \t", content="\n \n"))),
        ("articles.jsonl, row 4", "empty text"),
    ),
    Case(
        "null text fields",
        train_main,
        lambda s: s.train_args(s.data(_rows_with(5, title=None, content=None))),
        ("articles.jsonl, row 6", "empty text"),
    ),
    Case(
        "number where a label is expected is fine, null is not",
        train_main,
        lambda s: s.train_args(s.data(_rows_with(2, leaning=None))),
        ("articles.jsonl, row 3", "'leaning'", "empty label"),
    ),
    Case(
        "invalid UTF-8 in a data file",
        train_main,
        lambda s: s.train_args(_invalid_utf8(s, "latin1.jsonl")),
        ("latin1.jsonl, line 1,", "not valid UTF-8", "(0xff)"),
    ),
    Case(
        "task with a single class",
        train_main,
        lambda s: s.train_args(_single_class(s)),
        ("articles.jsonl", "'leaning'", "single class", "at least two"),
    ),
    Case(
        "a class only in validation",
        train_main,
        lambda s: s.train_args(_class_only_in_validation(s)),
        ("articles.jsonl, row", "validation split", "'topic'", "'sport' never appears in training"),
    ),
    Case(
        "encoder weights only in a pickle file",
        train_main,
        lambda s: s.train_args(None, f"model.name={_pickle_only_encoder(s)}"),
        ("encoder", "pytorch_model.bin", "safetensors"),
    ),
    Case(
        "misspelled key for the baseline",
        baseline_main,
        lambda s: s.train_args(None, "data.text_field=[title]"),
        ("unknown key 'data.text_field'", "did you mean 'text_fields'"),
    ),
    # evaluation data
    Case(
        "unknown label in evaluation data",
        evaluate_main,
        lambda s: ["--model", str(s.model), "--data", str(s.data(_rows_with(0, topic="weather")))],
        ("articles.jsonl, row 1", "'topic'", "'weather'", "--unseen-label drop"),
    ),
    Case(
        "evaluation file without the label column",
        evaluate_main,
        lambda s: ["--model", str(s.model), "--data", str(s.data([{"title": "a", "content": "b"}]))],
        ("articles.jsonl", "none of the label columns ['topic', 'leaning']", "(title, content)"),
    ),
    # model folders
    Case(
        "model folder without config.json",
        predict_main,
        lambda s: ["--model", str(_model_without(s, "config.json")), "--text", "x"],
        ("config.json",),
    ),
    Case(
        "model folder without its tokenizer",
        predict_main,
        lambda s: ["--model", str(_model_without(s, "tokenizer.json")), "--text", "x"],
        ("tokenizer.json", "missing"),
    ),
    Case(
        "truncated weights",
        evaluate_main,
        lambda s: ["--model", str(_damaged_model(s, "model.safetensors")), "--data", str(s.data())],
        ("model.safetensors", "changed since the model was saved"),
    ),
    Case(
        "exporting a changed model folder",
        export_main,
        lambda s: ["--model", str(_damaged_model(s, "labels.json"))],
        ("labels.json", "changed since the model was saved"),
    ),
    Case("not a model folder", predict_main, lambda s: ["--model", str(s.tmp), "--text", "x"], ("config.json",)),
    # prediction input
    Case(
        "prediction input that is not UTF-8",
        predict_main,
        lambda s: ["--model", str(s.model), "--input", str(_invalid_utf8(s, "in.jsonl"))],
        ("in.jsonl", "UTF-8"),
    ),
    *(
        Case(name, predict_main, lambda s, text=text: ["--model", str(s.model), "--input", str(_lines(s, text))], words)
        for name, text, words in [
            ("a JSON number where an article is expected", '{"title": "ok"}\n42\n', ("in.jsonl, line 2", "string")),
            ("a JSON null where an article is expected", "null\n", ("in.jsonl, line 1", "string or a dict")),
            ("an article without the text fields", '"fine"\n{"headline": "x"}\n', ("in.jsonl, line 2", "title")),
        ]
    ),
]


def _lines(setup: Setup, text: str) -> Path:
    path = setup.tmp / "in.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gives_one_clear_error(
    case: Case, tmp_path: Path, tiny_encoder_dir: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
):
    setup = Setup(tmp_path, tiny_encoder_dir, tiny_model_dir)
    argv = case.argv(setup)
    capsys.readouterr()
    code = case.command(argv)
    err = capsys.readouterr().err
    assert code == 2, f"exit code {code}; stderr:\n{err}"
    assert "Traceback" not in err
    message = next((line for line in err.splitlines() if line.startswith("error:")), "")
    assert message, f"no 'error:' line in:\n{err}"
    missing = [part for part in case.expected if part not in message]
    assert not missing, f"{missing} not in {message!r}"
