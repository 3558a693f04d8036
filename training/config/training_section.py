"""The `training` section of a config: how the model is trained."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from inference.model.ranges import CLOSED_SHARE, NOT_NEGATIVE, POSITIVE, SHARE, Rule, at_least
from training.config.fields import setting

SUMMARY_METRICS = ("accuracy", "macro_f1", "weighted_f1")
"""What every validation and test report gives per task and as their mean, so what ``training.metric`` may name."""


@dataclass
class TrainingConfig:
    """How the model is trained. The defaults are the sample data's recipe (6 epochs at 1e-4 with patience 3)."""

    mode: Literal["finetune", "probe", "probe+finetune", "zero-shot"] = setting(
        "finetune",
        "finetune: heads from zero, the whole model trained | probe: only heads, fitted in seconds on the "
        "frozen encoder's article vectors (every window, cached) | probe+finetune: fine-tuning starts from the "
        "probe's heads (LP-FT; training/heads/probe.py) | zero-shot: no training rows, each head made from its "
        "labels' descriptions (tasks.<name>.descriptions; training/fitting/zero_shot.py)",
    )
    zero_shot_scale: float = setting(
        20.0,
        "training.mode zero-shot: a logit is this times the cosine similarity of article and description "
        "(20 gave the lowest log-loss of 10-100 on AllSides' outlet validation); calibrate: true then fits a "
        "temperature on validation where there is one",
        POSITIVE,
    )
    epochs: float = setting(6.0, "passes over the training data", POSITIVE)
    max_steps: int = setting(
        -1,
        "stop after this many optimizer steps; -1: run all epochs",
        Rule(lambda v: v == -1 or v >= 1, "a whole number of at least 1, or -1 to use epochs"),
    )
    batch_size: int = setting(16, "articles per step", at_least(1))
    eval_batch_size: int | None = setting(
        None,
        "articles per evaluation step; null: about 2,048 tokens' worth on a CPU (8 windows of 256, as "
        "prediction batches), 32 on a GPU",
        at_least(1, "about 2,048 tokens' worth on a CPU, 32 on a GPU"),
    )
    gradient_accumulation: int = setting(1, "steps accumulated before each optimizer update", at_least(1))
    learning_rate: float = setting(1.0e-4, "peak learning rate (linear warm-up, then linear decay)", POSITIVE)
    trainable_layers: int | None = setting(
        None,
        "fine-tuning trains only the encoder's top N transformer layers and the heads; the embeddings and the "
        "layers below stay as pretrained (a cheaper step: no gradients below them); null: every layer",
        at_least(1, "every layer"),
    )
    head_learning_rate: float | None = setting(
        None, "peak learning rate of the task heads; null: learning_rate", POSITIVE
    )
    weight_decay: float = setting(0.01, "AdamW weight decay", NOT_NEGATIVE)
    warmup_ratio: float = setting(
        0.1,
        "share of all steps spent warming up",
        # the Trainer reads a warm-up of 1 or more as a number of steps, not as a share
        Rule(lambda v: 0 <= v < 1, "a share of the steps in [0, 1)"),
    )
    max_grad_norm: float = setting(
        1.0, "gradient clipping", Rule(lambda v: v >= 0, "a number of at least 0 (0: no clipping)")
    )
    label_smoothing: float = setting(
        0.0, "share of each label's probability spread over the other labels (0: none)", SHARE
    )
    bf16: Literal["auto", "true", "false"] = setting(
        "auto", "auto | true | false: bf16 autocast (auto: on CPUs with AVX-512 BF16/AMX and bf16 GPUs)"
    )
    optimizer: Literal["adamw_torch_fused", "adamw_torch"] = setting(
        "adamw_torch_fused", "adamw_torch_fused (one kernel for all weights) | adamw_torch: the same AdamW"
    )
    metric: str = setting(
        "macro_f1",
        "validation metric that picks the best epoch: mean over tasks of macro_f1, accuracy or weighted_f1, or "
        "one task's, e.g. leaning_macro_f1",
    )
    early_stopping_patience: int | None = setting(
        3, "stop after N evaluations without improvement; null: never", at_least(1, "never stop early")
    )
    eval_steps: int | None = setting(
        None,
        "evaluate (and checkpoint) every N steps; null: every epoch",
        at_least(1, "evaluate once an epoch"),
    )
    logging_steps: int = setting(10, "log the training loss every N steps", at_least(1))
    save_total_limit: int = setting(2, "checkpoints kept on disk (the best one is always kept)", at_least(1))
    num_threads: int | None = setting(
        None,
        "torch CPU threads, and the processes fitting the fused TF-IDF SVMs; null: all cores",
        at_least(1, "torch's default"),
    )
    dataloader_workers: int = setting(0, "background processes preparing batches", at_least(0))
    group_by_length: bool = setting(
        False,
        "batch articles of similar length: less padding when lengths vary within a window; no gain when nearly "
        "every article fills its window (AllSides at 256 tokens)",
    )
    sampling: Literal["proportional", "temperature"] = setting(
        "proportional",
        "with `datasets`: every batch comes from one dataset, drawn proportional to its size, or `temperature`: "
        "weight rows ** (1 / sampling_temperature) (evens out sizes)",
    )
    sampling_temperature: float = setting(
        2.0, "temperature sampling: 1 is proportional, larger values move towards uniform", POSITIVE
    )
    report_to: str = setting(
        "none",
        "experiment tracking, no server needed: none | tensorboard | mlflow | tensorboard,mlflow "
        "(pip install 'newsclf[tracking]'; see training/runs/tracking.py)",
    )
    tracking_dir: str | None = setting(
        None,
        "where TensorBoard/MLflow files go; null: <run folder>/tracking; a shared folder (e.g. runs/tracking) "
        "puts many runs side by side",
    )
    calibrate: bool = setting(
        True,
        "fit one temperature per task on validation after training, saved with the model, so a predicted 0.8 "
        "is right about 80% of the time (ECE before/after in metrics)",
    )
    probe_l2: float | None = setting(
        None,
        "probe: penalty on the heads' weights; null: the best of 1e-6..1e-2 on validation (cross-validated on the "
        "training rows without one)",
        NOT_NEGATIVE,
    )
    feature_cache: str | None = setting(
        None,
        "probe: folder of cached article vectors (keyed by encoder, windows, pooling and precision, so never "
        "stale); null: <run.output_dir>/feature-cache",
    )
    refit_heads: bool = setting(
        False,
        "after fine-tuning, fit every task's head again as the probe fits it, on the fine-tuned encoder's article "
        "vectors (every window; costs one forward pass over train and validation)",
    )
    fuse_tfidf: bool = setting(
        False,
        "also fit TF-IDF + linear SVM per task on the same data, save it inside the model folder and average "
        "its probabilities with the encoder's (share chosen per task on validation); every backend predicts "
        "with both",
    )
    tfidf_share: float | None = setting(
        None,
        "with fuse_tfidf: the TF-IDF model's share of every task's probabilities (0 to 1); null: chosen per task "
        "on validation",
        CLOSED_SHARE,
    )
    choose_on: Literal["validation", "groups"] = setting(
        "validation",
        "probe: where each head's penalty, TF-IDF share and temperature are chosen: validation, or groups: "
        "cross-validation over data.group_column's groups of the training split (e.g. outlets), each fold's "
        "heads and TF-IDF model fitted without its groups; for a validation split of a handful of outlets",
    )
    group_folds: int = setting(5, "choose_on groups: folds over the training split's groups", at_least(2))
    teacher: str | None = setting(
        None,
        "distillation: a model folder (e.g. an all-mpnet-base-v2 probe) whose calibrated probabilities every "
        "training article also learns from; it must have this run's tasks with the same labels; null: labels only",
    )
    teacher_targets: Literal["as_fitted", "out_of_fold"] = setting(
        "as_fitted",
        "with teacher: as_fitted: its probabilities as its folder predicts them; out_of_fold: a probe teacher's "
        "heads fitted again on group_folds folds of data.group_column's groups, each training article scored by "
        "heads that never saw its group (its outlet), so the targets do not give the article's labels back",
    )
    teacher_articles: list[str] = setting(
        [],
        "with teacher: files of articles without labels (read like data.files, the same text fields; outlet names "
        "scrubbed as the training texts are) that the student also learns from, the teacher's probabilities their "
        "only targets; articles the teacher never trained on carry its reading of unseen outlets; []: none",
    )
    distill_weight: float = setting(
        0.5,
        "with teacher: the teacher's probabilities' share of each task's loss (as soft targets); the gold labels "
        "keep the rest",
        CLOSED_SHARE,
    )
    teacher_temperature: float | None = setting(
        None,
        "with teacher: the temperature its logits are divided by before the softmax; null: the one its folder "
        "fitted on validation (which, on a validation split the teacher barely reads, flattens every target)",
        POSITIVE,
    )
