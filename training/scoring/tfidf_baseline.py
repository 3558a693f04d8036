"""TF-IDF + linear SVM, one per task, fitted from a run's config (same files, splits, tasks, label maps and
scrubbing): word uni- and bigrams, sublinear TF, one shared vocabulary; each task's SVM cost C picked on the
validation split. The fitted model and its folder format (no pickle) live in :mod:`inference.prediction.tfidf`, so
a fine-tuned model can carry one (``training.fuse_tfidf``). The command line is :mod:`training.baseline`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.svm import LinearSVC

from inference.atomic import write_json, write_text
from inference.model.folder_layout import METRICS_FILE, TRAINING_CONFIG_FILE
from inference.model.manifest import write_manifest
from inference.prediction.tfidf import VECTORIZER, TfidfPredictor, pair_text
from training.config import Config, ConfigError, save_config
from training.data import DataError, label_ids, load_task_data
from training.runs.folders import prepare_run_folder, remove_unstarted
from training.runs.overwrite import InputOverwriteError
from training.scoring.metrics import format_report, summarise, task_scores

COSTS = (0.1, 0.3, 1.0)


def tfidf_texts(part: Any) -> list[str]:
    """The texts TF-IDF reads of a split: for pair tasks, the target and then the text."""
    if "target" not in part.column_names:
        return list(part["text"])
    return [pair_text(target, text) for target, text in zip(part["target"], part["text"])]


def fit_tfidf(
    splits: dict[str, Any],
    label_lists: dict[str, list[str]],
    text_fields: list[str],
    scrub_names: list[str] | None,
    workers: int | None = None,
) -> tuple[TfidfPredictor, dict[str, Any]]:
    """Fits the vectorizer on the training split and one SVM per task, its cost C chosen on validation
    macro-F1 (cross-validated on training without one); returns the model and ``{"seconds", "C", "features"}``.
    The SVMs of every task and cost are fitted side by side in ``workers`` processes (None: one per core)."""
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(**VECTORIZER)
    train_features = vectorizer.fit_transform(tfidf_texts(splits["train"]))
    rows = {}
    for task, labels in label_lists.items():
        y = np.array(label_ids(splits["train"][f"label_{task}"], labels))
        rows[task] = train_features[y != -100], y[y != -100]
    if "validation" in splits:
        fits = fit_svms(rows, {task: COSTS for task in rows}, workers)
        validation = vectorizer.transform(tfidf_texts(splits["validation"]))
        chosen = {
            task: chosen_cost(fits[task], validation, label_ids(splits["validation"][f"label_{task}"], labels), labels)
            for task, labels in label_lists.items()
        }
    else:
        chosen = {task: cross_validated_cost(*rows[task]) for task in label_lists}
        fits = fit_svms(rows, {task: (cost,) for task, cost in chosen.items()}, workers)
    heads = {task: full_rank(fits[task][cost]) for task, cost in chosen.items()}
    predictor = TfidfPredictor(vectorizer, heads, label_lists, list(text_fields), scrub_names)
    info = {"seconds": round(time.perf_counter() - started, 1), "C": chosen, "features": len(vectorizer.vocabulary_)}
    return predictor, info


def fit_svms(
    rows: dict[str, tuple[Any, np.ndarray]], costs: dict[str, tuple[float, ...]], workers: int | None
) -> dict[str, dict[float, LinearSVC]]:
    """One SVM per task and each of its ``costs``, on that task's ``(features, labels)`` rows, fitted side by side
    in ``workers`` processes (None: one per core). Processes, not threads: liblinear draws its coordinate order from one
    process-wide random generator, which SVMs fitted in threads of one process would share and interleave, so
    the same ``random_state`` would not give the same SVM."""
    jobs = [(task, cost) for task in rows for cost in costs[task]]
    fitted = Parallel(n_jobs=workers or -1, prefer="processes")(
        delayed(LinearSVC(C=cost, random_state=0).fit)(*rows[task]) for task, cost in jobs
    )
    fits: dict[str, dict[float, LinearSVC]] = {task: {} for task in rows}
    for (task, cost), svm in zip(jobs, fitted):
        fits[task][cost] = svm
    return fits


def chosen_cost(fits: dict[float, LinearSVC], features: Any, truth: list[int], labels: list[str]) -> float:
    """The cost whose SVM scores the best macro-F1 against ``truth`` (the first of equals: the stronger penalty)."""
    scores = {cost: task_scores(truth, svm.predict(features), labels)["macro_f1"] for cost, svm in fits.items()}
    return max(fits, key=scores.__getitem__)


def cross_validated_cost(features: Any, labels: np.ndarray, folds: int = 5) -> float:
    """The SVM cost of :data:`COSTS` with the best macro-F1 over stratified folds of the training rows: the
    choice where there is no validation split (few-shot data); the middle one where a class has one row."""
    folds = min(folds, int(np.unique(labels, return_counts=True)[1].min()))
    if folds < 2 or len(set(labels)) < 2:
        return COSTS[1]
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    search = GridSearchCV(LinearSVC(random_state=0), {"C": list(COSTS)}, scoring="f1_macro", cv=splitter)
    return float(search.fit(features, labels).best_params_["C"])


def fit_baseline(config: Config) -> tuple[TfidfPredictor, dict[str, Any]]:
    """Reads the config's data and fits :func:`fit_tfidf` on it (adversarial tasks are left out); returns the
    model and its metrics on validation and (``evaluation.test``) test."""
    if config.datasets:
        raise ConfigError(
            f"datasets {sorted(config.datasets)}: the TF-IDF baseline fits one dataset at a time; "
            "run it with each dataset's own config (e.g. configs/allsides.yaml, configs/fnc1.yaml)"
        )
    data = load_task_data(config)
    splits = data.splits
    label_lists = {task.name: data.label_lists[task.name] for task in config.tasks if task.kind != "adversarial"}
    predictor, info = fit_tfidf(
        splits, label_lists, config.data.text_fields, data.scrub_names, config.training.num_threads
    )
    metrics: dict[str, Any] = {"train": info, "splits": {}, "summary": {}}
    for name in ("validation", "test"):
        if name not in splits or (name == "test" and not config.evaluation.test):
            continue
        decisions = predictor.scores(tfidf_texts(splits[name]))
        per_task = {}
        for task, labels in label_lists.items():
            truth = label_ids(splits[name][f"label_{task}"], labels)
            per_task[task] = task_scores(truth, decisions[task].argmax(1), labels)
        metrics["splits"][name] = per_task
        metrics["summary"][name] = summarise(per_task)
    return predictor, metrics


def full_rank(svm: LinearSVC) -> tuple[np.ndarray, np.ndarray]:
    """The SVM's coefficients and intercepts, one row per class it was fitted on (``svm.classes_``): LinearSVC keeps
    one row for two classes; make it one row per class like the multi-class case."""
    coef, intercept = svm.coef_, svm.intercept_
    if len(svm.classes_) == 2 and coef.shape[0] == 1:
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return coef.astype(np.float32), intercept.astype(np.float32)


def baseline_run(config: Config, overwrite: bool = False) -> tuple[Path, dict[str, Any], str]:
    """Fits :func:`fit_baseline` into a new run folder (``run.name`` under ``run.output_dir``) and saves its model
    folder, metrics and report; returns the model folder, the metrics and the report. A failure before the model is
    fitted leaves no folder behind."""
    run_dir = prepare_run_folder(config, resume=False, overwrite=overwrite)
    try:
        save_config(config, run_dir / "config.yaml")
        predictor, metrics = fit_baseline(config)
    except (ConfigError, DataError, InputOverwriteError):
        remove_unstarted(run_dir)
        raise
    model_dir = run_dir / "model"
    predictor.save(model_dir)
    save_config(config, model_dir / TRAINING_CONFIG_FILE)
    write_json(model_dir / METRICS_FILE, metrics)
    write_manifest(model_dir)  # last: the SHA-256 of every file of the folder, checked at load
    write_json(run_dir / METRICS_FILE, metrics)
    reports = [
        f"[{split}] " + format_report(task, scores)
        for split, per_task in metrics["splits"].items()
        for task, scores in per_task.items()
    ]
    report = "\n\n".join(reports)
    write_text(run_dir / "report.txt", report + "\n")
    return model_dir, metrics, report
