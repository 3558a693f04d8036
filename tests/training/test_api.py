"""Tests for training.fit (training/api.py): data in memory or in files in, a TrainedModel out, nothing of the
caller's changed."""

from __future__ import annotations

import copy
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import datasets
import pandas as pd
import pytest
from testkit.articles import CLAIMS, make_rows, pair_rows, write_jsonl

import training.fitting.recipe
from inference import ModelFolderError, Predictor
from training import ConfigError, DataError, TrainedModel, fit, load_config

ROOT = Path(__file__).parents[2]
COLUMNS = ["title", "content", "topic", "leaning"]
TOPICS = {"economy", "health", "sport"}


def tiny(encoder: Path, **more: Any) -> dict[str, Any]:
    """Settings that train the tiny encoder in seconds."""
    return {
        "model.name": str(encoder),
        "model.max_length": 32,
        "training.epochs": 1,
        "training.batch_size": 8,
        "training.learning_rate": 0.001,
        "training.bf16": False,
        "evaluation.example": False,
        "evaluation.confusion_matrices": False,
        **more,
    }


def frame(per_cell: int = 5) -> pd.DataFrame:
    """45 articles (5 per topic and leaning), without a split column."""
    return pd.DataFrame(make_rows(per_cell=per_cell))[COLUMNS]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> TrainedModel:
    """The tiny encoder fitted once on :func:`frame`, validation drawn from it."""
    output = tmp_path_factory.mktemp("fit") / "runs"
    return fit(frame(), tasks=["topic", "leaning"], settings=tiny(tiny_encoder_dir), output_dir=output, name="first")


def test_fit_a_dataframe_as_the_readme_does(tmp_path, tiny_encoder_dir):
    df = frame()
    model = fit(
        df,
        tasks=["topic", "leaning"],
        settings={
            "training.epochs": 1,
            "model.max_length": 64,
            "model.name": str(tiny_encoder_dir),
            "training.bf16": False,
        },
        output_dir=tmp_path,
    )
    assert model.predict("Senate passes the budget")["topic"]["label"] in TOPICS
    assert 0 <= model.metrics["validation"]["topic"]["accuracy"] <= 1
    predictor = Predictor.from_pretrained(model.path)
    assert predictor.tasks == ["topic", "leaning"]
    assert model.path == model.run_dir / "model" and model.run_dir.parent == tmp_path


@pytest.mark.slow
def test_the_readme_example_with_the_packaged_minilm(tmp_path):
    df = frame()
    model = fit(
        df, tasks=["topic", "leaning"], settings={"training.epochs": 1, "model.max_length": 64}, output_dir=tmp_path
    )
    assert model.predict("Senate passes the budget")["topic"]["label"] in TOPICS
    assert 0 <= model.metrics["validation"]["topic"]["accuracy"] <= 1
    assert Predictor.from_pretrained(model.path).tasks == ["topic", "leaning"]


def test_the_model_predicts_as_its_saved_folder_does(trained: TrainedModel, tmp_path):
    articles = [{"title": row["title"], "content": row["content"]} for row in make_rows(per_cell=1)]
    loaded = Predictor.from_pretrained(trained.path, backend="torch", precision="fp32")
    assert trained.predict(articles) == loaded.predict(articles)
    probabilities = trained.predict_proba(articles)
    assert probabilities["topic"].shape == (len(articles), 3)
    assert trained.tasks == ["topic", "leaning"] and trained.labels("leaning") == ["center", "left", "right"]
    kept = trained.save_pretrained(tmp_path / "kept")
    assert Predictor.from_pretrained(kept, backend="torch", precision="fp32").predict(articles) == loaded.predict(
        articles
    )


def test_from_pretrained_loads_a_model_folder_or_its_run_folder_with_the_scores(trained: TrainedModel, tmp_path):
    articles = [{"title": row["title"], "content": row["content"]} for row in make_rows(per_cell=1)]
    copy = TrainedModel.from_pretrained(trained.save_pretrained(tmp_path / "copy"))
    assert copy.path == tmp_path / "copy" and copy.run_dir is None and copy.metrics == trained.metrics
    assert copy.predict(articles) == trained.predict(articles)
    from_run = TrainedModel.from_pretrained(trained.run_dir)
    assert (from_run.path, from_run.run_dir, from_run.metrics) == (trained.path, trained.run_dir, trained.metrics)
    with pytest.raises(FileExistsError, match="copy: already exists"):
        trained.save_pretrained(tmp_path / "copy")
    (tmp_path / "copy" / "training_config.yaml").write_text("edited: true\n")
    with pytest.raises(ModelFolderError, match=r"training_config\.yaml changed"):
        TrainedModel.from_pretrained(tmp_path / "copy")


def test_the_run_folder_is_named_and_complete(trained: TrainedModel):
    assert trained.run_dir.name == "first"
    saved = json.loads((trained.run_dir / "metrics.json").read_text())
    assert trained.metrics == saved["splits"]
    assert set(trained.metrics["validation"]) == {"topic", "leaning"}
    assert (trained.run_dir / "checkpoints").is_dir()  # an output_dir of the caller's keeps them, to resume
    assert "run folder" in (trained.run_dir / "train.log").read_text()


def test_repr_names_the_folder_and_the_validation_scores(trained: TrainedModel):
    text = repr(trained)
    accuracy = trained.metrics["validation"]["topic"]["accuracy"]
    assert text.startswith(f"TrainedModel('{trained.path}'; validation accuracy: topic {accuracy:.3f}, leaning ")


def test_evaluate_the_drawn_validation_rows_agrees_with_the_metrics(trained: TrainedModel):
    scores = trained.evaluate(frame(), split="validation")
    for task in ("topic", "leaning"):
        for key in ("accuracy", "macro_f1", "support", "confusion_matrix"):
            assert scores[task][key] == trained.metrics["validation"][task][key], (task, key)


@pytest.mark.parametrize("kind", ["list", "Dataset", "jsonl file", "parquet file"])
def test_every_kind_of_input_trains_the_same_model(kind, trained, tmp_path, tiny_encoder_dir):
    rows = frame().to_dict("records")
    if kind == "list":
        data = rows
    elif kind == "Dataset":
        data = datasets.Dataset.from_list(rows)
    elif kind == "jsonl file":
        data = write_jsonl(tmp_path / "articles.jsonl", rows)
    else:
        frame().to_parquet(tmp_path / "articles.parquet")
        data = str(tmp_path / "articles.parquet")
    model = fit(data, tasks=["topic", "leaning"], settings=tiny(tiny_encoder_dir), output_dir=tmp_path / "runs")
    assert model.metrics["validation"] == trained.metrics["validation"]


def test_explicit_validation_is_scored_and_evaluate_agrees(tmp_path, tiny_encoder_dir):
    rows = pd.DataFrame(make_rows())
    train, validation = rows[rows["split"] == "train"], rows[rows["split"] == "validation"]
    model = fit(train, validation, tasks=["topic", "leaning"], settings=tiny(tiny_encoder_dir), output_dir=tmp_path)
    assert model.metrics["validation"]["topic"]["support"] == len(validation) == 18
    scores = model.evaluate(validation.to_dict("records"))
    for task in ("topic", "leaning"):
        assert scores[task]["accuracy"] == model.metrics["validation"][task]["accuracy"]
        assert scores[task]["confusion_matrix"] == model.metrics["validation"][task]["confusion_matrix"]


def test_a_pair_task_given_as_a_mapping(tmp_path, tiny_encoder_dir):
    task = {"name": "stance", "kind": "pair", "target_column": "claim"}  # label_column: the name
    settings = tiny(tiny_encoder_dir, **{"data.text_fields": ["content"]})
    model = fit(pd.DataFrame(pair_rows()), tasks=[task], settings=settings, output_dir=tmp_path)
    assert model.tasks == ["stance"]
    assert model.predict("officials deny it: false", target=CLAIMS[0])["stance"]["label"] in {
        "agree",
        "disagree",
        "unrelated",
    }
    assert model.predict_proba(["one body", "another"], target=CLAIMS[1])["stance"].shape == (2, 3)


@pytest.mark.parametrize("mode", ["probe", "probe+finetune"])
def test_the_probe_modes(mode, tmp_path, tiny_encoder_dir):
    model = fit(
        frame(),
        tasks=["topic", "leaning"],
        settings=tiny(tiny_encoder_dir, **{"training.mode": mode}),
        output_dir=tmp_path,
    )
    assert json.loads((model.run_dir / "metrics.json").read_text())["train"]["mode"] == mode
    assert set(model.metrics["validation"]) == {"topic", "leaning"}
    assert model.predict("Senate passes the budget")["topic"]["label"] in TOPICS


@pytest.mark.parametrize(("with_split", "validation_rows"), [(True, 18), (False, 6)])
def test_a_config_file_split_column_is_used_only_where_the_data_has_it(
    with_split, validation_rows, tmp_path, tiny_encoder_dir
):
    data = pd.DataFrame(make_rows())  # 54 rows, 18 of them marked validation in `split`
    data = data if with_split else data.drop(columns="split")
    config = ROOT / "configs" / "default.yaml"  # data.split.column: split
    model = fit(data, tasks=["topic", "leaning"], config=config, settings=tiny(tiny_encoder_dir), output_dir=tmp_path)
    assert model.metrics["validation"]["topic"]["support"] == validation_rows  # else 10%, seeded


def test_fit_changes_nothing_of_the_callers(tmp_path, tiny_encoder_dir, capsys, monkeypatch):
    work, runs = tmp_path / "work", tmp_path / "runs"
    work.mkdir()
    (runs / "old").mkdir(parents=True)
    (runs / "latest").symlink_to("old")
    monkeypatch.chdir(work)
    df, config = frame(), load_config(ROOT / "configs" / "default.yaml")
    settings, tasks = tiny(tiny_encoder_dir), ["topic", {"name": "leaning", "labels": ["left", "center", "right"]}]
    before = (df.copy(deep=True), copy.deepcopy(config), copy.deepcopy(settings), copy.deepcopy(tasks))
    handlers = logging.getLogger("newsclf").handlers[:]
    model = fit(df, tasks=tasks, config=config, settings=settings, output_dir=runs)
    pd.testing.assert_frame_equal(df, before[0])
    assert (config, settings, tasks) == before[1:]
    assert model.labels("leaning") == ["left", "center", "right"]
    assert Path.cwd() == work and list(work.iterdir()) == []
    assert os.readlink(runs / "latest") == "old"
    assert logging.getLogger("newsclf").handlers == handlers
    out, err = capsys.readouterr()
    assert out == ""
    assert "run folder" not in err and "INFO" not in err


def test_fit_after_a_run_in_the_same_process_leaves_that_runs_log_closed(tmp_path, tiny_encoder_dir):
    """A run started the command line's way keeps its train.log open; a later fit takes the log over, and the
    earlier log must not come back closed: it would reopen on the next message (its folder may be gone)."""
    from training.runs.logs import close_log_file, setup_logging

    project = logging.getLogger("newsclf")
    before = project.handlers[:], project.level, project.propagate
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    try:
        setup_logging(earlier, console=False)
        project.info("the earlier run")
        fit(frame(), tasks=["topic"], settings=tiny(tiny_encoder_dir), output_dir=tmp_path / "runs")
        (earlier / "train.log").rename(tmp_path / "earlier.log")
        earlier.rmdir()
        project.info("after the fit")  # raised FileNotFoundError when the closed handler was given back
        assert not earlier.exists()
        assert "after the fit" not in (tmp_path / "earlier.log").read_text()
        assert all(getattr(handler, "stream", True) is not None for handler in project.handlers)
    finally:
        close_log_file()
        project.handlers, project.level, project.propagate = before


def test_verbose_prints_as_the_command_line_does(tmp_path, tiny_encoder_dir, capsys):
    model = fit(frame(), tasks=["topic"], settings=tiny(tiny_encoder_dir), output_dir=tmp_path, verbose=True)
    out, err = capsys.readouterr()
    assert f"model saved to {model.path}" in out and "task: topic" in out
    assert f"run folder {model.run_dir}" in err


def test_without_output_dir_the_run_goes_to_a_temporary_folder(tmp_path, tiny_encoder_dir, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.chdir(tmp_path)
    model = fit(frame().to_dict("records"), tasks=["topic"], settings=tiny(tiny_encoder_dir))
    assert model.run_dir.parent.parent == tmp_path / "tmp" and model.run_dir.name.startswith("run-")
    assert (model.path / "model.safetensors").is_file()
    assert not (model.run_dir / "checkpoints").exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["tmp"]  # nothing in the working folder
    assert [path.name for path in (tmp_path / "tmp").iterdir()] == [model.run_dir.parent.name]  # data removed


def test_a_temporary_run_folder_goes_with_its_model_and_a_saved_copy_stays(tmp_path, tiny_encoder_dir, monkeypatch):
    import gc

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    model = fit(frame(), tasks=["topic"], settings=tiny(tiny_encoder_dir))
    kept = model.save_pretrained(tmp_path / "kept")
    expected = model.predict("rates and wages")["topic"]["label"]
    assert list((tmp_path / "tmp").iterdir())
    del model
    gc.collect()
    assert list((tmp_path / "tmp").iterdir()) == []  # no 88 MB left behind per fit
    assert Predictor.from_pretrained(kept, precision="fp32").predict("rates and wages")["topic"]["label"] == expected


def test_a_misnamed_label_column_fails_before_training(tmp_path, tiny_encoder_dir, monkeypatch):
    monkeypatch.setattr(training.fitting.recipe, "run_trainer", lambda *args: pytest.fail("training started"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    with pytest.raises(DataError, match=r"^the train DataFrame: no column 'topc'; did you mean 'topic'\?"):
        fit(frame(), tasks=["topc"], settings=tiny(tiny_encoder_dir), output_dir=tmp_path / "runs")
    assert list((tmp_path / "runs").iterdir()) == []
    with pytest.raises(DataError, match=r"^the train list: no column 'topc'"):
        fit(frame().to_dict("records"), tasks=["topc"], settings=tiny(tiny_encoder_dir))
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary output and data folders are gone


def test_bad_rows_are_named_as_the_caller_knows_them(tmp_path, tiny_encoder_dir):
    df = frame()
    df.loc[2, "leaning"] = None
    with pytest.raises(DataError, match=r"^the validation DataFrame, row 3, column 'leaning': empty label"):
        fit(frame(), df, tasks=["topic", "leaning"], settings=tiny(tiny_encoder_dir), output_dir=tmp_path)
    with pytest.raises(DataError, match=r"^the train list, row 2: expected a dict of column values, got str"):
        fit([{"title": "a"}, "b"], tasks=["topic"], settings=tiny(tiny_encoder_dir), output_dir=tmp_path)
    with pytest.raises(DataError, match=r"^the train DataFrame: cannot be stored as a table"):
        fit(pd.DataFrame({"title": ["a", 1], "topic": ["x", "y"]}), tasks=["topic"], output_dir=tmp_path)
    with pytest.raises(DataError, match=r"^train: expected a file path, a pandas DataFrame, .* got dict"):
        fit({"title": ["a"]}, tasks=["topic"], output_dir=tmp_path)
    with pytest.raises(DataError, match=r"^the train DataFrame: no rows"):
        fit(frame().iloc[:0], tasks=["topic"], output_dir=tmp_path)


def test_bad_settings_and_tasks_fail_before_anything_is_written(tmp_path, tiny_encoder_dir):
    output = tmp_path / "runs"
    settings = tiny(tiny_encoder_dir, **{"training.epoch": 2})
    with pytest.raises(ConfigError, match=r"unknown key 'training\.epoch'; did you mean 'epochs'\?"):
        fit(frame(), tasks=["topic"], settings=settings, output_dir=output)
    with pytest.raises(ConfigError, match=r"training\.learning_rate: expected a positive number, got -1"):
        fit(
            frame(),
            tasks=["topic"],
            settings=tiny(tiny_encoder_dir, **{"training.learning_rate": -1}),
            output_dir=output,
        )
    with pytest.raises(ConfigError, match=r"^settings: expected a mapping of dotted keys to values"):
        fit(frame(), tasks=["topic"], settings=["training.epochs=1"], output_dir=output)
    with pytest.raises(ConfigError, match=r"^tasks: expected a list of label columns .* got 'topic'"):
        fit(frame(), tasks="topic", output_dir=output)
    with pytest.raises(ConfigError, match=r"^tasks\[1\]: expected a label column or a mapping with a name"):
        fit(frame(), tasks=["topic", {"kind": "pair"}], output_dir=output)
    with pytest.raises(ConfigError, match=r"tasks\[0\]\.kind: expected 'single' or 'pair' or 'adversarial'"):
        fit(frame(), tasks=[{"name": "topic", "kind": "double"}], output_dir=output)
    assert not output.exists()


def test_an_explicit_split_column_is_kept_even_where_the_data_lacks_it(tmp_path, tiny_encoder_dir):
    settings = tiny(tiny_encoder_dir, **{"data.split.column": "fold"})
    with pytest.raises(DataError, match=r"^the train DataFrame: no column 'fold'"):
        fit(frame(), tasks=["topic"], settings=settings, output_dir=tmp_path)


def test_evaluate_names_data_in_memory(trained: TrainedModel):
    with pytest.raises(DataError, match=r"^the evaluation DataFrame: none of the label columns"):
        trained.evaluate(frame()[["title", "content"]])
    scores = trained.evaluate(datasets.Dataset.from_pandas(frame(), preserve_index=False))
    assert scores["topic"]["support"] == 45
