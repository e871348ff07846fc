"""The CPython transport: the ``websockets`` asyncio client, with Basic auth, TLS and reconnects.

Only imported by the headless runtime and the CLI (``websockets`` is not available in Pyodide).
One task per transport runs attempt -> connection -> backoff sleep -> attempt ...; ``send`` is
synchronous for the sans-IO runtime and feeds a queue that one writer drains in order.
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

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
    NegotiationError,
)
from websockets.frames import CloseCode
from websockets.typing import Subprotocol

from sim.transport.base import (
    ConnectionState,
    TransportConfig,
    TransportListener,
    basic_auth_header,
    describe_close,
    redact,
)
from sim.transport.lifecycle import Lifecycle, logger

__all__ = ["WebsocketsTransport", "describe_failure", "ssl_context"]

_STATUS_HINTS = {
    400: "bad request: check the URL path",
    401: "check the authorization key (the Basic auth user is the charge box id)",
    403: "forbidden: check the charge box id and the authorization key",
    404: "not found: check the URL path and the charge box id",
    426: "the server wants another protocol: check ws:// vs wss://",
}

_STOPPED = "closed by the station (stopped)"
_OFFLINE = "network switched off"

MAX_MESSAGE_BYTES = 2**20
"""The largest message the client reads (websockets' ``max_size``): far above any OCPP frame
(the engine answers frames over its own 64 KiB limit with a CALLERROR), so a larger one is a
broken or hostile CSMS: the client closes with 1009 without buffering it, and reconnects."""

OUTBOX_HIGH = 64
"""Frames waiting to be written at which the transport stops reading until half have left: a
CSMS that sends CALLs but does not read the answers cannot make the station buffer answers
without bound (TCP pushes back on the CSMS instead)."""


class WebsocketsTransport:
    """A ``Transport`` on the ``websockets`` asyncio client; create and drive it inside a loop."""

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
        self._task: asyncio.Task[None] | None = None
        self._cancelled: asyncio.Task[None] | None = None
        self._ws: ClientConnection | None = None
        self._outbox: asyncio.Queue[str] | None = None
        self._closing: str | None = None  # why we are closing the open connection ourselves
        self._closer: asyncio.Task[None] | None = None
        self._first: asyncio.Future[str | None] | None = None

    @property
    def state(self) -> ConnectionState:
        return self._life.state

    @property
    def detail(self) -> str:
        """The human-readable detail of the current state."""
        return self._life.detail

    def start(self) -> None:
        """Begin connecting from the running event loop (a RuntimeError outside one)."""
        loop = asyncio.get_running_loop()
        if self._life.running:
            return
        self._first = loop.create_future()
        if self._life.start():
            self._spawn()

    def stop(self) -> None:
        if self._life.stop():
            self._close(_STOPPED)
        else:
            self._cancel()
        self._settle_first(_STOPPED)

    def set_offline(self, offline: bool) -> None:
        if offline:
            if self._life.go_offline():
                self._close(_OFFLINE)
            else:
                self._cancel()
        elif self._life.go_online():
            self._spawn()

    def send(self, text: str) -> bool:
        if self._outbox is None or not self._life.connected or self._closing is not None:
            return False
        self._outbox.put_nowait(text)
        return True

    async def first_attempt(self) -> str | None:
        """Wait for the outcome of the first attempt: None once connected, else why it failed.

        The CLI exits with this reason instead of retrying forever; the transport itself keeps
        retrying until ``stop``. Only valid after ``start``.
        """
        if self._first is None:
            raise RuntimeError("start() the transport first")
        return await asyncio.shield(self._first)

    async def wait_closed(self) -> None:
        """Wait until the connection task has finished (after ``stop`` or going offline)."""
        tasks = (self._task, self._cancelled, self._closer)
        pending = [task for task in tasks if task is not None]
        if pending:
            await asyncio.wait(pending)

    def _spawn(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def _cancel(self) -> None:
        """Abandon a pending attempt or backoff sleep (never an open connection)."""
        task = self._task
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()
            # Forget it so going online again at once starts afresh; wait_closed still awaits it.
            self._task, self._cancelled = None, task

    def _close(self, reason: str) -> None:
        if self._ws is None or self._closing is not None:
            return
        self._closing = reason
        self._closer = asyncio.get_running_loop().create_task(
            self._ws.close(1000, "offline" if reason == _OFFLINE else "stopped")
        )

    def _settle_first(self, outcome: str | None) -> None:
        if self._first is not None and not self._first.done():
            self._first.set_result(outcome)

    async def _run(self) -> None:
        life = self._life
        while life.wants_connection:
            life.connecting()
            if not life.wants_connection:  # a listener stopped us from on_state
                return
            reason = await self._attempt()
            self._settle_first(reason)
            if reason is None:
                reason = await self._serve()
            delay = life.ended(reason)
            if delay is None:
                return
            await asyncio.sleep(delay)

    async def _attempt(self) -> str | None:
        """Open a connection and check the subprotocol: None when open, else the failure."""
        config = self.config
        headers = {}
        authorization = basic_auth_header(config)
        if authorization is not None:
            headers["Authorization"] = authorization
        try:
            ws = await connect(
                self._life.url,
                subprotocols=[Subprotocol(name) for name in config.subprotocols],
                additional_headers=headers,
                ssl=self._ssl,
                open_timeout=config.open_timeout_s,
                ping_interval=config.ping_interval_s,
                max_size=MAX_MESSAGE_BYTES,
                logger=_RedactingLogger(logging.getLogger("websockets.client"), config),
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return describe_failure(exc, config)
        mismatch = self._life.subprotocol_problem(ws.subprotocol)
        if mismatch is not None:
            await ws.close(1000, "subprotocol not accepted")
            return mismatch
        self._ws = ws
        return None

    async def _serve(self) -> str:
        """Pump frames both ways until the connection ends; return why it ended."""
        ws = self._ws
        assert ws is not None
        self._outbox = outbox = asyncio.Queue()
        room = asyncio.Event()
        room.set()
        writer = asyncio.get_running_loop().create_task(_write(ws, outbox, room))
        try:
            self._life.opened(str(ws.subprotocol))  # on_open may send at once: the queue is ready
            while True:
                if outbox.qsize() >= OUTBOX_HIGH:
                    room.clear()
                    await room.wait()  # set by the writer, also when the connection ends
                message = await ws.recv()
                if isinstance(message, str):
                    self._life.received(message)
                    # recv() returns queued messages without yielding: let the runtime take
                    # this one in before reading the next, so a flood waits in the socket, not
                    # in the station's inbox.
                    await asyncio.sleep(0)
                else:
                    logger.warning(
                        "[%s] ignored a binary frame (OCPP-J uses text frames)",
                        self.config.charge_box_id,
                    )
        except ConnectionClosed as closed:
            if self._closing is not None:
                return self._closing
            reason = _closed_reason(closed)
            if closed.rcvd is None and closed.sent is not None and closed.sent.code != 1000:
                # We closed it because of what the CSMS sent: an error worth a log line.
                logger.warning("[%s] %s", self.config.charge_box_id, reason)
            return reason
        finally:
            writer.cancel()
            self._ws = None
            self._outbox = None
            self._closing = None


async def _write(ws: ClientConnection, outbox: asyncio.Queue[str], room: asyncio.Event) -> None:
    """Send queued frames one by one so they leave in the order ``send`` was called; set
    ``room`` once the queue is down to half of OUTBOX_HIGH, and when the writer ends."""
    try:
        while True:
            text = await outbox.get()
            try:
                await ws.send(text)
            except ConnectionClosed:
                return
            if outbox.qsize() <= OUTBOX_HIGH // 2:
                room.set()
    finally:
        room.set()


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


class _RedactingLogger(logging.LoggerAdapter):
    """websockets logs the handshake headers at DEBUG level: mask the key before it is written."""

    def __init__(self, base: logging.Logger, config: TransportConfig) -> None:
        super().__init__(base, {})
        self._config = config

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            config = self._config
            masked = tuple(redact(a, config) if isinstance(a, str) else a for a in args)
            self.logger.log(level, redact(str(msg), config), *masked, **kwargs)
