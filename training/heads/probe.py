"""The frozen-feature stage: the pretrained encoder reads every article once, and each task's linear head is
fitted on those article vectors.

``training.mode`` picks how a run uses it:

- ``finetune``: heads start from zero and the whole model trains (the Trainer alone);
- ``probe``: the encoder stays as pretrained; the heads are fitted here, in seconds, on cached vectors, and the
  run saves an ordinary model folder (few-shot data: a model in a minute);
- ``probe+finetune``: fine-tuning starts from the probe's heads (LP-FT, Kumar et al., ICLR 2022), so the first
  steps do not wear away features that random heads cannot use yet.

The vectors are what the model computes at prediction: every window the model's windowing gives, pooled as the
model pools. They are cached under ``training.feature_cache`` (:mod:`training.heads.feature_cache`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import StratifiedKFold
from torch import nn

from inference.model.loss import multitask_loss
from training.config import Config
from training.heads.descriptions import zero_shot_head
from training.heads.feature_cache import FeatureCache
from training.scoring.metrics import task_scores

logger = logging.getLogger("newsclf")

Folds = list[tuple[np.ndarray, np.ndarray]]  # (fit rows, held-out rows) of each fold
L2_GRID = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2)
"""Penalties on the head's weights tried on validation where ``training.probe_l2`` is null (mean loss + l2/2·|W|²)."""
PRIOR_GRID = (1e-3, 1e-2, 1e-1, 1.0, 10.0)
"""The penalties tried for a head pulled toward a prior (its zero-shot head): mean loss + l2/2·|W - W₀|². The pull
must be able to outweigh a handful of rows, hence larger values than :data:`L2_GRID`."""
Prior = tuple[np.ndarray, np.ndarray]  # (weight, bias) a head starts from and is pulled toward


@dataclass
class FittedHead:
    """One task's linear head fitted on frozen vectors, and how it was chosen."""

    weight: np.ndarray  # (labels, hidden)
    bias: np.ndarray  # (labels,)
    l2: float
    scores: dict[str, float]  # penalty -> its score on validation, or cross-validated on training (see chosen_by)
    chosen_by: str  # validation | cross-validation | groups | default | config
    out_of_fold: np.ndarray | None = None  # with training.choose_on groups: every training row's held-out logits


def fit_linear_head(
    features: np.ndarray,
    labels: np.ndarray,
    num_labels: int,
    l2: float,
    class_weights: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
    prior: Prior | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A linear softmax head on ``features`` (rows labelled -100 left out), by L-BFGS on the model's own loss;
    with a ``prior``, the head starts from it and its weights are pulled toward it rather than toward zero.

    >>> x = np.array([[1.0, 0.0], [0.0, 1.0]] * 4, dtype=np.float32)
    >>> weight, bias = fit_linear_head(x, np.array([0, 1] * 4), 2, l2=1e-4)
    >>> ((x @ weight.T + bias).argmax(1) == np.array([0, 1] * 4)).all()
    np.True_
    """
    keep = labels != -100
    x = torch.from_numpy(np.ascontiguousarray(features[keep], dtype=np.float32))
    y = torch.from_numpy(labels[keep].astype(np.int64))
    head = nn.Linear(x.shape[1], num_labels)
    start = prior or (np.zeros((num_labels, x.shape[1])), np.zeros(num_labels))
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(np.asarray(start[0], dtype=np.float32)))
        head.bias.copy_(torch.from_numpy(np.asarray(start[1], dtype=np.float32)))
    centre = head.weight.detach().clone()
    optimizer = torch.optim.LBFGS(
        head.parameters(), lr=1.0, max_iter=500, history_size=20, line_search_fn="strong_wolfe"
    )
    weights = None if class_weights is None else {"task": class_weights}

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = multitask_loss({"task": head(x)}, {"task": y}, class_weights=weights, label_smoothing=label_smoothing)
        loss = loss + 0.5 * l2 * (head.weight - centre).pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    return head.weight.detach().numpy().copy(), head.bias.detach().numpy().copy()


def metric_kind(config: Config) -> str:
    """The score (accuracy, macro_f1 or weighted_f1) that ``training.metric`` ranks by, used per task here."""
    for kind in ("macro_f1", "weighted_f1", "accuracy"):
        if config.training.metric.endswith(kind):
            return kind
    return "macro_f1"  # a loss metric: rank the heads by macro-F1


def fit_probe(
    features: dict[str, np.ndarray],
    labels: dict[str, dict[str, list[int]]],
    label_lists: dict[str, list[str]],
    config: Config,
    class_weights: dict[str, torch.Tensor],
    folds: Folds | None = None,
    priors: dict[str, Prior] | None = None,
) -> dict[str, FittedHead]:
    """Each task's head on the training vectors, its penalty chosen over ``folds`` of groups of training rows where
    given (with every training row's out-of-fold logits), else on validation, else by cross-validation on the
    training vectors (``training.probe_l2`` fixes it). A task with a prior (its zero-shot head) is pulled toward it
    over :data:`PRIOR_GRID`; with too few rows to choose, the strongest pull.

    Args:
        features: split -> ``(articles, hidden)`` vectors; ``train`` required, ``validation`` optional.
        labels: split -> task -> label ids (-100: none).
        label_lists: task -> labels, in the heads' order.
        config: the run's settings (``training.probe_l2``, ``training.label_smoothing``, ``training.metric``).
        class_weights: task -> class weights, for tasks with ``class_weights: balanced``.
        folds: ``training.choose_on: groups``'s folds of the training rows (:mod:`training.heads.group_cv`).
        priors: task -> the (weight, bias) its head starts from and is pulled toward.
    """
    fixed, kind, smoothing = config.training.probe_l2, metric_kind(config), config.training.label_smoothing
    heads = {}
    for task, names in label_lists.items():
        y, weights = np.asarray(labels["train"][task]), class_weights.get(task)
        prior = (priors or {}).get(task)
        grid = PRIOR_GRID if prior is not None else L2_GRID
        fits: dict[float, tuple[np.ndarray, np.ndarray]] = {}
        scores: dict[float, float] = {}
        held_out: dict[float, np.ndarray] = {}
        if folds is not None:
            tried = grid if fixed is None else (fixed,)
            scores, held_out = out_of_fold_heads(
                features["train"], y, names, kind, folds, tried, weights, smoothing, prior
            )
            chosen_by = "groups" if fixed is None else "config"
        elif fixed is not None:
            chosen_by = "config"
        elif "validation" in features:
            truth = np.asarray(labels["validation"][task])
            fits = {l2: fit_linear_head(features["train"], y, len(names), l2, weights, smoothing, prior) for l2 in grid}
            scores = {l2: head_score(features["validation"], truth, *fit, names, kind) for l2, fit in fits.items()}
            chosen_by = "validation"
        else:
            scores = cross_validated(features["train"], y, names, kind, weights, smoothing, prior=prior)
            chosen_by = "cross-validation" if scores else "default"
        # ties go to the larger penalty: on a few separable rows every penalty scores alike, and the smallest
        # would give the head weights large enough to saturate its probabilities
        unchosen = grid[-1] if prior is not None else grid[len(grid) // 2]
        chosen = max(scores, key=lambda l2: (scores[l2], l2)) if scores else unchosen
        best = fixed if fixed is not None else chosen
        fit = fits.get(best) or fit_linear_head(features["train"], y, len(names), best, weights, smoothing, prior)
        heads[task] = FittedHead(*fit, best, {f"{l2:g}": v for l2, v in scores.items()}, chosen_by, held_out.get(best))
        logger.info("probe %s: l2 %g (%s); %s by l2: %s", task, best, chosen_by, kind, heads[task].scores)
    return heads


def head_score(
    features: np.ndarray, truth: np.ndarray, weight: np.ndarray, bias: np.ndarray, names: list[str], kind: str
) -> float:
    """The ``kind`` score (accuracy, macro_f1, weighted_f1) of a linear head on labelled rows (-100: none)."""
    predicted = (features @ weight.T + bias).argmax(1)
    return task_scores(truth[truth != -100], predicted[truth != -100], names)[kind]


def cross_validated(
    features: np.ndarray,
    labels: np.ndarray,
    names: list[str],
    kind: str,
    class_weights: torch.Tensor | None,
    label_smoothing: float = 0.0,
    folds: int = 5,
    prior: Prior | None = None,
) -> dict[float, float]:
    """Each penalty of :data:`L2_GRID` (:data:`PRIOR_GRID` with a ``prior``) with its mean score over stratified
    folds of the training rows: how the penalty is chosen without a validation split (few-shot data). Empty where a
    class has fewer than two rows."""
    keep = labels != -100
    x, y = features[keep], labels[keep]
    counts = np.unique(y, return_counts=True)[1]
    folds = min(folds, int(counts.min())) if len(counts) > 1 else 0
    if folds < 2:
        return {}
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y))
    scores = {}
    for l2 in PRIOR_GRID if prior is not None else L2_GRID:
        per_fold = []
        for fit_rows, score_rows in splits:
            weight, bias = fit_linear_head(
                x[fit_rows], y[fit_rows], len(names), l2, class_weights, label_smoothing, prior
            )
            per_fold.append(head_score(x[score_rows], y[score_rows], weight, bias, names, kind))
        scores[l2] = float(np.mean(per_fold))
    return scores


def out_of_fold_heads(
    features: np.ndarray,
    labels: np.ndarray,
    names: list[str],
    kind: str,
    folds: Folds,
    penalties: Sequence[float],
    class_weights: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
    prior: Prior | None = None,
) -> tuple[dict[float, float], dict[float, np.ndarray]]:
    """Per penalty: the ``kind`` score of the out-of-fold predictions of every labelled row (pooled over the folds,
    since a fold of a few outlets can lack a class) and the out-of-fold logits ``(rows, labels)``."""
    scores, logits = {}, {}
    labelled = labels != -100
    for l2 in penalties:
        held_logits = np.zeros((len(labels), len(names)), dtype=np.float32)
        for fit_rows, held in folds:
            weight, bias = fit_linear_head(
                features[fit_rows], labels[fit_rows], len(names), l2, class_weights, label_smoothing, prior
            )
            held_logits[held] = features[held] @ weight.T + bias
        scores[l2] = task_scores(labels[labelled], held_logits[labelled].argmax(1), names)[kind]
        logits[l2] = held_logits
        logger.info("probe: l2 %g, %s %.4f over %d folds' held-out rows", l2, kind, scores[l2], len(folds))
    return scores, logits


def install_heads(model: Any, heads: dict[str, Prior]) -> None:
    """Copies each task's ``(weight, bias)`` into the model's head (tasks without one keep theirs)."""
    with torch.no_grad():
        for task, (weight, bias) in heads.items():
            model.heads[task].weight.copy_(torch.from_numpy(np.asarray(weight, dtype=np.float32)))
            model.heads[task].bias.copy_(torch.from_numpy(np.asarray(bias, dtype=np.float32)))


def probe_summary(heads: dict[str, FittedHead]) -> dict[str, Any]:
    """What ``metrics.json`` records of the probe: each task's chosen penalty and validation scores."""
    return {task: {"l2": head.l2, "chosen_by": head.chosen_by, "scores": head.scores} for task, head in heads.items()}


@dataclass
class ProbeStage:
    """The probe of a run: its fitted heads, every split's article vectors and the seconds it took."""

    heads: dict[str, FittedHead]
    features: dict[str, np.ndarray]
    seconds: float
    folds: Folds | None = None  # training.choose_on groups: the folds the heads' out-of-fold logits came from


def cache_folder(config: Config) -> Path:
    """Where article vectors are cached: ``training.feature_cache``, or ``<run.output_dir>/feature-cache``."""
    return Path(config.training.feature_cache or Path(config.run.output_dir) / "feature-cache")


def run_probe(
    config: Config,
    model: Any,
    tokenizer: Any,
    datasets: dict[str, Any],
    label_lists: dict[str, list[str]],
    class_weights: dict[str, torch.Tensor],
    bf16: bool,
    folds: Folds | None = None,
) -> ProbeStage:
    """Embeds every split with the frozen encoder (cached), fits each task's head and installs it in ``model``.

    Adversarial tasks get no head here: they exist to be fooled while fine-tuning.
    """
    started = time.perf_counter()
    pairs = model.config.reads_pairs
    cache = FeatureCache(
        cache_folder(config), model, tokenizer.sep_token_id if pairs else None, tokenizer.pad_token_id, bf16
    )
    features = {split: cache.vectors(dataset.windows, split) for split, dataset in datasets.items()}
    fitted = {
        task: labels for task, labels in label_lists.items() if task not in model.config.tasks_of_kind("adversarial")
    }
    labels = {split: dataset.labels for split, dataset in datasets.items()}
    priors = {
        task.name: zero_shot_head(model, tokenizer, task, fitted[task.name], config.training.zero_shot_scale)
        for task in config.tasks
        if task.descriptions is not None and task.name in fitted
    }
    heads = fit_probe(head_inputs(model, features), labels, fitted, config, class_weights, folds, priors)
    install_heads(model, {task: (head.weight, head.bias) for task, head in heads.items()})
    return ProbeStage(heads, features, time.perf_counter() - started, folds)


def head_inputs(model: Any, features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each split's cached article vectors as the model's heads read them (unit length with
    ``normalize_articles``), so a fitted head scores as it will in the model."""
    with torch.no_grad():
        return {split: model.head_inputs(torch.from_numpy(vectors)).numpy() for split, vectors in features.items()}


def model_logits(model: Any, features: np.ndarray) -> dict[str, np.ndarray]:
    """Each task's logits from cached article vectors through the model's own heads (in eval mode: no dropout)."""
    with torch.no_grad():
        logits = model.classify(torch.from_numpy(features))
    return {task: values.numpy() for task, values in zip(model.config.task_names, logits)}
