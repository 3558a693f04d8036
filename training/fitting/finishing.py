"""After the Trainer: the run scored as the saved model predicts (calibration and fusion fitted on validation), the
model folder and metrics written, and the report printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from inference.atomic import write_json
from inference.model.folder_layout import METRICS_FILE
from inference.prediction.predictor import Predictor
from training.config import Config, TaskConfig
from training.data import untrained_label_ids
from training.fitting.building import Prepared
from training.heads.calibration import RunCalibration, calibrate_run, calibration_report
from training.heads.group_cv import HeldOut
from training.heads.probe import ProbeStage, model_logits, probe_summary
from training.model.trainer import (
    ArticleDataset,
    MultiTaskTrainer,
)
from training.runs.saving import save_model_folder
from training.scoring.metrics import as_task_tuple, summarise, task_scores, write_reports


def adversarial_tasks(config: Config) -> list[TaskConfig]:
    """The tasks the encoder learns to fool; scored while training, left out of the saved model."""
    return [task for task in config.tasks if task.kind == "adversarial"]


def split_logits(trainer: MultiTaskTrainer, dataset: ArticleDataset, tasks: list[str]) -> dict[str, np.ndarray]:
    """The model's logits per task for every article of a split (every process takes part)."""
    prediction = trainer.predict(dataset)
    return {task: np.asarray(values) for task, values in zip(tasks, as_task_tuple(prediction.predictions))}


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
    metrics: dict[str, Any] = {"train": training_summary(trainer, config, result, seconds, probe, refit)}
    evaluated = ["validation"] + (["test"] if config.evaluation.test else [])
    evaluated = [name for name in evaluated if name in prepared.datasets]
    logits = evaluated_logits(trainer, config, prepared, evaluated, probe, refit)
    truth = {split: prepared.datasets[split].labels for split in evaluated}
    unranked = [task.name for task in adversarial_tasks(config)]
    predicted = {task: labels for task, labels in prepared.label_lists.items() if task not in unranked}
    calibration = RunCalibration()
    if main:
        scrub_names = prepared.model.config.scrub_names
        held = held_out(probe, prepared.datasets["train"].labels)
        calibration = calibrate_run(config, prepared.splits, truth, predicted, scrub_names, logits, held)
    untrained = untrained_label_ids(prepared.datasets["train"].labels, prepared.label_lists)
    metrics["splits"], metrics["summary"], printed = {}, {}, []
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


def training_summary(
    trainer: MultiTaskTrainer,
    config: Config,
    result: Any,
    seconds: float,
    probe: ProbeStage | None,
    refit: ProbeStage | None,
) -> dict[str, Any]:
    """What training cost and did: time, speed, steps, the best checkpoint, and each probe stage's penalties."""
    summary: dict[str, Any] = {
        "seconds": round(seconds, 1),
        "samples_per_second": result.metrics.get("train_samples_per_second"),
        "steps": trainer.state.global_step,
        "processes": trainer.args.world_size,
        "loss": result.metrics.get("train_loss"),
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "mode": config.training.mode,
    }
    for name, stage in (("probe", probe), ("refit", refit)):
        if stage is not None:
            summary[name] = {"seconds": round(stage.seconds, 1), "heads": probe_summary(stage.heads)}
    return summary


def evaluated_logits(
    trainer: MultiTaskTrainer,
    config: Config,
    prepared: Prepared,
    evaluated: list[str],
    probe: ProbeStage | None,
    refit: ProbeStage | None,
) -> dict[str, dict[str, np.ndarray]]:
    """Each evaluated split's logits per task, as the saved model gives them: from the probe's (or the refit's)
    cached article vectors where the encoder is still the one that made them, else from a pass of the model."""
    if config.training.mode == "probe":
        assert probe is not None  # every mode but finetune runs the probe stage
        cached = probe.features
    else:
        cached = refit.features if refit else {}
    model = trainer.model.eval()
    tasks = list(prepared.label_lists)
    return {
        split: model_logits(model, cached[split])
        if split in cached
        else split_logits(trainer, prepared.datasets[split], tasks)
        for split in evaluated
    }


def held_out(probe: ProbeStage | None, train_labels: dict[str, list[int]]) -> HeldOut | None:
    """The probe's out-of-fold logits of the training rows (``training.choose_on: groups``), to choose on."""
    if probe is None or probe.folds is None:
        return None
    logits = {}
    for task, head in probe.heads.items():
        assert head.out_of_fold is not None  # heads fitted with folds keep every training row's out-of-fold logits
        logits[task] = head.out_of_fold
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
    write_json(run_dir / METRICS_FILE, metrics)
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
    assert isinstance(result, dict)  # one article in, its result out
    title = str(next(iter(article.values())) or "")[:100]  # the first text field the row has
    print(f"\nexample prediction (reloaded from {model_dir}) for: {title!r}")
    for task, outcome in result.items():
        truth = row.get(f"label_{task}") or "-"
        print(f"  {task}: {outcome['label']} ({outcome['score']:.2f}); true: {truth}")
