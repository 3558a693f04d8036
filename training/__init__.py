"""newsclf training: configs, data, the multi-task Trainer, evaluation and data converters.

>>> from training import load_config
>>> from training.train import train
>>> config = load_config("configs/default.yaml", ["training.epochs=1"])  # doctest: +SKIP
>>> run_dir = train(config)  # doctest: +SKIP

``train`` and ``evaluate`` live in their modules (``training.train``, ``training.evaluate``), which
are also the command-line entry points, so the package does not import them itself.
"""

from .config import Config, ConfigError, load_config, save_config
from .data import DataError, load_splits

__all__ = ["Config", "ConfigError", "DataError", "load_config", "load_splits", "save_config"]
