"""``python -m sim`` is the ``bakhri`` command."""

import sys

from .cli import main

sys.exit(main())
