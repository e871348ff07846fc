"""ChangeAvailability (OCPP 1.6 §5.2): operative / inoperative connectors, kept across reboots.

Connector 0 means the whole charge point: the change applies to it and to every connector (as in
MicroOcpp, each connector keeps its own flag, so a later change of one connector is possible).
A connector id outside 0..N is Rejected. Making a connector inoperative while a transaction runs
on it (any connector, for 0) answers Scheduled: the flag is stored at once, and the status
becomes Unavailable when the transaction ends, because a running transaction keeps a connector
operative. The flags persist in the Store document ``availability`` (§4.9: Unavailable "MUST be
persistent across reboots").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, on
from ocpp_core.log import logger
from ocpp_core.sessions import NO_SESSIONS

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.sessions import SessionView
    from ocpp_core.v16.payloads import (
        ChangeAvailabilityRequest,
        ChangeAvailabilityResponse,
    )

__all__ = ["DOCUMENT", "AvailabilityBlock"]

DOCUMENT = "availability"


class AvailabilityBlock(Block):
    """Persistent operative flags of connectors 0..N."""

    __slots__ = ("operative", "sessions")

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        count = len(self.ctx.connectors)
        flags = [True] * count
        stored = self.ctx.store.load(DOCUMENT)
        if stored is not None:
            if isinstance(stored, list) and all(type(flag) is bool for flag in stored):
                flags[: len(stored)] = stored[:count]
            else:
                logger().warning("stored availability is invalid; all connectors operative")
        # Read by the status block on every poll; replaced (never mutated) on change.
        self.operative: list[bool] = flags
        self.sessions: SessionView = NO_SESSIONS  # set by the wiring: the transaction block

    @on("ChangeAvailability")
    def change_availability(
        self, payload: ChangeAvailabilityRequest, now: float
    ) -> ChangeAvailabilityResponse:
        connector, operative = payload["connectorId"], payload["type"] == "Operative"
        count = len(self.operative)
        if not 0 <= connector < count:
            return {"status": "Rejected"}
        targets = range(count) if connector == 0 else (connector,)
        flags = list(self.operative)
        for target in targets:
            flags[target] = operative
        if flags != self.operative:
            self.ctx.store.save(DOCUMENT, flags)
            self.operative = flags
        if not operative:
            busy = range(1, count) if connector == 0 else (connector,)
            if any(self.sessions.transaction_running(c) for c in busy):
                return {"status": "Scheduled"}
        return {"status": "Accepted"}
