"""Logging for the dev server: readable frame lines, and no credentials in any log."""

from __future__ import annotations

import logging

WS_LOG = logging.getLogger("devtools.ws")
"""Logger handed to websockets; at DEBUG it dumps request headers, hence the redaction."""

_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


class RedactCredentials(logging.Filter):
    """Blank the value of credential headers in websockets' "< Name: value" debug lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if (
            isinstance(args, tuple)
            and len(args) == 2
            and isinstance(args[0], str)
            and args[0].lower() in _SECRET_HEADERS
        ):
            record.args = (args[0], "[redacted]")
        return True


WS_LOG.addFilter(RedactCredentials())


def configure_logging(verbose: bool = False) -> None:
    """Show CSMS frames on stderr, unless the embedding program configured logging already."""
    if logging.getLogger().handlers:
        return
    logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("devtools").setLevel(logging.DEBUG if verbose else logging.INFO)
    # websockets reports every HTTP response at INFO; only worth seeing when asked for.
    WS_LOG.setLevel(logging.DEBUG if verbose else logging.WARNING)
