"""newsclf training: configs, data, the multi-task Trainer, evaluation and data converters.

>>> from training import fit
>>> model = fit(frame, tasks=["topic", "leaning"], settings={"training.epochs": 1})  # doctest: +SKIP
>>> model.predict("Senate passes the budget")["topic"]["label"]  # doctest: +SKIP

``fit`` (:mod:`training.api`) is the front door from Python. ``train`` and ``evaluate`` live in their modules
(``training.train``, ``training.evaluate``), which are also the command-line entry points, so the package does
not import them itself; ``fit`` and ``TrainedModel`` are imported on first use for the same reason.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import Config, ConfigError, load_config, save_config
from .data import DataError, load_splits

if TYPE_CHECKING:
    from .api import TrainedModel, fit

_LAZY = {"fit": "api", "TrainedModel": "api"}  # public name -> the module that defines it

__all__ = ["Config", "ConfigError", "DataError", "TrainedModel", "fit", "load_config", "load_splits", "save_config"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
