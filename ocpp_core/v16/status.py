"""Connector status (OCPP 1.6 §4.9, §7.6, §7.7) and StatusNotification.

The status of every connector is derived on each poll from the hardware inputs, the availability
flags and the transaction/reservation views (MicroOcpp §4.7):

* connector 0: Faulted (a faulted error on connector 0) > Unavailable (inoperative and no
  transaction running anywhere) > Available;
* connector n: Faulted > Unavailable (inoperative, unless a transaction runs) > with a running
  transaction: SuspendedEV when unplugged (the transaction continues), SuspendedEVSE when OCPP
  does not permit charging, the EVSE offers no energy or smart charging limits it to 0 (a 0 A
  limit or one below minChargingRate, §7.7; it takes precedence over SuspendedEV),
  SuspendedEV when the EV asks for none, else Charging > Reserved > Available when nothing
  occupies it (no plug, no occupancy, no session being prepared) > Finishing after a transaction
  (or while the transaction view says so) > Preparing.

Inputs are sampled through ``ConnectorIO.read``/``sample``: a boolean input counts by its truth
value, one that raises counts as not fitted (logged once) until it works again. Errors come from
the connector's error inputs: the first faulted one wins, else the first warning; an error input
that raises or returns something other than a str, an ErrorRecord or None is logged once and
reports no error until it works again.
A warning (ErrorRecord.faulted False, or EVCommunicationError, which §7.6 says "should go to the
SuspendedEVSE state" rather than Faulted) is reported in errorCode while the status stays; a
charging connector with EVCommunicationError is SuspendedEVSE, and the code is reported only
with the statuses §4.9 allows it (Preparing, SuspendedEV, SuspendedEVSE, Finishing).

Reporting: a StatusNotification is due when (status, error) differs from the last one sent and
has been stable for MinimumStatusDuration seconds; it carries the time of the transition. The
block is a request source, so changes made while offline coalesce into the current status once
the connection is back (§4.9 rules 1-3). After the BootNotification is Accepted every connector
0..N is reported (errata 3.22). A notification that the CSMS refuses or does not answer counts as
sent (so a CSMS that rejects it is not flooded); one lost to a disconnect is sent again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ocpp_core.block import Block, trigger
from ocpp_core.clock import format_datetime
from ocpp_core.config import KeyDeclarer, R
from ocpp_core.events import StatusChanged
from ocpp_core.outbox import Request
from ocpp_core.sessions import NO_RESERVATIONS, NO_SESSIONS
from ocpp_core.status_reports import (
    EV_COMMUNICATION_ERROR,
    NO_ERROR,
    Reports,
    StatusReporter,
    read_errors,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ocpp_core.connector import ConnectorIO, ErrorRecord
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.sessions import ReservationView, SessionView, SmartChargingView
    from ocpp_core.v16.availability import AvailabilityBlock

__all__ = [
    "AVAILABLE",
    "CHARGING",
    "FAULTED",
    "FINISHING",
    "PREPARING",
    "RESERVED",
    "SUSPENDED_EV",
    "SUSPENDED_EVSE",
    "UNAVAILABLE",
    "StatusBlock",
]

AVAILABLE = "Available"
PREPARING = "Preparing"
CHARGING = "Charging"
SUSPENDED_EVSE = "SuspendedEVSE"
SUSPENDED_EV = "SuspendedEV"
FINISHING = "Finishing"
RESERVED = "Reserved"
UNAVAILABLE = "Unavailable"
FAULTED = "Faulted"

_AFTER_TRANSACTION = frozenset({CHARGING, SUSPENDED_EV, SUSPENDED_EVSE, FINISHING})
_EV_COMMUNICATION_STATUSES = frozenset({PREPARING, SUSPENDED_EV, SUSPENDED_EVSE, FINISHING})

_keys = KeyDeclarer(__name__)
_keys.integer("MinimumStatusDuration", 0)
_keys.integer("NumberOfConnectors", 0, access=R, compute=lambda ctx: len(ctx.connectors) - 1)


class StatusBlock(Block, StatusReporter):
    """Derives connector statuses and reports them with StatusNotification."""

    __slots__ = (
        "_reports",
        "availability",
        "reservations",
        "sessions",
        "smart_charging",
    )

    keys = tuple(_keys.keys)
    sends = ("StatusNotification",)

    def __init__(
        self,
        ctx: BlockContext,
        *,
        availability: AvailabilityBlock,
        smart_charging: SmartChargingView,
    ) -> None:
        super().__init__(ctx)
        self.availability = availability
        self.smart_charging = smart_charging  # a limit of 0 suspends the EVSE
        # Set by the wiring once built (both read this block): the transaction and reservation
        # blocks.
        self.sessions: SessionView = NO_SESSIONS
        self.reservations: ReservationView = NO_RESERVATIONS
        self._reports = Reports(len(ctx.connectors))

    # ------------------------------------------------------------------ derivation

    def status_of(self, connector: int, now: float) -> str:
        """The current status of a connector."""
        self.tick(now)
        status = self._reports.states[connector].status
        assert status is not None  # the tick derived it
        return status

    def tick(self, now: float) -> None:
        ctx = self.ctx
        connectors = ctx.connectors
        operative = self.availability.operative
        sessions, reservations, smart = self.sessions, self.reservations, self.smart_charging
        for connector, state in enumerate(self._reports.states):
            io = connectors[connector]
            error = read_errors(io) if io.errors else None
            if error is not None and error.faulted:
                status = FAULTED
            elif connector == 0:
                status = self._charge_point_status(operative[0], sessions)
            else:
                status = _connector_status(
                    connector,
                    io,
                    operative[connector],
                    state.status,
                    sessions,
                    reservations,
                    smart,
                    now,
                )
            if error is not None and error.code == EV_COMMUNICATION_ERROR:
                if status == CHARGING:
                    status = SUSPENDED_EVSE
                elif status not in _EV_COMMUNICATION_STATUSES:
                    error = None
            if state.change(status, error, now):
                self._reports.maybe_pending = True
                if ctx.watched:
                    code = NO_ERROR if error is None else error.code
                    ctx.emit(StatusChanged(connector, status, code))

    def usable(self, connector: int, *, ignore_session: bool = False) -> bool:
        """Connector 1..N could take a session: operative, not faulted, none on it (unless
        ``ignore_session``). A cable does not matter.

        Read from the inputs, not from the derived status, so the reservation block can ask
        while the status is being derived.
        """
        ctx = self.ctx
        io = ctx.connectors[connector]
        if not self.availability.operative[connector]:
            return False
        if not ignore_session and self.sessions.current(connector) is not None:
            return False
        error = read_errors(io) if io.errors else None
        return error is None or not error.faulted

    def _charge_point_status(self, operative: bool, sessions: SessionView) -> str:
        """Connector 0: a whole-station change waits for every transaction (Scheduled)."""
        if operative:
            return AVAILABLE
        running = sessions.transaction_running
        if any(running(c) for c in range(1, len(self._reports.states))):
            return AVAILABLE
        return UNAVAILABLE

    # ------------------------------------------------------------------ reporting

    def minimum_duration(self) -> float:
        return self.ctx.config.integer("MinimumStatusDuration")

    def unit_of(self, request: Request) -> int:
        return cast("int", request.payload["connectorId"])  # set by status_request

    def status_request(self, connector: int) -> Request:
        state = self._reports.states[connector]
        status = state.status
        assert status is not None  # derived by the tick before any report
        sent = state.reported = (status, state.error)
        error = state.error
        payload: JsonObject = {
            "connectorId": connector,
            "errorCode": NO_ERROR if error is None else error.code,
            "status": status,
        }
        clock = self.ctx.clock
        if clock.is_synced:
            payload["timestamp"] = format_datetime(clock.wall(state.since))
        if error is not None:
            if error.info:
                payload["info"] = error.info[:50]
            if error.vendor_id:
                payload["vendorId"] = error.vendor_id[:255]
            if error.vendor_error_code:
                payload["vendorErrorCode"] = error.vendor_error_code[:50]

        def confirmed(response: JsonObject, now: float) -> None:
            state.acked = sent

        return Request("StatusNotification", payload, confirmed)

    @trigger("StatusNotification")
    def send_triggered(self, connector_id: int | None, now: float) -> str:
        """TriggerMessage(StatusNotification): current status of one connector, or of all."""
        count = len(self._reports.states)
        targets: Sequence[int]
        if connector_id is None:
            targets = range(count)
        elif 0 <= connector_id < count:
            targets = (connector_id,)
        else:
            return "Rejected"
        self.tick(now)
        for connector in targets:
            self.ctx.triggered.push(self.status_request(connector), now)
        return "Accepted"

    def notify(self, connector: int, error: ErrorRecord, now: float) -> None:
        """Report a one-off error (e.g. ResetFailure) with the connector's current status."""
        self.tick(now)
        state = self._reports.states[connector]
        payload = {"connectorId": connector, "errorCode": error.code, "status": state.status}
        clock = self.ctx.clock
        if clock.is_synced:
            payload["timestamp"] = format_datetime(clock.wall(now))
        if error.info:
            payload["info"] = error.info[:50]
        self.ctx.queue.push(Request("StatusNotification", payload), now)


def _connector_status(
    connector: int,
    io: ConnectorIO,
    operative: bool,
    previous: str | None,
    sessions: SessionView,
    reservations: ReservationView,
    smart: SmartChargingView,
    now: float,
) -> str:
    """Status of connector 1..N short of Faulted."""
    running = sessions.transaction_running(connector)
    if not running and not operative:
        return UNAVAILABLE
    # None: not fitted (or failing), never a reason to suspend. The attribute tests spare the
    # idle poll a call for an input that is not fitted.
    plugged = None if io.plugged is None else io.read("plugged")
    if running:
        if plugged is False:
            return SUSPENDED_EV
        if (
            not sessions.permits_charge(connector)
            or io.read("evse_ready") is False
            or not smart.offers_energy(connector, now)
        ):
            return SUSPENDED_EVSE
        if io.read("ev_ready") is False:
            return SUSPENDED_EV
        return CHARGING
    preparing = sessions.preparing(connector)
    if not preparing and reservations.reserved(connector):
        return RESERVED
    if not (plugged or (io.occupied is not None and io.read("occupied")) or preparing):
        return AVAILABLE
    if previous in _AFTER_TRANSACTION or sessions.finishing(connector):
        return FINISHING
    return PREPARING
