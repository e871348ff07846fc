"""OCPP 1.6's names for the version-neutral diagnostics file (ocpp_core/diagnostics_file.py)."""

from __future__ import annotations

from ocpp_core.diagnostics_file import MASK, build

__all__ = ["MASK", "build"]
