"""``training.mode: zero-shot``: a model from its labels' descriptions, with no training rows.

Each task's head is one linear layer whose rows are its labels' descriptions as unit vectors (each description put
into the task's ``templates``, the encoder's embeddings of those sentences averaged), times
``training.zero_shot_scale``. The model scales each article vector to unit length as well
(``model.normalize_articles``), so a logit is the scale times the cosine similarity of article and description, and
an article costs one encoder pass whatever the number of labels. The run saves an ordinary model folder, which
``predict``, the command line, the server, Ray and ONNX read as any other. Labelled validation and test rows, where
the config names them, are scored, and ``training.calibrate`` fits each task's temperature on validation (in effect,
the scale).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import transformers

from inference.atomic import write_json
from inference.model.folder_layout import METRICS_FILE
from training.config import Config
from training.data import check_eval_labels, encode_labels, load_splits
from training.fitting.building import build_model, tokenize
from training.heads.calibration import calibrate_run, calibration_report
from training.heads.descriptions import zero_shot_head
from training.heads.feature_cache import FeatureCache
from training.heads.probe import cache_folder, install_heads, model_logits
from training.model.encoders import resolve_encoder
from training.runs.saving import save_model_folder
from training.scoring.metrics import summarise, task_scores, write_reports

logger = logging.getLogger("newsclf")


@dataclass
class ZeroShotRun:
    """What a zero-shot run leaves for its report: the reports printed, its seconds and its validation rows."""

    printed: list[str]
    seconds: float
    validation: Any | None


def make_zero_shot(config: Config, run_dir: Path) -> ZeroShotRun:
    """Builds the zero-shot model of ``config``, scores the labelled splits it names and saves ``run_dir/model``
    and ``run_dir/metrics.json``."""
    started = time.perf_counter()
    label_lists = {task.name: list(task.label_descriptions()) for task in config.tasks}
    splits = check_eval_labels(config, load_splits(config), label_lists) if has_labelled_rows(config) else {}
    model = build_model(config, label_lists).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_encoder(config.model.name))
    for task in config.tasks:
        weight, bias = zero_shot_head(model, tokenizer, task, label_lists[task.name], config.training.zero_shot_scale)
        install_heads(model, {task.name: (weight, bias)})
        logger.info(
            "zero-shot %s: %d labels x %d templates", task.name, len(label_lists[task.name]), len(task.templates)
        )
    seconds = time.perf_counter() - started
    metrics, printed, calibration = score_zero_shot(config, model, tokenizer, splits, label_lists, run_dir)
    metrics["train"] = {"seconds": round(seconds, 1), "mode": "zero-shot", "scale": config.training.zero_shot_scale}
    save_model_folder(run_dir / "model", model, tokenizer, config, label_lists, metrics, calibration=calibration.tasks)
    write_json(run_dir / METRICS_FILE, metrics)
    return ZeroShotRun(printed, seconds, splits.get("validation"))


def has_labelled_rows(config: Config) -> bool:
    """Whether the config names any data to score (a training file is split as usual; its training rows unused)."""
    data = config.data
    return bool(data.train_file or data.validation_file or data.test_file)


def score_zero_shot(
    config: Config,
    model: Any,
    tokenizer: Any,
    splits: dict[str, Any],
    label_lists: dict[str, list[str]],
    run_dir: Path,
) -> tuple[dict[str, Any], list[str], Any]:
    """Each labelled split's scores (after the temperatures fitted on validation), the reports and the
    calibration."""
    evaluated: list[str] = [name for name in ("validation", "test") if name in splits]
    evaluated = [name for name in evaluated if name == "validation" or config.evaluation.test]
    cache = FeatureCache(cache_folder(config), model, None, tokenizer.pad_token_id, bf16=False)
    window = model.config.window_config
    logits = {
        split: model_logits(model, cache.vectors(tokenize(tokenizer, splits[split]["text"], window, split), split))
        for split in evaluated
    }
    truth = {split: encode_labels(splits[split], label_lists) for split in evaluated}
    calibration = calibrate_run(config, splits, truth, label_lists, None, logits)
    metrics: dict[str, Any] = {"splits": {}, "summary": {}}
    printed = []
    for split in evaluated:
        per_task = {
            task: task_scores(
                truth[split][task], calibration.probabilities(split, task, logits[split][task]).argmax(1), labels
            )
            for task, labels in label_lists.items()
        }
        metrics["splits"][split], metrics["summary"][split] = per_task, summarise(per_task)
        printed.append(write_reports(run_dir, split, per_task, config.evaluation.confusion_matrices))
    if calibration.tasks:
        metrics["calibration"] = calibration_report(calibration, logits, truth, label_lists)
    return metrics, printed, calibration
