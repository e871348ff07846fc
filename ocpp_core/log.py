"""The engine's logger, created on first use.

``import logging`` costs about as much as the whole engine's own modules, and the engine only logs
anomalies (hostile frames, failed requests), so it is imported when the first line is logged.
Nothing here ever receives a secret: callers log key names and message ids, never values of
write-only configuration keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging

__all__ = ["logger"]

_logger: logging.Logger | None = None


def logger() -> logging.Logger:
    """The ``ocpp_core`` logger (standard ``logging`` configuration applies)."""
    global _logger
    if _logger is None:
        import logging

        _logger = logging.getLogger("ocpp_core")
    return _logger
