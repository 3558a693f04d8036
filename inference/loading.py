"""Loads a saved model folder: local files only, safetensors only, no remote code.

A model folder holds ``config.json`` (tasks, label maps, windowing, the encoder's config),
``model.safetensors``, the tokenizer files, ``labels.json``, ``training_config.yaml``,
``metrics.json``, a ``README.md`` model card and ``manifest.json``, the SHA-256 of every other
file, which loading checks before reading anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from transformers import AutoTokenizer
from transformers.utils import logging as hf_logging

from .manifest import MANIFEST, manifest_problems
from .modeling import NewsClassifier, NewsClassifierConfig

logger = logging.getLogger("newsclf")

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
REQUIRED_FILES = ("config.json", "model.safetensors")


class ModelFolderError(ValueError):
    """A model folder is missing, incomplete or holds files we refuse to load."""


def verify_checksums(folder: Path) -> None:
    """Compares the folder's files with its ``manifest.json`` (a folder without one is loaded with a warning).

    Raises:
        ModelFolderError: a listed file is missing or changed, or the manifest is unreadable.
    """
    try:
        problems = manifest_problems(folder)
    except ValueError as error:
        raise ModelFolderError(str(error)) from None
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ModelFolderError(f"{folder}: {problems[0]}{more}")
    if not (folder / MANIFEST).is_file():
        logger.warning("%s has no %s, so its files cannot be checked (saved by an older newsclf)", folder, MANIFEST)


def check_model_folder(path: str | Path, verify: bool = True) -> Path:
    """Returns the folder as a ``Path`` after checking that it can be loaded safely.

    Args:
        path: the model folder.
        verify: also compare every file with the SHA-256 recorded in ``manifest.json``.

    Raises:
        ModelFolderError: naming the folder and the missing, changed or refused file.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ModelFolderError(f"{folder}: no such model folder (expected a folder written by newsclf-train)")
    if not (folder / "model.safetensors").is_file():
        pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
        if pickles:
            raise ModelFolderError(
                f"{folder}: weights are only in pickle files ({', '.join(pickles)}); newsclf loads "
                "safetensors only, because unpickling can run arbitrary code"
            )
    for name in REQUIRED_FILES:
        if not (folder / name).is_file():
            raise ModelFolderError(f"{folder}: missing {name}; the model folder is incomplete")
    if verify:
        verify_checksums(folder)
    return folder


def load_model_folder(path: str | Path, device: str = "cpu", verify: bool = True) -> tuple[NewsClassifier, Any]:
    """Loads the model (in eval mode) and its tokenizer from a model folder (checksums checked unless
    ``verify`` is off)."""
    folder = check_model_folder(path, verify)
    model, tokenizer = _quietly(
        folder,
        lambda: NewsClassifier.from_pretrained(folder, use_safetensors=True, local_files_only=True),
        lambda: AutoTokenizer.from_pretrained(folder, local_files_only=True),
    )
    return model.to(device).eval(), tokenizer


def load_config_and_tokenizer(path: str | Path, verify: bool = True) -> tuple[NewsClassifierConfig, Any]:
    """Loads a model folder's config and tokenizer without its weights (for the ONNX backend)."""
    folder = check_model_folder(path, verify)
    return _quietly(
        folder,
        lambda: NewsClassifierConfig.from_pretrained(folder, local_files_only=True),
        lambda: AutoTokenizer.from_pretrained(folder, local_files_only=True),
    )


def _quietly(folder: Path, *loaders: Callable[[], Any]) -> tuple[Any, ...]:
    """Runs the loaders with transformers' logging and progress bars silenced; errors name the folder."""
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        return tuple(load() for load in loaders)
    except (OSError, ValueError, KeyError, SafetensorError) as error:
        raise ModelFolderError(f"{folder}: cannot load the model: {error}") from error
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
