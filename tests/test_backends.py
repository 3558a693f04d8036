"""Tests for inference.backends: choosing a backend, and torch bf16 against fp32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference import Predictor
from inference.backends import choose_backend, softmax

INT8 = {"int8": "model.int8.onnx", "fp32": "model.onnx"}


@pytest.mark.parametrize(
    ("backend", "precision", "files", "native_bf16", "expected"),
    [
        ("auto", "auto", {}, True, ("torch", "bf16")),
        ("auto", "auto", INT8, True, ("torch", "bf16")),
        ("auto", "auto", INT8, False, ("onnx", "int8")),
        ("auto", "auto", {"fp32": "model.onnx"}, False, ("torch", "fp32")),
        ("auto", "auto", {}, False, ("torch", "fp32")),
        ("auto", "fp32", INT8, False, ("torch", "fp32")),
        ("auto", "int8", {}, True, ("onnx", "int8")),
        ("torch", "auto", INT8, False, ("torch", "fp32")),
        ("torch", "auto", {}, True, ("torch", "bf16")),
        ("onnx", "auto", INT8, True, ("onnx", "int8")),
        ("onnx", "auto", {"fp32": "model.onnx"}, True, ("onnx", "fp32")),
    ],
)
def test_choose_backend(backend, precision, files, native_bf16, expected):
    assert choose_backend(backend, precision, onnx_files=files, native_bf16=native_bf16) == expected


def test_auto_skips_int8_without_onnxruntime():
    chosen = choose_backend("auto", "auto", onnx_files=INT8, native_bf16=False, have_onnxruntime=False)
    assert chosen == ("torch", "fp32")


@pytest.mark.parametrize(
    ("backend", "precision", "device", "message"),
    [
        ("torch", "int8", "cpu", "ONNX backend"),
        ("onnx", "bf16", "cpu", "torch backend"),
        ("onnx", "auto", "cuda", "CPU only"),
        ("tensorrt", "auto", "cpu", "backend must be one of"),
        ("auto", "fp16", "cpu", "precision must be one of"),
    ],
)
def test_impossible_requests_are_refused(backend, precision, device, message):
    with pytest.raises(ValueError, match=message):
        choose_backend(backend, precision, onnx_files=INT8, native_bf16=True, device=device)


def test_softmax_rows_sum_to_one_and_keep_order():
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]], dtype=np.float32)
    probabilities = softmax(logits)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert (probabilities.argmax(axis=1) == [2, 0]).all()
    assert np.isfinite(probabilities).all()


def test_torch_bf16_stays_close_to_fp32(tiny_model_dir: Path):
    articles = ["Inflation pushes the bank to act.", "The coach praised the team after the match. " * 20]
    fp32 = Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32")
    bf16 = Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="bf16")
    assert (fp32.backend_name, bf16.backend_name) == ("torch-fp32", "torch-bf16")
    exact, rounded = fp32.predict_proba(articles), bf16.predict_proba(articles)
    for task in fp32.tasks:
        assert rounded[task].dtype == np.float32
        assert np.abs(rounded[task] - exact[task]).max() < 0.05
        assert not np.array_equal(rounded[task], exact[task])  # bf16 really ran
