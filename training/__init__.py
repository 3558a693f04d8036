"""newsclf training: configs, data, the multi-task Trainer, evaluation and data converters.

>>> from training import fit
>>> model = fit(frame, tasks=["topic", "leaning"], settings={"training.epochs": 1})  # doctest: +SKIP
>>> model.predict("Senate passes the budget")["topic"]["label"]  # doctest: +SKIP

``fit`` (:mod:`training.api`) is the front door from Python. The commands (``training.train``,
``training.evaluate``, ``training.baseline``, ``training.search``) parse their arguments before importing anything
heavy; the work they start lives in :mod:`training.fitting` and :mod:`training.scoring`. Every name below is imported
on first use, so ``import training`` (and a command's ``--help``) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from training.api import TrainedModel, fit
    from training.config import Config, ConfigError, load_config, save_config
    from training.data import DataError, load_splits

_LAZY = {  # public name -> the module that defines it
    "Config": "config",
    "ConfigError": "config",
    "load_config": "config",
    "save_config": "config",
    "DataError": "data",
    "load_splits": "data",
    "fit": "api",
    "TrainedModel": "api",
}

__all__ = ["Config", "ConfigError", "DataError", "TrainedModel", "fit", "load_config", "load_splits", "save_config"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
