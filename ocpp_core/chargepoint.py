"""The public face of the engine: one ChargePoint per station, sans-IO.

    cp = ChargePoint(identity=StationIdentity(vendor="Acme", model="AC-22"), connectors=2)
    cp.connected(now)               # the transport opened
    cp.receive(text, now)           # a text frame arrived
    for frame in cp.poll(now):      # timers and inputs run; frames to send come out
        transport.send(frame)

``now`` is the caller's monotonic time in seconds. Hardware is attached per connector
(``cp.connector(1).plugged = lambda: ...``) and sampled during ``poll``; call ``poll`` after an
input changes, and at the latest at ``next_wakeup(now)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.assembly import for_version
from ocpp_core.clock import Clock
from ocpp_core.engine import Engine
from ocpp_core.rpc import DEFAULT_MAX_FRAME_BYTES, new_message_id
from ocpp_core.v16.boot import BootBlock
from ocpp_core.v16.data_transfer import DataTransferBlock
from ocpp_core.v16.status import StatusBlock

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ocpp_core.connector import ConnectorIO
    from ocpp_core.events import Event
    from ocpp_core.identity import StationIdentity
    from ocpp_core.store import Store
    from ocpp_core.v16.data_transfer import DataTransferResult

__all__ = ["ChargePoint"]


class ChargePoint:
    """An OCPP charge point with ``connectors`` connectors (1..N; 0 is the station itself).

    ``store`` keeps configuration and availability across restarts (a new ChargePoint on the same
    Store is a reboot); by default a MemoryStore. ``clock`` maps ``now`` to wall time until the
    CSMS sets it. ``message_ids`` makes CALL ids (default: random UUIDs). ``max_frame_bytes``
    bounds received frames. ``reset_handler(kind)`` performs a "Soft" or "Hard" reset (the
    application discards this ChargePoint and creates a new one); returning False reports a
    failure. Without it, Reset is Rejected. ``config_defaults`` replaces declared defaults of
    configuration keys (text as in ChangeConfiguration; never persisted, stored values win).
    """

    __slots__ = ("_engine", "version")

    def __init__(
        self,
        *,
        identity: StationIdentity,
        connectors: int = 2,
        store: Store | None = None,
        version: str = "1.6",
        clock: Clock | None = None,
        message_ids: Callable[[], str] | None = None,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        reset_handler: Callable[[str], bool | None] | None = None,
        config_defaults: Mapping[str, str] | None = None,
    ) -> None:
        if type(connectors) is not int or not 1 <= connectors <= 99:
            raise ValueError("connectors must be an int from 1 to 99")
        assembly = for_version(version)
        if store is None:
            from ocpp_core.store import MemoryStore

            store = MemoryStore()
        self.version = version
        self._engine = Engine(
            assembly,
            identity=identity,
            connectors=connectors,
            store=store,
            clock=Clock() if clock is None else clock,
            new_id=new_message_id if message_ids is None else message_ids,
            max_frame_bytes=max_frame_bytes,
            reset_handler=reset_handler,
            config_defaults=config_defaults,
        )

    # ------------------------------------------------------------------ transport

    def connected(self, now: float) -> None:
        """The WebSocket is open."""
        self._engine.on_connected(now)

    def disconnected(self, now: float) -> None:
        """The WebSocket closed (the outstanding CALL is re-sent or failed, see outbox)."""
        self._engine.on_disconnected(now)

    def receive(self, text: str, now: float) -> None:
        """One received text frame."""
        self._engine.receive(text, now)

    def poll(self, now: float) -> list[str]:
        """Run timers and sample inputs; return the frames to send now, in order."""
        return self._engine.poll(now)

    def next_wakeup(self, now: float) -> float | None:
        """When ``poll`` next has timed work (None: only after input or a received frame)."""
        return self._engine.next_wakeup(now)

    @property
    def is_connected(self) -> bool:
        """Whether the transport is open (as reported by connected/disconnected)."""
        return self._engine.connected

    # ------------------------------------------------------------------ application

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Receive every event (see ocpp_core.events); returns the unsubscribe function."""
        return self._engine.subscribe(callback)

    def connector(self, connector: int) -> ConnectorIO:
        """The inputs and outputs of a connector (0 = the charge point as a whole)."""
        return self._engine.connectors[self._index(connector)]

    def status(self, connector: int, now: float) -> str:
        """The current status of a connector (ChargePointStatus)."""
        return self._engine.block(StatusBlock).status_of(self._index(connector), now)

    def _index(self, connector: int) -> int:
        if type(connector) is not int or not 0 <= connector < len(self._engine.connectors):
            raise ValueError(f"no connector {connector!r}")
        return connector

    @property
    def registration(self) -> str | None:
        """The last BootNotification answer: None, "Pending", "Rejected" or "Accepted"."""
        return self._engine.block(BootBlock).registration

    @property
    def clock(self) -> Clock:
        """Wall time as set by the CSMS."""
        return self._engine.clock

    def on_data_transfer(
        self,
        vendor_id: str,
        handler: Callable[[str | None, str | None], str | tuple[str, str | None]],
        message_id: str | None = None,
    ) -> None:
        """Answer incoming DataTransfer for a vendor (and message id) with
        ``handler(message_id, data) -> status | (status, data)``."""
        self._engine.block(DataTransferBlock).register(vendor_id, handler, message_id)

    def send_data_transfer(
        self,
        vendor_id: str,
        message_id: str | None = None,
        data: str | None = None,
        *,
        callback: Callable[[DataTransferResult], None] | None = None,
        now: float,
    ) -> None:
        """Send a DataTransfer.req once registered; ``callback`` gets the DataTransferResult."""
        block = self._engine.block(DataTransferBlock)
        block.send(vendor_id, message_id, data, callback, now)

    def get_configuration(self, key: str) -> str | None:
        """A key's value as text, write-only keys included (None if not declared).

        For the station itself, e.g. the transport reading AuthorizationKey; never sent out.
        """
        config = self._engine.config
        found = config.table.find(key)
        return None if found is None else config.text(found)

    def change_configuration(self, key: str, value: str) -> str:
        """Change a key locally with the same rules as ChangeConfiguration; returns its status."""
        return self._engine.config.change(key, value)
