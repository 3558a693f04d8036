"""The newsclf model as a transformers ``PreTrainedModel``: one shared encoder, one linear head per task.

Pooling, heads and loss live in :mod:`inference.model.heads` (torch alone), shared with the plain-torch
model that prediction loads; this module adds transformers' config and saving, and the encoders
transformers has that :mod:`inference.model.native` does not reproduce. The config carries the encoder's own
config, so a saved folder rebuilds the whole model without the pretrained checkpoint it started from.

>>> config = NewsClassifierConfig(
...     encoder={"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 1,
...              "num_attention_heads": 2, "intermediate_size": 64, "vocab_size": 100},
...     tasks=[{"name": "topic", "labels": ["economy", "health"]}])
>>> NewsClassifier(config).task_labels("topic")
['economy', 'health']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from . import native
from .bert import PlainEncoder
from .heads import TaskHeads
from .settings import SETTING_KEYS, TaskSpecs

__all__ = [
    "NewsClassifier",
    "NewsClassifierConfig",
    "NewsClassifierOutput",
    "pretrained_config",
    "transformers_encoder",
]


def pretrained_config(fields: dict[str, Any]) -> PretrainedConfig:
    """transformers' config for an encoder saved as a dict (``model_type`` plus its fields)."""
    fields = dict(fields)
    return AutoConfig.for_model(fields.pop("model_type"), **fields)


def transformers_encoder(model: nn.Module, **options: Any) -> PreTrainedModel:
    """transformers' own class for ``model``'s encoder, holding the same weights and in the same train/eval mode
    (``options``, e.g. ``attn_implementation``, go to ``AutoModel.from_config``): what ONNX export traces, and the
    baseline the plain-torch encoders of :mod:`inference.model.native` are measured against."""
    encoder = AutoModel.from_config(pretrained_config(model.config.encoder), **options)
    encoder.load_state_dict(model.encoder.state_dict())
    return encoder.train(model.encoder.training)


class NewsClassifierConfig(TaskSpecs, PretrainedConfig):
    """Config of a :class:`NewsClassifier`.

    Args:
        encoder: the encoder's config as a dict (``model_type`` plus its fields).
        tasks: one dict per task with ``name``, ``kind`` and ``labels`` (or ``id2label``).
        text_fields: article fields joined into the text, in order.
        window: a :class:`~inference.model.windowing.WindowConfig` as a dict (``max_target_tokens`` included).
        token_pooling: ``mean`` or ``cls``: how a window becomes a vector.
        window_pooling: ``mean`` or ``max``: how an article's windows become one vector.
        classifier_dropout: dropout before each head.
        scrub_names: outlet names to remove, with outlet boilerplate, before reading a text
            (see :mod:`inference.prediction.scrub`); ``None``: texts are read as they are.
        normalize_articles: scale each article vector to unit length before the heads (zero-shot heads,
            whose rows are unit description vectors, then score cosine similarities).
        max_target_tokens: read from folders saved before it moved into ``window``; used when
            ``window`` does not set it.

    Tasks of kind ``pair`` read (target, text) pairs, e.g. stance toward a headline; ``single`` tasks
    read the text alone; an ``adversarial`` head reads the article vector through a gradient reversal,
    so training pushes the encoder to forget what it predicts (it exists only while training). A model
    may hold both single and pair tasks (trained on several datasets): its heads share the encoder, and
    an article is encoded once alone and once per target.
    """

    model_type = "newsclf"

    def __init__(self, **kwargs: Any) -> None:
        self.set_model_fields(**{key: kwargs.pop(key) for key in SETTING_KEYS if key in kwargs})
        super().__init__(**kwargs)

    def encoder_config(self) -> PretrainedConfig:
        return pretrained_config(self.encoder)


@dataclass
class NewsClassifierOutput(ModelOutput):
    """``logits``: one ``(articles, labels)`` tensor per task, in the config's task order."""

    loss: torch.Tensor | None = None
    logits: tuple[torch.Tensor, ...] | None = None
    embeddings: torch.Tensor | None = None


class NewsClassifier(TaskHeads, PreTrainedModel):
    """Shared encoder with one classification head per task."""

    config_class = NewsClassifierConfig
    base_model_prefix = "newsclf"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    output_class = NewsClassifierOutput

    def __init__(self, config: NewsClassifierConfig) -> None:
        super().__init__(config)
        encoder = config.encoder_config()
        if native.supports(encoder):
            self.encoder = native.native_encoder(encoder)
        else:
            self.encoder = AutoModel.from_config(encoder)
        self.init_task_heads(encoder.hidden_size)
        self.post_init()

    @classmethod
    def from_encoder(
        cls,
        encoder_path: str,
        tasks: list[dict[str, Any]],
        *,
        encoder_overrides: dict[str, Any] | None = None,
        **config_kwargs: Any,
    ) -> NewsClassifier:
        """Builds a model whose encoder starts from a pretrained checkpoint (safetensors only).

        Args:
            encoder_path: a local Hugging Face model folder or a hub name.
            tasks: task specs, as in :class:`NewsClassifierConfig`.
            encoder_overrides: encoder config fields to change, e.g. ``attention_probs_dropout_prob``.
            **config_kwargs: other :class:`NewsClassifierConfig` arguments.
        """
        encoder = AutoModel.from_pretrained(encoder_path, use_safetensors=True, **(encoder_overrides or {}))
        encoder_dict = encoder.config.to_dict()
        encoder_dict = {key: value for key, value in encoder_dict.items() if not key.startswith("_")}
        for key in ("architectures", "transformers_version", "torch_dtype", "dtype", "id2label", "label2id"):
            encoder_dict.pop(key, None)
        model = cls(NewsClassifierConfig(encoder=encoder_dict, tasks=tasks, **config_kwargs))
        model.encoder.load_state_dict(encoder.state_dict())
        return model

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear) and any(module is head for head in self.heads.values()):
            init.normal_(module.weight, mean=0.0, std=0.02)
            init.zeros_(module.bias)
        elif module is not self and hasattr(self, "encoder") and module is not self.encoder:
            if isinstance(self.encoder, PlainEncoder):
                super()._init_weights(module)  # BERT's own scheme: normal weights, zero biases, unit norms
            else:
                self.encoder._init_weights(module)
