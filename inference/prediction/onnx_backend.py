"""The ONNX Runtime backend: a file written by :mod:`inference.prediction.onnx_export` scoring padded windows
in fp32 or int8 on the CPU, with numpy alone (no torch)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..model.settings import TaskSpecs
from ..model.windowing import window_assignment_rows
from .backends import PAIR_INPUT, onnx_inputs


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

    def __call__(self, batch: Mapping[str, Any]) -> list[np.ndarray]:
        """Each task's logits for a batch of :func:`~inference.model.windowing.pad_windows` (numpy arrays, or CPU
        tensors of the same values)."""
        feeds = {
            "input_ids": np.asarray(batch["input_ids"]),
            "attention_mask": np.asarray(batch["attention_mask"]),
            "assignment": window_assignment_rows(np.asarray(batch["window_to_article"])),
        }
        if self.config.reads_pairs:  # single texts (no segment ids in the batch) are all segment 0
            segments = batch.get(PAIR_INPUT)
            feeds[PAIR_INPUT] = np.zeros_like(feeds["input_ids"]) if segments is None else np.asarray(segments)
        return [np.asarray(logits, dtype=np.float32) for logits in self.session.run(None, feeds)]
