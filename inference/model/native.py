"""The encoder families newsclf runs in plain torch (:mod:`.bert`, :mod:`.mpnet`), chosen by the config's
``model_type``; every other encoder stays with transformers' classes.

>>> supports({"model_type": "mpnet"}), supports({"model_type": "roberta"})
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import bert, mpnet
from .bert import PlainEncoder

FAMILIES: dict[str, tuple[Callable[[Any], bool], Callable[[Any], PlainEncoder]]] = {
    "bert": (bert.supports, bert.BertEncoder),
    "mpnet": (mpnet.supports, mpnet.MPNetEncoder),
}


def _model_type(config: Any) -> str:
    return str(config.get("model_type") if isinstance(config, Mapping) else getattr(config, "model_type", None))


def _family(config: Any) -> tuple[Callable[[Any], bool], Callable[[Any], PlainEncoder]] | None:
    return FAMILIES.get(_model_type(config))


def supports(config: Any) -> bool:
    """Whether a plain-torch encoder reproduces this encoder config (a mapping or transformers' config)."""
    family = _family(config)
    return family is not None and family[0](config)


def native_encoder(config: Any) -> PlainEncoder:
    """The plain-torch encoder for ``config``, with transformers' parameter names; ValueError where none
    reproduces it (:func:`supports`)."""
    family = _family(config)
    if family is None:
        raise ValueError(f"no plain-torch encoder for model_type {_model_type(config)!r}; expected {sorted(FAMILIES)}")
    return family[1](config)
