"""Bad input everywhere it enters, through the command lines users run: each case must end in one
clear ``error:`` line on stderr that names the file, row/line, column or key and what was expected,
with exit code 2 and no traceback.

Each row of ``CASES`` builds its bad input in a temporary folder and names the command, its
arguments and the words the message must contain. Rows whose output is one of their inputs (the
same path, a symlink, a hard link, a folder holding it) also name the inputs that must be left
byte for byte as they were.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from testkit.articles import make_rows, write_jsonl

from inference.batch.cli import main as predict_main
from inference.prediction.onnx_export import main as export_main
from inference.service.server import main as serve_main
from training.baseline import main as baseline_main
from training.convert_allsides import main as convert_main
from training.evaluate import main as evaluate_main
from training.train import main as train_main

ROOT = Path(__file__).parents[1]
_runner_spec = importlib.util.spec_from_file_location("notebook_runner", ROOT / "notebooks" / "execute.py")
_runner = importlib.util.module_from_spec(_runner_spec)
_runner_spec.loader.exec_module(_runner)
notebook_main = _runner.main


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

    def baseline(self) -> Path:
        """A TF-IDF baseline folder, fitted by newsclf-baseline on the sample rows (a fraction of a second)."""
        assert baseline_main([*self.train_args(None, "run.name=tfidf")]) == 0
        return self.tmp / "runs" / "tfidf" / "model"

    def raw(self, name: str, data: bytes) -> Path:
        path = self.tmp / name
        path.write_bytes(data)
        return path


def _rows_with(index: int, **changes: Any) -> list[dict[str, Any]]:
    rows = make_rows()
    rows[index].update(changes)
    return rows


def _yaml(setup: Setup, text: str, name: str = "bad.yaml") -> Path:
    path = setup.tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"extends: {ROOT / 'configs' / 'default.yaml'}\n{text}", encoding="utf-8")
    return path


def _invalid_utf8(setup: Setup, name: str) -> Path:
    path = setup.data(name=name)
    path.write_bytes(path.read_bytes().replace(b"Inflation", b"Infl\xe9tion", 1).replace(b"inflation", b"infl\xff", 1))
    return path


def _single_class(setup: Setup) -> Path:
    return setup.data([{**row, "leaning": "left"} for row in make_rows()])


def _jsonl_bytes() -> bytes:
    return "".join(f"{json.dumps(row)}\n" for row in make_rows()).encode("utf-8")


def _csv_text(extra_field_on_row: int | None = None) -> str:
    """The sample rows as CSV; one record may get a field more than the header has."""
    rows = make_rows()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(rows[0]))
    for index, row in enumerate(rows):
        writer.writerow([*row.values(), *(["stray"] if index == extra_field_on_row else [])])
    return out.getvalue()


def _parquet_with_text_not_utf8(setup: Setup, name: str) -> Path:
    """The sample rows as Parquet with plain pages, one title's bytes made invalid UTF-8 in place."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = make_rows()
    rows[1]["title"] = "Tampered title"
    path = setup.tmp / name
    pq.write_table(pa.Table.from_pylist(rows), path, compression="NONE", write_statistics=False)
    path.write_bytes(path.read_bytes().replace(b"Tampered", b"Tamp\xffred"))
    return path


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
    kept: tuple[str, ...] = ()  # files or folders under the temporary folder that must stay as they were


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
    # data files that are not what their name says (issue 27): one error naming the file, before any training
    Case(
        "newsclf-train on a data.jsonl.gz that is not gzip",
        train_main,
        lambda s: s.train_args(s.raw("data.jsonl.gz", _jsonl_bytes())),
        ("data.jsonl.gz", "cannot read it as gzip", "Not a gzipped file"),
    ),
    Case(
        "truncated gzip data",
        evaluate_main,
        lambda s: [
            "--model",
            str(s.model),
            "--data",
            str(s.raw("articles.jsonl.gz", gzip.compress(_jsonl_bytes())[:-40])),
        ],
        ("articles.jsonl.gz", "cannot read it as gzip", "end-of-stream marker"),
    ),
    Case(
        "data named .parquet that is not Parquet",
        baseline_main,
        lambda s: s.train_args(s.raw("articles.parquet", _jsonl_bytes())),
        ("articles.parquet", "cannot read it as parquet", "magic bytes"),
    ),
    Case(
        "binary data named .csv",
        train_main,
        lambda s: s.train_args(s.raw("articles.csv", bytes(range(256)) * 4)),
        ("articles.csv, line 2, byte 118", "not valid UTF-8"),
    ),
    Case(
        "a CSV row with more fields than the header",
        train_main,
        lambda s: s.train_args(s.raw("articles.csv", _csv_text(extra_field_on_row=4).encode())),
        ("articles.csv, line 6", "8 fields where the header has 7"),
    ),
    Case(
        "JSON lines with binary junk",
        evaluate_main,
        lambda s: [
            "--model",
            str(s.model),
            "--data",
            str(s.raw("articles.jsonl", _jsonl_bytes() + b"\x00\x7f{{junk\n")),
        ],
        ("articles.jsonl, line 55, column 1", "invalid JSON"),
    ),
    Case(
        "Parquet data whose text is not UTF-8",
        train_main,
        lambda s: s.train_args(_parquet_with_text_not_utf8(s, "articles.parquet")),
        ("articles.parquet: damaged values", "UTF8"),
    ),
    Case(
        "a split file that is binary",
        train_main,
        lambda s: s.train_args(None, f"data.split.file={s.raw('splits.csv', gzip.compress(b'id,split'))}"),
        ("splits.csv, line 1,", "not valid UTF-8"),
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
        lambda s: ["--model", str(_damaged_model(s, "training_config.yaml"))],
        ("training_config.yaml", "changed since the model was saved"),
    ),
    Case("not a model folder", predict_main, lambda s: ["--model", str(s.tmp), "--text", "x"], ("config.json",)),
    Case(
        "serving a TF-IDF baseline folder",
        serve_main,
        lambda s: ["--model", str(s.baseline())],
        ("tfidf/model: a TF-IDF baseline written by newsclf-baseline", "newsclf-predict", "newsclf-evaluate"),
    ),
    Case(
        "exporting a TF-IDF baseline folder",
        export_main,
        lambda s: ["--model", str(s.baseline())],
        ("tfidf/model: a TF-IDF baseline written by newsclf-baseline", "Predictor.from_pretrained"),
    ),
    Case(
        "a TF-IDF baseline folder on Ray",
        predict_main,
        lambda s: [*_predict(s, s.data(), s.tmp / "out.jsonl", model=s.baseline()), "--engine", "ray"],
        ("tfidf/model: a TF-IDF baseline written by newsclf-baseline", "--engine local"),
    ),
    Case(
        "a TF-IDF baseline folder with an ONNX backend",
        predict_main,
        lambda s: ["--model", str(s.baseline()), "--text", "x", "--backend", "onnx"],
        ("tfidf/model: a TF-IDF baseline", "'onnx'", "leave both at auto"),
    ),
    # prediction input
    Case(
        "prediction input that is not UTF-8",
        predict_main,
        lambda s: ["--model", str(s.model), "--input", str(_invalid_utf8(s, "in.jsonl"))],
        ("in.jsonl", "UTF-8"),
    ),
    Case(
        "prediction input named .jsonl.gz that is not gzip",
        predict_main,
        lambda s: ["--model", str(s.model), "--input", str(s.raw("in.jsonl.gz", _jsonl_bytes()))],
        ("in.jsonl.gz", "gzip"),
    ),
    Case(
        "prediction input in Parquet whose text is not UTF-8",
        predict_main,
        lambda s: ["--model", str(s.model), "--input", str(_parquet_with_text_not_utf8(s, "in.parquet"))],
        ("in.parquet, row 2", "not valid UTF-8"),
    ),
    Case(
        "prediction input named .parquet that is not Parquet",
        predict_main,
        lambda s: ["--model", str(s.model), "--input", str(s.raw("in.parquet", _jsonl_bytes()))],
        ("in.parquet", "Parquet"),
    ),
    *(
        Case(name, predict_main, lambda s, text=text: ["--model", str(s.model), "--input", str(_lines(s, text))], words)
        for name, text, words in [
            ("a JSON number where an article is expected", '{"title": "ok"}\n42\n', ("in.jsonl, line 2", "string")),
            ("a JSON null where an article is expected", "null\n", ("in.jsonl, line 1", "string or a dict")),
            ("an article without the text fields", '"fine"\n{"headline": "x"}\n', ("in.jsonl, line 2", "title")),
        ]
    ),
    # outputs that are inputs: refused before any work, the inputs left as they were
    Case(
        "prediction output that is its input",
        predict_main,
        lambda s: _predict(s, s.data(), s.tmp / "articles.jsonl"),
        ("refusing to write", "articles.jsonl: it is the input", "articles.jsonl;"),
        kept=("articles.jsonl",),
    ),
    Case(
        "prediction output that is a symlink to its input",
        predict_main,
        lambda s: _predict(s, s.data(), _linked_to_data(s, "link.jsonl")),
        ("link.jsonl", "is the input", "articles.jsonl", "through a symlink"),
        kept=("articles.jsonl",),
    ),
    Case(
        "prediction output that is a hard link to its input",
        predict_main,
        lambda s: _predict(s, s.data(), _linked_to_data(s, "copy.jsonl", hard=True)),
        ("copy.jsonl", "is the input", "articles.jsonl", "through a hard link"),
        kept=("articles.jsonl",),
    ),
    Case(
        "prediction input that is a symlink to the output",
        predict_main,
        lambda s: _predict(s, _linked_to_data(s, "link.jsonl"), s.tmp / "articles.jsonl"),
        ("articles.jsonl: it is the input", "link.jsonl", "through a symlink"),
        kept=("articles.jsonl",),
    ),
    Case(
        "prediction input that is a hard link to the output",
        predict_main,
        lambda s: _predict(s, _linked_to_data(s, "copy.jsonl", hard=True), s.tmp / "articles.jsonl"),
        ("articles.jsonl: it is the input", "copy.jsonl", "through a hard link"),
        kept=("articles.jsonl",),
    ),
    Case(
        "prediction input that is the output's partial file",
        predict_main,
        lambda s: _predict(s, s.data(name="out.jsonl.partial"), s.tmp / "out.jsonl"),
        ("out.jsonl.partial: it is the input", "out.jsonl.partial;"),
        kept=("out.jsonl.partial",),
    ),
    Case(
        "prediction output that is a file of the model folder",
        predict_main,
        lambda s: ["--model", str(s.model_copy()), "--text", "x", "--output", str(s.tmp / "model" / "metrics.json")],
        ("model/metrics.json", "inside the input folder", "model;"),
        kept=("model",),
    ),
    Case(
        "prediction output that is a hard link to a file of the model folder",
        predict_main,
        lambda s: _predict(s, s.data(), _hard_link_into_model(s), model=s.tmp / "model"),
        ("config-copy.json", "hard link", "model/config.json", "inside the input folder"),
        kept=("model", "articles.jsonl"),
    ),
    Case(
        "evaluation output that is its data",
        evaluate_main,
        lambda s: ["--model", str(s.model), "--data", str(s.data()), "--output", str(s.tmp / "articles.jsonl")],
        ("refusing to write", "articles.jsonl: it is the input", "articles.jsonl;"),
        kept=("articles.jsonl",),
    ),
    Case(
        "evaluation output that is a symlink to its config",
        evaluate_main,
        lambda s: [
            "--model",
            str(s.model),
            "--config",
            str(_yaml(s, "")),
            "--output",
            str(_link(s, "link.yaml", s.tmp / "bad.yaml")),
        ],
        ("link.yaml", "bad.yaml", "through a symlink"),
        kept=("bad.yaml",),
    ),
    Case(
        "evaluation output that is a file of the model folder",
        evaluate_main,
        lambda s: [
            "--model",
            str(s.model_copy()),
            "--data",
            str(s.data()),
            "--output",
            str(s.tmp / "model" / "config.json"),
        ],
        ("model/config.json", "inside the input folder", "model;"),
        kept=("model", "articles.jsonl"),
    ),
    Case(
        "evaluation output that is the config's split file",
        evaluate_main,
        lambda s: [
            "--model",
            str(s.model),
            "--data",
            str(s.data()),
            "--set",
            f"data.split.file={_splits(s)}",
            "--output",
            str(_splits(s)),
        ],
        ("splits.csv: it is the input", "splits.csv;"),
        kept=("splits.csv", "articles.jsonl"),
    ),
    Case(
        "export replacing the onnx folder that holds its sample",
        export_main,
        lambda s: ["--model", str(s.model_copy()), "--sample", str(_sample_in_onnx(s)), "--overwrite"],
        ("model/onnx: it holds the input", "onnx/sample.jsonl"),
        kept=("model",),
    ),
    Case(
        "export sample that is a symlink into the onnx folder",
        export_main,
        lambda s: [
            "--model",
            str(s.model_copy()),
            "--sample",
            str(_link(s, "sample.jsonl", _sample_in_onnx(s))),
            "--overwrite",
        ],
        ("model/onnx: it holds the input", "sample.jsonl (a link to", "onnx/sample.jsonl)"),
        kept=("model",),
    ),
    Case(
        "baseline run folder that holds its data",
        baseline_main,
        lambda s: [*s.train_args(s.data(name="runs/quick/articles.jsonl"), "run.name=quick"), "--overwrite"],
        ("runs/quick: it holds the input", "runs/quick/articles.jsonl"),
        kept=("runs/quick/articles.jsonl",),
    ),
    Case(
        "run folder that holds its data",
        train_main,
        lambda s: [*s.train_args(s.data(name="runs/quick/articles.jsonl"), "run.name=quick"), "--overwrite"],
        ("runs/quick: it holds the input", "runs/quick/articles.jsonl"),
        kept=("runs/quick/articles.jsonl",),
    ),
    Case(
        "run folder that holds its config file",
        train_main,
        lambda s: [*s.train_args(None, "run.name=quick", config=_yaml(s, "", "runs/quick/quick.yaml")), "--overwrite"],
        ("runs/quick: it holds the input", "runs/quick/quick.yaml"),
        kept=("runs/quick/quick.yaml", "articles.jsonl"),
    ),
    Case(
        "run folder that is a symlink to the data's folder",
        train_main,
        lambda s: [*s.train_args(_data_behind_run_link(s), "run.name=quick"), "--overwrite"],
        ("runs/quick (a link to", "it holds the input", "data/articles.jsonl"),
        kept=("data/articles.jsonl",),
    ),
    Case(
        "run folder that holds a hard link to the data",
        train_main,
        lambda s: [*s.train_args(_data_linked_into_run(s), "run.name=quick"), "--overwrite"],
        ("runs/quick: it holds", "runs/quick/copy.jsonl", "hard link", "articles.jsonl"),
        kept=("articles.jsonl",),
    ),
    Case(
        "run folder that holds the encoder",
        train_main,
        lambda s: [*s.train_args(None, "run.name=quick", f"model.name={_encoder_in_run(s)}"), "--overwrite"],
        ("runs/quick: it holds the input", "runs/quick/encoder"),
        kept=("runs/quick/encoder",),
    ),
    Case(
        "AllSides conversion output that is a symlink into the source",
        convert_main,
        lambda s: _convert(s, _link(s, "out.jsonl.gz", _allsides_source(s) / "data" / "jsons" / "a.json")),
        ("out.jsonl.gz (a link to", "a.json)", "inside the input folder", "data/jsons"),
        kept=("abp",),
    ),
    Case(
        "AllSides conversion output that is a hard link into the source",
        convert_main,
        lambda s: _convert(s, _link(s, "out.jsonl.gz", _allsides_source(s) / "data" / "jsons" / "a.json", hard=True)),
        ("out.jsonl.gz: it is a hard link to", "jsons/a.json", "inside the input folder"),
        kept=("abp",),
    ),
    Case(
        "executed notebook written over itself",
        notebook_main,
        lambda s: [str(_notebook(s)), "--output", str(s.tmp / "nb")],
        ("nb/01_demo.ipynb: it is the input", "01_demo.ipynb;"),
        kept=("nb",),
    ),
]


def _lines(setup: Setup, text: str) -> Path:
    path = setup.tmp / "in.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


def _predict(setup: Setup, source: Path, output: Path, model: Path | None = None) -> list[str]:
    return ["--model", str(model or setup.model), "--input", str(source), "--output", str(output)]


def _link(setup: Setup, name: str, target: Path, hard: bool = False) -> Path:
    """``name`` in the temporary folder, a symlink (or a hard link) to ``target``."""
    link = setup.tmp / name
    if hard:
        os.link(target, link)
    else:
        link.symlink_to(target)
    return link


def _linked_to_data(setup: Setup, name: str, hard: bool = False) -> Path:
    return _link(setup, name, setup.data(), hard)


def _hard_link_into_model(setup: Setup) -> Path:
    return _link(setup, "config-copy.json", setup.model_copy() / "config.json", hard=True)


def _splits(setup: Setup) -> Path:
    path = setup.tmp / "splits.csv"
    path.write_text("id,split\na000,train\n", encoding="utf-8")
    return path


def _sample_in_onnx(setup: Setup) -> Path:
    """A sample file inside the ``onnx/`` folder of the model copy, which an export with --overwrite replaces."""
    return write_jsonl(setup.tmp / "model" / "onnx" / "sample.jsonl", make_rows()[:2])


def _data_behind_run_link(setup: Setup) -> Path:
    """The data in ``data/``, and the run folder ``runs/quick`` a symlink to that folder."""
    data = setup.data(name="data/articles.jsonl")
    (setup.tmp / "runs").mkdir()
    (setup.tmp / "runs" / "quick").symlink_to(data.parent, target_is_directory=True)
    return data


def _data_linked_into_run(setup: Setup) -> Path:
    data = setup.data()
    run = setup.tmp / "runs" / "quick"
    run.mkdir(parents=True)
    os.link(data, run / "copy.jsonl")
    return data


def _encoder_in_run(setup: Setup) -> Path:
    return Path(shutil.copytree(setup.encoder, setup.tmp / "runs" / "quick" / "encoder"))


def _allsides_source(setup: Setup) -> Path:
    """A one-article copy of the Article-Bias-Prediction layout in ``abp/``."""
    root = setup.tmp / "abp"
    (root / "data" / "jsons").mkdir(parents=True)
    article = {"ID": "a", "topic": "elections", "source": "Outlet", "bias": 1, "title": "T", "content": "C"}
    write_jsonl(root / "data" / "jsons" / "a.json", [article])
    (root / "data" / "splits" / "random").mkdir(parents=True)
    (root / "data" / "splits" / "random" / "train.tsv").write_text("ID\na\n", encoding="utf-8")
    return root


def _convert(setup: Setup, output: Path) -> list[str]:
    return ["--source", str(setup.tmp / "abp"), "--output", str(output), "--overwrite", "--no-progress"]


def _notebook(setup: Setup) -> Path:
    path = setup.tmp / "nb" / "01_demo.ipynb"
    path.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")]), path)
    return path


def _contents(path: Path) -> dict[str, bytes]:
    """The bytes of a file, or of every file under a folder, by relative name."""
    if path.is_file():
        return {".": path.read_bytes()}
    return {str(file.relative_to(path)): file.read_bytes() for file in sorted(path.rglob("*")) if file.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gives_one_clear_error(
    case: Case, tmp_path: Path, tiny_encoder_dir: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
):
    setup = Setup(tmp_path, tiny_encoder_dir, tiny_model_dir)
    argv = case.argv(setup)
    kept = {name: _contents(tmp_path / name) for name in case.kept}
    assert all(kept.values()), f"nothing to keep in {kept}"
    capsys.readouterr()
    code = case.command(argv)
    err = capsys.readouterr().err
    assert code == 2, f"exit code {code}; stderr:\n{err}"
    assert "Traceback" not in err
    message = next((line for line in err.splitlines() if line.startswith("error:")), "")
    assert message, f"no 'error:' line in:\n{err}"
    missing = [part for part in case.expected if part not in message]
    assert not missing, f"{missing} not in {message!r}"
    changed = [name for name, before in kept.items() if _contents(tmp_path / name) != before]
    assert not changed, f"{changed} changed"
