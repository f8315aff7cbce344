"""``python -m provebench.cli``."""

import sys

from provebench.cli.main import main

sys.exit(main())
