"""Tests for inference.prediction.explain: sentence splitting and occlusion explanations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from testkit.tiny import tiny_classifier
from transformers import AutoTokenizer

from inference import NewsClassifier, Predictor
from inference.prediction.explain import explain, split_sentences

ARTICLE = {
    "title": "Hospital vaccine drive",
    "content": "Doctors and nurses treat patients. The clinic opened early!\n\n"
    "Inflation worries the bank? Prices rose.",
}


@pytest.fixture(scope="module")
def tokenizer(minilm_path: Path):
    return AutoTokenizer.from_pretrained(minilm_path)


def random_model(tokenizer, **config) -> NewsClassifier:
    """A seeded random model with heads scaled up, so it is far from sure of anything: every sentence it
    reads moves its probabilities by about 1e-2 on any CPU and thread count. (A trained tiny model can be so
    sure of an article that leaving a sentence out moves nothing, which made these tests fail by machine.)"""
    model = tiny_classifier(
        {"topic": ["economy", "health", "sport"], "leaning": ["left", "center", "right"]},
        vocab_size=tokenizer.vocab_size,
        **config,
    )
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for head in model.heads.values():
            head.weight.normal_(0.0, 1.0, generator=generator)
    return model


@pytest.fixture(scope="module")
def predictor(tokenizer) -> Predictor:
    return Predictor(random_model(tokenizer, window={"max_length": 64}), tokenizer, precision="fp32")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
        ("Rates at 3.5 percent rose.", ["Rates at 3.5 percent rose."]),
        (
            "Copyright by Steven K. Green. Dr. Ames met U.S. officials. Done.",
            ["Copyright by Steven K. Green.", "Dr. Ames met U.S. officials.", "Done."],
        ),
        ("  ", []),
        ("No end punctuation", ["No end punctuation"]),
    ],
)
def test_split_sentences(text: str, expected: list[str]):
    assert split_sentences(text) == expected


def test_one_effect_per_sentence_in_article_order(predictor: Predictor):
    explanation = explain(predictor, ARTICLE, task="topic")
    assert [(s.field, s.text) for s in explanation.sentences] == [
        ("title", "Hospital vaccine drive"),
        ("content", "Doctors and nurses treat patients."),
        ("content", "The clinic opened early!"),
        ("content", "Inflation worries the bank?"),
        ("content", "Prices rose."),
    ]
    assert [s.index for s in explanation.sentences] == list(range(5))


def test_effects_match_predictions_without_each_sentence(predictor: Predictor):
    explanation = explain(predictor, ARTICLE, task="leaning")
    labels = predictor.labels("leaning")
    full = predictor.predict_proba(ARTICLE)["leaning"]
    assert explanation.predicted == labels[int(full.argmax())] == explanation.label
    assert explanation.score == pytest.approx(float(full.max()), abs=1e-5)
    without_second = {
        "title": ARTICLE["title"],
        "content": "The clinic opened early!\n\nInflation worries the bank? Prices rose.",
    }
    expected = float(predictor.predict_proba(without_second)["leaning"][labels.index(explanation.label)])
    second = explanation.sentences[1]
    assert second.score_without == pytest.approx(expected, abs=1e-5)
    assert second.effect == pytest.approx(explanation.score - expected, abs=1e-5)
    assert all(abs(s.effect) > 1e-3 for s in explanation.sentences), "leaving a sentence out changed nothing"


def test_explains_a_chosen_label(predictor: Predictor):
    labels = predictor.labels("topic")
    full = predictor.predict_proba(ARTICLE)["topic"]
    least = labels[int(full.argmin())]
    explanation = explain(predictor, ARTICLE, task="topic", label=least)
    assert explanation.label == least != explanation.predicted
    assert explanation.score == pytest.approx(float(full.min()), abs=1e-5)


def test_plain_string_article(predictor: Predictor):
    explanation = explain(predictor, "Taxes rose. Borders closed.")
    assert explanation.task == predictor.tasks[0]
    assert [(s.field, s.text) for s in explanation.sentences] == [("text", "Taxes rose."), ("text", "Borders closed.")]


def test_sentences_outside_the_window_have_no_effect(tokenizer):
    predictor = Predictor(random_model(tokenizer, window={"strategy": "head", "max_length": 16}), tokenizer)
    article = "Vaccine clinic doctors. " + "Hospital nurses patients care. " * 6 + "Inflation market wages bank."
    explanation = explain(predictor, article, task="topic")
    assert abs(explanation.sentences[0].effect) > 1e-3  # measured 7e-2
    assert explanation.sentences[-1].effect == 0.0  # the same windows, so the same probabilities


def test_top_orders_by_effect(predictor: Predictor):
    explanation = explain(predictor, ARTICLE, task="topic")
    effects = np.array([s.effect for s in explanation.sentences])
    assert [s.effect for s in explanation.top(2)] == sorted(effects, key=lambda e: -abs(e))[:2]
    assert explanation.top(1, by="support")[0].effect == effects.max()
    assert explanation.top(1, by="against")[0].effect == effects.min()
    assert len(explanation.as_rows()) == len(effects) and set(explanation.as_rows()[0]) >= {"text", "effect"}
    with pytest.raises(ValueError, match="by must be one of"):
        explanation.top(by="largest")


def test_unknown_task_or_label(predictor: Predictor):
    with pytest.raises(ValueError, match="unknown task 'stance'"):
        explain(predictor, ARTICLE, task="stance")
    with pytest.raises(ValueError, match="has no label 'sport_x'"):
        explain(predictor, ARTICLE, task="topic", label="sport_x")
    with pytest.raises(TypeError, match="must be a string or a dict"):
        explain(predictor, 42)  # type: ignore[arg-type]
