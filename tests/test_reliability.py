"""Property-based and fuzz tests (hypothesis) for prediction, data loading and label maps; one
``Predictor`` shared by threads; and the trust rules (no remote code, no pickle).

The windowing's properties are in tests/test_windowing.py; the bad-input matrix of the command
lines is tests/test_error_matrix.py.
"""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import make_rows, tiny_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inference import Predictor
from inference.modeling import NewsClassifierConfig
from training.config import ConfigError
from training.data import DataError, encode_labels, fit_labels, load_splits

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
    sources = [*ROOT.glob("inference/*.py"), *ROOT.glob("training/*.py"), *ROOT.glob("benchmarks/*.py")]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"trust_remote_code\s*=\s*True", line)
    ]
    assert sources and offenders == []
