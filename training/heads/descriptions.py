"""Heads from label descriptions: each label's description put into the task's templates, embedded by the model's
encoder as an article is, averaged and scaled to unit length. ``training.mode: zero-shot`` uses these rows (times
``training.zero_shot_scale``) as its heads (:mod:`training.fitting.zero_shot`); the probe starts from them and is
pulled toward them where a task gives ``descriptions`` (:mod:`training.heads.probe`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from inference.model.windowing import collate_windows, encode_articles
from training.config import TaskConfig


def zero_shot_head(
    model: Any, tokenizer: Any, task: TaskConfig, labels: list[str], scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """The ``(weight, bias)`` of ``task``'s zero-shot head over ``labels`` (in the head's order): each row the unit
    mean of its description's template sentences, times ``scale``; a zero bias."""
    descriptions = list(task.label_descriptions(labels).values())
    sentences = [template.replace("{}", text) for text in descriptions for template in task.templates]
    vectors = description_vectors(model, tokenizer, sentences).view(len(descriptions), len(task.templates), -1)
    rows = nn.functional.normalize(vectors.mean(1), dim=-1)
    return (scale * rows).numpy(), np.zeros(len(labels), dtype=np.float32)


def description_vectors(model: Any, tokenizer: Any, sentences: list[str]) -> torch.Tensor:
    """``(sentences, hidden)`` unit vectors: each sentence read as an article of one window, pooled as the model
    pools, in fp32 (a handful of short texts) and in eval mode (no dropout)."""
    windows = encode_articles(tokenizer, sentences, model.config.window_config)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model(**collate_windows(windows, tokenizer.pad_token_id), return_embeddings=True)
    finally:
        model.train(was_training)
    return nn.functional.normalize(output.embeddings.float(), dim=-1)
