"""Reset (OCPP 1.6 §5.14, errata 3.36): the station reboots through a hook it provides.

Without a reset hook the answer is Rejected (the engine cannot reboot anything itself). With one,
Accepted; running transactions are stopped (reason SoftReset/HardReset, through the transaction
view) and the shared ResetRunner (ocpp_core/resets.py) runs the hook with "Soft" or "Hard" once
the Reset.conf has left. A soft reset first waits, within limits, until the transaction messages
are delivered; a hard one does not ("not required to gracefully stop ongoing transactions").
A Hard reset replaces a pending Soft one. A reset given up after ResetRetries failed attempts
(§9.1.22) is reported by a StatusNotification for connector 0 with ResetFailure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, on
from ocpp_core.config import KeyDeclarer
from ocpp_core.connector import ErrorRecord
from ocpp_core.resets import RESET_GRACE, RESET_RETRY, SETTLE_LIMIT, ResetRunner

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.sessions import SessionView
    from ocpp_core.v16.payloads import (
        ResetRequest,
        ResetResponse,
    )
    from ocpp_core.v16.status import StatusBlock

__all__ = ["RESET_GRACE", "RESET_RETRY", "SETTLE_LIMIT", "ResetBlock"]

_keys = KeyDeclarer(__name__)
_keys.integer("ResetRetries", 2)


class ResetBlock(Block):
    """A pending reset and its attempts."""

    __slots__ = ("_runner", "sessions", "status")

    keys = tuple(_keys.keys)

    def __init__(self, ctx: BlockContext, *, sessions: SessionView, status: StatusBlock) -> None:
        super().__init__(ctx)
        self.sessions = sessions  # stops transactions, tells when their messages are delivered
        self.status = status  # reports a ResetFailure
        self._runner = ResetRunner(
            ctx, settled=self._settled, retries_key="ResetRetries", gave_up=self._failed
        )

    @on("Reset")
    def reset(self, payload: ResetRequest, now: float) -> ResetResponse:
        if self.ctx.reset_handler is None:
            return {"status": "Rejected"}
        kind = payload["type"]
        if self._runner.kind is None or kind == "Hard":
            self._runner.schedule(kind, now, settle=kind == "Soft")
            self.sessions.stop_all(f"{kind}Reset", now)
        return {"status": "Accepted"}

    def tick(self, now: float) -> None:
        self._runner.tick(now)

    def timer(self, now: float) -> float | None:
        return self._runner.timer(now)

    def _settled(self) -> bool:
        return self.sessions.settled()

    def _failed(self, kind: str, now: float) -> None:
        self.status.notify(0, ErrorRecord("ResetFailure", faulted=False), now)
