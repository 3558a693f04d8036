"""What the training commands share: the ``--set`` option, and one way an error ends a command.

The commands (``training.train``, ``training.evaluate``, ``training.baseline``, ``training.search``) parse their
arguments before importing anything heavy, so ``--help`` answers at once; the work lives in
:mod:`training.fitting` and :mod:`training.scoring`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

SET_HELP = (
    "override config keys, e.g. training.epochs=1 run.name=quick (dotted keys of configs/default.yaml; "
    "values are YAML: tasks.0.weight=0.5, data.text_fields=[title])"
)


def command_parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """A parser named ``prog`` whose description is the first paragraph of ``doc``."""
    return argparse.ArgumentParser(prog=prog, description=(doc or "").split("\n\n")[0])


def add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", dest="overrides", nargs="+", action="extend", default=[], metavar="KEY=VALUE", help=SET_HELP
    )


def run_command(body: Callable[[], int | None]) -> int:
    """Runs ``body``; a bad config, file, folder or value (every such error of newsclf is a ``ValueError``) ends it
    with one ``error:`` line and exit code 2 instead of a traceback (``NEWSCLF_DEBUG=1`` shows the traceback)."""
    try:
        return body() or 0
    except ValueError as error:
        if os.environ.get("NEWSCLF_DEBUG"):
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
