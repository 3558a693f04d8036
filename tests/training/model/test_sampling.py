"""Tests for training.model.sampling: one dataset per batch, proportional or temperature-scaled shares."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.model.sampling import PerDatasetSampler, batches_per_dataset, dataset_weights
from training.model.trainer import ArticleDataset, MultiTaskTrainer, WindowCollator


def runs(sampler: PerDatasetSampler, sources: list[str]) -> list[set[str]]:
    order = list(sampler)
    size = sampler.batch_size
    return [{sources[i] for i in order[start : start + size]} for start in range(0, len(order), size)]


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 60), min_size=1, max_size=4),
    batch_size=st.integers(1, 9),
    temperature=st.floats(0.5, 8.0),
)
def test_every_batch_holds_one_dataset_and_the_epoch_has_the_proportional_length(sizes, batch_size, temperature):
    sources = [f"d{d}" for d, size in enumerate(sizes) for _ in range(size)]
    sampler = PerDatasetSampler(sources, batch_size, temperature, seed=3)
    batches = runs(sampler, sources)
    assert all(len(batch) == 1 for batch in batches)
    assert len(batches) == sum(-(-size // batch_size) for size in sizes)
    assert len(list(sampler)) == len(sampler)
    per_dataset = Counter(next(iter(batch)) for batch in batches)
    assert [per_dataset[f"d{d}"] for d in range(len(sizes))] == sampler.counts
    assert min(sampler.counts) >= 1


def test_proportional_sampling_shows_every_row_once_and_tops_up_the_last_batch():
    sources = ["a"] * 10 + ["b"] * 3
    sampler = PerDatasetSampler(sources, batch_size=4, temperature=1.0, seed=0)
    seen = Counter(list(sampler))
    assert set(seen) == set(range(13))
    assert sampler.counts == [3, 1]  # 12 rows of a (2 repeated), 4 of b (1 repeated)
    assert sum(seen[i] for i in range(10)) == 12 and sum(seen[i] for i in range(10, 13)) == 4


def test_temperature_moves_batches_towards_the_small_dataset():
    sizes = [900, 100]
    assert batches_per_dataset(sizes, 10, 1.0) == [90, 10]
    assert batches_per_dataset(sizes, 10, 2.0) == [75, 25]
    assert batches_per_dataset(sizes, 10, 1000.0) == [50, 50]
    np.testing.assert_allclose(dataset_weights(sizes, 2.0), [0.75, 0.25])
    with pytest.raises(ValueError, match="temperature must be positive"):
        dataset_weights(sizes, 0)


def test_the_order_is_fixed_by_seed_and_epoch_and_changes_between_epochs():
    sources = ["a"] * 20 + ["b"] * 12
    first, again = PerDatasetSampler(sources, 4, seed=1), PerDatasetSampler(sources, 4, seed=1)
    assert list(first) == list(again)
    first.set_epoch(1)
    assert list(first) != list(again)
    assert list(PerDatasetSampler(sources, 4, seed=2)) != list(again)


def test_the_trainer_draws_one_dataset_per_batch(tmp_path, tiny_encoder_dir):
    from testkit.tiny import tiny_classifier
    from transformers import AutoTokenizer, TrainingArguments

    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder_dir)
    sources = ["news"] * 13 + ["fnc"] * 7
    labels = {
        "topic": [i % 2 if s == "news" else -100 for i, s in enumerate(sources)],
        "stance": [i % 3 if s == "fnc" else -100 for i, s in enumerate(sources)],
    }
    dataset = ArticleDataset([[[101, 5 + i, 102]] for i in range(len(sources))], labels, sources)
    model = tiny_classifier({"topic": ["a", "b"], "stance": ["x", "y", "z"]}, vocab_size=tokenizer.vocab_size)
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        use_cpu=True,
        report_to="none",
        seed=5,
        remove_unused_columns=False,
    )
    trainer = MultiTaskTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=WindowCollator(tokenizer.pad_token_id),
        task_names=["topic", "stance"],
        sampling_temperature=2.0,
    )
    batches = list(trainer.get_train_dataloader())
    assert len(batches) == 4 + 2
    for batch in batches:
        has_topic = bool((batch["labels_topic"] != -100).all())
        has_stance = bool((batch["labels_stance"] != -100).all())
        assert has_topic != has_stance, "a batch mixed the two datasets"
        assert len(batch["labels_topic"]) == 4
