"""What a model folder's ``config.json`` says about the model beside its encoder: each task (kind, labels), the
poolings and the windowing, read and checked without torch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
