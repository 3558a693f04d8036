"""Writes a run's outputs without ever leaving a half-written file or folder behind.

A model folder is written into a temporary sibling, with a ``manifest.json`` of SHA-256 checksums,
and renamed into place; JSON and text files are written to a temporary file and renamed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from inference.atomic import default_permissions, write_json, write_text
from inference.model.folder_layout import METRICS_FILE, MODEL_CARD_FILE, TFIDF_FOLDER, TRAINING_CONFIG_FILE
from inference.model.manifest import write_manifest
from inference.prediction.fusion import TaskCalibration, write_calibration
from inference.prediction.tfidf import TfidfPredictor
from training.config import Config, save_config


def model_card(config: Config, label_lists: dict[str, list[str]], metrics: dict[str, Any]) -> str:
    """A README for the model folder: what it predicts, from what, how well, and how to use it."""
    lines = [
        "---",
        "library_name: newsclf",
        "tags: [text-classification, news, multi-task]",
        f"base_model: {config.model.name}",
        "---",
        "",
        "# newsclf news classifier",
        "",
        (
            f"Zero-shot heads on `{config.model.name}`, made by newsclf from label descriptions (no training rows). "
            if config.training.mode == "zero-shot"
            else f"Fine-tuned from `{config.model.name}` with newsclf on `{config.data.train_file}`. "
        )
        + f"One shared encoder, one head per task: {', '.join(label_lists)}.",
        "",
        *_tasks_section(config, label_lists),
        "",
        "## Input",
        "",
        f"Text fields `{'`, `'.join(config.data.text_fields)}`, joined by a blank line; windows of "
        f"{config.model.max_length} tokens, strategy `{config.model.window}`"
        + (
            f" (at most {config.model.max_windows}, {config.model.stride} tokens overlap)"
            if config.model.window == "chunks"
            else ""
        )
        + ".",
        "",
        *_metrics_section(metrics),
        "",
        *_calibration_section(metrics.get("calibration") or {}),
        "## Usage",
        "",
        "```python",
        "from inference import Predictor",
        'predictor = Predictor.from_pretrained("path/to/this/folder")',
        'predictor.predict({"title": "...", "content": "..."})',
        "```",
        "",
        "`training_config.yaml` is the full configuration of the run; `config.json` holds the tasks and their labels.",
        "Scores hold for data like the validation and test splits above; articles from other outlets,",
        "periods or topics may score lower.",
        "",
    ]
    return "\n".join(lines)


def _tasks_section(config: Config, label_lists: dict[str, list[str]]) -> list[str]:
    """The card's ``## Tasks`` heading and table (at most 12 labels shown per task)."""
    lines = ["## Tasks", "", "| task | label column | labels |", "|---|---|---|"]
    for task in config.tasks:
        if task.kind == "adversarial":
            lines.append(f"| {task.name} | `{task.label_column}` | adversarial: to be forgotten, not predicted |")
            continue
        labels = label_lists[task.name]
        shown = ", ".join(labels[:12]) + (f", … ({len(labels)} in all)" if len(labels) > 12 else "")
        lines.append(f"| {task.name} | `{task.label_column}` | {shown} |")
    return lines


def _metrics_section(metrics: dict[str, Any]) -> list[str]:
    """The card's ``## Metrics`` heading, table of scores per split and task, and training summary."""
    lines = ["## Metrics", "", "| split | task | accuracy | macro-F1 | n |", "|---|---|---|---|---|"]
    for split, per_task in metrics.get("splits", {}).items():
        for task, scores in per_task.items():
            lines.append(
                f"| {split} | {task} | {scores['accuracy']:.4f} | {scores['macro_f1']:.4f} | {scores['support']} |"
            )
    train = metrics.get("train")
    if train:
        best = Path(train["best_checkpoint"]).name if train.get("best_checkpoint") else "last"
        lines += [
            "",
            f"Trained for {train.get('steps')} steps in {train.get('seconds')} s; kept checkpoint `{best}`.",
        ]
    return lines


def _calibration_section(calibration: dict[str, Any]) -> list[str]:
    """The card's ``## Calibration`` table (empty without one): temperature, TF-IDF share, ECE per split."""
    if not calibration:
        return []
    lines = [
        "## Calibration",
        "",
        "Probabilities are the encoder's softmax, mixed with the folder's TF-IDF model's (`tfidf/`) where its share",
        "is above 0, then divided by one temperature per task, all fitted on validation (`calibration.json`).",
        "ECE: expected calibration error (15 bins) of the encoder's plain softmax, and of what the folder predicts.",
        "",
        "| task | temperature | TF-IDF share | split | ECE before | ECE after |",
        "|---|---|---|---|---|---|",
    ]
    for task, entry in calibration.items():
        for split, row in entry["splits"].items():
            lines.append(
                f"| {task} | {entry['temperature']:.3g} | {entry['tfidf_weight']:.2f} | {split} | "
                f"{row['ece_before']:.4f} | {row['ece_after']:.4f} |"
            )
    return [*lines, ""]


def save_model_folder(
    target: Path,
    model: Any,
    tokenizer: Any,
    config: Config,
    label_lists: dict[str, list[str]],
    metrics: dict[str, Any],
    calibration: dict[str, TaskCalibration] | None = None,
    tfidf: TfidfPredictor | None = None,
) -> None:
    """Writes the self-contained model folder atomically, replacing an older one only when complete
    (with ``calibration.json`` and the fused sparse model in ``tfidf/`` when given)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
    os.chmod(staging, default_permissions(directory=True))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        save_config(config, staging / TRAINING_CONFIG_FILE)
        write_json(staging / METRICS_FILE, metrics)
        if calibration:
            write_calibration(staging, calibration)
        if tfidf is not None:
            tfidf.save(staging / TFIDF_FOLDER)
        write_text(staging / MODEL_CARD_FILE, model_card(config, label_lists, metrics))
        write_manifest(staging)  # last: the SHA-256 of every file above, checked at load
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(target, old)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
