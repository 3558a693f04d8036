"""Fine-tunes one shared encoder with one head per task and writes a self-contained run folder.

    python -m training.train --config configs/default.yaml
    python -m training.train --config configs/allsides.yaml --set training.epochs=1 data.max_train_samples=2000
    python -m training.train --resume runs/default-20261125-101500      # continue a killed run
    newsclf-train --config configs/default.yaml --set run.name=first

A run writes ``runs/<name>/``: ``config.yaml`` (as used), ``train.log``, ``checkpoints/``,
``model/`` (weights, tokenizer, label maps, config, metrics, model card), ``metrics.json`` and
``reports/`` (a classification report and a confusion-matrix PNG per task and split). An existing
run folder is never overwritten unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from tqdm.auto import tqdm
from transformers import EarlyStoppingCallback, TrainerCallback, TrainingArguments
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from inference.backends import bf16_supported
from inference.modeling import NewsClassifier
from inference.predictor import Predictor
from inference.windowing import WindowConfig, encode_articles, encode_pairs

from . import distributed
from .config import Config, ConfigError, load_config, save_config
from .data import DataError, encode_labels, load_task_data
from .encoders import resolve_encoder
from .metrics import (
    SUMMARY,
    as_task_tuple,
    format_report,
    make_compute_metrics,
    plot_confusion_matrix,
    summarise,
    task_scores,
)
from .saving import save_model_folder, write_json_atomic
from .tracking import trackers, tracking_callbacks
from .trainer import ArticleDataset, MultiTaskTrainer, WindowCollator, balanced_class_weights

logger = logging.getLogger("newsclf")
progress_log = logging.getLogger("newsclf.progress")  # file only: the console already shows the Trainer's lines


class RunFolderError(ValueError):
    """The run folder exists (and may not be overwritten) or cannot be resumed."""


class LogToFile(TrainerCallback):
    """Sends the Trainer's logged numbers to the run's log, so ``tail -f train.log`` follows a run."""

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if logs:
            numbers = {k: round(v, 5) if isinstance(v, float) else v for k, v in logs.items()}
            progress_log.info("step %d/%d epoch %.2f %s", state.global_step, state.max_steps, state.epoch or 0, numbers)


def setup_logging(run_dir: Path | None) -> None:
    """Logs to the console and ``run_dir/train.log``; None (a process other than the main one): warnings only."""
    if run_dir is None:
        for name in ("newsclf", "training"):
            logging.getLogger(name).setLevel(logging.WARNING)
        return
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    file_handler = logging.FileHandler(run_dir / "train.log", encoding="utf-8")
    file_handler.setFormatter(formatter)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(formatter)
    for name in ("newsclf", "training"):
        target = logging.getLogger(name)
        target.handlers = [file_handler, console]
        target.setLevel(logging.INFO)
        target.propagate = False
    progress_log.handlers = [file_handler]
    progress_log.setLevel(logging.INFO)
    progress_log.propagate = False
    transformers.utils.logging.add_handler(file_handler)
    transformers.utils.logging.set_verbosity_warning()


def describe_machine() -> str:
    """CPU model, core count, Python and OS: the machine line of benchmark reports."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def prepare_run_folder(config: Config, resume: bool, overwrite: bool) -> Path:
    """Creates (or, to resume, reuses) ``<output_dir>/<name>``; refuses to clobber an existing one."""
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
    if run_dir.exists():
        if not overwrite:
            raise RunFolderError(
                f"{run_dir} already exists; use --resume to continue it, --overwrite to replace it, "
                "or --set run.name=NEW for a new run"
            )
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    return run_dir


def tokenize(
    tokenizer: Any,
    texts: list[str],
    window: WindowConfig,
    desc: str,
    targets: list[str | None] | None = None,
    max_target_tokens: int = 64,
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
            targets_read, texts_read = [part_targets[i] for i in paired], [part[i] for i in paired]
            for i, article in zip(paired, encode_pairs(tokenizer, targets_read, texts_read, window, max_target_tokens)):
                encoded[i] = article
        windows.extend(encoded)
    return windows


def build_model(
    config: Config, label_lists: dict[str, list[str]], scrub_names: list[str] | None = None
) -> NewsClassifier:
    overrides = {}
    if config.model.attention_dropout is not None:
        overrides["attention_probs_dropout_prob"] = config.model.attention_dropout
    window = window_config(config)
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
        max_target_tokens=config.model.max_target_tokens,
    )


def training_arguments(config: Config, run_dir: Path, has_validation: bool, task_names: list[str]) -> TrainingArguments:
    train = config.training
    strategy = ("steps" if train.eval_steps else "epoch") if has_validation else "no"
    use_bf16 = train.bf16 == "true" or (
        train.bf16 == "auto" and bf16_supported("cuda" if torch.cuda.is_available() else "cpu")
    )
    return TrainingArguments(
        output_dir=str(run_dir / "checkpoints"),
        num_train_epochs=train.epochs,
        max_steps=train.max_steps,
        per_device_train_batch_size=train.batch_size,
        per_device_eval_batch_size=train.eval_batch_size,
        gradient_accumulation_steps=train.gradient_accumulation,
        learning_rate=train.learning_rate,
        weight_decay=train.weight_decay,
        warmup_steps=train.warmup_ratio,
        max_grad_norm=train.max_grad_norm,
        bf16=use_bf16,
        use_cpu=not torch.cuda.is_available(),
        eval_strategy=strategy,
        eval_steps=train.eval_steps,
        save_strategy=strategy if has_validation else "epoch",
        save_steps=train.eval_steps,
        save_total_limit=train.save_total_limit,
        load_best_model_at_end=has_validation,
        metric_for_best_model=train.metric if has_validation else None,
        greater_is_better=not train.metric.endswith("loss"),
        logging_steps=train.logging_steps,
        report_to="none",  # trackers are added as callbacks that write into the run (training.tracking)
        run_name=config.run.name,
        seed=config.run.seed,
        data_seed=config.run.seed,
        remove_unused_columns=False,
        label_names=[f"labels_{name}" for name in task_names],
        dataloader_num_workers=train.dataloader_workers,
        disable_tqdm=False,
    )


def last_complete_checkpoint(folder: Path) -> str | None:
    """The newest checkpoint in ``folder`` that was written completely, or None.

    The Trainer writes a checkpoint's ``trainer_state.json`` last, so a newer checkpoint without a
    readable one was cut short (the run was killed while saving it): resuming from it would crash, and
    the Trainer's rotation would keep it as the newest. Such checkpoints are removed with a warning.
    """
    if not folder.is_dir():
        return None
    found = []
    for path in folder.iterdir():
        match = re.fullmatch(rf"{PREFIX_CHECKPOINT_DIR}-(\d+)", path.name)
        if match and path.is_dir():
            found.append((int(match.group(1)), path))
    for _, path in sorted(found, reverse=True):
        try:
            json.loads((path / TRAINER_STATE_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning("removing %s: only partly written (the run was stopped while saving it)", path)
            shutil.rmtree(path, ignore_errors=True)
            continue
        return str(path)
    return None


def score_split(
    trainer: MultiTaskTrainer, dataset: ArticleDataset, label_lists: dict[str, list[str]]
) -> dict[str, dict[str, Any]]:
    prediction = trainer.predict(dataset)
    logits = as_task_tuple(prediction.predictions)
    return {
        task: task_scores(dataset.labels[task], np.asarray(logits[i]).argmax(-1), labels)
        for i, (task, labels) in enumerate(label_lists.items())
    }


def write_reports(run_dir: Path, split: str, per_task: dict[str, dict[str, Any]], plots: bool) -> str:
    reports = run_dir / "reports"
    reports.mkdir(exist_ok=True)
    texts = []
    for task, scores in per_task.items():
        text = format_report(task, scores)
        texts.append(f"[{split}] {text}")
        (reports / f"{task}_{split}.txt").write_text(text + "\n", encoding="utf-8")
        if plots:
            plot_confusion_matrix(scores, f"{task} — {split}", reports / f"{task}_{split}_confusion.png")
    return "\n\n".join(texts)


def window_config(config: Config) -> WindowConfig:
    """The model's windowing, checked, with errors that name the config keys."""
    model = config.model
    try:
        return WindowConfig(
            strategy=model.window,
            max_length=model.max_length,
            stride=model.stride,
            max_windows=model.max_windows,
            head_fraction=model.head_fraction,
        )
    except ValueError as error:
        raise ConfigError(
            f"model: {error} (keys model.window, max_length, stride, max_windows, head_fraction)"
        ) from None


def check_config(config: Config) -> None:
    """Refuses settings that would fail later, before any work is done."""
    window_config(config)
    for name, part in config.parts().items():
        where = "tasks" if name == "data" else f"tasks of dataset {name!r}"
        if len({task.kind for task in part.tasks}) > 1:
            raise ConfigError(
                f"{where}: single and pair tasks read different inputs, so they need different rows; "
                "put the pair tasks' data in its own `datasets` entry"
            )
        pair_targets = {task.target_column for task in part.tasks if task.kind == "pair"}
        if None in pair_targets or len(pair_targets) > 1:
            raise ConfigError(
                f"{where}: every pair task needs the same target_column (the column holding the target), "
                f"got {pair_targets}"
            )
    trackers(config.training.report_to)
    if config.training.sampling_temperature <= 0:
        raise ConfigError(
            f"training.sampling_temperature: expected a positive number, got {config.training.sampling_temperature}"
        )
    names = ["loss", *SUMMARY, *(f"{task.name}_{metric}" for task in config.tasks for metric in SUMMARY)]
    if config.training.metric not in names:
        raise ConfigError(f"training.metric {config.training.metric!r} is not reported; choose one of {names}")


def train(
    config: Config, resume: bool = False, overwrite: bool = False, extra_callbacks: list[TrainerCallback] | None = None
) -> Path:
    """Runs training as configured and returns the run folder.

    Args:
        config: the run's settings (:func:`training.config.load_config`).
        resume: continue the run folder ``run.output_dir/run.name`` from its last checkpoint.
        overwrite: replace an existing run folder instead of refusing.
        extra_callbacks: more Trainer callbacks (e.g. a hyperparameter search's pruning).
    """
    check_config(config)
    state = distributed.start()  # None unless launched as several processes
    main = distributed.is_main(state)
    run_dir = distributed.run_on_main(
        state, prepare_run_folder, config, resume, overwrite, error_types=(RunFolderError, OSError)
    )
    config.run.name = run_dir.name
    setup_logging(run_dir if main else None)
    if main and not resume:
        save_config(config, run_dir / "config.yaml")
    logger.info("run folder %s", run_dir)
    if config.training.num_threads:
        torch.set_num_threads(config.training.num_threads)
    transformers.set_seed(config.run.seed)

    splits, label_lists, scrub_names = load_task_data(config)
    for task, labels in label_lists.items():
        logger.info("task %s: %d labels %s", task, len(labels), labels[:20])

    model = build_model(config, label_lists, scrub_names)
    tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_encoder(config.model.name))
    window = WindowConfig(**model.config.window)
    pairs = model.config.reads_pairs
    datasets = {
        name: ArticleDataset(
            tokenize(
                tokenizer,
                part["text"],
                window,
                name,
                part["target"] if pairs else None,
                config.model.max_target_tokens,
            ),
            encode_labels(part, label_lists),
            part["_dataset"] if "_dataset" in part.column_names else None,
        )
        for name, part in splits.items()
    }
    class_weights = {
        task.name: balanced_class_weights(datasets["train"].labels[task.name], len(label_lists[task.name]))
        for task in config.tasks
        if task.class_weights == "balanced"
    }
    has_validation = "validation" in datasets
    args = training_arguments(config, run_dir, has_validation, list(label_lists))
    callbacks: list[TrainerCallback] = [LogToFile(), *(extra_callbacks or [])]
    if main:
        tracking = Path(config.training.tracking_dir) if config.training.tracking_dir else run_dir / "tracking"
        callbacks += tracking_callbacks(config.training.report_to, tracking, run_dir.name)
    if has_validation and config.training.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(config.training.early_stopping_patience))
    trainer = MultiTaskTrainer(
        model=model,
        args=args,
        train_dataset=datasets["train"],
        eval_dataset=datasets.get("validation"),
        data_collator=WindowCollator(tokenizer.pad_token_id, tokenizer.sep_token_id if pairs else None),
        compute_metrics=make_compute_metrics(label_lists),
        callbacks=callbacks,
        task_names=list(label_lists),
        task_weights={task.name: task.weight for task in config.tasks},
        class_weights=class_weights,
        group_by_length=config.training.group_by_length,
        sampling_temperature=config.training.sampling_temperature if config.training.sampling == "temperature" else 1.0,
    )
    checkpoint = distributed.run_on_main(state, last_complete_checkpoint, Path(args.output_dir)) if resume else None
    if resume:
        logger.info("resuming from %s", checkpoint or "the start (no checkpoint yet)")
    logger.info(
        "training on %d articles (bf16=%s, %d threads, %d processes)",
        len(datasets["train"]),
        args.bf16,
        torch.get_num_threads(),
        args.world_size,
    )
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    seconds = time.perf_counter() - started

    metrics: dict[str, Any] = {
        "train": {
            "seconds": round(seconds, 1),
            "samples_per_second": result.metrics.get("train_samples_per_second"),
            "steps": trainer.state.global_step,
            "processes": args.world_size,
            "loss": result.metrics.get("train_loss"),
            "best_checkpoint": trainer.state.best_model_checkpoint,
        },
        "splits": {},
        "summary": {},
    }
    printed = []
    evaluated = ["validation"] + (["test"] if config.evaluation.test else [])
    for split in (name for name in evaluated if name in datasets):
        per_task = score_split(trainer, datasets[split], label_lists)  # every process takes part
        metrics["splits"][split] = per_task
        metrics["summary"][split] = summarise(per_task)
        if main:
            printed.append(write_reports(run_dir, split, per_task, config.evaluation.confusion_matrices))
    model_dir = run_dir / "model"
    if not main:
        return run_dir
    save_model_folder(model_dir, trainer.model, tokenizer, config, label_lists, metrics)
    write_json_atomic(run_dir / "metrics.json", metrics)
    write_json_atomic(run_dir / "log_history.json", trainer.state.log_history)
    _point_latest(run_dir)

    print("\n" + "\n\n".join(printed) if printed else "(no validation split: nothing scored)")
    print(f"\ntrained in {seconds:.0f} s; model saved to {model_dir}")
    if config.evaluation.example and "validation" in splits:
        _print_example(model_dir, splits["validation"][0], config)
    return run_dir


def _point_latest(run_dir: Path) -> None:
    """Keeps ``<output_dir>/latest`` pointing at the newest finished run."""
    link = run_dir.parent / "latest"
    try:
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(run_dir.name)
    except OSError:
        logger.warning("could not update %s", link)


def _print_example(model_dir: Path, row: dict[str, Any], config: Config) -> None:
    predictor = Predictor.from_pretrained(model_dir)
    fields = [field for field in config.data.text_fields if field in row]
    # rows stacked from several datasets keep only their joined text
    article = {field: row[field] for field in fields} if fields else {config.data.text_fields[-1]: row["text"]}
    if row.get("target") is not None:
        article["target"] = row["target"]
    result = predictor.predict(article)
    title = str(article.get(config.data.text_fields[0]) or "")[:100]
    print(f"\nexample prediction (reloaded from {model_dir}) for: {title!r}")
    for task, outcome in result.items():
        truth = row.get(f"label_{task}") or "-"
        print(f"  {task}: {outcome['label']} ({outcome['score']:.2f}); true: {truth}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="newsclf-train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", help="YAML config (default: configs/default.yaml, or the resumed run's)")
    parser.add_argument(
        "--set",
        dest="overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="override config values, e.g. training.epochs=1 run.name=quick",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="RUN_FOLDER",
        help="continue from the last checkpoint (of run.name, or of RUN_FOLDER)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        config_path = args.config
        overrides = list(args.overrides)
        if isinstance(args.resume, str):
            run_dir = Path(args.resume)
            config_path = config_path or str(run_dir / "config.yaml")
            overrides += [f"run.output_dir={run_dir.parent}", f"run.name={run_dir.name}"]
        config = load_config(config_path or "configs/default.yaml", overrides)
        if isinstance(args.resume, str):
            config.source = None
        train(config, resume=bool(args.resume), overwrite=args.overwrite)
    except (ConfigError, DataError, RunFolderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        if os.environ.get("NEWSCLF_DEBUG"):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
