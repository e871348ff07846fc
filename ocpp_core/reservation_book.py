"""The reservations a station holds, whatever the version: what both reservation blocks share.

A ReserveNow names a reservation id; the same id again replaces the reservation, provided the
new target could take it (else the old one stays). Reservations end when used, when their
expiry date passes, when the CSMS cancels them, or when what they reserve becomes Faulted or
Unavailable; each change is logged and raised as a ReservationChanged event. They are kept in
the Store document ``reservations`` before the answer leaves, so a reboot keeps them (an
unreadable document is logged and ignored; a record naming a connector/EVSE the station no
longer has is dropped). Each version says how its records look (``record`` / ``parse``); the
field checks they have in common are ``checked``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_core.clock import parse_datetime
from ocpp_core.events import ReservationChanged
from ocpp_core.log import logger
from ocpp_core.sessions import ReservationInfo, ReservationView

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject

__all__ = [
    "CANCELLED",
    "DOCUMENT",
    "EXPIRED",
    "MADE",
    "REPLACED",
    "TERMINATED",
    "USED",
    "BookedReservations",
    "ReservationBook",
    "checked",
    "refusal",
]

DOCUMENT = "reservations"

# Why a reservation ended (ReservationChanged.change); "made" and "replaced" begin one.
MADE, REPLACED, USED, EXPIRED, CANCELLED, TERMINATED = (
    "made",
    "replaced",
    "used",
    "expired",
    "cancelled",
    "terminated",
)
# Statuses that end the reservations of what shows them, and ReserveNow's answer for them.
FAULTED, UNAVAILABLE, OCCUPIED = "Faulted", "Unavailable", "Occupied"
ENDING = frozenset({FAULTED, UNAVAILABLE})


def refusal(statuses: Iterable[str]) -> str:
    """ReserveNow's answer when no connector/EVSE is free for a reservation of any: Faulted if
    every one is, Unavailable if every one is Faulted or Unavailable, else Occupied."""
    statuses = list(statuses)
    if all(s == FAULTED for s in statuses):
        return FAULTED
    if all(s in ENDING for s in statuses):
        return UNAVAILABLE
    return OCCUPIED


def checked(
    reservation_id: object,
    connector: object,
    id_tag: object,
    parent_id_tag: object,
    expiry_date: object,
    **extra: Any,
) -> ReservationInfo:
    """A ReservationInfo from fields of a stored record or a ReserveNow (ValueError if one is
    not what a reservation holds: ids are integers, connector 0 means any)."""
    if not (
        type(reservation_id) is int
        and type(connector) is int
        and connector >= 0
        and isinstance(id_tag, str)
        and (parent_id_tag is None or isinstance(parent_id_tag, str))
        and isinstance(expiry_date, str)
    ):
        raise ValueError("bad fields")
    return ReservationInfo(
        reservation_id,
        connector,
        id_tag,
        parent_id_tag,
        expiry_date,
        parse_datetime(expiry_date),
        **extra,
    )


class ReservationBook:
    """The reservations held, in the order they were made, and their document."""

    __slots__ = ("_ctx", "_record", "held")

    def __init__(
        self,
        ctx: BlockContext,
        *,
        record: Callable[[ReservationInfo], JsonObject],
        parse: Callable[[object], ReservationInfo],
    ) -> None:
        self._ctx = ctx
        self._record = record  # the stored form of a reservation
        self.held: list[ReservationInfo] = self._load(parse)

    def _load(self, parse: Callable[[object], ReservationInfo]) -> list[ReservationInfo]:
        stored = self._ctx.store.load(DOCUMENT)
        if stored is None:
            return []
        count = len(self._ctx.connectors)
        try:
            if not isinstance(stored, list):
                raise ValueError("not a list")
            reservations = [parse(record) for record in stored]
        except ValueError:
            logger().error("stored reservations are unreadable; starting without any")
            return []
        return [r for r in reservations if r.connector < count]

    def find(self, reservation_id: int) -> ReservationInfo | None:
        return next((r for r in self.held if r.reservation_id == reservation_id), None)

    def reserve(self, reservation: ReservationInfo, admission: Callable[[], str]) -> str:
        """Hold ``reservation`` if ``admission()`` (asked without the reservation it would
        replace) says "Accepted"; returns that status."""
        previous = self.find(reservation.reservation_id)
        if previous is not None:
            self.held.remove(previous)
        status = admission()
        if status != "Accepted":
            if previous is not None:
                self.held.append(previous)
            return status
        self.held.append(reservation)
        self._persist()
        self._changed(reservation, MADE if previous is None else REPLACED)
        return status

    def end(self, ended: Iterable[ReservationInfo], change: str) -> None:
        """Drop ``ended`` for the reason ``change``; stored before anything is told."""
        ended = list(ended)
        self.held = [r for r in self.held if r not in ended]
        self._persist()
        for reservation in ended:
            logger().info("reservation %d %s", reservation.reservation_id, change)
            self._changed(reservation, change)

    def expired(self, now: float) -> list[ReservationInfo]:
        """The reservations whose expiry date has come."""
        wall = self._ctx.clock.wall(now)
        return [r for r in self.held if r.expiry <= wall]

    def wakeup(self, now: float) -> float | None:
        """When the next reservation expires (None: none held)."""
        if not self.held:
            return None
        # Measured from wall(now) as ``expired`` compares: after a tick every expiry lies after it.
        wall = self._ctx.clock.wall(now)
        return now + max(0.0, min(r.expiry for r in self.held) - wall)

    def _persist(self) -> None:
        try:
            self._ctx.store.save(DOCUMENT, [self._record(r) for r in self.held])
        except Exception:
            logger().exception("reservations could not be stored")

    def _changed(self, reservation: ReservationInfo, change: str) -> None:
        ctx = self._ctx
        if ctx.watched:
            ctx.emit(ReservationChanged(reservation, change))


class BookedReservations(ReservationView):
    """What both versions' blocks derive from their book: the reservation a connector (EVSE)
    shows, whether it is Reserved, who may use it, which reservations its status ends.

    Reservations of a given connector hold it; those for any (connector 0) keep connectors
    free: when no more free ones are left than such reservations are held, the free ones show
    Reserved, so one always remains for each holder. A block says what is free (``_free``).
    """

    __slots__ = ()

    _book: ReservationBook

    def _free(self, presenting: int | None = None) -> list[int]:
        """Connectors that could take a session, not reserved by id (``presenting``: where an
        idToken is presented; its own session does not count)."""
        raise NotImplementedError

    def reservations(self) -> list[ReservationInfo]:
        """The reservations held now, in the order they were made."""
        return list(self._book.held)

    def reservation_on(self, connector: int) -> ReservationInfo | None:
        """The reservation that makes ``connector`` show Reserved (by id, else one for any)."""
        held = self._book.held
        for reservation in held:
            if reservation.connector == connector:
                return reservation
        if connector > 0 and self._kept_free(connector):
            return next((r for r in held if r.connector == 0), None)
        return None

    def reserved(self, connector: int) -> bool:
        held = self._book.held
        if not held or connector == 0:
            return False
        return any(r.connector == connector for r in held) or self._kept_free(connector)

    def _refuses(self, connector: int, admits: Callable[[ReservationInfo], bool]) -> bool:
        """Whether reservations forbid a session on ``connector`` to whom ``admits`` names."""
        held = self._book.held
        if not held:
            return False
        by_id = [r for r in held if r.connector == connector]
        if by_id:
            return not any(admits(r) for r in by_id)
        anywhere = [r for r in held if r.connector == 0]
        if not anywhere or any(admits(r) for r in anywhere):
            return False
        free = self._free(presenting=connector)
        return connector in free and len(free) <= len(anywhere)

    def _use(self, connector: int, admits: Callable[[ReservationInfo], bool]) -> int | None:
        """The holder's session on ``connector`` uses its reservation (by id first, then one
        for any); its id, None if it holds none."""
        candidates = [r for r in self._book.held if admits(r)]
        for wanted in (connector, 0):
            for reservation in candidates:
                if reservation.connector == wanted:
                    self._book.end([reservation], USED)
                    return reservation.reservation_id
        return None

    def _kept_free(self, connector: int) -> bool:
        """Whether ``connector`` is held back for the reservations for any connector."""
        held = self._held_for_any()
        if not held:
            return False
        free = self._free()
        return connector in free and len(free) <= held

    def _held_for_any(self) -> int:
        return sum(1 for r in self._book.held if r.connector == 0)

    def _ending(self, status_of: Callable[[int, float], str], now: float) -> list[ReservationInfo]:
        """The reservations whose connector (or the station, for all) is Faulted/Unavailable."""
        station = status_of(0, now)
        return [
            r
            for r in self._book.held
            if station in ENDING or (r.connector > 0 and status_of(r.connector, now) in ENDING)
        ]
