"""What both WebSocket transports share: the interface, the settings, URLs and reconnect delays.

Everything here is pure standard library so it runs (and is tested) on CPython and Pyodide alike;
the CLI and the GUI use ``validate_url`` to show a mistake before anything connects.
"""

from __future__ import annotations

import base64
import enum
import math
import random
from dataclasses import dataclass, fields
from typing import Protocol
from urllib.parse import SplitResult, quote, urlsplit

from sim.versions import CHOICES, SUBPROTOCOLS, offered_subprotocols

__all__ = [
    "SUBPROTOCOLS",
    "Backoff",
    "ConnectionState",
    "Transport",
    "TransportConfig",
    "TransportListener",
    "basic_auth_header",
    "build_station_url",
    "credentials_url",
    "describe_close",
    "redact",
    "validate_url",
]

_MASK = "***"


class ConnectionState(enum.Enum):
    """Where a transport is; OFFLINE is separate so the GUI can tell "cable pulled" from "down"."""

    DISCONNECTED = "disconnected"  # not started yet
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECT_WAIT = "reconnect-wait"  # an attempt failed or the connection dropped; retry pending
    OFFLINE = "offline"  # the network switch is off: no connection until it is switched back
    CLOSED = "closed"  # stopped; start() may begin again


class TransportListener(Protocol):
    """What the station runtime receives from a transport (always on the transport's loop).

    ``on_close`` reports the end of an open connection and also a failed attempt (refused,
    handshake failed, subprotocol not accepted, ...); an attempt abandoned by ``stop`` or
    ``set_offline`` only shows in ``on_state``. ``on_open`` is always followed by one ``on_close``.
    """

    def on_open(self, subprotocol: str) -> None: ...

    def on_message(self, text: str) -> None: ...

    def on_close(self, reason: str) -> None: ...

    def on_state(self, state: ConnectionState, detail: str) -> None: ...


class Transport(Protocol):
    """The one interface the station runtime drives, on CPython and in the browser."""

    @property
    def state(self) -> ConnectionState: ...

    def start(self) -> None:
        """Begin connecting, and reconnecting with backoff after every failure, until ``stop``."""

    def stop(self) -> None:
        """Close cleanly (code 1000) and do not reconnect."""

    def send(self, text: str) -> bool:
        """Queue one text frame; False when not connected (the frame is dropped)."""

    def set_offline(self, offline: bool) -> None:
        """The "network cable" switch: close now and stay closed until switched back."""


@dataclass(frozen=True, repr=False)
class TransportConfig:
    """Connection settings of one station; ``auth_key`` never appears in its repr.

    ``url`` is the CSMS base URL; ``charge_box_id`` becomes its last path segment. ``auth_key`` is
    the HTTP Basic password of security profiles 1/2 (the user is the charge box id). The TLS files
    are for profile 3 on CPython (the browser uses its own trust store and certificates).
    ``ping_interval_s`` applies on CPython only: browsers cannot send WebSocket pings.
    """

    url: str
    charge_box_id: str
    ocpp_version: str = "1.6"  # "1.6", "2.0.1" or "auto" (the server picks one of both)
    auth_key: str | None = None
    ca_file: str | None = None
    client_cert_file: str | None = None
    client_key_file: str | None = None
    backoff_initial_s: float = 1.0
    backoff_factor: float = 2.0
    backoff_max_s: float = 60.0
    backoff_jitter: float = 0.2
    ping_interval_s: float | None = 20.0
    open_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.ocpp_version not in CHOICES:
            raise ValueError(f"unknown OCPP version {self.ocpp_version!r}: use auto, 1.6 or 2.0.1")
        if not self.charge_box_id:
            raise ValueError("the charge box id is empty")
        if self.auth_key and ":" in self.charge_box_id:
            raise ValueError("with an authorization key the charge box id must not contain ':'")
        if self.client_key_file and not self.client_cert_file:
            raise ValueError("a client key file needs a client certificate file")
        _check_backoff(
            self.backoff_initial_s, self.backoff_factor, self.backoff_max_s, self.backoff_jitter
        )
        if not self.open_timeout_s > 0:
            raise ValueError("the open timeout must be > 0 s")
        if self.ping_interval_s is not None and not self.ping_interval_s > 0:
            raise ValueError("the ping interval must be > 0 s (or None for no pings)")

    def __repr__(self) -> str:
        parts = []
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "auth_key" and value:
                value = _MASK
            parts.append(f"{field.name}={value!r}")
        return f"TransportConfig({', '.join(parts)})"

    @property
    def subprotocols(self) -> tuple[str, ...]:
        """The WebSocket subprotocols offered for ``ocpp_version``, preferred first ("auto":
        ``("ocpp2.0.1", "ocpp1.6")``)."""
        return offered_subprotocols(self.ocpp_version)

    @property
    def subprotocol(self) -> str:
        """The preferred subprotocol offered (the only one unless ``ocpp_version`` is auto)."""
        return self.subprotocols[0]

    @property
    def offered(self) -> str:
        """The subprotocols offered, for messages: "ocpp1.6" or "ocpp2.0.1, ocpp1.6"."""
        return ", ".join(self.subprotocols)

    def backoff(self, rng: random.Random | None = None) -> Backoff:
        """A fresh reconnect-delay sequence with these settings."""
        return Backoff(
            self.backoff_initial_s,
            self.backoff_factor,
            self.backoff_max_s,
            self.backoff_jitter,
            rng,
        )


def validate_url(url: str) -> str | None:
    """A message saying what is wrong with a CSMS base URL, or None when it is usable.

    Messages never repeat the URL, so a password typed into it is not echoed anywhere.
    """
    if not url or not url.strip():
        return "enter the CSMS URL (ws://host:port/path or wss://...)"
    if url != url.strip() or any(char.isspace() for char in url):
        return "the CSMS URL must not contain spaces"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "the CSMS URL is malformed (check the host and the port number)"
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        secure = "s" if scheme == "https" else ""
        return f"the CSMS URL must start with ws{secure}:// (not {scheme}://)"
    if scheme not in ("ws", "wss"):
        return "the CSMS URL must start with ws:// or wss://"
    if parts.username is not None or parts.password is not None:
        return "remove the user:password@ part from the URL; set the authorization key instead"
    if not parts.hostname:
        return "the CSMS URL has no host name"
    if port == 0:
        return "the CSMS URL has port 0"
    if parts.query or url.endswith("?"):
        return "the CSMS URL must not contain a query (?...): the charge box id is appended"
    if parts.fragment or "#" in url:
        return "the CSMS URL must not contain a fragment (#...)"
    return None


def build_station_url(config: TransportConfig) -> str:
    """The URL to open: base URL + "/" + the URL-encoded charge box id (no credentials in it)."""
    return _station_parts(config).geturl()


def credentials_url(config: TransportConfig) -> str:
    """The station URL with ``id:key@`` for browsers, which answer a 401 Basic challenge with it.

    Never show or log this URL: it carries the key (``redact`` masks it).
    """
    parts = _station_parts(config)
    if not config.auth_key:
        return parts.geturl()
    user = quote(config.charge_box_id, safe="")
    password = quote(config.auth_key, safe="")
    return parts._replace(netloc=f"{user}:{password}@{parts.netloc}").geturl()


def _station_parts(config: TransportConfig) -> SplitResult:
    problem = validate_url(config.url)
    if problem is not None:
        raise ValueError(problem)
    parts = urlsplit(config.url)
    path = f"{parts.path.rstrip('/')}/{quote(config.charge_box_id, safe='')}"
    return parts._replace(path=path, query="", fragment="")


def basic_auth_header(config: TransportConfig) -> str | None:
    """The ``Authorization`` header value for security profiles 1/2, or None without a key."""
    if not config.auth_key:
        return None
    token = f"{config.charge_box_id}:{config.auth_key}".encode()
    return "Basic " + base64.b64encode(token).decode("ascii")


def redact(text: str, config: TransportConfig) -> str:
    """``text`` with every form of the auth key (plain, URL-encoded, Basic token) masked."""
    if not config.auth_key:
        return text
    header = basic_auth_header(config)
    secrets = {config.auth_key, quote(config.auth_key, safe="")}
    if header is not None:
        secrets.add(header.removeprefix("Basic "))
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    return text


_CLOSE_CODES = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no status code",
    1006: "connection lost without a close frame",
    1007: "invalid data",
    1008: "policy violation",
    1009: "message too big",
    1010: "extension required",
    1011: "server error",
    1012: "service restart",
    1013: "try again later",
    1015: "TLS failure",
}


def describe_close(code: int | None, reason: str = "") -> str:
    """A human-readable "closed by the server" line for a WebSocket close code and reason."""
    if code is None or code == 1006:
        return "connection lost (no close frame from the server)"
    name = _CLOSE_CODES.get(code, "application-defined" if code >= 3000 else "unknown code")
    text = f"closed by the server: code {code} ({name})"
    return f"{text}: {reason}" if reason else text


_JITTER = random.Random()
"""The jitter of every Backoff given no generator: one shared, since each Random holds 2.5 KB of
state and a fleet has thousands of transports (each draw still differs)."""


class Backoff:
    """Reconnect delays growing by ``factor`` up to ``max_s``; jitter spreads a fleet of stations.

    Each delay is the step's base delay shortened by up to ``jitter`` (a fraction), so it never
    exceeds ``max_s`` and never drops below ``(1 - jitter)`` of the base.
    """

    __slots__ = ("_next", "factor", "initial_s", "jitter", "max_s", "rng")

    def __init__(
        self,
        initial_s: float = 1.0,
        factor: float = 2.0,
        max_s: float = 60.0,
        jitter: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        _check_backoff(initial_s, factor, max_s, jitter)
        self.initial_s = initial_s
        self.factor = factor
        self.max_s = max_s
        self.jitter = jitter
        self.rng = rng if rng is not None else _JITTER
        self._next = initial_s

    def next_delay(self) -> float:
        """The delay before the next attempt; each call moves one step up the sequence."""
        base = self._next
        self._next = min(self.max_s, base * self.factor)
        return base * (1.0 - self.jitter * self.rng.random())

    def reset(self) -> None:
        """Start again from the initial delay (after a successful connection)."""
        self._next = self.initial_s


def _check_backoff(initial_s: float, factor: float, max_s: float, jitter: float) -> None:
    if not (math.isfinite(initial_s) and initial_s > 0):
        raise ValueError("the initial reconnect delay must be > 0 s")
    if not (math.isfinite(factor) and factor >= 1):
        raise ValueError("the reconnect backoff factor must be >= 1")
    if not (math.isfinite(max_s) and max_s >= initial_s):
        raise ValueError("the maximum reconnect delay must be >= the initial delay")
    if not 0 <= jitter < 1:
        raise ValueError("the reconnect jitter must be within 0..1 (a fraction)")
