"""The newsclf model's own parts, in torch alone: pooling and a head per task (the settings they read are in
:mod:`.settings`, the loss in :mod:`.loss`).

A model is one shared encoder and one linear head per task. Each window is pooled into a vector (mean of its
tokens, or its first token); the windows of one article are pooled again (mean or max) so an article gets one
vector however long it is; each task's head turns that vector into logits.

Two classes are built from these parts. :class:`~inference.model.classifier.NewsClassifier` is a transformers
``PreTrainedModel`` (training, saving, ONNX export, any encoder transformers has). :class:`FolderModel` is a
plain ``nn.Module`` that loads a saved folder with torch, ``safetensors`` and ``tokenizers`` alone
(:func:`inference.model.loading.load_for_prediction`), so a fresh process predicts without importing transformers'
model classes; it covers the BERT and MPNet encoders of :mod:`inference.model.native`. Both compute the same logits
from the same weights.

>>> from inference.model.settings import ModelSettings
>>> settings = ModelSettings(
...     encoder={"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
...              "intermediate_size": 16, "vocab_size": 20},
...     tasks=[{"name": "topic", "labels": ["economy", "health"]}])
>>> FolderModel(settings).task_labels("topic")
['economy', 'health']
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import nn

from .loss import multitask_loss, reverse_gradient
from .native import native_encoder
from .settings import TaskSpecs


class ClassifierOutput(NamedTuple):
    """``logits``: one ``(articles, labels)`` tensor per task, in the config's task order."""

    loss: torch.Tensor | None = None
    logits: tuple[torch.Tensor, ...] | None = None
    embeddings: torch.Tensor | None = None


class TaskHeads:
    """Pooling, heads and loss around an encoder (a mixin for ``nn.Module`` classes with ``encoder``,
    ``dropout``, ``heads`` and ``config``, and an ``output_class`` to return)."""

    output_class: type = ClassifierOutput
    config: TaskSpecs
    encoder: nn.Module

    def init_task_heads(self, hidden: int) -> None:
        self.dropout = nn.Dropout(self.config.classifier_dropout)
        self.heads = nn.ModuleDict({task["name"]: nn.Linear(hidden, len(task["labels"])) for task in self.config.tasks})
        self.reversal: dict[str, float] = {}  # adversarial task -> strength of its reversed gradient (default 1)

    def task_labels(self, task: str) -> list[str]:
        """The labels of ``task``, in the order of its logits."""
        return self.config.task_labels(task)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        window_to_article: torch.Tensor | None = None,
        return_embeddings: bool = False,
        **labels: torch.Tensor,
    ) -> Any:
        """Scores a batch of windows.

        Args:
            input_ids: ``(windows, tokens)``.
            attention_mask: ``(windows, tokens)``, 1 for real tokens.
            token_type_ids: optional segment ids.
            window_to_article: ``(windows,)``: the article each window belongs to (0-based, every
                article in ``0..n-1`` present). Omitted: one window per article.
            return_embeddings: also return the pooled article vectors.
            **labels: ``labels_<task>`` tensors of shape ``(articles,)``; ``-100`` marks a missing
                label. Given, ``loss`` is the sum of the tasks' mean cross-entropies.
        """
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        windows = self.encode_windows(input_ids, attention_mask, token_type_ids)
        if window_to_article is None:
            articles = windows
        else:
            articles = self.pool_windows(windows, window_assignment(window_to_article))
        logits = self.classify(articles)
        targets = {name: labels[f"labels_{name}"] for name in self.config.task_names if f"labels_{name}" in labels}
        loss = multitask_loss(dict(zip(self.config.task_names, logits)), targets) if labels else None
        return self.output_class(loss=loss, logits=logits, embeddings=articles if return_embeddings else None)

    def encode_windows(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        """One vector per window, in fp32 whatever the encoder's precision: the mean of its real tokens, or
        its first token (``token_pooling``)."""
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state.float()
        if self.config.token_pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def pool_windows(self, windows: torch.Tensor, assignment: torch.Tensor) -> torch.Tensor:
        """One vector per article from its windows' vectors (``window_pooling``: mean or max).

        Args:
            windows: ``(windows, hidden)``.
            assignment: ``(articles, windows)``, 1 where the window belongs to the article, else 0
                (:func:`window_assignment`); a matrix rather than an index so the ONNX graph pools the same way.
        """
        # outside autocast: the article vectors keep the windows' precision, as a sum would
        with torch.autocast(windows.device.type, enabled=False):
            assignment = assignment.to(windows.dtype)
            if self.config.window_pooling == "max":
                lowest = torch.finfo(windows.dtype).min
                return windows.unsqueeze(0).masked_fill(assignment.unsqueeze(-1) == 0, lowest).amax(1)
            return (assignment @ windows) / assignment.sum(1, keepdim=True)

    def head_inputs(self, articles: torch.Tensor) -> torch.Tensor:
        """The article vectors as the heads read them: scaled to unit length where ``normalize_articles`` is set
        (a zero-shot head's logits are then a scale times cosine similarities), else as pooled."""
        return nn.functional.normalize(articles, dim=-1) if self.config.normalize_articles else articles

    def classify(self, articles: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Each task's logits for the article vectors, in the config's task order."""
        features = self.dropout(self.head_inputs(articles))
        adversarial = set(self.config.tasks_of_kind("adversarial"))
        inputs = {name: reverse_gradient(features, self.reversal.get(name, 1.0)) for name in adversarial}
        return tuple(self.heads[name](inputs.get(name, features)) for name in self.config.task_names)

    def drop_tasks(self, names: list[str]) -> None:
        """Removes tasks and their heads (the adversarial ones, before the model is saved)."""
        for name in names:
            self.config.task_labels(name)  # KeyError for a task the model does not have
            del self.heads[name]
        self.config.tasks = [task for task in self.config.tasks if task["name"] not in names]


class FolderModel(TaskHeads, nn.Module):
    """A saved model rebuilt in plain torch for prediction: the encoder (:mod:`~inference.model.native`) and
    the heads, with :class:`~inference.model.classifier.NewsClassifier`'s parameter names and logits.

    Args:
        config: the model's settings (:meth:`ModelSettings.from_file` reads a folder's ``config.json``).
    """

    def __init__(self, config: TaskSpecs) -> None:
        super().__init__()
        self.config = config
        self.encoder = native_encoder(config.encoder)
        self.init_task_heads(self.encoder.settings["hidden_size"])


def window_assignment(window_to_article: torch.Tensor) -> torch.Tensor:
    """The ``(articles, windows)`` 0/1 matrix of :meth:`NewsClassifier.pool_windows` from each window's article.

    >>> window_assignment(torch.tensor([0, 0, 1]))
    tensor([[1., 1., 0.],
            [0., 0., 1.]])
    """
    articles = torch.arange(int(window_to_article.max()) + 1, device=window_to_article.device)
    return (window_to_article.unsqueeze(0) == articles.unsqueeze(1)).float()
