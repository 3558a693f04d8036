"""The AllSides benchmark script, run end to end on a small AllSides-shaped data set."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from testkit.articles import write_allsides_like, write_fnc1_like
from testkit.tiny import allsides_like_overrides

from training.config import load_config
from training.fitting.recipe import train

ROOT = Path(__file__).parents[2]
SPEC = importlib.util.spec_from_file_location("allsides_benchmark", ROOT / "benchmarks" / "allsides.py")
benchmark = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(benchmark)
common = importlib.import_module("common")  # benchmarks/common.py: pytest puts benchmarks/ on sys.path


def train_tiny_allsides(tmp_path: Path, encoder: Path, monkeypatch) -> Path:
    """Writes AllSides-shaped data under tmp_path, points NEWSCLF_DATA at it and fine-tunes a tiny model."""
    write_allsides_like(tmp_path / "data" / "allsides")
    monkeypatch.setenv("NEWSCLF_DATA", str(tmp_path / "data"))
    return train(load_config(ROOT / "configs" / "allsides.yaml", allsides_like_overrides(tmp_path, encoder, "ft")))


def test_allsides_benchmark_writes_one_replaceable_section(tmp_path, tiny_encoder_dir, monkeypatch):
    run_dir = train_tiny_allsides(tmp_path, tiny_encoder_dir, monkeypatch)
    tiny = [
        f"model.name={tiny_encoder_dir}",
        f"run.output_dir={tmp_path / 'runs'}",
        "model.max_length=32",
        "model.stride=4",
    ]
    tiny += ["training.epochs=1", "training.bf16=false", "evaluation.example=false"]
    tiny += ["evaluation.confusion_matrices=false"]
    output = tmp_path / "docs" / "results.md"
    output.parent.mkdir()
    output.write_text("# Benchmarks\n\nOther results stay.\n", encoding="utf-8")
    argv = [
        "--protocols",
        "random",
        "media",
        "outlet",
        "--scrub",
        "--ensemble",
        "--finetuned",
        f"random={run_dir}",
        "--train",
        "random",
        "outlet",
        "--set",
        *tiny,
        "--output",
        str(output),
        "--cache",
        str(tmp_path / "cache"),
    ]
    assert benchmark.main(argv) == 0
    assert (tmp_path / "runs" / "allsides-outlet" / "metrics.json").is_file()  # trained by --train
    assert not (tmp_path / "runs" / "allsides-random").exists()  # --finetuned given: not trained again
    assert len(list((tmp_path / "cache").glob("tfidf-*/metrics.json"))) == 6  # 3 protocols x (plain, scrubbed)
    assert benchmark.main(argv) == 0  # a second run reuses the fits and replaces the section instead of appending
    text = output.read_text(encoding="utf-8")
    assert text.count(benchmark.BEGIN) == 1 and "Other results stay." in text
    rows = [line for line in text.splitlines() if line.startswith("| leaning |")]
    methods = {row.split("|")[3].strip() for row in rows}
    assert {"majority class", "TF-IDF + linear SVM", "TF-IDF + linear SVM, scrubbed"} <= methods
    assert any(method.startswith("fine-tuned") and "(ft)" in method for method in methods)
    assert any(method.startswith("fine-tuned") and "(allsides-outlet)" in method for method in methods)
    assert any("| leaning | outlet validation |" in row for row in rows)
    assert any("| topic_coarse | random test |" in line for line in text.splitlines())
    assert "Machine:" in text and "Command: `python benchmarks/allsides.py" in text


def test_ensemble_is_never_worse_on_validation_than_either_member(tmp_path, tiny_encoder_dir, monkeypatch):
    """The grid holds w=0 (fine-tuned alone) and w=1 (TF-IDF alone): the validation pick matches or beats both."""
    run_dir = train_tiny_allsides(tmp_path, tiny_encoder_dir, monkeypatch)
    output = tmp_path / "results.md"
    argv = ["--protocols", "random", "--ensemble", "--finetuned", f"random={run_dir}", "--output", str(output)]
    assert benchmark.main([*argv, "--cache", str(tmp_path / "cache")]) == 0
    lines = output.read_text(encoding="utf-8").splitlines()
    rows = [line.split("|") for line in lines if "| random validation |" in line]
    f1 = {(row[1].strip(), row[3].strip().split(":")[0].split(" ")[0]): float(row[5]) for row in rows}
    for task in ("topic", "topic_coarse", "leaning"):
        assert f1[(task, "ensemble")] >= max(f1[(task, "TF-IDF")], f1[(task, "fine-tuned")]) - 0.05, task
    assert len(list((tmp_path / "cache").glob("probs-ft-*-test.npz"))) == 1


MULTITASK_SPEC = importlib.util.spec_from_file_location("multitask_benchmark", ROOT / "benchmarks" / "multitask.py")
multitask = importlib.util.module_from_spec(MULTITASK_SPEC)
MULTITASK_SPEC.loader.exec_module(multitask)


def test_multitask_benchmark_trains_single_and_joint_runs_and_reports_them(tmp_path, tiny_encoder_dir, monkeypatch):
    write_allsides_like(tmp_path / "data" / "allsides")
    write_fnc1_like(tmp_path / "data" / "fnc1")
    monkeypatch.setenv("NEWSCLF_DATA", str(tmp_path / "data"))
    output = tmp_path / "results.md"
    output.write_text("# Benchmarks\n\nkept\n")
    tiny = [f"model.name={tiny_encoder_dir}", "model.max_length=32", "training.bf16=false", "training.batch_size=8"]
    argv = ["--train", "fnc1", "allsides", "joint", "--set", *tiny, "--output-dir", str(tmp_path / "runs")]
    assert multitask.main([*argv, "--output", str(output), "--cost-pairs", "4", "--repeats", "1"]) == 0
    text = output.read_text()
    assert text.startswith("# Benchmarks\n\nkept\n") and multitask.BEGIN in text
    for run in ("fnc1", "allsides", "joint"):
        assert (tmp_path / "runs" / f"bench-{run}" / "model" / "model.safetensors").is_file()
    rows = [line for line in text.splitlines() if line.startswith("| stance | test |")]
    assert [row.split("|")[3].strip() for row in rows] == ["joint", "fnc1"]
    assert all(row.split("|")[6].strip() != "–" for row in rows)  # the FNC score is reported
    assert len([line for line in text.splitlines() if line.startswith("| leaning | validation |")]) == 2
    cost = [line for line in text.splitlines() if line.startswith(("| two models", "| joint model"))]
    assert len(cost) == 2 and cost[0].endswith("| 1.00 |")
    joint = load_config(tmp_path / "runs" / "bench-joint" / "config.yaml")
    assert joint.datasets["fnc1"].max_train_samples == 10000 and joint.model.max_length == 32
    # a second call reads the finished runs instead of training again
    before = (tmp_path / "runs" / "bench-joint" / "metrics.json").stat().st_mtime
    assert multitask.main([*argv, "--output", str(output), "--cost-pairs", "0"]) == 0
    assert (tmp_path / "runs" / "bench-joint" / "metrics.json").stat().st_mtime == before
    assert multitask.main(["--runs", "other=x", "--output", str(output)]) == 2


# Runs each script as `python script.py --help` would (its folder first on sys.path, the working directory
# elsewhere, run as __main__), all in one interpreter so that torch is imported once rather than once a script.
_RUN_EACH_HELP = """
import contextlib, io, runpy, sys
failures = []
for script in sys.argv[1:]:
    sys.argv = [script, "--help"]
    sys.path.insert(0, script.rsplit("/", 1)[0])
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            runpy.run_path(script, run_name="__main__")
        failures.append(script + ": returned without printing help")
    except SystemExit as done:
        if done.code not in (0, None) or "usage:" not in printed.getvalue():
            failures.append(f"{script}: exit {done.code}, printed {printed.getvalue()[:200]!r}")
    except Exception as error:
        failures.append(f"{script}: {type(error).__name__}: {error}")
    finally:
        sys.path.pop(0)
print("\\n".join(failures))
sys.exit(1 if failures else 0)
"""


def test_benchmark_scripts_run_as_scripts(tmp_path: Path):
    """Run as files from anywhere: their folder comes first on sys.path, so nothing in it may be named like the
    project's packages (a benchmarks/inference.py once shadowed `inference`)."""
    import subprocess
    import sys

    scripts = sorted(path for path in (ROOT / "benchmarks").glob("*.py") if path.name != "common.py")
    assert not {path.stem for path in (ROOT / "benchmarks").glob("*.py")} & {"inference", "training", "tests"}
    assert len(scripts) >= 7
    command = [sys.executable, "-c", _RUN_EACH_HELP, *map(str, scripts)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_streaming_benchmark_times_one_and_two_processes_and_the_whole_archive(tmp_path, tiny_model_dir):
    spec = importlib.util.spec_from_file_location("streaming_benchmark", ROOT / "benchmarks" / "streaming.py")
    streaming = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(streaming)
    write_allsides_like(tmp_path / "data" / "allsides")
    output = tmp_path / "speed.md"
    output.write_text("# Benchmarks\n\nkept\n")
    argv = ["--model", str(tiny_model_dir), "--articles", "150", "--compare", "60", "--backend", "torch"]
    argv += ["--precision", "fp32", "--source", str(tmp_path / "data" / "allsides" / "articles.jsonl.gz")]
    assert streaming.main([*argv, "--work-dir", str(tmp_path / "work"), "--output", str(output)]) == 0
    text = output.read_text()
    assert text.startswith("# Benchmarks\n\nkept\n") and streaming.BEGIN in text
    rows = [line.split("|") for line in text.splitlines() if line.startswith(("| first", "| all"))]
    assert [row[2].strip() for row in rows[:2]] == ["1", "2"] and rows[2][1].strip() == "all 150 articles"
    assert all(float(row[5]) > 50 for row in rows), "peak memory holds at least the model and torch"
    assert "the same ids and labels (probabilities within" in text and "different ids" not in text
    ids = [json.loads(line)["id"] for line in (tmp_path / "work" / "archive-out.jsonl").read_text().splitlines()]
    assert ids == [f"{i:07d}" for i in range(150)], "54 articles repeated into 150, in order"


def test_fnc1_benchmark_trains_once_and_reports_scores_references_and_the_confusion_matrix(
    tmp_path, tiny_encoder_dir, monkeypatch
):
    spec = importlib.util.spec_from_file_location("fnc1_benchmark", ROOT / "benchmarks" / "fnc1.py")
    fnc1 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fnc1)
    write_fnc1_like(tmp_path / "data" / "fnc1")
    monkeypatch.setenv("NEWSCLF_DATA", str(tmp_path / "data"))
    output = tmp_path / "results.md"
    tiny = [f"model.name={tiny_encoder_dir}", "model.max_length=32", "training.bf16=false", "training.epochs=1"]
    argv = ["--train", "--set", *tiny, "--output-dir", str(tmp_path / "runs"), "--output", str(output)]
    assert fnc1.main(argv) == 0
    run_dir = tmp_path / "runs" / "bench-fnc1-full"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    text = output.read_text()
    assert "## FNC-1 stance, trained on all training pairs" in text
    test_row = next(line for line in text.splitlines() if line.startswith("| test ("))
    assert test_row.split("|")[2].strip() == f"{100 * metrics['splits']['test']['stance']['fnc_score']:.1f}"
    matrix = [line for line in text.splitlines() if line.startswith(("| agree |", "| disagree |", "| discuss |"))]
    assert len(matrix) == 3 and "| unrelated |" in text
    total = sum(sum(row) for row in metrics["splits"]["test"]["stance"]["confusion_matrix"])
    assert f"test ({total:,} pairs)" in text
    # a finished run is reported again without training
    before = (run_dir / "metrics.json").stat().st_mtime
    assert fnc1.main(["--run", str(run_dir), "--output", str(output)]) == 0
    assert (run_dir / "metrics.json").stat().st_mtime == before and output.read_text().count(fnc1.BEGIN) == 1


def test_replace_section_appends_then_replaces_only_its_block(tmp_path: Path) -> None:
    target = tmp_path / "docs" / "results.md"
    common.replace_section(target, "<!-- a -->", "<!-- /a -->", "first")
    assert target.read_text() == "# Benchmarks\n\n<!-- a -->\nfirst\n<!-- /a -->\n"
    target.write_text(target.read_text() + "kept below\n")
    common.replace_section(target, "<!-- b -->", "<!-- /b -->", "other")
    common.replace_section(target, "<!-- a -->", "<!-- /a -->", "second")
    text = target.read_text()
    assert "first" not in text and text.count("second") == 1
    assert "kept below" in text and "other" in text
    assert [p.name for p in target.parent.iterdir()] == ["results.md"]  # no temporary file left


def test_describe_machine_names_cores_python_and_os():
    import os
    import platform

    line = common.describe_machine()
    assert f"{os.cpu_count()} cores" in line and f"Python {platform.python_version()}" in line
    assert line.endswith(platform.system())


def test_benchmarks_take_only_train_from_the_orchestrator():
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        for line in script.read_text(encoding="utf-8").splitlines():
            if "training.fitting.recipe import" in line:
                assert line.strip() == "from training.fitting.recipe import train", f"{script.name}: {line.strip()}"


TINY = [
    "model.max_length=32",
    "model.stride=4",
    "training.epochs=1",
    "training.bf16=false",
    "evaluation.confusion_matrices=false",
]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recipe_benchmark_trains_both_protocols_and_sets_them_against_tfidf_and_the_targets(
    tmp_path, tiny_encoder_dir, monkeypatch
):
    recipe = _script("recipe")
    write_allsides_like(tmp_path / "data" / "allsides")
    monkeypatch.setenv("NEWSCLF_DATA", str(tmp_path / "data"))
    output = tmp_path / "results.md"
    argv = ["--train", "outlet", "random", "--output-dir", str(tmp_path / "runs"), "--output", str(output)]
    fused = "training.tfidf_share=0.5"  # a perfect tiny encoder would otherwise leave TF-IDF out of the folder
    assert recipe.main([*argv, "--set", f"model.name={tiny_encoder_dir}", *TINY, fused]) == 0
    text = output.read_text(encoding="utf-8")
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith(("| outlet |", "| random |"))]
    table = {(row[0][2:], row[1], row[2]): row for row in rows if len(row) > 6}
    assert ("random", "test", "leaning") in table and ("outlet", "validation", "topic_coarse") in table
    leaning = table[("random", "test", "leaning")]
    assert all(cell != "–" for cell in leaning[3:7])  # TF-IDF and encoder both scored
    assert "macro_f1 ≥ 90" in leaning[-1]
    assert "outlet" not in {key[2] for key in table}  # no adversarial task in the shipped configs
    assert text.count(recipe.BEGIN) == 1 and "| protocol | encoder training |" in text
    assert "TF-IDF takes" in text and "articles/s without TF-IDF" in text


def test_ablation_benchmark_screens_variants_and_tabulates_them(tmp_path, tiny_encoder_dir, monkeypatch):
    ablation = _script("ablation")
    write_allsides_like(tmp_path / "data" / "allsides")
    monkeypatch.setenv("NEWSCLF_DATA", str(tmp_path / "data"))
    work, output = tmp_path / "screen", tmp_path / "results.md"
    argv = ["--variants", "two-tasks", "adversarial-outlet", "draw-1-of-8", "--work", str(work)]
    assert ablation.main([*argv, "--set", f"model.name={tiny_encoder_dir}", *TINY, "--output", str(output)]) == 0
    rows = {line.split(" | ")[0][2:]: line for line in output.read_text().splitlines() if line.startswith("| ")}
    assert {"two-tasks", "adversarial-outlet", "draw-1-of-8"} <= set(rows)
    assert output.read_text().count(ablation.BEGIN) == 1
    assert rows["two-tasks"].split(" | ")[6] == "–" and rows["adversarial-outlet"].split(" | ")[6] != "–"
    config = load_config(work / "draw-1-of-8" / "config.yaml")
    assert config.model.train_windows == 1 and config.data.max_train_samples == 8000 and not config.evaluation.test
    assert not config.training.fuse_tfidf  # the encoder is screened, not the fusion
    stamp = (work / "two-tasks" / "metrics.json").stat().st_mtime_ns
    assert ablation.main(["--variants", "two-tasks", "--work", str(work), "--report-only"]) == 0
    assert (work / "two-tasks" / "metrics.json").stat().st_mtime_ns == stamp  # read, not trained again


def test_ablation_rows_of_a_fused_run_give_the_encoders_own_scores():
    ablation = _script("ablation")
    metrics = {
        "summary": {"validation": {"leaning_accuracy": 0.9, "leaning_macro_f1": 0.8, "topic_accuracy": 0.5}},
        "calibration": {
            "leaning": {
                "tfidf_weight": 0.5,
                "splits": {"validation": {"encoder_accuracy": 0.3, "encoder_macro_f1": 0.2}},
            },
            "topic": {
                "tfidf_weight": 0.0,
                "splits": {"validation": {"encoder_accuracy": 0.5, "encoder_macro_f1": 0.1}},
            },
        },
    }
    scores = ablation.encoder_scores(metrics)
    assert scores["leaning_accuracy"] == 0.3 and scores["leaning_macro_f1"] == 0.2  # fused: the encoder's own
    assert scores["topic_accuracy"] == 0.5 and "topic_macro_f1" not in scores  # not fused: the summary as it is


def test_serve_benchmark_loads_the_real_server_and_reports_against_offline(tmp_path, tiny_model_dir, monkeypatch):
    spec = importlib.util.spec_from_file_location("serve_benchmark", ROOT / "benchmarks" / "serve.py")
    serve_benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve_benchmark)
    write_allsides_like(tmp_path / "data" / "allsides")
    monkeypatch.setattr(serve_benchmark, "DATA", tmp_path / "data")
    output = tmp_path / "speed.md"
    output.write_text("# Benchmarks\n\nkept\n")
    argv = ["--model", str(tiny_model_dir), "--articles", "12", "--clients", "4", "--requests", "3", "--single", "3"]
    assert serve_benchmark.main([*argv, "--output", str(output)]) == 0
    text = output.read_text()
    assert "kept" in text and text.count("<!-- serve:begin -->") == 1
    rows = [line for line in text.splitlines() if line.startswith("| dynamic") or line.startswith("| one request")]
    assert len(rows) == 4 and all(line.split("|")[-3].strip() == "0" for line in rows)  # no errors in any row
    assert "4 concurrent clients ≥ 90% of offline" in text
    assert "a lone client's p50 with batching ≤ 1.1× without:" in text


def test_distillation_table_holds_each_runs_splits_and_its_speed_against_the_first(
    tiny_model_dir: Path, tiny_mpnet_model_dir: Path, tmp_path: Path
):
    import distillation

    page = tmp_path / "results.md"
    begin, end = distillation.markers("distillation")
    page.write_text(f"# Results\n\n{begin}\nold\n{end}\n", encoding="utf-8")
    runs = [f"student={tiny_model_dir.parent}", f"teacher={tiny_mpnet_model_dir.parent}"]
    assert distillation.main(["--run", *runs, "--articles", "8", "--rounds", "1", "--output", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "old" not in text and "| split | run | topic acc / F1 | leaning acc / F1 | train min | articles/s |" in text
    rows = [line for line in text.splitlines() if line.startswith(("| validation", "| test"))]
    assert len(rows) == 2  # one a run: the tiny runs score validation only
    assert rows[0].startswith("| validation | student (") and rows[0].endswith("(1.00×) |")
    assert rows[1].startswith("| validation | teacher (") and "tiny-mpnet" in rows[1] and "probe+finetune" in rows[1]


def test_distillation_seeds_table_holds_each_names_mean_range_and_gap_to_the_first(tmp_path: Path):
    import distillation

    def run(name: str, leaning_f1: float) -> str:
        folder = tmp_path / name
        folder.mkdir()
        test = {"topic": {"accuracy": 0.5, "macro_f1": 0.4}, "leaning": {"accuracy": 0.5, "macro_f1": leaning_f1}}
        (folder / "metrics.json").write_text(json.dumps({"splits": {"validation": test, "test": test}}))
        return str(folder)

    page = tmp_path / "results.md"
    begin, end = distillation.markers("distillation-seeds")
    other_begin, other_end = distillation.markers("more-seeds")
    page.write_text(f"{begin}\nold\n{end}\n{other_begin}\nkept\n{other_end}\n", encoding="utf-8")
    seeds = [f"alone={run('a1', 0.46)}", f"alone={run('a2', 0.48)}", f"student={run('s1', 0.49)}"]
    assert distillation.main(["--seeds", *seeds, "--output", str(page)]) == 0
    assert "kept" in page.read_text(encoding="utf-8") and "old" not in page.read_text(encoding="utf-8")
    rows = [line.split(" | ") for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("| alone")]
    rows += [
        line.split(" | ") for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("| student")
    ]
    assert [row[1] for row in rows] == ["2", "1"]
    assert rows[0][3] == "50.0 / 47.0 (46.0–48.0)" and rows[1][3] == "50.0 / 49.0 (49.0–49.0)"
    assert rows[0][4] == "+0.0 / +0.0 |" and rows[1][4] == "+0.0 / +2.0 |"
    assert distillation.main(["--seeds", *seeds, "--output", str(page), "--section", "more-seeds"]) == 0
    assert "kept" not in page.read_text(encoding="utf-8")
    (tmp_path / "a1" / "metrics.json").write_text(json.dumps({"splits": {"validation": {}}}))
    with pytest.raises(SystemExit, match="no test split"):
        distillation.main(["--seeds", *seeds])


def test_window_budget_scores_one_folder_at_each_budget(tiny_model_dir: Path, tmp_path: Path):
    import window_budget

    page = tmp_path / "results.md"
    page.write_text("# Results\n\n<!-- windows:begin -->\nold\n<!-- windows:end -->\n", encoding="utf-8")
    assert window_budget.main(["--model", str(tiny_model_dir), "--windows", "1", "3", "--output", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith(("| 1 |", "| 3 |"))]
    assert "old" not in text and len(rows) == 2
    tasks = json.loads((tiny_model_dir / "config.json").read_text())["tasks"]
    assert all(len(row.split("|")) == len(tasks) + 4 for row in rows)  # budget, one cell per task, articles/s


def test_window_budget_probes_the_config_it_is_given_into_its_own_section(tmp_path, tiny_encoder_dir, monkeypatch):
    import window_budget

    write_allsides_like(tmp_path / "data" / "allsides")
    monkeypatch.setenv("NEWSCLF_DATA", str(tmp_path / "data"))
    page = tmp_path / "results.md"
    page.write_text(
        "<!-- windows:begin -->\nkept\n<!-- windows:end -->\n<!-- tiny:begin -->\nSTALE\n<!-- tiny:end -->\n"
    )
    overrides = [f"model.name={tiny_encoder_dir}", "model.max_length=32", "model.stride=4", "training.bf16=false"]
    argv = ["--config", str(ROOT / "configs" / "allsides-outlet.yaml"), "--probe", "1", "2", "--set", *overrides]
    argv += ["data.max_train_samples=40", "--work", str(tmp_path / "work"), "--feature-cache", str(tmp_path / "cache")]
    argv += ["--output", str(page), "--section", "tiny"]
    assert window_budget.main(argv) == 0
    text = page.read_text()
    assert "kept" in text and "STALE" not in text, text
    assert f"frozen {tiny_encoder_dir} probe" in text, text
    for budget in ("1", "2"):
        config = load_config(tmp_path / "work" / f"probe-w{budget}" / "config.yaml")
        assert config.model.max_windows == int(budget) and config.data.max_train_samples == 40
        assert config.model.name == str(tiny_encoder_dir)


def test_zero_shot_curve_grows_suggested_labels_round_by_round(tmp_path: Path):
    import zero_shot

    rng = np.random.default_rng(0)
    centres = np.eye(3, 8)
    data = zero_shot.Encoded.__new__(zero_shot.Encoded)  # vectors made here: no encoder needed
    data.labels = ["a", "b", "c"]
    data.y = {"pool": np.arange(60) % 3, "evaluation": np.arange(30) % 3}
    data.vectors = {
        part: zero_shot.unit(centres[y] + rng.normal(scale=0.3, size=(len(y), 8))) for part, y in data.y.items()
    }
    words = {0: "wages prices bank", 1: "clinic doctors vaccine", 2: "goal match league"}
    data.pool = [{"title": words[y], "content": words[y], "label": data.labels[y]} for y in data.y["pool"]]
    data.evaluation = [{"title": words[y], "content": words[y], "label": data.labels[y]} for y in data.y["evaluation"]]
    data.config = load_config(ROOT / "configs" / "default.yaml", ["training.mode=probe", "training.probe_l2=0.01"])
    data.zero_shot = (20 * centres.astype(np.float32), np.zeros(3, dtype=np.float32))
    results = zero_shot.curve(data, [0, 4, 6], seed=0)
    assert set(results) == {("zero-shot", 0)} | {
        (method, k)
        for k in (4, 6)
        for method in (
            "random, probe from zero-shot",
            "random, probe",
            "random, TF-IDF",
            "suggest, probe from zero-shot",
        )
    }
    assert results["zero-shot", 0]["accuracy"] > 0.9  # the centres are the classes
    assert all(0 <= scores["macro_f1"] <= 1 for scores in results.values())
    table = zero_shot.table([results, results])
    assert "| 6 | suggest, probe from zero-shot |" in table


def test_teacher_articles_writes_each_body_once_without_fnc1s_test_bodies(tmp_path):
    data = tmp_path / "data"
    (data / "bbc_news").mkdir(parents=True)
    (data / "fnc1").mkdir()
    bodies = ["a b", "c", "a b"]  # BBC News repeats a body; FNC-1's body 7 repeats one of BBC's
    bbc = [{"id": n, "category": "tech", "title": f"T{n}", "content": body} for n, body in enumerate(bodies)]
    (data / "bbc_news" / "bbc_news.jsonl").write_text("".join(json.dumps(row) + "\n" for row in bbc))
    (data / "fnc1" / "train_bodies.csv").write_text('Body ID,articleBody\n7,"c"\n8,"d, e\nf"\n9,""\n')
    (data / "fnc1" / "competition_test_bodies.csv").write_text('Body ID,articleBody\n1,"test body"\n')
    output = tmp_path / "articles.jsonl"
    limit = csv.field_size_limit()
    assert _script("teacher_articles").main(["--output", str(output), "--data", str(data)]) == 0
    assert csv.field_size_limit() == limit  # the process-wide limit put back (other tests read CSVs after it)
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [row["id"] for row in rows] == ["bbc-0", "bbc-1", "fnc1-8"]
    assert rows[2] == {"id": "fnc1-8", "title": "", "content": "d, e\nf"}
