"""Connector status (OCPP 2.0.1 G01-G04, B04) and StatusNotification.

The station has EVSE 1..N with one connector each; every poll derives the ConnectorStatusEnumType
of each from the hardware inputs, the availability flags and the transaction view:
Faulted (a faulted error on the connector, or on the station's own error inputs) > Unavailable
(its EVSE inoperative, unless a transaction runs: a Scheduled change waits for its end) >
Reserved (see ocpp_core/v201/reservation.py) > Occupied (a cable plugged in, or the parking bay
occupied) > Available. An authorization or a transaction without a cable leaves the connector
Available: part 6's reusable state EnergyTransferStarted expects the status change to Occupied
when the EV is connected after the state Authorized, and H03.FR.10 (errata 2023-12) sets a
reserved connector Available when its holder presents before plugging in. The station itself
(``status_of(0)``) is Unavailable when made inoperative and no transaction runs anywhere, else
Available;
StatusNotification has no station-level report.

Reporting is the shared StatusReporter (ocpp_core/status_reports.py): a change is reported once
the BootNotification is Accepted (each connector once after it, B01), changes made offline
coalesce into the current status, and after an outage longer than
``OCPPCommCtrlr.OfflineThreshold`` every connector is reported again, however short it was not
(B04.FR.01/02). The timestamp is the moment of the transition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ocpp_core.block import Block, trigger
from ocpp_core.clock import format_datetime
from ocpp_core.events import StatusChanged
from ocpp_core.outbox import Request
from ocpp_core.sessions import NO_RESERVATIONS, NO_SESSIONS
from ocpp_core.status_reports import NO_ERROR, Reports, StatusReporter, read_errors

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ocpp_core.connector import ConnectorIO
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.sessions import ReservationView
    from ocpp_core.v201.availability import AvailabilityBlock

__all__ = ["AVAILABLE", "FAULTED", "OCCUPIED", "RESERVED", "UNAVAILABLE", "StatusBlock"]

AVAILABLE = "Available"
OCCUPIED = "Occupied"
RESERVED = "Reserved"
UNAVAILABLE = "Unavailable"
FAULTED = "Faulted"

OFFLINE_THRESHOLD = "OCPPCommCtrlr.OfflineThreshold"
CONNECTOR_ID = 1  # each EVSE has one connector


class StatusBlock(Block, StatusReporter):
    """Derives connector statuses and reports them with StatusNotification."""

    __slots__ = (
        "_offline_since",
        "_reports",
        "_station",
        "availability",
        "reservations",
        "sessions",
    )

    sends = ("StatusNotification",)

    def __init__(self, ctx: BlockContext, *, availability: AvailabilityBlock) -> None:
        super().__init__(ctx)
        self.availability = availability
        # Set by the wiring once built: the transaction block (its SessionView).
        self.sessions: object = NO_SESSIONS
        self.reservations: ReservationView = NO_RESERVATIONS
        # Index 0 stays underived (never reported): the station's status is ``_station``.
        self._reports = Reports(len(ctx.connectors))
        self._station = AVAILABLE
        self._offline_since: float | None = None

    # ------------------------------------------------------------------ derivation

    def status_of(self, evse: int, now: float) -> str:
        """The station's (0) or an EVSE's connector status (1..N)."""
        self.tick(now)
        if evse == 0:
            return self._station
        status = self._reports.states[evse].status
        assert status is not None  # the tick derived it
        return status

    def faulted(self, evse: int, now: float) -> bool:
        """EVSE 1..N is Faulted (it cannot take a transaction)."""
        return self.status_of(evse, now) == FAULTED

    def rereport(self, evse: int) -> None:
        """Report EVSE ``evse``'s connector again, as after its restart (an EVSE reset)."""
        state = self._reports.states[evse]
        state.reported = state.acked = None
        self._reports.maybe_pending = True

    def tick(self, now: float) -> None:
        ctx = self.ctx
        self._note_link(now)
        connectors = ctx.connectors
        station_io = connectors[0]
        station_error = read_errors(station_io) if station_io.errors else None
        station_faulted = station_error is not None and station_error.faulted
        running = getattr(self.sessions, "transaction_running", None)
        any_running = False
        for evse in range(1, len(self._reports.states)):
            io = connectors[evse]
            error = read_errors(io) if io.errors else None
            transaction = running is not None and bool(running(evse))
            any_running = any_running or transaction
            if station_faulted or (error is not None and error.faulted):
                status = FAULTED
            else:
                status = self._connector_status(evse, io, transaction)
            state = self._reports.states[evse]
            if state.change(status, None, now):
                self._reports.maybe_pending = True
                if ctx.watched:
                    ctx.emit(StatusChanged(evse, status, NO_ERROR))
        station = AVAILABLE if self.availability.operative_station() or any_running else UNAVAILABLE
        if station != self._station:
            self._station = station
            if ctx.watched:
                ctx.emit(StatusChanged(0, station, NO_ERROR))

    def unreserved_status(self, evse: int) -> str:
        """EVSE ``evse``'s status were it not reserved, read from the inputs: what the
        reservation block weighs (it asks while the status is being derived)."""
        connectors = self.ctx.connectors
        for io in (connectors[0], connectors[evse]):
            error = read_errors(io) if io.errors else None
            if error is not None and error.faulted:
                return FAULTED
        running = getattr(self.sessions, "transaction_running", None)
        transaction = running is not None and bool(running(evse))
        return self._connector_status(evse, connectors[evse], transaction, reservations=False)

    def _connector_status(
        self, evse: int, io: ConnectorIO, transaction: bool, *, reservations: bool = True
    ) -> str:
        """An EVSE's status short of Faulted. Reserved comes before Occupied: a reserved
        connector stays Reserved when an EV plugs in, until its holder presents (G03.FR.09)."""
        if not transaction and not self.availability.operative_evse(evse):
            return UNAVAILABLE
        if reservations and self.reservations.reserved(evse):
            return RESERVED
        if (io.plugged is not None and io.read("plugged")) or (
            io.occupied is not None and io.read("occupied")
        ):
            return OCCUPIED
        return AVAILABLE

    def disconnected(self, now: float) -> None:
        """The connection was lost (the offline period starts)."""
        if self._offline_since is None:
            self._offline_since = now

    def _note_link(self, now: float) -> None:
        """B04: after an outage beyond OfflineThreshold, report every connector again."""
        if not self.ctx.connected:
            return
        since, self._offline_since = self._offline_since, None
        if since is None:
            return
        if now - since > self.ctx.config.integer(OFFLINE_THRESHOLD):
            for state in self._reports.states:
                state.reported = state.acked = None
            self._reports.maybe_pending = True

    # ------------------------------------------------------------------ reporting

    def unit_of(self, request: Request) -> int:
        return cast("int", request.payload["evseId"])  # set by status_request

    def status_request(self, evse: int) -> Request:
        state = self._reports.states[evse]
        status = state.status
        assert status is not None  # derived by the tick before any report
        sent = state.reported = (status, None)
        payload: JsonObject = {
            "timestamp": format_datetime(self.ctx.clock.wall(state.since)),
            "connectorStatus": status,
            "evseId": evse,
            "connectorId": CONNECTOR_ID,
        }

        def confirmed(response: JsonObject, now: float) -> None:
            state.acked = sent

        return Request("StatusNotification", payload, confirmed)

    @trigger("StatusNotification")
    def send_triggered(self, evse: int | None, now: float) -> str:
        """TriggerMessage(StatusNotification): one EVSE's connector, or every one (F06)."""
        count = len(self._reports.states)
        targets: Sequence[int]
        if evse is None:
            targets = range(1, count)
        elif 1 <= evse < count:
            targets = (evse,)
        else:
            return "Rejected"
        self.tick(now)
        for target in targets:
            self.ctx.triggered.push(self.status_request(target), now)
        return "Accepted"
