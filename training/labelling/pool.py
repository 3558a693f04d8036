"""A pool file in, the articles to label next out: reading the pool (as ``newsclf-predict`` reads its input),
leaving out what was labelled before, and writing the suggestions as JSON lines."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from inference.atomic import atomic_writer
from inference.batch.articles import InputError, located_articles
from inference.paths import refuse_overwriting_inputs
from inference.prediction.predictor import Predictor
from training.labelling.suggest import rows_to_label


def pool_articles(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The pool's articles as dicts, each with an ``id`` (``pool-N`` for the Nth article where it has none)."""
    articles = []
    for number, (_, article) in enumerate(located_articles(os.fspath(path)), start=1):
        row = dict(article) if isinstance(article, dict) else {"content": article}
        row.setdefault("id", f"pool-{number}")
        articles.append(row)
    if not articles:
        raise InputError(f"{path}: no articles in the pool")
    return articles


def excluded_indices(articles: list[dict[str, Any]], excluded: Sequence[str | Path]) -> list[int]:
    """Places in ``articles`` of those whose ``id`` appears in any of the ``excluded`` files."""
    ids = {str(row["id"]) for file in excluded for row in pool_articles(file)}
    return [index for index, row in enumerate(articles) if str(row["id"]) in ids]


def write_suggestions(
    model: str | Path,
    pool: str | Path,
    output: str | Path,
    n: int,
    task: str | None = None,
    exclude: Sequence[str | Path] = (),
    cache: str | Path = "runs/feature-cache",
    candidates: int = 10,
) -> int:
    """Writes the ``n`` articles of ``pool`` to label next for ``task`` to ``output`` (JSON lines, whole or not at
    all); returns how many were written. Every input is read and checked before the model embeds anything."""
    refuse_overwriting_inputs([output], [pool, *exclude, model])
    articles = pool_articles(pool)
    skip = excluded_indices(articles, exclude)
    if len(skip) == len(articles):
        raise InputError(f"{pool}: every article's id is in {', '.join(map(str, exclude))}; nothing left to suggest")
    predictor = Predictor.from_pretrained(model, backend="torch")
    if not isinstance(predictor, Predictor):
        raise ValueError("suggest needs a model written by newsclf-train (it reads the model's article vectors)")
    rows = rows_to_label(predictor, articles, n, task, cache, candidates, skip)
    with atomic_writer(output) as out:
        out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return len(rows)
