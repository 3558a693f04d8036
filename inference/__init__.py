"""newsclf inference: load a saved model folder and classify news articles.

>>> from inference import Predictor, predict
>>> predict("Congress passes the budget", model="runs/default/model")  # doctest: +SKIP

The names below are imported on first use (PEP 562), so ``import inference`` costs milliseconds and a
script pays for torch and transformers only when it asks for something that needs them.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

# public name -> the module of this package that defines it
_EXPORTS = {
    "Explanation": "explain",
    "SentenceEffect": "explain",
    "explain": "explain",
    "split_sentences": "explain",
    "TaskCalibration": "calibration",
    "fused_probabilities": "calibration",
    "ModelFolderError": "loading",
    "check_model_folder": "loading",
    "load_model_folder": "loading",
    "NewsClassifier": "modeling",
    "NewsClassifierConfig": "modeling",
    "NewsClassifierOutput": "modeling",
    "Predictor": "predictor",
    "predict": "predictor",
    "TfidfPredictor": "sparse",
    "WindowConfig": "windowing",
    "article_text": "windowing",
    "collate_windows": "windowing",
    "encode_articles": "windowing",
    "split_tokens": "windowing",
}

__all__ = [
    "Explanation",
    "ModelFolderError",
    "NewsClassifier",
    "NewsClassifierConfig",
    "NewsClassifierOutput",
    "Predictor",
    "SentenceEffect",
    "TaskCalibration",
    "TfidfPredictor",
    "WindowConfig",
    "article_text",
    "check_model_folder",
    "collate_windows",
    "encode_articles",
    "explain",
    "fused_probabilities",
    "load_model_folder",
    "predict",
    "split_sentences",
    "split_tokens",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return list(__all__)


class _Package(types.ModuleType):
    """Keeps ``inference.explain`` the function: loading the submodule of the same name would otherwise
    rebind the package's attribute to the module (the import system sets it on the parent)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if not (isinstance(value, types.ModuleType) and _EXPORTS.get(name) == name):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


if TYPE_CHECKING:
    from .calibration import TaskCalibration, fused_probabilities
    from .explain import Explanation, SentenceEffect, explain, split_sentences
    from .loading import ModelFolderError, check_model_folder, load_model_folder
    from .modeling import NewsClassifier, NewsClassifierConfig, NewsClassifierOutput
    from .predictor import Predictor, predict
    from .sparse import TfidfPredictor
    from .windowing import WindowConfig, article_text, collate_windows, encode_articles, split_tokens
