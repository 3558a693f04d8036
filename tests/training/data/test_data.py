"""Tests for training.data: reading files, splitting, checking rows and labels."""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import lzma
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import datasets
import pandas as pd
import pytest
from testkit.articles import make_rows, write_jsonl

from training.config import Config, ConfigError, load_config
from training.data import (
    DataError,
    check_eval_labels,
    encode_labels,
    file_format,
    fit_labels,
    load_splits,
    load_task_data,
    read_rows,
    read_table,
)

ROOT = Path(__file__).parents[3]
DEFAULT_YAML = ROOT / "configs" / "default.yaml"
SMALL = [
    {"id": "a1", "title": "First", "content": "One.", "topic": "economy", "n": 1},
    {"id": "a2", "title": "Second", "content": "Two.", "topic": "health", "n": 2},
    {"id": "a3", "title": "Third", "content": "Three.", "topic": "sport", "n": 3},
]


def config_for(path: Path, *overrides: str) -> Config:
    return load_config(DEFAULT_YAML, [f"data.train_file={path}", *overrides])


def write_csv(path: Path, rows: list[dict[str, Any]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def ids(part: Any) -> list[str]:
    return list(part["id"])


# --- reading files ----------------------------------------------------------------------------------


def _write_small(path: Path) -> Path:
    name = path.name.lower()
    if name.endswith(".tsv"):
        return write_csv(path, SMALL, delimiter="\t")
    if name.endswith(".csv"):
        return write_csv(path, SMALL)
    if name.endswith(".json"):
        path.write_text(json.dumps(SMALL), encoding="utf-8")
    elif name.endswith(".jsonl"):
        write_jsonl(path, SMALL)
    elif name.endswith(".jsonl.gz"):
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in SMALL)
    elif name.endswith(".parquet"):
        pd.DataFrame(SMALL).to_parquet(path)
    else:
        raise AssertionError(name)
    return path


@pytest.mark.parametrize("name", ["a.csv", "a.tsv", "a.json", "a.jsonl", "a.jsonl.gz", "a.parquet", "A.JSONL"])
def test_read_table_formats(tmp_path: Path, name: str) -> None:
    table = read_table(_write_small(tmp_path / name))
    assert len(table) == 3
    assert set(table.column_names) == {"id", "title", "content", "topic", "n"}
    assert list(table["title"]) == ["First", "Second", "Third"]
    assert list(table["topic"]) == ["economy", "health", "sport"]
    assert list(table["n"]) == [1, 2, 3]


def test_reading_a_file_leaves_nothing_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """datasets would keep an Arrow copy of each file in its cache for good: a CI disk filled with them."""
    cache, scratch = tmp_path / "hf-cache", tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    data = tmp_path / "data"
    data.mkdir()
    for name in ["a.csv", "a.jsonl.gz", "a.parquet"]:
        table = read_rows(_write_small(data / name))
        shuffled = table.shuffle(seed=0).flatten_indices()  # what the splits do with a table
        assert table.cache_files == [] and shuffled.cache_files == []
        assert sorted(shuffled["id"]) == ["a1", "a2", "a3"]
    assert not cache.exists() or not any(cache.rglob("*"))
    assert list(scratch.iterdir()) == []
    assert sorted(path.name for path in data.iterdir()) == ["a.csv", "a.jsonl.gz", "a.parquet"]


@pytest.mark.parametrize(
    ("name", "builder"),
    [("x.csv", "csv"), ("x.tsv.gz", "csv"), ("x.json", "json"), ("x.JSONL.GZ", "json"), ("x.parquet", "parquet")],
)
def test_file_format(name: str, builder: str) -> None:
    assert file_format(Path(name)) == builder


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "articles.txt"
    path.write_text("hello\n", encoding="utf-8")
    with pytest.raises(DataError) as error:
        read_table(path)
    message = str(error.value)
    assert str(path) in message
    assert "unknown file type" in message
    assert ".jsonl" in message and ".parquet" in message


def test_no_extension(tmp_path: Path) -> None:
    path = tmp_path / "articles"
    path.write_text("hello\n", encoding="utf-8")
    with pytest.raises(DataError, match="unknown file type"):
        read_table(path)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "articles.jsonl"
    with pytest.raises(DataError, match="no such data file") as error:
        read_table(path)
    assert str(path) in str(error.value)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(DataError, match="cannot read it as parquet") as error:
        read_table(path)
    assert str(path) in str(error.value)


def test_read_rows_adds_file_and_row(tmp_path: Path) -> None:
    path = _write_small(tmp_path / "a.csv")
    table = read_rows(path)
    assert list(table["_row"]) == [1, 2, 3]
    assert list(table["_file"]) == [str(path)] * 3


# --- splits -----------------------------------------------------------------------------------------


def test_split_column(tmp_path: Path) -> None:
    rows = make_rows()
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    splits = load_splits(config_for(path))
    assert set(splits) == {"train", "validation"}
    assert ids(splits["train"]) == [r["id"] for r in rows if r["split"] == "train"]
    assert ids(splits["validation"]) == [r["id"] for r in rows if r["split"] == "validation"]
    assert (len(splits["train"]), len(splits["validation"])) == (36, 18)
    first = splits["train"][0]
    source = next(r for r in rows if r["id"] == first["id"])
    assert first["text"] == f"{source['title']}\n\n{source['content']}"
    assert first["label_topic"] == source["topic"]
    assert first["label_leaning"] == source["leaning"]
    assert first["_row"] == rows.index(source) + 1


def test_split_column_with_test_rows_and_other_values(tmp_path: Path) -> None:
    rows = make_rows(per_cell=2)
    for index, row in enumerate(rows):
        row["split"] = ["train", "validation", "test", "unused"][index % 4]
    splits = load_splits(config_for(write_jsonl(tmp_path / "a.jsonl", rows)))
    assert {name: len(part) for name, part in splits.items()} == {"train": 5, "validation": 5, "test": 4}


def test_split_column_missing(tmp_path: Path) -> None:
    rows = [{k: v for k, v in row.items() if k != "split"} for row in make_rows(per_cell=2)]
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    with pytest.raises(DataError, match="no column 'split'") as error:
        load_splits(config_for(path))
    assert str(path) in str(error.value)


def _allsides_like(tmp_path: Path) -> tuple[Path, Path, list[dict[str, Any]], dict[str, str]]:
    rows = [{k: v for k, v in row.items() if k != "split"} for row in make_rows(per_cell=3)]
    data = write_jsonl(tmp_path / "articles.jsonl", rows)
    mapping = {}
    for index, row in enumerate(rows[:-2]):  # the last two articles are in no split
        mapping[row["id"]] = ["train", "train", "valid", "test"][index % 4]
    split_file = write_csv(
        tmp_path / "splits.csv",
        [{"id": k, "random_split": v, "outlet_split": "train"} for k, v in mapping.items()],
    )
    return data, split_file, rows, mapping


def test_split_file(tmp_path: Path) -> None:
    data, split_file, rows, mapping = _allsides_like(tmp_path)
    config = config_for(
        data, f"data.split.file={split_file}", "data.split.column=random_split", "data.split.validation=valid"
    )
    splits = load_splits(config)
    assert set(splits) == {"train", "validation", "test"}
    for name, value in (("train", "train"), ("validation", "valid"), ("test", "test")):
        assert ids(splits[name]) == [r["id"] for r in rows if mapping.get(r["id"]) == value]
    assert sum(len(part) for part in splits.values()) == len(rows) - 2


def test_split_file_without_validation_setting_leaves_valid_rows_out(tmp_path: Path) -> None:
    data, split_file, _, mapping = _allsides_like(tmp_path)
    splits = load_splits(config_for(data, f"data.split.file={split_file}", "data.split.column=random_split"))
    assert set(splits) == {"train", "test"}
    assert len(splits["train"]) == list(mapping.values()).count("train")


def test_split_file_missing(tmp_path: Path) -> None:
    data, _, _, _ = _allsides_like(tmp_path)
    with pytest.raises(DataError, match=r"no such split file \(data\.split\.file\)") as error:
        load_splits(config_for(data, f"data.split.file={tmp_path / 'nope.csv'}", "data.split.column=random_split"))
    assert str(tmp_path / "nope.csv") in str(error.value)


def test_split_file_column_missing(tmp_path: Path) -> None:
    data, split_file, _, _ = _allsides_like(tmp_path)
    with pytest.raises(DataError, match="no column 'random_splt'; did you mean 'random_split'") as error:
        load_splits(config_for(data, f"data.split.file={split_file}", "data.split.column=random_splt"))
    assert str(split_file) in str(error.value)


def test_validation_and_test_files(tmp_path: Path) -> None:
    train_rows = make_rows(per_cell=2, seed=1)
    validation_rows = make_rows(per_cell=1, seed=2)
    test_rows = make_rows(per_cell=1, seed=3)[:5]
    config = config_for(
        write_jsonl(tmp_path / "train.jsonl", train_rows),
        f"data.validation_file={write_jsonl(tmp_path / 'validation.jsonl', validation_rows)}",
        f"data.test_file={write_jsonl(tmp_path / 'test.jsonl', test_rows)}",
    )
    splits = load_splits(config)
    # with a validation file, every row of train_file trains, whatever its split column says
    assert {name: len(part) for name, part in splits.items()} == {"train": 18, "validation": 9, "test": 5}
    assert splits["validation"][0]["_file"] == str(tmp_path / "validation.jsonl")
    assert list(splits["test"]["label_topic"]) == [r["topic"] for r in test_rows]


def test_test_file_with_split_column(tmp_path: Path) -> None:
    test_rows = make_rows(per_cell=1, seed=3)
    config = config_for(
        write_jsonl(tmp_path / "train.jsonl", make_rows()),
        f"data.test_file={write_jsonl(tmp_path / 'test.jsonl', test_rows)}",
    )
    splits = load_splits(config)
    assert {name: len(part) for name, part in splits.items()} == {"train": 36, "validation": 18, "test": 9}


def _seeded(tmp_path: Path, *overrides: str, per_cell: int = 4) -> dict[str, Any]:
    path = tmp_path / f"seeded-{per_cell}.jsonl"
    if not path.exists():
        write_jsonl(path, make_rows(per_cell=per_cell))
    return load_splits(config_for(path, "data.split.column=null", *overrides))


def test_seeded_split_stratified(tmp_path: Path) -> None:
    splits = _seeded(tmp_path, "data.split.validation_size=0.25", "data.split.stratify_by=topic")
    assert set(splits) == {"train", "validation"}
    assert Counter(splits["validation"]["label_topic"]) == {"economy": 3, "health": 3, "sport": 3}
    assert Counter(splits["train"]["label_topic"]) == {"economy": 9, "health": 9, "sport": 9}
    assert not set(ids(splits["train"])) & set(ids(splits["validation"]))


def test_seeded_split_is_deterministic_per_seed(tmp_path: Path) -> None:
    options = ("data.split.validation_size=0.25", "data.split.stratify_by=leaning")
    first = _seeded(tmp_path, *options, "run.seed=1")
    again = _seeded(tmp_path, *options, "run.seed=1")
    other = _seeded(tmp_path, *options, "run.seed=2")
    assert ids(first["validation"]) == ids(again["validation"])
    assert ids(first["train"]) == ids(again["train"])
    assert set(ids(first["validation"])) != set(ids(other["validation"]))
    assert Counter(other["validation"]["label_leaning"]) == {"left": 3, "center": 3, "right": 3}


def test_seeded_split_with_test(tmp_path: Path) -> None:
    splits = _seeded(tmp_path, "data.split.validation_size=0.25", "data.split.test_size=0.25", per_cell=4)
    sizes = {name: len(part) for name, part in splits.items()}
    assert sizes == {"train": 18, "validation": 9, "test": 9}
    all_ids = [i for part in splits.values() for i in ids(part)]
    assert len(set(all_ids)) == 36


def test_seeded_split_grouped(tmp_path: Path) -> None:
    for seed in (0, 1, 2):
        splits = _seeded(tmp_path, "data.split.validation_size=0.3", "data.split.group_by=source", f"run.seed={seed}")
        train, validation = set(splits["train"]["source"]), set(splits["validation"]["source"])
        assert train and validation
        assert not train & validation
        assert train | validation == {f"outlet-{lean}-{k}" for lean in ("left", "center", "right") for k in (0, 1)}


def test_seeded_split_stratified_and_grouped(tmp_path: Path) -> None:
    splits = _seeded(
        tmp_path, "data.split.validation_size=0.34", "data.split.group_by=source", "data.split.stratify_by=topic"
    )
    train, validation = set(splits["train"]["source"]), set(splits["validation"]["source"])
    assert train and validation and not train & validation
    counts = Counter(splits["validation"]["label_topic"])
    assert set(counts) == {"economy", "health", "sport"}
    assert len(set(counts.values())) == 1  # every outlet has each topic equally often, so the split keeps that


def test_seeded_split_stratify_needs_two_rows_per_label(tmp_path: Path) -> None:
    rows = make_rows(per_cell=2)
    rows[0]["topic"] = "rare"
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    with pytest.raises(DataError, match=r"cannot stratify by 'topic': labels \['rare'\] have fewer than 2 rows"):
        load_splits(config_for(path, "data.split.column=null", "data.split.stratify_by=topic"))


def test_seeded_split_stratify_by_unknown_task(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data\.split\.stratify_by: no task 'topc'"):
        _seeded(tmp_path, "data.split.stratify_by=topc")


def test_seeded_split_group_by_missing_column(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no column 'sourc'; did you mean 'source'"):
        _seeded(tmp_path, "data.split.group_by=sourc")


def test_max_train_samples(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", make_rows())
    full = load_splits(config_for(path))
    small = load_splits(config_for(path, "data.max_train_samples=10"))
    again = load_splits(config_for(path, "data.max_train_samples=10"))
    assert len(small["train"]) == 10
    assert set(ids(small["train"])) <= set(ids(full["train"]))
    assert ids(small["train"]) == ids(again["train"])
    assert len(small["validation"]) == len(full["validation"])
    assert len(load_splits(config_for(path, "data.max_train_samples=1000"))["train"]) == 36


def test_max_eval_samples(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", make_rows())
    splits = load_splits(config_for(path, "data.max_eval_samples=5"))
    assert (len(splits["train"]), len(splits["validation"])) == (36, 5)


def test_no_training_rows(tmp_path: Path) -> None:
    rows = make_rows(per_cell=2)
    for row in rows:
        row["split"] = "validation"
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    with pytest.raises(DataError, match=r"no training rows \(check data\.split\)"):
        load_splits(config_for(path))


# --- checking rows ----------------------------------------------------------------------------------


def test_missing_text_column_suggests(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", make_rows(per_cell=2))
    with pytest.raises(DataError) as error:
        load_splits(config_for(path, "data.text_fields=[titel]"))
    message = str(error.value)
    assert message.startswith(str(path))
    assert "no column 'titel'; did you mean 'title'?" in message


def test_some_text_fields_may_be_absent(tmp_path: Path) -> None:
    rows = make_rows(per_cell=2)
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    splits = load_splits(config_for(path, "data.text_fields=[title, summary]"))
    assert splits["train"][0]["text"] == next(r["title"] for r in rows if r["id"] == splits["train"][0]["id"])


def _headline_body_rows() -> list[dict[str, Any]]:
    """make_rows with the text under other names, plus a stray ``content`` column."""
    return [
        {
            "headline": r["title"],
            "body": r["content"],
            "content": "stray",
            **{k: r[k] for k in ("id", "topic", "leaning", "source", "split")},
        }
        for r in make_rows(per_cell=2)
    ]


def test_columns_rename_the_data_columns_to_the_article_fields(tmp_path: Path) -> None:
    rows = _headline_body_rows()
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    splits = load_splits(config_for(path, "data.columns={title: headline, content: body}"))
    train = splits["train"]
    first = next(r for r in rows if r["id"] == train[0]["id"])
    assert train[0]["title"] == first["headline"] and train[0]["content"] == first["body"]  # the stray one replaced
    assert train[0]["text"] == f"{first['headline']}\n\n{first['body']}"
    assert "headline" not in train.column_names and "body" not in train.column_names
    # a column that another key reads stays as well
    kept = load_splits(config_for(path, "data.columns={title: headline, content: body}", "data.group_column=headline"))
    assert kept["train"]["headline"] == kept["train"]["title"]


def test_columns_may_swap_two_fields(tmp_path: Path) -> None:
    rows = make_rows(per_cell=2)
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    train = load_splits(config_for(path, "data.columns={title: content, content: title}"))["train"]
    first = next(r for r in rows if r["id"] == train[0]["id"])
    assert (train[0]["title"], train[0]["content"]) == (first["content"], first["title"])
    assert train[0]["text"] == f"{first['content']}\n\n{first['title']}"


def test_a_mapped_column_that_is_missing_is_named(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", _headline_body_rows())
    with pytest.raises(DataError, match=r"no column 'bodi'; did you mean 'body'\?"):
        load_splits(config_for(path, "data.text_fields=[content]", "data.columns.content=bodi"))


def test_older_configs_with_data_column_names_as_text_fields_still_read(tmp_path: Path) -> None:
    """The training_config.yaml of a model saved before data.columns (newsclf-evaluate reads it)."""
    path = write_jsonl(tmp_path / "a.jsonl", _headline_body_rows())
    train = load_splits(config_for(path, "data.text_fields=[headline, body]"))["train"]
    assert train[0]["text"] == f"{train[0]['headline']}\n\n{train[0]['body']}"


CLAIM_TASKS = (
    "tasks=[{name: topic, label_column: topic},"
    " {name: stance, label_column: topic, kind: pair, target_column: headline, dataset: claims}]"
)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["data.text_fields=[headline, body]"], r"data\.text_fields: 'headline' is not an article field; models read"),
        (["data.text_fields=[title, body]"], r"text_fields: \[content\] and columns: \{content: body\}"),
        (["data.columns.target=headline"], r"data\.columns\.target: a pair task's target column is tasks\.N\."),
        (["data.text_fields=[content]", "data.columns.title=headline"], r"data\.columns\.title: not one of data\."),
        (
            [CLAIM_TASKS, "datasets.claims.train_file=x.jsonl", "datasets.claims.text_fields=[body]"],
            r"datasets\.claims\.text_fields: 'body' is not an article field",
        ),
    ],
)
def test_training_data_reads_only_the_article_fields(tmp_path: Path, overrides: list[str], message: str) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", _headline_body_rows())
    with pytest.raises(ConfigError, match=message):
        load_task_data(config_for(path, *overrides))


def test_missing_label_column_suggests(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", make_rows(per_cell=2))
    with pytest.raises(DataError) as error:
        load_splits(config_for(path, "tasks.0.label_column=topik"))
    message = str(error.value)
    assert str(path) in message
    assert "no column 'topik'; did you mean 'topic'?" in message


def test_missing_label_column_without_close_match(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", make_rows(per_cell=2))
    with pytest.raises(DataError, match=r"no column 'zzz' \(columns: id, title, content"):
        load_splits(config_for(path, "tasks.1.label_column=zzz"))


def test_empty_text_names_file_and_row(tmp_path: Path) -> None:
    rows = make_rows()
    rows[4]["title"], rows[4]["content"] = "", "   "
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    with pytest.raises(DataError) as error:
        load_splits(config_for(path))
    message = str(error.value)
    assert message.startswith(f"{path}, row 5: empty text")
    assert "data.empty_text=drop" in message


def test_empty_text_null_fields(tmp_path: Path) -> None:
    rows = make_rows()
    rows[1]["title"], rows[1]["content"] = None, None
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    with pytest.raises(DataError, match=r", row 2: empty text"):
        load_splits(config_for(path))


def test_empty_text_drop(tmp_path: Path) -> None:
    rows = make_rows()
    rows[4]["title"], rows[4]["content"] = "", "   "
    splits = load_splits(config_for(write_jsonl(tmp_path / "a.jsonl", rows), "data.empty_text=drop"))
    kept = ids(splits["train"]) + ids(splits["validation"])
    assert len(kept) == len(rows) - 1
    assert rows[4]["id"] not in kept
    assert len(splits["train"]["text"]) == len(splits["train"])


def test_empty_text_in_csv_counts_rows_without_header(tmp_path: Path) -> None:
    rows = make_rows(per_cell=2)
    rows[2]["title"], rows[2]["content"] = "", ""
    path = write_csv(tmp_path / "a.csv", rows)
    with pytest.raises(DataError) as error:
        load_splits(config_for(path))
    assert str(error.value).startswith(f"{path}, row 3: empty text")


def test_empty_label_names_file_row_and_column(tmp_path: Path) -> None:
    rows = make_rows()
    rows[7]["leaning"] = "  "
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    with pytest.raises(DataError) as error:
        load_splits(config_for(path))
    message = str(error.value)
    assert message.startswith(f"{path}, row 8, column 'leaning': empty label")
    assert "data.missing_label=drop" in message


def test_null_label(tmp_path: Path) -> None:
    rows = make_rows()
    rows[10]["topic"] = None
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    with pytest.raises(DataError, match=r", row 11, column 'topic': empty label"):
        load_splits(config_for(path))


def test_empty_label_drop(tmp_path: Path) -> None:
    rows = make_rows()
    rows[7]["leaning"] = ""
    rows[9]["topic"] = None
    splits = load_splits(config_for(write_jsonl(tmp_path / "a.jsonl", rows), "data.missing_label=drop"))
    kept = ids(splits["train"]) + ids(splits["validation"])
    assert len(kept) == len(rows) - 2
    assert rows[7]["id"] not in kept and rows[9]["id"] not in kept
    for part in splits.values():
        assert "" not in part["label_leaning"] and "" not in part["label_topic"]


def test_labels_are_stripped_strings(tmp_path: Path) -> None:
    rows = make_rows(per_cell=2)
    rows[0]["topic"] = "  economy "
    for row in rows:
        row["year"] = 2020 + len(row["id"]) % 2
    splits = load_splits(config_for(write_jsonl(tmp_path / "a.jsonl", rows), "tasks.1.label_column=year"))
    assert splits["validation"][0]["label_topic"] == "economy"
    assert set(splits["train"]["label_leaning"]) <= {"2020", "2021"}


def test_label_map_renames(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", make_rows())
    config = config_for(path, "tasks.0.label_map={economy: money, sport: sports}")
    splits = load_splits(config)
    assert set(splits["train"]["label_topic"]) == {"money", "health", "sports"}
    assert fit_labels(config, splits["train"])["topic"] == ["health", "money", "sports"]


# --- labels -----------------------------------------------------------------------------------------


def test_fit_labels_sorted_or_fixed(tmp_path: Path) -> None:
    config = config_for(write_jsonl(tmp_path / "a.jsonl", make_rows()))
    splits = load_splits(config)
    assert fit_labels(config, splits["train"]) == {
        "topic": ["economy", "health", "sport"],
        "leaning": ["left", "center", "right"],  # the fixed order of default.yaml, not sorted
    }


def test_a_listed_label_no_training_row_has_is_refused(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", make_rows())
    config = config_for(path, "tasks.0.labels=[sport, health, economy, war]")
    with pytest.raises(DataError) as error:
        fit_labels(config, load_splits(config)["train"])
    assert str(error.value) == (
        f"{path}, column 'topic' (train split): tasks.topic.labels lists ['war'], which no training row has; "
        "remove them, add training rows, or set tasks.topic.untrained_labels: keep"
    )


def test_kept_untrained_labels_stay_in_the_list_and_out_of_macro_f1(tmp_path: Path) -> None:
    from training.data import untrained_label_ids
    from training.scoring.metrics import task_scores

    overrides = ("tasks.0.labels=[sport, health, economy, war]", "tasks.0.untrained_labels=keep")
    config = config_for(write_jsonl(tmp_path / "a.jsonl", make_rows()), *overrides)
    label_lists = fit_labels(config, load_splits(config)["train"])
    assert label_lists["topic"] == ["sport", "health", "economy", "war"]
    assert untrained_label_ids({"topic": [0, 1, 2, 2]}, {"topic": label_lists["topic"]}) == {"topic": [3]}
    truth, predicted = [0, 1, 2, 2], [0, 1, 2, 3]  # one article wrongly given the untrained label
    kept = task_scores(truth, predicted, label_lists["topic"], untrained=[3])
    assert kept["macro_f1"] == pytest.approx((1 + 1 + 2 / 3) / 3)  # sport, health, economy: war is not averaged
    assert task_scores(truth, predicted, label_lists["topic"])["macro_f1"] == pytest.approx((1 + 1 + 2 / 3) / 4)
    assert kept["per_class"]["war"]["support"] == 0


def test_fit_labels_single_class(tmp_path: Path) -> None:
    rows = make_rows(per_cell=2)
    for row in rows:
        row["topic"] = "economy"
    config = config_for(write_jsonl(tmp_path / "a.jsonl", rows))
    with pytest.raises(DataError) as error:
        fit_labels(config, load_splits(config)["train"])
    message = str(error.value)
    assert "column 'topic'" in message
    assert "single class ['economy']" in message
    assert str(tmp_path / "a.jsonl") in message


def test_fit_labels_not_in_fixed_list(tmp_path: Path) -> None:
    config = config_for(write_jsonl(tmp_path / "a.jsonl", make_rows()), "tasks.1.labels=[left, center]")
    with pytest.raises(DataError, match=r"labels \['right'\] are not in tasks\.leaning\.labels \['left', 'center'\]"):
        fit_labels(config, load_splits(config)["train"])


def _with_unseen_validation_label(tmp_path: Path, *overrides: str) -> tuple[Config, dict[str, Any], list[dict]]:
    rows = make_rows()
    rows[3]["topic"] = "politics"  # k=3: a validation row
    assert rows[3]["split"] == "validation"
    config = config_for(write_jsonl(tmp_path / "a.jsonl", rows), *overrides)
    return config, load_splits(config), rows


def test_check_eval_labels_unseen_is_an_error(tmp_path: Path) -> None:
    config, splits, _ = _with_unseen_validation_label(tmp_path)
    labels = fit_labels(config, splits["train"])
    with pytest.raises(DataError) as error:
        check_eval_labels(config, splits, labels)
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 'a.jsonl'}, row 4 (validation split), column 'topic'")
    assert "label 'politics' never appears in training" in message
    assert "data.unseen_label=drop" in message


def test_check_eval_labels_drop(tmp_path: Path) -> None:
    config, splits, rows = _with_unseen_validation_label(tmp_path, "data.unseen_label=drop")
    labels = fit_labels(config, splits["train"])
    checked = check_eval_labels(config, splits, labels)
    assert len(checked["validation"]) == len(splits["validation"]) - 1
    assert rows[3]["id"] not in ids(checked["validation"])
    assert checked["train"] is splits["train"]


def test_check_eval_labels_ignore_keeps_the_row_without_that_label(tmp_path: Path) -> None:
    config, splits, rows = _with_unseen_validation_label(tmp_path, "data.unseen_label=ignore")
    labels = fit_labels(config, splits["train"])
    checked = check_eval_labels(config, splits, labels)
    assert len(checked["validation"]) == len(splits["validation"])
    encoded = encode_labels(checked["validation"], labels)
    row = ids(checked["validation"]).index(rows[3]["id"])
    assert encoded["topic"][row] == -100 and encoded["leaning"][row] != -100


def test_an_adversarial_task_ignores_unseen_labels(tmp_path: Path) -> None:
    rows = make_rows()
    rows[3]["source"] = "an-outlet-only-in-validation"
    config = config_for(
        write_jsonl(tmp_path / "a.jsonl", rows), "tasks.2={name: outlet, label_column: source, kind: adversarial}"
    )
    splits = load_splits(config)
    labels = fit_labels(config, splits["train"])
    checked = check_eval_labels(config, splits, labels)
    assert len(checked["validation"]) == len(splits["validation"])
    assert "an-outlet-only-in-validation" not in labels["outlet"]


def test_check_eval_labels_fine(tmp_path: Path) -> None:
    config = config_for(write_jsonl(tmp_path / "a.jsonl", make_rows()))
    splits = load_splits(config)
    checked = check_eval_labels(config, splits, fit_labels(config, splits["train"]))
    assert {name: len(part) for name, part in checked.items()} == {"train": 36, "validation": 18}


def test_encode_labels(tmp_path: Path) -> None:
    rows = make_rows(per_cell=2)
    config = config_for(write_jsonl(tmp_path / "a.jsonl", rows))
    part = load_splits(config)["validation"]
    encoded = encode_labels(part, {"topic": ["sport", "economy"], "leaning": ["left", "center", "right"]})
    topics = list(part["label_topic"])
    assert encoded["topic"] == [{"sport": 0, "economy": 1}.get(t, -100) for t in topics]
    assert -100 in encoded["topic"]  # health is not in the list
    assert encoded["leaning"] == [["left", "center", "right"].index(x) for x in part["label_leaning"]]


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".csv"])
def test_invalid_utf8_names_line_and_byte(tmp_path: Path, suffix: str):
    raw = b'{"a": "ok"}\n{"a": "caf\xe9 au lait"}\n' if "json" in suffix else b"a,b\nok,1\ncaf\xe9,2\n"
    path = tmp_path / f"latin1{suffix}"
    path.write_bytes(gzip.compress(raw) if suffix.endswith(".gz") else raw)
    line, byte = (2, 11) if "json" in suffix else (3, 4)
    with pytest.raises(
        DataError, match=rf"latin1{re.escape(suffix)}, line {line}, byte {byte} of the line: not valid UTF-8"
    ):
        read_table(path)


def test_valid_utf8_passes_the_check(tmp_path: Path):
    path = tmp_path / "ok.jsonl"
    path.write_text('{"a": "café — naïve ✓"}\n', encoding="utf-8")
    assert read_table(path)["a"] == ["café — naïve ✓"]


# --- files that are not what their name says (issue 27) -------------------------------------------


@pytest.mark.parametrize(("name", "compress"), [("a.jsonl.bz2", bz2.compress), ("a.csv.xz", lzma.compress)])
def test_bz2_and_xz_files_are_read_not_refused_as_bad_utf8(tmp_path: Path, name: str, compress: Any):
    plain = _write_small(tmp_path / name.rsplit(".", 1)[0])
    path = tmp_path / name
    path.write_bytes(compress(plain.read_bytes()))
    assert list(read_table(path)["title"]) == ["First", "Second", "Third"]


@pytest.mark.parametrize(
    ("name", "damage", "words"),
    [
        ("a.jsonl.gz", lambda data: data, "Not a gzipped file"),
        ("a.jsonl.gz", lambda data: gzip.compress(data)[:-9], "end-of-stream marker"),
        ("a.csv.bz2", lambda data: data, "Invalid data stream"),
        ("a.jsonl.xz", lambda data: lzma.compress(data)[:-20], "end"),
    ],
    ids=["not gzip", "truncated gzip", "not bzip2", "truncated xz"],
)
def test_compressed_file_that_does_not_decompress(tmp_path: Path, name: str, damage: Any, words: str):
    plain = _write_small(tmp_path / name.rsplit(".", 1)[0])
    path = tmp_path / name
    path.write_bytes(damage(plain.read_bytes()))
    with pytest.raises(DataError, match=rf"^{re.escape(str(path))}: cannot read it as \w+: .*{words}"):
        read_table(path)


def test_csv_record_with_more_fields_than_the_header(tmp_path: Path):
    path = tmp_path / "a.tsv"
    path.write_text("title\ttopic\nFirst\teconomy\n\nSecond\thealth\textra\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"a\.tsv, line 4: 3 fields where the header has 2; quote the fields"):
        read_table(path)


def test_csv_whose_every_record_has_a_field_more_is_refused_not_read_shifted(tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_text("title,topic\nFirst,economy,x\nSecond,health,y\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"a\.csv, line 2: 3 fields where the header has 2"):
        read_table(path)  # pandas would take the first column for an index: titles "economy", topics "x"


def test_csv_fields_longer_than_the_csv_modules_default_limit_are_read(tmp_path: Path):
    article = "word " * 60_000  # 300,000 characters; the csv module stops at 131,072 unless told otherwise
    path = write_csv(tmp_path / "long.csv", [{"title": "Long", "content": article}])
    assert read_table(path)["content"] == [article]
    assert csv.field_size_limit() == 131_072  # the check put the process-wide limit back


def test_parquet_with_text_that_is_not_utf8(tmp_path: Path):
    path = tmp_path / "a.parquet"
    pd.DataFrame(SMALL).to_parquet(path, compression="NONE")  # plain pages: the title's bytes lie in the file
    path.write_bytes(path.read_bytes().replace(b"Second", b"Sec\xffnd"))
    with pytest.raises(DataError, match=r"a\.parquet: damaged values: .*UTF8"):
        read_table(path)


def test_jsonl_junk_is_named_by_line(tmp_path: Path):
    path = write_jsonl(tmp_path / "a.jsonl", SMALL)
    path.write_bytes(path.read_bytes() + b"\x00\x01 junk\n" + b"[1, 2]\n")
    with pytest.raises(DataError, match=r"a\.jsonl, line 4, column 1: invalid JSON: Expecting value$"):
        read_table(path)
    path.write_bytes(path.read_bytes().replace(b"\x00\x01 junk\n", b""))
    with pytest.raises(DataError, match=r"a\.jsonl, line 4: a JSON list where each line must be an object"):
        read_table(path)


def _fnc_like(tmp_path: Path) -> tuple[Path, Path, Path]:
    """FNC-1-shaped files: stances (headline, Body ID, label) and two body tables."""
    stances = tmp_path / "stances.csv"
    stances.write_text(
        "Headline,Body ID,Stance,split\nRates rise,1,agree,train\nStorm hits,2,unrelated,train\n"
        "Team wins,1,discuss,validation\nVaccine works,7,disagree,train\n",
        encoding="utf-8",
    )
    bodies = tmp_path / "bodies.csv"
    bodies.write_text(
        'Body ID,articleBody\n1,"The bank raised rates, again."\n2,A storm hit the coast.\n', encoding="utf-8"
    )
    more = tmp_path / "more_bodies.csv"
    more.write_text("Body ID,articleBody\n7,Doctors report results.\n", encoding="utf-8")
    return stances, bodies, more


def _join_config(stances: Path, files: list[Path], **extra: str) -> Config:
    overrides = [
        f"data.train_file={stances}",
        f"data.join.files={json.dumps([str(f) for f in files])}",
        "data.join.key=Body ID",
        "data.text_fields=[title, content]",
        "data.columns={title: Headline, content: articleBody}",
        "data.split.column=split",
        "tasks=[{name: stance, label_column: Stance}]",
        *(f"{k}={v}" for k, v in extra.items()),
    ]
    return load_config(None, overrides)


def test_join_adds_the_columns_of_the_tables_by_key(tmp_path: Path):
    stances, bodies, more = _fnc_like(tmp_path)
    splits = load_splits(_join_config(stances, [bodies, more]))
    assert splits["train"]["content"] == [
        "The bank raised rates, again.",
        "A storm hit the coast.",
        "Doctors report results.",
    ]
    assert splits["validation"]["text"] == ["Team wins\n\nThe bank raised rates, again."]
    assert splits["train"]["title"] == ["Rates rise", "Storm hits", "Vaccine works"]
    assert "articleBody" not in splits["train"].column_names and "Headline" not in splits["train"].column_names
    assert splits["train"]["label_stance"] == ["agree", "unrelated", "disagree"]


def test_a_pair_tasks_target_column_becomes_the_target_field(tmp_path: Path):
    stances, bodies, more = _fnc_like(tmp_path)
    pair = "[{name: stance, label_column: Stance, kind: pair, target_column: Headline}]"
    config = _join_config(stances, [bodies, more], **{"data.text_fields": "[content]", "tasks": pair})
    train = load_splits(config)["train"]
    assert train["target"] == ["Rates rise", "Storm hits", "Vaccine works"]
    assert (
        train["content"]
        == train["text"]
        == ["The bank raised rates, again.", "A storm hit the coast.", "Doctors report results."]
    )
    assert "Headline" not in train.column_names and "articleBody" not in train.column_names


def test_join_key_missing_from_the_tables_names_row_and_key(tmp_path: Path):
    stances, bodies, _ = _fnc_like(tmp_path)
    with pytest.raises(DataError, match=r"stances\.csv, row 4, column 'Body ID': '7' is in none of data\.join\.files"):
        load_splits(_join_config(stances, [bodies]))


def test_join_refuses_conflicts(tmp_path: Path):
    stances, bodies, more = _fnc_like(tmp_path)
    more.write_text("Body ID,articleBody\n7,Doctors report results.\n1,Another text for body one.\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"more_bodies\.csv: Body ID '1' is listed twice with different values"):
        load_splits(_join_config(stances, [bodies, more]))
    labelled = tmp_path / "labelled_bodies.csv"
    labelled.write_text("Body ID,Stance\n1,agree\n2,agree\n7,agree\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"columns \['Stance'\] are both in the data and in data\.join\.files"):
        load_splits(_join_config(stances, [labelled]))
    with pytest.raises(DataError, match=r"data\.join\.key: name the key column"):
        load_splits(_join_config(stances, [bodies], **{"data.join.key": "null"}))
