"""Reset (OCPP 1.6 §5.14, errata 3.36): the station reboots through a hook it provides.

Without a reset hook the answer is Rejected (the engine cannot reboot anything itself). With one,
Accepted; running transactions are stopped (reason SoftReset/HardReset, through the transaction
view) and RESET_GRACE seconds later, so that the Reset.conf has left, the hook runs with "Soft"
or "Hard" (and a ResetRequested event is emitted). A soft reset first waits, up to SETTLE_LIMIT
seconds, until the transaction messages are delivered; a hard one does not ("not required to
gracefully stop ongoing transactions"). Rebooting means discarding this engine and creating a new
one on the same Store.

A hook that returns False reports a failed reset: it is retried every RESET_RETRY seconds,
ResetRetries times (§9.1.22), then a StatusNotification for connector 0 reports ResetFailure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, on
from ocpp_core.config import KeyDeclarer
from ocpp_core.connector import ErrorRecord
from ocpp_core.events import ResetRequested
from ocpp_core.log import logger

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.sessions import SessionView
    from ocpp_core.v16.payloads import (
        ResetRequest,
        ResetResponse,
    )
    from ocpp_core.v16.status import StatusBlock

__all__ = ["RESET_GRACE", "RESET_RETRY", "SETTLE_LIMIT", "ResetBlock"]

RESET_GRACE = 2.0  # seconds between accepting a Reset and running the hook
RESET_RETRY = 10.0  # seconds between attempts after a failed reset (MicroOcpp: 10 s)
SETTLE_LIMIT = 60.0  # seconds a soft reset waits at most for transaction messages

_keys = KeyDeclarer(__name__)
_keys.integer("ResetRetries", 2)


class ResetBlock(Block):
    """A pending reset and its attempts."""

    __slots__ = ("_attempts", "_due", "_give_up_waiting", "_kind", "sessions", "status")

    keys = tuple(_keys.keys)

    def __init__(self, ctx: BlockContext, *, sessions: SessionView, status: StatusBlock) -> None:
        super().__init__(ctx)
        self.sessions = sessions  # stops transactions, tells when their messages are delivered
        self.status = status  # reports a ResetFailure
        self._kind: str | None = None
        self._due = 0.0
        self._give_up_waiting = 0.0
        self._attempts = 0

    @on("Reset")
    def reset(self, payload: ResetRequest, now: float) -> ResetResponse:
        ctx = self.ctx
        if ctx.reset_handler is None:
            return {"status": "Rejected"}
        kind = payload["type"]
        if self._kind is None or kind == "Hard":
            self._kind = kind
            self._due = now + RESET_GRACE
            self._give_up_waiting = now + SETTLE_LIMIT
            self._attempts = 0
            self.sessions.stop_all(f"{kind}Reset", now)
        return {"status": "Accepted"}

    def tick(self, now: float) -> None:
        if self._kind is None or now < self._due:
            return
        if self._kind == "Soft" and now < self._give_up_waiting and not self.sessions.settled():
            return
        self._execute(now)

    def timer(self, now: float) -> float | None:
        if self._kind is None:
            return None
        if now < self._due:
            return self._due
        if self._kind == "Soft" and now < self._give_up_waiting:
            # Waiting for transaction messages: their answers arrive as input (a receive, after
            # which the caller polls anyway), so the only time of our own is the end of the wait.
            return self._give_up_waiting
        return now  # due and not run yet: only before this poll's tick, which runs it

    def _execute(self, now: float) -> None:
        ctx, kind, handler = self.ctx, self._kind, self.ctx.reset_handler
        assert kind is not None and handler is not None  # an accepted Reset (needs a hook)
        if ctx.watched:
            ctx.emit(ResetRequested(kind))
        try:
            succeeded = handler(kind) is not False
        except Exception:
            logger().exception("reset hook failed")
            succeeded = False
        if succeeded:
            self._kind = None
            return
        self._attempts += 1
        if self._attempts > ctx.config.integer("ResetRetries"):
            logger().warning("%s reset failed %d times; giving up", kind, self._attempts)
            self._kind = None
            self.status.notify(0, ErrorRecord("ResetFailure", faulted=False), now)
            return
        self._due = now + RESET_RETRY
