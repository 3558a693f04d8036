"""TF-IDF rows of texts from a saved vocabulary and IDF, without scikit-learn.

A saved sparse model (:mod:`inference.prediction.tfidf`) was fitted by scikit-learn's ``TfidfVectorizer`` with word
n-grams, its default token pattern, lower case and l2-normalised rows. :class:`TfidfRows` gives the same rows from
the saved vocabulary and IDF. Prediction uses it because importing scikit-learn alone costs a fresh process about
0.9 s of its first prediction (``benchmarks/cold_start.py``);
``tests/inference/prediction/test_tfidf_features.py`` holds it to scikit-learn's own output.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
READ_SETTINGS = ("ngram_range", "sublinear_tf")  # what changes the rows of a fitted vectorizer
FIT_SETTINGS = ("min_df", "max_df", "max_features")  # what chose the vocabulary: nothing left to do at prediction


class TfidfRows:
    """The l2-normalised TF-IDF row of each text over a fixed vocabulary (``vocabulary[i]`` is column ``i``)."""

    def __init__(
        self,
        vocabulary: Sequence[str],
        idf: np.ndarray,
        ngram_range: Sequence[int] = (1, 1),
        sublinear_tf: bool = False,
    ) -> None:
        if len(vocabulary) != len(idf):
            raise ValueError(f"the vocabulary holds {len(vocabulary)} terms but the IDF {len(idf)} values")
        self.vocabulary_ = {term: column for column, term in enumerate(vocabulary)}
        self.idf_ = np.asarray(idf, dtype=np.float64)
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.sublinear_tf = bool(sublinear_tf)

    @classmethod
    def from_settings(cls, vocabulary: Sequence[str], idf: np.ndarray, settings: dict[str, Any]) -> TfidfRows:
        """From a saved folder's vectorizer settings; a setting this class does not read is refused by name."""
        unknown = sorted(set(settings) - set(READ_SETTINGS) - set(FIT_SETTINGS))
        if unknown:
            raise ValueError(f"unsupported vectorizer settings {unknown} (expected {[*READ_SETTINGS, *FIT_SETTINGS]})")
        return cls(vocabulary, idf, **{key: settings[key] for key in READ_SETTINGS if key in settings})

    def terms(self, text: str) -> list[str]:
        """The text's word n-grams: lower-cased tokens of two or more word characters, joined by one space."""
        words = TOKEN.findall(text.lower())
        low, high = self.ngram_range
        return [" ".join(words[i : i + n]) for n in range(low, high + 1) for i in range(len(words) - n + 1)]

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """``(texts, vocabulary)`` float64 rows: term counts (``1 + log`` of them when sublinear) times IDF, each
        row scaled to length 1 (a text with no known term stays all zero)."""
        indptr, columns, values = [0], [], []
        for text in texts:
            counts = Counter(self.vocabulary_[term] for term in self.terms(text) if term in self.vocabulary_)
            found = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            weights = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if self.sublinear_tf:
                weights = np.log(weights) + 1
            weights *= self.idf_[found]
            norm = np.sqrt(weights @ weights)
            if norm > 0:
                weights /= norm
            columns.append(found)
            values.append(weights)
            indptr.append(indptr[-1] + len(found))
        data = np.concatenate(values) if values else np.zeros(0)
        indices = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        rows = sparse.csr_matrix((data, indices, np.asarray(indptr)), shape=(len(texts), len(self.idf_)))
        rows.sort_indices()
        return rows
