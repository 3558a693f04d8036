"""How a config field is declared: its default, its help (shown in configs/default.yaml) and its range."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import field
from typing import Any

from inference.model.ranges import Rule
from inference.model.windowing import WINDOW_RULES, WindowConfig


class ConfigError(ValueError):
    """A config file or override is invalid."""


def setting(default: Any, help: str, rule: Rule | None = None, *, written: bool = True) -> Any:
    """A config field with its schema: the default, the help that ``configs/default.yaml`` shows beside it, and
    for a number the :class:`Rule` its range is checked by (:func:`training.config.validation.check_ranges`). A list, a
    mapping or a section is copied for every config. ``written=False``: set when loading, never in a file."""
    metadata = {"help": " ".join(help.split()), "rule": rule, "written": written}
    if isinstance(default, (list, dict)) or dataclasses.is_dataclass(default):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=metadata)
    return field(default=default, metadata=metadata)


_WINDOW_DEFAULTS = {item.name: item.default for item in dataclasses.fields(WindowConfig)}


def window_setting(name: str, help: str) -> Any:
    """A window key: its default and range are :class:`~inference.model.windowing.WindowConfig`'s, which checks the
    windowing of every model folder."""
    return setting(_WINDOW_DEFAULTS[name], help, WINDOW_RULES.get(name))


def rule_of(section: type, name: str) -> Rule | None:
    """The range rule of field ``name`` of the config section ``section`` (None: not a number)."""
    return next((item.metadata.get("rule") for item in dataclasses.fields(section) if item.name == name), None)
