"""Run configuration: typed dataclasses loaded from YAML, with ``--set`` overrides.

    config = load_config("configs/default.yaml", ["training.epochs=1", "run.name=quick"])

Every field has a default, so a config file names only what differs. A field's schema is written once, in its
dataclass, with :func:`~training.config.fields.setting`: type, default, help and the range of a number.
``configs/default.yaml`` (every key, its default and help) is generated from it by ``make default-config``. A file
may start from another with ``extends: other.yaml`` (relative to itself). Strings may use environment variables:
``${NEWSCLF_DATA:-../shared/data}``. Unknown keys and wrong types are errors that name the key, suggest the closest
known key and say what was expected. Relative data paths are taken from the directory the command runs in.

The package, top down: ``loading`` (files and overrides to a config) → ``validation`` (every rule on the values,
run whenever a config is built) → ``schema`` (the sections and :class:`Config`) → ``training_section`` →
``fields`` (how a key is declared); ``default_yaml`` writes the commented defaults file from the schema.
"""

from training.config.default_yaml import default_yaml, write_default_yaml
from training.config.fields import ConfigError, rule_of, setting
from training.config.loading import config_from_dict, load_config, save_config, with_settings
from training.config.schema import (
    Config,
    DataConfig,
    EvaluationConfig,
    JoinConfig,
    ModelConfig,
    RunConfig,
    SplitConfig,
    TaskConfig,
)
from training.config.training_section import SUMMARY_METRICS, TrainingConfig
from training.config.validation import check_article_fields, validate_config

__all__ = [
    "SUMMARY_METRICS",
    "Config",
    "ConfigError",
    "DataConfig",
    "EvaluationConfig",
    "JoinConfig",
    "ModelConfig",
    "RunConfig",
    "SplitConfig",
    "TaskConfig",
    "TrainingConfig",
    "check_article_fields",
    "config_from_dict",
    "default_yaml",
    "load_config",
    "rule_of",
    "save_config",
    "setting",
    "validate_config",
    "with_settings",
    "write_default_yaml",
]
