"""newsclf inference: load a saved model folder and classify news articles.

>>> from inference import Predictor, predict
>>> predict("Congress passes the budget", model="runs/default/model")  # doctest: +SKIP

The names below are imported on first use (PEP 562), so ``import inference`` costs milliseconds and a
script pays for torch and transformers only when it asks for something that needs them. The package's
layout is described in docs/layout.md.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> the module of this package that defines it
_EXPORTS = {
    "NewsClassifier": "model.classifier",
    "ModelFolderError": "model.loading",
    "check_model_folder": "model.loading",
    "load_model_folder": "model.loading",
    "WindowConfig": "model.windowing",
    "PredictOptions": "options",
    "Explanation": "prediction.explain",
    "SentenceEffect": "prediction.explain",
    "explain": "prediction.explain",
    "Predictor": "prediction.predictor",
    "predict": "prediction.predictor",
    "TfidfPredictor": "prediction.tfidf",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return list(__all__)
