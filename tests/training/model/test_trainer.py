"""Tests for training.model.trainer: the dataset, the collator, class weights and the multi-task loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from testkit.tiny import tiny_classifier
from torch import nn
from transformers import TrainingArguments

from inference.model.classifier import NewsClassifier
from training.data.labels import balanced_class_weights
from training.model.trainer import ArticleDataset, MultiTaskTrainer, WindowCollator
from training.scoring.metrics import make_compute_metrics

TOPICS = ["economy", "health", "sport"]
LEANINGS = ["left", "right"]
PAD = 0
# four articles: one, two, one and three windows of different lengths
WINDOWS = [
    [[1, 5, 6, 2]],
    [[1, 7, 8, 9, 10, 2], [1, 11, 2]],
    [[1, 12, 2]],
    [[1, 13, 14, 2], [1, 15, 16, 17, 2], [1, 18, 2]],
]
TOPIC_IDS = [0, 2, 1, 2]
LEANING_IDS = [1, 0, 0, 1]


def tiny_model(tasks: list[tuple[str, list[str]]] | None = None, seed: int = 0) -> NewsClassifier:
    return tiny_classifier(dict(tasks or [("topic", TOPICS), ("leaning", LEANINGS)]), seed=seed)


def make_trainer(tmp_path: Path, model: NewsClassifier, **kwargs) -> MultiTaskTrainer:
    task_names = kwargs.pop("task_names", model.config.task_names)
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        report_to="none",
        use_cpu=True,
        per_device_eval_batch_size=2,
        remove_unused_columns=False,
        label_names=[f"labels_{name}" for name in task_names],
    )
    trainer = MultiTaskTrainer(
        model=model, args=args, data_collator=WindowCollator(PAD), task_names=task_names, **kwargs
    )
    model.eval()
    return trainer


def batch(topic: list[int] = TOPIC_IDS, leaning: list[int] = LEANING_IDS) -> dict[str, torch.Tensor]:
    return WindowCollator(PAD)(ArticleDataset(WINDOWS, {"topic": topic, "leaning": leaning}))


def plain_losses(model: NewsClassifier, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    features = {k: v for k, v in inputs.items() if not k.startswith("labels_")}
    with torch.no_grad():
        topic_logits, leaning_logits = model(**features).logits
    loss = nn.CrossEntropyLoss(ignore_index=-100)
    return loss(topic_logits, inputs["labels_topic"]), loss(leaning_logits, inputs["labels_leaning"])


# --- ArticleDataset and WindowCollator --------------------------------------------------------------


def test_article_dataset_items() -> None:
    dataset = ArticleDataset(WINDOWS, {"topic": TOPIC_IDS, "leaning": LEANING_IDS})
    assert len(dataset) == 4
    assert dataset[1] == {"windows": WINDOWS[1], "labels_topic": 2, "labels_leaning": 0}
    assert dataset[3]["windows"] == WINDOWS[3]
    assert [dataset[i]["labels_topic"] for i in range(4)] == TOPIC_IDS


def test_article_dataset_without_labels() -> None:
    dataset = ArticleDataset(WINDOWS, {})
    assert len(dataset) == 4
    assert dataset[0] == {"windows": WINDOWS[0]}


def test_article_dataset_length_mismatch() -> None:
    with pytest.raises(ValueError, match="task 'leaning': 3 labels for 4 articles"):
        ArticleDataset(WINDOWS, {"topic": TOPIC_IDS, "leaning": LEANING_IDS[:3]})


def test_window_collator_shapes_and_values() -> None:
    out = WindowCollator(pad_token_id=PAD)([ArticleDataset(WINDOWS, {"topic": TOPIC_IDS})[i] for i in range(4)])
    assert set(out) == {"input_ids", "attention_mask", "window_to_article", "labels_topic"}
    assert out["input_ids"].shape == (7, 6)  # seven windows, the longest has six tokens
    assert out["attention_mask"].shape == (7, 6)
    assert out["window_to_article"].tolist() == [0, 1, 1, 2, 3, 3, 3]
    assert out["labels_topic"].tolist() == TOPIC_IDS
    assert out["labels_topic"].dtype == torch.long
    assert out["input_ids"][2].tolist() == [1, 11, 2, PAD, PAD, PAD]
    assert out["attention_mask"][2].tolist() == [1, 1, 1, 0, 0, 0]
    assert out["attention_mask"].sum().item() == sum(len(w) for article in WINDOWS for w in article)


def test_window_collator_pad_id_and_two_tasks() -> None:
    items = [ArticleDataset(WINDOWS[:2], {"topic": [0, 1], "leaning": [1, -100]})[i] for i in range(2)]
    out = WindowCollator(pad_token_id=99)(items)
    assert out["input_ids"][0].tolist() == [1, 5, 6, 2, 99, 99]
    assert out["labels_leaning"].tolist() == [1, -100]
    assert out["labels_topic"].shape == (2,)


# --- class weights ----------------------------------------------------------------------------------


def test_article_dataset_lengths_count_every_window() -> None:
    assert ArticleDataset(WINDOWS, {}).lengths() == [4, 9, 3, 12]


def test_group_by_length_batches_articles_of_similar_length(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lengths = rng.permutation(np.repeat([3, 40, 200], 400)).tolist()
    dataset = ArticleDataset([[[1] * n] for n in lengths], {})
    trainer = make_trainer(tmp_path, tiny_model(), train_dataset=dataset, group_by_length=True)
    order = list(trainer._get_train_sampler())
    assert sorted(order) == list(range(len(lengths)))
    spreads = [np.ptp([lengths[i] for i in order[start : start + 8]]) for start in range(0, len(order), 8)]
    assert np.mean(spreads) < 50  # shuffled order puts all three lengths in almost every batch (spread 197)
    plain = make_trainer(tmp_path, tiny_model(), train_dataset=dataset)
    assert plain.args.train_sampling_strategy != "group_by_length" and not plain.group_by_length


def test_balanced_class_weights() -> None:
    labels = [0, 0, 0, 1, 2, 2, -100, -100]
    weights = balanced_class_weights(labels, 3)
    n, k = 6, 3
    counts = np.bincount([0, 0, 0, 1, 2, 2], minlength=3)
    assert weights.dtype == torch.float32
    assert weights.tolist() == pytest.approx((n / (k * counts)).tolist())
    assert weights.tolist() == pytest.approx([2 / 3, 2.0, 1.0])


def test_balanced_class_weights_absent_class_gets_one() -> None:
    weights = balanced_class_weights([0, 0, 0, 2], 4)
    # present classes 0 and 2: n=4, k=2 -> 4/(2*3) and 4/(2*1); classes 1 and 3 are absent
    assert weights.tolist() == pytest.approx([2 / 3, 1.0, 2.0, 1.0])


def test_balanced_class_weights_uniform() -> None:
    assert balanced_class_weights([0, 1, 2, 0, 1, 2], 3).tolist() == pytest.approx([1.0, 1.0, 1.0])


# --- MultiTaskTrainer.compute_loss ------------------------------------------------------------------


def test_loss_is_the_sum_of_task_losses(tmp_path: Path) -> None:
    model = tiny_model()
    trainer = make_trainer(tmp_path, model)
    inputs = batch()
    topic, leaning = plain_losses(model, inputs)
    loss = trainer.compute_loss(model, inputs)
    assert loss.item() == pytest.approx((topic + leaning).item(), rel=1e-5)
    assert loss.item() > 0
    # the model's own loss (unweighted sum) agrees
    assert model(**inputs).loss.item() == pytest.approx(loss.item(), rel=1e-5)


def test_task_weight_scales_its_loss(tmp_path: Path) -> None:
    model = tiny_model()
    inputs = batch()
    topic, leaning = plain_losses(model, inputs)
    weighted = make_trainer(tmp_path, model, task_weights={"topic": 2.0}).compute_loss(model, inputs)
    assert weighted.item() == pytest.approx((2 * topic + leaning).item(), rel=1e-5)
    both = make_trainer(tmp_path, model, task_weights={"topic": 0.5, "leaning": 3.0}).compute_loss(model, inputs)
    assert both.item() == pytest.approx((0.5 * topic + 3 * leaning).item(), rel=1e-5)


def test_class_weights_change_the_loss(tmp_path: Path) -> None:
    model = tiny_model()
    inputs = batch()
    features = {k: v for k, v in inputs.items() if not k.startswith("labels_")}
    with torch.no_grad():
        topic_logits, _ = model(**features).logits
    class_weight = torch.tensor([1.0, 5.0, 0.2])
    topic_weighted = nn.CrossEntropyLoss(weight=class_weight)(topic_logits, inputs["labels_topic"])
    topic, leaning = plain_losses(model, inputs)
    trainer = make_trainer(tmp_path, model, class_weights={"topic": class_weight})
    loss = trainer.compute_loss(model, inputs)
    assert loss.item() == pytest.approx((topic_weighted + leaning).item(), rel=1e-5)
    assert abs(loss.item() - (topic + leaning).item()) > 1e-3


def test_task_without_labels_is_skipped(tmp_path: Path) -> None:
    model = tiny_model()
    trainer = make_trainer(tmp_path, model, task_weights={"leaning": 10.0})
    inputs = batch(leaning=[-100] * 4)
    topic, _ = plain_losses(model, batch())
    loss = trainer.compute_loss(model, inputs)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(topic.item(), rel=1e-5)


def test_partly_missing_labels_are_ignored(tmp_path: Path) -> None:
    model = tiny_model()
    trainer = make_trainer(tmp_path, model)
    inputs = batch(topic=[0, -100, 1, -100])
    features = {k: v for k, v in inputs.items() if not k.startswith("labels_")}
    with torch.no_grad():
        topic_logits, leaning_logits = model(**features).logits
    expected = nn.CrossEntropyLoss()(topic_logits[[0, 2]], torch.tensor([0, 1])) + nn.CrossEntropyLoss()(
        leaning_logits, torch.tensor(LEANING_IDS)
    )
    assert trainer.compute_loss(model, inputs).item() == pytest.approx(expected.item(), rel=1e-5)


def test_no_labels_at_all_gives_a_zero_loss_with_gradient(tmp_path: Path) -> None:
    model = tiny_model()
    trainer = make_trainer(tmp_path, model)
    loss = trainer.compute_loss(model, batch(topic=[-100] * 4, leaning=[-100] * 4))
    assert loss.item() == 0.0
    assert loss.requires_grad
    loss.backward()  # a step on such a batch must not crash


def test_compute_loss_returns_outputs(tmp_path: Path) -> None:
    model = tiny_model()
    trainer = make_trainer(tmp_path, model)
    loss, outputs = trainer.compute_loss(model, batch(), return_outputs=True)
    assert outputs["loss"] is loss
    assert [tuple(t.shape) for t in outputs.logits] == [(4, 3), (4, 2)]


def test_loss_backpropagates_to_both_heads(tmp_path: Path) -> None:
    model = tiny_model()
    trainer = make_trainer(tmp_path, model)
    model.zero_grad()
    trainer.compute_loss(model, batch(leaning=[-100] * 4)).backward()
    assert model.heads["topic"].weight.grad.abs().sum() > 0
    assert model.heads["leaning"].weight.grad is None or model.heads["leaning"].weight.grad.abs().sum() == 0


# --- the Trainer's evaluation loop with make_compute_metrics ---------------------------------------


def test_evaluate_two_tasks(tmp_path: Path) -> None:
    model = tiny_model()
    trainer = make_trainer(
        tmp_path, model, compute_metrics=make_compute_metrics({"topic": TOPICS, "leaning": LEANINGS})
    )
    metrics = trainer.evaluate(ArticleDataset(WINDOWS, {"topic": TOPIC_IDS, "leaning": LEANING_IDS}))
    for key in ("eval_topic_accuracy", "eval_leaning_accuracy", "eval_macro_f1", "eval_loss"):
        assert key in metrics
    assert 0.0 <= metrics["eval_topic_accuracy"] <= 1.0
    assert metrics["eval_topic_accuracy"] * 4 == pytest.approx(round(metrics["eval_topic_accuracy"] * 4))


def test_evaluate_one_task(tmp_path: Path) -> None:
    model = tiny_model([("topic", TOPICS)])
    trainer = make_trainer(tmp_path, model, compute_metrics=make_compute_metrics({"topic": TOPICS}))
    metrics = trainer.evaluate(ArticleDataset(WINDOWS, {"topic": TOPIC_IDS}))
    assert 0.0 <= metrics["eval_topic_accuracy"] <= 1.0


def test_drawn_windows_keep_text_order_and_change_with_the_epoch() -> None:
    windows = [[[i, 10 * a] for i in range(8)] for a in range(20)]
    dataset = ArticleDataset(windows, {"t": [0] * 20}, draw_windows=2, seed=7)
    first = [dataset[a]["windows"] for a in range(20)]
    assert all(len(drawn) == 2 and drawn[0][0] < drawn[1][0] for drawn in first)
    assert all(window in windows[a] for a, drawn in enumerate(first) for window in drawn)
    assert first == [dataset[a]["windows"] for a in range(20)]  # the same epoch draws the same windows
    dataset.epoch = 1
    assert first != [dataset[a]["windows"] for a in range(20)]
    short = ArticleDataset([[[1], [2]]], {"t": [0]}, draw_windows=3)
    assert short[0]["windows"] == [[1], [2]]  # fewer windows than drawn: all of them
    assert ArticleDataset(windows, {"t": [0] * 20})[3]["windows"] == windows[3]


def test_reversal_schedule_ramps_from_zero_or_stays_constant() -> None:
    from transformers import TrainerState

    from training.model.trainer import ReversalSchedule

    model = tiny_classifier({"a": ["x", "y"]})
    schedule = ReversalSchedule({"ramped": (0.5, "ramp"), "flat": (0.3, "constant")})
    seen = []
    for step in (0, 50, 100):
        schedule.on_step_begin(None, TrainerState(global_step=step, max_steps=100), None, model=model)
        seen.append(dict(model.reversal))
    assert seen[0] == {"ramped": 0.0, "flat": 0.3}
    assert 0.0 < seen[1]["ramped"] < seen[2]["ramped"] <= 0.5 and seen[2]["flat"] == 0.3
    assert seen[2]["ramped"] == pytest.approx(0.5 * (2 / (1 + np.exp(-10)) - 1))
