"""The model a run starts from (the pretrained encoder with one head per task) and its texts as token windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from inference.model.classifier import NewsClassifier
from inference.model.windowing import TARGET_FIELD, WindowConfig, encode_articles, encode_pairs
from training.config import Config
from training.model.encoders import resolve_encoder
from training.model.trainer import ArticleDataset


@dataclass
class Prepared:
    """What a run trains on: the splits as read, each task's labels, the model, its tokenizer, the encoded splits,
    and the articles without labels a teacher labels for it (``training.teacher_articles``; None: none)."""

    splits: dict[str, Any]
    label_lists: dict[str, list[str]]
    model: NewsClassifier
    tokenizer: Any
    datasets: dict[str, ArticleDataset]
    teacher_articles: Any = None


def tokenize(
    tokenizer: Any,
    texts: list[str],
    window: WindowConfig,
    desc: str,
    targets: list[str | None] | None = None,
) -> list[list[list[int]]]:
    """Windows of each text, or of each (target, text) pair where a target is given (None: one text)."""
    windows: list[list[list[int]]] = []
    step = 512
    for start in tqdm(range(0, len(texts), step), desc=f"tokenizing {desc}", unit="batch", disable=None):
        part = texts[start : start + step]
        part_targets = targets[start : start + step] if targets is not None else [None] * len(part)
        singles = [i for i, target in enumerate(part_targets) if target is None]
        paired = [i for i, target in enumerate(part_targets) if target is not None]
        encoded: list[Any] = [None] * len(part)
        if singles:
            for i, article in zip(singles, encode_articles(tokenizer, [part[i] for i in singles], window)):
                encoded[i] = article
        if paired:
            targets_read = [target for target in part_targets if target is not None]  # those of paired, in order
            texts_read = [part[i] for i in paired]
            for i, article in zip(paired, encode_pairs(tokenizer, targets_read, texts_read, window)):
                encoded[i] = article
        windows.extend(encoded)
    return windows


def part_windows(tokenizer: Any, model: NewsClassifier, part: Any, name: str) -> list[list[list[int]]]:
    """The windows ``model`` reads of each row of ``part`` (a ``datasets.Dataset`` with ``text``, and ``target``
    where the model has pair tasks)."""
    targets = part[TARGET_FIELD] if model.config.reads_pairs else None
    return tokenize(tokenizer, part["text"], model.config.window_config, name, targets)


def build_model(
    config: Config, label_lists: dict[str, list[str]], scrub_names: list[str] | None = None
) -> NewsClassifier:
    """The pretrained encoder (``model.name``) with a new head per task, reading as the config says."""
    overrides = {}
    if config.model.attention_dropout is not None:
        overrides["attention_probs_dropout_prob"] = config.model.attention_dropout
    if config.model.hidden_dropout is not None:
        overrides["hidden_dropout_prob"] = config.model.hidden_dropout
    window = config.model.windowing
    tasks = [{"name": t.name, "kind": t.kind, "labels": label_lists[t.name]} for t in config.tasks]
    return NewsClassifier.from_encoder(
        resolve_encoder(config.model.name),
        tasks,
        encoder_overrides=overrides,
        text_fields=config.data.text_fields,
        window=window.to_dict(),
        token_pooling=config.model.token_pooling,
        window_pooling=config.model.window_pooling,
        classifier_dropout=config.model.classifier_dropout,
        scrub_names=scrub_names,
        normalize_articles=normalizes_articles(config),
    )


def normalizes_articles(config: Config) -> bool:
    """``model.normalize_articles``, its null read as: where heads start from label descriptions (zero-shot mode,
    or a task with ``descriptions``), whose rows are unit vectors."""
    chosen = config.model.normalize_articles
    if chosen is not None:
        return chosen
    return config.training.mode == "zero-shot" or any(task.descriptions is not None for task in config.tasks)
