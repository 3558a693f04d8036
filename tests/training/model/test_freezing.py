"""Partial fine-tuning (``training.trainable_layers``): only the encoder's top layers and the heads learn, on the
native BERT and on transformers' MPNet; a depth the encoder lacks is refused before any work."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from testkit.tiny import tiny_classifier, tiny_config

from training.config import ConfigError, load_config
from training.fitting.checks import check_config
from training.fitting.recipe import train
from training.model.freezing import train_top_layers


def changed_weights(pretrained: Path, folder: Path) -> set[str]:
    """Names of the pretrained encoder's weights that the run's saved encoder holds changed."""
    before = load_file(pretrained / "model.safetensors")
    after = load_file(folder / "model.safetensors")
    return {name for name, tensor in before.items() if not torch.equal(after[f"encoder.{name}"], tensor)}


@pytest.mark.parametrize("encoder", ["tiny_encoder_dir", "tiny_mpnet_dir"])
def test_only_the_top_layer_and_the_heads_learn(encoder: str, tmp_path: Path, request: pytest.FixtureRequest):
    pretrained = request.getfixturevalue(encoder)
    overrides = ["training.trainable_layers=1", "training.learning_rate=1e-2", "training.epochs=1"]
    overrides += ["training.calibrate=false", "training.early_stopping_patience=null"]
    folder = train(tiny_config(tmp_path, pretrained, overrides)) / "model"
    changed = changed_weights(pretrained, folder)
    assert changed, "the top layer learned nothing"
    assert all(name.startswith("encoder.layer.1.") for name in changed), sorted(changed)
    control = train(tiny_config(tmp_path / "all", pretrained, overrides[1:])) / "model"
    assert any(name.startswith("encoder.layer.0.") for name in changed_weights(pretrained, control))


def test_train_top_layers_counts_what_it_leaves_trainable():
    model = tiny_classifier({"topic": ["a", "b"]})
    top = sum(p.numel() for p in model.encoder.encoder.layer[-1].parameters())
    assert train_top_layers(model, 1) == top
    assert all(p.requires_grad for p in model.heads.parameters())
    assert not any(p.requires_grad for p in model.encoder.embeddings.parameters())
    with pytest.raises(ValueError, match=r"training\.trainable_layers: 2 layers asked for, the encoder has 1"):
        train_top_layers(model, 2)


def test_a_depth_the_encoder_lacks_is_refused_before_any_work(tiny_encoder_dir: Path):
    overrides = [f"model.name={tiny_encoder_dir}", "model.max_length=128", "training.trainable_layers=3"]
    config = load_config(None, overrides)
    with pytest.raises(ConfigError, match=r"training\.trainable_layers: expected at most 2, .* got 3"):
        check_config(config)
    config.training.trainable_layers = 2
    check_config(config)
    config.training.mode = "probe"
    with pytest.raises(ConfigError, match=r"training\.trainable_layers: only fine-tuning trains layers"):
        check_config(config)
