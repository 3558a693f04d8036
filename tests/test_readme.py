"""README.md's examples run as written: each ```python block (in its own namespace), and the bash
blocks that are cheap, in a folder holding tiny models at the paths the README names
(``runs/latest/model``, ``runs/fnc1/model``, ``runs/news-all/model``), trained from the real configs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_rows, tiny_overrides, write_allsides_like, write_fnc1_like, write_jsonl

from training.config import load_config
from training.train import train

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
# bash blocks whose every command starts so are run; the others train for hours or need data
CHEAP_COMMANDS = ("echo ", "newsclf-predict --model runs/latest/model --input articles.jsonl ")


def readme_blocks(language: str) -> list[tuple[int, str]]:
    """``(line of the block's first line of code, code)`` for each block of ``language``."""
    text = README.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, match.start()) + 2, match.group(2))
        for match in FENCE.finditer(text)
        if match.group(1) == language
    ]


def is_cheap(code: str) -> bool:
    commands = [line for line in code.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return bool(commands) and all(line.startswith(CHEAP_COMMANDS) for line in commands)


PYTHON = readme_blocks("python")
CHEAP_BASH = [(line, code) for line, code in readme_blocks("bash") if is_cheap(code)]


@pytest.fixture(scope="module")
def readme_folder(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> Path:
    """A folder with ``runs/fnc1``, ``runs/news-all`` and, trained last so that ``runs/latest`` points
    at it, ``runs/default``: configs/fnc1.yaml, news-all.yaml and default.yaml on tiny data."""
    folder = tmp_path_factory.mktemp("readme")
    data = folder / "shared-data"
    write_allsides_like(data / "allsides")
    write_fnc1_like(data / "fnc1")
    runs = [
        ("fnc1", data / "fnc1" / "train_stances.csv"),
        ("news-all", data / "allsides" / "articles.jsonl.gz"),
        ("default", write_jsonl(folder / "articles.jsonl", make_rows())),
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEWSCLF_DATA", str(data))  # read by the configs' ${NEWSCLF_DATA:-...} paths
        for name, train_file in runs:
            overrides = tiny_overrides(folder, tiny_encoder_dir, train_file, [f"run.name={name}"])
            train(load_config(ROOT / "configs" / f"{name}.yaml", overrides))
    assert (folder / "runs" / "latest").resolve() == (folder / "runs" / "default").resolve()
    return folder


def test_readme_has_python_and_cheap_shell_examples():
    assert len(PYTHON) >= 1 and len(CHEAP_BASH) >= 1


def test_the_models_read_the_same_article_fields(readme_folder: Path):
    for name, fields in (("fnc1", ["content"]), ("news-all", ["title", "content"]), ("latest", ["title", "content"])):
        config = json.loads((readme_folder / "runs" / name / "model" / "config.json").read_text())
        assert config["text_fields"] == fields, name


@pytest.mark.parametrize(("line", "code"), PYTHON, ids=[f"README.md:{line}" for line, _ in PYTHON])
def test_readme_python_block_runs(line: int, code: str, readme_folder: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(readme_folder)
    # blank lines in front, so a traceback names the README's own line numbers
    exec(compile("\n" * (line - 1) + code, str(README), "exec"), {"__name__": "readme"})


@pytest.mark.parametrize(("line", "code"), CHEAP_BASH, ids=[f"README.md:{line}" for line, _ in CHEAP_BASH])
def test_readme_cheap_bash_block_runs(line: int, code: str, readme_folder: Path):
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # the venv's commands
    completed = subprocess.run(
        ["bash", "-e", "-c", code],
        cwd=readme_folder,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, f"README.md:{line}: {completed.stderr}"
    if "preds.jsonl" in code:
        records = [json.loads(row) for row in (readme_folder / "preds.jsonl").read_text().splitlines()]
        assert records and all({"topic", "leaning"} <= set(record) for record in records)
