"""Articles without AllSides labels for a student's teacher (``training.teacher_articles``): BBC News' articles and
FNC-1's training bodies, each text once, as JSON lines of ``id``, ``title``, ``content``.

    python benchmarks/teacher_articles.py --output runs/teacher-articles.jsonl
    python -m training.train --config configs/allsides-outlet-student.yaml \\
        --set run.name=student-unlab-outlet-w1 "training.teacher_articles=[runs/teacher-articles.jsonl]"

Reads ``$NEWSCLF_DATA`` or ``../shared/data``. FNC-1's competition test bodies are left out: they are that
dataset's test set.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterator
from itertools import chain
from pathlib import Path

from inference.atomic import atomic_writer

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NEWSCLF_DATA", ROOT.parent / "shared" / "data"))


def bbc_articles(data: Path) -> Iterator[dict[str, str]]:
    with (data / "bbc_news" / "bbc_news.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            yield {"id": f"bbc-{row['id']}", "title": row["title"], "content": row["content"]}


def fnc1_bodies(data: Path) -> Iterator[dict[str, str]]:
    limit = csv.field_size_limit(sys.maxsize)  # a few bodies are longer than the csv module's default field limit
    try:  # the limit is process-wide: put it back before anything else reads a CSV
        with (data / "fnc1" / "train_bodies.csv").open(encoding="utf-8", newline="") as rows:
            bodies = [(row["Body ID"], row["articleBody"]) for row in csv.DictReader(rows)]
    finally:
        csv.field_size_limit(limit)
    for body_id, body in bodies:
        yield {"id": f"fnc1-{body_id}", "title": "", "content": body}


def distinct(articles: Iterator[dict[str, str]]) -> Iterator[dict[str, str]]:
    """Each non-empty body once (BBC News repeats 133 of them)."""
    seen: set[str] = set()
    for article in articles:
        body = article["content"].strip()
        if body and body not in seen:
            seen.add(body)
            yield article


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, required=True, help="JSON lines file to write")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder (default: %(default)s)")
    args = parser.parse_args(argv)
    counts = {"bbc": 0, "fnc1": 0}
    with atomic_writer(args.output) as out:
        for article in distinct(chain(bbc_articles(args.data), fnc1_bodies(args.data))):
            counts[article["id"].split("-")[0]] += 1
            out.write(json.dumps(article, ensure_ascii=False) + "\n")
    print(f"wrote {args.output}: {counts['bbc']} BBC News articles, {counts['fnc1']} FNC-1 bodies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
