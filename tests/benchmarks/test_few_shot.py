"""benchmarks/few_shot.py on a small BBC-shaped data set: deduplication, a fixed test set, the same draws for
both models, and one replaceable table."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from testkit.articles import TOPIC_WORDS

ROOT = Path(__file__).parents[2]
SPEC = importlib.util.spec_from_file_location("few_shot", ROOT / "benchmarks" / "few_shot.py")
few_shot = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(few_shot)


def write_bbc_like(folder: Path, per_class: int = 14) -> Path:
    """Articles of three categories, each written from its own words, plus one body repeated."""
    rows = []
    for category, words in TOPIC_WORDS.items():
        vocabulary = words.split()
        for i in range(per_class):
            body = " ".join(vocabulary[(i + j) % len(vocabulary)] for j in range(12)) + f" story {i}."
            rows.append(
                {"id": f"{category}_{i:03d}", "category": category, "title": f"{category} {i}", "content": body}
            )
    rows.append({**rows[0], "id": "copy_of_first"})
    path = folder / "bbc_news" / "bbc_news.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_duplicate_bodies_are_kept_once_and_the_test_set_is_fixed(tmp_path):
    rows = few_shot.unique_articles(write_bbc_like(tmp_path))
    assert len(rows) == 3 * 14 and "copy_of_first" not in {row["id"] for row in rows}
    test, pool = few_shot.held_out(rows, 4)
    again, _ = few_shot.held_out(list(reversed(rows)), 4)
    assert sorted(row["id"] for row in test) == sorted(row["id"] for row in again)
    assert {row["id"] for row in test}.isdisjoint(row["id"] for group in pool.values() for row in group)
    drawn = few_shot.draw(pool, 3, seed=1)
    assert len(drawn) == 9 and drawn == few_shot.draw(pool, 3, seed=1) != few_shot.draw(pool, 3, seed=2)


def test_the_benchmark_writes_its_table_between_its_markers(tmp_path, tiny_encoder_dir):
    write_bbc_like(tmp_path / "data")
    output = tmp_path / "results.md"
    output.write_text("# Results\n\nOther sections stay.\n", encoding="utf-8")
    tiny = [f"model.name={tiny_encoder_dir}", "model.max_length=32", "model.stride=4", "training.bf16=false"]
    argv = ["--data", str(tmp_path / "data"), "--sizes", "2", "--seeds", "0", "1", "--test-per-class", "4"]
    argv += ["--work", str(tmp_path / "work"), "--output", str(output), "--set", *tiny]
    assert few_shot.main(argv) == 0
    text = output.read_text(encoding="utf-8")
    assert "Other sections stay." in text and text.count(few_shot.BEGIN) == 1
    rows = [line.split("|") for line in text.splitlines() if line.startswith("| 2 |")]
    assert len(rows) == 1 and rows[0][2].strip() == "2"  # one size, two seeds
    assert all("±" in cell for cell in rows[0][3:7])
    assert len(list((tmp_path / "work" / "feature-cache").glob("*.npy"))) == 3  # the test set's, read twice
