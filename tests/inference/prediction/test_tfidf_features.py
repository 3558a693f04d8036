"""TfidfRows: the rows scikit-learn's fitted TfidfVectorizer gives, from a saved vocabulary and IDF alone."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from inference.prediction.tfidf import VECTORIZER, TfidfPredictor
from inference.prediction.tfidf_features import TfidfRows

CORPUS = [
    "The Senate passes the budget after a late-night vote; the House votes next week.",
    "Budget talks: the House and the Senate disagree on spending, again and again.",
    "Café owners in São Paulo say naïve tax rules hurt small businesses",
    "Don't panic: the U.S. economy added 250,000 jobs in May (a 2.5% rise)",
    "snake_case_words and CamelCase words, digits 42 and 2024 and x y z single letters",
    "ВЫБОРЫ в России: избиратели голосуют, the vote counts",
    "Vote vote VOTE vote! The vote, the vote.",
]
UNSEEN = [
    "The Senate votes on the budget; café owners and the House disagree about jobs.",
    "Nothing here was seen in training at all, zebra quokka",
    "",
    "a b c",  # only single letters: no tokens
    "ВЫБОРЫ vote budget budget budget Senate",
]


@pytest.mark.parametrize(
    "settings",
    [
        {"ngram_range": (1, 2), "sublinear_tf": True},
        {"ngram_range": (1, 1), "sublinear_tf": False},
        {"ngram_range": (2, 3), "sublinear_tf": True},
    ],
)
def test_rows_equal_scikit_learns_for_seen_and_unseen_texts(settings):
    fitted = TfidfVectorizer(**settings).fit(CORPUS)
    vocabulary = sorted(fitted.vocabulary_, key=fitted.vocabulary_.get)
    rows = TfidfRows(vocabulary, fitted.idf_, **settings)
    for texts in (CORPUS, UNSEEN):
        expected, got = fitted.transform(texts), rows.transform(texts)
        assert got.shape == expected.shape
        assert np.array_equal(got.indptr, expected.indptr) and np.array_equal(got.indices, expected.indices)
        np.testing.assert_allclose(got.data, expected.data, rtol=1e-12, atol=1e-15)


def test_an_empty_batch_is_zero_rows():
    rows = TfidfRows(["vote", "budget"], np.ones(2))
    assert rows.transform([]).shape == (0, 2)


def test_any_iterable_of_texts_is_read_but_one_string_is_refused():
    rows = TfidfRows(["vote", "budget"], np.ones(2))
    expected = rows.transform(["vote budget", "budget"]).toarray()
    assert np.array_equal(rows.transform(text for text in ["vote budget", "budget"]).toarray(), expected)
    with pytest.raises(TypeError, match="not one string"):
        rows.transform("vote budget")


def test_unknown_settings_and_a_mismatched_idf_are_refused_by_name():
    with pytest.raises(ValueError, match=r"unsupported vectorizer settings \['analyzer'\]"):
        TfidfRows.from_settings(["vote"], np.ones(1), {"ngram_range": [1, 2], "analyzer": "char"})
    with pytest.raises(ValueError, match="2 terms but the IDF 3 values"):
        TfidfRows(["vote", "budget"], np.ones(3))
    with pytest.raises(ValueError, match="n-grams of up to 4 words"):
        TfidfRows(["the senate passes the", "vote"], np.ones(2), ngram_range=(1, 4))
    saved = {key: list(value) if isinstance(value, tuple) else value for key, value in VECTORIZER.items()}
    assert TfidfRows.from_settings(["vote"], np.ones(1), saved).ngram_range == VECTORIZER["ngram_range"]


def test_a_saved_sparse_model_predicts_in_a_process_that_never_imports_scikit_learn(tmp_path):
    fitted = TfidfVectorizer(**{k: v for k, v in VECTORIZER.items() if k not in ("min_df", "max_df")}).fit(CORPUS)
    vocabulary = sorted(fitted.vocabulary_, key=fitted.vocabulary_.get)
    coef = np.random.default_rng(0).normal(size=(3, len(vocabulary))).astype(np.float32)
    heads = {"topic": (coef, np.zeros(3, dtype=np.float32))}
    TfidfPredictor(fitted, heads, {"topic": ["a", "b", "c"]}, ["content"]).save(tmp_path / "tfidf")
    script = (
        "import sys; from inference.prediction.tfidf import TfidfPredictor\n"
        f"model = TfidfPredictor.from_pretrained({str(tmp_path / 'tfidf')!r}, verify=False)\n"
        "print(model.predict('the Senate passes the budget')['topic']['label'], 'sklearn' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    features = fitted.transform(["the Senate passes the budget"]).toarray()
    expected = ["a", "b", "c"][int(np.argmax(features @ coef.T))]
    assert result.stdout.split() == [expected, "False"]
