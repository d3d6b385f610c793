"""``python -m sim`` is the ``bakhri`` command."""

import sys

from sim.cli import main

sys.exit(main())
