"""Where a batch of windows is scored: torch (fp32 or bf16 autocast) or ONNX Runtime (fp32 or int8).

Every backend takes the padded batch that :func:`~inference.model.windowing.collate_windows` builds and
returns one float32 ``(articles, labels)`` logits array per task, in the model's task order, so the
:class:`~inference.prediction.predictor.Predictor` around it is the same whichever runs.

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

import contextlib
import functools
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..model.heads import window_assignment
from ..model.settings import TaskSpecs

if TYPE_CHECKING:
    from ..model.classifier import NewsClassifier
    from ..model.heads import FolderModel

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
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        if getattr(torch.cpu, probe, lambda: False)():
            return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def bf16_supported(device: str = "cpu") -> bool:
    """Whether bf16 autocast pays off on ``device`` (a bf16-capable GPU, or a CPU with native bf16)."""
    if device.startswith("cuda"):
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


_THREAD_SETTING = threading.RLock()  # re-entrant: a scoped call may run inside another (training that predicts)


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Runs a block on ``count`` torch CPU threads, then puts back the caller's setting (None: leaves it).

    torch's thread count is one setting for the whole process, so a library call that changes it for
    its own work must restore it; the lock keeps two such calls from restoring each other's value.

    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if count is None:
        yield
        return
    with _THREAD_SETTING:
        before = torch.get_num_threads()
        if count != before:
            torch.set_num_threads(count)
        try:
            yield
        finally:
            if count != before:
                torch.set_num_threads(before)


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


class TorchBackend:
    """Runs a :class:`NewsClassifier` or :class:`~inference.model.heads.FolderModel` with torch, in fp32 or
    under bf16 autocast (which leaves the model's own weights in fp32; casting the encoder to bf16 instead
    measured no faster, docs/speed.md).

    Args:
        model: the model.
        device: ``cpu`` or ``cuda``.
        precision: ``fp32`` or ``bf16``.
        num_threads: torch CPU threads for each call (the process's own setting is restored after);
            ``None``: whatever the process uses.
    """

    name = "torch"

    def __init__(
        self,
        model: NewsClassifier | FolderModel,
        device: str = "cpu",
        precision: str = "fp32",
        num_threads: int | None = None,
    ) -> None:
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"the torch backend runs fp32 or bf16, got {precision!r}")
        if num_threads is not None and num_threads < 1:
            raise ValueError(f"num_threads must be at least 1, got {num_threads}")
        self.model = model.to(device).eval()
        self.config: TaskSpecs = model.config
        self.device = device
        self.precision = precision
        self.num_threads = num_threads

    @property
    def autocast(self) -> bool:
        return self.precision == "bf16"

    def __call__(self, batch: Mapping[str, torch.Tensor]) -> list[np.ndarray]:
        inputs = {key: value.to(self.device) for key, value in batch.items()}
        with self.context():
            logits = self.model(**inputs).logits
        return [task_logits.float().cpu().numpy() for task_logits in logits]

    def window_vectors(self, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Each window's vector (fp32, on the CPU), for windows batched apart from their articles."""
        inputs = {key: value.to(self.device) for key, value in batch.items() if key != "window_to_article"}
        with self.context():
            return self.model.encode_windows(**inputs).cpu()

    def article_logits(self, vectors: torch.Tensor, window_to_article: torch.Tensor) -> list[np.ndarray]:
        """Each task's logits for the articles whose windows' ``vectors`` are given (as :meth:`__call__`)."""
        with self.context():
            assignment = window_assignment(window_to_article.to(self.device))
            logits = self.model.classify(self.model.pool_windows(vectors.to(self.device), assignment))
        return [task_logits.float().cpu().numpy() for task_logits in logits]

    def context(self) -> contextlib.ExitStack:
        """The threads, inference mode and autocast every call runs under (for code that runs parts of the model)."""
        stack = contextlib.ExitStack()
        stack.enter_context(torch_threads(self.num_threads))
        stack.enter_context(torch.inference_mode())
        device_type = "cuda" if self.device.startswith("cuda") else "cpu"
        stack.enter_context(torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.autocast))
        return stack


class OnnxBackend:
    """Runs an exported ONNX model (see :mod:`inference.prediction.onnx_export`) with ONNX Runtime on the CPU.

    Args:
        path: the ``.onnx`` file.
        config: the model's :class:`TaskSpecs` (tasks, labels, windowing).
        precision: ``fp32`` or ``int8``, for reports.
        num_threads: ONNX Runtime's intra-op threads; ``None`` lets it choose.
    """

    name = "onnx"

    def __init__(
        self, path: str | Path, config: TaskSpecs, precision: str = "fp32", num_threads: int | None = None
    ) -> None:
        try:
            import onnxruntime
        except ImportError as error:
            raise ImportError(
                "the ONNX backend needs onnxruntime: pip install 'newsclf[onnx]' (or backend='torch')"
            ) from error
        options = onnxruntime.SessionOptions()
        if num_threads is not None:
            options.intra_op_num_threads = num_threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        inputs = [node.name for node in self.session.get_inputs()]
        outputs = [node.name for node in self.session.get_outputs()]
        if inputs != onnx_inputs(config) or outputs != config.task_names:
            raise ValueError(
                f"{path}: takes {inputs} and gives {outputs}; expected {onnx_inputs(config)} and the model's tasks "
                f"{config.task_names} (export it again with newsclf-export)"
            )
        self.config = config
        self.precision = precision
        self.path = Path(path)

    def __call__(self, batch: Mapping[str, torch.Tensor]) -> list[np.ndarray]:
        feeds = {
            "input_ids": batch["input_ids"].numpy(),
            "attention_mask": batch["attention_mask"].numpy(),
            "assignment": window_assignment(batch["window_to_article"]).numpy(),
        }
        if self.config.reads_pairs:  # single texts (no segment ids in the batch) are all segment 0
            segments = batch.get(PAIR_INPUT)
            feeds[PAIR_INPUT] = np.zeros_like(feeds["input_ids"]) if segments is None else segments.numpy()
        return [np.asarray(logits, dtype=np.float32) for logits in self.session.run(None, feeds)]
