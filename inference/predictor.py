"""Prediction with a saved model: ``Predictor`` and the one-line ``predict``.

>>> predictor = Predictor.from_pretrained("runs/default/model")  # doctest: +SKIP
>>> predictor.predict({"title": "Fed raises rates", "content": "The central bank ..."})  # doctest: +SKIP
{'topic': {'label': 'economy', 'score': 0.93, 'scores': {...}}, 'leaning': {...}}
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .loading import load_model_folder
from .modeling import NewsClassifier
from .scrub import OutletScrubber
from .windowing import Article, WindowConfig, article_text, collate_windows, encode_articles

TaskResult = dict[str, Any]


class Predictor:
    """Scores articles with every task of a saved model in one encoder pass.

    Args:
        model: a :class:`~inference.modeling.NewsClassifier`.
        tokenizer: its tokenizer.
        batch_size: most windows per forward pass.
        device: where to run (``cpu`` or ``cuda``).
    """

    def __init__(self, model: NewsClassifier, tokenizer: Any, batch_size: int = 32, device: str = "cpu") -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.device = device
        self.window = WindowConfig(**model.config.window)
        self.text_fields = list(model.config.text_fields)
        names = getattr(model.config, "scrub_names", None)
        self.scrub = None if names is None else OutletScrubber(names)

    @classmethod
    def from_pretrained(
        cls, path: str | Path, *, batch_size: int = 32, device: str = "cpu", num_threads: int | None = None
    ) -> Predictor:
        """Loads a model folder written by ``newsclf-train`` (no network, no training code).

        Args:
            path: the model folder (``runs/<name>/model``).
            batch_size: most windows per forward pass.
            device: ``cpu`` or ``cuda``.
            num_threads: torch CPU threads; ``None`` keeps torch's setting.
        """
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        model, tokenizer = load_model_folder(path, device=device)
        return cls(model, tokenizer, batch_size=batch_size, device=device)

    @property
    def tasks(self) -> list[str]:
        """Task names, in the model's order."""
        return list(self.model.config.task_names)

    def labels(self, task: str) -> list[str]:
        """The labels of ``task``, in the column order of :meth:`predict_proba`."""
        return self.model.task_labels(task)

    def predict_proba(self, articles: Article | Sequence[Article]) -> dict[str, np.ndarray]:
        """Class probabilities per task.

        Returns:
            ``{task: array}``, the array of shape ``(n_articles, n_labels)`` for a list and
            ``(n_labels,)`` for a single article.
        """
        single, batch = _as_batch(articles)
        probabilities = self._probabilities(batch)
        return {task: values[0] if single else values for task, values in probabilities.items()}

    def predict(self, articles: Article | Sequence[Article]) -> dict[str, TaskResult] | list[dict[str, TaskResult]]:
        """Label, its probability and every label's probability, per task.

        Returns:
            For one article ``{task: {"label": str, "score": float, "scores": {label: float}}}``;
            for a list, a list of those in the input's order.
        """
        single, batch = _as_batch(articles)
        probabilities = self._probabilities(batch)
        label_lists = {task: self.labels(task) for task in probabilities}
        results = []
        for row in range(len(batch)):
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

    def _probabilities(self, batch: list[Article]) -> dict[str, np.ndarray]:
        if not batch:
            return {task: np.zeros((0, len(self.labels(task))), dtype=np.float32) for task in self.tasks}
        texts = [article_text(article, self.text_fields) for article in batch]
        if self.scrub is not None:
            texts = [self.scrub(text) for text in texts]
        windows = encode_articles(self.tokenizer, texts, self.window)
        outputs = {task: np.zeros((len(batch), len(self.labels(task))), dtype=np.float32) for task in self.tasks}
        for indices in _length_sorted_batches(windows, self.batch_size):
            inputs = collate_windows([windows[i] for i in indices], self.tokenizer.pad_token_id)
            with torch.inference_mode():
                logits = self.model(**{key: value.to(self.device) for key, value in inputs.items()}).logits
            for task, task_logits in zip(self.tasks, logits):
                outputs[task][indices] = torch.softmax(task_logits.float(), dim=-1).cpu().numpy()
        return outputs


def _as_batch(articles: Article | Iterable[Article]) -> tuple[bool, list[Article]]:
    if isinstance(articles, (str, Mapping)) or not isinstance(articles, Iterable):
        return True, [articles]
    return False, list(articles)


def _length_sorted_batches(windows: list[list[list[int]]], batch_size: int) -> list[list[int]]:
    """Groups articles of similar length so little padding is computed; at most ``batch_size``
    windows a batch, except an article that alone has more."""
    order = sorted(range(len(windows)), key=lambda i: -max(len(w) for w in windows[i]))
    batches: list[list[int]] = []
    current: list[int] = []
    count = 0
    for index in order:
        size = len(windows[index])
        if current and count + size > batch_size:
            batches.append(current)
            current, count = [], 0
        current.append(index)
        count += size
    if current:
        batches.append(current)
    return batches


@functools.lru_cache(maxsize=4)
def _cached_predictor(path: str) -> Predictor:
    return Predictor.from_pretrained(path)


def predict(
    articles: Article | Sequence[Article], model: str | Path
) -> dict[str, TaskResult] | list[dict[str, TaskResult]]:
    """One-line prediction: loads ``model`` once (cached) and predicts.

    >>> predict("Senate passes the budget bill", model="runs/default/model")  # doctest: +SKIP
    """
    return _cached_predictor(str(Path(model).resolve())).predict(articles)
