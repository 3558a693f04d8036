"""Tests for inference.prediction.backends: choosing a backend, and torch bf16 against fp32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from inference import Predictor
from inference.model.windowing import collate_windows, encode_articles
from inference.prediction.backends import (
    CPU_BATCH_TOKENS,
    bf16_supported,
    choose_backend,
    cpu_has_native_bf16,
    default_batch_size,
)

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


def test_torch_bf16_stays_close_to_fp32(tiny_model_dir: Path):
    articles = ["Inflation pushes the bank to act.", "The coach praised the team after the match. " * 20]
    fp32 = Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32")
    bf16 = Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="bf16")
    assert (fp32.backend_name, bf16.backend_name) == ("torch-fp32", "torch-bf16")
    # a folder read for bf16 predicts through the fused layers (inference.model.bert), one read for fp32 does not
    assert {layer.fused_dtype for layer in bf16.model.encoder.encoder["layer"]} == {torch.bfloat16}
    assert {layer.fused_dtype for layer in fp32.model.encoder.encoder["layer"]} == {None}
    exact, rounded = fp32.predict_proba(articles), bf16.predict_proba(articles)
    for task in fp32.tasks:
        assert rounded[task].dtype == np.float32
        assert np.abs(rounded[task] - exact[task]).max() < 0.05
    # bf16 really ran: compared on logits, which a confident model cannot round to the same values
    batch = collate_windows(encode_articles(fp32.tokenizer, articles, fp32.window), fp32.tokenizer.pad_token_id)
    for exact_logits, rounded_logits in zip(fp32.backend(batch), bf16.backend(batch)):
        assert not np.array_equal(exact_logits, rounded_logits)
        np.testing.assert_allclose(rounded_logits, exact_logits, atol=0.5)


def test_num_threads_holds_only_while_the_predictor_runs(tiny_model_dir: Path):
    before = torch.get_num_threads()
    wanted = 1 if before > 1 else 2
    seen = []
    predictor = Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32", num_threads=wanted)
    model = predictor.model
    hook = model.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
    try:
        predictor.predict(["Inflation pushes the bank to act.", "The coach praised the team."])
    finally:
        hook.remove()
    assert seen and set(seen) == {wanted}
    assert torch.get_num_threads() == before


def test_num_threads_must_be_positive(tiny_model_dir: Path):
    with pytest.raises(ValueError, match="num_threads must be at least 1"):
        Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32", num_threads=0)


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False)])
def test_native_bf16_detection_can_be_forced(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool):
    monkeypatch.setenv("NEWSCLF_NATIVE_BF16", value)
    assert cpu_has_native_bf16() is expected
    assert bf16_supported("cpu") is expected


def test_a_bad_native_bf16_override_is_refused(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NEWSCLF_NATIVE_BF16", "yes")
    with pytest.raises(ValueError, match="NEWSCLF_NATIVE_BF16 must be 0 or 1, got 'yes'"):
        cpu_has_native_bf16()


def test_bf16_runs_under_autocast_and_leaves_a_callers_model_as_it_was(tiny_model_dir: Path):
    model = Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32").model
    predictor = Predictor(
        model, Predictor.from_pretrained(tiny_model_dir, precision="fp32").tokenizer, precision="bf16"
    )
    predictor.predict_proba(["Inflation pushes the bank to act."])
    assert predictor.backend.autocast
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert {layer.fused_dtype for layer in model.encoder.encoder["layer"]} == {None}  # the caller's model: unfused


@pytest.mark.parametrize(
    ("max_length", "device", "expected"),
    [(256, "cpu", 8), (128, "cpu", 16), (512, "cpu", 4), (4096, "cpu", 1), (5000, "cpu", 1), (256, "cuda", 32)],
)
def test_default_batch_size_holds_about_a_cpu_token_budget(max_length: int, device: str, expected: int):
    assert default_batch_size(max_length, device) == expected
    if device == "cpu":
        assert default_batch_size(max_length, device) * max_length <= max(CPU_BATCH_TOKENS, max_length)
