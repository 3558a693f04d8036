"""The comparison of benchmarks/same_predictions.py on small .npz files (no training, no models)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).parents[2]
SPEC = importlib.util.spec_from_file_location("same_predictions", ROOT / "benchmarks" / "same_predictions.py")
same = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(same)


def arrays() -> dict[str, np.ndarray]:
    values = np.random.default_rng(0).random((5, 3)).astype(np.float32)
    return {
        "mean-chunks|torch-fp32|topic": values,
        "mean-chunks|onnx-fp32|topic": values[:, ::-1].copy(),
        "pair|torch-fp32|stance": values[:4],
    }


def write(path: Path, data: dict[str, np.ndarray]) -> Path:
    np.savez(path, **data)
    return path


def test_identical_files_pass(tmp_path, capsys):
    old, new = write(tmp_path / "old.npz", arrays()), write(tmp_path / "new.npz", arrays())
    status, report = same.compare(old, new)
    assert status == 0
    assert "3/3 arrays bit-identical" in report and "DIFFERENT" not in report
    assert "3/3 arrays bit-identical" in capsys.readouterr().out
    assert same.main(["--compare", str(old), str(new)]) == 0


def test_one_changed_element_fails_and_names_the_array(tmp_path, capsys):
    changed = arrays()
    onnx = changed["mean-chunks|onnx-fp32|topic"]
    onnx[2, 1] = np.nextafter(onnx[2, 1], np.float32(2))  # the smallest possible change
    assert not np.array_equal(onnx, arrays()["mean-chunks|onnx-fp32|topic"])
    old, new = write(tmp_path / "old.npz", arrays()), write(tmp_path / "new.npz", changed)
    assert same.main(["--compare", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "2/3 arrays bit-identical" in out
    rows = [line for line in out.splitlines() if "DIFFERENT" in line]
    assert len(rows) == 1 and rows[0].startswith("| mean-chunks | onnx-fp32 | topic |")
    assert rows[0].endswith("; labels equal |")


def test_a_changed_label_is_counted_and_the_section_is_written_from_two_files(tmp_path):
    changed = arrays()
    topic = changed["mean-chunks|onnx-fp32|topic"]
    topic[0] = topic[0][::-1].copy()  # the first row's probabilities reversed: its label moves
    old, new = write(tmp_path / "old.npz", arrays()), write(tmp_path / "new.npz", changed)
    page = tmp_path / "page.md"
    page.write_text(f"intro\n{same.BEGIN}\nold\n{same.END}\n", encoding="utf-8")
    argv = ["--compare", str(old), str(new), "--before", "abc1234", "--output", str(page)]
    assert same.main(argv) == 1
    text = page.read_text(encoding="utf-8")
    assert f"1 of {len(topic)} labels differ |" in text and "commit `abc1234`" in text and "\nold\n" not in text


def test_bf16_rows_of_one_side_are_left_out_but_other_missing_rows_fail(tmp_path):
    with_bf16 = {**arrays(), "pair|torch-bf16|stance": np.zeros((4, 3), np.float32)}
    old = write(tmp_path / "old.npz", with_bf16)
    status, report = same.compare(old, write(tmp_path / "new.npz", arrays()))
    assert status == 0 and "3/3 arrays bit-identical" in report
    assert "pair torch-bf16 stance: only the old code could run it" in report
    fewer = {key: value for key, value in arrays().items() if not key.startswith("pair|")}
    status, report = same.compare(old, write(tmp_path / "fewer.npz", fewer))
    assert status == 1 and "| pair | torch-fp32 | stance | - | MISSING: only the old code wrote it |" in report


def test_work_folder_that_is_not_empty_is_refused(tmp_path, capsys):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "keep.txt").write_text("mine", encoding="utf-8")
    assert same.main(["--before", "HEAD", "--work", str(tmp_path / "work")]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert [path.name for path in (tmp_path / "work").iterdir()] == ["keep.txt"]
