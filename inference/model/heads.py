"""The newsclf model's own parts, in torch alone: task specs, pooling, heads and loss.

A model is one shared encoder and one linear head per task. Each window is pooled into a vector (mean of its
tokens, or its first token); the windows of one article are pooled again (mean or max) so an article gets one
vector however long it is; each task's head turns that vector into logits.

Two classes are built from these parts. :class:`~inference.model.classifier.NewsClassifier` is a transformers
``PreTrainedModel`` (training, saving, ONNX export, any encoder transformers has). :class:`FolderModel` is a
plain ``nn.Module`` that loads a saved folder with torch, ``safetensors`` and ``tokenizers`` alone
(:func:`inference.model.loading.load_for_prediction`), so a fresh process predicts without importing transformers'
model classes; it covers the BERT encoders of :mod:`inference.model.bert`. Both compute the same logits from the
same weights.

>>> settings = ModelSettings(
...     encoder={"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
...              "intermediate_size": 16, "vocab_size": 20},
...     tasks=[{"name": "topic", "labels": ["economy", "health"]}])
>>> FolderModel(settings).task_labels("topic")
['economy', 'health']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from .bert import BertEncoder
from .windowing import WindowConfig

TASK_KINDS = ("single", "pair", "adversarial")
TOKEN_POOLING = ("mean", "cls")
WINDOW_POOLING = ("mean", "max")
SETTING_KEYS = (
    "encoder",
    "tasks",
    "text_fields",
    "window",
    "token_pooling",
    "window_pooling",
    "classifier_dropout",
    "scrub_names",
    "max_target_tokens",
    "normalize_articles",
)


def _normalise_task(task: dict[str, Any]) -> dict[str, Any]:
    """Fills a task spec's label maps from its ordered ``labels`` list."""
    name = task.get("name")
    if not name or not isinstance(name, str):
        raise ValueError(f"every task needs a string 'name', got {task!r}")
    kind = task.get("kind", "single")
    if kind not in TASK_KINDS:
        raise ValueError(f"task {name!r}: kind must be one of {TASK_KINDS}, got {kind!r}")
    labels = task.get("labels")
    if labels is None and "id2label" in task:
        id2label = {int(i): label for i, label in task["id2label"].items()}
        labels = [id2label[i] for i in range(len(id2label))]
    labels = [str(label) for label in labels or []]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValueError(f"task {name!r} needs at least two distinct labels, got {labels}")
    return {
        "name": name,
        "kind": kind,
        "labels": labels,
        "id2label": {str(i): label for i, label in enumerate(labels)},
        "label2id": {label: i for i, label in enumerate(labels)},
    }


class TaskSpecs:
    """What a model's config says about its tasks, text and windows (a mixin for both config classes).

    ``set_model_fields`` checks and stores the settings; see :class:`~inference.model.classifier.NewsClassifierConfig`
    for what each one means.
    """

    def set_model_fields(
        self,
        encoder: dict[str, Any] | None = None,
        tasks: list[dict[str, Any]] | None = None,
        text_fields: list[str] | None = None,
        window: dict[str, Any] | None = None,
        token_pooling: str = "mean",
        window_pooling: str = "mean",
        classifier_dropout: float = 0.1,
        scrub_names: list[str] | None = None,
        max_target_tokens: int | None = None,
        normalize_articles: bool = False,
    ) -> None:
        self.encoder = dict(encoder or {"model_type": "bert"})
        self.tasks = [_normalise_task(task) for task in tasks or []]
        self.text_fields = list(text_fields or ["title", "content"])
        window = dict(window or {})
        if max_target_tokens is not None:
            window.setdefault("max_target_tokens", max_target_tokens)
        self.window = WindowConfig(**window).to_dict()
        if token_pooling not in TOKEN_POOLING:
            raise ValueError(f"token_pooling must be one of {TOKEN_POOLING}, got {token_pooling!r}")
        if window_pooling not in WINDOW_POOLING:
            raise ValueError(f"window_pooling must be one of {WINDOW_POOLING}, got {window_pooling!r}")
        self.token_pooling = token_pooling
        self.window_pooling = window_pooling
        self.classifier_dropout = classifier_dropout
        self.scrub_names = None if scrub_names is None else list(scrub_names)
        self.normalize_articles = bool(normalize_articles)

    @property
    def window_config(self) -> WindowConfig:
        """How this model cuts articles into windows: the one place every reader of the model gets it from."""
        return WindowConfig(**self.window)

    @property
    def reads_pairs(self) -> bool:
        """Whether the model reads (target, text) pairs (it has ``pair`` tasks)."""
        return any(task["kind"] == "pair" for task in self.tasks)

    def tasks_of_kind(self, kind: str) -> list[str]:
        """Names of the ``single`` or the ``pair`` tasks, in the model's order."""
        return [task["name"] for task in self.tasks if task["kind"] == kind]

    @property
    def task_names(self) -> list[str]:
        return [task["name"] for task in self.tasks]

    def task_labels(self, task: str) -> list[str]:
        """The labels of ``task``, in the order of its logits."""
        for spec in self.tasks:
            if spec["name"] == task:
                return list(spec["labels"])
        raise KeyError(f"no task {task!r}; the model has {self.task_names}")


class ModelSettings(TaskSpecs):
    """A saved model's settings read from its ``config.json`` without transformers (keys of
    :data:`SETTING_KEYS`; the rest, transformers' own, is not needed to predict)."""

    def __init__(self, **fields: Any) -> None:
        self.set_model_fields(**fields)

    @classmethod
    def from_file(cls, path: str | Path) -> ModelSettings:
        fields = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(fields, dict):
            raise ValueError(f"{path}: expected a JSON object")
        return cls(**{key: fields[key] for key in SETTING_KEYS if key in fields})


class ClassifierOutput(NamedTuple):
    """``logits``: one ``(articles, labels)`` tensor per task, in the config's task order."""

    loss: torch.Tensor | None = None
    logits: tuple[torch.Tensor, ...] | None = None
    embeddings: torch.Tensor | None = None


class TaskHeads:
    """Pooling, heads and loss around an encoder (a mixin for ``nn.Module`` classes with ``encoder``,
    ``dropout``, ``heads`` and ``config``, and an ``output_class`` to return)."""

    output_class: type = ClassifierOutput

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
    """A saved model rebuilt in plain torch for prediction: the :class:`~inference.model.bert.BertEncoder` and
    the heads, with :class:`~inference.model.classifier.NewsClassifier`'s parameter names and logits.

    Args:
        config: the model's settings (:meth:`ModelSettings.from_file` reads a folder's ``config.json``).
    """

    def __init__(self, config: TaskSpecs) -> None:
        super().__init__()
        self.config = config
        self.encoder = BertEncoder(config.encoder)
        self.init_task_heads(self.encoder.settings["hidden_size"])


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


def window_assignment(window_to_article: torch.Tensor) -> torch.Tensor:
    """The ``(articles, windows)`` 0/1 matrix of :meth:`NewsClassifier.pool_windows` from each window's article.

    >>> window_assignment(torch.tensor([0, 0, 1]))
    tensor([[1., 1., 0.],
            [0., 0., 1.]])
    """
    articles = torch.arange(int(window_to_article.max()) + 1, device=window_to_article.device)
    return (window_to_article.unsqueeze(0) == articles.unsqueeze(1)).float()


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
