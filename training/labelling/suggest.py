"""Which articles to label next: the unlabelled articles a label would teach the model most, spread over the pool.

Each article of the pool gets the model's article vector (every window, pooled as the model pools, kept in the
feature cache of :mod:`training.heads.feature_cache`, so a second round over the same pool with a model on the same
encoder, a probe's, costs seconds) and the model's probabilities for the task (calibrated and fused as
``predict`` gives them). Uncertainty is the margin between the two likeliest labels. The ``candidates`` times
``n`` most uncertain articles are clustered into ``n`` groups by k-means on their unit vectors, and each group
gives its most uncertain article: uncertain, and not ``n`` near-duplicates of one story.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.cluster import KMeans

from inference.model.windowing import Article, encode_articles
from inference.prediction.predictor import Predictor
from training.heads.feature_cache import FeatureCache

DEFAULT_CACHE = "runs/feature-cache"


@dataclass
class Suggestion:
    """One article to label: its place in the pool, the model's guess, that guess's probability, and the margin
    between the two likeliest labels (small: uncertain)."""

    index: int
    guess: str
    score: float
    margin: float


def rows_to_label(
    predictor: Predictor,
    articles: Sequence[Article],
    n: int,
    task: str | None = None,
    cache: str | Path = DEFAULT_CACHE,
    candidates: int = 10,
    skip: Sequence[int] = (),
) -> list[dict[str, Any]]:
    """:func:`suggest`'s choice for ``task`` (None: the model's first) as the rows a person labels
    (:func:`suggestion_rows`)."""
    task = task or predictor.tasks[0]
    return suggestion_rows(articles, suggest(predictor, articles, n, task, cache, candidates, skip=skip), task)


def suggest(
    predictor: Predictor,
    articles: Sequence[Article],
    n: int,
    task: str,
    cache: str | Path = DEFAULT_CACHE,
    candidates: int = 10,
    seed: int = 0,
    skip: Sequence[int] = (),
) -> list[Suggestion]:
    """The ``n`` articles of ``articles`` to label next for ``task``, most uncertain first, none of the ``skip``
    indices (labelled already: the whole pool is still embedded, so its cached vectors serve every round).

    Raises:
        ValueError: ``n`` below 1, a task the model lacks or one that reads (target, text) pairs, or a predictor
            without a torch model (ONNX).
    """
    check_request(predictor, task, n, candidates)
    texts = predictor.texts(articles)
    vectors = pool_vectors(predictor, texts, cache)
    probabilities = task_probabilities(predictor, task, vectors, texts)
    margins = top_two_margins(probabilities)
    eligible = np.setdiff1d(np.arange(len(texts)), np.asarray(skip, dtype=np.int64))
    chosen = eligible[diverse_uncertain(vectors[eligible], margins[eligible], n, candidates, seed)]
    labels = predictor.labels(task)
    return [
        Suggestion(int(i), labels[int(probabilities[i].argmax())], float(probabilities[i].max()), float(margins[i]))
        for i in chosen
    ]


def check_request(predictor: Predictor, task: str, n: int, candidates: int) -> None:
    if n < 1 or candidates < 1:
        raise ValueError(f"n and candidates: expected whole numbers of at least 1, got {n} and {candidates}")
    if task not in predictor.tasks:
        raise ValueError(f"task {task!r}: the model has {predictor.tasks}")
    if task not in predictor.config.tasks_of_kind("single"):
        raise ValueError(f"task {task!r} reads (target, text) pairs; suggest ranks articles for single-text tasks")
    if predictor.model is None:
        raise ValueError("suggest needs the torch backend (it reads the model's article vectors)")


def pool_vectors(predictor: Predictor, texts: list[str], cache: str | Path) -> np.ndarray:
    """``(articles, hidden)`` article vectors of ``texts``, from the feature cache or computed into it."""
    windows = encode_articles(predictor.tokenizer, texts, predictor.window)
    bf16 = predictor.backend_name.endswith("bf16")
    model = predictor.model
    return FeatureCache(cache, model, None, predictor.tokenizer.pad_token_id, bf16).vectors(windows, "pool")


def task_probabilities(predictor: Predictor, task: str, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
    """The task's probabilities from the article vectors, calibrated and fused as ``predict`` gives them."""
    model = predictor.model
    assert model is not None  # check_request refused a predictor without a torch model
    with torch.no_grad():
        logits = model.classify(torch.from_numpy(vectors))[predictor.tasks.index(task)].numpy()
    return predictor.calibrated({task: logits}, texts)[task]


def top_two_margins(probabilities: np.ndarray) -> np.ndarray:
    """Each row's likeliest probability less its second (every task has two labels or more): small is uncertain."""
    ordered = np.sort(probabilities, axis=1)
    return ordered[:, -1] - ordered[:, -2]


def diverse_uncertain(vectors: np.ndarray, margins: np.ndarray, n: int, candidates: int, seed: int) -> list[int]:
    """Row indices of ``n`` rows: the ``candidates * n`` smallest margins clustered into ``n`` groups, the
    smallest margin of each group; most uncertain first. All rows where there are no more than ``n``."""
    order = np.argsort(margins, kind="stable")
    if len(order) <= n:
        return [int(i) for i in order]
    pool = order[: candidates * n]
    units = vectors[pool] / np.maximum(np.linalg.norm(vectors[pool], axis=1, keepdims=True), 1e-12)
    groups = KMeans(n_clusters=n, n_init=3, random_state=seed).fit_predict(units)
    # pool is sorted by margin, so each group's first row is its most uncertain
    firsts: dict[int, int] = {}
    for place, group in enumerate(groups):
        firsts.setdefault(int(group), int(pool[place]))
    return sorted(firsts.values(), key=lambda i: (margins[i], i))


def suggestion_rows(articles: Sequence[Any], suggestions: list[Suggestion], task: str) -> list[dict[str, Any]]:
    """The rows a person labels: each article's own fields, the task's column empty to fill in, and the
    model's guess, its probability and the margin (``suggested_*``, ignored when read back for training)."""
    rows = []
    for suggestion in suggestions:
        article = articles[suggestion.index]
        row = dict(article) if isinstance(article, dict) else {"content": article}
        row.setdefault("id", f"pool-{suggestion.index + 1}")
        row.setdefault(task, None)  # a label the pool already had stays
        row["suggested_label"] = suggestion.guess
        row["suggested_score"] = round(suggestion.score, 4)
        row["suggested_margin"] = round(suggestion.margin, 4)
        rows.append(row)
    return rows
