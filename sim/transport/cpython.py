"""The CPython transport: websockets' sans-I/O client over one asyncio protocol per connection.

Only imported by the headless runtime and the CLI (``websockets`` is not available in Pyodide).
The WebSocket protocol itself (handshake, framing, masking, close codes, the message size limit)
is ``websockets.client.ClientProtocol``; the I/O is a plain ``asyncio.BufferedProtocol``, sized
for OCPP so that ten thousand connections fit in one process: no task, queue or lock per
connection once it is open (frames are written from ``send`` at once, received messages are
handed to the listener from the socket callback, one per turn of the loop), no compression
(permessage-deflate keeps a zlib context per connection) and one read buffer shared by all
connections (callbacks run one at a time); the kernel's socket buffers hold memory only while
data waits in them. A connection attempt is a short-lived task; the reconnect wait and the
keepalive pings are loop timers. Basic auth, TLS, subprotocols, pings and the backoff
(sim/transport/lifecycle.py) behave as before, with the same words for every failure.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

from websockets.client import ClientProtocol
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
    NegotiationError,
)
from websockets.frames import CloseCode
from websockets.http11 import USER_AGENT
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from sim.transport.base import (
    TransportConfig,
    TransportListener,
    basic_auth_header,
    describe_close,
    redact,
)
from sim.transport.lifecycle import OFFLINE, STOPPED, Lifecycle, LifecycleControls, logger
from sim.transport.ws_connection import WsConnection

__all__ = ["MAX_MESSAGE_BYTES", "WebsocketsTransport", "describe_failure", "ssl_context"]

_STATUS_HINTS = {
    400: "bad request: check the URL path",
    401: "check the authorization key (the Basic auth user is the charge box id)",
    403: "forbidden: check the charge box id and the authorization key",
    404: "not found: check the URL path and the charge box id",
    426: "the server wants another protocol: check ws:// vs wss://",
}

MAX_MESSAGE_BYTES = 2**20
"""The largest message the client reads (websockets' ``max_size``): far above any OCPP frame
(the engine answers frames over its own 64 KiB limit with a CALLERROR), so a larger one is a
broken or hostile CSMS: the client closes with 1009 without buffering it, and reconnects."""


class WebsocketsTransport(LifecycleControls):
    """A ``Transport`` on websockets' sans-I/O client; create and drive it inside a loop."""

    def __init__(
        self,
        config: TransportConfig,
        listener: TransportListener,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._life = Lifecycle(config, listener, rng)
        self._ssl = ssl_context(config)  # fail on unreadable TLS files now, not on every retry
        self._attempting: asyncio.Task[None] | None = None
        self._abandoned: asyncio.Task[None] | None = None
        self._retry: asyncio.TimerHandle | None = None
        self._ws: WsConnection | None = None
        self._closing: str | None = None  # why we are closing the open connection ourselves
        self._first: asyncio.Future[str | None] | None = None

    def start(self) -> None:
        """Begin connecting from the running event loop (a RuntimeError outside one)."""
        loop = asyncio.get_running_loop()
        if self._life.running:
            return
        self._first = loop.create_future()
        super().start()

    def stop(self) -> None:
        super().stop()
        self._settle_first(STOPPED)

    def send(self, text: str) -> bool:
        ws = self._ws
        if ws is None or not self._life.connected or self._closing is not None:
            return False
        return ws.send(text)

    async def first_attempt(self) -> str | None:
        """Wait for the outcome of the first attempt: None once connected, else why it failed.

        The CLI exits with this reason instead of retrying forever; the transport itself keeps
        retrying until ``stop``. Only valid after ``start``.
        """
        if self._first is None:
            raise RuntimeError("start() the transport first")
        return await asyncio.shield(self._first)

    async def wait_closed(self) -> None:
        """Wait until the connection and any attempt have ended (after ``stop`` or going
        offline)."""
        pending: list[asyncio.Future[Any]] = [
            task for task in (self._attempting, self._abandoned) if task is not None
        ]
        if self._ws is not None:
            pending.append(self._ws.closed)
        if pending:
            await asyncio.wait(pending)

    # ------------------------------------------------------------ LifecycleControls

    def _connect(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._ws is None and (self._attempting is None or self._attempting.done()):
            self._attempting = asyncio.get_running_loop().create_task(self._attempt())

    def _cancel(self) -> None:
        """Abandon a pending attempt or reconnect wait (never an open connection)."""
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        task = self._attempting
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()
            # Forget it so going online again at once starts afresh; wait_closed still awaits it.
            self._attempting, self._abandoned = None, task

    def _close(self, reason: str) -> None:
        if self._ws is None or self._closing is not None:
            return
        self._closing = reason
        self._ws.close(1000, "offline" if reason == OFFLINE else "stopped")

    # ------------------------------------------------------------ attempts

    def _settle_first(self, outcome: str | None) -> None:
        if self._first is not None and not self._first.done():
            self._first.set_result(outcome)

    async def _attempt(self) -> None:
        life = self._life
        life.connecting()
        if not life.wants_connection:  # a listener stopped us from on_state
            return
        reason, ws = await self._open()
        self._attempting = None
        self._settle_first(reason)
        if ws is None:
            self._ended(reason or "connection failed")
            return
        self._ws = ws
        early = ws.take_over()
        life.opened(str(ws.protocol.subprotocol))  # on_open may send at once
        interval = self.config.ping_interval_s
        if interval is not None and self._ws is ws and ws.protocol.state is State.OPEN:
            ws.keepalive(interval)
        ws.handle(early)
        if ws.closed.done():  # it ended before we took it over: its end counts now
            self.connection_ended(ws)

    async def _open(self) -> tuple[str | None, WsConnection | None]:
        """Open a connection and check the subprotocol: (None, connection) when open, else
        (why it failed, None)."""
        config = self.config
        loop = asyncio.get_running_loop()
        ws: WsConnection | None = None
        try:
            uri = parse_uri(self._life.url)
            protocol = ClientProtocol(
                uri,
                subprotocols=[Subprotocol(name) for name in config.subprotocols],
                max_size=MAX_MESSAGE_BYTES,
                logger=_protocol_logger(config),
            )
            request = protocol.connect()
            request.headers["User-Agent"] = USER_AGENT
            authorization = basic_auth_header(config)
            if authorization is not None:
                request.headers["Authorization"] = authorization
            protocol.send_request(request)
            ws = WsConnection(self, protocol)
            handshake = ws.handshake
            assert handshake is not None
            made = ws
            async with asyncio.timeout(config.open_timeout_s):
                await loop.create_connection(
                    lambda: made,
                    uri.host,
                    uri.port,
                    ssl=self._ssl,
                    server_hostname=uri.host if self._ssl is not None else None,
                )
                ws.flush()
                await handshake
        except asyncio.CancelledError:
            if ws is not None:
                ws.owner = None
                ws.abort()
            raise
        except Exception as exc:
            if ws is not None:
                ws.owner = None
                ws.abort()
            return describe_failure(exc, config), None
        mismatch = self._life.subprotocol_problem(ws.protocol.subprotocol)
        if mismatch is not None:
            ws.owner = None
            ws.close(1000, "subprotocol not accepted")
            return mismatch, None
        return None, ws

    def receive(self, text: str) -> None:
        """A message from the CSMS (the connection's callback)."""
        self._life.received(text)

    def connection_ended(self, ws: WsConnection) -> None:
        """The open connection ``ws`` ended (its socket closed)."""
        if ws is not self._ws:
            return
        self._ws = None
        closing, self._closing = self._closing, None
        if closing is not None:
            reason = closing
        else:
            closed = ws.protocol.close_exc
            reason = _closed_reason(closed)
            if closed.rcvd is None and closed.sent is not None and closed.sent.code != 1000:
                # We closed it because of what the CSMS sent: an error worth a log line.
                logger.warning("[%s] %s", self.config.charge_box_id, reason)
        self._ended(reason)

    def _ended(self, reason: str) -> None:
        delay = self._life.ended(reason)
        if delay is not None and self._life.wants_connection:
            loop = asyncio.get_running_loop()
            self._retry = loop.call_later(delay, self._connect)


def _protocol_logger(config: TransportConfig) -> logging.Logger | logging.LoggerAdapter[Any]:
    """websockets logs the handshake headers at DEBUG level: with DEBUG on, through an adapter
    that masks the key (made only then: ten thousand idle adapters cost memory)."""
    base = logging.getLogger("websockets.client")
    if base.isEnabledFor(logging.DEBUG):
        return _RedactingLogger(base, config)
    return base


def _closed_reason(closed: ConnectionClosed) -> str:
    if closed.rcvd is not None:
        return describe_close(closed.rcvd.code, closed.rcvd.reason)
    if closed.sent is not None and closed.sent.code == CloseCode.MESSAGE_TOO_BIG:
        return (
            f"closed by the station: the CSMS sent a message over {MAX_MESSAGE_BYTES} bytes"
            " (code 1009, message too big)"
        )
    if closed.sent is not None and closed.sent.reason:
        return f"connection lost ({closed.sent.reason})"  # e.g. keepalive ping timeout
    return describe_close(None)


def ssl_context(config: TransportConfig) -> ssl.SSLContext | None:
    """The TLS settings for a wss:// URL: a custom CA and a client certificate (profile 3)."""
    secure = urlsplit(config.url).scheme.lower() == "wss"
    if not secure:
        if config.ca_file or config.client_cert_file:
            raise ValueError("CA and client certificate files need a wss:// URL")
        return None
    try:
        context = ssl.create_default_context(cafile=config.ca_file)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot load the CA file {config.ca_file}: {_file_error(exc)}") from exc
    if config.client_cert_file:
        try:
            context.load_cert_chain(
                config.client_cert_file, config.client_key_file, password=_no_password
            )
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot load the client certificate: {_file_error(exc)}") from exc
    return context


def _no_password() -> str:
    # Without this callback OpenSSL would prompt on the terminal for an encrypted key.
    raise ValueError("the client key is encrypted: give an unencrypted key file")


def _file_error(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"not a valid PEM file ({exc.reason})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def describe_failure(exc: BaseException, config: TransportConfig) -> str:
    """A human-readable reason for a failed connection attempt, with the HTTP status if known."""
    return redact(_describe(exc, config), config)


def _describe(exc: BaseException, config: TransportConfig) -> str:
    parts = urlsplit(config.url)
    where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'wss' else 80)}"
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        hint = _STATUS_HINTS.get(status) or exc.response.reason_phrase
        if status == 401 and not config.auth_key:
            hint = "the CSMS asks for credentials: give the authorization key (--auth-key)"
        body = bytes(exc.response.body or b"")[:300].decode("utf-8", "replace").strip()
        if status == 400 and "subprotocol" in body.lower():
            # A CSMS that refuses the upgrade for want of a common subprotocol (its words).
            return f"server did not accept subprotocol {config.offered} (HTTP 400: {body})"
        return f"handshake failed: HTTP {status}: {hint}"
    if isinstance(exc, NegotiationError) and "subprotocol" in str(exc):
        return f"server did not accept subprotocol {config.offered} ({exc})"
    if isinstance(exc, InvalidURI):
        return f"invalid URL: {exc}"
    if isinstance(exc, InvalidHandshake):
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        return f"handshake failed: {exc}{cause}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate check failed ({exc.verify_message}): check the CA file and host"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake failed ({exc.reason or exc})"
    if isinstance(exc, TimeoutError):
        return f"no WebSocket handshake with {where} within {config.open_timeout_s:g} s"
    if isinstance(exc, ConnectionRefusedError) or f"[Errno {errno.ECONNREFUSED}]" in str(exc):
        # Several addresses (::1 and 127.0.0.1) failing come as one OSError("Multiple ...").
        return f"connection refused by {where}: is the CSMS running on that port?"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name {parts.hostname}"
    if isinstance(exc, OSError):
        return f"network error with {where}: {exc.strerror or exc}"
    return f"unexpected error: {type(exc).__name__}: {exc}"


class _RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """websockets logs the handshake headers at DEBUG level: mask the key before it is written."""

    def __init__(self, base: logging.Logger, config: TransportConfig) -> None:
        super().__init__(base, {})
        self._config = config

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            config = self._config
            masked = tuple(redact(a, config) if isinstance(a, str) else a for a in args)
            self.logger.log(level, redact(str(msg), config), *masked, **kwargs)
