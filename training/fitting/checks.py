"""Settings checked before any work: everything a config could get wrong that would otherwise fail
minutes later (or never, and train something useless).

    check_config(load_config("configs/default.yaml", ["training.learning_rate=-1"]))
    # ConfigError: configs/default.yaml: training.learning_rate: expected a positive number, got -1.0

The range of every number a config holds is part of its field's schema (``setting(..., rule)`` in
:mod:`training.config`); the other checks read several keys together (the windowing, the tasks of each
dataset, the metric, the encoder's length).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import transformers

from inference.model.folder_layout import CONFIG_FILE
from inference.model.loading import exceeded_limit, explain_positions
from inference.model.windowing import WindowConfig
from training.config import Config, ConfigError, rule_of
from training.data import check_article_fields
from training.heads.distillation import check_teacher
from training.model.encoders import resolve_encoder
from training.runs.tracking import trackers
from training.scoring.metrics import SUMMARY


def config_fields(node: Any, where: str = "") -> Iterator[tuple[str, Any, type, str]]:
    """``(key, value, section type, field name)`` for every setting of ``node`` and its nested sections,
    keys spelt as in error messages (``tasks[0].weight``, ``datasets.fnc1.split.test_size``)."""
    for item in dataclasses.fields(node):
        value = getattr(node, item.name)
        key = f"{where}.{item.name}" if where else item.name
        if dataclasses.is_dataclass(value):
            yield from config_fields(value, key)
        elif isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
            for index, part in enumerate(value):
                yield from config_fields(part, f"{key}[{index}]")
        elif isinstance(value, dict) and value and dataclasses.is_dataclass(next(iter(value.values()))):
            for name, part in value.items():
                yield from config_fields(part, f"{key}.{name}")
        else:
            yield key, value, type(node), item.name


def check_ranges(config: Config) -> None:
    """Checks every number of the config against the range rule of its field (:func:`training.config.rule_of`).

    Raises:
        ConfigError: ``training.learning_rate: expected a positive number, got -1.0``.
    """
    for key, value, section, name in config_fields(config):
        rule = rule_of(section, name)
        if rule is None or value is None:
            continue
        if not rule.accepts(value):
            raise ConfigError(f"{key}: expected {rule.expected}, got {value!r}")
    for key, data in [("data", config.data), *((f"datasets.{n}", d) for n, d in config.datasets.items())]:
        sizes = data.split.validation_size + data.split.test_size
        if data.split.column is None and not data.validation_file and sizes >= 1:
            raise ConfigError(
                f"{key}.split: validation_size + test_size must be below 1 to leave rows for training, "
                f"got {data.split.validation_size} + {data.split.test_size}"
            )


def window_config(config: Config) -> WindowConfig:
    """The model's windowing, checked, with errors that name the config keys."""
    model = config.model
    try:
        return WindowConfig(
            strategy=model.window,
            max_length=model.max_length,
            stride=model.stride,
            max_windows=model.max_windows,
            head_fraction=model.head_fraction,
            max_target_tokens=model.max_target_tokens,
        )
    except ValueError as error:
        raise ConfigError(
            f"model: {error} (keys model.window, max_length, stride, max_windows, head_fraction, max_target_tokens)"
        ) from None


def check_tasks(config: Config) -> None:
    """Each dataset's tasks read one kind of input; the metric that picks the best epoch is reported."""
    for name, part in config.parts().items():
        where = "tasks" if name == "data" else f"tasks of dataset {name!r}"
        if all(task.kind == "adversarial" for task in part.tasks):
            raise ConfigError(f"{where}: adversarial tasks only shape what the others learn; add a task to predict")
        if len({task.kind for task in part.tasks} - {"adversarial"}) > 1:
            raise ConfigError(
                f"{where}: single and pair tasks read different inputs, so they need different rows; "
                "put the pair tasks' data in its own `datasets` entry"
            )
        pair_targets = {task.target_column for task in part.tasks if task.kind == "pair"}
        if None in pair_targets or len(pair_targets) > 1:
            raise ConfigError(
                f"{where}: every pair task needs the same target_column (the column holding the target), "
                f"got {pair_targets}"
            )
    check_training_windows(config)
    if config.training.fuse_tfidf and config.datasets:
        raise ConfigError(
            f"training.fuse_tfidf: the TF-IDF model is fitted on one dataset, but tasks come from datasets "
            f"{sorted(config.datasets)} too; train each dataset's model with its own config to fuse one"
        )
    names = ["loss", *SUMMARY, *(f"{task.name}_{metric}" for task in config.tasks for metric in SUMMARY)]
    if config.training.metric not in names:
        raise ConfigError(f"training.metric {config.training.metric!r} is not reported; choose one of {names}")


def check_training_windows(config: Config) -> None:
    """``model.train_windows`` draws from the windows of ``chunks``, at most ``max_windows`` of them."""
    model = config.model
    if not model.train_windows:
        return
    if model.window != "chunks":
        raise ConfigError(
            f"model.train_windows: draws windows of model.window=chunks, but the window is {model.window!r} "
            "(one window per article); set model.window=chunks or model.train_windows=0"
        )
    if model.train_windows > model.max_windows:
        raise ConfigError(
            f"model.train_windows: expected at most model.max_windows ({model.max_windows}), got {model.train_windows}"
        )


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


def check_encoder_length(config: Config) -> None:
    """``model.max_length`` fits the encoder's position embeddings (longer windows crash the encoder)."""
    encoder = encoder_fields(config.model.name)
    limit = exceeded_limit(encoder, config.model.max_length) if isinstance(encoder, dict) else None
    if limit is not None:
        raise ConfigError(
            f"model.max_length: expected at most {limit}, the positions encoder {config.model.name!r} reads "
            f"({explain_positions(encoder)}), got {config.model.max_length}"
        )


def check_refit(config: Config) -> None:
    mode = config.training.mode
    if config.training.refit_heads and mode in ("probe", "zero-shot"):
        raise ConfigError(
            f"training.refit_heads: a {mode} run makes its heads once on the pretrained encoder; refitting needs a "
            f"fine-tuned one (training.mode: finetune or probe+finetune); for {mode}, set training.refit_heads: false"
        )


def check_zero_shot(config: Config) -> None:
    """``training.mode: zero-shot`` makes single-text heads from label descriptions, with nothing to train on;
    every other mode needs training rows."""
    for task in config.tasks:
        for template in task.templates:
            if template.count("{}") != 1:
                raise ConfigError(
                    f"tasks.{task.name}.templates: each template needs one {{}} where the description goes, "
                    f"got {template!r}"
                )
    if config.training.mode != "zero-shot":
        if config.data.train_file is None:
            raise ConfigError(f"data.train_file: training.mode {config.training.mode} needs training rows")
        return
    refused = {
        "training.fuse_tfidf": config.training.fuse_tfidf,
        "training.teacher": config.training.teacher,
        "datasets": config.datasets,
        "model.normalize_articles: false": config.model.normalize_articles is False,
    }
    for key, used in refused.items():
        if used:
            raise ConfigError(f"{key}: not with training.mode zero-shot, whose heads come from descriptions alone")
    for task in config.tasks:
        if task.kind != "single":
            raise ConfigError(
                f"tasks.{task.name}: a zero-shot head compares one text with its labels' descriptions; a "
                f"{task.kind} task has none to compare (kind single only)"
            )
        labels = list(task.label_descriptions())
        unknown = sorted(set(task.descriptions or {}) - set(labels))
        if unknown:
            raise ConfigError(f"tasks.{task.name}.descriptions: {unknown} are not in tasks.{task.name}.labels {labels}")
        if len(labels) < 2:
            raise ConfigError(
                f"tasks.{task.name}: a zero-shot head needs two or more labels, from `labels` or `descriptions`; "
                f"got {labels}"
            )


def check_choose_on(config: Config) -> None:
    if config.training.choose_on != "groups":
        return
    if config.training.mode != "probe":
        raise ConfigError(
            f"training.choose_on: groups needs training.mode: probe (got {config.training.mode}): only a frozen "
            "encoder gives a held-out article the vector it would have had; choose on validation otherwise"
        )
    if not config.data.group_column:
        raise ConfigError("training.choose_on: groups needs data.group_column (e.g. source, the outlet)")


def check_tfidf_share(config: Config) -> None:
    if config.training.tfidf_share is not None and not config.training.fuse_tfidf:
        raise ConfigError(
            "training.tfidf_share: set, but training.fuse_tfidf is false, so there is no TF-IDF model to share "
            "with; set training.fuse_tfidf: true or leave tfidf_share null"
        )


def check_config(config: Config) -> None:
    """Refuses settings that would fail later, before any work is done (nothing is loaded but the
    encoder's config.json).

    Raises:
        ConfigError: naming the config file and the key.
        ValueError: ``model.name`` names no usable encoder.
    """
    try:
        check_ranges(config)
        window_config(config)
        check_tasks(config)
        check_article_fields(config)
        trackers(config.training.report_to)
        check_encoder_length(config)
        check_refit(config)
        check_zero_shot(config)
        check_choose_on(config)
        check_tfidf_share(config)
        check_teacher(config)
    except ConfigError as error:
        if not config.source:
            raise
        raise ConfigError(f"{config.source}: {error}") from None
