"""BERT-family encoders (MiniLM included) in plain torch: the same weights and outputs as transformers' ``BertModel``.

Why our own copy of the layer instead of transformers' class: building it imports torch alone, not
``transformers.modeling_utils`` (two seconds of imports), so a fresh process loads a saved folder and
predicts sooner (:class:`~inference.model.heads.FolderModel`).
:class:`~inference.model.classifier.NewsClassifier` trains with the same layer, so prediction runs exactly the code
training ran, except where a loaded folder predicts in bf16 on the CPU: there :meth:`BertEncoder.fuse` joins the query,
key and value products, casts each weight once and keeps the states in bf16 between layers (docs/speed.md, the
profile; equal to the plain layers within bf16's rounding, tests/inference/model/test_bert.py).

Parameter names are ``BertModel``'s, so state dicts move between the two unchanged (a pretrained checkpoint
loads as it is, and folders saved with either class load into the other). The layer and :class:`PlainEncoder` are
shared with :mod:`.mpnet`, which renames the layer's parts; :mod:`.native` chooses between the two, and any other
encoder (:func:`supports`: other model types, relative positions, decoders) stays with transformers.

>>> settings = {"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
...             "intermediate_size": 16, "vocab_size": 20}
>>> supports(settings), supports({**settings, "model_type": "roberta"})
(True, False)
>>> encoder = BertEncoder(settings)
>>> encoder(torch.tensor([[1, 2, 3]])).last_hidden_state.shape
torch.Size([1, 3, 8])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn import functional

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": functional.gelu,
    "relu": functional.relu,
    "gelu_new": lambda x: functional.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: functional.gelu(x, approximate="tanh"),
}
# torch's oneDNN linear with a fused activation or sum (what inductor calls on the CPU); None in builds without oneDNN
ONEDNN_LINEAR = getattr(torch.ops.mkldnn, "_linear_pointwise", None) if torch.backends.mkldnn.is_available() else None
# BertConfig's defaults, for keys a saved encoder config leaves out
DEFAULTS = {
    "vocab_size": 30522,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
    "initializer_range": 0.02,
}


def with_defaults(config: Any, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """An encoder config (a mapping, or transformers' config object) as a dict, ``defaults`` filling its gaps."""
    fields = dict(config) if isinstance(config, Mapping) else config.to_dict()
    return {**defaults, **{key: value for key, value in fields.items() if value is not None}}


def _settings(config: Any) -> dict[str, Any]:
    return with_defaults(config, DEFAULTS)


def layer_computes(fields: Mapping[str, Any]) -> bool:
    """Whether :class:`BertLayer` computes a layer of these settings: an activation it knows, and heads that
    split the width evenly."""
    return fields["hidden_act"] in ACTIVATIONS and fields["hidden_size"] % fields["num_attention_heads"] == 0


def supports(config: Any) -> bool:
    """Whether :class:`BertEncoder` reproduces this encoder config (a BERT with absolute positions, an encoder)."""
    fields = _settings(config)
    return (
        fields.get("model_type") == "bert"
        and fields.get("position_embedding_type", "absolute") == "absolute"
        and not fields.get("is_decoder", False)
        and not fields.get("add_cross_attention", False)
        and layer_computes(fields)
    )


class EncoderOutput(NamedTuple):
    """What :class:`BertEncoder` returns: ``(windows, tokens, hidden)`` states after the last layer."""

    last_hidden_state: torch.Tensor


QKV = ("query", "key", "value")


class LayerParts(NamedTuple):
    """The weights of one post-norm layer, whatever the family names them (BERT's or MPNet's)."""

    projections: tuple[nn.Linear, nn.Linear, nn.Linear]  # query, key, value
    attention_output: nn.Linear
    attention_norm: nn.LayerNorm
    intermediate: nn.Linear
    output: nn.Linear
    output_norm: nn.LayerNorm


def _dense_with_norm(inputs: int, hidden: int, eps: float) -> nn.ModuleDict:
    return nn.ModuleDict({"dense": nn.Linear(inputs, hidden), "LayerNorm": nn.LayerNorm(hidden, eps=eps)})


class BertLayer(nn.Module):
    """One post-norm transformer layer: self-attention, then the feed-forward block.

    ``mask`` is what :func:`~torch.nn.functional.scaled_dot_product_attention` takes: ``None``, a boolean mask
    (True: attend) or a float bias added to the scores (MPNet's relative positions, :mod:`.mpnet`), which the fused
    path takes in its own precision.

    :meth:`fuse` readies a faster path for prediction in one precision (bf16 on a CPU with native bf16): the
    query, key and value projections in one matrix product, every weight cast once rather than on each call, and
    the states between layers kept in that precision, so nothing is copied between products, and on the CPU each
    product one oneDNN call that also adds the residual or applies GELU. It reads the weights as they are when
    called, so it is for a model that no longer changes (a loaded folder); ``train()`` drops it.
    """

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__()
        self.build(settings)
        self.heads = settings["num_attention_heads"]
        self.activation_name = settings["hidden_act"]
        self.activation = ACTIVATIONS[self.activation_name]
        self.dropout = nn.Dropout(settings["hidden_dropout_prob"])
        self.attention_dropout = settings["attention_probs_dropout_prob"]
        self.fused_dtype: torch.dtype | None = None

    def build(self, settings: dict[str, Any]) -> None:
        """The layer's modules, under ``BertLayer``'s parameter names."""
        hidden, eps = settings["hidden_size"], settings["layer_norm_eps"]
        projections = {name: nn.Linear(hidden, hidden) for name in QKV}
        self.attention = nn.ModuleDict(
            {"self": nn.ModuleDict(projections), "output": _dense_with_norm(hidden, hidden, eps)}
        )
        self.intermediate = nn.ModuleDict({"dense": nn.Linear(hidden, settings["intermediate_size"])})
        self.output = _dense_with_norm(settings["intermediate_size"], hidden, eps)

    def parts(self) -> LayerParts:
        attention = self.attention
        return LayerParts(
            (attention["self"]["query"], attention["self"]["key"], attention["self"]["value"]),
            attention["output"]["dense"],
            attention["output"]["LayerNorm"],
            self.intermediate["dense"],
            self.output["dense"],
            self.output["LayerNorm"],
        )

    def forward(self, states: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if self.fused_dtype is not None:
            return self._fused_forward(states, mask)
        parts = self.parts()
        windows, tokens, hidden = states.shape
        query, key, value = (
            projection(states).view(windows, tokens, self.heads, hidden // self.heads).transpose(1, 2)
            for projection in parts.projections
        )
        dropout = self.attention_dropout if self.training else 0.0
        context = functional.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=dropout)
        context = context.transpose(1, 2).reshape(windows, tokens, hidden)
        states = parts.attention_norm(self.dropout(parts.attention_output(context)) + states)
        inner = self.activation(parts.intermediate(states))
        return parts.output_norm(self.dropout(parts.output(inner)) + states)

    def fuse(self, dtype: torch.dtype) -> None:
        """Readies the prediction path in ``dtype`` (see the class). The fused weights are buffers that the state
        dict leaves out, so a fused model saves and loads as before."""
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"fuse takes a floating-point torch dtype such as torch.bfloat16, got {dtype!r}")
        parts = self.parts()
        linears = {
            "qkv": parts.projections,
            "attention_output": (parts.attention_output,),
            "intermediate": (parts.intermediate,),
            "output": (parts.output,),
        }
        with torch.no_grad():
            for name, pieces in linears.items():
                for kind in ("weight", "bias"):
                    joined = torch.cat([getattr(piece, kind) for piece in pieces]).to(dtype)
                    self.register_buffer(f"fused_{name}_{kind}", joined, persistent=False)
        self.fused_dtype = dtype

    def unfuse(self) -> None:
        """Back to the plain path (training mode does this itself)."""
        for name in [name for name, _ in self.named_buffers(recurse=False) if name.startswith("fused_")]:
            delattr(self, name)
        self.fused_dtype = None

    def train(self, mode: bool = True) -> BertLayer:
        if mode:
            self.unfuse()
        return super().train(mode)

    def _fused_forward(self, states: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        parts = self.parts()
        windows, tokens, hidden = states.shape
        states = states.to(self.fused_dtype).reshape(windows * tokens, hidden)
        qkv = self._fused_linear("qkv", states).view(windows, tokens, 3, self.heads, hidden // self.heads)
        query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        context = functional.scaled_dot_product_attention(query, key, value, attn_mask=mask)
        context = context.transpose(1, 2).reshape(windows * tokens, hidden)
        states = _fused_norm(parts.attention_norm, self._fused_linear("attention_output", context, residual=states))
        inner = self._fused_linear("intermediate", states, activate=True)
        states = _fused_norm(parts.output_norm, self._fused_linear("output", inner, residual=states))
        return states.view(windows, tokens, hidden)

    def _fused_linear(
        self, name: str, inputs: torch.Tensor, residual: torch.Tensor | None = None, activate: bool = False
    ) -> torch.Tensor:
        """``inputs`` through the fused weights ``name``, then the residual added or the activation applied. On the
        CPU, where torch has oneDNN, every product is one call of oneDNN's linear, with the sum or GELU done on
        each tile of the product while it is in cache rather than in another pass over memory."""
        weight, bias = getattr(self, f"fused_{name}_weight"), getattr(self, f"fused_{name}_bias")
        onednn = ONEDNN_LINEAR if inputs.is_cpu else None
        if onednn is None:
            outputs = functional.linear(inputs, weight, bias)
            if residual is not None:
                return outputs + residual
            return self.activation(outputs) if activate else outputs
        if residual is not None:
            return onednn.binary(inputs, residual, weight, bias, "add")
        if activate and self.activation_name == "gelu":
            return onednn(inputs, weight, bias, "gelu", [], "none")  # erf's GELU, as functional.gelu
        # the plain product too: the same sums as functional.linear's, ~15% sooner at MiniLM's shapes in bf16
        outputs = onednn(inputs, weight, bias, "none", [], "")
        return self.activation(outputs) if activate else outputs


def _fused_norm(norm: nn.LayerNorm, states: torch.Tensor) -> torch.Tensor:
    """Layer norm of states in the fused precision, with its fp32 parameters, giving that precision back."""
    return functional.layer_norm(states, norm.normalized_shape, norm.weight, norm.bias, norm.eps)


class PlainEncoder(nn.Module):
    """What the plain-torch encoders share: a stack of :class:`BertLayer` at ``encoder.layer`` (as transformers
    names it in BERT and MPNet), fused and unfused together."""

    encoder: nn.ModuleDict
    settings: dict[str, Any]

    def fuse(self, dtype: torch.dtype = torch.bfloat16) -> PlainEncoder:
        """Readies every layer's fused prediction path in ``dtype`` (:meth:`BertLayer.fuse`); returns the encoder."""
        for layer in self.encoder["layer"]:
            layer.fuse(dtype)
        return self

    def unfuse(self) -> PlainEncoder:
        for layer in self.encoder["layer"]:
            layer.unfuse()
        return self


class BertEncoder(PlainEncoder):
    """A BERT encoder with ``BertModel``'s parameter names (the pooler is kept, unused, for the same reason).

    Args:
        config: the encoder's config: a mapping or an object with BERT's fields (``hidden_size``, ...);
            missing fields take ``BertConfig``'s defaults.
    """

    def __init__(self, config: Any) -> None:
        super().__init__()
        settings = _settings(config)
        if not supports(settings):
            raise ValueError(f"BertEncoder reproduces BERT encoders with absolute positions only, got {settings}")
        self.config = config
        self.settings = settings
        hidden = settings["hidden_size"]
        self.embeddings = nn.ModuleDict(
            {
                "word_embeddings": nn.Embedding(settings["vocab_size"], hidden, padding_idx=settings["pad_token_id"]),
                "position_embeddings": nn.Embedding(settings["max_position_embeddings"], hidden),
                "token_type_embeddings": nn.Embedding(settings["type_vocab_size"], hidden),
                "LayerNorm": nn.LayerNorm(hidden, eps=settings["layer_norm_eps"]),
            }
        )
        layers = nn.ModuleList(BertLayer(settings) for _ in range(settings["num_hidden_layers"]))
        self.encoder = nn.ModuleDict({"layer": layers})
        self.pooler = nn.ModuleDict({"dense": nn.Linear(hidden, hidden)})
        self.dropout = nn.Dropout(settings["hidden_dropout_prob"])

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> EncoderOutput:
        """Hidden states of ``(windows, tokens)`` ids (``attention_mask``: 1 for real tokens; ``token_type_ids``:
        segments)."""
        embeddings = self.embeddings
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        states = embeddings["word_embeddings"](input_ids) + embeddings["position_embeddings"](positions)
        if token_type_ids is None:
            states = states + embeddings["token_type_embeddings"].weight[0]
        else:
            states = states + embeddings["token_type_embeddings"](token_type_ids)
        states = self.dropout(embeddings["LayerNorm"](states))
        # a boolean mask (True: attend) broadcast over heads and queries; none where nothing is padding
        mask = None if attention_mask is None or bool(attention_mask.all()) else attention_mask[:, None, None, :].bool()
        for layer in self.encoder["layer"]:
            states = layer(states, mask)
        return EncoderOutput(states)
