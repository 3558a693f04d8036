"""The multi-task loss, and the reversed gradient of an adversarial task."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, features: torch.Tensor, strength: float) -> torch.Tensor:
        ctx.strength = strength
        return features.view_as(features)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.strength * grad, None


def reverse_gradient(features: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
    """The identity going forward; going back, the gradient times ``-strength`` (Ganin & Lempitsky, 2015).

    >>> x = torch.ones(2, requires_grad=True)
    >>> reverse_gradient(x, 0.5).sum().backward()
    >>> x.grad
    tensor([-0.5000, -0.5000])
    """
    return _ReverseGradient.apply(features, strength)


def multitask_loss(
    logits: dict[str, torch.Tensor],
    labels: dict[str, torch.Tensor],
    task_weights: dict[str, float] | None = None,
    class_weights: dict[str, torch.Tensor] | None = None,
    label_smoothing: float = 0.0,
) -> torch.Tensor | None:
    """The weighted sum of each task's mean cross-entropy over its labelled rows (``-100``: no label),
    with ``label_smoothing`` of each target spread over the other labels.

    Tasks without labels, or whose labels are all ``-100``, add nothing; None when no task has a label.

    >>> multitask_loss({"topic": torch.zeros(2, 4)}, {"topic": torch.tensor([1, -100])})
    tensor(1.3863)
    """
    total = None
    for task, task_logits in logits.items():
        target = labels.get(task)
        if target is None or not (target != -100).any():
            continue
        weight = (class_weights or {}).get(task)
        weight = None if weight is None else weight.to(task_logits.device)
        loss = nn.functional.cross_entropy(
            task_logits.float(), target, weight=weight, ignore_index=-100, label_smoothing=label_smoothing
        )
        loss = (task_weights or {}).get(task, 1.0) * loss
        total = loss if total is None else total + loss
    return total
