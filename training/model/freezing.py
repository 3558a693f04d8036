"""Partial fine-tuning: only the encoder's top layers (and the heads) learn; the embeddings and the layers below
stay as pretrained.

Frozen weights need no gradients, so the backward pass stops at the lowest trained layer: with the top quarter of a
12-layer encoder trained, a step costs about a forward pass and a half instead of three.
"""

from __future__ import annotations

from torch import nn

KEY = "training.trainable_layers"


def encoder_layers(encoder: nn.Module) -> nn.ModuleList:
    """The stack of transformer layers of a BERT-like encoder (``encoder.layer``, as BERT and MPNet name it)."""
    stack = getattr(getattr(encoder, "encoder", None), "layer", None)
    if not isinstance(stack, nn.ModuleList):
        raise ValueError(
            f"{KEY}: the encoder {type(encoder).__name__} has no `encoder.layer` stack to train the top of"
        )
    return stack


def train_top_layers(model: nn.Module, layers: int) -> int:
    """Freezes everything in ``model.encoder`` but its top ``layers`` transformer layers; the heads stay trainable.

    Returns the number of encoder parameters left to train. Raises ValueError, naming the key, where the encoder has
    fewer layers than asked for.
    """
    stack = encoder_layers(model.encoder)
    if not 1 <= layers <= len(stack):
        raise ValueError(f"{KEY}: {layers} layers asked for, the encoder has {len(stack)} (expected 1 to {len(stack)})")
    trained = {id(p) for layer in stack[len(stack) - layers :] for p in layer.parameters()}
    for parameter in model.encoder.parameters():
        parameter.requires_grad_(id(parameter) in trained)
    return sum(p.numel() for p in model.encoder.parameters() if p.requires_grad)
