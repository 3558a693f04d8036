"""The ranges numbers of a setting must fall in, each with the words an error message says it in.

Shared by the window settings of a model folder (:class:`inference.model.windowing.WindowConfig`) and the run
configuration's schema (``training.config``), so a range is written once for both.

>>> at_least(1).holds(0), POSITIVE.expected
(False, 'a positive number')
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    """The range a number must fall in, and how an error message says it."""

    holds: Callable[[Any], bool]
    expected: str

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` is a finite number in the range."""
        return math.isfinite(value) and bool(self.holds(value))


def at_least(low: int, unset: str = "") -> Rule:
    """A whole number of at least ``low``; ``unset`` says what null means, where a key may be null."""
    null = f" (or null: {unset})" if unset else ""
    return Rule(lambda value: value >= low, f"a whole number of at least {low}{null}")


POSITIVE = Rule(lambda value: value > 0, "a positive number")
NOT_NEGATIVE = Rule(lambda value: value >= 0, "a number of at least 0")
SHARE = Rule(lambda value: 0 <= value < 1, "a share in [0, 1)")
CLOSED_SHARE = Rule(lambda value: 0 <= value <= 1, "a share in [0, 1]")
DROPOUT = Rule(lambda value: 0 <= value < 1, "a probability in [0, 1)")
