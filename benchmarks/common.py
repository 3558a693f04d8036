"""What the benchmark scripts share: the machine line of a report, and writing a report's section
into a docs page (``docs/results.md``, ``docs/speed.md``) without touching the others'.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from pathlib import Path

import torch

from inference.atomic import atomic_writer
from inference.prediction.fusion import TaskCalibration
from inference.prediction.predictor import Predictor

PLAIN_FINETUNE = [
    "training.mode=finetune",
    "training.refit_heads=false",
    "model.window=head+tail",
    "model.max_length=256",
    "model.train_windows=0",
    "training.learning_rate=1e-4",
    "training.epochs=2",
]
"""The AllSides recipe before the probe (until 2026-12-05): heads from zero, head+tail 256. The screens that were
measured with it (ablation, multitask) pin it, so they still compare what they compared."""


def describe_machine() -> str:
    """CPU model and its bf16 units, core count, Python and OS: the machine line of benchmark reports."""
    cpu, flags = platform.processor() or "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
            if cpu and flags:
                break
    except OSError:
        pass
    units = [name for flag, name in (("avx512_bf16", "AVX-512 BF16"), ("amx_bf16", "AMX")) if flag in flags]
    bf16 = f" ({' and '.join(units)})" if units else (" (no native bf16)" if flags else "")
    return f"{cpu}{bf16}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def replace_section(path: str | Path, begin: str, end: str, section: str) -> None:
    """Writes ``section`` between the ``begin`` and ``end`` markers of a text file (appending the
    markers if absent), leaving the rest of the file as it was; the file is replaced atomically."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    block = f"{begin}\n{section}\n{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as out:
        out.write(text)


def markers(section: str) -> tuple[str, str]:
    """The comments that open and close the page section named ``section`` (``<!-- NAME:begin -->`` ...)."""
    return f"<!-- {section}:begin -->", f"<!-- {section}:end -->"


def publish(section: str, output: str | Path | None, begin: str, end: str) -> None:
    """Prints a report's section and, given ``output``, writes it there between its markers."""
    print(section)
    if output:
        replace_section(output, begin, end, section)


def matmul_ceiling(dtype: str = "bf16", size: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of a ``size``² matrix product in ``dtype`` (``bf16`` or ``fp32``) on torch's current
    threads: the best of ``repeats`` after one warm-up, the speed no transformer layer can beat here."""
    kind = {"bf16": torch.bfloat16, "fp32": torch.float32}[dtype]
    generator = torch.Generator().manual_seed(0)
    left, right = (torch.randn(size, size, generator=generator).to(kind) for _ in range(2))
    torch.mm(left, right)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(left, right)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def window_gflop(encoder: dict, tokens: int) -> float:
    """Forward GFLOP of one window of ``tokens`` through a BERT-like encoder (its config as a dict):
    the four attention projections, the two feed-forward products and the two attention products per
    layer; a training step costs about three times this (backward is twice the forward)."""
    hidden, inner, layers = encoder["hidden_size"], encoder["intermediate_size"], encoder["num_hidden_layers"]
    per_layer = 2 * tokens * (4 * hidden * hidden + 2 * hidden * inner) + 4 * tokens * tokens * hidden
    return layers * per_layer / 1e9


def take_turns(keys: Sequence[Hashable], rounds: int) -> Iterator[Hashable]:
    """``keys`` in turn, ``rounds`` times, every other round in reverse, so that none always runs first
    (this machine drifts by more than the effects the A/Bs measure).

    >>> "".join(take_turns("abc", 3))
    'abccbaabc'
    """
    for round_ in range(rounds):
        yield from reversed(keys) if round_ % 2 else keys


def time_turns(calls: dict[Hashable, Callable[[], object]], rounds: int) -> dict[Hashable, list[float]]:
    """Seconds of each call in each round, the calls taking turns (:func:`take_turns`)."""
    seconds: dict[Hashable, list[float]] = {key: [] for key in calls}
    for key in take_turns(list(calls), rounds):
        start = time.perf_counter()
        calls[key]()
        seconds[key].append(time.perf_counter() - start)
    return seconds


def compare_predictions(first: Path, second: Path) -> str:
    """How two newsclf-predict outputs (JSON lines) agree: ids and labels must be equal; probabilities may differ
    in their last digits where the two runs batched differently, so the largest difference is reported."""
    ones = [json.loads(line) for line in Path(first).read_text(encoding="utf-8").splitlines()]
    twos = [json.loads(line) for line in Path(second).read_text(encoding="utf-8").splitlines()]

    def labels(records: list[dict]) -> list[tuple]:
        return [(r.get("id"), {t: v["label"] for t, v in r.items() if isinstance(v, dict)}) for r in records]

    if labels(ones) != labels(twos):
        return "different ids or labels from"
    gaps = [
        abs(a[task]["scores"][label] - b[task]["scores"][label])
        for a, b in zip(ones, twos)
        for task in a
        if isinstance(a[task], dict)
        for label in a[task]["scores"]
    ]
    return f"the same ids and labels (probabilities within {max(gaps, default=0.0):.0e}) as"


def encoder_alone(predictor: Predictor) -> Predictor:
    """The same model folder's encoder and heads without its fused TF-IDF model (temperatures kept)."""
    calibration = {task: TaskCalibration(c.temperature) for task, c in predictor.calibration.items()}
    return Predictor(predictor.backend, predictor.tokenizer, calibration=calibration)
