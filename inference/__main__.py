"""``python -m inference``: see :mod:`inference.batch.cli`."""

import sys

from .batch.cli import main

sys.exit(main())
