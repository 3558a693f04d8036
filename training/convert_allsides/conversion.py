"""Writing the two files our configs read, ``articles.jsonl.gz`` and ``splits.csv``, and the command line."""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import sys
from collections import Counter
from pathlib import Path
from typing import IO, Any

from inference.atomic import atomic_writer
from inference.paths import InputOverwriteError, refuse_overwriting_inputs
from training.convert_allsides.release import (
    BIAS_LABELS,
    SPLIT_NAMES,
    ConversionError,
    find_jsons_dir,
    read_articles,
    read_splits,
)

ARTICLES_FILENAME = "articles.jsonl.gz"
SPLITS_FILENAME = "splits.csv"


def resolve_output_paths(output: Path) -> tuple[Path, Path]:
    """Work out where the articles and splits files go.

    Args:
        output: A folder, or a ``.jsonl``/``.jsonl.gz`` path naming the articles file.

    Returns:
        ``(articles_path, splits_path)``.
    """
    name = output.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz")):
        return output, output.parent / SPLITS_FILENAME
    return output / ARTICLES_FILENAME, output / SPLITS_FILENAME


def write_articles(articles: list[dict[str, str]], path: Path) -> None:
    """Write articles as JSON lines, gzip-compressed when ``path`` ends in ``.gz``.

    The gzip header has no file name or time stamp: equal input, equal bytes.

    Args:
        articles: Converted articles, in the order to write.
        path: Destination file.
    """
    with atomic_writer(path, binary=True) as raw:
        if path.name.lower().endswith(".gz"):
            stream: gzip.GzipFile | IO[bytes] = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
        else:
            stream = raw
        try:
            for article in articles:
                stream.write(json.dumps(article, ensure_ascii=False).encode("utf-8") + b"\n")
        finally:
            if stream is not raw:
                stream.close()


def write_splits(article_ids: list[str], assignments: dict[str, dict[str, str]], path: Path) -> None:
    """Write ``splits.csv`` with one ``<folder>_split`` column per split folder.

    Args:
        article_ids: Ids in the order to write.
        assignments: ``assignments[folder][id]`` is ``train``/``valid``/``test``.
        path: Destination file.
    """
    folders = list(assignments)
    with atomic_writer(path, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", *(f"{folder}_split" for folder in folders)])
        for article_id in article_ids:
            writer.writerow([article_id, *(assignments[f].get(article_id, "") for f in folders)])


def convert_allsides(source: Path, output: Path, overwrite: bool = False, *, progress: bool = True) -> dict[str, Any]:
    """Convert the release at ``source`` to ``articles.jsonl.gz`` and ``splits.csv``.

    Args:
        source: Root of the Article-Bias-Prediction repository (holding ``data/jsons``).
        output: Output folder, or a ``.jsonl``/``.jsonl.gz`` path for the articles file.
        overwrite: Replace existing output files.
        progress: Show a tqdm progress bar while reading articles.

    Returns:
        Summary counts: ``articles``; ``bias`` (label -> count); ``splits`` (column ->
        ``{"train", "valid", "test", "none"}`` -> count); ``unknown_split_ids`` and
        ``split_conflicts`` (column -> count); ``missing_split_folders`` (folder
        names);
        ``articles_path`` and ``splits_path`` (str).

    Raises:
        ConversionError: If the source is missing or invalid, or an output exists and
            ``overwrite`` is false.
        InputOverwriteError: If an output is one of the source's files.
    """
    source = Path(source)
    articles_path, splits_path = resolve_output_paths(Path(output))
    if not overwrite:
        existing = [str(p) for p in (articles_path, splits_path) if p.exists()]
        if existing:
            raise ConversionError(f"output already exists: {', '.join(existing)} (pass --overwrite to replace)")
    jsons_dir = find_jsons_dir(source)
    splits_dir = jsons_dir.parent / "splits"
    refuse_overwriting_inputs([articles_path, splits_path], [jsons_dir, splits_dir])
    articles = read_articles(jsons_dir, progress=progress)
    ids = [article["id"] for article in articles]
    assignments, problems = read_splits(splits_dir, set(ids))

    articles_path.parent.mkdir(parents=True, exist_ok=True)
    write_articles(articles, articles_path)
    write_splits(ids, assignments, splits_path)

    bias_counts = Counter(article["bias"] for article in articles)
    split_counts: dict[str, dict[str, int]] = {}
    for folder, assigned in assignments.items():
        counts = Counter(assigned.values())
        per_split = {split: counts.get(split, 0) for split in SPLIT_NAMES}
        per_split["none"] = len(ids) - len(assigned)
        split_counts[f"{folder}_split"] = per_split
    return {
        "articles": len(articles),
        "bias": {label: bias_counts.get(label, 0) for label in BIAS_LABELS},
        "splits": split_counts,
        "unknown_split_ids": {f"{k}_split": v["unknown_ids"] for k, v in problems.items()},
        "split_conflicts": {f"{k}_split": v["conflicts"] for k, v in problems.items()},
        "missing_split_folders": [f for f in assignments if not (splits_dir / f).is_dir()],
        "articles_path": str(articles_path),
        "splits_path": str(splits_path),
    }


def format_summary(summary: dict[str, Any]) -> str:
    """Render the summary returned by :func:`convert_allsides` as text.

    Args:
        summary: The summary dict.

    Returns:
        A multi-line human-readable summary.
    """
    lines = [
        f"wrote {summary['articles']} articles to {summary['articles_path']}",
        "  bias: " + ", ".join(f"{k} {v}" for k, v in summary["bias"].items()),
        f"wrote splits to {summary['splits_path']}",
    ]
    for column, counts in summary["splits"].items():
        parts = ", ".join(f"{k} {v}" for k, v in counts.items())
        extra = ""
        if summary["unknown_split_ids"].get(column):
            extra += f"; {summary['unknown_split_ids'][column]} listed ids with no article"
        if summary["split_conflicts"].get(column):
            extra += f"; {summary['split_conflicts'][column]} ids in more than one split"
        lines.append(f"  {column}: {parts}{extra}")
    if summary["missing_split_folders"]:
        lines.append("  missing split folders: " + ", ".join(summary["missing_split_folders"]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: Arguments (defaults to ``sys.argv[1:]``).

    Returns:
        0 on success, 2 on a conversion error (message printed to stderr).
    """
    parser = argparse.ArgumentParser(
        prog="python -m training.convert_allsides",
        description=("Convert the Article-Bias-Prediction release to articles.jsonl.gz + splits.csv."),
    )
    parser.add_argument(
        "--source",
        type=Path,
        required=True,
        help="root of the Article-Bias-Prediction repository",
    )
    parser.add_argument(
        "--output",
        type=Path,
        required=True,
        help="output folder (or a .jsonl/.jsonl.gz path for the articles file)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    try:
        summary = convert_allsides(
            args.source,
            args.output,
            overwrite=args.overwrite,
            progress=not args.no_progress,
        )
    except (ConversionError, InputOverwriteError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_summary(summary))
    return 0
