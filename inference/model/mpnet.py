"""MPNet encoders (all-mpnet-base-v2, the distillation teacher) in plain torch: the same weights and outputs as
transformers' ``MPNetModel``.

For the reason :mod:`.bert` gives: a saved mpnet folder then loads with torch and ``safetensors`` alone, without the
seconds transformers' model classes take to import, and predicts through the same fused bf16 layers as MiniLM.
An MPNet layer is BERT's post-norm layer under other parameter names, so :class:`MPNetLayer` only renames
:class:`~inference.model.bert.BertLayer`'s parts. What differs is around the layers: positions count real tokens
from 2 (padding keeps position 1, as in RoBERTa), there are no segment embeddings, and every layer adds to its
attention scores one learnt bias per head and bucket of relative distance (:func:`relative_buckets`).

Parameter names are ``MPNetModel``'s, so its state dict loads unchanged and folders saved by either class load into
the other.

>>> settings = {"model_type": "mpnet", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
...             "intermediate_size": 16, "vocab_size": 20, "max_position_embeddings": 24}
>>> supports(settings), supports({**settings, "model_type": "bert"})
(True, False)
>>> MPNetEncoder(settings)(torch.tensor([[0, 5, 6, 2]])).last_hidden_state.shape
torch.Size([1, 4, 8])
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .bert import BertLayer, EncoderOutput, LayerParts, PlainEncoder, layer_computes, with_defaults

# MPNetConfig's defaults, for keys a saved encoder config leaves out
DEFAULTS = {
    "vocab_size": 30527,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 512,
    "layer_norm_eps": 1e-12,
    "relative_attention_num_buckets": 32,
}
# MPNet pads with id 1 and numbers positions from it whatever the config's pad_token_id says (as transformers does)
PADDING_INDEX = 1
# where the log-spaced buckets end: keys further away than this share the last bucket of their side
LONGEST_DISTANCE = 128


def _settings(config: Any) -> dict[str, Any]:
    return with_defaults(config, DEFAULTS)


def supports(config: Any) -> bool:
    """Whether :class:`MPNetEncoder` reproduces this encoder config (an MPNet whose layer BERT's computes)."""
    fields = _settings(config)
    return fields.get("model_type") == "mpnet" and layer_computes(fields)


def relative_buckets(tokens: int, buckets: int, device: torch.device | None = None) -> torch.Tensor:
    """``(tokens, tokens)`` bucket ids of each key's distance from each query, as MPNet learnt them.

    Half of the buckets are for keys before the query and half for keys after it; within each half, distances
    below a quarter of ``buckets`` get one bucket each, and longer ones share buckets spaced evenly in log
    distance up to :data:`LONGEST_DISTANCE`, the last bucket taking everything further.

    >>> relative_buckets(3, 32).tolist()
    [[0, 17, 18], [1, 0, 17], [2, 1, 0]]
    """
    positions = torch.arange(tokens, device=device)
    distance = positions[:, None] - positions[None, :]  # query minus key: > 0 where the key comes first
    side = buckets // 2
    exact = side // 2
    offset = (distance < 0).long() * side
    far = distance.abs()
    spread = torch.log(far.clamp(min=1).float() / exact) / math.log(LONGEST_DISTANCE / exact) * (side - exact)
    logarithmic = (exact + spread.long()).clamp(max=side - 1)
    return offset + torch.where(far < exact, far, logarithmic)


class MPNetLayer(BertLayer):
    """:class:`~inference.model.bert.BertLayer` under ``MPNetLayer``'s parameter names."""

    def build(self, settings: dict[str, Any]) -> None:
        hidden, eps = settings["hidden_size"], settings["layer_norm_eps"]
        projections = {name: nn.Linear(hidden, hidden) for name in ("q", "k", "v", "o")}
        self.attention = nn.ModuleDict({"attn": nn.ModuleDict(projections), "LayerNorm": nn.LayerNorm(hidden, eps=eps)})
        self.intermediate = nn.ModuleDict({"dense": nn.Linear(hidden, settings["intermediate_size"])})
        self.output = nn.ModuleDict(
            {
                "dense": nn.Linear(settings["intermediate_size"], hidden),
                "LayerNorm": nn.LayerNorm(hidden, eps=eps),
            }
        )

    def parts(self) -> LayerParts:
        attention = self.attention["attn"]
        return LayerParts(
            (attention["q"], attention["k"], attention["v"]),
            attention["o"],
            self.attention["LayerNorm"],
            self.intermediate["dense"],
            self.output["dense"],
            self.output["LayerNorm"],
        )


class MPNetEncoder(PlainEncoder):
    """An MPNet encoder with ``MPNetModel``'s parameter names (its pooler kept, unused, for the same reason).

    Args:
        config: the encoder's config: a mapping or an object with MPNet's fields; missing fields take
            ``MPNetConfig``'s defaults.
    """

    def __init__(self, config: Any) -> None:
        super().__init__()
        settings = _settings(config)
        if not supports(settings):
            raise ValueError(f"MPNetEncoder reproduces MPNet encoders only, got {settings}")
        self.config = config
        self.settings = settings
        hidden = settings["hidden_size"]
        positions = settings["max_position_embeddings"]
        self.embeddings = nn.ModuleDict(
            {
                "word_embeddings": nn.Embedding(settings["vocab_size"], hidden, padding_idx=PADDING_INDEX),
                "position_embeddings": nn.Embedding(positions, hidden, padding_idx=PADDING_INDEX),
                "LayerNorm": nn.LayerNorm(hidden, eps=settings["layer_norm_eps"]),
            }
        )
        layers = nn.ModuleList(MPNetLayer(settings) for _ in range(settings["num_hidden_layers"]))
        bias = nn.Embedding(settings["relative_attention_num_buckets"], settings["num_attention_heads"])
        self.encoder = nn.ModuleDict({"layer": layers, "relative_attention_bias": bias})
        self.pooler = nn.ModuleDict({"dense": nn.Linear(hidden, hidden)})
        self.dropout = nn.Dropout(settings["hidden_dropout_prob"])

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> EncoderOutput:
        """Hidden states of ``(windows, tokens)`` ids (``attention_mask``: 1 for real tokens). MPNet has no
        segments: ``token_type_ids`` is accepted, as from a BERT's windows, and not read."""
        real = input_ids.ne(PADDING_INDEX)
        positions = torch.cumsum(real, dim=1) * real + PADDING_INDEX
        embeddings = self.embeddings
        states = embeddings["word_embeddings"](input_ids) + embeddings["position_embeddings"](positions)
        states = self.dropout(embeddings["LayerNorm"](states))
        buckets = relative_buckets(input_ids.shape[1], self.settings["relative_attention_num_buckets"], states.device)
        bias = self.encoder["relative_attention_bias"](buckets).permute(2, 0, 1).unsqueeze(0)  # (1, heads, q, k)
        if attention_mask is not None and not bool(attention_mask.all()):
            bias = bias.masked_fill(~attention_mask[:, None, None, :].bool(), -math.inf)
        fused = self.encoder["layer"][0].fused_dtype
        if fused is not None:
            bias = bias.to(fused)  # once for every layer: a fused layer takes a float bias in its own precision
        for layer in self.encoder["layer"]:
            states = layer(states, bias)
        return EncoderOutput(states)
