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
from ocpp_core.clock import parse_datetime
from ocpp_core.config import KeyDeclarer, R
from ocpp_core.events import ReservationChanged
from ocpp_core.log import logger
from ocpp_core.sessions import ReservationInfo, ReservationView
from ocpp_core.v16.authorization import same_tag
from ocpp_core.v16.status import AVAILABLE, FAULTED, UNAVAILABLE

if TYPE_CHECKING:
    from collections.abc import Iterable

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

DOCUMENT = "reservations"

_keys = KeyDeclarer(__name__)
_keys.boolean("ReserveConnectorZeroSupported", True, access=R)

# Why a reservation ended (ReservationChanged.change); "made" and "replaced" begin one.
MADE, REPLACED, USED, EXPIRED, CANCELLED, TERMINATED = (
    "made",
    "replaced",
    "used",
    "expired",
    "cancelled",
    "terminated",
)
_ENDING_STATUSES = frozenset({FAULTED, UNAVAILABLE})


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
    reservation_id, connector = record.get("reservationId"), record.get("connectorId")
    id_tag, parent = record.get("idTag"), record.get("parentIdTag")
    expiry_date = record.get("expiryDate")
    if not (
        type(reservation_id) is int
        and type(connector) is int
        and connector >= 0
        and isinstance(id_tag, str)
        and (parent is None or isinstance(parent, str))
        and isinstance(expiry_date, str)
    ):
        raise ValueError("bad fields")
    return ReservationInfo(
        reservation_id, connector, id_tag, parent, expiry_date, parse_datetime(expiry_date)
    )


class ReservationBlock(Block, ReservationView):
    """ReserveNow / CancelReservation and the reservations they hold; the ReservationView."""

    __slots__ = ("_reservations", "status")

    keys = tuple(_keys.keys)

    def __init__(self, ctx: BlockContext, *, status: StatusBlock) -> None:
        super().__init__(ctx)
        self.status = status  # what connectors show, whether they could take a session
        self._reservations: list[ReservationInfo] = self._load()

    def _load(self) -> list[ReservationInfo]:
        stored = self.ctx.store.load(DOCUMENT)
        if stored is None:
            return []
        count = len(self.ctx.connectors)
        try:
            if not isinstance(stored, list):
                raise ValueError("not a list")
            reservations = [_reservation(record) for record in stored]
        except ValueError:
            logger().error("stored reservations are unreadable; starting without any")
            return []
        return [r for r in reservations if r.connector < count]

    def _save(self) -> None:
        self.ctx.store.save(DOCUMENT, [_record(r) for r in self._reservations])

    def _changed(self, reservation: ReservationInfo, change: str) -> None:
        ctx = self.ctx
        if ctx.watched:
            ctx.emit(ReservationChanged(reservation, change))

    # ------------------------------------------------------------------ the application's view

    def reservations(self) -> list[ReservationInfo]:
        """The reservations held now, in the order they were made."""
        return list(self._reservations)

    def reservation_on(self, connector: int) -> ReservationInfo | None:
        """The reservation that makes ``connector`` show Reserved (by id, else connector 0)."""
        for reservation in self._reservations:
            if reservation.connector == connector:
                return reservation
        if connector > 0 and self._kept_free(connector):
            return next((r for r in self._reservations if r.connector == 0), None)
        return None

    # ------------------------------------------------------------------ ReservationView

    def reserved(self, connector: int) -> bool:
        if not self._reservations or connector == 0:
            return False
        return any(r.connector == connector for r in self._reservations) or self._kept_free(
            connector
        )

    def blocks(self, connector: int, id_tag: str, parent_id_tag: str | None) -> bool:
        if not self._reservations:
            return False
        by_id = [r for r in self._reservations if r.connector == connector]
        if by_id:
            return not any(_admits(r, id_tag, parent_id_tag) for r in by_id)
        zero = [r for r in self._reservations if r.connector == 0]
        if not zero or any(_admits(r, id_tag, parent_id_tag) for r in zero):
            return False
        free = self._free(ignoring=connector)
        return connector in free and len(free) <= len(zero)

    def needs_parent(self, connector: int) -> bool:
        return any(
            r.parent_id_tag is not None and r.connector in (0, connector)
            for r in self._reservations
        )

    def claim(
        self, connector: int, id_tag: str, parent_id_tag: str | None, now: float
    ) -> int | None:
        candidates = [r for r in self._reservations if _admits(r, id_tag, parent_id_tag)]
        for wanted in (connector, 0):  # by connector id first, then connector 0
            for reservation in candidates:
                if reservation.connector == wanted:
                    self._end([reservation], USED)
                    return reservation.reservation_id
        return None

    def _free(self, ignoring: int | None = None) -> list[int]:
        """Connectors that could take a session and are not reserved by id: what connector-0
        reservations draw on (the session on ``ignoring`` does not count)."""
        status = self.status
        by_id = {r.connector for r in self._reservations}
        return [
            c
            for c in range(1, len(self.ctx.connectors))
            if c not in by_id and status.usable(c, ignore_session=c == ignoring)
        ]

    def _kept_free(self, connector: int) -> bool:
        """Whether ``connector`` is held back for the connector-0 reservations."""
        held = sum(1 for r in self._reservations if r.connector == 0)
        if not held:
            return False
        free = self._free()
        return connector in free and len(free) <= held

    # ------------------------------------------------------------------ timing

    def tick(self, now: float) -> None:
        if not self._reservations:
            return
        wall = self.ctx.clock.wall(now)
        expired = [r for r in self._reservations if r.expiry <= wall]
        if expired:
            self._end(expired, EXPIRED)
        if not self._reservations:
            return
        status = self.status
        station = status.status_of(0, now)
        ended = [
            r
            for r in self._reservations
            if station in _ENDING_STATUSES
            or (r.connector > 0 and status.status_of(r.connector, now) in _ENDING_STATUSES)
        ]
        if ended:
            self._end(ended, TERMINATED)

    def timer(self, now: float) -> float | None:
        if not self._reservations:
            return None
        # Measured from wall(now) as tick compares: after a tick every expiry lies after it.
        wall = self.ctx.clock.wall(now)
        return now + max(0.0, min(r.expiry for r in self._reservations) - wall)

    def _end(self, ended: Iterable[ReservationInfo], change: str) -> None:
        ended = list(ended)
        self._reservations = [r for r in self._reservations if r not in ended]
        self._persist()
        for reservation in ended:
            logger().info("reservation %d %s", reservation.reservation_id, change)
            self._changed(reservation, change)

    def _persist(self) -> None:
        try:
            self._save()
        except Exception:
            logger().exception("reservations could not be stored")

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
        previous = next(
            (r for r in self._reservations if r.reservation_id == reservation.reservation_id), None
        )
        if previous is not None:
            self._reservations.remove(previous)
        status = self._admission(connector, now)
        if status != "Accepted":
            if previous is not None:
                self._reservations.append(previous)
            return {"status": _RESERVE_STATUSES[status]}
        self._reservations.append(reservation)
        self._persist()
        self._changed(reservation, MADE if previous is None else REPLACED)
        return {"status": "Accepted"}

    def _admission(self, connector: int, now: float) -> str:
        """ReserveNow's status for a new reservation of ``connector`` (§7.40)."""
        status = self.status
        station = status.status_of(0, now)
        if station in _ENDING_STATUSES:
            return station
        if connector > 0:
            current = status.status_of(connector, now)
            if current in _ENDING_STATUSES:
                return current
            return "Accepted" if current == AVAILABLE else "Occupied"
        held = sum(1 for r in self._reservations if r.connector == 0)
        unplugged = [c for c in self._free() if not _plugged(self.ctx.connectors[c])]
        if len(unplugged) > held:
            return "Accepted"
        statuses = [status.status_of(c, now) for c in range(1, len(self.ctx.connectors))]
        if all(s == FAULTED for s in statuses):
            return FAULTED
        if all(s in _ENDING_STATUSES for s in statuses):
            return UNAVAILABLE
        return "Occupied"

    @on("CancelReservation")
    def cancel_reservation(
        self, payload: CancelReservationRequest, now: float
    ) -> CancelReservationResponse:
        wanted = payload["reservationId"]
        found = [r for r in self._reservations if r.reservation_id == wanted]
        if not found:
            return {"status": "Rejected"}
        self._end(found, CANCELLED)
        return {"status": "Accepted"}


def _plugged(io: ConnectorIO) -> bool:
    return io.read("plugged") is True
