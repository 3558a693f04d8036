"""Tasks from several datasets on one encoder: config, stacked data, training, prediction, evaluation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from testkit.articles import CLAIMS, make_rows, pair_rows, write_jsonl
from testkit.same import raw_logits
from testkit.tiny import MULTI_TASKS, multi_overrides, tiny_config

from inference import Predictor
from inference.model.windowing import article_text
from training.baseline import main as baseline_main
from training.config import ConfigError, load_config
from training.data import load_task_data
from training.evaluate import main as evaluate_main
from training.fitting.recipe import train
from training.train import main as train_main

ROOT = Path(__file__).parents[3]


@pytest.fixture(scope="module")
def multi_run(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> Path:
    tmp_path = tmp_path_factory.mktemp("multi")
    return train(tiny_config(tmp_path, tiny_encoder_dir, multi_overrides(tmp_path)))


def test_tasks_name_their_dataset_and_every_dataset_holds_a_task(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"tasks\[2\]\.dataset: no dataset 'claim'; did you mean 'claims'\?"):
        load_config(None, [MULTI_TASKS.replace("dataset: claims", "dataset: claim"), "datasets.claims.train_file=x"])
    with pytest.raises(ConfigError, match=r"datasets: \['spare'\] hold no task"):
        load_config(None, ["datasets.spare.train_file=x"])
    config = load_config(None, [MULTI_TASKS, "datasets.claims.train_file=pairs.csv"])
    parts = config.parts()
    assert list(parts) == ["data", "claims"]
    assert [t.name for t in parts["data"].tasks] == ["topic", "leaning"]
    assert [t.name for t in parts["claims"].tasks] == ["stance"]
    assert parts["claims"].data.train_file == "pairs.csv" and parts["claims"].datasets == {}
    assert list(load_config(None).parts()) == ["data"]


def test_stacked_splits_hold_each_dataset_with_labels_only_for_its_tasks(tmp_path: Path, tiny_encoder_dir: Path):
    data = load_task_data(tiny_config(tmp_path, tiny_encoder_dir, multi_overrides(tmp_path)))
    splits, label_lists, names = data.splits, data.label_lists, data.scrub_names
    news, claims = make_rows(), pair_rows()
    assert len(splits["train"]) == sum(r["split"] == "train" for r in news + claims)
    assert label_lists["stance"] == ["agree", "disagree", "unrelated"]
    assert label_lists["leaning"] == ["center", "left", "right"] and names is None
    train = splits["train"].to_list()
    for row in train:
        if row["_dataset"] == "claims":
            assert row["target"] in CLAIMS and row["label_stance"] and row["label_topic"] is None
        else:
            assert row["_dataset"] == "data" and row["target"] is None and row["label_stance"] is None
            assert row["label_topic"] and row["label_leaning"]


def test_one_model_learns_tasks_of_both_datasets_and_scores_each_on_its_own_rows(multi_run: Path):
    metrics = json.loads((multi_run / "metrics.json").read_text())["splits"]["validation"]
    assert metrics["stance"]["support"] == sum(r["split"] == "validation" for r in pair_rows())
    assert metrics["topic"]["support"] == sum(r["split"] == "validation" for r in make_rows())
    assert metrics["leaning"]["support"] == metrics["topic"]["support"]
    config = json.loads((multi_run / "model" / "config.json").read_text())
    assert [(t["name"], t["kind"]) for t in config["tasks"]] == [
        ("topic", "single"),
        ("leaning", "single"),
        ("stance", "pair"),
    ]
    log = (multi_run / "train.log").read_text()
    assert "train split: data" in log and "claims" in log


def test_prediction_scores_pair_tasks_only_given_a_target(multi_run: Path):
    predictor = Predictor.from_pretrained(multi_run / "model", backend="torch", precision="fp32")
    article = {"title": "Bank raises rates", "content": "The bank raised interest rates; markets and jobs."}
    alone = predictor.predict_proba(article)
    assert set(alone) == {"topic", "leaning"}
    with_target = predictor.predict_proba({**article, "target": CLAIMS[0]})
    assert set(with_target) == {"topic", "leaning", "stance"}
    # the single-text tasks read the article alone: the target does not change them
    np.testing.assert_allclose(alone["topic"], with_target["topic"], atol=1e-6)
    text = article_text(article, ["title", "content"])
    first = raw_logits(predictor, [text], target=CLAIMS[0])["stance"]
    assert np.abs(raw_logits(predictor, [text], target=CLAIMS[3])["stance"] - first).max() > 1e-4
    listed = predictor.predict([article, article], target=CLAIMS[0])
    assert [set(r) for r in listed] == [{"topic", "leaning", "stance"}] * 2
    with pytest.raises(ValueError, match=r"article 1: .*\(tasks \['stance'\]\).*or no article a target"):
        predictor.predict([{**article, "target": CLAIMS[0]}, article])
    empty = predictor.predict_proba([], target=CLAIMS[0])
    assert {task: values.shape[0] for task, values in empty.items()} == {"topic": 0, "leaning": 0, "stance": 0}


def test_onnx_export_of_a_model_with_both_kinds_of_task(multi_run: Path, tmp_path: Path):
    pytest.importorskip("onnxruntime")
    from inference.prediction.onnx_export import export_model_folder

    folder = tmp_path / "model"
    shutil.copytree(multi_run / "model", folder)
    record = export_model_folder(folder)
    assert set(record["files"]["fp32"]["check_against_torch"]) == {"topic", "leaning", "stance"}
    torch_model = Predictor.from_pretrained(folder, backend="torch", precision="fp32")
    onnx = Predictor.from_pretrained(folder, backend="onnx", precision="fp32")
    article = {"title": "Bank raises rates", "content": "The bank raised interest rates.", "target": CLAIMS[0]}
    expected, got = torch_model.predict_proba(article), onnx.predict_proba(article)
    assert set(got) == {"topic", "leaning", "stance"}
    for task in expected:
        np.testing.assert_allclose(got[task], expected[task], atol=1e-4)


def test_evaluate_picks_a_dataset_of_the_saved_config(multi_run: Path, tmp_path: Path, capsys):
    model = str(multi_run / "model")
    pairs = write_jsonl(tmp_path / "pairs.jsonl", pair_rows(seed=2))
    assert evaluate_main(["--model", model, "--data", str(pairs), "--dataset", "claims", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["tasks"]) == {"stance"}
    news = write_jsonl(tmp_path / "news.jsonl", make_rows(seed=2))
    assert evaluate_main(["--model", model, "--data", str(news), "--split", "validation", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["tasks"]) == {"topic", "leaning"}
    assert evaluate_main(["--model", model, "--data", str(pairs), "--dataset", "fnc"]) == 2
    assert "datasets with tasks are ['claims', 'data']" in capsys.readouterr().err


def test_a_dataset_cannot_mix_single_and_pair_tasks_and_the_baseline_refuses_several(
    tmp_path: Path, tiny_encoder_dir: Path, capsys
):
    overrides = multi_overrides(tmp_path)
    mixed = overrides[0].replace(
        "{name: leaning, label_column: leaning}", "{name: leaning, label_column: leaning, dataset: claims}"
    )
    base = ["--config", "configs/default.yaml", "--set", f"model.name={tiny_encoder_dir}", *overrides[1:]]
    base.append(f"run.output_dir={tmp_path / 'runs'}")
    assert train_main([*base, mixed]) == 2
    assert "tasks of dataset 'claims': single and pair tasks read different inputs" in capsys.readouterr().err
    assert train_main([*base, overrides[0], "training.sampling_temperature=0"]) == 2
    assert "training.sampling_temperature: expected a positive number, got 0" in capsys.readouterr().err
    assert baseline_main([*base, overrides[0]]) == 2
    assert "fits one dataset at a time" in capsys.readouterr().err
    assert not list((tmp_path / "runs").glob("*"))  # the baseline's refused run left no folder


def test_news_all_config_reads_allsides_and_fnc1(monkeypatch):
    monkeypatch.setenv("NEWSCLF_DATA", "/data")
    config = load_config(ROOT / "configs" / "news-all.yaml")
    parts = config.parts()
    assert [t.name for t in parts["data"].tasks] == ["topic", "topic_coarse", "leaning"]
    assert parts["data"].data.train_file == "/data/allsides/articles.jsonl.gz"
    assert [t.name for t in parts["fnc1"].tasks] == ["stance"]
    assert parts["fnc1"].data.join.key == "Body ID" and parts["fnc1"].data.test_file.startswith("/data/fnc1/")
    assert config.training.sampling == "temperature"


def test_the_example_of_a_row_stacked_from_two_datasets_shows_its_text(multi_run: Path, capsys):
    from training.fitting.finishing import _print_example

    row = {"text": "Bank raises rates; markets fall", "target": CLAIMS[0], "label_stance": "agree"}
    _print_example(multi_run / "model", row, load_config(multi_run / "config.yaml"))
    printed = capsys.readouterr().out
    assert "for: 'Bank raises rates; markets fall'" in printed and "stance:" in printed and "true: agree" in printed
