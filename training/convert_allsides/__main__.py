"""``python -m training.convert_allsides``."""

import sys

from training.convert_allsides.conversion import main

sys.exit(main())
