"""configs/default.yaml, generated from the settings of the config's dataclasses."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path
from typing import Any

import yaml

from inference.atomic import atomic_writer
from training.config.schema import Config

DEFAULT_YAML_HEADER = """newsclf run configuration: every key, its default and what it does.
Generated from the settings of training/config/ by `make default-config`: change a key there, not here.
Train it:      make train                      (or: python -m training.train --config configs/default.yaml)
Override keys: python -m training.train --config configs/default.yaml --set training.epochs=1 run.name=quick
Other configs may start from this one with `extends: default.yaml` and list only what differs.
Strings may use environment variables: ${NEWSCLF_DATA:-../shared/data}. Relative paths are taken
from the directory the command runs in (the project root for the make targets)."""

_COMMENT_COLUMN = 27  # where the help comments of configs/default.yaml start, unless a line is longer
_LINE_WIDTH = 120


def default_yaml() -> str:
    """The text of ``configs/default.yaml``: every key of :class:`Config` with its default and its help as a
    comment, in the order of the dataclasses, each section under its docstring."""
    lines = [f"# {line}".rstrip() for line in DEFAULT_YAML_HEADER.splitlines()]
    return "\n".join([*lines, *_section_lines(Config(), 0)]) + "\n"


def write_default_yaml(path: str | Path = "configs/default.yaml") -> None:
    """Writes :func:`default_yaml` to ``path``."""
    with atomic_writer(path) as out:
        out.write(default_yaml())


def _section_lines(section: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in dataclasses.fields(section):
        if not item.metadata.get("written", True):
            continue
        value = getattr(section, item.name)
        if indent == 0:
            lines.append("")
        if dataclasses.is_dataclass(value):
            lines += [*_doc_comment(type(value), pad), f"{pad}{item.name}:", *_section_lines(value, indent + 2)]
        elif isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
            lines += [*_doc_comment(type(value[0]), pad), *_commented(f"{pad}{item.name}:", item.metadata["help"])]
            for index, part in enumerate(value):  # later items repeat the keys of the first without their help
                lines += _item_lines(part, indent + 2, with_help=index == 0)
        else:
            lines += _commented(f"{pad}{item.name}: {_flow(value)}", item.metadata["help"])
    return lines


def _item_lines(item: Any, indent: int, with_help: bool) -> list[str]:
    lines = []
    for number, part in enumerate(dataclasses.fields(item)):
        text = f"{' ' * indent}{'- ' if number == 0 else '  '}{part.name}: {_flow(getattr(item, part.name))}"
        lines += _commented(text, part.metadata["help"]) if with_help else [text]
    return lines


def _doc_comment(cls: type, pad: str) -> list[str]:
    """The section's docstring as comment lines, each paragraph wrapped."""
    paragraphs = [" ".join(part.split()) for part in (cls.__doc__ or "").split("\n\n") if part.strip()]
    width = _LINE_WIDTH - len(pad) - 2
    return [f"{pad}# {line}" for text in paragraphs for line in textwrap.wrap(text, width)]


def _commented(text: str, help: str) -> list[str]:
    """``text`` with ``help`` as a comment beside it, wrapped onto comment lines in the same column."""
    column = max(_COMMENT_COLUMN, len(text) + 2)
    parts = textwrap.wrap(help, _LINE_WIDTH - column - 2, break_long_words=False, break_on_hyphens=False)
    if not parts:
        return [text]
    return [f"{text.ljust(column)}# {parts[0]}", *(f"{' ' * column}# {part}" for part in parts[1:])]


def _flow(value: Any) -> str:
    """A value as YAML on one line: ``null``, ``[title, content]``, ``{}``, ``0.0001``."""
    lines = yaml.safe_dump(value, default_flow_style=True, width=1_000_000, allow_unicode=True).splitlines()
    return " ".join(line for line in lines if line != "...")
