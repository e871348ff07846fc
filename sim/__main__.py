"""``python -m sim`` and the ``ocpp-sim`` console script: the headless station (see sim/cli.py)."""

from __future__ import annotations

import sys

from sim.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
