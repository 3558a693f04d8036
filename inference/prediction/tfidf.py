"""The sparse model: TF-IDF + a linear SVM per task, loaded without unpickling anything.

Fitted by :mod:`training.scoring.tfidf_baseline`, either alone (a baseline folder) or inside a fine-tuned model's
folder (``tfidf/``, with ``training.fuse_tfidf``), where :class:`inference.Predictor` fuses its scores
with the encoder's. A folder holds ``baseline.json`` (vectorizer settings and vocabulary),
``weights.safetensors`` (IDF and each task's coefficients); the labels are in ``baseline.json``.

>>> tfidf = TfidfPredictor.from_pretrained("runs/tfidf-outlet/model")  # doctest: +SKIP
>>> tfidf.predict_proba(["Senate passes the budget"])  # doctest: +SKIP
{'topic': array([[...]], dtype=float32), 'leaning': array([[...]], dtype=float32)}
>>> tfidf.predict("Senate passes the budget")  # doctest: +SKIP
{'topic': {'label': 'politics', 'score': 0.61, 'scores': {...}}, 'leaning': {...}}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file
from scipy.special import softmax

from ..atomic import write_json
from ..model.folder_layout import BASELINE_FILE, TFIDF_WEIGHTS_FILE
from ..model.loading import ModelFolderError, verify_checksums
from ..model.windowing import FIELD_SEPARATOR, Article, article_text
from .results import TaskResult, as_batch, label_results, shaped_probabilities
from .scrub import OutletScrubber
from .tfidf_features import TfidfRows

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

VECTORIZER = {"ngram_range": (1, 2), "min_df": 2, "max_df": 0.9, "sublinear_tf": True, "max_features": 200_000}


def pair_text(target: str, text: str) -> str:
    """What the sparse model reads of a (target, text) pair: the target, then the text."""
    return f"{target}{FIELD_SEPARATOR}{text}"


class TfidfPredictor:
    """A fitted TF-IDF + linear SVM per task, with :class:`inference.Predictor`'s interface.

    ``predict_proba`` returns a softmax of the SVM decision values: a ranking of the labels, not a
    calibrated probability.
    """

    def __init__(
        self,
        vectorizer: TfidfVectorizer | TfidfRows,
        heads: dict[str, tuple[np.ndarray, np.ndarray]],
        label_lists: dict[str, list[str]],
        text_fields: list[str],
        scrub_names: list[str] | None = None,
    ) -> None:
        self.vectorizer = vectorizer
        self.heads = heads
        self.label_lists = label_lists
        self.text_fields = text_fields
        self.scrub_names = scrub_names
        self.scrub = None if scrub_names is None else OutletScrubber(scrub_names)
        self._transposed: dict[str, np.ndarray] = {}

    @property
    def tasks(self) -> list[str]:
        return list(self.label_lists)

    def labels(self, task: str) -> list[str]:
        return list(self.label_lists[task])

    def scores(self, texts: list[str], tasks: list[str] | None = None) -> dict[str, np.ndarray]:
        """SVM decision values per task of texts already joined and scrubbed (what the encoder reads)."""
        chosen = self.heads if tasks is None else {task: self.heads[task] for task in tasks}
        if not texts:  # scikit-learn refuses an empty batch
            return {task: np.zeros((0, len(coef)), dtype=np.float32) for task, (coef, _) in chosen.items()}
        features = self.vectorizer.transform(texts).astype(np.float32)
        return {task: np.asarray(features @ self._columns(task) + chosen[task][1]) for task in chosen}

    def _columns(self, task: str) -> np.ndarray:
        """The task's coefficients as a C-ordered float32 ``(features, labels)`` matrix, made once: the product of
        sparse rows with ``coef.T`` (a transposed view) or with float64 rows copies the whole matrix on every call,
        about 0.1-0.3 s for 108 labels of 200,000 features."""
        if task not in self._transposed:
            self._transposed[task] = np.ascontiguousarray(self.heads[task][0].T, dtype=np.float32)
        return self._transposed[task]

    @property
    def backend_name(self) -> str:
        """What scores articles (recorded by ``newsclf-predict`` beside a partial output)."""
        return "tfidf"

    def decision(self, articles: list[Any]) -> dict[str, np.ndarray]:
        """SVM decision values per task, ``(n_articles, n_labels)``, of a list of articles."""
        texts = [article_text(article, self.text_fields) for article in articles]
        if self.scrub is not None:
            texts = [self.scrub(text) for text in texts]
        return self.scores(texts)

    def predict_proba(
        self, articles: Article | Sequence[Article], target: str | Sequence[str] | None = None
    ) -> dict[str, np.ndarray]:
        """Class probabilities per task (softmax of the SVM scores), shaped as :meth:`inference.Predictor.predict_proba`
        shapes them: ``(n_labels,)`` for one article, ``(n_articles, n_labels)`` for a list. A pair's target (one
        for all articles, or one per article) is read before its text."""
        single, batch = as_batch(articles)
        return shaped_probabilities(self._probabilities(batch, target), single)

    def predict(
        self, articles: Article | Sequence[Article], target: str | Sequence[str] | None = None
    ) -> dict[str, TaskResult] | list[dict[str, TaskResult]]:
        """Label, its probability and every label's probability per task: one dict for one article, a list of
        them for a list (as :meth:`inference.Predictor.predict`)."""
        single, batch = as_batch(articles)
        probabilities = self._probabilities(batch, target)
        return label_results(probabilities, self.label_lists, len(batch), single)

    def _probabilities(self, batch: list[Article], target: str | Sequence[str] | None) -> dict[str, np.ndarray]:
        if target is not None:
            if isinstance(target, str):
                targets = [target] * len(batch)
            else:
                targets = ["" if t is None else str(t) for t in target]
                if len(targets) != len(batch):
                    raise ValueError(f"{len(targets)} targets for {len(batch)} articles; give one per article or one")
            batch = [pair_text(article_text(t, []), article_text(a, self.text_fields)) for t, a in zip(targets, batch)]
        result = {}
        for task, scores in self.decision(batch).items():
            result[task] = softmax(np.asarray(scores, dtype=np.float64), axis=1).astype(np.float32)
        return result

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        columns = self.vectorizer.vocabulary_  # TfidfRows builds this term -> column dict on each read
        vocabulary = sorted(columns, key=columns.__getitem__)
        settings = {k: list(v) if isinstance(v, tuple) else v for k, v in VECTORIZER.items()}
        meta = {
            "kind": "tfidf-linear-svm",
            "vectorizer": settings,
            "vocabulary": vocabulary,
            "labels": self.label_lists,
            "text_fields": self.text_fields,
            "scrub_names": self.scrub_names,
        }
        write_json(folder / BASELINE_FILE, meta)
        tensors = {"idf": self.vectorizer.idf_.astype(np.float32)}
        for task, (coef, intercept) in self.heads.items():
            tensors[f"{task}.coef"] = np.ascontiguousarray(coef, dtype=np.float32)
            tensors[f"{task}.intercept"] = np.asarray(intercept, dtype=np.float32)
        save_file(tensors, str(folder / TFIDF_WEIGHTS_FILE))

    @classmethod
    def from_pretrained(cls, folder: str | Path, verify: bool = True) -> TfidfPredictor:
        """Loads a saved sparse model (``verify``: check the folder's manifest first)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise ModelFolderError(f"{folder}: no such model folder (expected a folder written by newsclf-baseline)")
        if verify:
            verify_checksums(folder)
        try:
            meta = json.loads((folder / BASELINE_FILE).read_text(encoding="utf-8"))
            tensors = load_file(str(folder / TFIDF_WEIGHTS_FILE))
            settings = meta["vectorizer"]
            vectorizer = TfidfRows.from_settings(meta["vocabulary"], tensors["idf"], settings)
            heads = {task: (tensors[f"{task}.coef"], tensors[f"{task}.intercept"]) for task in meta["labels"]}
            return cls(vectorizer, heads, meta["labels"], meta["text_fields"], meta.get("scrub_names"))
        except (OSError, ValueError, KeyError, TypeError, SafetensorError) as error:
            raise ModelFolderError(f"{folder}: cannot load the TF-IDF baseline: {error}") from error
