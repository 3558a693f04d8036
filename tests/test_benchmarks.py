"""The AllSides benchmark script, run end to end on a small AllSides-shaped data set."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from conftest import write_allsides_like

from training.config import load_config
from training.train import train

ROOT = Path(__file__).parents[1]
SPEC = importlib.util.spec_from_file_location("allsides_benchmark", ROOT / "benchmarks" / "allsides.py")
benchmark = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(benchmark)


def train_tiny_allsides(tmp_path: Path, encoder: Path, monkeypatch) -> Path:
    """Writes AllSides-shaped data under tmp_path, points NEWSCLF_DATA at it and fine-tunes a tiny model."""
    write_allsides_like(tmp_path / "data" / "allsides")
    monkeypatch.setenv("NEWSCLF_DATA", str(tmp_path / "data"))
    overrides = [
        f"model.name={encoder}",
        f"run.output_dir={tmp_path / 'runs'}",
        "run.name=ft",
        "model.max_length=32",
        "training.epochs=1",
        "training.bf16=false",
        "evaluation.example=false",
        "evaluation.confusion_matrices=false",
    ]
    return train(load_config(ROOT / "configs" / "allsides.yaml", overrides))


def test_allsides_benchmark_writes_one_replaceable_section(tmp_path, tiny_encoder_dir, monkeypatch):
    run_dir = train_tiny_allsides(tmp_path, tiny_encoder_dir, monkeypatch)
    tiny = [f"model.name={tiny_encoder_dir}", f"run.output_dir={tmp_path / 'runs'}", "model.max_length=32"]
    tiny += ["training.epochs=1", "training.bf16=false", "evaluation.example=false"]
    tiny += ["evaluation.confusion_matrices=false"]
    output = tmp_path / "docs" / "benchmarks.md"
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
    output = tmp_path / "benchmarks.md"
    argv = ["--protocols", "random", "--ensemble", "--finetuned", f"random={run_dir}", "--output", str(output)]
    assert benchmark.main([*argv, "--cache", str(tmp_path / "cache")]) == 0
    lines = output.read_text(encoding="utf-8").splitlines()
    rows = [line.split("|") for line in lines if "| random validation |" in line]
    f1 = {(row[1].strip(), row[3].strip().split(":")[0].split(" ")[0]): float(row[5]) for row in rows}
    for task in ("topic", "topic_coarse", "leaning"):
        assert f1[(task, "ensemble")] >= max(f1[(task, "TF-IDF")], f1[(task, "fine-tuned")]) - 0.05, task
    assert len(list((tmp_path / "cache").glob("probs-ft-*-test.npz"))) == 1
