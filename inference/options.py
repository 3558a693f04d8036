"""How to predict: the backend, number format, batch size and threads that every way of predicting passes on.

One frozen object travels from the command line (``newsclf-predict``, ``newsclf-serve``, ``newsclf-evaluate``) to
``Predictor.from_options``, through the worker pool and the Ray actors, instead of four loose arguments.

>>> PredictOptions(precision="fp32")
PredictOptions(backend='auto', precision='fp32', batch_size=None, num_threads=None)
>>> PredictOptions(num_threads=2).keywords()
{'backend': 'auto', 'precision': 'auto', 'batch_size': None, 'num_threads': 2}
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PredictOptions:
    """What ``Predictor.from_pretrained`` takes besides the folder and the device.

    Attributes:
        backend: ``torch``, ``onnx`` or ``auto`` (see :func:`inference.prediction.backends.choose_backend`).
        precision: ``fp32``, ``bf16``, ``int8`` or ``auto``.
        batch_size: most windows per forward pass; ``None``: sized to the device.
        num_threads: CPU threads for torch and ONNX Runtime; ``None`` keeps their defaults.
    """

    backend: str = "auto"
    precision: str = "auto"
    batch_size: int | None = None
    num_threads: int | None = None

    def keywords(self) -> dict[str, Any]:
        """The options as keyword arguments of ``Predictor.from_pretrained``."""
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> PredictOptions:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


def add_predictor_arguments(parser: argparse.ArgumentParser, backend: str = "auto", precision: str = "auto") -> None:
    """Adds ``--batch-size``, ``--backend``, ``--precision`` and ``--threads`` (read by :func:`options_from_args`)."""
    parser.add_argument(
        "--batch-size", type=int, default=None, help="windows per forward pass (default: 2,048 tokens' worth on a CPU)"
    )
    parser.add_argument(
        "--backend",
        choices=["auto", "torch", "onnx"],
        default=backend,
        help=f"what scores the windows (default: {backend})",
    )
    parser.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16", "int8"],
        default=precision,
        help=f"number format (default: {precision})",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: torch's and ONNX Runtime's own)"
    )


def options_from_args(args: argparse.Namespace) -> PredictOptions:
    """The options a command line parsed with :func:`add_predictor_arguments` asks for."""
    return PredictOptions(args.backend, args.precision, args.batch_size, args.threads)
