"""A gevent transport, for Locust: websockets' sans-I/O client protocol over a gevent socket.

The Locust users (sim/locust.py) run in greenlets; this transport does its I/O in greenlets too,
with no thread and no asyncio loop. The WebSocket protocol itself (handshake, framing, masking,
close codes, the message size limit) is ``websockets.client.ClientProtocol``, the same library
the CPython transport uses, so both report the same failures in the same words
(``describe_failure``) and need no further dependency. Per connection one greenlet reads (and
runs the attempt -> connection -> backoff loop, like the asyncio transport's task), one writes
what ``send`` queued, in order, and one pings when the station's WebSocketPingInterval asks.

Import this module only where gevent runs (a Locust process): it imports gevent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from typing import TYPE_CHECKING

import gevent
from gevent import socket as gsocket
from gevent.queue import Queue
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from sim.transport.base import (
    TransportConfig,
    TransportListener,
    basic_auth_header,
    describe_close,
)
from sim.transport.cpython import MAX_MESSAGE_BYTES, describe_failure, ssl_context
from sim.transport.lifecycle import OFFLINE, Lifecycle, LifecycleControls

if TYPE_CHECKING:
    import random

    from gevent import Greenlet

__all__ = ["CLOSE_TIMEOUT_S", "GeventTransport"]

logger = logging.getLogger("sim.transport")

CLOSE_TIMEOUT_S = 5.0
"""How long a closing connection waits for the CSMS to close TCP after the close frames."""

_READ_BYTES = 65536
_PING_TIMEOUT = "keepalive ping timeout"


class _Connection:
    """One open WebSocket: the socket, the protocol state and the writer's queue."""

    __slots__ = ("closer", "pong_due", "protocol", "sock", "writes")

    def __init__(self, sock: socket.socket, protocol: ClientProtocol) -> None:
        self.sock = sock
        self.protocol = protocol
        self.writes: Queue[bytes | None] = Queue()
        self.closer: Greenlet | None = None
        self.pong_due: bytes | None = None  # the payload of the ping awaiting its pong

    def flush(self) -> None:
        """Queue what the protocol has to send (frames, pongs, close frames, EOF)."""
        for data in self.protocol.data_to_send():
            self.writes.put(data)

    def expect_close(self) -> None:
        """The TCP connection should end soon: cut it if the CSMS does not within the timeout."""
        if self.closer is None:
            self.closer = gevent.spawn_later(CLOSE_TIMEOUT_S, self.cut)

    def cut(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # the reader's recv() returns b""


class GeventTransport(LifecycleControls):
    """A ``Transport`` whose I/O runs in gevent greenlets (Locust users)."""

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
        self._uri = parse_uri(self._life.url)
        self._runner: Greenlet | None = None
        self._conn: _Connection | None = None
        self._closing: str | None = None  # why we close the open connection ourselves

    def send(self, text: str) -> bool:
        conn = self._conn
        if conn is None or not self._life.connected or self._closing is not None:
            return False
        if conn.protocol.state is not State.OPEN:  # the CSMS is closing it
            return False
        conn.protocol.send_text(text.encode("utf-8"))
        conn.flush()
        return True

    # ------------------------------------------------------------------ greenlets

    def _connect(self) -> None:
        if self._runner is None or self._runner.dead:
            self._runner = gevent.spawn(self._run)

    def _cancel(self) -> None:
        """Abandon a pending attempt or backoff sleep (never an open connection)."""
        runner = self._runner
        if runner is not None and runner is not gevent.getcurrent() and not runner.dead:
            self._runner = None
            runner.kill(block=False)

    def _close(self, reason: str) -> None:
        conn = self._conn
        if conn is None or self._closing is not None:
            return
        self._closing = reason
        if conn.protocol.state is State.OPEN:
            conn.protocol.send_close(1000, "offline" if reason == OFFLINE else "stopped")
            conn.flush()
        conn.expect_close()

    def _run(self) -> None:
        life = self._life
        while life.wants_connection:
            life.connecting()
            if not life.wants_connection:  # a listener stopped us from on_state
                return
            reason, conn, early = self._attempt()
            if conn is not None:
                reason = self._serve(conn, early)
            delay = life.ended(reason)
            if delay is None:
                return
            gevent.sleep(delay)

    def _attempt(self) -> tuple[str, _Connection | None, list[object]]:
        """Open a connection: ("", connection, frames that came with the handshake) when open,
        else (why it failed, None, [])."""
        config = self.config
        uri = self._uri
        sock: socket.socket | None = None
        try:
            with gevent.Timeout(config.open_timeout_s, TimeoutError("open timeout")):
                sock = gsocket.create_connection((uri.host, uri.port))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self._ssl is not None:
                    sock = self._ssl.wrap_socket(sock, server_hostname=uri.host)
                protocol = ClientProtocol(
                    uri,
                    subprotocols=[Subprotocol(name) for name in config.subprotocols],
                    max_size=MAX_MESSAGE_BYTES,
                )
                request = protocol.connect()
                authorization = basic_auth_header(config)
                if authorization is not None:
                    request.headers["Authorization"] = authorization
                protocol.send_request(request)
                for data in protocol.data_to_send():
                    sock.sendall(data)
                while protocol.state is State.CONNECTING and protocol.handshake_exc is None:
                    data = sock.recv(_READ_BYTES)
                    if not data:
                        protocol.receive_eof()
                        break
                    protocol.receive_data(data)
            if protocol.handshake_exc is not None:
                raise protocol.handshake_exc
            if protocol.state is not State.OPEN:
                raise ConnectionError("the server closed the connection during the handshake")
        except Exception as exc:
            if sock is not None:
                sock.close()
            return describe_failure(exc, config), None, []
        except BaseException:  # killed (stop, offline) while connecting
            if sock is not None:
                sock.close()
            raise
        events: list[object] = list(protocol.events_received()[1:])  # after the Response
        mismatch = self._life.subprotocol_problem(protocol.subprotocol)
        if mismatch is not None:
            protocol.send_close(1000, "subprotocol not accepted")
            for data in protocol.data_to_send():
                sock.sendall(data)
            sock.close()
            return mismatch, None, []
        return "", _Connection(sock, protocol), events

    def _serve(self, conn: _Connection, early: list[object]) -> str:
        """Pump frames both ways until the connection ends; return why it ended."""
        protocol = conn.protocol
        self._conn = conn
        writer = gevent.spawn(_write, conn)
        pinger = None
        if self.config.ping_interval_s is not None:
            pinger = gevent.spawn(self._ping, conn, self.config.ping_interval_s)
        lost: str | None = None
        try:
            self._life.opened(str(protocol.subprotocol))  # on_open may send at once
            self._handle(conn, early)
            while protocol.state is not State.CLOSED:
                try:
                    data = conn.sock.recv(_READ_BYTES)
                except OSError as exc:
                    lost = f"connection lost ({exc.strerror or exc})"
                    protocol.receive_eof()
                    break
                if data:
                    protocol.receive_data(data)
                else:
                    protocol.receive_eof()
                self._handle(conn, protocol.events_received())
                conn.flush()
                if protocol.close_expected():
                    conn.expect_close()
                if not data:
                    break
        finally:
            if pinger is not None:
                pinger.kill(block=False)
            conn.writes.put(None)  # the writer ends after what is queued
            writer.join(timeout=CLOSE_TIMEOUT_S)
            writer.kill(block=False)
            if conn.closer is not None:
                conn.closer.kill(block=False)
            conn.sock.close()
            self._conn = None
            closing, self._closing = self._closing, None
        if closing is not None:
            return closing
        return lost or _closed_reason(conn)

    def _handle(self, conn: _Connection, events: list[object]) -> None:
        for frame in events:
            opcode = getattr(frame, "opcode", None)
            if opcode is Opcode.TEXT:
                data = frame.data  # type: ignore[attr-defined]
                if not frame.fin:  # type: ignore[attr-defined]
                    # OCPP frames are small: a fragmented one is unusual enough to refuse.
                    conn.protocol.fail(1009, "fragmented messages are not supported")
                    return
                try:
                    text = bytes(data).decode("utf-8")
                except UnicodeDecodeError:
                    conn.protocol.fail(1007, "invalid UTF-8")
                    return
                self._life.received(text)
            elif opcode is Opcode.PONG:
                if conn.pong_due is not None and bytes(frame.data) == conn.pong_due:  # type: ignore[attr-defined]
                    conn.pong_due = None
            elif opcode is Opcode.BINARY:
                logger.warning(
                    "[%s] ignored a binary frame (OCPP-J uses text frames)",
                    self.config.charge_box_id,
                )

    def _ping(self, conn: _Connection, interval: float) -> None:
        protocol = conn.protocol
        while protocol.state is State.OPEN:
            gevent.sleep(interval)
            if protocol.state is not State.OPEN:
                return
            if conn.pong_due is not None:
                logger.warning("[%s] %s", self.config.charge_box_id, _PING_TIMEOUT)
                protocol.fail(1011, _PING_TIMEOUT)
                conn.flush()
                conn.expect_close()
                return
            conn.pong_due = os.urandom(4)
            protocol.send_ping(conn.pong_due)
            conn.flush()


def _write(conn: _Connection) -> None:
    """Send the queued data in order; ``b""`` half-closes, ``None`` ends the writer."""
    sock = conn.sock
    while True:
        data = conn.writes.get()
        if data is None:
            return
        try:
            if data:
                sock.sendall(data)
            else:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            return


def _closed_reason(conn: _Connection) -> str:
    protocol = conn.protocol
    received, sent = protocol.close_rcvd, protocol.close_sent
    if received is not None:
        return describe_close(received.code, received.reason)
    if sent is not None and sent.code == 1009:
        return (
            f"closed by the station: the CSMS sent a message over {MAX_MESSAGE_BYTES} bytes"
            " (code 1009, message too big)"
        )
    if sent is not None and sent.reason:
        return f"connection lost ({sent.reason})"
    return describe_close(None)
