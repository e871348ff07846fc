"""An in-memory CSMS and transport for Station tests: no sockets, no sleeping, deterministic.

``FakeBackend`` answers every CALL the station sends with a valid response at once (through the
listener, as a real transport would deliver it); tests send CSMS-initiated CALLs with ``call``.
``backend.transport_factory`` is what ``Station`` wants; ``go_down``/``go_up`` simulate the CSMS
going away and coming back.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from ocpp_core import MemoryStore
from ocpp_core.clock import format_datetime
from sim.runtime import Runtime, VirtualClock
from sim.settings import StationSettings
from sim.station import Station
from sim.transport.base import ConnectionState, TransportConfig, TransportListener

WALL = 1_700_000_000.0
URL = "ws://csms.test/ocpp"


class MemoryTransport:
    """A Transport whose other end is a FakeBackend in the same process."""

    def __init__(
        self, config: TransportConfig, listener: TransportListener, backend: FakeBackend
    ) -> None:
        self.config = config
        self.listener = listener
        self.backend = backend
        self.state = ConnectionState.DISCONNECTED
        self.running = False
        self.offline = False
        self.open = False
        self.subprotocol: str | None = None  # the one the backend selected

    def _set(self, state: ConnectionState, detail: str) -> None:
        self.state = state
        self.listener.on_state(state, detail)

    def start(self) -> None:
        if self.running:
            return
        self.running = True
        self.backend.transports.append(self)
        self.attempt()

    def attempt(self) -> None:
        if not self.running or self.open:
            return
        if self.offline:
            self._set(ConnectionState.OFFLINE, "network switched off")
            return
        self._set(ConnectionState.CONNECTING, "connecting")
        refusal = self.backend.refusal(self.config)
        if refusal is not None:
            self.listener.on_close(refusal)
            self._set(ConnectionState.RECONNECT_WAIT, f"{refusal}; reconnecting")
            return
        self.subprotocol = next(
            (name for name in self.config.subprotocols if name in self.backend.subprotocols), None
        )
        if self.subprotocol is None:
            refusal = f"server did not accept subprotocol {self.config.offered} (it picked none)"
            self.listener.on_close(refusal)
            self._set(ConnectionState.RECONNECT_WAIT, f"{refusal}; reconnecting")
            return
        self.open = True
        self.backend.opened(self)
        self._set(ConnectionState.CONNECTED, "connected")
        self.listener.on_open(self.subprotocol)

    def close(self, reason: str, next_state: ConnectionState) -> None:
        if not self.open:
            return
        self.open = False
        self.listener.on_close(reason)
        self._set(next_state, reason)

    def stop(self) -> None:
        if not self.running:
            return
        self.running = False
        if self.open:
            self.close("closed by the station (stopped)", ConnectionState.CLOSED)
        else:
            self._set(ConnectionState.CLOSED, "stopped")

    def set_offline(self, offline: bool) -> None:
        if offline == self.offline:
            return
        self.offline = offline
        if offline:
            if self.open:
                self.close("network switched off", ConnectionState.OFFLINE)
            elif self.running:
                self._set(ConnectionState.OFFLINE, "network switched off")
        else:
            self.attempt()

    def send(self, text: str) -> bool:
        if not self.open:
            return False
        self.backend.received(self, text)
        return True


class FakeBackend:
    """A CSMS that accepts everything; records frames; can go down and come back.

    It speaks the ``subprotocols`` given (the first the station offers wins) and answers 2.0.1
    messages on an ocpp2.0.1 connection (``on201_<Action>``, else an empty object).
    """

    def __init__(
        self,
        *,
        password: str | None = None,
        heartbeat_interval: int = 300,
        subprotocols: tuple[str, ...] = ("ocpp1.6", "ocpp2.0.1"),
    ) -> None:
        self.subprotocols = subprotocols
        self.password = password
        self.heartbeat_interval = heartbeat_interval
        self.up = True
        self.transports: list[MemoryTransport] = []
        self.connections: list[TransportConfig] = []
        self.calls: list[tuple[str, dict]] = []  # (action, payload) of the station's CALLs
        self.replies: dict[str, list] = {}  # our CALL id -> the station's reply
        self.handlers: dict[str, Callable[[dict], Any]] = {}
        self._tx_ids = itertools.count(1)
        self._ids = (f"csms-{n}" for n in itertools.count(1))
        self.wall = WALL

    def transport_factory(
        self, config: TransportConfig, listener: TransportListener
    ) -> MemoryTransport:
        return MemoryTransport(config, listener, self)

    # ------------------------------------------------------------------ connections

    def refusal(self, config: TransportConfig) -> str | None:
        if not self.up:
            return "connection refused by csms.test:80: is the CSMS running on that port?"
        if self.password is not None and config.auth_key != self.password:
            return "handshake failed: HTTP 401: check the authorization key"
        return None

    def opened(self, transport: MemoryTransport) -> None:
        self.connections.append(transport.config)

    @property
    def live(self) -> MemoryTransport | None:
        for transport in reversed(self.transports):
            if transport.open:
                return transport
        return None

    def go_down(self) -> None:
        self.up = False
        for transport in self.transports:
            transport.close(
                "connection lost (no close frame from the server)", ConnectionState.RECONNECT_WAIT
            )

    def go_up(self) -> None:
        """Come back; waiting transports reconnect at once (a real one after its backoff)."""
        self.up = True
        for transport in list(self.transports):
            transport.attempt()

    # ------------------------------------------------------------------ frames

    def received(self, transport: MemoryTransport, text: str) -> None:
        frame = json.loads(text)
        if frame[0] != 2:
            self.replies[frame[1]] = frame
            return
        _, message_id, action, payload = frame
        self.calls.append((action, payload))
        prefix = "on201_" if transport.subprotocol == "ocpp2.0.1" else "on_"
        handler = self.handlers.get(action) or getattr(self, f"{prefix}{action}", None)
        response = {} if handler is None else handler(payload)
        if response is None:  # no answer
            return
        transport.listener.on_message(json.dumps([3, message_id, response]))

    def call(self, action: str, payload: dict) -> str:
        """Send a CALL to the station (answered at its next tick); returns the message id."""
        transport = self.live
        assert transport is not None, "the station is not connected"
        message_id = next(self._ids)
        transport.listener.on_message(json.dumps([2, message_id, action, payload]))
        return message_id

    def now_text(self) -> str:
        return format_datetime(self.wall)

    def on_BootNotification(self, payload: dict) -> dict:
        return {
            "status": "Accepted",
            "currentTime": self.now_text(),
            "interval": self.heartbeat_interval,
        }

    def on_Heartbeat(self, payload: dict) -> dict:
        return {"currentTime": self.now_text()}

    def on_Authorize(self, payload: dict) -> dict:
        return {"idTagInfo": {"status": "Accepted"}}

    def on_StartTransaction(self, payload: dict) -> dict:
        return {"transactionId": next(self._tx_ids), "idTagInfo": {"status": "Accepted"}}

    def on_StopTransaction(self, payload: dict) -> dict:
        return {"idTagInfo": {"status": "Accepted"}} if "idTag" in payload else {}

    def on_DataTransfer(self, payload: dict) -> dict:
        return {"status": "UnknownVendorId"}

    on201_BootNotification = on_BootNotification
    on201_Heartbeat = on_Heartbeat
    on201_DataTransfer = on_DataTransfer

    def on201_Authorize(self, payload: dict) -> dict:
        return {"idTokenInfo": {"status": "Accepted"}}

    def on201_TransactionEvent(self, payload: dict) -> dict:
        return {"idTokenInfo": {"status": "Accepted"}} if "idToken" in payload else {}

    # ------------------------------------------------------------------ inspection

    def actions(self) -> list[str]:
        return [action for action, _ in self.calls]

    def payloads(self, action: str) -> list[dict]:
        return [payload for name, payload in self.calls if name == action]

    def statuses(self, connector: int) -> list[str]:
        return [
            p["status"]
            for p in self.payloads("StatusNotification")
            if p["connectorId"] == connector
        ]


class Rig:
    """A station on a FakeBackend, driven by a Runtime on a VirtualClock."""

    def __init__(
        self,
        backend: FakeBackend | None = None,
        *,
        store: Any = None,
        speed: float = 1.0,
        **settings: Any,
    ) -> None:
        self.backend = backend or FakeBackend()
        self.store = store if store is not None else MemoryStore()
        self.settings = StationSettings(URL, **settings)
        self.station = Station(
            self.settings,
            store=self.store,
            transport_factory=self.backend.transport_factory,
            clock_start_wall=WALL,
        )
        self.events: list[object] = []
        self.station.subscribe(self.events.append)
        self.clock = VirtualClock()
        self.runtime = Runtime([self.station], clock=self.clock, speed=speed)

    def run(self, seconds: float = 0.0) -> None:
        self.runtime.run_for(seconds)

    def boot(self) -> Rig:
        self.station.connect()
        self.run(0.0)
        assert self.station.engine.registration == "Accepted"
        return self

    def of_type(self, name: str) -> list[Any]:
        return [event for event in self.events if type(event).__name__ == name]
