"""The Hugging Face ``TrainingArguments`` of a run, built from its config."""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import TrainingArguments

from inference.prediction.backends import bf16_supported
from training.config import Config
from training.model.trainer import default_eval_batch_size


def uses_bf16(config: Config) -> bool:
    """Whether the run computes in bf16: ``training.bf16`` true, or auto where the device has fast bf16."""
    setting = config.training.bf16
    return setting == "true" or (setting == "auto" and bf16_supported("cuda" if torch.cuda.is_available() else "cpu"))


def training_arguments(config: Config, run_dir: Path, has_validation: bool, task_names: list[str]) -> TrainingArguments:
    train = config.training
    strategy = ("steps" if train.eval_steps else "epoch") if has_validation else "no"
    windows = config.model.max_windows if config.model.window == "chunks" else 1  # an article's, at most
    return TrainingArguments(
        output_dir=str(run_dir / "checkpoints"),
        num_train_epochs=train.epochs,
        max_steps=train.max_steps,
        per_device_train_batch_size=train.batch_size,
        per_device_eval_batch_size=train.eval_batch_size or default_eval_batch_size(config.model.max_length, windows),
        gradient_accumulation_steps=train.gradient_accumulation,
        learning_rate=train.learning_rate,
        weight_decay=train.weight_decay,
        warmup_steps=train.warmup_ratio,
        max_grad_norm=train.max_grad_norm,
        optim=train.optimizer,
        bf16=uses_bf16(config),
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
        report_to="none",  # trackers are added as callbacks that write into the run (training.runs.tracking)
        run_name=config.run.name,
        seed=config.run.seed,
        data_seed=config.run.seed,
        remove_unused_columns=False,
        label_names=[f"labels_{name}" for name in task_names],
        dataloader_num_workers=train.dataloader_workers,
        disable_tqdm=False,
    )
