"""README.md's examples run as written: each ```python block (in its own namespace; those of docs/*.md
too), and the bash blocks that are cheap, in a folder holding tiny models at the paths the README names
(``runs/latest/model``, ``runs/fnc1/model``, ``runs/news-all/model``), trained from the real configs.
The outputs README.md shows are those of the model its `make train` makes (configs/default.yaml as it is).
Every relative link of README.md and docs/*.md leads to a file (and heading) that exists, and no page
has two sections of the same title."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from testkit.articles import make_rows, write_allsides_like, write_fnc1_like, write_jsonl
from testkit.tiny import tiny_overrides

from inference import Predictor
from training.config import load_config
from training.fitting.recipe import train

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)
# bash blocks whose every command starts so are run; the others train for hours or need data
CHEAP_COMMANDS = ("echo ", "newsclf-predict --model runs/latest/model --input articles.jsonl ")


def readme_blocks(language: str, page: Path = README) -> list[tuple[int, str]]:
    """``(line of the block's first line of code, code)`` for each block of ``language`` in ``page``."""
    text = page.read_text(encoding="utf-8")
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
DOCS_PYTHON = [(page, line, code) for page in PAGES[1:] for line, code in readme_blocks("python", page)]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#* *$", re.MULTILINE)


# An example and the output shown under it: predict("...", model="runs/latest/model") in Python, curl -d '{...}'
# in the shell; each shown task as 'task': {'label': 'name', 'score': 0.93
PYTHON_EXAMPLE = re.compile(r'predict\(("[^"]+"), model="runs/latest/model"\)\n# (.+)')
CURL_EXAMPLE = re.compile(r"-d '(\{\"articles\".*?\})'\n# (.+)")
SHOWN_TASK = re.compile(r"""['"](\w+)['"]: \{['"]label['"]: ['"](\w+)['"], ['"]score['"]: ([0-9.]+)""")
# a model trained on another CPU differs a little (bf16 kernels): its labels must match, its scores come close
SCORE_TOLERANCE = 0.1


def shown_outputs() -> list[tuple[int, Any, dict[str, tuple[str, float]]]]:
    """``(line, article, {task: (label, score)})`` for every example of README.md that shows its output."""
    text = README.read_text(encoding="utf-8")
    found = []
    for pattern, article in ((PYTHON_EXAMPLE, json.loads), (CURL_EXAMPLE, lambda body: json.loads(body)["articles"])):
        for match in pattern.finditer(text):
            shown = {task: (label, float(score)) for task, label, score in SHOWN_TASK.findall(match.group(2))}
            found.append((text.count("\n", 0, match.start()) + 1, article(match.group(1)), shown))
    return found


SHOWN = shown_outputs()


def page_id(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def prose(page: Path) -> str:
    """The page's Markdown without its fenced code blocks (whose ``# comments`` are no headings)."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def headings(page: Path) -> list[str]:
    return HEADING.findall(prose(page))


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


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


@pytest.fixture(scope="module")
def make_train_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The model folder `make train` writes: configs/default.yaml unchanged (the packaged MiniLM, data/sample)."""
    runs = tmp_path_factory.mktemp("make-train")
    overrides = [f"data.train_file={ROOT / 'data' / 'sample' / 'articles.jsonl'}", f"run.output_dir={runs}"]
    return train(load_config(ROOT / "configs" / "default.yaml", [*overrides, "evaluation.example=false"])) / "model"


def test_readme_shows_outputs_of_both_kinds():
    assert len(SHOWN) >= 2 and all(shown for _, _, shown in SHOWN), SHOWN


@pytest.mark.slow
@pytest.mark.parametrize(("line", "article", "shown"), SHOWN, ids=[f"README.md:{line}" for line, _, _ in SHOWN])
def test_readme_outputs_are_what_the_make_train_model_predicts(line: int, article: Any, shown: dict, make_train_model):
    predicted = Predictor.from_pretrained(make_train_model).predict(article)
    for task, (label, score) in shown.items():
        got = predicted[task]
        assert got["label"] == label, f"README.md:{line}: {task} shown as {label}, the model says {got['label']}"
        assert abs(got["score"] - score) <= SCORE_TOLERANCE, f"README.md:{line}: {task} score {got['score']:.2f}"


@pytest.mark.parametrize(("line", "code"), PYTHON, ids=[f"README.md:{line}" for line, _ in PYTHON])
def test_readme_python_block_runs(line: int, code: str, readme_folder: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(readme_folder)
    monkeypatch.setattr(tempfile, "tempdir", str(readme_folder))  # fit's temporary run folders go there too
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


@pytest.mark.parametrize(("page", "line", "code"), DOCS_PYTHON, ids=[f"{page_id(p)}:{n}" for p, n, _ in DOCS_PYTHON])
def test_docs_python_block_runs(page: Path, line: int, code: str, readme_folder: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(readme_folder)
    exec(compile("\n" * (line - 1) + code, str(page), "exec"), {"__name__": "docs"})


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_relative_links_lead_to_files_and_headings_that_exist(page: Path):
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif fragment and linked.suffix == ".md" and fragment not in {anchor(h) for h in headings(linked)}:
            broken.append(f"{target}: no heading #{fragment} in {page_id(linked)}")
    assert not broken, f"{page_id(page)}: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_section_titles_are_unique_within_a_page(page: Path):
    titles = headings(page)
    assert len(titles) == len(set(titles)), sorted({t for t in titles if titles.count(t) > 1})


MARKER = re.compile(r"<!-- ([\w-]+):(begin|end) -->")


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_benchmark_sections_are_closed_and_never_nested(page: Path):
    """A benchmark replaces what lies between its markers: a section nested inside another's would be lost."""
    open_section = None
    for name, edge in MARKER.findall(page.read_text(encoding="utf-8")):
        expected = "begin" if open_section is None else "end"
        assert (edge, open_section or name) == (expected, name), f"{page_id(page)}: {name}:{edge} inside {open_section}"
        open_section = name if edge == "begin" else None
    assert open_section is None, f"{page_id(page)}: {open_section} is never closed"
