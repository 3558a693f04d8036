"""Tests for inference.model.classifier: config validation, forward, pooling, loss and saving."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from testkit.tiny import TINY_ENCODER, tiny_classifier
from transformers import BertConfig, BertModel

from inference.model.classifier import NewsClassifier, NewsClassifierConfig, NewsClassifierOutput

TASKS = [
    {"name": "topic", "labels": ["economy", "health", "sport"]},
    {"name": "leaning", "labels": ["left", "center", "right"]},
    {"name": "flag", "labels": ["no", "yes"]},
]


def _model(seed: int = 0, **config_kwargs: Any) -> NewsClassifier:
    return tiny_classifier({task["name"]: task["labels"] for task in TASKS}, seed=seed, **config_kwargs)


def _ids(rows: list[list[int]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.long)


WINDOW_A = [2, 11, 12, 13, 14, 15, 3]
WINDOW_B = [2, 40, 41, 42, 43, 44, 3]


# --- forward -------------------------------------------------------------------------------------------


def test_forward_logit_shapes_per_task():
    model = _model()
    input_ids = torch.randint(4, 100, (5, 9))
    with torch.no_grad():
        output = model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids))
    assert isinstance(output, NewsClassifierOutput)
    assert output.loss is None
    assert output.embeddings is None
    assert len(output.logits) == 3
    assert [tuple(t.shape) for t in output.logits] == [(5, 3), (5, 3), (5, 2)]
    assert all(torch.isfinite(t).all() for t in output.logits)


def test_forward_with_window_to_article_gives_one_row_per_article():
    model = _model()
    input_ids = torch.randint(4, 100, (6, 9))
    window_to_article = torch.tensor([0, 0, 1, 2, 2, 2])
    with torch.no_grad():
        output = model(input_ids=input_ids, window_to_article=window_to_article, return_embeddings=True)
    assert [tuple(t.shape) for t in output.logits] == [(3, 3), (3, 3), (3, 2)]
    assert tuple(output.embeddings.shape) == (3, 32)


def test_task_labels_and_names():
    model = _model()
    assert model.config.task_names == ["topic", "leaning", "flag"]
    assert model.task_labels("leaning") == ["left", "center", "right"]
    with pytest.raises(KeyError, match="nope"):
        model.task_labels("nope")


def test_attention_mask_hides_padding_with_mean_pooling():
    model = _model()
    padded = _ids([[*WINDOW_A, 0, 0, 0]])
    mask = _ids([[1] * len(WINDOW_A) + [0, 0, 0]])
    with torch.no_grad():
        short = model(input_ids=_ids([WINDOW_A]), return_embeddings=True).embeddings
        long = model(input_ids=padded, attention_mask=mask, return_embeddings=True).embeddings
    torch.testing.assert_close(long, short, atol=1e-5, rtol=1e-5)


# --- pooling -------------------------------------------------------------------------------------------


def test_mean_pooling_of_identical_windows_equals_one_window():
    model = _model()
    with torch.no_grad():
        single = model(input_ids=_ids([WINDOW_A]), return_embeddings=True)
        doubled = model(
            input_ids=_ids([WINDOW_A, WINDOW_A, WINDOW_B]),
            window_to_article=torch.tensor([0, 0, 1]),
            return_embeddings=True,
        )
    torch.testing.assert_close(doubled.embeddings[0], single.embeddings[0], atol=1e-5, rtol=1e-5)
    for one, two in zip(single.logits, doubled.logits):
        torch.testing.assert_close(two[0], one[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("window_pooling", ["mean", "max"])
def test_window_pooling_combines_per_window_vectors(window_pooling):
    model = _model(window_pooling=window_pooling)
    with torch.no_grad():
        separate = model(input_ids=_ids([WINDOW_A, WINDOW_B]), return_embeddings=True).embeddings
        pooled = model(
            input_ids=_ids([WINDOW_B, WINDOW_A, WINDOW_A]),
            window_to_article=torch.tensor([0, 0, 1]),
            return_embeddings=True,
        )
    expected = separate.mean(0) if window_pooling == "mean" else separate.max(0).values
    torch.testing.assert_close(pooled.embeddings[0], expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pooled.embeddings[1], separate[0], atol=1e-5, rtol=1e-5)
    # the two poolings really differ on two different windows
    other = separate.max(0).values if window_pooling == "mean" else separate.mean(0)
    assert not torch.allclose(pooled.embeddings[0], other, atol=1e-4)
    # the heads read the pooled vector
    expected_logits = model.heads["topic"](pooled.embeddings)
    torch.testing.assert_close(pooled.logits[0], expected_logits, atol=1e-5, rtol=1e-5)


def test_max_pooling_of_identical_windows_equals_one_window():
    model = _model(window_pooling="max")
    with torch.no_grad():
        single = model(input_ids=_ids([WINDOW_A]), return_embeddings=True)
        doubled = model(input_ids=_ids([WINDOW_A, WINDOW_A]), window_to_article=torch.tensor([0, 0]))
    torch.testing.assert_close(doubled.logits[0], single.logits[0], atol=1e-5, rtol=1e-5)


def test_token_pooling_cls_uses_first_token():
    model = _model(token_pooling="cls")
    input_ids = _ids([WINDOW_A, WINDOW_B])
    with torch.no_grad():
        output = model(input_ids=input_ids, return_embeddings=True)
        hidden = model.encoder(input_ids=input_ids, attention_mask=torch.ones_like(input_ids)).last_hidden_state
    torch.testing.assert_close(output.embeddings, hidden[:, 0], atol=1e-6, rtol=1e-6)
    assert not torch.allclose(output.embeddings, hidden.mean(1), atol=1e-4)


def test_token_pooling_mean_averages_real_tokens():
    model = _model(token_pooling="mean")
    input_ids = _ids([[*WINDOW_A, 0, 0]])
    mask = _ids([[1] * len(WINDOW_A) + [0, 0]])
    with torch.no_grad():
        output = model(input_ids=input_ids, attention_mask=mask, return_embeddings=True)
        hidden = model.encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state
    torch.testing.assert_close(output.embeddings[0], hidden[0, : len(WINDOW_A)].mean(0), atol=1e-6, rtol=1e-6)


# --- loss ---------------------------------------------------------------------------------------------


def test_loss_is_cross_entropy_of_given_task():
    model = _model()
    input_ids = torch.randint(4, 100, (4, 8))
    labels = torch.tensor([0, 2, 1, 2])
    with torch.no_grad():
        output = model(input_ids=input_ids, labels_topic=labels)
    assert output.loss is not None
    torch.testing.assert_close(output.loss, F.cross_entropy(output.logits[0], labels))


def test_loss_sums_tasks_and_ignores_minus_100():
    model = _model()
    input_ids = torch.randint(4, 100, (4, 8))
    topic = torch.tensor([0, -100, 1, -100])
    flag = torch.tensor([1, 0, 0, 1])
    with torch.no_grad():
        output = model(input_ids=input_ids, labels_topic=topic, labels_flag=flag)
    expected = F.cross_entropy(output.logits[0][[0, 2]], topic[[0, 2]]) + F.cross_entropy(output.logits[2], flag)
    torch.testing.assert_close(output.loss, expected)


def test_loss_skips_task_with_only_missing_labels():
    model = _model()
    input_ids = torch.randint(4, 100, (3, 8))
    with torch.no_grad():
        both = model(
            input_ids=input_ids, labels_topic=torch.tensor([-100, -100, -100]), labels_leaning=torch.tensor([0, 1, 2])
        )
        none = model(input_ids=input_ids, labels_topic=torch.tensor([-100, -100, -100]))
    torch.testing.assert_close(both.loss, F.cross_entropy(both.logits[1], torch.tensor([0, 1, 2])))
    assert torch.isfinite(both.loss)
    assert none.loss is None


def test_loss_backpropagates_to_encoder():
    model = _model()
    model.train()
    input_ids = torch.randint(4, 100, (2, 8))
    output = model(input_ids=input_ids, labels_topic=torch.tensor([0, 1]))
    output.loss.backward()
    grad = model.encoder.embeddings.word_embeddings.weight.grad
    assert grad is not None
    assert grad.abs().sum() > 0
    assert model.heads["leaning"].weight.grad is None


def test_loss_with_windows_uses_article_labels():
    model = _model()
    input_ids = torch.randint(4, 100, (5, 8))
    window_to_article = torch.tensor([0, 0, 0, 1, 1])
    labels = torch.tensor([2, 0])
    with torch.no_grad():
        output = model(input_ids=input_ids, window_to_article=window_to_article, labels_topic=labels)
    torch.testing.assert_close(output.loss, F.cross_entropy(output.logits[0], labels))


# --- saving and loading -------------------------------------------------------------------------------


def test_save_and_load_round_trip_gives_equal_logits(tmp_path: Path):
    model = _model(seed=3, window_pooling="max", token_pooling="cls", text_fields=["content"])
    model.save_pretrained(tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert "model.safetensors" in files
    assert "config.json" in files
    assert not [name for name in files if name.endswith((".bin", ".pt", ".pth", ".pkl"))]

    loaded = NewsClassifier.from_pretrained(tmp_path).eval()
    input_ids = torch.randint(4, 100, (4, 10))
    window_to_article = torch.tensor([0, 1, 1, 2])
    with torch.no_grad():
        before = model(input_ids=input_ids, window_to_article=window_to_article)
        after = loaded(input_ids=input_ids, window_to_article=window_to_article)
    for one, two in zip(before.logits, after.logits):
        assert torch.equal(one, two)
    assert loaded.config.tasks == model.config.tasks
    assert loaded.config.task_names == ["topic", "leaning", "flag"]
    assert loaded.config.window_pooling == "max"
    assert loaded.config.token_pooling == "cls"
    assert loaded.config.text_fields == ["content"]
    assert loaded.config.window == model.config.window
    for task in loaded.config.tasks:
        labels = dict(zip([t["name"] for t in TASKS], [t["labels"] for t in TASKS]))[task["name"]]
        assert task["labels"] == labels
        assert task["id2label"] == {str(i): label for i, label in enumerate(labels)}
        assert task["label2id"] == {label: i for i, label in enumerate(labels)}
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "newsclf"
    assert saved["encoder"]["hidden_size"] == 32


def test_loaded_state_dict_is_identical(tmp_path: Path):
    model = _model(seed=5)
    model.save_pretrained(tmp_path)
    loaded = NewsClassifier.from_pretrained(tmp_path)
    original = model.state_dict()
    reloaded = loaded.state_dict()
    assert set(original) == set(reloaded)
    for key, value in original.items():
        assert torch.equal(value, reloaded[key]), key


# --- from_encoder --------------------------------------------------------------------------------------


def test_from_encoder_copies_weights_and_applies_overrides(tiny_encoder_dir: Path, tmp_path: Path):
    tasks = [{"name": "topic", "labels": ["a", "b", "c"]}]
    model = NewsClassifier.from_encoder(
        str(tiny_encoder_dir), tasks, encoder_overrides={"attention_probs_dropout_prob": 0.0}, window_pooling="max"
    )
    reference = BertModel.from_pretrained(tiny_encoder_dir)
    assert torch.equal(model.encoder.embeddings.word_embeddings.weight, reference.embeddings.word_embeddings.weight)
    reference_state = reference.state_dict()
    for key, value in model.encoder.state_dict().items():
        assert torch.equal(value, reference_state[key]), key

    assert BertConfig.from_pretrained(tiny_encoder_dir).attention_probs_dropout_prob == pytest.approx(0.1)
    assert model.encoder.config.attention_probs_dropout_prob == 0.0
    assert model.config.encoder["attention_probs_dropout_prob"] == 0.0
    assert model.config.encoder["model_type"] == "bert"
    assert model.config.encoder["hidden_size"] == 32
    assert "architectures" not in model.config.encoder
    assert model.config.window_pooling == "max"
    assert model.task_labels("topic") == ["a", "b", "c"]
    assert tuple(model.heads["topic"].weight.shape) == (3, 32)

    # the saved folder rebuilds the encoder without the original checkpoint
    model.save_pretrained(tmp_path)
    loaded = NewsClassifier.from_pretrained(tmp_path)
    assert loaded.encoder.config.attention_probs_dropout_prob == 0.0
    assert torch.equal(loaded.encoder.embeddings.word_embeddings.weight, reference.embeddings.word_embeddings.weight)


# --- config validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tasks": [{"name": "topic", "labels": ["only"]}]}, "two distinct labels"),
        ({"tasks": [{"name": "topic", "labels": []}]}, "two distinct labels"),
        ({"tasks": [{"name": "topic"}]}, "two distinct labels"),
        ({"tasks": [{"name": "topic", "labels": ["a", "b", "a"]}]}, "two distinct labels"),
        ({"tasks": [{"name": "topic", "kind": "multi", "labels": ["a", "b"]}]}, "kind"),
        ({"tasks": [{"labels": ["a", "b"]}]}, "name"),
        ({"tasks": [{"name": 3, "labels": ["a", "b"]}]}, "name"),
        ({"token_pooling": "max"}, "token_pooling"),
        ({"window_pooling": "sum"}, "window_pooling"),
        ({"window": {"strategy": "middle"}}, "strategy"),
    ],
)
def test_invalid_configs_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NewsClassifierConfig(encoder=dict(TINY_ENCODER), **kwargs)


def test_task_from_id2label_and_labels_as_strings():
    config = NewsClassifierConfig(
        encoder=dict(TINY_ENCODER),
        tasks=[{"name": "t", "id2label": {"1": "b", "0": "a", "2": "c"}}, {"name": "n", "labels": [1, 0]}],
    )
    assert config.tasks[0]["labels"] == ["a", "b", "c"]
    assert config.tasks[0]["label2id"] == {"a": 0, "b": 1, "c": 2}
    assert config.tasks[1]["labels"] == ["1", "0"]
    assert config.tasks[1]["kind"] == "single"


def _adversarial_pair() -> NewsClassifier:
    """A model with a task ``a`` and an adversarial ``b`` whose heads are the same."""
    torch.manual_seed(0)
    config = NewsClassifierConfig(
        encoder=TINY_ENCODER,
        tasks=[{"name": "a", "labels": ["x", "y"]}, {"name": "b", "kind": "adversarial", "labels": ["x", "y"]}],
        classifier_dropout=0.0,
    )
    model = NewsClassifier(config).eval()  # no dropout: two passes see the same network
    model.heads["b"].load_state_dict(model.heads["a"].state_dict())
    return model


def _encoder_grad(model: NewsClassifier, **labels: torch.Tensor) -> torch.Tensor:
    model.zero_grad()
    ids = torch.tensor([[1, 5, 6, 7, 2], [1, 8, 9, 2, 0]])
    model(ids, attention_mask=(ids > 0).long(), **labels).loss.backward()
    return model.encoder.embeddings.word_embeddings.weight.grad.clone()


def test_adversarial_head_sends_the_encoder_the_reversed_gradient():
    model = _adversarial_pair()
    target = torch.tensor([0, 1])
    learned = _encoder_grad(model, labels_a=target)
    reversed_ = _encoder_grad(model, labels_b=target)
    assert learned.abs().sum() > 0
    torch.testing.assert_close(reversed_, -learned)
    model.reversal["b"] = 0.25
    torch.testing.assert_close(_encoder_grad(model, labels_b=target), -0.25 * learned)
    # the adversarial head itself still learns to predict: its own gradient is not reversed
    model.zero_grad()
    ids = torch.tensor([[1, 5, 6, 2]])
    model(ids, labels_b=torch.tensor([1])).loss.backward()
    plain = _adversarial_pair()
    plain(ids, labels_a=torch.tensor([1])).loss.backward()
    torch.testing.assert_close(model.heads["b"].weight.grad, plain.heads["a"].weight.grad)


def test_drop_tasks_removes_the_head_and_the_task():
    model = _adversarial_pair()
    ids = torch.tensor([[1, 5, 6, 2]])
    before = model(ids).logits[0]
    model.drop_tasks(["b"])
    assert model.config.task_names == ["a"] and set(model.heads) == {"a"}
    torch.testing.assert_close(model(ids).logits[0], before)
    with pytest.raises(KeyError, match="no task 'c'"):
        model.drop_tasks(["c"])


def test_label_smoothing_matches_torch_and_changes_the_loss():
    from inference.model.loss import multitask_loss

    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.1, 0.0]])
    target = torch.tensor([0, 2])
    smoothed = multitask_loss({"t": logits}, {"t": target}, label_smoothing=0.2)
    torch.testing.assert_close(smoothed, F.cross_entropy(logits, target, label_smoothing=0.2))
    assert not torch.isclose(smoothed, multitask_loss({"t": logits}, {"t": target}))
