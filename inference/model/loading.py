"""Loads a saved model folder: local files only, safetensors only, no remote code.

A model folder holds ``config.json`` (tasks, label maps, windowing, the encoder's config),
``model.safetensors``, the tokenizer files, ``training_config.yaml``, ``metrics.json``, a ``README.md`` model
card and ``manifest.json``, the SHA-256 of every other file, which loading checks before reading anything. Every
file name is in :mod:`.folder_layout`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetensors import SafetensorError

from .folder_layout import BASELINE_FILE, CONFIG_FILE, MANIFEST, REQUIRED_FILES, WEIGHTS_FILE
from .manifest import manifest_problems

if TYPE_CHECKING:  # imported where a model is loaded: checking a folder needs neither torch nor transformers
    from .classifier import NewsClassifier

logger = logging.getLogger("newsclf")

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
# Encoders whose position ids count from the padding index + 1 (fairseq's scheme, kept by transformers),
# so that many of their max_position_embeddings are never used; MPNet fixes its padding index at 1.
PADDING_OFFSET_TYPES = (
    "camembert",
    "data2vec-text",
    "ibert",
    "longformer",
    "luke",
    "markuplm",
    "roberta",
    "roberta-prelayernorm",
    "xlm-roberta",
    "xlm-roberta-xl",
    "xmod",
)


class ModelFolderError(ValueError):
    """A model folder is missing, incomplete or holds files we refuse to load."""


def is_baseline_folder(folder: str | Path) -> bool:
    """Whether ``folder`` is a TF-IDF baseline written by ``newsclf-baseline`` (:mod:`inference.prediction.tfidf`)."""
    return (Path(folder) / BASELINE_FILE).is_file()


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


def encoder_positions(encoder: Mapping[str, Any]) -> int | None:
    """The most tokens (special tokens included) one window may hold for an encoder, from its config.

    BERT-like encoders number positions from 0, so ``max_position_embeddings`` of them fit;
    RoBERTa-like ones start after their padding index (``max_position_embeddings - 2`` with padding
    id 1). None where the config sets no limit: no ``max_position_embeddings``, or a DeBERTa without
    absolute positions.

    >>> encoder_positions({"model_type": "bert", "max_position_embeddings": 512})
    512
    >>> encoder_positions({"model_type": "roberta", "max_position_embeddings": 514, "pad_token_id": 1})
    512
    """
    positions = encoder.get("max_position_embeddings")
    if not isinstance(positions, int) or isinstance(positions, bool):
        return None
    model_type = encoder.get("model_type")
    if model_type in ("deberta", "deberta-v2") and encoder.get("position_biased_input") is False:
        return None
    if model_type == "mpnet":
        return positions - 2
    if model_type in PADDING_OFFSET_TYPES:
        padding = encoder.get("pad_token_id")
        return positions - (padding if isinstance(padding, int) and padding >= 0 else 1) - 1
    return positions


def exceeded_limit(encoder: Mapping[str, Any], max_length: Any) -> int | None:
    """The encoder's limit (:func:`encoder_positions`) when windows of ``max_length`` tokens are longer, else None.

    >>> exceeded_limit({"model_type": "bert", "max_position_embeddings": 512}, 1000)
    512
    """
    limit = encoder_positions(encoder)
    return limit if limit is not None and isinstance(max_length, int) and max_length > limit else None


def explain_positions(encoder: Mapping[str, Any]) -> str:
    """Where :func:`encoder_positions` comes from, for error messages."""
    positions = encoder.get("max_position_embeddings")
    usable = encoder_positions(encoder)
    offset = ""
    if usable is not None and usable != positions:
        assert isinstance(positions, int)  # encoder_positions gives a number only for an int max_position_embeddings
        offset = f", less {positions - usable} for its padding offset"
    return f"max_position_embeddings {positions} in its config.json{offset}"


def check_window_fits(folder: Path) -> None:
    """Refuses a folder whose windows are longer than its encoder's positions: a long article would crash it.

    Raises:
        ModelFolderError: naming the folder, both numbers and what to do.
    """
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        encoder, max_length = config["encoder"], config["window"]["max_length"]
        limit = exceeded_limit(encoder, max_length)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return  # an unreadable config.json is reported by the loader
    if limit is not None:
        raise ModelFolderError(
            f"{folder}: its windows hold {max_length} tokens (config.json window.max_length) but its encoder "
            f"reads at most {limit} ({explain_positions(encoder)}), so a long article would crash it; "
            f"train it again with model.max_length of at most {limit}"
        )


def check_model_folder(path: str | Path, verify: bool = True) -> Path:
    """Returns the folder as a ``Path`` after checking that it can be loaded safely.

    Args:
        path: the model folder.
        verify: also compare every file with the SHA-256 recorded in ``manifest.json``.

    Raises:
        ModelFolderError: naming the folder and the missing, changed or refused file, or windows
            longer than its encoder reads; or saying that it is a TF-IDF baseline, and what loads one.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ModelFolderError(f"{folder}: no such model folder (expected a folder written by newsclf-train)")
    if is_baseline_folder(folder) and not (folder / CONFIG_FILE).is_file():
        raise ModelFolderError(
            f"{folder}: a TF-IDF baseline written by newsclf-baseline, not a model written by newsclf-train; "
            "Predictor.from_pretrained, predict() and newsclf-predict (--engine local) predict with it, "
            "newsclf-evaluate scores it"
        )
    if not (folder / WEIGHTS_FILE).is_file():
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
    check_window_fits(folder)
    return folder


def load_model_folder(path: str | Path, device: str = "cpu", verify: bool = True) -> tuple[NewsClassifier, Any]:
    """Loads the model (in eval mode) and its tokenizer from a model folder (checksums checked unless
    ``verify`` is off)."""
    from transformers import AutoTokenizer

    from .classifier import NewsClassifier

    folder = check_model_folder(path, verify)
    model, tokenizer = _quietly(
        folder,
        lambda: NewsClassifier.from_pretrained(folder, use_safetensors=True, local_files_only=True),
        lambda: AutoTokenizer.from_pretrained(folder, local_files_only=True),
    )
    return model.to(device).eval(), tokenizer


def load_for_prediction(path: str | Path, device: str = "cpu", verify: bool = True) -> tuple[Any, Any]:
    """The model (in eval mode) and tokenizer a :class:`~inference.prediction.predictor.Predictor` runs.

    Where the folder's encoder is one :mod:`inference.model.native` reproduces and its tokenizer one
    :mod:`inference.model.tokenizer` reads, they are rebuilt with torch, ``safetensors`` and ``tokenizers`` alone
    (:class:`~inference.model.heads.FolderModel`), so a fresh process never imports transformers' model
    classes; otherwise they are transformers' own (:func:`load_model_folder`). Both compute the same logits.
    """
    from safetensors.torch import load_file

    from .heads import FolderModel
    from .native import supports
    from .tokenizer import FolderTokenizer, folder_tokenizer_supported
    from .uninitialized import uninitialized_layers

    folder = check_model_folder(path, verify)
    settings = _settings(folder)
    if not (supports(settings.encoder) and folder_tokenizer_supported(folder)):
        return load_model_folder(folder, device=device, verify=False)
    try:
        with uninitialized_layers():  # not the meta device: building on it imports torch._dynamo (1.3 s)
            model = FolderModel(settings)
        model.load_state_dict(_float32(load_file(folder / WEIGHTS_FILE)), assign=True)  # strict: every weight
        tokenizer = FolderTokenizer.from_folder(folder)
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as error:
        raise ModelFolderError(f"{folder}: cannot load the model: {error}") from error
    return model.to(device).eval(), tokenizer


def _float32(weights: dict[str, Any]) -> dict[str, Any]:
    """The folder's tensors in the precision the plain-torch model computes in (fp32: its floats are saved so)."""
    return {name: tensor.float() if tensor.is_floating_point() else tensor for name, tensor in weights.items()}


def load_config_and_tokenizer(path: str | Path, verify: bool = True) -> tuple[Any, Any]:
    """Loads a model folder's settings and tokenizer without its weights (for the ONNX backend): read with
    ``tokenizers`` alone where :mod:`inference.model.tokenizer` can, else with transformers."""
    from .tokenizer import FolderTokenizer, folder_tokenizer_supported

    folder = check_model_folder(path, verify)
    if folder_tokenizer_supported(folder):
        settings = _settings(folder)
        try:
            return settings, FolderTokenizer.from_folder(folder)
        except (OSError, ValueError) as error:
            raise ModelFolderError(f"{folder}: cannot load the tokenizer: {error}") from error
    from transformers import AutoTokenizer

    from .classifier import NewsClassifierConfig

    return _quietly(
        folder,
        lambda: NewsClassifierConfig.from_pretrained(folder, local_files_only=True),
        lambda: AutoTokenizer.from_pretrained(folder, local_files_only=True),
    )


def _settings(folder: Path) -> Any:
    """The folder's :class:`~inference.model.settings.ModelSettings`, read from ``config.json`` without transformers."""
    from .settings import ModelSettings

    try:
        return ModelSettings.from_file(folder / CONFIG_FILE)
    except (OSError, ValueError, TypeError) as error:
        raise ModelFolderError(f"{folder}: cannot load the model: {error}") from error


def _quietly(folder: Path, *loaders: Callable[[], Any]) -> tuple[Any, ...]:
    """Runs the loaders with transformers' logging and progress bars silenced; errors name the folder."""
    from transformers.utils import logging as hf_logging

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
