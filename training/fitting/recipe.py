"""``train(config)``: the recipe from a config to a run folder, stage by stage (data, model, probe, teacher,
Trainer, refit, calibration, saving). Run folders and checkpoints are handled in :mod:`training.runs`, the log in
:mod:`training.logs`; the command line is :mod:`training.train`."""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from transformers import EarlyStoppingCallback, TrainerCallback, TrainingArguments
from transformers.trainer_utils import TrainOutput

from inference.atomic import write_json
from inference.model.classifier import NewsClassifier
from inference.prediction.backends import bf16_supported, torch_threads
from inference.prediction.predictor import Predictor

from .. import distributed
from ..calibration import RunCalibration, calibrate_run, calibration_report
from ..checks import check_config
from ..config import Config, TaskConfig, save_config
from ..data import DataError, encode_labels, load_task_data, untrained_label_ids
from ..distillation import check_teacher, teacher_probabilities
from ..encoders import resolve_encoder
from ..group_cv import HeldOut, split_by_group
from ..logs import (
    LogToFile,
    close_log_file,
    console_is_terminal,
    hide_logged_numbers,
    log_lines_instead_of_bars,
    quiet_loading,
    setup_logging,
)
from ..metrics import as_task_tuple, make_compute_metrics, summarise, task_scores, write_reports
from ..overwrite import InputOverwriteError
from ..probe import Folds, ProbeStage, model_logits, probe_summary, run_probe
from ..runs import RunFolderError, last_complete_checkpoint, point_latest, prepare_run_folder, remove_unstarted
from ..saving import save_model_folder
from ..tracking import tracking_callbacks
from ..trainer import (
    ArticleDataset,
    DrawWindowsEachEpoch,
    MultiTaskTrainer,
    ReversalSchedule,
    WindowCollator,
    balanced_class_weights,
    default_eval_batch_size,
)
from .building import build_model, tokenize
from .zero_shot import make_zero_shot

logger = logging.getLogger("newsclf")


@dataclass
class Prepared:
    """What a run trains on: the splits as read, each task's labels, the model, its tokenizer, the encoded splits."""

    splits: dict[str, Any]
    label_lists: dict[str, list[str]]
    model: NewsClassifier
    tokenizer: Any
    datasets: dict[str, ArticleDataset]


def training_arguments(config: Config, run_dir: Path, has_validation: bool, task_names: list[str]) -> TrainingArguments:
    train = config.training
    strategy = ("steps" if train.eval_steps else "epoch") if has_validation else "no"
    use_bf16 = train.bf16 == "true" or (
        train.bf16 == "auto" and bf16_supported("cuda" if torch.cuda.is_available() else "cpu")
    )
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


def split_logits(trainer: MultiTaskTrainer, dataset: ArticleDataset, tasks: list[str]) -> dict[str, np.ndarray]:
    """The model's logits per task for every article of a split (every process takes part)."""
    prediction = trainer.predict(dataset)
    return {task: np.asarray(values) for task, values in zip(tasks, as_task_tuple(prediction.predictions))}


def train(
    config: Config,
    resume: bool = False,
    overwrite: bool = False,
    extra_callbacks: list[TrainerCallback] | None = None,
    *,
    update_latest: bool = True,
    quiet: bool = False,
) -> Path:
    """Runs training as configured and returns the run folder.

    Args:
        config: the run's settings (:func:`training.config.load_config`); left as it is (the run works on a copy).
        resume: continue the run folder ``run.output_dir/run.name`` from its last checkpoint.
        overwrite: replace an existing run folder instead of refusing.
        extra_callbacks: more Trainer callbacks (e.g. a hyperparameter search's pruning). An error they
            raise with a true ``keeps_run_folder`` attribute leaves the run folder in place.
        update_latest: point ``run.output_dir/latest`` at the finished run.
        quiet: print nothing but the progress bars: no log lines on the console, no logged numbers, no
            report at the end (``train.log`` still records everything).
    """
    config = copy.deepcopy(config)
    check_config(config)
    state = distributed.start()  # None unless launched as several processes
    main = distributed.is_main(state)
    run_dir = distributed.run_on_main(
        state, prepare_run_folder, config, resume, overwrite, error_types=(RunFolderError, InputOverwriteError, OSError)
    )
    config.run.name = run_dir.name
    # the caller's own thread setting (and transformers' progress bars) are back afterwards
    with torch_threads(config.training.num_threads), quiet_loading(quiet or not console_is_terminal()):
        if config.training.mode == "zero-shot":
            return zero_shot_run(config, run_dir, update_latest, quiet)
        try:
            start_run(config, run_dir, main, resume, console=not quiet)
            prepared = prepare(config)
            trainer = build_trainer(config, run_dir, prepared, main, extra_callbacks)
            if config.training.teacher:
                learn_from_teacher(config, prepared, trainer.args.bf16)
            if quiet:
                hide_logged_numbers(trainer)
            elif not console_is_terminal():
                log_lines_instead_of_bars(trainer)
            probe = probe_heads(config, prepared, trainer) if config.training.mode != "finetune" else None
            if config.training.mode == "probe":
                result, seconds = TrainOutput(0, 0.0, {}), probe.seconds
            else:
                result, seconds = fit(trainer, state, resume)
            refit = probe_heads(config, prepared, trainer) if config.training.refit_heads else None
        except BaseException as error:
            if main and not resume and not getattr(error, "keeps_run_folder", False):
                discard_run_folder(run_dir)
            raise
        metrics, printed, calibration = score_run(
            trainer, config, prepared, run_dir, main, result, seconds, probe, refit
        )
        if main:
            save_run(run_dir, trainer, config, prepared, metrics, calibration)
            if update_latest:
                point_latest(run_dir)
            if not quiet:
                report_run(run_dir, config, prepared.splits.get("validation"), printed, seconds)
    return run_dir


def zero_shot_run(config: Config, run_dir: Path, update_latest: bool, quiet: bool) -> Path:
    """``training.mode: zero-shot``: heads from label descriptions, no Trainer (:mod:`training.fitting.zero_shot`)."""
    try:
        start_run(config, run_dir, main=True, resume=False, console=not quiet)
        made = make_zero_shot(config, run_dir)
    except BaseException:
        discard_run_folder(run_dir)
        raise
    if update_latest:
        point_latest(run_dir)
    if not quiet:
        report_run(run_dir, config, made.validation, made.printed, made.seconds)
    return run_dir


def start_run(config: Config, run_dir: Path, main: bool, resume: bool, console: bool = True) -> None:
    """Logs into the run folder (and the console), saves a new run's ``config.yaml`` and sets the seeds."""
    setup_logging(run_dir if main else None, console)
    if main and not resume:
        save_config(config, run_dir / "config.yaml")
    logger.info("run folder %s", run_dir)
    transformers.set_seed(config.run.seed)


def discard_run_folder(run_dir: Path) -> None:
    """Removes the folder of a new run that failed before its first checkpoint (it holds nothing to resume)."""
    close_log_file()
    if remove_unstarted(run_dir):
        logger.info("removed %s: the run stopped before its first checkpoint", run_dir)


def prepare(config: Config) -> Prepared:
    """Reads the data, builds the model from the encoder and tokenizes every split."""
    splits, label_lists, scrub_names = load_task_data(config)
    for task, labels in label_lists.items():
        logger.info("task %s: %d labels %s", task, len(labels), labels[:20])
    model = build_model(config, label_lists, scrub_names)
    tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_encoder(config.model.name))
    window = model.config.window_config
    pairs = model.config.reads_pairs
    datasets = {
        name: ArticleDataset(
            tokenize(tokenizer, part["text"], window, name, part["target"] if pairs else None),
            encode_labels(part, label_lists),
            part["_dataset"] if "_dataset" in part.column_names else None,
            draw_windows=config.model.train_windows if name == "train" else 0,  # evaluation reads every window
            seed=config.run.seed,
        )
        for name, part in splits.items()
    }
    return Prepared(splits, label_lists, model, tokenizer, datasets)


def build_trainer(
    config: Config, run_dir: Path, prepared: Prepared, main: bool, extra_callbacks: list[TrainerCallback] | None
) -> MultiTaskTrainer:
    """The multi-task Trainer of the run, with its callbacks (log, tracking, early stopping)."""
    datasets, label_lists, tokenizer = prepared.datasets, prepared.label_lists, prepared.tokenizer
    class_weights = {
        task.name: balanced_class_weights(datasets["train"].labels[task.name], len(label_lists[task.name]))
        for task in config.tasks
        if task.class_weights == "balanced"
    }
    has_validation = "validation" in datasets
    callbacks: list[TrainerCallback] = [LogToFile(), *(extra_callbacks or [])]
    if main:
        tracking = Path(config.training.tracking_dir) if config.training.tracking_dir else run_dir / "tracking"
        callbacks += tracking_callbacks(config.training.report_to, tracking, run_dir.name)
    if has_validation and config.training.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(config.training.early_stopping_patience))
    if config.model.train_windows:
        callbacks.append(DrawWindowsEachEpoch(datasets["train"]))
    adversarial = adversarial_tasks(config)
    if adversarial:
        callbacks.append(ReversalSchedule({t.name: (t.reversal, t.reversal_schedule) for t in adversarial}))
    pairs = prepared.model.config.reads_pairs
    return MultiTaskTrainer(
        model=prepared.model,
        args=training_arguments(config, run_dir, has_validation, list(label_lists)),
        train_dataset=datasets["train"],
        eval_dataset=datasets.get("validation"),
        data_collator=WindowCollator(tokenizer.pad_token_id, tokenizer.sep_token_id if pairs else None),
        compute_metrics=make_compute_metrics(
            label_lists, [t.name for t in adversarial], untrained_label_ids(datasets["train"].labels, label_lists)
        ),
        callbacks=callbacks,
        task_names=list(label_lists),
        task_weights={task.name: task.weight for task in config.tasks},
        class_weights=class_weights,
        group_by_length=config.training.group_by_length,
        sampling_temperature=config.training.sampling_temperature if config.training.sampling == "temperature" else 1.0,
        label_smoothing=config.training.label_smoothing,
        head_learning_rate=config.training.head_learning_rate,
        distill_weight=config.training.distill_weight,
    )


def learn_from_teacher(config: Config, prepared: Prepared, bf16: bool) -> None:
    """Gives the training articles the teacher's probabilities as soft targets (``training.teacher``)."""
    check_teacher(config, prepared.label_lists)  # the labels the data gave, before the teacher's pass
    tasks = [task.name for task in config.tasks if task.kind != "adversarial"]
    train_set = prepared.datasets["train"]
    train_set.soft_labels = teacher_probabilities(config, prepared.splits["train"], tasks, tokenize, bf16)


def probe_heads(config: Config, prepared: Prepared, trainer: MultiTaskTrainer) -> ProbeStage:
    """The frozen-feature stage (``training.mode`` probe or probe+finetune, and ``training.refit_heads`` after
    fine-tuning): heads fitted on the model's encoder as it is now, and put in the model."""
    splits = {name: prepared.datasets[name] for name in ("train", "validation", "test") if name in prepared.datasets}
    if config.training.mode != "probe" or not config.evaluation.test:
        splits.pop("test", None)  # fine-tuning scores test with the fine-tuned encoder; nothing to embed it for
    return run_probe(
        config,
        prepared.model,
        prepared.tokenizer,
        splits,
        prepared.label_lists,
        trainer.class_weights,
        trainer.args.bf16,
        training_folds(config, prepared),
    )


def training_folds(config: Config, prepared: Prepared) -> Folds | None:
    """``training.choose_on: groups``'s folds over ``data.group_column`` of the training split (else None)."""
    if config.training.choose_on != "groups":
        return None
    column, train_split = config.data.group_column, prepared.splits["train"]
    if column not in train_split.column_names:
        raise DataError(f"training.choose_on groups: the training split has no column {column!r} (data.group_column)")
    return split_by_group(train_split[column], config.training.group_folds, column)


def adversarial_tasks(config: Config) -> list[TaskConfig]:
    """The tasks the encoder learns to fool; scored while training, left out of the saved model."""
    return [task for task in config.tasks if task.kind == "adversarial"]


def fit(trainer: MultiTaskTrainer, state: Any, resume: bool) -> tuple[Any, float]:
    """Trains (from the last complete checkpoint when resuming); returns the Trainer's result and the seconds."""
    args = trainer.args
    checkpoint = distributed.run_on_main(state, last_complete_checkpoint, Path(args.output_dir)) if resume else None
    if resume:
        logger.info("resuming from %s", checkpoint or "the start (no checkpoint yet)")
    logger.info(
        "training on %d articles (bf16=%s, %d threads, %d processes)",
        len(trainer.train_dataset),
        args.bf16,
        torch.get_num_threads(),
        args.world_size,
    )
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    return result, time.perf_counter() - started


def score_run(
    trainer: MultiTaskTrainer,
    config: Config,
    prepared: Prepared,
    run_dir: Path,
    main: bool,
    result: Any,
    seconds: float,
    probe: ProbeStage | None = None,
    refit: ProbeStage | None = None,
) -> tuple[dict[str, Any], list[str], RunCalibration]:
    """The run's metrics (training, then each evaluated split, scored as the saved model predicts) and the
    reports printed at the end; the main process also fits the calibration (and the fused TF-IDF model) on
    validation and writes the reports into the run folder. A probe-only run scores its cached vectors."""
    metrics: dict[str, Any] = {
        "train": {
            "seconds": round(seconds, 1),
            "samples_per_second": result.metrics.get("train_samples_per_second"),
            "steps": trainer.state.global_step,
            "processes": trainer.args.world_size,
            "loss": result.metrics.get("train_loss"),
            "best_checkpoint": trainer.state.best_model_checkpoint,
            "mode": config.training.mode,
        },
        "splits": {},
        "summary": {},
    }
    evaluated = ["validation"] + (["test"] if config.evaluation.test else [])
    evaluated = [name for name in evaluated if name in prepared.datasets]
    tasks = list(prepared.label_lists)
    # the probe's (or the refit's) article vectors are what the encoder, as saved, gives those splits
    cached = probe.features if config.training.mode == "probe" else (refit.features if refit else {})
    model = trainer.model.eval()
    logits = {
        split: model_logits(model, cached[split])
        if split in cached
        else split_logits(trainer, prepared.datasets[split], tasks)
        for split in evaluated
    }
    for name, stage in (("probe", probe), ("refit", refit)):
        if stage is not None:
            metrics["train"][name] = {"seconds": round(stage.seconds, 1), "heads": probe_summary(stage.heads)}
    truth = {split: prepared.datasets[split].labels for split in evaluated}
    untrained = untrained_label_ids(prepared.datasets["train"].labels, prepared.label_lists)
    unranked = [task.name for task in adversarial_tasks(config)]
    predicted = {task: labels for task, labels in prepared.label_lists.items() if task not in unranked}
    calibration = RunCalibration()
    if main:
        calibration = calibrate_run(
            config,
            prepared.splits,
            truth,
            predicted,
            prepared.model.config.scrub_names,
            logits,
            held_out(probe, prepared.datasets["train"].labels),
        )
    printed = []
    for split in evaluated:
        per_task = {
            task: task_scores(
                truth[split][task],
                calibration.probabilities(split, task, logits[split][task]).argmax(1),
                labels,
                untrained[task],
            )
            for task, labels in prepared.label_lists.items()
        }
        metrics["splits"][split] = per_task
        metrics["summary"][split] = summarise(per_task, unranked)
        if main:
            printed.append(write_reports(run_dir, split, per_task, config.evaluation.confusion_matrices))
    if calibration.tasks:
        metrics["calibration"] = calibration_report(calibration, logits, truth, predicted)
        metrics["train"]["tfidf"] = calibration.tfidf_info or None
    return metrics, printed, calibration


def held_out(probe: ProbeStage | None, train_labels: dict[str, list[int]]) -> HeldOut | None:
    """The probe's out-of-fold logits of the training rows (``training.choose_on: groups``), to choose on."""
    if probe is None or probe.folds is None:
        return None
    logits = {task: head.out_of_fold for task, head in probe.heads.items()}
    return HeldOut(logits, train_labels, probe.folds)


def save_run(
    run_dir: Path,
    trainer: MultiTaskTrainer,
    config: Config,
    prepared: Prepared,
    metrics: dict,
    calibration: RunCalibration,
) -> None:
    """Writes the model folder (without adversarial heads), ``metrics.json`` and ``log_history.json``."""
    dropped = [task.name for task in adversarial_tasks(config)]
    trainer.model.drop_tasks(dropped)
    label_lists = {task: labels for task, labels in prepared.label_lists.items() if task not in dropped}
    save_model_folder(
        run_dir / "model",
        trainer.model,
        prepared.tokenizer,
        config,
        label_lists,
        metrics,
        calibration=calibration.tasks,
        tfidf=calibration.tfidf,
    )
    write_json(run_dir / "metrics.json", metrics)
    write_json(run_dir / "log_history.json", trainer.state.log_history)


def report_run(run_dir: Path, config: Config, validation: Any | None, printed: list[str], seconds: float) -> None:
    """Prints the scores, where the model went and (``evaluation.example``) one prediction of the saved model on
    the first ``validation`` row."""
    model_dir = run_dir / "model"
    print("\n" + "\n\n".join(printed) if printed else "(no validation split: nothing scored)")
    print(f"\ntrained in {seconds:.0f} s; model saved to {model_dir}")
    if config.evaluation.example and validation is not None and len(validation):
        _print_example(model_dir, validation[0], config)


def _print_example(model_dir: Path, row: dict[str, Any], config: Config) -> None:
    predictor = Predictor.from_pretrained(model_dir)
    fields = [field for field in config.data.text_fields if field in row]
    # rows stacked from several datasets keep only their joined text
    article = {field: row[field] for field in fields} if fields else {config.data.text_fields[-1]: row["text"]}
    if row.get("target") is not None:
        article["target"] = row["target"]
    result = predictor.predict(article)
    title = str(next(iter(article.values())) or "")[:100]  # the first text field the row has
    print(f"\nexample prediction (reloaded from {model_dir}) for: {title!r}")
    for task, outcome in result.items():
        truth = row.get(f"label_{task}") or "-"
        print(f"  {task}: {outcome['label']} ({outcome['score']:.2f}); true: {truth}")
