"""Tiny models and the settings that train them in seconds: a random one-layer classifier, the tiny encoder's
config and overrides, pair and multi-dataset task settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from testkit.articles import make_rows, pair_rows, write_jsonl
from training.config import Config, load_config

CONFIGS = Path(__file__).parents[2] / "configs"


TINY_ENCODER = {
    "model_type": "bert",
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "vocab_size": 100,
    "max_position_embeddings": 64,
}


TINY_SIZE = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}


def tiny_classifier(tasks: dict[str, list[str]], seed: int = 0, vocab_size: int = 100, **config: Any):
    """A random one-layer NewsClassifier (eval mode) with the given ``{task: labels}``."""
    import torch

    from inference.model.classifier import NewsClassifier, NewsClassifierConfig

    torch.manual_seed(seed)
    encoder = {**TINY_ENCODER, "vocab_size": vocab_size}
    tasks_spec = [{"name": name, "labels": list(labels)} for name, labels in tasks.items()]
    return NewsClassifier(NewsClassifierConfig(encoder=encoder, tasks=tasks_spec, **config)).eval()


def tiny_config(
    tmp_path: Path, encoder_dir: Path, overrides: list[str] | None = None, rows: list | None = None
) -> Config:
    """A config that trains the tiny encoder on small data in ``tmp_path`` in seconds."""
    data = write_jsonl(tmp_path / "data" / "articles.jsonl", rows if rows is not None else make_rows())
    return load_config(CONFIGS / "default.yaml", tiny_overrides(tmp_path, encoder_dir, data, overrides))


def allsides_like_overrides(tmp_path: Path, encoder_dir: Path, run_name: str) -> list[str]:
    """``--set`` overrides that train the tiny encoder for one quick epoch on the AllSides configs, with the data
    that :func:`testkit.articles.write_allsides_like` writes (found through ``NEWSCLF_DATA``)."""
    return [
        f"model.name={encoder_dir}",
        f"run.output_dir={tmp_path / 'runs'}",
        f"run.name={run_name}",
        "model.max_length=32",
        "model.stride=4",
        "training.epochs=1",
        "training.bf16=false",
        "evaluation.example=false",
        "evaluation.confusion_matrices=false",
    ]


def tiny_overrides(tmp_path: Path, encoder_dir: Path, data: Path, overrides: list[str] | None = None) -> list[str]:
    """The ``--set`` overrides of :func:`tiny_config` (run ``tiny`` under ``tmp_path/runs``), for a command line."""
    base = [
        f"data.train_file={data}",
        f"model.name={encoder_dir}",
        f"run.output_dir={tmp_path / 'runs'}",
        "run.name=tiny",
        "model.max_length=32",
        "model.stride=4",
        "training.epochs=2",
        "training.batch_size=8",
        "training.learning_rate=0.001",
        "training.bf16=false",
        "training.logging_steps=2",
        "evaluation.example=false",
        "evaluation.confusion_matrices=false",
    ]
    return base + list(overrides or [])


PAIR_TASK = "tasks=[{name: stance, label_column: stance, kind: pair, target_column: claim}]"


def pair_config(tmp_path: Path, encoder: Path, rows: list[dict[str, Any]] | None = None, *extra: str):
    data = write_jsonl(tmp_path / "pairs.jsonl", rows or pair_rows())
    return tiny_config(
        tmp_path,
        encoder,
        [f"data.train_file={data}", "data.text_fields=[content]", PAIR_TASK, "training.epochs=3", *extra],
    )


MULTI_TASKS = (  # topic and leaning from the data, stance from a second dataset of pairs
    "tasks=[{name: topic, label_column: topic}, {name: leaning, label_column: leaning},"
    " {name: stance, label_column: stance, kind: pair, target_column: claim, dataset: claims}]"
)


def multi_overrides(tmp_path: Path) -> list[str]:
    """Settings that add a `claims` dataset of pairs (written under ``tmp_path``) to the sample-like data."""
    pairs = write_jsonl(tmp_path / "claims" / "pairs.jsonl", pair_rows())
    return [
        MULTI_TASKS,
        f"datasets.claims.train_file={pairs}",
        "datasets.claims.text_fields=[content]",
        "datasets.claims.split.column=split",
        "training.epochs=3",
    ]
