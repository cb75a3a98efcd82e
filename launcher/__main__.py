"""`python -m launcher` is the `soesmart` command."""

from __future__ import annotations

import sys

from launcher.cli import main

sys.exit(main())
