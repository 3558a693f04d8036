"""newsclf training: configs, data, the multi-task Trainer, evaluation and data converters.

>>> from training import load_config, train
>>> config = load_config("configs/default.yaml", ["training.epochs=1"])  # doctest: +SKIP
>>> run_dir = train(config)  # doctest: +SKIP
"""

from .config import Config, ConfigError, load_config, save_config
from .data import DataError, load_splits
from .evaluate import evaluate
from .train import RunFolderError, train

__all__ = [
    "Config",
    "ConfigError",
    "DataError",
    "RunFolderError",
    "evaluate",
    "load_config",
    "load_splits",
    "save_config",
    "train",
]
