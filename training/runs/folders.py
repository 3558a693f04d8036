"""Run folders: creating one without clobbering another, finding where a killed run can resume, and
removing a folder whose run stopped before it had anything worth keeping.

A run folder is ``<run.output_dir>/<run.name>``; the Trainer writes its checkpoints under
``checkpoints/`` and a finished run its ``model/``. ``<run.output_dir>/latest`` links to the newest
finished run.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime
from pathlib import Path

from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import get_last_checkpoint

from training.config import Config
from training.runs.overwrite import refuse_run_folder_over_inputs

logger = logging.getLogger("newsclf")

CHECKPOINTS = "checkpoints"


class RunFolderError(ValueError):
    """The run folder exists (and may not be overwritten) or cannot be resumed."""


def prepare_run_folder(config: Config, resume: bool, overwrite: bool) -> Path:
    """Creates (or, to resume, reuses) ``<output_dir>/<name>``; refuses to clobber an existing one.

    Without ``run.name`` the run is named after the config file and the time (``default-20261125-101500``),
    and ``config.run.name`` is set to it.

    Raises:
        RunFolderError: the folder exists (without ``overwrite``), or there is no run to resume.
        InputOverwriteError: the folder is, or holds, a file the run reads.
    """
    if config.run.name is None:
        if resume:
            raise RunFolderError("--resume needs run.name (or --resume RUN_FOLDER) to know which run to continue")
        stem = Path(config.source).stem if config.source else "run"
        config.run.name = f"{stem}-{datetime.now():%Y%m%d-%H%M%S}"
    run_dir = Path(config.run.output_dir) / config.run.name
    if resume:
        if not run_dir.is_dir():
            raise RunFolderError(f"{run_dir}: no run to resume")
        return run_dir
    refuse_run_folder_over_inputs(config, run_dir)
    if run_dir.exists():
        if not overwrite:
            raise RunFolderError(
                f"{run_dir} already exists; use --resume to continue it, --overwrite to replace it, "
                "or --set run.name=NEW for a new run"
            )
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    return run_dir


def remove_unstarted(run_dir: Path) -> bool:
    """Removes ``run_dir`` unless it holds a checkpoint or a model (something to resume or to use).

    Call it only for a folder this process created, when its run failed: what is left (its config, a
    log of the failure, an empty ``checkpoints/``) cannot be resumed, and would only block the name.

    Returns:
        Whether the folder was removed.
    """
    checkpoints = run_dir / CHECKPOINTS
    if (run_dir / "model").exists() or (checkpoints.is_dir() and get_last_checkpoint(str(checkpoints))):
        return False
    shutil.rmtree(run_dir, ignore_errors=True)
    return not run_dir.exists()


def last_complete_checkpoint(folder: Path) -> str | None:
    """The newest checkpoint in ``folder`` that was written completely, or None.

    The Trainer writes a checkpoint's ``trainer_state.json`` last, so a newer checkpoint without a
    readable one was cut short (the run was killed while saving it): resuming from it would crash, and
    the Trainer's rotation would keep it as the newest. Such checkpoints are removed with a warning.

    Raises:
        RunFolderError: a partly written checkpoint cannot be removed.
    """
    if not folder.is_dir():
        return None
    while (newest := get_last_checkpoint(str(folder))) is not None:
        try:
            json.loads((Path(newest) / TRAINER_STATE_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning("removing %s: only partly written (the run was stopped while saving it)", newest)
            shutil.rmtree(newest, ignore_errors=True)
            if Path(newest).exists():  # it would be found again, and resuming from the start loses steps
                raise RunFolderError(
                    f"{newest}: only partly written and cannot be removed; remove it, then resume"
                ) from None
            continue
        return newest
    return None


def point_latest(run_dir: Path) -> None:
    """Keeps ``<output_dir>/latest`` pointing at the newest finished run."""
    link = run_dir.parent / "latest"
    try:
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(run_dir.name)
    except OSError:
        logger.warning("could not update %s", link)
