"""Atomic file writes: a reader sees the old file or the new one, never half of one.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
>>> with atomic_writer(target) as out:
...     _ = out.write("done")
>>> target.read_text()
'done'
>>> import shutil; shutil.rmtree(target.parent)
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def default_permissions(directory: bool = False) -> int:
    """The mode a plain ``open``/``mkdir`` would give (``mkstemp``/``mkdtemp`` give owner-only)."""
    return (0o777 if directory else 0o666) & ~_umask()


@contextlib.contextmanager
def atomic_writer(path: str | Path, binary: bool = False, newline: str | None = None) -> Iterator[IO[Any]]:
    """Opens a temporary file beside ``path`` for writing; renames it onto ``path`` on success.

    Args:
        path: the file to write.
        binary: open in binary mode instead of UTF-8 text.
        newline: passed to ``open`` in text mode (``""`` for the csv module).

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        options: dict[str, Any] = {} if binary else {"encoding": "utf-8", "newline": newline}
        with os.fdopen(handle, "wb" if binary else "w", **options) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, default_permissions())
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_text(path: str | Path, text: str) -> None:
    """Writes ``text`` to ``path`` whole or not at all."""
    with atomic_writer(path) as out:
        out.write(text)


def write_json(path: str | Path, data: Any) -> None:
    """Writes ``data`` to ``path`` as indented UTF-8 JSON, whole or not at all: every JSON file newsclf writes."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
