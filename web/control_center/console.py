"""Python logging to the browser console, with the authorization key masked (browser only)."""

from __future__ import annotations

import logging

import js

from control_center.messages import Redactor

__all__ = ["ConsoleHandler", "log_to_console"]


class ConsoleHandler(logging.Handler):
    """One console line per record: warnings and errors as warnings, the rest as info."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__(logging.INFO)
        self.redact = redact
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.redact(self.format(record))
        except Exception:
            text = f"{record.name}: (unformattable log record)"
        if record.levelno >= logging.WARNING:
            js.console.warn(text)
        else:
            js.console.info(text)


def log_to_console(redact: Redactor) -> None:
    """Send the page's logging to the console: warnings, and the transport's state changes."""
    root = logging.getLogger()
    root.handlers[:] = [ConsoleHandler(redact)]
    root.setLevel(logging.WARNING)
    logging.getLogger("sim.transport").setLevel(logging.INFO)
