"""Where firmware and diagnostics transfers may go and how much they may move (issue 18.5).

A CSMS chooses the locations of UpdateFirmware and GetDiagnostics; a station that fetches and
PUTs wherever it is told can be steered at internal or link-local addresses. ``TransferPolicy``
is what the transfer hosts check before every request and every redirect. Kept apart from
``sim.transfer`` (which imports urllib.request) so settings can check it cheaply.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_MAX_BYTES",
    "SAME_CSMS",
    "TransferPolicy",
    "TransferRefused",
    "origin",
]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""The largest firmware image or diagnostics file a transfer moves unless configured."""
SAME_CSMS = "same-csms"
"""The allow-list keyword for the CSMS's own host."""
_DEFAULT_PORTS = {"http": 80, "https": 443}


class TransferRefused(Exception):
    """A transfer the policy does not allow; the message is the detail the user sees."""


class TransferPolicy(NamedTuple):
    """Where transfers may go and how much they may move.

    ``hosts`` None allows any host; otherwise a URL's host name (lower case, IPv6 without
    brackets) must be one of them, whatever its port. ``max_bytes`` bounds a download (as
    announced and as received) and an upload.
    """

    hosts: frozenset[str] | None = None
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def parse(
        cls, allow: str | None, *, csms_url: str = "", max_bytes: int = DEFAULT_MAX_BYTES
    ) -> TransferPolicy:
        """From ``--transfer-allow`` text: "HOST[,HOST...]", where "same-csms" stands for the
        host of ``csms_url``; None or "" allows any host. ValueError with a user message."""
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise ValueError("the transfer size limit must be a whole number of bytes >= 1")
        if allow is None or not allow.strip():
            return cls(None, max_bytes)
        hosts: set[str] = set()
        for item in (part.strip() for part in allow.split(",")):
            if not item:
                continue
            if item.lower() == SAME_CSMS:
                host = urlsplit(csms_url).hostname if csms_url else None
                if not host:
                    raise ValueError(f"{SAME_CSMS} needs a CSMS URL with a host")
                hosts.add(host.lower())
                continue
            name = item.lower().removeprefix("[").removesuffix("]")
            if not name or any(c in name for c in "/@?# ") or not name.isprintable():
                raise ValueError(f"{item!r} is not a host name (give names or addresses only)")
            hosts.add(name)
        if not hosts:
            raise ValueError("the transfer allow-list names no host")
        return cls(frozenset(hosts), max_bytes)

    def refusal(self, url: str) -> str | None:
        """Why a transfer may not reach ``url`` (a user message), or None."""
        if self.hosts is None:
            return None
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
        if host is not None and host.lower() in self.hosts:
            return None
        allowed = ", ".join(sorted(self.hosts))
        return f"{host or url} is not an allowed transfer destination (allowed: {allowed})"

    def too_large(self, size: int) -> str | None:
        """Why ``size`` bytes may not be moved, or None."""
        if size <= self.max_bytes:
            return None
        return f"{size} bytes exceed the transfer limit of {self.max_bytes} bytes"


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in: what must match for a
    credential to be sent along."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)
