"""newsclf-suggest and TrainedModel.suggest: which articles to label next (uncertain, spread over the pool), from
a pool file to JSON lines a person labels and training reads back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from testkit.articles import make_rows, write_jsonl

from training import fit
from training.labelling.suggest import diverse_uncertain
from training.suggest import main


def pool_rows() -> list[dict]:
    return [{key: row[key] for key in ("id", "title", "content")} for row in make_rows(per_cell=4, seed=7)]


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_diverse_uncertain_takes_one_from_each_group_not_the_two_most_uncertain():
    rng = np.random.default_rng(0)
    # group A holds the three most uncertain rows; group B one less uncertain row; far apart in direction
    a = np.array([1.0, 0.0, 0.0]) + rng.normal(scale=0.01, size=(3, 3))
    b = np.array([0.0, 1.0, 0.0]) + rng.normal(scale=0.01, size=(1, 3))
    confident = np.array([0.0, 0.0, 1.0]) + rng.normal(scale=0.01, size=(4, 3))
    vectors = np.vstack([a, b, confident])
    margins = np.array([0.01, 0.02, 0.03, 0.10, 0.9, 0.9, 0.9, 0.9])
    assert diverse_uncertain(vectors, margins, n=2, candidates=2, seed=0) == [0, 3]
    assert diverse_uncertain(vectors, margins, n=8, candidates=2, seed=0) == [0, 1, 2, 3, 4, 5, 6, 7]


def suggest(model: Path, pool: Path, output: Path, cache: Path, *extra: str) -> int:
    return main(["--model", str(model), "--pool", str(pool), "--output", str(output), "--cache", str(cache), *extra])


def test_suggest_writes_uncertain_distinct_articles_to_label(tiny_model_dir: Path, tmp_path: Path):
    pool = write_jsonl(tmp_path / "pool.jsonl", pool_rows())
    first, cache = tmp_path / "next.jsonl", tmp_path / "cache"
    assert suggest(tiny_model_dir, pool, first, cache, "--n", "5", "--task", "topic") == 0
    rows = read_lines(first)
    assert len(rows) == 5 and len({row["id"] for row in rows}) == 5
    assert all(row["topic"] is None and row["suggested_label"] in {"economy", "health", "sport"} for row in rows)
    margins = [row["suggested_margin"] for row in rows]
    assert margins == sorted(margins)
    cached = sorted(cache.iterdir())
    # round two leaves out what round one suggested, and reads the pool's vectors from the cache
    second = tmp_path / "round2.jsonl"
    assert suggest(tiny_model_dir, pool, second, cache, "--n", "5", "--exclude", str(first), "--task", "topic") == 0
    assert not {row["id"] for row in rows} & {row["id"] for row in read_lines(second)}
    assert sorted(cache.iterdir()) == cached


def test_suggest_refuses_bad_input_before_any_work(tiny_model_dir: Path, tmp_path: Path, capsys):
    pool = tmp_path / "pool.jsonl"
    pool.write_text('{"title": "fine"}\n{"title": broken\n', encoding="utf-8")
    output, cache = tmp_path / "next.jsonl", tmp_path / "cache"
    assert suggest(tiny_model_dir, pool, output, cache) == 2
    assert "pool.jsonl, line 2" in capsys.readouterr().err
    assert not output.exists() and not cache.exists()
    assert suggest(tiny_model_dir, pool, pool, cache) == 2
    assert "pool.jsonl" in capsys.readouterr().err
    good = write_jsonl(tmp_path / "good.jsonl", pool_rows())
    assert suggest(tiny_model_dir, good, output, cache, "--task", "nope") == 2
    assert "task 'nope': the model has ['topic', 'leaning']" in capsys.readouterr().err


def test_labelled_suggestions_are_training_rows(tiny_model_dir: Path, tiny_encoder_dir: Path, tmp_path: Path):
    from training.api import TrainedModel

    gold = {row["id"]: row for row in make_rows(per_cell=4, seed=7)}
    model = TrainedModel.from_pretrained(tiny_model_dir)
    rows = model.suggest(pool_rows(), n=12, task="topic", cache=tmp_path / "cache")
    assert len(rows) == 12
    assert model.suggest(pool_rows(), n=12, task="topic", cache=tmp_path / "cache") == rows  # deterministic
    first = rows[0]["id"]
    assert first not in {row["id"] for row in model.suggest(pool_rows(), n=12, exclude=first, cache=tmp_path / "cache")}
    with pytest.raises(ValueError, match="pool: expected a file, a DataFrame, a Dataset or a list of articles"):
        model.suggest(None)
    for row in rows:  # the person labels
        row["topic"] = gold[row["id"]]["topic"]
    probe = fit(
        rows,
        tasks=["topic"],
        settings={
            "training.mode": "probe",
            "model.name": str(tiny_encoder_dir),
            "model.max_length": 32,
            "data.split.column": None,
        },
    )
    assert probe.labels("topic") == sorted({row["topic"] for row in rows})
