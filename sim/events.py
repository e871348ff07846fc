"""What the station shows and tells: connector snapshots and the station's own events.

``Station.snapshot(n)`` returns a ``ConnectorSnapshot``; ``Station.subscribe`` delivers the core's
events (``ocpp_core.events``) and these: ``ConnectionChanged``, ``SnapshotChanged``,
``BackendEchoes`` and ``StationRebooted``. All are immutable values, matched by their class
(``match event: case ConnectionChanged(state=state): ...``). ``frame_json`` and ``printable``
help show a frame.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, NamedTuple

from sim.transport.base import ConnectionState

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.events import FrameLogged

__all__ = [
    "BackendEchoes",
    "ConnectionChanged",
    "ConnectorSnapshot",
    "FaultInfo",
    "FirmwareImage",
    "LastAuth",
    "ProtocolSelected",
    "ReservationShown",
    "SnapshotChanged",
    "StationRebooted",
    "Subscribers",
    "TransferFailures",
    "frame_json",
    "printable",
]


class FaultInfo(NamedTuple):
    """An injected fault as the user gave it."""

    error_code: str
    info: str | None = None
    vendor_error_code: str | None = None


class LastAuth(NamedTuple):
    """The latest authorization outcome on a connector (status: Accepted, Invalid, ...)."""

    id_tag: str
    status: str


class ReservationShown(NamedTuple):
    """The reservation that makes a connector show Reserved (``connector`` 0: one kept for a
    reservation of the whole station); ``expiry_date`` as the CSMS sent it."""

    reservation_id: int
    connector: int
    id_tag: str
    expiry_date: str


@dataclass(frozen=True)
class ConnectorSnapshot:
    """What one connector looks like now, for the GUI and the CLI (immutable).

    ``status``/``error_code`` are the core's (1.6: ChargePointStatus / ChargePointErrorCode;
    2.0.1: ConnectorStatusEnumType, e.g. Occupied); ``fault`` is the injected one; ``id_tag``
    is the card of the current session (being authorized, waiting for the cable, or charging;
    None without one) and ``transaction_id`` the id of its transaction (1.6: the CSMS's number,
    None until the StartTransaction is answered; 2.0.1: the station's string from the start),
    ``seq_no`` the seqNo of its latest TransactionEvent and ``id_token_type`` the idToken type
    (2.0.1; None in 1.6);
    ``current_a``/``voltage_v`` hold one value per station phase, L1 first; ``soc_percent`` is
    None without a car or a modelled battery; ``limit`` is the charging limit the core set,
    ``(value, "A" | "W")``, or None, and ``limit_w`` the power it allows now (for a chart);
    ``reservation`` the one the connector is held for, or None; ``lock_fails``: the simulated
    cable lock is jammed (locking it fails, Station.set_lock_failing).
    """

    connector: int
    status: str
    error_code: str
    plugged: bool
    ev_ready: bool
    evse_ready: bool
    locked: bool
    fault: FaultInfo | None
    transaction_id: int | str | None
    id_tag: str | None
    last_auth: LastAuth | None
    power_w: float
    energy_wh: float
    current_a: list[float]
    voltage_v: list[float]
    soc_percent: float | None
    limit: tuple[float, str] | None
    reservation: ReservationShown | None = None
    limit_w: float | None = None
    seq_no: int | None = None
    id_token_type: str | None = None
    lock_fails: bool = False

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON (named tuples become objects)."""
        data = {field.name: getattr(self, field.name) for field in fields(self)}
        data["fault"] = None if self.fault is None else self.fault._asdict()
        data["last_auth"] = None if self.last_auth is None else self.last_auth._asdict()
        data["current_a"] = list(self.current_a)
        data["voltage_v"] = list(self.voltage_v)
        data["limit"] = None if self.limit is None else list(self.limit)
        data["reservation"] = None if self.reservation is None else self.reservation._asdict()
        return data


class ConnectionChanged(NamedTuple):
    """The transport's state changed; ``detail`` is a human-readable message (why it failed)."""

    state: ConnectionState
    detail: str


class ProtocolSelected(NamedTuple):
    """With OCPP auto: the CSMS selected ``subprotocol`` at the opening of a connection, and the
    station runs ``version`` ("1.6" or "2.0.1") from now on (raised at every opening)."""

    version: str
    subprotocol: str


class SnapshotChanged(NamedTuple):
    """Something shown in ``Station.snapshot(connector)`` changed (checked once per tick)."""

    connector: int


class FirmwareImage(NamedTuple):
    """The last firmware image really downloaded (http(s) location): what the user can check."""

    size: int | None
    sha256: str

    def describe(self) -> str:
        size = "size unknown" if self.size is None else f"{self.size:,} bytes"
        return f"image {size}, SHA-256 {self.sha256}"


class TransferFailures(NamedTuple):
    """Failure injection for the simulated firmware update and diagnostics upload."""

    firmware_download: bool = False
    firmware_install: bool = False
    diagnostics_upload: bool = False


class BackendEchoes(NamedTuple):
    """The backend sends the station's own frames back: an echo server, not a CSMS (raised
    once per connection)."""


class StationRebooted(NamedTuple):
    """The station rebooted after a Reset (``kind`` "Soft" or "Hard"): a new engine runs."""

    kind: str


class Subscribers:
    """A station's event subscribers; ``snapshots`` counts those that show connectors (only
    for them is a SnapshotChanged worked out at every tick)."""

    __slots__ = ("callbacks", "snapshots")

    def __init__(self) -> None:
        self.callbacks: tuple[Callable[[object], None], ...] = ()
        self.snapshots = 0

    def add(self, callback: Callable[[object], None], *, snapshots: bool) -> Callable[[], None]:
        """Subscribe ``callback``; returns the unsubscribe function."""
        self.callbacks = (*self.callbacks, callback)
        self.snapshots += snapshots

        def unsubscribe() -> None:
            if any(c is callback for c in self.callbacks):
                self.snapshots -= snapshots
            self.callbacks = tuple(c for c in self.callbacks if c is not callback)

        return unsubscribe

    def emit(self, event: object) -> None:
        for callback in self.callbacks:
            try:
                callback(event)
            except Exception:
                logging.getLogger("sim.station").exception(
                    "a station subscriber failed on %s", type(event).__name__
                )


def frame_json(event: FrameLogged) -> object:
    """The frame of a FrameLogged event, parsed when it is JSON (else the text, verbatim: also
    when it nests too deeply for the parser)."""
    try:
        return json.loads(event.text)
    except (ValueError, RecursionError):
        return event.text


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with each lone surrogate (valid in a JSON string, e.g. an idTag "\\ud800A" from a
    CSMS, but not encodable as UTF-8) written as its JSON escape: safe for a terminal, a file or
    a browser, readable, and JSON text stays JSON that parses back to the same strings."""
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda match: f"\\u{ord(match[0]):04x}", text)
