"""Batch prediction into a file that an interrupted run continues instead of starting over.

The finished chunks go to ``OUTPUT.partial``, flushed to disk one chunk at a time, and
``OUTPUT.partial.json`` records which job they belong to (the model, its number format, a SHA-256
of the input lines predicted so far) and how far it got. Running the same job again skips the
articles already predicted; the finished file is the same as an uninterrupted run's.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import itertools
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..model.folder_layout import MANIFEST
from ..model.manifest import sha256_file
from .articles import file_lines, input_file, parsed_articles, predicted_chunks

if TYPE_CHECKING:
    from ..prediction.predictor import Predictor
    from ..prediction.tfidf import TfidfPredictor
    from .workers import PredictorPool

try:
    import fcntl
except ImportError:  # Windows: no lock against two runs writing one file
    fcntl = None  # type: ignore[assignment]

PARTIAL_FORMAT = "newsclf-predict partial output 1"


class PartialOutputError(ValueError):
    """The partial output of an earlier run cannot be continued."""


class ResumableOutput:
    """Predictions of an input file into ``target`` that an interrupted run can continue.

    The lines of finished chunks are appended to ``target.partial`` and flushed to disk; then
    ``target.partial.json`` is replaced (atomically) with the job's identity and progress: how many
    articles are done, how many bytes of the partial file hold them, and the SHA-256 of the input
    lines they came from. Bytes past that point (a chunk that was being written when the run
    stopped) are dropped when a run continues. When every article is predicted the partial file
    is renamed onto ``target``.

    Args:
        target: the output file.
        restart: discard an earlier run's partial output instead of continuing it.
    """

    def __init__(self, target: str | Path, restart: bool = False) -> None:
        self.target = Path(target)
        self.partial = self.target.with_name(self.target.name + ".partial")
        self.progress = self.target.with_name(self.target.name + ".partial.json")
        self._saving = self.target.with_name(f".{self.progress.name}.tmp")
        self.restart = restart
        self.done = 0
        self.resumed = 0

    @property
    def files(self) -> list[Path]:
        """Every file a run writes: the output, its partial file, the progress file and its temporary."""
        return [self.target, self.partial, self.progress, self._saving]

    def run(
        self,
        predictor: Predictor | TfidfPredictor,
        input_path: str | Path,
        model: str | Path,
        size: int,
        pool: PredictorPool | None = None,
        line_format: str = "auto",
    ) -> int:
        """Predicts every article of ``input_path`` (its lines read as ``line_format``,
        :data:`~inference.batch.articles.FORMATS`) not yet in the partial output; returns how many in all.

        On an error or an interruption the finished chunks stay in the partial file (``done``
        says how many articles), unless there are none, in which case nothing is left behind.
        """
        file = input_file(input_path)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        job = {"format": PARTIAL_FORMAT, "input": str(file.resolve()), **_model_identity(model)}
        job["input_format"] = line_format
        job["backend"] = predictor.backend_name
        with self._locked() as (handle, created):
            owned = False  # the partial file is this job's (new, or checked to be the same job)
            try:
                state = None if created or self.restart else self._earlier_state(handle)
                if state is None:
                    state = {**job, "chunk": size, "done": 0, "bytes": 0, "input_sha256": hashlib.sha256().hexdigest()}
                    owned = True
                    self._save(state)
                else:
                    self._check_same_job(state, job)
                lines = file_lines(file)
                digest = self._skip_done(lines, state, file)
                owned = True
                self.done = self.resumed = state["done"]
                handle.truncate(state["bytes"])  # drops what was written after the last finished chunk
                handle.seek(state["bytes"])
                if self.done:
                    print(f"resuming: {self.done} articles already predicted in {self.partial}", file=sys.stderr)
                # lines are hashed as their predictions are saved, not as they are read: workers read ahead
                read: collections.deque[str] = collections.deque()
                articles = parsed_articles(file, _remembered(lines, read), line_format)
                for text in predicted_chunks(predictor, articles, state["chunk"], self.done, pool):
                    handle.write(text.encode("utf-8"))
                    handle.flush()
                    os.fsync(handle.fileno())
                    count = text.count("\n")
                    for _ in range(count):
                        digest.update(read.popleft().encode("utf-8", "surrogatepass") + b"\n")
                    done = self.done + count
                    state.update(done=done, bytes=handle.tell(), input_sha256=digest.copy().hexdigest())
                    self._save(state)
                    self.done = done
                os.replace(self.partial, self.target)
                self._remove()
                return self.done
            except BaseException:
                if owned and self.done == 0:  # nothing worth keeping
                    self._remove(self.partial)
                raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[tuple[IO[bytes], bool]]:
        """Opens (creating it if need be) and locks the partial file; says whether it was created."""
        for _ in range(3):
            try:
                descriptor, created = os.open(self.partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666), True
            except FileExistsError:
                descriptor, created = os.open(self.partial, os.O_RDWR), False
            handle = os.fdopen(descriptor, "r+b")
            try:
                if fcntl is not None:
                    try:
                        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        raise PartialOutputError(
                            f"{self.partial} is being written by another newsclf-predict; wait for it to finish"
                        ) from None
                    with contextlib.suppress(FileNotFoundError):
                        if os.stat(self.partial).st_ino != os.fstat(handle.fileno()).st_ino:
                            continue  # that run finished and renamed the file meanwhile: open the new one
                yield handle, created
                return
            finally:
                handle.close()
        raise PartialOutputError(f"{self.partial} keeps changing; is another newsclf-predict writing {self.target}?")

    def _earlier_state(self, handle: IO[bytes]) -> dict[str, Any] | None:
        """The recorded progress of the partial file; ``None`` when it is empty and unrecorded."""
        size = os.fstat(handle.fileno()).st_size
        if not self.progress.is_file():
            if size == 0:
                return None
            raise PartialOutputError(f"{self.partial} has no {self.progress.name} saying what it holds{self._restart}")
        try:
            state = json.loads(self.progress.read_text(encoding="utf-8"))
            if not isinstance(state, dict) or state.get("format") != PARTIAL_FORMAT:
                raise ValueError("not a progress file of newsclf-predict")
            for key in ("done", "bytes", "chunk"):
                if not isinstance(state.get(key), int) or state[key] < (1 if key == "chunk" else 0):
                    raise ValueError(f"{key!r} is not a count")
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise PartialOutputError(f"{self.progress}: unreadable ({error}){self._restart}") from None
        if size < state["bytes"]:
            raise PartialOutputError(
                f"{self.partial} has {size} bytes, fewer than the {state['bytes']} its progress file records"
                f"{self._restart}"
            )
        handle.seek(0)
        lines, remaining, last = 0, state["bytes"], b"\n"
        while remaining:
            block = handle.read(min(remaining, 1 << 20))
            lines, remaining, last = lines + block.count(b"\n"), remaining - len(block), block[-1:]
        if lines != state["done"] or last != b"\n":
            raise PartialOutputError(
                f"{self.partial} does not hold the {state['done']} lines its progress file records{self._restart}"
            )
        return state

    def _check_same_job(self, state: dict[str, Any], job: dict[str, Any]) -> None:
        done = state["done"]
        same_model = (
            state.get("model_sha256") == job["model_sha256"]
            if state.get("model_sha256") and job["model_sha256"]
            else state.get("model") == job["model"]
        )
        if not same_model:
            raise PartialOutputError(
                f"{self.partial} holds predictions of another model ({state.get('model')}), not of {job['model']}"
                f"{self._restart}"
            )
        if state.get("backend") != job["backend"]:
            raise PartialOutputError(
                f"{self.partial} was predicted in {state.get('backend')}, this run would use {job['backend']}; "
                "choose the same --backend and --precision to continue, or pass --restart to discard it and start over"
            )
        if done and not isinstance(state.get("input_sha256"), str):
            raise PartialOutputError(f"{self.progress}: unreadable (no 'input_sha256'){self._restart}")

    def _skip_done(self, lines: Iterator[tuple[int, str]], state: dict[str, Any], file: Path) -> Any:
        """Reads past the articles already predicted, checking that they are the same; returns the digest."""
        digest = hashlib.sha256()
        count = 0
        for _, line in itertools.islice(lines, state["done"]):
            digest.update(line.encode("utf-8", "surrogatepass") + b"\n")
            count += 1
        if count < state["done"] or digest.hexdigest() != state["input_sha256"]:
            done, earlier = state["done"], state.get("input")
            which = (
                f"and the first {done} articles of {file} have changed since"
                if earlier == str(file.resolve())
                else f"and those are not the first {done} articles of {file}"
            )
            raise PartialOutputError(
                f"{self.partial} holds predictions of the first {done} articles of {earlier}, {which}{self._restart}"
            )
        return digest

    @property
    def _restart(self) -> str:
        return "; pass --restart to discard it and start over"

    def _save(self, state: dict[str, Any]) -> None:
        # atomically, through a fixed temporary name: one that a kill left behind is replaced, not piled up
        with open(self._saving, "w", encoding="utf-8") as out:
            json.dump(state, out, indent=1)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(self._saving, self.progress)

    def _remove(self, *paths: Path) -> None:
        for path in (*paths, self.progress, self._saving):
            path.unlink(missing_ok=True)


def _remembered(lines: Iterator[tuple[int, str]], read: collections.deque[str]) -> Iterator[tuple[int, str]]:
    for number, line in lines:
        read.append(line)
        yield number, line


def _model_identity(model: str | Path) -> dict[str, Any]:
    folder = Path(model).resolve()
    manifest = folder / MANIFEST
    return {"model": str(folder), "model_sha256": sha256_file(manifest) if manifest.is_file() else None}
