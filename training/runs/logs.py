"""A run's log: the console and ``<run folder>/train.log``, which also records the Trainer's numbers.

tail -f runs/<name>/train.log        # follow a run: every logged loss and evaluation, by step
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import transformers
from transformers import ProgressCallback, TrainerCallback

LOGGERS = ("newsclf", "training")
progress_log = logging.getLogger("newsclf.progress")  # file only: the console already shows the Trainer's lines
_file_handler: logging.FileHandler | None = None  # the current run's train.log, also given to transformers


class LogToFile(TrainerCallback):
    """Sends the Trainer's logged numbers to the run's log, so ``tail -f train.log`` follows a run."""

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if logs:
            numbers = {k: round(v, 5) if isinstance(v, float) else v for k, v in logs.items()}
            progress_log.info("step %d/%d epoch %.2f %s", state.global_step, state.max_steps, state.epoch or 0, numbers)


class ProgressBarOnly(ProgressCallback):
    """The Trainer's progress bar without the logged numbers it prints below it (``train.log`` has them)."""

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        pass


def console_is_terminal() -> bool:
    """Whether the console is a terminal: elsewhere (a file, a pipe, CI) progress bars would write cursor codes and
    a bar per saved checkpoint."""
    return sys.stderr.isatty()


def log_lines_instead_of_bars(trainer: transformers.Trainer) -> None:
    """Outside a terminal: no Trainer progress bar (nor its logged numbers as strings); the logged numbers go to
    the console as numbers, the lines ``train.log`` holds (a notebook keeps its progress table)."""
    if any(type(callback) is ProgressCallback for callback in trainer.callback_handler.callbacks):
        trainer.remove_callback(ProgressCallback)
        console = [h for h in logging.getLogger("newsclf").handlers if h not in progress_log.handlers]
        progress_log.handlers = [*progress_log.handlers, *console]


def hide_logged_numbers(trainer: transformers.Trainer) -> None:
    """Swaps the Trainer's console progress bar for :class:`ProgressBarOnly` (a notebook's progress table stays)."""
    if any(type(callback) is ProgressCallback for callback in trainer.callback_handler.callbacks):
        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(ProgressBarOnly())


@contextlib.contextmanager
def quiet_loading(quiet: bool = True) -> Iterator[None]:
    """Turns off transformers' own progress bars (loading weights, writing shards) and turns them back on after."""
    enabled = transformers.utils.logging.is_progress_bar_enabled()
    if quiet:
        transformers.utils.logging.disable_progress_bar()
    try:
        yield
    finally:
        if quiet and enabled:
            transformers.utils.logging.enable_progress_bar()


def setup_logging(run_dir: Path | None, console: bool = True) -> None:
    """Logs to ``run_dir/train.log`` and (``console``) the console; None (a process other than the main one):
    warnings only.

    A second run in the same process (a search, a notebook) takes over the log: the earlier run's
    ``train.log`` receives nothing more.
    """
    global _file_handler
    if run_dir is None:
        for name in LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        return
    close_log_file()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    _file_handler = logging.FileHandler(run_dir / "train.log", encoding="utf-8")
    _file_handler.setFormatter(formatter)
    handlers: list[logging.Handler] = [_file_handler]
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        handlers.append(stream)
    for name in LOGGERS:
        target = logging.getLogger(name)
        target.handlers = list(handlers)
        target.setLevel(logging.INFO)
        target.propagate = False
    progress_log.handlers = [_file_handler]
    progress_log.setLevel(logging.INFO)
    progress_log.propagate = False
    transformers.utils.logging.add_handler(_file_handler)
    transformers.utils.logging.set_verbosity_warning()


def close_log_file() -> None:
    """Stops writing to the current run's ``train.log`` (the console keeps the messages)."""
    global _file_handler
    if _file_handler is None:
        return
    transformers.utils.logging.remove_handler(_file_handler)
    for target in (*(logging.getLogger(name) for name in LOGGERS), progress_log):
        if _file_handler in target.handlers:
            target.removeHandler(_file_handler)
    _file_handler.close()
    _file_handler = None


@contextlib.contextmanager
def logging_restored() -> Iterator[None]:
    """Gives the project's loggers and transformers' verbosity back as they were, and closes a ``train.log``
    opened inside: a run started from Python leaves the caller's logging as it found it.

    An earlier run's ``train.log`` that a run inside took over (see :func:`setup_logging`) stays closed: given
    back, it would reopen on the next message and append it to that run's log (or fail, its folder gone).
    """
    global _file_handler
    loggers = [*(logging.getLogger(name) for name in LOGGERS), progress_log]
    saved = [(target.handlers[:], target.level, target.propagate) for target in loggers]
    verbosity, earlier = transformers.utils.logging.get_verbosity(), _file_handler
    try:
        yield
    finally:
        taken_over = _file_handler is not earlier  # a run inside opened its own log, closing the earlier one
        if taken_over:
            close_log_file()
        for target, (handlers, level, propagate) in zip(loggers, saved):
            kept = [handler for handler in handlers if not (taken_over and handler is earlier)]
            target.handlers, target.level, target.propagate = kept, level, propagate
        _file_handler = None if taken_over else earlier
        transformers.utils.logging.set_verbosity(verbosity)
