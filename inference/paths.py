"""Refusing to write over what the user gave: an output path must never be one of the inputs.

The same file can hide behind another spelling, a symlink or a hard link, so paths are compared as
files (``os.path.samefile``) where both exist and as resolved paths otherwise.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp()).resolve()
>>> _ = (folder / "articles.jsonl").write_text("{}\\n")
>>> try:
...     refuse_overwriting_inputs([folder / "new" / ".." / "articles.jsonl"], [folder / "articles.jsonl"])
... except InputOverwriteError as error:
...     print(str(error).replace(str(folder), "DIR"))
refusing to write DIR/new/../articles.jsonl: it is the input DIR/articles.jsonl; choose another output path
>>> import shutil; shutil.rmtree(folder)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["InputOverwriteError", "refuse_overwriting_inputs"]


class InputOverwriteError(ValueError):
    """An output of a command is (or would overwrite) one of its inputs."""


def refuse_overwriting_inputs(outputs: Iterable[str | Path | None], inputs: Iterable[str | Path | None]) -> None:
    """Raises :class:`InputOverwriteError` when writing any of ``outputs`` could change one of ``inputs``.

    Call it before doing any work. ``None`` entries are skipped, and so are inputs that do not exist
    (there is nothing of them to lose). An output collides with an input when

    * it is the same file or folder (the same path, or reached through a symlink or a hard link);
    * the input lies inside it (an output folder is written into, or replaced as a whole);
    * it is an existing file inside an input folder (writing it would change that folder), or a hard
      link to one.

    Args:
        outputs: the files and folders the command writes.
        inputs: the files and folders it reads.

    Raises:
        InputOverwriteError: naming the output and the input it would overwrite.
    """
    present = [Path(path) for path in inputs if path is not None and os.path.exists(path)]
    for output in (Path(path) for path in outputs if path is not None):
        for source in present:
            reason = _collision(output, source)
            if reason:
                raise InputOverwriteError(
                    f"refusing to write {_shown(output)}: it {reason}; choose another output path"
                )


def _collision(output: Path, source: Path) -> str | None:
    """How writing ``output`` would overwrite ``source`` (an existing input), or ``None``."""
    where, what = output.resolve(), source.resolve()
    if os.path.exists(output) and os.path.samefile(output, source):
        return f"is the input {source}{_link(output, source, where == what)}"
    if where == what:  # the output does not exist yet, but its path leads to the input
        return f"is the input {source}"
    if where in what.parents:
        return f"holds the input {_shown(source)}, which writing there could replace"
    if not os.path.exists(output):
        return None
    if source.is_dir() and what in where.parents:
        return f"is inside the input folder {_shown(source)}"
    if output.is_file() and source.is_dir():
        twin = _same_file_within(output, source)
        if twin:
            return f"is a hard link to {twin}, inside the input folder {source}"
    if output.is_dir() and source.is_file():
        twin = _same_file_within(source, output)
        if twin:
            return f"holds {twin}, a hard link to the input {source}, which writing there could replace"
    return None


def _link(output: Path, source: Path, same_target: bool) -> str:
    """How two spellings of one file meet: through a symlink, a hard link, or not at all."""
    if not same_target:
        return " (the same file through a hard link)"
    if os.path.abspath(output) != os.path.abspath(source):
        return " (the same file through a symlink)"
    return ""


def _shown(path: Path) -> str:
    """``path``, followed by where it really leads when a symlink on the way leads elsewhere."""
    real = path.resolve()
    return str(path) if os.path.abspath(path) == str(real) else f"{path} (a link to {real})"


def _same_file_within(file: Path, folder: Path) -> Path | None:
    """A file under ``folder`` that is ``file`` through a hard link; only searched when ``file`` has one."""
    status = os.stat(file)
    if status.st_nlink < 2:
        return None
    for candidate in _files_under(folder):
        try:
            found = os.stat(candidate)
        except OSError:
            continue
        if (found.st_dev, found.st_ino) == (status.st_dev, status.st_ino):
            return candidate
    return None


def _files_under(folder: Path) -> Iterator[Path]:
    for root, _, names in os.walk(folder):
        for name in names:
            yield Path(root) / name
