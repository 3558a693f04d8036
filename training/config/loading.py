"""From YAML files and ``--set`` overrides to a checked :class:`~training.config.schema.Config`, and back."""

from __future__ import annotations

import copy
import dataclasses
import difflib
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml

from inference.atomic import atomic_writer
from training.config.fields import ConfigError
from training.config.schema import Config
from training.config.validation import validate_config

_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: str) -> str:
    """Replaces ``${VAR}`` and ``${VAR:-default}``; an unset variable without default is an error."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = os.environ.get(name)
        if value or (value is not None and default is None):
            return value
        if default is None:
            raise ConfigError(f"environment variable {name} is not set (used as ${{{name}}})")
        return default

    return _ENV.sub(replace, value)


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return " or ".join(repr(v) for v in typing.get_args(tp))
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in typing.get_args(tp))
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp)).replace("NoneType", "null")


def _convert(value: Any, tp: Any, where: str) -> Any:
    """Checks ``value`` against the annotation ``tp`` and builds nested dataclasses."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(value, arg, where)
            except ConfigError as error:
                errors.append(error)
        raise errors[-1] if len(errors) == 1 else ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    if origin is Literal:
        normalised = str(value).lower() if isinstance(value, bool) else value
        if normalised not in args:
            raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
        return normalised
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _build(tp, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_convert(item, args[0], f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return {_convert(k, args[0], where): _convert(v, args[1], f"{where}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        return float(value)  # YAML reads 5e-5 (no dot) as a string
    if tp is str and isinstance(value, str):
        return expand_env(value)
    if tp is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r} ({type(value).__name__})")
    return value


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping of {cls.__name__} fields, got {data!r}")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls) if f.init]
    kwargs = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
            raise ConfigError(f"unknown key {path!r}{hint}")
        kwargs[key] = _convert(value, hints[key], path)
    return cls(**kwargs)


DEFAULTS_FILE = "default.yaml"  # `extends: default.yaml` means the schema's defaults wherever the config lives


def _read_yaml(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    if path.resolve() in seen:
        raise ConfigError(f"{path}: 'extends' loops back to itself")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: invalid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    base = path.parent / str(parent)
    if base.is_file():
        return _merge(_read_yaml(base, (*seen, path.resolve())), data)
    if str(parent) == DEFAULTS_FILE:
        return data  # the schema's own defaults, which configs/default.yaml lists, from any folder
    raise ConfigError(
        f"{path}: extends {parent!r}, but there is no {base} (looked beside the config; only "
        f"{DEFAULTS_FILE!r} is found anywhere, as the package's defaults)"
    )


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_override(data: dict[str, Any], override: str) -> None:
    """Applies one ``dotted.key=value`` override in place (the value read as YAML; see :func:`set_key`)."""
    if "=" not in override:
        raise ConfigError(f"override {override!r}: expected key=value, e.g. training.epochs=1")
    key, raw = override.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    set_key(data, key, value)


def set_key(data: dict[str, Any], key: str, value: Any) -> None:
    """Sets the dotted ``key`` of a config mapping to ``value`` in place; list items are indexed by number, and
    the index one past the end appends (``tasks.3={name: outlet, label_column: source, kind: adversarial}``)."""
    parts = key.strip().split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            appends = last and part == str(len(node))  # one past the end adds an item, e.g. a task
            if not part.isdigit() or (int(part) >= len(node) and not appends):
                raise ConfigError(f"override {key!r}: {part!r} is not an index of a list of {len(node)}")
            if appends:
                node.append(value)
            elif last:
                node[int(part)] = value
            else:
                node = node[int(part)]
            continue
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, {})
            if not isinstance(node, (dict, list)):
                raise ConfigError(f"override {key!r}: {'.'.join(parts[: depth + 1])} is not a section")


def with_settings(config: Config, settings: Mapping[str, Any], base: Path | None = None) -> Config:
    """A new config: ``config`` with each ``dotted.key: value`` of ``settings`` set (values as Python objects),
    checked as ``--set`` overrides are; ``label_map_file`` paths are read from ``base`` (default: the current
    folder). ``config`` itself is left as it is."""
    data = config.to_dict()
    for key, value in settings.items():
        if not isinstance(key, str):
            raise ConfigError(f"setting {key!r}: keys are dotted strings, e.g. 'training.epochs'")
        set_key(data, key, copy.deepcopy(value))
    updated = config_from_dict(data)
    _inline_label_maps(updated, base or Path.cwd())
    return updated


def config_from_dict(data: dict[str, Any]) -> Config:
    """Builds a :class:`Config` from a plain mapping, checking every key, type and value
    (:func:`training.config.validation.validate_config`)."""
    tasks = data.get("tasks")
    if tasks is not None and not isinstance(tasks, list):
        raise ConfigError(f"tasks: expected a list of tasks, got {tasks!r}")
    config = _build(Config, data, "")
    validate_config(config)
    return config


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Reads a YAML config (or the defaults), applies ``key=value`` overrides, and validates it."""
    data: dict[str, Any] = _read_yaml(Path(path)) if path else {}
    data.setdefault("tasks", [dataclasses.asdict(task) for task in Config().tasks])
    for override in overrides or []:
        apply_override(data, override)
    data["source"] = str(path) if path else None
    try:
        config = config_from_dict(data)
        _inline_label_maps(config, Path(path).parent if path else Path.cwd())
    except ConfigError as error:
        if not path:
            raise
        raise ConfigError(f"{path}{' (with --set overrides)' if overrides else ''}: {error}") from None
    return config


def _inline_label_maps(config: Config, base: Path) -> None:
    """Reads each ``label_map_file`` into ``label_map`` (entries written in the config win), so the
    config saved with a model needs no other file."""
    for index, task in enumerate(config.tasks):
        if not task.label_map_file:
            continue
        file = Path(task.label_map_file)
        file = file if file.is_absolute() or not (base / file).is_file() else base / file
        where = f"tasks[{index}].label_map_file"
        if not file.is_file():
            raise ConfigError(
                f"{where}: no such file {task.label_map_file!r} (looked in {base} and the current folder)"
            )
        try:
            mapping = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ConfigError(f"{where}: {file} is not valid YAML: {error}") from None
        if not isinstance(mapping, dict) or not all(isinstance(v, (str, int)) for v in mapping.values()):
            raise ConfigError(f"{where}: {file} must map each raw label to a label, e.g. `us_house: congress`")
        task.label_map = {str(k): str(v) for k, v in mapping.items()} | (task.label_map or {})
        task.label_map_file = None


def save_config(config: Config, path: str | Path) -> None:
    """Writes the config as YAML (it loads back with :func:`load_config`)."""
    text = yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
    with atomic_writer(path) as out:
        out.write(text)
