"""Every rule a config's values must meet, in one place.

:func:`validate_config` runs whenever a config is built (a file, ``--set`` overrides, ``fit(settings=...)``: see
:func:`training.config.loading.config_from_dict`), so a bad value fails before anything is read:

    load_config("configs/default.yaml", ["training.learning_rate=-1"])
    # ConfigError: configs/default.yaml (with --set overrides): training.learning_rate: expected a positive number,
    # got -1.0

Types and unknown keys are checked while the file is read (:mod:`training.config.loading`); the range of every
number is part of its field (``setting(..., rule)``), the windowing's rules are
:class:`~inference.model.windowing.WindowConfig`'s own; the rules here read several keys together.
:func:`check_article_fields` is the one rule only a config to train must meet (configs saved with older models
name other text fields, and still load to predict and score). What a config names outside itself (the encoder,
the teacher, a tracker) is checked before a run by :mod:`training.fitting.checks`.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterator
from typing import Any

from inference.model.windowing import ARTICLE_FIELDS, TARGET_FIELD
from training.config.fields import ConfigError, rule_of
from training.config.schema import Config, DataConfig, TaskConfig
from training.config.training_section import SUMMARY_METRICS


def validate_config(config: Config) -> None:
    """Refuses a config whose values break a rule, naming the key and what was expected.

    Raises:
        ConfigError: ``training.learning_rate: expected a positive number, got -1.0``.
        TypeError: ``config`` is not a :class:`Config` (``load_config`` or ``config_from_dict`` makes one).
    """
    if not isinstance(config, Config):
        raise TypeError(
            f"validate_config takes a Config (load_config or config_from_dict makes one), got {type(config).__name__}"
        )
    _check_task_names(config)
    check_ranges(config)
    config.model.windowing  # noqa: B018 (WindowConfig checks the six window keys together)
    _check_kinds(config)
    _check_training_windows(config)
    _check_fusion(config)
    _check_metric(config)
    _check_refit(config)
    _check_zero_shot(config)
    _check_choose_on(config)
    _check_teacher_articles(config)


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
    """Checks every number of the config against the range rule of its field (:func:`training.config.rule_of`)."""
    for key, value, section, name in config_fields(config):
        rule = rule_of(section, name)
        if rule is not None and value is not None and not rule.accepts(value):
            raise ConfigError(f"{key}: expected {rule.expected}, got {value!r}")
    for key, data in [("data", config.data), *((f"datasets.{n}", d) for n, d in config.datasets.items())]:
        sizes = data.split.validation_size + data.split.test_size
        if data.split.column is None and not data.validation_file and sizes >= 1:
            raise ConfigError(
                f"{key}.split: validation_size + test_size must be below 1 to leave rows for training, "
                f"got {data.split.validation_size} + {data.split.test_size}"
            )


def check_article_fields(config: Config) -> None:
    """Refuses, in every dataset of ``config``, text fields other than the article fields every model reads
    (``title``, ``content``), and ``columns`` for no text field. (Reading data accepts any column name as a
    text field, as the configs saved with older models have them; a model to train needs the one format.)"""
    for name, part in config.parts().items():
        _check_fields(part.data, "data" if name == "data" else f"datasets.{name}")


def _check_fields(data: DataConfig, where: str) -> None:
    for name in data.text_fields:
        if name not in ARTICLE_FIELDS:
            raise ConfigError(
                f"{where}.text_fields: {name!r} is not an article field; models read {' and '.join(ARTICLE_FIELDS)} "
                f"(and {TARGET_FIELD}, for pair tasks): list the field the column holds and name the column in "
                f"{where}.columns, e.g. text_fields: [content] and columns: {{content: {name}}}"
            )
    for name in data.columns:
        if name == TARGET_FIELD:
            raise ConfigError(f"{where}.columns.{name}: a pair task's target column is tasks.N.target_column")
        if name not in data.text_fields:
            raise ConfigError(f"{where}.columns.{name}: not one of {where}.text_fields {data.text_fields}")


def _check_task_names(config: Config) -> None:
    names = [task.name for task in config.tasks]
    if not names:
        raise ConfigError("tasks: at least one task is needed")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"tasks: task names must be unique, repeated: {duplicates}")
    for index, task in enumerate(config.tasks):
        if task.dataset is not None and task.dataset not in config.datasets:
            close = difflib.get_close_matches(task.dataset, list(config.datasets), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; datasets: {sorted(config.datasets)}"
            raise ConfigError(f"tasks[{index}].dataset: no dataset {task.dataset!r}{hint}")
    unused = sorted(set(config.datasets) - {task.dataset for task in config.tasks})
    if unused:
        raise ConfigError(f"datasets: {unused} hold no task (name them in tasks.N.dataset)")


def _check_kinds(config: Config) -> None:
    """Each dataset's tasks read one kind of input."""
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


def _check_training_windows(config: Config) -> None:
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


def _check_fusion(config: Config) -> None:
    if config.training.fuse_tfidf and config.datasets:
        raise ConfigError(
            f"training.fuse_tfidf: the TF-IDF model is fitted on one dataset, but tasks come from datasets "
            f"{sorted(config.datasets)} too; train each dataset's model with its own config to fuse one"
        )
    if config.training.tfidf_share is not None and not config.training.fuse_tfidf:
        raise ConfigError(
            "training.tfidf_share: set, but training.fuse_tfidf is false, so there is no TF-IDF model to share "
            "with; set training.fuse_tfidf: true or leave tfidf_share null"
        )


def _check_metric(config: Config) -> None:
    """The metric that picks the best epoch is one that is reported."""
    names = [
        "loss",
        *SUMMARY_METRICS,
        *(f"{task.name}_{metric}" for task in config.tasks for metric in SUMMARY_METRICS),
    ]
    if config.training.metric not in names:
        raise ConfigError(f"training.metric {config.training.metric!r} is not reported; choose one of {names}")


def _check_refit(config: Config) -> None:
    mode = config.training.mode
    if config.training.refit_heads and mode in ("probe", "zero-shot"):
        raise ConfigError(
            f"training.refit_heads: a {mode} run makes its heads once on the pretrained encoder; refitting needs a "
            f"fine-tuned one (training.mode: finetune or probe+finetune); for {mode}, set training.refit_heads: false"
        )


def _check_zero_shot(config: Config) -> None:
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
        _check_zero_shot_task(task)


def _check_zero_shot_task(task: TaskConfig) -> None:
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


def _check_choose_on(config: Config) -> None:
    if config.training.choose_on != "groups":
        return
    if config.training.mode != "probe":
        raise ConfigError(
            f"training.choose_on: groups needs training.mode: probe (got {config.training.mode}): only a frozen "
            "encoder gives a held-out article the vector it would have had; choose on validation otherwise"
        )
    if not config.data.group_column:
        raise ConfigError("training.choose_on: groups needs data.group_column (e.g. source, the outlet)")


def _check_teacher_articles(config: Config) -> None:
    if not config.training.teacher_articles:
        return
    if not config.training.teacher:
        raise ConfigError(
            "training.teacher_articles: needs training.teacher, whose probabilities are these articles' only targets"
        )
    if config.datasets:
        raise ConfigError(
            "training.teacher_articles: only with one dataset (no datasets:), whose text fields the files are read with"
        )
