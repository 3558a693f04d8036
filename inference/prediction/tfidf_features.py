"""TF-IDF rows of texts from a saved vocabulary and IDF, without scikit-learn.

A saved sparse model (:mod:`inference.prediction.tfidf`) was fitted by scikit-learn's ``TfidfVectorizer`` with word
n-grams, its default token pattern, lower case and l2-normalised rows. :class:`TfidfRows` gives the same rows from
the saved vocabulary and IDF. Prediction uses it because importing scikit-learn alone costs a fresh process about
0.9 s of its first prediction (``benchmarks/cold_start.py``);
``tests/inference/prediction/test_tfidf_features.py`` holds it to scikit-learn's own output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import repeat
from typing import Any

import numpy as np
from scipy import sparse

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
READ_SETTINGS = ("ngram_range", "sublinear_tf")  # what changes the rows of a fitted vectorizer
FIT_SETTINGS = ("min_df", "max_df", "max_features")  # what chose the vocabulary: nothing left to do at prediction
_WORDS_BASE = 2**21  # words a vocabulary may hold: an n-gram's number, base 2**21, fits 63 bits up to 3 words
_LONGEST_NGRAM = 3


class TfidfRows:
    """The l2-normalised TF-IDF row of each text over a fixed vocabulary (``vocabulary[i]`` is column ``i``).

    Terms are looked up as numbers, not strings: each word of the vocabulary has an index, an n-gram is its words'
    indices read as one base-``_WORDS_BASE`` number, and the vocabulary's n-grams are those numbers sorted, so the
    n-grams of a batch of texts are found by one sorted search per length. Building and hashing a string for each
    of an article's ~1,800 words and word pairs took twice as long as all of this.
    """

    def __init__(
        self,
        vocabulary: Sequence[str],
        idf: np.ndarray,
        ngram_range: Sequence[int] = (1, 1),
        sublinear_tf: bool = False,
    ) -> None:
        if len(vocabulary) != len(idf):
            raise ValueError(f"the vocabulary holds {len(vocabulary)} terms but the IDF {len(idf)} values")
        self.vocabulary = list(vocabulary)
        self.idf_ = np.asarray(idf, dtype=np.float64)
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.sublinear_tf = bool(sublinear_tf)
        self._words, self._ngrams = _index_vocabulary(self.vocabulary)

    @property
    def vocabulary_(self) -> dict[str, int]:
        """Each term's column, under scikit-learn's name for it (what saving a folder reads)."""
        return {term: column for column, term in enumerate(self.vocabulary)}

    @classmethod
    def from_settings(cls, vocabulary: Sequence[str], idf: np.ndarray, settings: dict[str, Any]) -> TfidfRows:
        """From a saved folder's vectorizer settings; a setting this class does not read is refused by name."""
        unknown = sorted(set(settings) - set(READ_SETTINGS) - set(FIT_SETTINGS))
        if unknown:
            raise ValueError(f"unsupported vectorizer settings {unknown} (expected {[*READ_SETTINGS, *FIT_SETTINGS]})")
        return cls(vocabulary, idf, **{key: settings[key] for key in READ_SETTINGS if key in settings})

    def transform(self, texts: Iterable[str]) -> sparse.csr_matrix:
        """``(texts, vocabulary)`` float64 rows: term counts (``1 + log`` of them when sublinear) times IDF, each
        row scaled to length 1 (a text with no known term stays all zero). ``texts`` may be any iterable of
        strings, but not one string (scikit-learn refuses it too: it would be read as one text per character)."""
        if isinstance(texts, str):
            raise TypeError("TfidfRows.transform takes an iterable of texts, not one string: wrap it in a list")
        texts = list(texts)
        words = [self._word_ids(text) for text in texts]
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        ids = np.concatenate(words) if words else np.zeros(0, dtype=np.int64)
        rows, columns = self._ngram_cells(ids, np.repeat(np.arange(len(texts)), lengths))
        cells, counts = np.unique(rows * len(self.idf_) + columns, return_counts=True)
        rows, columns = np.divmod(cells, len(self.idf_))
        weights = np.log(counts) + 1 if self.sublinear_tf else counts.astype(np.float64)
        weights *= self.idf_[columns]
        norms = np.sqrt(np.bincount(rows, weights=weights * weights, minlength=len(texts)))[rows]
        weights = np.divide(weights, norms, out=np.zeros_like(weights), where=norms > 0)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(texts)))])
        return sparse.csr_matrix((weights, columns, indptr), shape=(len(texts), len(self.idf_)))

    def _word_ids(self, text: str) -> np.ndarray:
        """The index of each of the text's lower-cased tokens of two or more word characters (-1: no term has it)."""
        tokens = TOKEN.findall(text.lower())
        return np.fromiter(map(self._words.get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))

    def _ngram_cells(self, ids: np.ndarray, text_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(text, column) of each n-gram the vocabulary holds, of the texts' word ``ids`` laid end to end."""
        rows, columns = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for n in range(self.ngram_range[0], self.ngram_range[1] + 1):
            if n not in self._ngrams or len(ids) < n:
                continue
            numbers, terms = self._ngrams[n]
            starts = len(ids) - n + 1
            grams = [ids[k : k + starts] for k in range(n)]
            whole = (np.minimum.reduce(grams) >= 0) & (text_of[:starts] == text_of[n - 1 :])  # known, one text
            number = grams[0][whole]
            for gram in grams[1:]:
                number = number * _WORDS_BASE + gram[whole]
            order = np.argsort(number)  # sorted queries make the search several times faster
            number, owner = number[order], text_of[:starts][whole][order]
            at = np.minimum(np.searchsorted(numbers, number), len(numbers) - 1)
            held = numbers[at] == number
            rows.append(owner[held])
            columns.append(terms[at[held]])
        return np.concatenate(rows), np.concatenate(columns)


def _index_vocabulary(vocabulary: list[str]) -> tuple[dict[str, int], dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Each word's index, and for each n-gram length the vocabulary's n-grams as sorted numbers with their columns."""
    every_word = " ".join(vocabulary).split(" ")  # C loops throughout: this runs in a fresh process's first answer
    words = dict(zip(dict.fromkeys(every_word), range(len(every_word))))
    flat = np.fromiter(map(words.__getitem__, every_word), dtype=np.int64, count=len(every_word))
    lengths = np.fromiter(map(str.count, vocabulary, repeat(" ")), dtype=np.int64, count=len(vocabulary)) + 1
    longest = int(lengths.max(initial=1))
    if len(words) >= _WORDS_BASE or longest > _LONGEST_NGRAM:
        raise ValueError(
            f"a vocabulary of {len(words)} words and n-grams of up to {longest} words "
            f"(expected under {_WORDS_BASE} words and n-grams of at most {_LONGEST_NGRAM})"
        )
    first_word = np.cumsum(lengths) - lengths
    index = {}
    for n in np.unique(lengths).tolist():
        terms = np.flatnonzero(lengths == n)
        number = np.zeros(len(terms), dtype=np.int64)
        for k in range(n):
            number = number * _WORDS_BASE + flat[first_word[terms] + k]
        order = np.argsort(number)
        index[n] = number[order], terms[order]
    return words, index
