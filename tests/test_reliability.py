"""Property-based and fuzz tests (hypothesis) for prediction, data loading and label maps; one
``Predictor`` shared by threads; and the trust rules (no remote code, no pickle).

The windowing's properties are in tests/inference/model/test_windowing.py; the bad-input matrix of the command
lines is tests/test_error_matrix.py.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from testkit.articles import make_rows
from testkit.tiny import tiny_config, tiny_overrides

from inference import Predictor
from inference.batch.cli import main as predict_main
from inference.model.classifier import NewsClassifierConfig
from training.baseline import main as baseline_main
from training.config import ConfigError
from training.data import DataError, encode_labels, fit_labels, load_splits
from training.runs.logs import LOGGERS

ROOT = Path(__file__).parents[1]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Every kind of string a scraper can produce: any code point (lone surrogates too), control characters, long runs.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=400) | st.sampled_from(
    ["", " ", "\x00", "\ufeff", "\u200b" * 50, "a" * 5000, "😀" * 300, "\ud800", "</s><pad>[CLS][SEP]", "\r\n" * 100]
)
JSON_SCALAR = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT
ANY_VALUE = (
    JSON_SCALAR | st.lists(JSON_SCALAR, max_size=3) | st.dictionaries(st.text(max_size=5), JSON_SCALAR, max_size=2)
)


@pytest.fixture(scope="module")
def predictor(tiny_model_dir: Path) -> Predictor:
    return Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32")


def _assert_valid(result: dict[str, Any], predictor: Predictor) -> None:
    assert list(result) == predictor.tasks
    for task, outcome in result.items():
        assert outcome["label"] in predictor.labels(task)
        assert sum(outcome["scores"].values()) == pytest.approx(1.0, abs=1e-4)
        assert outcome["score"] == max(outcome["scores"].values())


@FUZZ
@given(text=ANY_TEXT)
def test_predict_returns_a_result_for_any_string(predictor: Predictor, text: str):
    _assert_valid(predictor.predict(text), predictor)


@FUZZ
@given(article=st.dictionaries(st.sampled_from(["title", "content", "id", "x"]) | st.text(max_size=5), ANY_VALUE))
def test_predict_on_any_dict_gives_a_result_or_names_the_fields(predictor: Predictor, article: dict[str, Any]):
    if not {"title", "content"} & set(article):
        with pytest.raises(ValueError, match="none of the text fields"):
            predictor.predict(article)
        return
    _assert_valid(predictor.predict(article), predictor)


@FUZZ
@given(thing=st.none() | st.integers() | st.floats() | st.booleans() | st.lists(st.integers(), min_size=1, max_size=3))
def test_predict_refuses_what_is_not_an_article(predictor: Predictor, thing: Any):
    with pytest.raises(TypeError, match="must be a string or a dict"):
        predictor.predict(thing)


ROW = st.fixed_dictionaries(
    {},
    optional={
        "title": ANY_VALUE,
        "content": ANY_VALUE,
        "topic": JSON_SCALAR,
        "leaning": JSON_SCALAR,
        "split": st.sampled_from(["train", "validation", "test", "", None, 3]),
    },
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=6), keep_good=st.booleans())
def test_data_loader_returns_splits_or_a_data_error(
    tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path, rows: list[dict[str, Any]], keep_good: bool
):
    """Random rows (mixed with good ones or not) load, or fail with DataError/ConfigError: nothing else."""
    tmp_path = tmp_path_factory.mktemp("fuzz")
    data = (make_rows(per_cell=2) if keep_good else []) + rows
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in data), encoding="utf-8")
    config = tiny_config(tmp_path, tiny_encoder_dir, [f"data.train_file={path}", "data.empty_text=drop"])
    try:
        splits = load_splits(config)
    except (DataError, ConfigError) as error:
        assert str(path) in str(error) or "data." in str(error)
        return
    for part in splits.values():
        assert all(isinstance(text, str) and text for text in part["text"])
        assert all(isinstance(label, str) and label for label in part["label_topic"])


LABEL = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8).map(str.strip)


@FUZZ
@given(labels=st.lists(LABEL.filter(bool), min_size=1, max_size=40))
def test_label_lists_and_ids_round_trip(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir, labels: list[str]):
    config = tiny_config(tmp_path_factory.mktemp("labels"), tiny_encoder_dir, ["tasks=[{name: t, label_column: t}]"])

    class Part(dict):
        def __getitem__(self, key: str) -> list[str]:
            return labels

    if len(set(labels)) < 2:
        with pytest.raises(DataError, match="single class"):
            fit_labels(config, Part())  # type: ignore[arg-type]
        return
    label_lists = fit_labels(config, Part())  # type: ignore[arg-type]
    assert label_lists["t"] == sorted(set(labels))
    ids = encode_labels(Part(), label_lists)["t"]  # type: ignore[arg-type]
    assert [label_lists["t"][i] for i in ids] == labels
    spec = NewsClassifierConfig(tasks=[{"name": "t", "labels": label_lists["t"]}]).tasks[0]
    assert all(spec["label2id"][spec["id2label"][str(i)]] == i for i in range(len(label_lists["t"])))
    reloaded = NewsClassifierConfig(tasks=[{"name": "t", "id2label": spec["id2label"]}])
    assert reloaded.task_labels("t") == label_lists["t"]


@FUZZ
@given(
    raw=st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=2, max_size=20),
    mapping=st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["x", "y"]), max_size=4),
)
def test_label_map_renames_mapped_labels_and_keeps_the_rest(
    tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path, raw: list[str], mapping: dict[str, str]
):
    rows = [
        {"title": f"text {i}", "content": "words", "topic": label, "leaning": "left", "split": "train"}
        for i, label in enumerate(raw)
    ]
    tmp_path = tmp_path_factory.mktemp("map")
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    overrides = [f"data.train_file={path}", f"tasks.0.label_map={json.dumps(mapping)}"]
    splits = load_splits(tiny_config(tmp_path, tiny_encoder_dir, overrides))
    assert splits["train"]["label_topic"] == [mapping.get(label, label) for label in raw]


# Damaged data files (issue 27): whatever the bytes, a command reads clean data or stops with one line that
# starts with "error:" and names the file, exit code 2 and no traceback.
DATA_KINDS = ["jsonl", "jsonl.gz", "csv", "tsv.gz", "parquet"]
DAMAGE = st.one_of(
    st.none(),
    st.tuples(st.just("random bytes"), st.binary(max_size=300)),
    st.tuples(st.just("truncated"), st.floats(0, 1, exclude_max=True)),
    st.tuples(
        st.just("flipped"), st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=3)
    ),
    st.tuples(st.just("junk appended"), st.binary(min_size=1, max_size=40)),
)
PREDICT_KINDS = ["jsonl", "jsonl.gz", "parquet", "txt"]  # what newsclf-predict reads


def _kind_and_name(kinds: list[str]) -> st.SearchStrategy[tuple[str, str]]:
    """A kind of file and the suffix it is named with: its own, or about half the time another's ("wrong suffix")."""
    return st.sampled_from(kinds).flatmap(
        lambda kind: st.tuples(
            st.just(kind), st.sampled_from([kind] * (len(kinds) - 1) + [k for k in kinds if k != kind])
        )
    )


def _data_bytes(kind: str, rows: list[dict[str, Any]], ragged_row: int | None) -> bytes:
    """``rows`` as a file of ``kind``; in CSV, row ``ragged_row`` gets a field more than the header."""
    if kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows), out)
        return out.getvalue()
    if kind.startswith("jsonl"):
        raw = "".join(json.dumps(row) + "\n" for row in rows)
    elif kind == "txt":
        raw = "".join(row["content"] + "\n" for row in rows)
    else:
        text = io.StringIO()
        writer = csv.writer(text, delimiter="\t" if kind.startswith("tsv") else ",", lineterminator="\n")
        writer.writerow(list(rows[0]))
        writer.writerows([*row.values(), *(["extra"] if i == ragged_row else [])] for i, row in enumerate(rows))
        raw = text.getvalue()
    data = raw.encode("utf-8")
    return gzip.compress(data, mtime=0) if kind.endswith(".gz") else data


def _damaged(data: bytes, damage: tuple[str, Any] | None) -> bytes:
    if damage is None:
        return data
    kind, how = damage
    if kind == "random bytes":
        return how
    if kind == "truncated":
        return data[: int(how * len(data))]
    if kind == "junk appended":
        return data + how
    flipped = bytearray(data)
    for where, bits in how:
        flipped[int(where * len(flipped))] ^= bits
    return bytes(flipped)


@pytest.fixture
def no_stale_log_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drops the console handlers an earlier training run of this process left on the project's loggers: they
    write to that test's captured stderr, closed by now, and logging would print a traceback of its own here."""
    for name in LOGGERS:
        monkeypatch.setattr(logging.getLogger(name), "handlers", [])


def _assert_clean_or_one_error(code: int, err: str, file: Path) -> None:
    event(f"exit code {code}")  # how many examples loaded and how many failed: --hypothesis-show-statistics
    assert "Traceback" not in err
    if code == 0:
        return
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1, f"exit code {code}; stderr:\n{err}"
    assert str(file) in errors[0], errors[0]


@pytest.mark.usefixtures("no_stale_log_handlers")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind_and_name=_kind_and_name(DATA_KINDS), damage=DAMAGE, ragged_row=st.none() | st.integers(0, 53))
def test_damaged_data_files_load_clean_or_fail_in_one_line(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_encoder_dir: Path,
    capsys: pytest.CaptureFixture[str],
    kind_and_name: tuple[str, str],
    damage: tuple[str, Any] | None,
    ragged_row: int | None,
):
    """newsclf-baseline reads data as newsclf-train and newsclf-evaluate do (training.data), and fits in a blink."""
    kind, name = kind_and_name
    tmp_path = tmp_path_factory.mktemp("damaged")
    file = tmp_path / f"articles.{name}"
    file.write_bytes(_damaged(_data_bytes(kind, make_rows(), ragged_row), damage))
    capsys.readouterr()
    code = baseline_main(
        ["--config", str(ROOT / "configs" / "default.yaml"), "--set", *tiny_overrides(tmp_path, tiny_encoder_dir, file)]
    )
    _assert_clean_or_one_error(code, capsys.readouterr().err, file)


@pytest.fixture(scope="module")
def baseline_folder(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> Path:
    tmp_path = tmp_path_factory.mktemp("baseline")
    config = tiny_config(tmp_path, tiny_encoder_dir)
    overrides = tiny_overrides(tmp_path, tiny_encoder_dir, Path(config.data.train_file))
    assert baseline_main(["--config", str(ROOT / "configs" / "default.yaml"), "--set", *overrides]) == 0
    return tmp_path / "runs" / "tiny" / "model"


@pytest.mark.usefixtures("no_stale_log_handlers")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind_and_name=_kind_and_name(PREDICT_KINDS), damage=DAMAGE)
def test_damaged_prediction_inputs_predict_clean_or_fail_in_one_line(
    tmp_path_factory: pytest.TempPathFactory,
    baseline_folder: Path,
    capsys: pytest.CaptureFixture[str],
    kind_and_name: tuple[str, str],
    damage: tuple[str, Any] | None,
):
    kind, name = kind_and_name
    file = tmp_path_factory.mktemp("damaged") / f"in.{name}"
    file.write_bytes(_damaged(_data_bytes(kind, make_rows(per_cell=1), None), damage))
    capsys.readouterr()
    code = predict_main(["--model", str(baseline_folder), "--input", str(file)])
    _assert_clean_or_one_error(code, capsys.readouterr().err, file)


def test_one_predictor_shared_by_threads_gives_the_single_thread_results(predictor: Predictor):
    articles = [row if i % 3 else row["content"] for i, row in enumerate(make_rows(per_cell=3))]
    groups = [articles[k::6] for k in range(6)]
    expected = [predictor.predict_proba(group) for group in groups]
    start = threading.Barrier(12)

    def work(k: int) -> list[dict[str, np.ndarray]]:
        start.wait()
        return [predictor.predict_proba(groups[k % 6]) for _ in range(4)]

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(work, range(12)))
    for k, repeats in enumerate(results):
        for probabilities in repeats:
            for task, values in probabilities.items():
                np.testing.assert_allclose(values, expected[k % 6][task], atol=1e-6)


def test_no_code_path_trusts_remote_code():
    sources = [*ROOT.glob("inference/**/*.py"), *ROOT.glob("training/*.py"), *ROOT.glob("benchmarks/*.py")]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"trust_remote_code\s*=\s*True", line)
    ]
    assert sources and offenders == []
