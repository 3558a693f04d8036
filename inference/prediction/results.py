"""The shapes every predictor returns: one article in, one result out; a list in, a list out.

Shared by :class:`~inference.prediction.predictor.Predictor` and
:class:`~inference.prediction.tfidf.TfidfPredictor`, so that a fine-tuned model and a TF-IDF baseline answer the
same call with the same structure.

>>> import numpy as np
>>> as_batch("Senate passes the budget")
(True, ['Senate passes the budget'])
>>> as_batch(["one", "two"])
(False, ['one', 'two'])
>>> label_results({"topic": np.array([[0.25, 0.75]])}, {"topic": ["sport", "economy"]}, 1, single=True)
{'topic': {'label': 'economy', 'score': 0.75, 'scores': {'sport': 0.25, 'economy': 0.75}}}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from ..model.windowing import Article

if TYPE_CHECKING:
    import pandas

TaskResult = dict[str, Any]


def as_batch(articles: Article | Iterable[Article]) -> tuple[bool, list[Article]]:
    """``(single, batch)``: a string, a dict or anything not iterable is one article; a table (a pandas
    ``DataFrame``) is one article a row, its columns the fields; other iterables (a list, a ``datasets.Dataset``,
    whose rows are dicts) are lists."""
    if isinstance(articles, (str, Mapping)) or not isinstance(articles, Iterable):
        return True, [articles]
    if _is_data_frame(articles):
        return False, [_present_fields(row) for row in articles.to_dict(orient="records")]
    return False, list(articles)


def _is_data_frame(value: Any) -> TypeGuard[pandas.DataFrame]:
    """A pandas ``DataFrame``, known without importing pandas (iterating one gives its column names)."""
    return any(cls.__name__ == "DataFrame" and cls.__module__.startswith("pandas") for cls in type(value).__mro__)


def _present_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A table row without its empty cells (pandas fills them with NaN or None)."""
    return {
        key: value
        for key, value in row.items()
        if value is not None and not (isinstance(value, float) and math.isnan(value))
    }


def shaped_probabilities(probabilities: dict[str, np.ndarray], single: bool) -> dict[str, np.ndarray]:
    """Each task's ``(n_articles, n_labels)`` array, or its one row ``(n_labels,)`` for a single article."""
    return {task: values[0] if single else values for task, values in probabilities.items()}


def label_results(
    probabilities: dict[str, np.ndarray], label_lists: dict[str, list[str]], articles: int, single: bool
) -> dict[str, TaskResult] | list[dict[str, TaskResult]]:
    """Per article (``articles`` rows of each task's array) and task: the best label, its probability and every
    label's probability; one dict for a single article, else a list in the input's order."""
    results = []
    for row in range(articles):
        result = {}
        for task, values in probabilities.items():
            labels = label_lists[task]
            best = int(values[row].argmax())
            result[task] = {
                "label": labels[best],
                "score": float(values[row, best]),
                "scores": {label: float(p) for label, p in zip(labels, values[row])},
            }
        results.append(result)
    return results[0] if single else results
