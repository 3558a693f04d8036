"""Which engine scores a batch of windows: torch (fp32 or bf16 autocast, :mod:`.torch_backend`) or ONNX Runtime
(fp32 or int8, :mod:`.onnx_backend`), and the settings both share.

Every backend takes the padded batch that :func:`~inference.model.windowing.pad_windows` builds and
returns one float32 ``(articles, labels)`` logits array per task, in the model's task order, so the
:class:`~inference.prediction.predictor.Predictor` around it is the same whichever runs. Nothing here imports
torch: a folder predicted through ONNX Runtime never loads it (1.5-2 s of a cold start, docs/speed.md).

``choose_backend`` turns ``backend="auto"`` into a concrete choice. On CPUs with native bf16 matrix
units (AVX-512 BF16 or AMX) torch under bf16 autocast is both the fastest and the closest to fp32 of
what we measured (docs/speed.md); elsewhere an exported int8 ONNX model is used when the folder
has one, else torch fp32.

>>> choose_backend("auto", "fp32", onnx_files={}, native_bf16=True)
('torch', 'fp32')
>>> choose_backend("auto", "auto", onnx_files={"int8": "model.int8.onnx"}, native_bf16=False)
('onnx', 'int8')
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..model.settings import TaskSpecs

BACKENDS = ("auto", "torch", "onnx")
PRECISIONS = ("auto", "fp32", "bf16", "int8")
ONNX_FOLDER = "onnx"
ONNX_FILES = {"fp32": "model.onnx", "int8": "model.int8.onnx"}
ONNX_INPUTS = ("input_ids", "attention_mask", "assignment")
PAIR_INPUT = "token_type_ids"  # an extra input of models with pair tasks: the segment of each token


def onnx_inputs(config: TaskSpecs) -> list[str]:
    """The inputs of a model's ONNX graph, in order."""
    return [*ONNX_INPUTS, *([PAIR_INPUT] if config.reads_pairs else [])]


NATIVE_BF16_VARIABLE = "NEWSCLF_NATIVE_BF16"  # 1 or 0: act as if the CPU had (or lacked) native bf16


def cpu_has_native_bf16() -> bool:
    """True on CPUs with AVX-512 BF16 or AMX, where bf16 matrix products run faster than fp32.

    ``NEWSCLF_NATIVE_BF16=1`` or ``=0`` overrides the detection (``make test-matrix`` runs the tests
    both ways, so a suite that passes on one kind of CPU passes on the other).
    """
    forced = os.environ.get(NATIVE_BF16_VARIABLE, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    if forced:
        raise ValueError(f"{NATIVE_BF16_VARIABLE} must be 0 or 1, got {forced!r}")
    return _detected_native_bf16()


@functools.lru_cache(maxsize=1)
def _detected_native_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: ask torch, which the torch backend imports anyway
        import torch

        probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)
    return " avx512_bf16" in flags or " amx_bf16" in flags


def bf16_supported(device: str = "cpu") -> bool:
    """Whether bf16 autocast pays off on ``device`` (a bf16-capable GPU, or a CPU with native bf16)."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return cpu_has_native_bf16()


# On a CPU a batch of about 2,048 tokens keeps each layer's activations in cache between its memory-bound steps
# (GELU, layer norm, residual adds): 8 windows of 256 tokens predicted 4-27% more articles a second than 32 on a
# 2-core AMD EPYC (docs/speed.md, "Batch size"). A GPU wants bigger batches.
CPU_BATCH_TOKENS = 2048
GPU_BATCH_SIZE = 32


def default_batch_size(max_length: int, device: str = "cpu") -> int:
    """Windows per forward pass when none is asked for: about ``CPU_BATCH_TOKENS`` tokens on a CPU, 32 on a GPU.

    >>> default_batch_size(256), default_batch_size(128), default_batch_size(512), default_batch_size(256, "cuda")
    (8, 16, 4, 32)
    """
    if device.startswith("cuda"):
        return GPU_BATCH_SIZE
    return max(1, CPU_BATCH_TOKENS // max_length)


def onnx_files(folder: str | Path) -> dict[str, Path]:
    """The exported ONNX models of a model folder, by precision (``fp32``, ``int8``)."""
    onnx_dir = Path(folder) / ONNX_FOLDER
    return {precision: onnx_dir / name for precision, name in ONNX_FILES.items() if (onnx_dir / name).is_file()}


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def choose_backend(
    backend: str,
    precision: str,
    *,
    onnx_files: Mapping[str, Any],
    native_bf16: bool,
    device: str = "cpu",
    have_onnxruntime: bool = True,
) -> tuple[str, str]:
    """Resolves ``auto`` in a backend and precision request to a concrete ``(backend, precision)``.

    Raises:
        ValueError: for an unknown name or a combination that cannot run (int8 under torch, bf16
            under ONNX, ONNX on a GPU).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if backend == "auto":
        if precision in ("fp32", "bf16") or device != "cpu":
            backend = "torch"
        elif precision == "int8":
            backend = "onnx"
        elif native_bf16:
            return "torch", "bf16"
        elif "int8" in onnx_files and have_onnxruntime:
            return "onnx", "int8"
        else:
            return "torch", "fp32"
    if backend == "torch":
        if precision == "int8":
            raise ValueError("int8 runs on the ONNX backend: export with `newsclf-export --quantize int8`")
        if precision == "auto":
            precision = "bf16" if native_bf16 else "fp32"
        return "torch", precision
    if device != "cpu":
        raise ValueError(f"the ONNX backend runs on the CPU only, got device={device!r}")
    if precision == "bf16":
        raise ValueError("bf16 runs on the torch backend; the ONNX backend has fp32 and int8")
    if precision == "auto":
        precision = "int8" if "int8" in onnx_files else "fp32"
    return "onnx", precision
