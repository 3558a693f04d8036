"""Tests for inference.prediction.predictor: Predictor and the one-line predict()."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from testkit.articles import make_rows

import inference
from inference import Predictor, load_model_folder
from inference.model.manifest import write_manifest
from inference.prediction.backends import CPU_BATCH_TOKENS, default_batch_size
from inference.prediction.fusion import TaskCalibration, fused_probabilities

TASKS = {"topic": ["economy", "health", "sport"], "leaning": ["left", "center", "right"]}

ARTICLES: list[Any] = [
    "Inflation and interest rates push the bank to act on wages.",
    {"title": "Hospital vaccine", "content": "Doctors and nurses treat patients in the clinic."},
    "The coach praised the team after the match. " * 40,  # several windows at max_length 32
    {"title": "League season", "content": None},
    "",
    {"content": "Taxes, freedom and borders dominate the debate."},
]


@pytest.fixture(scope="module")
def predictor(tiny_model_dir: Path) -> Predictor:
    return Predictor.from_pretrained(tiny_model_dir, precision="fp32")


def _assert_result(result: dict[str, Any]) -> None:
    assert set(result) == set(TASKS)
    for task, labels in TASKS.items():
        entry = result[task]
        assert set(entry) == {"label", "score", "scores"}
        assert list(entry["scores"]) == labels
        assert entry["label"] in labels
        assert all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in entry["scores"].values())
        assert sum(entry["scores"].values()) == pytest.approx(1.0, abs=1e-5)
        assert entry["score"] == max(entry["scores"].values())
        assert entry["scores"][entry["label"]] == entry["score"]


def _assert_same(first: dict[str, Any], second: dict[str, Any], tol: float = 1e-5) -> None:
    assert set(first) == set(second)
    for task in first:
        assert first[task]["scores"] == pytest.approx(second[task]["scores"], abs=tol)


def test_tasks_and_labels(predictor: Predictor):
    assert predictor.tasks == ["topic", "leaning"]
    assert predictor.labels("topic") == ["economy", "health", "sport"]
    assert predictor.labels("leaning") == ["left", "center", "right"]
    with pytest.raises(KeyError):
        predictor.labels("sentiment")
    assert predictor.window.strategy == "chunks"
    assert predictor.window.max_length == 32
    assert predictor.text_fields == ["title", "content"]


def test_one_string_gives_one_dict(predictor: Predictor):
    result = predictor.predict("Inflation and interest rates push the bank to act.")
    assert isinstance(result, dict)
    _assert_result(result)


def test_one_dict_article_gives_one_dict(predictor: Predictor):
    result = predictor.predict({"title": "Hospital vaccine", "content": "Doctors treat patients."})
    assert isinstance(result, dict)
    _assert_result(result)


def test_dict_article_equals_its_joined_text(predictor: Predictor):
    as_dict = predictor.predict({"title": "Hospital vaccine", "content": "Doctors treat patients.", "id": "x"})
    as_text = predictor.predict("Hospital vaccine\n\nDoctors treat patients.")
    _assert_same(as_dict, as_text)


def test_dict_article_field_order_comes_from_model(predictor: Predictor):
    forward = predictor.predict({"title": "Hospital vaccine", "content": "The match ended in a goal."})
    backward = predictor.predict({"content": "The match ended in a goal.", "title": "Hospital vaccine"})
    _assert_same(forward, backward)


def test_dict_without_text_fields_raises(predictor: Predictor):
    with pytest.raises(ValueError, match="title"):
        predictor.predict({"headline": "x"})


def test_an_older_model_with_data_column_names_reads_the_article_fields(
    predictor: Predictor, tiny_model_dir: Path, tmp_path: Path
):
    """A folder saved before data.columns stored the data's own names (here ``headline``, ``body``)."""
    older = Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))
    config = json.loads((older / "config.json").read_text())
    (older / "config.json").write_text(json.dumps({**config, "text_fields": ["headline", "body"]}), encoding="utf-8")
    write_manifest(older)
    old = Predictor.from_pretrained(older, precision="fp32")
    assert old.text_fields == ["title", "content"]
    expected = predictor.predict({"title": "Hospital vaccine", "content": "Doctors treat patients."})
    _assert_same(old.predict({"title": "Hospital vaccine", "content": "Doctors treat patients."}), expected)
    _assert_same(old.predict({"headline": "Hospital vaccine", "body": "Doctors treat patients."}), expected)
    _assert_same(
        old.predict({"title": "Hospital vaccine", "body": "ignored: title is a standard field"}),
        predictor.predict({"title": "Hospital vaccine"}),
    )


def test_non_article_raises_type_error(predictor: Predictor):
    with pytest.raises(TypeError):
        predictor.predict([1, 2])


def test_list_gives_list_in_same_order(predictor: Predictor):
    results = predictor.predict(ARTICLES)
    assert isinstance(results, list)
    assert len(results) == len(ARTICLES)
    for article, result in zip(ARTICLES, results):
        _assert_result(result)
        _assert_same(result, predictor.predict(article))


def test_different_articles_get_different_scores(predictor: Predictor):
    results = predictor.predict(ARTICLES[:3])
    topic = [tuple(r["topic"]["scores"].values()) for r in results]
    assert topic[0] != pytest.approx(topic[1], abs=1e-6)
    assert topic[1] != pytest.approx(topic[2], abs=1e-6)


def test_one_element_list_gives_list(predictor: Predictor):
    results = predictor.predict(["only one"])
    assert isinstance(results, list)
    assert len(results) == 1
    _assert_same(results[0], predictor.predict("only one"))


def test_tuple_and_generator_inputs(predictor: Predictor):
    expected = predictor.predict(ARTICLES)
    from_tuple = predictor.predict(tuple(ARTICLES))
    from_generator = predictor.predict(article for article in ARTICLES)
    assert isinstance(from_tuple, list)
    assert isinstance(from_generator, list)
    assert len(from_tuple) == len(from_generator) == len(ARTICLES)
    for one, two, three in zip(expected, from_tuple, from_generator):
        _assert_same(one, two)
        _assert_same(one, three)


def test_a_data_frame_and_a_dataset_give_one_result_a_row_in_order(predictor: Predictor, tiny_model_dir: Path):
    """Iterating a DataFrame yields its column names: each row must be read as an article instead."""
    import datasets
    import pandas as pd

    rows = [{"id": f"r{i}", "title": row["title"], "content": row["content"], "leaning": "x"} for i, row in
            enumerate(make_rows(per_cell=1)[:10])]  # fmt: skip
    frame = pd.DataFrame(rows)
    frame.loc[3, "content"] = None  # an empty cell is a missing field, not the text "None" or "nan"
    expected = predictor.predict([{k: v for k, v in row.items() if k != "content" or i != 3} for i, row in
                                  enumerate(rows)])  # fmt: skip
    for table in (frame, datasets.Dataset.from_pandas(frame)):
        got = predictor.predict(table)
        assert isinstance(got, list) and len(got) == len(frame)
        for one, two in zip(got, expected):
            assert one["topic"]["label"] == two["topic"]["label"]
            _assert_same(one, two)
        assert predictor.predict_proba(table)["topic"].shape == (len(frame), 3)


def test_empty_list(predictor: Predictor):
    assert predictor.predict([]) == []
    assert predictor.predict(()) == []
    probabilities = predictor.predict_proba([])
    assert set(probabilities) == set(TASKS)
    assert probabilities["topic"].shape == (0, 3)


def test_predict_proba_shapes(predictor: Predictor):
    single = predictor.predict_proba("A match and a goal.")
    batch = predictor.predict_proba(ARTICLES)
    assert set(single) == set(batch) == set(TASKS)
    for task, labels in TASKS.items():
        assert single[task].shape == (len(labels),)
        assert batch[task].shape == (len(ARTICLES), len(labels))
        np.testing.assert_allclose(batch[task].sum(axis=1), 1.0, atol=1e-5)
        assert np.all(batch[task] >= 0)


def test_predict_proba_matches_predict(predictor: Predictor):
    probabilities = predictor.predict_proba(ARTICLES)
    results = predictor.predict(ARTICLES)
    for row, result in enumerate(results):
        for task, labels in TASKS.items():
            assert list(result[task]["scores"].values()) == pytest.approx(probabilities[task][row].tolist(), abs=1e-7)
            assert result[task]["label"] == labels[int(probabilities[task][row].argmax())]


def test_predict_proba_matches_model_forward(predictor: Predictor, tiny_model_dir: Path):
    """Scores are the softmax of the model's logits for the article's windows, at the calibration's temperature."""
    import torch

    from inference.model.windowing import WindowConfig, article_text, collate_windows, encode_articles

    model, tokenizer = load_model_folder(tiny_model_dir)
    article = ARTICLES[2]
    windows = encode_articles(
        tokenizer, [article_text(article, ["title", "content"])], WindowConfig(**model.config.window)
    )
    assert len(windows[0]) > 1
    with torch.no_grad():
        logits = model(**collate_windows(windows, tokenizer.pad_token_id)).logits
    # the tiny run's 18 validation rows: too few to fit a temperature (training.heads.calibration); one is set here
    temperature = 2.5
    calibrated = Predictor(predictor.model, predictor.tokenizer, calibration={"topic": TaskCalibration(temperature)})
    expected = torch.softmax(logits[0].double() / temperature, dim=-1)[0].numpy()
    np.testing.assert_allclose(calibrated.predict_proba(article)["topic"], expected, atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_results_do_not_depend_on_batch_size(predictor: Predictor, batch_size: int):
    articles = [*ARTICLES, *make_rows(per_cell=1)[:3]]
    assert predictor.batch_size == default_batch_size(predictor.window.max_length) > 3
    small = Predictor(
        predictor.model, predictor.tokenizer, batch_size=batch_size, calibration=predictor.calibration
    ).predict(articles)
    large = predictor.predict(articles)
    assert len(small) == len(large) == len(articles)
    for one, two in zip(small, large):
        _assert_same(one, two)


def test_results_do_not_depend_on_input_order(predictor: Predictor):
    articles = [*ARTICLES, *make_rows(per_cell=1)[:4]]
    forward = predictor.predict(articles)
    backward = predictor.predict(list(reversed(articles)))
    for one, two in zip(forward, reversed(backward)):
        _assert_same(one, two)


def test_batch_size_defaults_to_a_token_budget_and_keeps_a_given_one(tiny_model_dir: Path):
    model, tokenizer = load_model_folder(tiny_model_dir)
    length = model.config.window_config.max_length
    assert Predictor(model, tokenizer).batch_size == max(1, CPU_BATCH_TOKENS // length)
    assert Predictor(model, tokenizer, batch_size=5).batch_size == 5
    folder = Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32")
    assert folder.batch_size == max(1, CPU_BATCH_TOKENS // length)


def test_invalid_batch_size(tiny_model_dir: Path):
    model, tokenizer = load_model_folder(tiny_model_dir)
    with pytest.raises(ValueError, match="batch_size"):
        Predictor(model, tokenizer, batch_size=0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t  ",
        "\x00\x01\x02\x1b[31m\x7f",
        "\u200b\u200d\ufeff\u202e\u2066",
        "🙂🏳️‍🌈 ﷽ 漢字 Ελληνικά العربية",
        "\r\n" * 50,
    ],
)
def test_odd_texts_return_results(predictor: Predictor, text: str):
    _assert_result(predictor.predict(text))


def test_lone_surrogate_returns_result(predictor: Predictor):
    text = json.loads('"Broken emoji \\ud83d at the end of a scraped headline"')
    assert "\ud83d" in text
    results = predictor.predict([text, "A goal in the match."])
    assert len(results) == 2
    _assert_result(results[0])


def test_empty_texts_score_like_each_other(predictor: Predictor):
    empty, blank, none_fields = predictor.predict(["", "   \n ", {"title": None, "content": None}])
    _assert_same(empty, blank)
    _assert_same(empty, none_fields)


def test_very_long_text(predictor: Predictor):
    text = ("The market rallied as wages and prices rose. " * 25_000)[:1_000_000]
    assert len(text) == 1_000_000
    _assert_result(predictor.predict(text))
    no_spaces = "x" * 1_000_000
    _assert_result(predictor.predict(no_spaces))


def test_one_line_predict(tiny_model_dir: Path, predictor: Predictor):
    text = "Vaccine trials at the hospital."
    result = inference.predict(text, model=tiny_model_dir, precision="fp32")
    _assert_result(result)
    _assert_same(result, predictor.predict(text))
    results = inference.predict([text, "A goal in the match."], model=str(tiny_model_dir), precision="fp32")
    assert isinstance(results, list)
    assert len(results) == 2
    _assert_same(results[0], result)


def test_a_model_whose_windows_outrun_its_encoder_is_refused(minilm_path: Path):
    from testkit.tiny import TINY_ENCODER, tiny_classifier
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    too_long = {"max_length": TINY_ENCODER["max_position_embeddings"] + 1}
    model = tiny_classifier({"topic": ["a", "b"]}, vocab_size=tokenizer.vocab_size, window=too_long)
    with pytest.raises(ValueError, match="windows hold 65 tokens but its encoder reads at most 64"):
        Predictor(model, tokenizer)
    fits = tiny_classifier({"topic": ["a", "b"]}, vocab_size=tokenizer.vocab_size, window={"max_length": 64})
    assert Predictor(fits, tokenizer).predict("word " * 5000)["topic"]["label"] in ("a", "b")


def test_windows_of_long_articles_are_batched_by_length_and_pooled_per_article(
    predictor: Predictor, monkeypatch: pytest.MonkeyPatch
):
    from testkit.same import raw_logits

    articles = ["The coach praised the team after the match. " * 40, "Rates rise.", "Taxes dominate the debate."]
    widths = []
    encode = predictor.backend.window_vectors

    def recording(batch):
        widths.append(batch["input_ids"].shape)
        return encode(batch)

    monkeypatch.setattr("inference.prediction.predictor.POOLED_ARTICLES", 2)  # pooled in groups, as a long input is
    small = Predictor(predictor.model, predictor.tokenizer, batch_size=2, calibration=predictor.calibration)
    small.backend.window_vectors = recording
    got = small.predict_proba(articles)
    assert all(rows <= 2 for rows, _ in widths)
    assert widths[0][1] == predictor.window.max_length and widths[-1][1] < predictor.window.max_length / 2
    whole = raw_logits(predictor, articles)  # every window padded together, pooled in one forward pass
    for task in predictor.tasks:
        expected = fused_probabilities(whole[task], predictor.calibration[task])
        np.testing.assert_allclose(got[task], expected, atol=1e-5)


def test_a_folder_path_given_as_the_model_is_refused_with_the_loader_named(tiny_model_dir: Path):
    with pytest.raises(TypeError, match=r"got \w*Path; to load a model folder use Predictor.from_pretrained"):
        Predictor(tiny_model_dir, tokenizer=None)
