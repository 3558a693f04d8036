"""Article vectors of the frozen encoder, computed once and kept on disk for the probe (:mod:`training.probe`).

A split's vectors are stored as ``<cache>/<key>.npy``. The key is a SHA-256 of everything the vectors depend on:
the encoder's weights, every token id of every window of the split (so the texts, the tokenizer, the windowing
and the scrubbing), the pooling and the precision. Another run, a search trial or a screen over the same data
reuses the file; any change gives another key, so a stale file is never read. The encoder reads the articles in
parts, each saved as it ends (``<key>.partial/``), so a killed run resumes where it stopped.
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
    """The folder of cached article vectors, and the frozen encoder that fills it."""

    def __init__(self, root: str | Path, model: Any, sep_token_id: int | None, pad_token_id: int, bf16: bool):
        self.root = Path(root)
        self.model = model
        self.sep_token_id = sep_token_id
        self.pad_token_id = pad_token_id
        self.bf16 = bf16
        self.encoder_sha = encoder_checksum(model.encoder)

    def vectors(self, articles: list[list[list[int]]], name: str) -> np.ndarray:
        """``(articles, hidden)`` float32 vectors of every window of each article, pooled as the model pools."""
        key = cache_key(self.model, articles, self.bf16, self.encoder_sha)
        path = self.root / f"{key}.npy"
        if path.exists():
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape[0] == len(articles):
                logger.info("%s: %d article vectors read from %s", name, len(articles), path)
                return vectors
            logger.warning("%s holds %d vectors for %d articles: computed again", path, len(vectors), len(articles))
        vectors = self._embed(articles, self.root / f"{key}.partial", name)
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npy")
        np.save(temporary, vectors)
        os.replace(temporary, path)
        shutil.rmtree(self.root / f"{key}.partial", ignore_errors=True)
        logger.info("%s: %d article vectors cached in %s", name, len(articles), path)
        return vectors

    def _embed(self, articles: list[list[list[int]]], parts: Path, name: str) -> np.ndarray:
        # longest first, so batches hold windows of like length and the first part shows the worst speed
        order = sorted(range(len(articles)), key=lambda i: -sum(len(w) for w in articles[i]))
        parts.mkdir(parents=True, exist_ok=True)
        done, started = [], time.perf_counter()
        with tqdm(total=len(articles), desc=f"embedding {name}", unit="article", disable=None) as bar:
            for number, start in enumerate(range(0, len(order), PART_ARTICLES)):
                part_file = parts / f"part-{number:05d}.npy"
                indices = order[start : start + PART_ARTICLES]
                if part_file.exists():
                    part = np.load(part_file, allow_pickle=False)
                else:
                    part = self._embed_part([articles[i] for i in indices])
                    np.save(part_file.with_suffix(".tmp.npy"), part)
                    os.replace(part_file.with_suffix(".tmp.npy"), part_file)
                done.append(part)
                bar.update(len(indices))
                finished = min(start + PART_ARTICLES, len(order))
                rate = finished / (time.perf_counter() - started)
                logger.info("embedding %s: %d of %d articles (%.1f a second)", name, finished, len(articles), rate)
        vectors = np.empty((len(articles), done[0].shape[1]) if done else (0, 0), dtype=np.float32)
        if done:
            vectors[order] = np.concatenate(done)
        return vectors

    def _embed_part(self, articles: list[list[list[int]]]) -> np.ndarray:
        """Vectors of articles in the given order, in batches of about the Predictor's default number of windows."""
        budget = default_batch_size(max(len(w) for a in articles for w in a))
        was_training = self.model.training
        self.model.eval()
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
