"""SHA-256 checksums of a model folder's files, written when it is saved and checked when it is loaded.

``manifest.json`` lists every file of the folder (sub-folders included) with its size and SHA-256.
A file that was changed, truncated or removed after saving is then caught before anything reads it.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "config.json").write_text("{}")
>>> write_manifest(folder)
>>> manifest_problems(folder)
[]
>>> _ = (folder / "config.json").write_text('{"edited": true}')
>>> manifest_problems(folder)[0].startswith("config.json changed since the model was saved")
True
>>> import shutil; shutil.rmtree(folder)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..atomic import atomic_writer
from .folder_layout import MANIFEST


def sha256_file(path: str | Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entries(folder: Path, files: Iterable[Path]) -> dict[str, dict[str, Any]]:
    return {
        path.relative_to(folder).as_posix(): {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        for path in sorted(files)
        if path.is_file() and path.name != MANIFEST
    }


def write_manifest(folder: str | Path) -> None:
    """Lists every file under ``folder`` with its size and SHA-256 in ``folder/manifest.json``."""
    folder = Path(folder)
    manifest = {"algorithm": "sha256", "files": _entries(folder, folder.rglob("*"))}
    with atomic_writer(folder / MANIFEST) as out:
        json.dump(manifest, out, indent=2)
        out.write("\n")


def add_to_manifest(folder: str | Path, files: Iterable[str | Path], drop_prefix: str | None = None) -> None:
    """Adds (or updates) ``files`` in an existing manifest, first dropping entries under ``drop_prefix``.

    The entries already listed keep their recorded checksums, so a file changed since the save is
    still caught later. Without a manifest nothing is written.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return
    listed = {
        name: entry for name, entry in manifest["files"].items() if not (drop_prefix and name.startswith(drop_prefix))
    }
    listed.update(_entries(folder, (Path(folder, f) for f in files)))
    with atomic_writer(folder / MANIFEST) as out:
        json.dump({"algorithm": "sha256", "files": dict(sorted(listed.items()))}, out, indent=2)
        out.write("\n")


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The folder's manifest, or ``None`` when it has none.

    Raises:
        ValueError: the manifest is not a JSON object with a ``files`` mapping.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise ValueError(f"{path}: expected a JSON object with a 'files' mapping")
    return manifest


def manifest_problems(folder: str | Path, only: Iterable[str] | None = None) -> list[str]:
    """What differs from the manifest: missing files, other sizes, other checksums (empty if all match).

    Args:
        folder: the model folder.
        only: check just these entries (e.g. the files one backend reads); default: all.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return []
    wanted = None if only is None else set(only)
    problems = []
    for name, entry in manifest["files"].items():
        if wanted is not None and name not in wanted:
            continue
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is listed in {MANIFEST} but missing")
        elif path.stat().st_size != entry.get("bytes") or sha256_file(path) != entry.get("sha256"):
            problems.append(
                f"{name} changed since the model was saved (its SHA-256 no longer matches {MANIFEST}); "
                "restore the file or save the model again"
            )
    return problems
