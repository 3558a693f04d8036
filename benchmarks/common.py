"""What the benchmark scripts share: the machine line of a report, and writing a report's section
into ``docs/benchmarks.md`` without touching the others'.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from inference.atomic import atomic_writer


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


def publish(section: str, output: str | Path | None, begin: str, end: str) -> None:
    """Prints a report's section and, given ``output``, writes it there between its markers."""
    print(section)
    if output:
        replace_section(output, begin, end, section)
