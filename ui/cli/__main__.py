"""`python -m ui.cli`: the circhat command line."""

import sys

from ui.cli import main

sys.exit(main())
