"""Tests for training.evaluate (newsclf-evaluate) on the session's tiny trained model."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from testkit.articles import make_rows, write_jsonl

from inference import Predictor
from training.config import load_config
from training.evaluate import main
from training.scoring.evaluation import evaluate

ROWS = make_rows()
VALIDATION = [row for row in ROWS if row["split"] == "validation"]


def run(*argv: Any) -> tuple[int, str, str]:
    """Runs ``newsclf-evaluate`` in-process; returns its exit code, standard output and standard error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in argv])
    return code, out.getvalue(), err.getvalue()


def run_json(model: Path, data: Path, *argv: Any) -> dict[str, Any]:
    code, out, err = run("--model", model, "--data", data, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """The tiny model runs fastest on one thread (and many threads crawl on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_jsonl(tmp_path_factory.mktemp("evaluate") / "articles.jsonl", ROWS)


@pytest.fixture(scope="module")
def baseline(tiny_model_dir: Path, data: Path) -> dict[str, Any]:
    """``--json`` on the whole file, computed once."""
    return run_json(tiny_model_dir, data)


@pytest.fixture(scope="module")
def predictor(tiny_model_dir: Path) -> Predictor:
    return Predictor.from_pretrained(tiny_model_dir, precision="fp32")


def accuracy_by_hand(predictor: Predictor, rows: list[dict[str, Any]], task: str, fields: tuple[str, ...]) -> float:
    predictions = predictor.predict([{field: row[field] for field in fields} for row in rows])
    return sum(p[task]["label"] == row[task] for p, row in zip(predictions, rows)) / len(rows)


def test_table(tiny_model_dir: Path, data: Path) -> None:
    code, out, err = run("--model", tiny_model_dir, "--data", data)
    assert code == 0, err
    assert out.startswith(f"{data}: {len(ROWS)} articles\n")
    assert "task: topic" in out and "task: leaning" in out
    for label in ("economy", "health", "sport", "left", "center", "right"):
        assert f"\n{label} " in out
    assert f"n={len(ROWS)}" in out


def test_json(baseline: dict[str, Any], data: Path) -> None:
    result = baseline
    assert result["articles"] == len(ROWS)
    assert result["data"] == str(data)
    assert result["split"] is None
    assert set(result["tasks"]) == {"topic", "leaning"}
    topic = result["tasks"]["topic"]
    assert 0.0 <= topic["accuracy"] <= 1.0
    assert topic["labels"] == ["economy", "health", "sport"]
    assert result["tasks"]["leaning"]["labels"] == ["left", "center", "right"]
    assert topic["support"] == len(ROWS)
    assert sum(map(sum, topic["confusion_matrix"])) == len(ROWS)
    assert [sum(row) for row in topic["confusion_matrix"]] == [18, 18, 18]
    summary = result["summary"]
    assert summary["topic_accuracy"] == topic["accuracy"]
    assert summary["accuracy"] == pytest.approx((topic["accuracy"] + result["tasks"]["leaning"]["accuracy"]) / 2)


def test_split_validation(tiny_model_dir: Path, data: Path) -> None:
    result = run_json(tiny_model_dir, data, "--split", "validation")
    assert result["split"] == "validation"
    assert result["articles"] == len(VALIDATION) == 18
    assert result["tasks"]["topic"]["support"] == 18
    code, out, _ = run("--model", tiny_model_dir, "--data", data, "--split", "train")
    assert code == 0
    assert out.startswith(f"{data} [train]: {len(ROWS) - len(VALIDATION)} articles")


def test_split_missing(tiny_model_dir: Path, data: Path) -> None:
    code, out, err = run("--model", tiny_model_dir, "--data", data, "--split", "test")
    assert code == 2
    assert out == ""
    assert "no rows in split 'test'" in err
    assert "['train', 'validation']" in err


def test_output_file(tiny_model_dir: Path, data: Path, tmp_path: Path, baseline: dict[str, Any]) -> None:
    output = tmp_path / "reports" / "metrics.json"
    code, out, err = run("--model", tiny_model_dir, "--data", data, "--split", "validation", "--output", output)
    assert code == 0, err
    assert out.startswith(f"{data} [validation]: 18 articles")  # the table still goes to standard output
    written = json.loads(output.read_text(encoding="utf-8"))
    assert written["split"] == "validation"
    assert written["articles"] == 18
    assert set(written["tasks"]) == set(baseline["tasks"])
    assert [p.name for p in output.parent.iterdir()] == ["metrics.json"]


def test_output_file_with_json(tiny_model_dir: Path, data: Path, tmp_path: Path, baseline: dict[str, Any]) -> None:
    output = tmp_path / "metrics.json"
    result = run_json(tiny_model_dir, data, "--output", output)
    assert json.loads(output.read_text(encoding="utf-8")) == result == baseline


def test_only_topic_column(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = [{k: v for k, v in row.items() if k != "leaning"} for row in ROWS]
    result = run_json(tiny_model_dir, write_jsonl(tmp_path / "topic.jsonl", rows))
    assert set(result["tasks"]) == {"topic"}
    assert result["articles"] == len(ROWS)
    assert set(result["summary"]) == {
        "topic_accuracy",
        "topic_macro_f1",
        "topic_weighted_f1",
        "accuracy",
        "macro_f1",
        "weighted_f1",
    }


def test_unknown_label(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = [dict(row) for row in ROWS]
    rows[5]["topic"] = "politics"
    path = write_jsonl(tmp_path / "odd.jsonl", rows)
    code, out, err = run("--model", tiny_model_dir, "--data", path)
    assert code == 2
    assert out == ""
    assert err.startswith(f"error: {path}, row 6, column 'topic': label 'politics' is not one the model knows")
    assert "--unseen-label drop" in err

    result = run_json(tiny_model_dir, path, "--unseen-label", "drop")
    assert result["articles"] == len(ROWS) - 1
    assert result["tasks"]["leaning"]["support"] == len(ROWS) - 1

    ignored = run_json(tiny_model_dir, path, "--unseen-label", "ignore")  # as data.unseen_label offers it
    assert ignored["articles"] == len(ROWS)
    assert ignored["tasks"]["leaning"]["support"] == len(ROWS)  # the row still counts for leaning
    assert ignored["tasks"]["topic"]["support"] == len(ROWS) - 1  # but not for the task whose label is unknown


def test_missing_label_columns(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = [{k: v for k, v in row.items() if k not in ("topic", "leaning")} for row in ROWS]
    path = write_jsonl(tmp_path / "unlabelled.jsonl", rows)
    code, out, err = run("--model", tiny_model_dir, "--data", path)
    assert code == 2
    assert out == ""
    assert "none of the label columns ['topic', 'leaning']" in err
    assert str(path) in err


def test_empty_label(tiny_model_dir: Path, tmp_path: Path) -> None:
    rows = [dict(row) for row in ROWS]
    rows[2]["leaning"] = ""
    path = write_jsonl(tmp_path / "gap.jsonl", rows)
    code, _, err = run("--model", tiny_model_dir, "--data", path)
    assert code == 2
    assert f"{path}, row 3, column 'leaning': empty label" in err
    result = run_json(tiny_model_dir, path, "--set", "data.missing_label=drop")
    assert result["articles"] == len(ROWS) - 1


def test_missing_files(tiny_model_dir: Path, tmp_path: Path, data: Path) -> None:
    code, _, err = run("--model", tiny_model_dir, "--data", tmp_path / "nope.jsonl")
    assert code == 2
    assert "no such data file" in err
    code, _, err = run("--model", tmp_path / "no-model", "--data", data)
    assert code == 2
    assert "no such model folder" in err


def test_bad_override(tiny_model_dir: Path, data: Path) -> None:
    code, _, err = run("--model", tiny_model_dir, "--data", data, "--set", "data.text_feilds=[title]")
    assert code == 2
    assert "did you mean 'text_fields'?" in err


def test_accuracy_matches_predictor(
    tiny_model_dir: Path, data: Path, baseline: dict[str, Any], predictor: Predictor
) -> None:
    result = baseline
    for task in ("topic", "leaning"):
        expected = accuracy_by_hand(predictor, ROWS, task, ("title", "content"))
        assert result["tasks"][task]["accuracy"] == pytest.approx(expected)
    validation = run_json(tiny_model_dir, data, "--split", "validation")
    expected = accuracy_by_hand(predictor, VALIDATION, "topic", ("title", "content"))
    assert validation["tasks"]["topic"]["accuracy"] == pytest.approx(expected)


def test_text_fields_override_matches_predictor(tiny_model_dir: Path, data: Path, predictor: Predictor) -> None:
    result = run_json(tiny_model_dir, data, "--set", "data.text_fields=[title]")
    assert result["tasks"]["leaning"]["accuracy"] == pytest.approx(
        accuracy_by_hand(predictor, ROWS, "leaning", ("title",))
    )


def test_explicit_config(tiny_model_dir: Path, data: Path, baseline: dict[str, Any]) -> None:
    default = Path(__file__).parents[3] / "configs" / "default.yaml"
    with_config = run_json(tiny_model_dir, data, "--config", default)
    assert with_config["tasks"] == baseline["tasks"]


def test_evaluate_leaves_the_callers_config_as_it_is(
    tiny_model_dir: Path, tmp_path: Path, predictor: Predictor
) -> None:
    rows = [{k: v for k, v in row.items() if k != "leaning"} for row in ROWS]  # only topic is scored
    config = load_config(tiny_model_dir / "training_config.yaml")
    before = copy.deepcopy(config)
    result = evaluate(predictor, config, write_jsonl(tmp_path / "topic.jsonl", rows))
    assert set(result["tasks"]) == {"topic"}
    assert config == before


def test_a_sample_scores_the_same_seeded_rows_every_time(tiny_model_dir: Path, data: Path) -> None:
    first = run_json(tiny_model_dir, data, "--split", "train", "--sample", 7)
    again = run_json(tiny_model_dir, data, "--split", "train", "--sample", 7)
    whole = run_json(tiny_model_dir, data, "--split", "train")
    assert first["articles"] == 7 == first["tasks"]["topic"]["support"]
    assert first == again
    assert whole["articles"] == len(ROWS) - len(VALIDATION)
    assert run_json(tiny_model_dir, data, "--split", "train", "--sample", 10_000) == whole  # more than there are


@pytest.mark.parametrize("sample", ["0", "-3"])
def test_a_sample_of_no_rows_is_refused_before_the_model_loads(tmp_path: Path, data: Path, sample: str) -> None:
    code, out, err = run("--model", tmp_path / "no-model-here", "--data", data, "--sample", sample)
    assert code == 2 and out == ""
    assert f"sample: expected a positive number of rows, got {int(sample)}" in err
