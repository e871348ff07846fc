"""ChangeAvailability (OCPP 2.0.1 G03, G04): operative / inoperative station, EVSEs, connectors.

Each place keeps its own flag — the station, every EVSE n, and its connector 1 — so an EVSE made
inoperative on its own stays so when the station becomes operative again; an EVSE is operative
when the station, the EVSE and its connector all are. The request addresses the station (no
``evse``, or EVSE id 0 without a connector), an EVSE, or a connector of it (only connectorId 1
exists): anything else is Rejected. Making a place inoperative while a transaction runs there
(anywhere, for the station) answers Scheduled: the flag is stored at once and the status becomes
Unavailable when the transaction ends, because a running transaction keeps its EVSE Occupied.
A place already in the requested state answers Accepted. The flags persist in the Store
document ``availability`` before the answer leaves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, on
from ocpp_core.log import logger
from ocpp_core.sessions import NO_SESSIONS

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.sessions import SessionView
    from ocpp_core.v201.payloads import ChangeAvailabilityRequest, ChangeAvailabilityResponse

__all__ = ["DOCUMENT", "AvailabilityBlock"]

DOCUMENT = "availability"


class AvailabilityBlock(Block):
    """Persistent operative flags of the station, its EVSEs and their connectors."""

    __slots__ = ("_connector", "_evse", "_held", "_station", "sessions")

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        count = len(ctx.connectors)  # index 0 unused: EVSEs are 1..N
        self._station = True
        self._evse = [True] * count
        self._connector = [True] * count
        self._held = False  # a firmware installation waits: every EVSE inoperative, not stored
        stored = ctx.store.load(DOCUMENT)
        if stored is not None and not self._restore(stored):
            logger().warning("stored availability is invalid; everything operative")
        self.sessions: SessionView = NO_SESSIONS  # set by the wiring: the transaction block

    def _restore(self, stored: object) -> bool:
        if not isinstance(stored, dict):
            return False
        station, evse = stored.get("station"), stored.get("evse")
        connector = stored.get("connector")
        if type(station) is not bool:
            return False
        for flags in (evse, connector):
            if not isinstance(flags, list) or not all(type(flag) is bool for flag in flags):
                return False
        assert isinstance(evse, list) and isinstance(connector, list)
        count = len(self._evse)
        self._station = station
        self._evse[: len(evse)] = evse[:count]
        self._connector[: len(connector)] = connector[:count]
        return True

    @property
    def operative(self) -> list[bool]:
        """The station (index 0) and each EVSE 1..N operative or not, as a file reports them."""
        evses = range(1, len(self._evse))
        return [self._station] + [self.operative_evse(n) for n in evses]

    def operative_station(self) -> bool:
        """The station as a whole is operative (its own flag)."""
        return self._station

    def operative_evse(self, evse: int) -> bool:
        """EVSE 1..N may be used: the station, the EVSE and its connector are operative."""
        return self._station and self._evse[evse] and self._connector[evse] and not self._held

    def hold(self, held: bool) -> None:
        """Make every EVSE inoperative while a firmware installation waits for the running
        transactions to end (L01.FR.07), or release them; not persisted: a reboot releases."""
        self._held = held

    @on("ChangeAvailability")
    def change_availability(
        self, payload: ChangeAvailabilityRequest, now: float
    ) -> ChangeAvailabilityResponse:
        operative = payload["operationalStatus"] == "Operative"
        evse = payload.get("evse")
        count = len(self._evse)
        if evse is None or (evse["id"] == 0 and "connectorId" not in evse):
            flags, index, busy = None, 0, range(1, count)
        else:
            evse_id, connector_id = evse["id"], evse.get("connectorId")
            if not 1 <= evse_id < count or connector_id not in (None, 1):
                return {"status": "Rejected"}
            flags = self._evse if connector_id is None else self._connector
            index, busy = evse_id, range(evse_id, evse_id + 1)
        current = self._station if flags is None else flags[index]
        if current != operative:
            if flags is None:
                self._station = operative
            else:
                flags[index] = operative
            document = {"station": self._station, "evse": list(self._evse)}
            document["connector"] = list(self._connector)
            self.ctx.store.save(DOCUMENT, document)
        if not operative and any(self.sessions.transaction_running(n) for n in busy):
            return {"status": "Scheduled"}
        return {"status": "Accepted"}
