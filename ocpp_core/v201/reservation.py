"""Reservations (OCPP 2.0.1 H01-H04): ReserveNow, CancelReservation, ReservationStatusUpdate.

**ReserveNow** (H01) reserves EVSE ``evseId`` for an idToken (and whoever shares its
groupIdToken), or, without evseId (or with 0), any EVSE (ReservationCtrlr.NonEvseSpecific, else
Rejected), optionally of a ``connectorType`` (every EVSE of the simulated station has one
connector of components.CONNECTOR_TYPE; another type is Rejected, so is an unknown evseId, an
expiry date already past and ReservationCtrlr.Enabled false). The same id again replaces that
reservation (H01.FR.01) if the new target could take it. A specific EVSE: Faulted -> Faulted,
Unavailable (itself or the station) -> Unavailable, Occupied or Reserved -> Occupied,
Available -> Accepted. Any EVSE: Accepted while more EVSEs would be Available (reservations
aside) and are not reserved by id than reservations for any EVSE are held (H01.FR.03/06), else
Faulted (every EVSE Faulted), Unavailable (every EVSE Faulted or Unavailable) or Occupied.

**Status** (H01.FR.20/23/24, G03.FR.09): an EVSE reserved by id shows Reserved, even when an EV
plugs in, until its holder's idToken is presented; when no more EVSEs are free than reservations
for any EVSE are held, the free ones show Reserved.

**Use** (H03): a reserved EVSE takes only the reservation's idToken or an idToken whose
groupIdToken (as the authorization decided it: local list, cache or Authorize, H03.FR.07/08) is
the reservation's. Presenting it consumes the reservation (H03.FR.09): the EVSE shows Available,
or Occupied with a cable (H03.FR.10), and the transaction's next TransactionEvent carries
``reservationId`` (H03.FR.04). The transaction block asks through ``refuses`` / ``consume``.

**End** (H02, H04): CancelReservation of a held id -> Accepted, else Rejected; an expiry date
that passes -> ReservationStatusUpdate Expired; an EVSE (or the station) that becomes Faulted or
Unavailable -> the reservations on it end with ReservationStatusUpdate Removed (a decision: the
reservation could not be honoured). Everything held is persisted (ocpp_core.reservation_book).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, on
from ocpp_core.outbox import Request
from ocpp_core.reservation_book import (
    CANCELLED,
    ENDING,
    EXPIRED,
    TERMINATED,
    BookedReservations,
    ReservationBook,
    checked,
    refusal,
)
from ocpp_core.v201.components import CONNECTOR_TYPE
from ocpp_core.v201.id_tokens import same_id_token
from ocpp_core.v201.status import AVAILABLE, OCCUPIED, UNAVAILABLE
from ocpp_core.v201.tx_views import Reservations
from ocpp_core.v201.variables import VariableDeclarer

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.sessions import ReservationInfo
    from ocpp_core.v201.payloads import (
        CancelReservationRequest,
        CancelReservationResponse,
        ReserveNowRequest,
        ReserveNowResponse,
        ReserveNowStatusEnumType,
    )
    from ocpp_core.v201.status import StatusBlock

__all__ = ["ReservationBlock"]

ENABLED = "ReservationCtrlr.Enabled"  # declared with Available in components.py
NON_EVSE_SPECIFIC = "ReservationCtrlr.NonEvseSpecific"

_vars = VariableDeclarer(__name__, "ReservationCtrlr")
_vars.boolean("NonEvseSpecific", True)

# ReserveNowStatusEnumType, each mapped to itself (a lookup the type checker follows).
_STATUSES: dict[str, ReserveNowStatusEnumType] = {
    status: status for status in ("Accepted", "Faulted", "Occupied", "Rejected", "Unavailable")
}


def _token(value: str, token_type: str | None) -> JsonObject:
    return {"idToken": value, "type": token_type or ""}


def _record(reservation: ReservationInfo) -> JsonObject:
    """The stored form: ReserveNow's fields (no evseId: any EVSE)."""
    record: JsonObject = {
        "id": reservation.reservation_id,
        "expiryDateTime": reservation.expiry_date,
        "idToken": _token(reservation.id_tag, reservation.id_token_type),
    }
    if reservation.connector:
        record["evseId"] = reservation.connector
    if reservation.parent_id_tag is not None:
        record["groupIdToken"] = _token(reservation.parent_id_tag, reservation.parent_id_token_type)
    if reservation.connector_type is not None:
        record["connectorType"] = reservation.connector_type
    return record


def _token_fields(token: object) -> tuple[object, object]:
    """An IdTokenType's value and type (ValueError if it is not one)."""
    if not isinstance(token, dict) or not isinstance(token.get("type"), str):
        raise ValueError("not an idToken")
    return token.get("idToken"), token["type"]


def _reservation(record: object) -> ReservationInfo:
    """A ReservationInfo from a stored record or a ReserveNow payload (ValueError if not one)."""
    if not isinstance(record, dict):
        raise ValueError("not an object")
    id_tag, id_type = _token_fields(record.get("idToken"))
    group = record.get("groupIdToken")
    parent, parent_type = (None, None) if group is None else _token_fields(group)
    connector_type = record.get("connectorType")
    if connector_type is not None and not isinstance(connector_type, str):
        raise ValueError("bad connectorType")
    return checked(
        record.get("id"),
        record.get("evseId", 0),
        id_tag,
        parent,
        record.get("expiryDateTime"),
        id_token_type=id_type,
        parent_id_token_type=parent_type,
        connector_type=connector_type,
    )


def _admits(reservation: ReservationInfo, id_token: JsonObject, group: JsonObject | None) -> bool:
    """Whether the reservation's holder presents: its idToken, or one of its group (H03)."""
    if same_id_token(id_token, _token(reservation.id_tag, reservation.id_token_type)):
        return True
    parent = reservation.parent_id_tag
    return parent is not None and same_id_token(
        group, _token(parent, reservation.parent_id_token_type)
    )


class ReservationBlock(Block, BookedReservations, Reservations):
    """ReserveNow / CancelReservation, the reservations held and what they mean for EVSEs."""

    __slots__ = ("_book", "status")

    keys = tuple(_vars.keys)
    sends = ("ReservationStatusUpdate",)

    def __init__(self, ctx: BlockContext, *, status: StatusBlock) -> None:
        super().__init__(ctx)
        self.status = status
        self._book = ReservationBook(ctx, record=_record, parse=_reservation)

    # -------------------------------------------------------------- the transaction block's view

    def refuses(self, evse: int, id_token: JsonObject, group_id_token: JsonObject | None) -> bool:
        """Reservations forbid ``id_token`` (of that group) a transaction on ``evse`` (H03)."""
        return self._refuses(evse, lambda r: _admits(r, id_token, group_id_token))

    def consume(
        self, evse: int, id_token: JsonObject, group_id_token: JsonObject | None, now: float
    ) -> int | None:
        """The holder presented on ``evse``: its reservation is used (H03.FR.09); its id."""
        return self._use(evse, lambda r: _admits(r, id_token, group_id_token))

    def _free(self, presenting: int | None = None) -> list[int]:
        """EVSEs that would be Available (reservations aside) and are not reserved by id: what
        reservations for any EVSE draw on. ``presenting``: the EVSE where an idToken is
        presented counts if it is usable (its own session or cable aside)."""
        by_id = {r.connector for r in self._book.held}
        unreserved = self.status.unreserved_status
        free = []
        for evse in range(1, len(self.ctx.connectors)):
            if evse in by_id:
                continue
            status = unreserved(evse)
            if status == AVAILABLE or (evse == presenting and status == OCCUPIED):
                free.append(evse)
        return free

    # ------------------------------------------------------------------ timing

    def tick(self, now: float) -> None:
        book = self._book
        if not book.held:
            return
        expired = book.expired(now)
        if expired:
            self._end(expired, EXPIRED, "Expired", now)
        if not book.held:
            return
        removed = self._ending(self.status.status_of, now)
        if removed:
            self._end(removed, TERMINATED, "Removed", now)

    def timer(self, now: float) -> float | None:
        return self._book.wakeup(now)

    def _end(self, ended: Iterable[ReservationInfo], change: str, update: str, now: float) -> None:
        """End reservations that were not used and tell the CSMS (H04)."""
        ended = list(ended)
        self._book.end(ended, change)
        for reservation in ended:
            payload = {
                "reservationId": reservation.reservation_id,
                "reservationUpdateStatus": update,
            }
            self.ctx.queue.push(Request("ReservationStatusUpdate", payload), now)

    # ------------------------------------------------------------------ the CSMS's operations

    @on("ReserveNow")
    def reserve_now(self, payload: ReserveNowRequest, now: float) -> ReserveNowResponse:
        config = self.ctx.config
        try:
            reservation = _reservation(payload)
        except ValueError:
            return _refused("InvalidValue")  # e.g. an expiryDateTime that is no date
        evse = reservation.connector
        if not config.boolean(ENABLED):
            return _refused("Disabled")
        if evse >= len(self.ctx.connectors):
            return _refused("UnknownEvse")
        if reservation.connector_type not in (None, CONNECTOR_TYPE):
            return _refused("UnknownConnectorType")
        if evse == 0 and not config.boolean(NON_EVSE_SPECIFIC):
            return _refused("NoEvseSpecified")
        if reservation.expiry <= self.ctx.clock.wall(now):
            return _refused("Expired")  # it would end before it began
        status = self._book.reserve(reservation, lambda: self._admission(evse, now))
        return {"status": _STATUSES[status]}

    def _admission(self, evse: int, now: float) -> str:
        """ReserveNow's status for a new reservation of ``evse`` (0: any EVSE)."""
        status = self.status
        if status.status_of(0, now) == UNAVAILABLE:
            return UNAVAILABLE
        if evse > 0:
            current = status.status_of(evse, now)
            if current in ENDING:
                return current
            return "Accepted" if current == AVAILABLE else OCCUPIED
        if len(self._free()) > self._held_for_any():
            return "Accepted"
        return refusal(status.status_of(e, now) for e in range(1, len(self.ctx.connectors)))

    @on("CancelReservation")
    def cancel_reservation(
        self, payload: CancelReservationRequest, now: float
    ) -> CancelReservationResponse:
        """H02: a held reservation ends (Accepted; the EVSE shows Available again)."""
        found = self._book.find(payload["reservationId"])
        if found is None:
            return {"status": "Rejected"}
        self._book.end([found], CANCELLED)
        return {"status": "Accepted"}


def _refused(reason: str) -> ReserveNowResponse:
    return {"status": "Rejected", "statusInfo": {"reasonCode": reason}}
