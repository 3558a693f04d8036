"""Every command's --help answers without the heavy imports (torch, transformers): what it loads, not how long it
takes, so the check holds on any machine."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "transformers", "datasets", "sklearn")
SNIPPET = """
import json, runpy, sys
sys.argv = [{module!r}, "--help"]
try:
    runpy.run_module({module!r}, run_name="__main__")
except SystemExit:
    pass
print(json.dumps([name for name in {heavy!r} if name in sys.modules]))
"""


@pytest.mark.parametrize(
    "module",
    [
        "inference",
        "inference.service.server",
        "training.train",
        "training.evaluate",
        "training.baseline",
        "training.search",
        "training.suggest",
    ],
)
def test_help_imports_nothing_heavy(module: str):
    code = SNIPPET.format(module=module, heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    *_, last = done.stdout.strip().splitlines()
    assert "usage:" in done.stdout
    assert json.loads(last) == [], f"python -m {module} --help imported {last}"
