"""What two prediction paths must agree on: labels and ids exactly, floats within a tolerance; and the raw logits
that tell two inputs apart."""

from __future__ import annotations

import json
from typing import Any

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
