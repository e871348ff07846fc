"""One client WebSocket connection for the CPython transport (sim/transport/cpython.py): an
``asyncio.BufferedProtocol`` feeding websockets' sans-I/O ``ClientProtocol``.

Sized for fleets: no task, queue or lock per connection, frames written as they are sent, one
read buffer shared by every connection (callbacks run one at a time), received messages handed
to the owner one per turn of the loop (a flood waits in the socket, reading paused), reading
paused while WRITE_BUFFER_HIGH waits to be written, the keepalive ping and the close timeout as
loop timers.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
from typing import TYPE_CHECKING, Any, Protocol

from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State

from sim.transport.lifecycle import logger

if TYPE_CHECKING:
    from websockets.client import ClientProtocol

    from sim.transport.base import TransportConfig

__all__ = ["CLOSE_TIMEOUT_S", "WRITE_BUFFER_HIGH", "ConnectionOwner", "WsConnection"]


class ConnectionOwner(Protocol):
    """What a connection reports to: its transport."""

    config: TransportConfig

    def receive(self, text: str) -> None: ...

    def connection_ended(self, ws: WsConnection) -> None: ...


WRITE_BUFFER_HIGH = 64 * 1024
"""Bytes waiting to be written at which the connection stops reading until they are down to
WRITE_BUFFER_LOW: a CSMS that sends CALLs but does not read the answers cannot make the station
buffer answers without bound (TCP pushes back on the CSMS instead)."""
WRITE_BUFFER_LOW = 16 * 1024

READ_CHUNK = 64 * 1024
"""The shared read buffer: the most one socket read takes in."""

CLOSE_TIMEOUT_S = 5.0
"""How long a closing connection waits for the CSMS to close TCP after the close frames."""

_PING_TIMEOUT = "keepalive ping timeout"


class WsConnection(asyncio.BufferedProtocol):
    """One WebSocket connection: the socket callbacks feed the sans-I/O protocol and hand what it
    parsed to the transport; ``transport`` is the asyncio transport (None until connected)."""

    __slots__ = (
        "backlog",
        "closed",
        "closing",
        "early",
        "fragments",
        "handshake",
        "owner",
        "pong_due",
        "protocol",
        "timer",
        "transport",
        "writes_paused",
    )

    _buffer = bytearray(READ_CHUNK)
    _view = memoryview(_buffer)

    def __init__(self, owner: ConnectionOwner | None, protocol: ClientProtocol) -> None:
        self.owner = owner  # None once abandoned: its events no longer count
        self.protocol = protocol
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.handshake: asyncio.Future[None] | None = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.timer: asyncio.TimerHandle | None = None  # keepalive ping or close timeout
        self.closing = False  # the close timeout runs
        self.pong_due: bytes | None = None  # the payload of the ping awaiting its pong
        self.fragments: list[bytes] | None = None  # a fragmented text message being received
        self.early: list[Any] | None = []  # frames received before the owner took it over
        self.backlog: collections.deque[str] | None = None  # messages read, not handed over yet
        self.writes_paused = False

    # ------------------------------------------------------------ asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(WRITE_BUFFER_HIGH, WRITE_BUFFER_LOW)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view

    def buffer_updated(self, nbytes: int) -> None:
        self.protocol.receive_data(self._buffer[:nbytes])
        self._pump()

    def eof_received(self) -> bool:
        with contextlib.suppress(EOFError):
            self.protocol.receive_eof()
        self._pump()
        return False  # the transport closes once what we still write has left

    def pause_writing(self) -> None:
        self.writes_paused = True
        self._reading(False)

    def resume_writing(self) -> None:
        self.writes_paused = False
        self._reading(self.backlog is None)

    def _reading(self, on: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if on:
            transport.resume_reading()
        else:
            transport.pause_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        protocol = self.protocol
        if protocol.state is not State.CLOSED:
            with contextlib.suppress(EOFError):
                protocol.receive_eof()  # the state follows: CLOSED, with its close_exc
        handshake, self.handshake = self.handshake, None
        if handshake is not None and not handshake.done():
            handshake.set_exception(
                exc or ConnectionError("the server closed the connection during the handshake")
            )
        owner, self.owner = self.owner, None
        if owner is not None and self.early is None:
            owner.connection_ended(self)
        if not self.closed.done():
            self.closed.set_result(None)

    # ------------------------------------------------------------ protocol

    def _pump(self) -> None:
        """Hand over what the protocol parsed, write what it has to send."""
        protocol = self.protocol
        events = protocol.events_received()
        handshake = self.handshake
        if handshake is not None:
            if protocol.handshake_exc is not None:
                self.handshake = None
                if not handshake.done():
                    handshake.set_exception(protocol.handshake_exc)
                self.flush()
                self.abort()
                return
            if protocol.state is State.CONNECTING:
                self.flush()
                return
            self.handshake = None
            for event in events:
                if isinstance(event, Response):
                    # The protocol's parser keeps the response for the connection's lifetime:
                    # its headers (about 2.5 KB) are no longer needed.
                    event.headers.clear()
                    event.body = b""
            events = [event for event in events if not isinstance(event, Response)]
            if not handshake.done():
                handshake.set_result(None)
        if self.early is not None:
            self.early.extend(events)  # until the owner took the connection over
            self.flush()
        else:
            self.handle(events)

    def take_over(self) -> list[Any]:
        """The owner takes the open connection: the frames that came so far."""
        early, self.early = self.early or [], None
        return early

    def handle(self, events: list[Any]) -> None:
        owner = self.owner
        for event in events:
            if not isinstance(event, Frame):
                continue
            opcode = event.opcode
            if opcode is Opcode.TEXT or (opcode is Opcode.CONT and self.fragments):
                text = self._message(event)
                if text is not None and owner is not None:
                    self._deliver(owner, text)
            elif opcode is Opcode.PONG:
                if self.pong_due is not None and bytes(event.data) == self.pong_due:
                    self.pong_due = None
            elif opcode is Opcode.BINARY and event.fin and owner is not None:
                logger.warning(
                    "[%s] ignored a binary frame (OCPP-J uses text frames)",
                    owner.config.charge_box_id,
                )
        self.flush()

    def _deliver(self, owner: ConnectionOwner, text: str) -> None:
        """Hand one message over per turn of the loop, so the runtime takes each in before the
        next: a flood read in one go waits here, reading paused, not in the station's inbox."""
        if self.backlog is None:
            owner.receive(text)
            self.backlog = collections.deque()
            asyncio.get_running_loop().call_soon(self._next)
        else:
            self.backlog.append(text)
            self._reading(False)

    def _next(self) -> None:
        backlog, owner = self.backlog, self.owner
        if not backlog or owner is None:
            self.backlog = None
            self._reading(not self.writes_paused)
            return
        owner.receive(backlog.popleft())
        asyncio.get_running_loop().call_soon(self._next)

    def _message(self, frame: Frame) -> str | None:
        """The text of a complete message (fragments joined), or None while incomplete."""
        if frame.fin and not self.fragments:
            data = bytes(frame.data)
        else:
            parts = self.fragments or []
            parts.append(bytes(frame.data))
            if not frame.fin:
                self.fragments = parts
                return None
            self.fragments = None
            data = b"".join(parts)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            self.protocol.fail(CloseCode.INVALID_DATA, "invalid UTF-8")
            return None

    def flush(self) -> None:
        """Write what the protocol has to send; an empty item is the end of our side."""
        transport = self.transport
        protocol = self.protocol
        for data in protocol.data_to_send():
            if transport is None or transport.is_closing():
                continue
            if data:
                transport.write(data)
            elif transport.can_write_eof():
                transport.write_eof()
        if protocol.close_expected():
            self.expect_close()

    def send(self, text: str) -> bool:
        protocol = self.protocol
        if protocol.state is not State.OPEN:
            return False
        protocol.send_text(text.encode("utf-8"))
        self.flush()
        return True

    def close(self, code: int, reason: str) -> None:
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(code, reason)
            self.flush()
        self.expect_close()

    def expect_close(self) -> None:
        """The TCP connection should end soon: cut it if the CSMS does not within the timeout."""
        if self.closing:
            return
        self.closing = True
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S, self.abort)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    # ------------------------------------------------------------ keepalive

    def keepalive(self, interval: float) -> None:
        """Ping every ``interval`` s; a ping unanswered by the next one fails the connection."""
        if self.closing:
            return
        self.timer = asyncio.get_running_loop().call_later(interval, self._ping, interval)

    def _ping(self, interval: float) -> None:
        protocol = self.protocol
        self.timer = None
        if protocol.state is not State.OPEN:
            return
        if self.pong_due is not None:
            if self.owner is not None:
                logger.warning("[%s] %s", self.owner.config.charge_box_id, _PING_TIMEOUT)
            protocol.fail(CloseCode.INTERNAL_ERROR, _PING_TIMEOUT)
            self.flush()
            return
        self.pong_due = os.urandom(4)
        protocol.send_ping(self.pong_due)
        self.flush()
        self.keepalive(interval)
