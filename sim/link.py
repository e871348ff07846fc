"""The station's side of its connection to the CSMS: one transport at a time, and its events.

A transport reports from its own callbacks (a socket event, a timer); the link queues what it
received (``inbox``) for the station's next tick and drops whatever a replaced transport still
reports. It also follows the connection state and notices a backend that echoes frames back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.echo import EchoDetector
from sim.transport.base import ConnectionState

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.transport.base import Transport, TransportConfig, TransportListener

__all__ = ["CsmsLink", "ping_interval"]


class _Listener:
    """The TransportListener of one transport: events of a replaced transport are dropped."""

    __slots__ = ("_link",)

    def __init__(self, link: CsmsLink) -> None:
        self._link = link

    def on_open(self, subprotocol: str) -> None:
        self._link._received(self, ("open", subprotocol))

    def on_message(self, text: str) -> None:
        self._link._received(self, ("message", text))

    def on_close(self, reason: str) -> None:
        self._link._received(self, ("close", reason))

    def on_state(self, state: ConnectionState, detail: str) -> None:
        self._link._changed(self, state, detail)


class CsmsLink:
    """One station's transport, what it received, its state and whether it echoes.

    ``on_state(state, detail)`` is called on every change of the connection state; ``wake``
    asks the station for a tick (something arrived).
    """

    def __init__(
        self,
        factory: Callable[[TransportConfig, TransportListener], Transport],
        *,
        on_state: Callable[[ConnectionState, str], None],
        wake: Callable[[], None],
    ) -> None:
        self._factory = factory
        self._on_state = on_state
        self._wake = wake
        self.inbox: list[tuple[str, str]] = []
        """("open" | "message" | "close", text), oldest first, for the next tick (a list: it
        holds a frame or two, and an empty deque costs 600 bytes per station)."""
        self.transport: Transport | None = None
        self._listener: _Listener | None = None
        self.running = False  # the station should be connected (connect() and no disconnect())
        self.offline = False  # the "network cable" is out
        self.state = ConnectionState.DISCONNECTED
        self.detail = "not connected"
        self._echo = EchoDetector()
        self.echoes = False  # the backend of the current connection is an echo server

    def start(self, config: TransportConfig) -> None:
        """Replace the transport with a new one for ``config`` and start it."""
        if self.transport is not None:
            self.drop()
        listener = _Listener(self)
        transport = self._factory(config, listener)
        self._listener, self.transport = listener, transport
        if self.offline:
            transport.set_offline(True)
        transport.start()

    def drop(self) -> None:
        """Stop the current transport and ignore anything it reports from now on; the engine
        learns at the next tick that its connection is gone (if it thought it had one)."""
        transport, self.transport = self.transport, None
        self._listener = None
        self.inbox.append(("close", "transport replaced"))
        if transport is not None:
            transport.stop()

    def stop(self) -> None:
        """Close the connection cleanly and stay disconnected."""
        self.running = False
        if self.transport is not None:
            self.transport.stop()

    def set_offline(self, offline: bool) -> None:
        self.offline = offline
        if self.transport is not None:
            self.transport.set_offline(offline)

    def send(self, text: str) -> bool:
        """Hand a frame to the transport; False when there is no open connection."""
        return self.transport is not None and self.transport.send(text)

    def is_new_echo(self, direction: str, text: str) -> bool:
        """Note a frame; True when it shows, for the first time on this connection, that the
        backend echoes the station's frames (the caller then sets ``echoes``)."""
        return self._echo.observe(direction, text) and not self.echoes

    def set_state(self, state: ConnectionState, detail: str) -> None:
        if (state, detail) == (self.state, self.detail):
            return
        if state is ConnectionState.CONNECTING:
            self._echo.reset()
            self.echoes = False
        self.state, self.detail = state, detail
        self._on_state(state, detail)

    def _received(self, listener: _Listener, item: tuple[str, str]) -> None:
        if listener is not self._listener:
            return
        self.inbox.append(item)
        self._wake()

    def _changed(self, listener: _Listener, state: ConnectionState, detail: str) -> None:
        if listener is self._listener:
            self.set_state(state, detail)


def ping_interval(text: str | None) -> float | None:
    """The WebSocket ping interval a WebSocketPingInterval value asks for (None: no pings)."""
    try:
        seconds = int(text) if text is not None else 0
    except ValueError:
        seconds = 0
    return float(seconds) if seconds > 0 else None
