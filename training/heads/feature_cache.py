"""Article vectors of the frozen encoder, computed once and kept on disk for the probe (:mod:`training.heads.probe`).

A split's vectors are stored as ``<cache>/<key>.npy``. The key is a SHA-256 of everything the vectors depend on:
the encoder's weights, every token id of every window of the split (so the texts, the tokenizer, the windowing
and the scrubbing), the pooling and the precision. Another run, a search trial or a screen over the same data
reuses the file; any change gives another key, so a stale file is never read. The encoder reads the articles in
parts, each saved as it ends (``<key>.partial/``), so a killed run resumes where it stopped.

Launched as several processes (``torchrun``, ``accelerate launch``), each process embeds its share of the parts;
all of them then read every part, and rank 0 alone writes the split's file and removes the parts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from inference.model.windowing import collate_windows
from inference.prediction.backends import default_batch_size
from training.runs import distributed

logger = logging.getLogger("newsclf")

FORMAT = 1  # bump when what a vector means changes
PART_ARTICLES = 1024  # articles a part file holds: what a killed run loses at most


def encoder_checksum(encoder: torch.nn.Module) -> str:
    """SHA-256 of the encoder's weights, by name, as the model holds them."""
    digest = hashlib.sha256()
    for name, tensor in sorted(encoder.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def windows_fingerprint(articles: list[list[list[int]]]) -> str:
    """SHA-256 of every article's windows of token ids (article and window boundaries included)."""
    digest = hashlib.sha256()
    for article in articles:
        digest.update(len(article).to_bytes(4, "little"))
        for window in article:
            digest.update(np.asarray([len(window), *window], dtype=np.int32).tobytes())
    return digest.hexdigest()


def cache_key(model: Any, articles: list[list[list[int]]], bf16: bool, encoder_sha: str) -> str:
    settings = {
        "format": FORMAT,
        "encoder": encoder_sha,
        "windows": windows_fingerprint(articles),
        "token_pooling": model.config.token_pooling,
        "window_pooling": model.config.window_pooling,
        "precision": "bf16" if bf16 else "fp32",
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:32]


class FeatureCache:
    """The folder of cached article vectors, and the frozen encoder that fills it.

    ``rank`` and ``processes`` say which share of the parts this process embeds (by default, its place in the
    process group it was launched in).
    """

    def __init__(
        self,
        root: str | Path,
        model: Any,
        sep_token_id: int | None,
        pad_token_id: int,
        bf16: bool,
        rank: int | None = None,
        processes: int | None = None,
    ):
        self.root = Path(root)
        self.model = model
        self.sep_token_id = sep_token_id
        self.pad_token_id = pad_token_id
        self.bf16 = bf16
        group_rank, group_size = distributed.rank_and_count()
        self.rank = group_rank if rank is None else rank
        self.processes = group_size if processes is None else processes
        self.encoder_sha = encoder_checksum(model.encoder)

    def vectors(self, articles: list[list[list[int]]], name: str) -> np.ndarray:
        """``(articles, hidden)`` float32 vectors of every window of each article, pooled as the model pools."""
        # rank 0's key on every process: they must all read and write the same files
        key = distributed.from_rank_zero(cache_key(self.model, articles, self.bf16, self.encoder_sha))
        path = self.root / f"{key}.npy"
        if path.exists():
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape[0] == len(articles):
                logger.info("%s: %d article vectors read from %s", name, len(articles), path)
                return vectors
            logger.warning("%s holds %d vectors for %d articles: computed again", path, len(vectors), len(articles))
        parts = self.root / f"{key}.partial"
        # longest first, so batches hold windows of like length and the first part shows the worst speed
        order = sorted(range(len(articles)), key=lambda i: -sum(len(w) for w in articles[i]))
        self.embed_share(articles, order, parts, name)
        distributed.wait_for_everyone()
        vectors = assemble(parts, order)
        distributed.wait_for_everyone()  # every process has read the parts before rank 0 removes them
        if self.rank == 0:
            temporary = path.with_suffix(".tmp.npy")
            np.save(temporary, vectors)
            os.replace(temporary, path)
            shutil.rmtree(parts, ignore_errors=True)
            logger.info("%s: %d article vectors cached in %s", name, len(articles), path)
        distributed.wait_for_everyone()
        return vectors

    def embed_share(self, articles: list[list[list[int]]], order: list[int], parts: Path, name: str) -> None:
        """Embeds and saves this process's parts (every ``processes``-th part from ``rank``) not already saved."""
        parts.mkdir(parents=True, exist_ok=True)
        starts = list(range(0, len(order), PART_ARTICLES))[self.rank :: self.processes]
        total = sum(len(order[start : start + PART_ARTICLES]) for start in starts)
        done, started = 0, time.perf_counter()
        with tqdm(total=total, desc=f"embedding {name}", unit="article", disable=None) as bar:
            for start in starts:
                indices = order[start : start + PART_ARTICLES]
                part_file = part_path(parts, start // PART_ARTICLES)
                if not part_file.exists():
                    part = self._embed_part([articles[i] for i in indices])
                    np.save(part_file.with_suffix(".tmp.npy"), part)
                    os.replace(part_file.with_suffix(".tmp.npy"), part_file)
                bar.update(len(indices))
                done += len(indices)
                rate = done / (time.perf_counter() - started)
                logger.info("embedding %s: %d of %d articles (%.1f a second)", name, done, total, rate)

    def _embed_part(self, articles: list[list[list[int]]]) -> np.ndarray:
        """Vectors of articles in the given order, in batches of about the Predictor's default number of windows."""
        budget = default_batch_size(max(len(w) for a in articles for w in a))
        was_training = self.model.training
        self.model.eval()
        batch: list[list[list[int]]]
        out, batch = [], []
        try:
            for article in [*articles, None]:
                if article is not None and (not batch or sum(map(len, batch)) + len(article) <= budget):
                    batch.append(article)
                    continue
                out.append(self._embed_batch(batch))
                batch = [article] if article is not None else []
        finally:
            self.model.train(was_training)
        return np.concatenate(out)

    def _embed_batch(self, articles: list[list[list[int]]]) -> np.ndarray:
        inputs = collate_windows(articles, self.pad_token_id, self.sep_token_id)
        device = next(self.model.parameters()).device
        inputs = {key: value.to(device) for key, value in inputs.items()}
        with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.bf16):
            output = self.model(**inputs, return_embeddings=True)
        return output.embeddings.float().cpu().numpy()


def part_path(parts: Path, number: int) -> Path:
    """The file of part ``number`` (articles ``number * PART_ARTICLES`` on, in embedding order)."""
    return parts / f"part-{number:05d}.npy"


def assemble(parts: Path, order: list[int]) -> np.ndarray:
    """The vectors of every part in ``parts``, put back in the articles' own order (``order[i]`` is the article
    at place ``i`` of the parts)."""
    files = [part_path(parts, number) for number in range(-(-len(order) // PART_ARTICLES))]
    if not files:
        return np.empty((0, 0), dtype=np.float32)
    stacked = np.concatenate([np.load(file, allow_pickle=False) for file in files])
    vectors = np.empty_like(stacked)
    vectors[order] = stacked
    return vectors
