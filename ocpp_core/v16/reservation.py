"""Reservations (OCPP 1.6 §3.11, §5.1 CancelReservation, §5.13 ReserveNow, §9.3).

ReserveNow for a reservationId already held replaces that reservation (Accepted), provided the
new target could take it; otherwise the old one stays and the status says why. For a new
reservationId on connector n: an unknown connector -> PropertyConstraintViolation; Faulted ->
Faulted; Unavailable -> Unavailable; any other status but Available (Preparing, Charging, ...,
Reserved: a reservation for the same or another idTag, or one kept for a connector-0
reservation) -> Occupied; else Accepted. An expiryDate that has passed already is Rejected.
Connector 0 is Rejected unless ReserveConnectorZeroSupported (read-only, true by default; a
station may preset it false); it is Accepted while more connectors are free and without a
cable than connector-0 reservations are held, else Faulted (every connector Faulted),
Unavailable (every connector Faulted or Unavailable) or Occupied.

A connector reserved by id shows Reserved (while nobody prepares a session on it), even with
a cable in. Connector-0 reservations keep connectors free ("free": operative, not faulted, no
session, not reserved by id): when no more free connectors are left than connector-0
reservations held, the free ones show Reserved, so one always remains for each holder. A
reserved connector refuses every idTag but the holder's: the reservation's idTag or
parentIdTag matching the idTag or its parentIdTag (§5.13). When the parentIdTag of a presented
idTag is not known locally (local list, cache) it is learnt with the Authorize, and a session
whose parent then does not match is cancelled (SessionCancelled "ReservationConflict", also
raised for a card refused at once).

A reservation ends when (1) a transaction of its holder starts on its connector (any connector
for connector 0); the StartTransaction carries its reservationId; (2) its expiryDate passes;
(3) its connector (the station, for connector 0) becomes Faulted or Unavailable; (4)
CancelReservation names it (Accepted; an unknown id -> Rejected). The status change is reported
with StatusNotification. Reservations persist in the Store document ``reservations``: a reboot
keeps them (an unreadable document is logged and ignored).

ReserveNow.conf carries no idTagInfo, so §5.13's cache update has nothing to learn from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, CallRefused, on
from ocpp_core.config import KeyDeclarer, R
from ocpp_core.reservation_book import (
    CANCELLED,
    DOCUMENT,
    ENDING,
    EXPIRED,
    TERMINATED,
    BookedReservations,
    ReservationBook,
    checked,
    refusal,
)
from ocpp_core.sessions import ReservationInfo
from ocpp_core.v16.authorization import same_tag
from ocpp_core.v16.status import AVAILABLE

if TYPE_CHECKING:
    from ocpp_core.connector import ConnectorIO
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.v16.payloads import (
        CancelReservationRequest,
        CancelReservationResponse,
        ReserveNowRequest,
        ReserveNowResponse,
        ReserveNowResponseStatus,
    )
    from ocpp_core.v16.status import StatusBlock

__all__ = ["DOCUMENT", "ReservationBlock", "ReservationInfo"]

# ReserveNow's statuses, each mapped to itself (a lookup the type checker follows).
_RESERVE_STATUSES: dict[str, ReserveNowResponseStatus] = {
    status: status for status in ("Accepted", "Faulted", "Occupied", "Rejected", "Unavailable")
}

_keys = KeyDeclarer(__name__)
_keys.boolean("ReserveConnectorZeroSupported", True, access=R)


def _record(reservation: ReservationInfo) -> JsonObject:
    """The stored form of a reservation: ReserveNow's fields."""
    record: JsonObject = {
        "reservationId": reservation.reservation_id,
        "connectorId": reservation.connector,
        "idTag": reservation.id_tag,
        "expiryDate": reservation.expiry_date,
    }
    if reservation.parent_id_tag is not None:
        record["parentIdTag"] = reservation.parent_id_tag
    return record


def _admits(reservation: ReservationInfo, id_tag: str, parent_id_tag: str | None) -> bool:
    """Whether the holder presents: idTag or parentIdTag matches either of ours (§5.13)."""
    ours = (reservation.id_tag, reservation.parent_id_tag)
    return any(same_tag(theirs, mine) for theirs in (id_tag, parent_id_tag) for mine in ours)


def _reservation(record: object) -> ReservationInfo:
    """A ReservationInfo from a stored record or a ReserveNow payload (ValueError if not one)."""
    if not isinstance(record, dict):
        raise ValueError("not an object")
    return checked(
        record.get("reservationId"),
        record.get("connectorId"),
        record.get("idTag"),
        record.get("parentIdTag"),
        record.get("expiryDate"),
    )


class ReservationBlock(Block, BookedReservations):
    """ReserveNow / CancelReservation and the reservations they hold; the ReservationView."""

    __slots__ = ("_book", "status")

    keys = tuple(_keys.keys)

    def __init__(self, ctx: BlockContext, *, status: StatusBlock) -> None:
        super().__init__(ctx)
        self.status = status  # what connectors show, whether they could take a session
        self._book = ReservationBook(ctx, record=_record, parse=_reservation)

    # ------------------------------------------------------------------ ReservationView

    def blocks(self, connector: int, id_tag: str, parent_id_tag: str | None) -> bool:
        return self._refuses(connector, lambda r: _admits(r, id_tag, parent_id_tag))

    def needs_parent(self, connector: int) -> bool:
        return any(
            r.parent_id_tag is not None and r.connector in (0, connector) for r in self._book.held
        )

    def claim(
        self, connector: int, id_tag: str, parent_id_tag: str | None, now: float
    ) -> int | None:
        return self._use(connector, lambda r: _admits(r, id_tag, parent_id_tag))

    def _free(self, presenting: int | None = None) -> list[int]:
        """Connectors that could take a session and are not reserved by id: what connector-0
        reservations draw on (the session on ``presenting`` does not count)."""
        status = self.status
        by_id = {r.connector for r in self._book.held}
        return [
            c
            for c in range(1, len(self.ctx.connectors))
            if c not in by_id and status.usable(c, ignore_session=c == presenting)
        ]

    # ------------------------------------------------------------------ timing

    def tick(self, now: float) -> None:
        book = self._book
        if not book.held:
            return
        expired = book.expired(now)
        if expired:
            book.end(expired, EXPIRED)
        if not book.held:
            return
        ended = self._ending(self.status.status_of, now)
        if ended:
            book.end(ended, TERMINATED)

    def timer(self, now: float) -> float | None:
        return self._book.wakeup(now)

    # ------------------------------------------------------------------ the CSMS's operations

    @on("ReserveNow")
    def reserve_now(self, payload: ReserveNowRequest, now: float) -> ReserveNowResponse:
        connector = payload["connectorId"]
        if connector >= len(self.ctx.connectors):
            raise CallRefused(f"connectorId {connector} is not a connector", kind="property")
        try:
            reservation = _reservation(payload)
        except ValueError as exc:
            raise CallRefused(f"expiryDate: {exc}", kind="property") from None
        if connector == 0 and not self.ctx.config.boolean("ReserveConnectorZeroSupported"):
            return {"status": "Rejected"}
        if reservation.expiry <= self.ctx.clock.wall(now):
            return {"status": "Rejected"}  # it would end before it began
        status = self._book.reserve(reservation, lambda: self._admission(connector, now))
        return {"status": _RESERVE_STATUSES[status]}

    def _admission(self, connector: int, now: float) -> str:
        """ReserveNow's status for a new reservation of ``connector`` (§7.40)."""
        status = self.status
        station = status.status_of(0, now)
        if station in ENDING:
            return station
        if connector > 0:
            current = status.status_of(connector, now)
            if current in ENDING:
                return current
            return "Accepted" if current == AVAILABLE else "Occupied"
        unplugged = [c for c in self._free() if not _plugged(self.ctx.connectors[c])]
        if len(unplugged) > self._held_for_any():
            return "Accepted"
        return refusal(status.status_of(c, now) for c in range(1, len(self.ctx.connectors)))

    @on("CancelReservation")
    def cancel_reservation(
        self, payload: CancelReservationRequest, now: float
    ) -> CancelReservationResponse:
        found = self._book.find(payload["reservationId"])
        if found is None:
            return {"status": "Rejected"}
        self._book.end([found], CANCELLED)
        return {"status": "Accepted"}


def _plugged(io: ConnectorIO) -> bool:
    return io.read("plugged") is True
