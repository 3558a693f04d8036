"""Reading the AllSides release: its article files, their leaning labels and its split folders; each problem a
:class:`ConversionError` naming the file."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

BIAS_LABELS: tuple[str, ...] = ("left", "center", "right")
"""Leaning labels in the order of the numeric encoding (0, 1, 2)."""

SPLIT_NAMES: tuple[str, ...] = ("train", "valid", "test")
"""Split files read from each split folder, in this order."""

EXPECTED_SPLIT_FOLDERS: tuple[str, ...] = ("random", "media")
"""Split folders of the original release: always a column, empty when absent."""

KEPT_FIELDS: tuple[str, ...] = ("title", "topic", "source", "date", "url")
"""Fields copied as they are (``None`` becomes ``""``); required in every article."""

MAX_LISTED_IDS = 5


class ConversionError(ValueError):
    """Raised when the source cannot be converted; the message says what and where."""


class SourceNotFoundError(ConversionError, FileNotFoundError):
    """Raised when a required source folder is missing (a ``ConversionError`` too)."""


def _warn(message: str) -> None:
    """Print a message to stderr without breaking an active tqdm bar.

    Args:
        message: Text to print.
    """
    tqdm.write(message, file=sys.stderr)


def find_jsons_dir(source: Path) -> Path:
    """Locate the folder of per-article JSON files.

    Args:
        source: The repository root (holding ``data/jsons``) or its ``data`` folder.

    Returns:
        The ``jsons`` folder.

    Raises:
        SourceNotFoundError: If neither ``source/data/jsons`` nor ``source/jsons``
            is a folder.
    """
    if not source.exists():
        raise SourceNotFoundError(f"source folder {source} does not exist")
    for candidate in (source / "data" / "jsons", source / "jsons"):
        if candidate.is_dir():
            return candidate
    raise SourceNotFoundError(
        f"no data/jsons folder under {source}: point --source at the root of the Article-Bias-Prediction repository"
    )


def _normalise_bias(data: dict[str, Any], path: Path) -> str:
    """Return the leaning label of one article.

    ``bias_text`` wins; the numeric ``bias`` (0/1/2, int or digit string) is used when
    ``bias_text`` is missing or null.

    Args:
        data: The parsed article.
        path: The article's file, for error messages.

    Returns:
        ``"left"``, ``"center"`` or ``"right"``.

    Raises:
        ConversionError: If neither field is present or the value is not a known label.
    """
    text = data.get("bias_text")
    if text is not None:
        label = text.strip().lower() if isinstance(text, str) else None
        if label not in BIAS_LABELS:
            raise ConversionError(f"{path}: bias_text is {text!r}; expected one of {', '.join(BIAS_LABELS)}")
        return label
    if "bias" not in data or data["bias"] is None:
        raise ConversionError(f"{path}: missing required field 'bias_text' (and no 'bias')")
    return _bias_from_number(data["bias"], f"{path}: bias")


def _bias_from_number(value: object, where: str) -> str:
    """Map a numeric bias (0/1/2) to its label.

    Args:
        value: An int or a digit string.
        where: Prefix for the error message (file and field).

    Returns:
        The label.

    Raises:
        ConversionError: If the value is not 0, 1 or 2.
    """
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not 0 <= number < len(BIAS_LABELS):
        raise ConversionError(f"{where} is {value!r}; expected 0, 1 or 2 (or bias_text left/center/right)")
    return BIAS_LABELS[number]


def _string_field(data: dict[str, Any], field: str, path: Path) -> str:
    """Return a required text field, with ``None`` read as ``""``.

    Args:
        data: The parsed article.
        field: Field name.
        path: The article's file, for error messages.

    Returns:
        The field's text.

    Raises:
        ConversionError: If the field is missing or is not a string.
    """
    if field not in data:
        raise ConversionError(f"{path}: missing required field {field!r}")
    value = data[field]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConversionError(f"{path}: field {field!r} should be a string, got {type(value).__name__}")
    return value


def read_article(path: Path) -> dict[str, str]:
    """Read one article file of the original release.

    Args:
        path: A ``data/jsons/<ID>.json`` file.

    Returns:
        The article: ``id, title, content, topic, bias, source, date, url``.

    Raises:
        ConversionError: If the file cannot be read or parsed, or a field is
            missing or invalid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConversionError(f"{path}: not valid UTF-8 ({exc})") from exc
    except OSError as exc:
        raise ConversionError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConversionError(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ConversionError(f"{path}: expected a JSON object, got {type(data).__name__}")

    article_id = data.get("ID")
    if article_id is None or article_id == "":
        article_id = path.stem
    elif not isinstance(article_id, str):
        article_id = str(article_id)

    if "content_original" not in data and "content" not in data:
        raise ConversionError(f"{path}: missing required field 'content_original' (and no 'content')")
    original = data.get("content_original")
    # Missing, null or empty content_original falls back to the tokenised content.
    content = original if original else data.get("content")
    if content is None:
        content = original if original is not None else ""
    if not isinstance(content, str):
        raise ConversionError(f"{path}: article body should be a string, got {type(content).__name__}")

    kept = {field: _string_field(data, field, path) for field in KEPT_FIELDS}
    return {
        "id": article_id,
        "title": kept["title"],
        "content": content,
        "topic": kept["topic"],
        "bias": _normalise_bias(data, path),
        "source": kept["source"],
        "date": kept["date"],
        "url": kept["url"],
    }


def read_articles(jsons_dir: Path, progress: bool = True) -> list[dict[str, str]]:
    """Read every article of the release, sorted by id.

    Args:
        jsons_dir: The ``data/jsons`` folder.
        progress: Whether to show a tqdm progress bar.

    Returns:
        The articles, sorted by ``id``.

    Raises:
        ConversionError: If there are no JSON files, a file is invalid, or two
            files share an id.
    """
    paths = sorted(p for p in jsons_dir.glob("*.json") if p.is_file())
    if not paths:
        raise ConversionError(f"no .json files in {jsons_dir}")
    seen: dict[str, Path] = {}
    articles: list[dict[str, str]] = []
    for path in tqdm(paths, desc="articles", unit="file", disable=not progress):
        article = read_article(path)
        previous = seen.get(article["id"])
        if previous is not None:
            raise ConversionError(f"{path}: duplicate id {article['id']!r} (also in {previous})")
        seen[article["id"]] = path
        articles.append(article)
    articles.sort(key=lambda article: article["id"])
    return articles


def read_split_ids(path: Path) -> list[str]:
    """Read the article ids listed in one split file.

    Args:
        path: A tab-separated file with a header containing an ``ID`` column.

    Returns:
        The ids, in file order, blank rows skipped.

    Raises:
        ConversionError: If the file cannot be read or has no ``ID`` column.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t")
            header = [name.strip() for name in (reader.fieldnames or [])]
            if "ID" not in header:
                found = ", ".join(repr(name) for name in header) or "none"
                raise ConversionError(f"{path}: no 'ID' column in the header (columns: {found})")
            reader.fieldnames = header
            return [row["ID"].strip() for row in reader if row.get("ID") and row["ID"].strip()]
    except UnicodeDecodeError as exc:
        raise ConversionError(f"{path}: not valid UTF-8 ({exc})") from exc
    except OSError as exc:
        raise ConversionError(f"{path}: cannot read file ({exc.strerror or exc})") from exc


def split_columns(splits_dir: Path) -> list[str]:
    """List the split folders to turn into columns.

    Args:
        splits_dir: The ``data/splits`` folder (may be absent).

    Returns:
        Folder names: the expected ones first, then any others found, sorted.
    """
    found = sorted(p.name for p in splits_dir.iterdir() if p.is_dir()) if splits_dir.is_dir() else []
    extra = [name for name in found if name not in EXPECTED_SPLIT_FOLDERS and not name.startswith(".")]
    return [*EXPECTED_SPLIT_FOLDERS, *extra]


def read_splits(splits_dir: Path, article_ids: set[str]) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, int]]]:
    """Read every split folder and assign each known article to train/valid/test.

    Ids listed in a split file but missing from the articles are counted and reported,
    not fatal. An id listed in two splits of one folder keeps its first assignment
    (train, then valid, then test) and is counted as a conflict.

    Args:
        splits_dir: The ``data/splits`` folder (may be absent).
        article_ids: Ids of the converted articles.

    Returns:
        ``(assignments, problems)``: ``assignments[folder][id]`` is the split name;
        ``problems[folder]`` counts ``unknown_ids`` and ``conflicts``.

    Raises:
        ConversionError: If a split file has no ``ID`` column or cannot be read.
    """
    assignments: dict[str, dict[str, str]] = {}
    problems: dict[str, dict[str, int]] = {}
    for folder in split_columns(splits_dir):
        folder_dir = splits_dir / folder
        problems[folder] = {"unknown_ids": 0, "conflicts": 0}
        assigned: dict[str, str] = {}
        assignments[folder] = assigned
        if not folder_dir.is_dir():
            _warn(f"note: split folder {folder_dir} not found; column {folder}_split left empty")
            continue
        for split in SPLIT_NAMES:
            tsv = folder_dir / f"{split}.tsv"
            if not tsv.is_file():
                _warn(f"note: {tsv} not found; no article is marked {split!r} in {folder}_split")
                continue
            unknown: list[str] = []
            for article_id in read_split_ids(tsv):
                if article_id not in article_ids:
                    unknown.append(article_id)
                    continue
                previous = assigned.get(article_id)
                if previous is None:
                    assigned[article_id] = split
                elif previous != split:
                    problems[folder]["conflicts"] += 1
                    _warn(f"warning: {tsv}: id {article_id!r} is already in {folder}/{previous}; keeping {previous!r}")
            if unknown:
                problems[folder]["unknown_ids"] += len(unknown)
                shown = ", ".join(unknown[:MAX_LISTED_IDS])
                more = f" and {len(unknown) - MAX_LISTED_IDS} more" if len(unknown) > MAX_LISTED_IDS else ""
                _warn(f"warning: {tsv}: {len(unknown)} id(s) with no article, skipped: {shown}{more}")
    return assignments, problems
