"""benchmarks/side_by_side.py on tiny runs: every part of a fused folder, the probe and the narrowed encoder get a
row, the rows score what the saved model predicts, and the report replaces only its own section."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from testkit.articles import pair_rows
from testkit.tiny import tiny_config

from inference import Predictor
from training.fitting.recipe import train
from training.scoring.evaluation import evaluate

ROOT = Path(__file__).parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))  # the script imports its neighbour `common`
SPEC = importlib.util.spec_from_file_location("side_by_side", ROOT / "benchmarks" / "side_by_side.py")
side_by_side = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(side_by_side)

CHUNKS = ["model.window=chunks", "model.max_windows=3", "training.epochs=1"]
FUSED = ["training.fuse_tfidf=true", "training.tfidf_share=0.5"]  # fused whatever validation would choose


def cells(report: str, model: str) -> list[str]:
    row = next(line for line in report.splitlines() if f"| {model} |" in line)
    return [cell.strip() for cell in row.strip("|").split("|")]


def test_every_part_gets_a_row_scored_as_the_folder_predicts(tmp_path, tiny_encoder_dir):
    fused = train(tiny_config(tmp_path / "fused", tiny_encoder_dir, [*CHUNKS, *FUSED]))
    probe = train(tiny_config(tmp_path / "probe", tiny_encoder_dir, [*CHUNKS, "training.mode=probe"]))
    page = tmp_path / "results.md"
    page.write_text("# Results\n\nkept above\n", encoding="utf-8")

    side_by_side.main(
        ["--run", f"tiny={fused}", "--probe", f"tiny={probe}", "--windows", "1", "3", "--output", str(page)]
    )

    report = page.read_text(encoding="utf-8")
    assert report.startswith("# Results\n\nkept above\n") and report.count(side_by_side.BEGIN) == 1
    models = ["saved model (fused)", "encoder alone", "TF-IDF alone", "encoder alone, 1 window", "frozen probe"]
    for model in models:
        assert len(cells(report, model)) == 6, model  # split, model, reads, two tasks, articles/s
    assert "encoder alone, 3 windows" not in report  # the folder's own windowing is the `encoder alone` row
    assert cells(report, "encoder alone, 1 window")[2] == "≤ 1 × 32 tokens"
    assert cells(report, "TF-IDF alone")[2] == "every word"
    config = tiny_config(tmp_path / "fused", tiny_encoder_dir, [*CHUNKS, *FUSED])
    scored = evaluate(
        Predictor.from_pretrained(fused / "model", backend="torch"), config, config.data.train_file, "validation"
    )
    expected = [
        f"{100 * scored['tasks'][t]['accuracy']:.1f} / {100 * scored['tasks'][t]['macro_f1']:.1f}"
        for t in ("topic", "leaning")
    ]
    assert cells(report, "saved model (fused)")[3:5] == expected
    assert re.fullmatch(r"validation \(\d+\)", cells(report, "frozen probe")[0])


def test_a_folder_that_is_not_a_run_is_refused_by_name(tmp_path):
    try:
        side_by_side.main(["--run", f"x={tmp_path}"])
    except SystemExit as stop:
        assert "x=" in str(stop) and "model/" in str(stop)
    else:
        raise AssertionError("a folder without model/ was accepted")


def test_a_run_fusing_no_tfidf_takes_its_tfidf_row_from_a_baseline_run(tmp_path, tiny_encoder_dir):
    from inference.prediction.tfidf import TfidfPredictor
    from training.baseline import main as baseline_main

    run = train(tiny_config(tmp_path / "plain", tiny_encoder_dir, ["training.epochs=1"]))
    config = tiny_config(tmp_path / "plain", tiny_encoder_dir)
    baseline = [f"data.train_file={config.data.train_file}", f"run.output_dir={tmp_path / 'runs'}", "run.name=tfidf"]
    assert baseline_main(["--config", str(ROOT / "configs" / "default.yaml"), "--set", *baseline]) == 0
    page = tmp_path / "results.md"

    side_by_side.main(
        ["--run", f"plain={run}", "--tfidf", f"plain={tmp_path / 'runs' / 'tfidf'}", "--output", str(page)]
    )

    report = page.read_text(encoding="utf-8")
    assert "saved model (encoder)" in report and "encoder alone" not in report
    tfidf = TfidfPredictor.from_pretrained(tmp_path / "runs" / "tfidf" / "model")
    scored = evaluate(tfidf, config, config.data.train_file, "validation")
    expected = [
        f"{100 * scored['tasks'][t]['accuracy']:.1f} / {100 * scored['tasks'][t]['macro_f1']:.1f}"
        for t in ("topic", "leaning")
    ]
    assert cells(report, "TF-IDF alone")[3:5] == expected


def test_a_run_of_two_datasets_gets_a_table_per_dataset_with_its_own_tasks(tmp_path, tiny_encoder_dir):
    from testkit.tiny import multi_overrides

    run = train(tiny_config(tmp_path, tiny_encoder_dir, [*multi_overrides(tmp_path), "training.epochs=1"]))
    page = tmp_path / "results.md"
    side_by_side.main(["--run", f"joint={run}", "--output", str(page)])
    report = page.read_text(encoding="utf-8")
    assert "**joint**, dataset `data`" in report and "**joint**, dataset `claims`" in report
    news, claims = report.split("**joint**, dataset `claims`")
    assert "topic acc / F1 | leaning acc / F1 |" in news and "stance" not in news.split("dataset `data`")[1]
    assert "| stance acc / F1 | articles/s |" in claims and "topic acc" not in claims
    stance = cells(claims, "saved model (encoder)")
    validation_pairs = sum(row["split"] == "validation" for row in pair_rows())
    assert stance[0] == f"validation ({validation_pairs})" and len(stance) == 5
