"""``train(config)``: the recipe from a config to a run folder, stage by stage (data, model, probe, teacher,
Trainer, refit, calibration, saving). Run folders and checkpoints are handled in :mod:`training.runs.folders`,
the log in :mod:`training.runs.logs`; the command line is :mod:`training.train`."""

from __future__ import annotations

import copy
import logging
import time
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import EarlyStoppingCallback, TrainerCallback
from transformers.trainer_utils import TrainOutput

from inference.prediction.torch_backend import torch_threads
from training.config import Config, save_config
from training.data import encode_labels, load_task_data, untrained_label_ids
from training.data.labels import balanced_class_weights
from training.data.unlabelled import read_teacher_articles
from training.fitting.building import Prepared, build_model, part_windows, tokenize
from training.fitting.checks import check_config
from training.fitting.finishing import adversarial_tasks, report_run, save_run, score_run
from training.fitting.zero_shot import make_zero_shot
from training.heads.distillation import check_teacher, load_teacher, teacher_probabilities
from training.heads.group_cv import folds_of_split
from training.heads.probe import Folds, ProbeStage, run_probe
from training.model.arguments import training_arguments, uses_bf16
from training.model.encoders import resolve_encoder
from training.model.freezing import train_top_layers
from training.model.trainer import (
    ArticleDataset,
    DrawWindowsEachEpoch,
    MultiTaskTrainer,
    ReversalSchedule,
    WindowCollator,
)
from training.runs import distributed
from training.runs.folders import (
    RunFolderError,
    last_complete_checkpoint,
    point_latest,
    prepare_run_folder,
    remove_unstarted,
)
from training.runs.logs import (
    LogToFile,
    close_log_file,
    console_is_terminal,
    hide_logged_numbers,
    log_lines_instead_of_bars,
    quiet_loading,
    setup_logging,
)
from training.runs.overwrite import InputOverwriteError
from training.runs.tracking import tracking_callbacks
from training.scoring.metrics import make_compute_metrics

logger = logging.getLogger("newsclf")


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
            prepared = prepare_run(config)
            train_set = learn_from_teacher(config, prepared) if config.training.teacher else prepared.datasets["train"]
            trainer = build_trainer(config, run_dir, prepared, train_set, main, extra_callbacks)
            if quiet:
                hide_logged_numbers(trainer)
            elif not console_is_terminal():
                log_lines_instead_of_bars(trainer)
            probe = probe_heads(config, prepared, trainer) if config.training.mode != "finetune" else None
            if config.training.mode == "probe":
                assert probe is not None  # probe_heads ran: the mode is not finetune
                result, seconds = TrainOutput(0, 0.0, {}), probe.seconds
            else:
                result, seconds = run_trainer(trainer, state, resume)
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


def prepare_run(config: Config) -> Prepared:
    """Reads the data, builds the model from the encoder and tokenizes every split."""
    data = load_task_data(config)
    splits, label_lists = data.splits, data.label_lists
    teacher_articles = read_teacher_articles(config, data.scrub_names)  # read and checked before the model loads
    for task, labels in label_lists.items():
        logger.info("task %s: %d labels %s", task, len(labels), labels[:20])
    model = build_model(config, label_lists, data.scrub_names)
    if config.training.trainable_layers is not None:
        trained = train_top_layers(model, config.training.trainable_layers)
        logger.info("fine-tuning the top %d encoder layers: %d parameters", config.training.trainable_layers, trained)
    tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_encoder(config.model.name))
    datasets = {
        name: ArticleDataset(
            part_windows(tokenizer, model, part, name),
            encode_labels(part, label_lists),
            part["_dataset"] if "_dataset" in part.column_names else None,
            draw_windows=config.model.train_windows if name == "train" else 0,  # evaluation reads every window
            seed=config.run.seed,
        )
        for name, part in splits.items()
    }
    return Prepared(splits, label_lists, model, tokenizer, datasets, teacher_articles)


def build_trainer(
    config: Config,
    run_dir: Path,
    prepared: Prepared,
    train_set: ArticleDataset,
    main: bool,
    extra_callbacks: list[TrainerCallback] | None,
) -> MultiTaskTrainer:
    """The multi-task Trainer of the run, with its callbacks (log, tracking, early stopping), learning from
    ``train_set`` (the training split, with a teacher's articles after it where it has them)."""
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
        callbacks.append(DrawWindowsEachEpoch(train_set))
    adversarial = adversarial_tasks(config)
    if adversarial:
        callbacks.append(ReversalSchedule({t.name: (t.reversal, t.reversal_schedule) for t in adversarial}))
    pairs = prepared.model.config.reads_pairs
    return MultiTaskTrainer(
        model=prepared.model,
        args=training_arguments(config, run_dir, has_validation, list(label_lists)),
        train_dataset=train_set,
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


def learn_from_teacher(config: Config, prepared: Prepared) -> ArticleDataset:
    """Gives the training articles the teacher's probabilities as soft targets (``training.teacher``); returns
    what the Trainer learns from: those articles, then ``training.teacher_articles`` with soft targets alone."""
    check_teacher(config, prepared.label_lists)  # the labels the data gave, before the teacher's pass
    tasks = [task.name for task in config.tasks if task.kind != "adversarial"]
    train_set, bf16, teacher = prepared.datasets["train"], uses_bf16(config), load_teacher(config)
    train_set.soft_labels = teacher_probabilities(
        config, prepared.splits["train"], tasks, tokenize, bf16, train_set.labels, teacher=teacher
    )
    extra = prepared.teacher_articles
    if extra is None:
        return train_set
    windows = part_windows(prepared.tokenizer, prepared.model, extra, "teacher articles")
    return train_set.followed_by(windows, teacher_probabilities(config, extra, tasks, tokenize, bf16, teacher=teacher))


def probe_heads(config: Config, prepared: Prepared, trainer: MultiTaskTrainer) -> ProbeStage:
    """The frozen-feature stage (``training.mode`` probe or probe+finetune, and ``training.refit_heads`` after
    fine-tuning): heads fitted on the model's encoder as it is now, and put in the model."""
    splits: dict[str, ArticleDataset] = {
        name: prepared.datasets[name] for name in ("train", "validation", "test") if name in prepared.datasets
    }
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
    return folds_of_split(prepared.splits["train"], config)


def run_trainer(trainer: MultiTaskTrainer, state: Any, resume: bool) -> tuple[Any, float]:
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
