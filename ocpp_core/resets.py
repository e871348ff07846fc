"""Running an accepted Reset through the station's reset hook, shared by every protocol version.

The engine cannot reboot anything itself: the station provides a hook (``ctx.reset_handler``)
that discards this engine and creates a new one on the same Store. A ResetRunner runs it
RESET_GRACE seconds after the reset was scheduled, so that the Reset response has left, emitting
a ResetRequested event. When asked to settle, it first waits, up to SETTLE_LIMIT seconds, until
the transaction messages are delivered. A hook that returns False (or raises) reports a failed
reset: it is retried every RESET_RETRY seconds, as many times as the version's retries key says,
then the version hears that the reset was given up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.events import ResetRequested
from ocpp_core.log import logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.context import BlockContext

__all__ = ["RESET_GRACE", "RESET_RETRY", "SETTLE_LIMIT", "ResetRunner"]

RESET_GRACE = 2.0  # seconds between accepting a Reset and running the hook
RESET_RETRY = 10.0  # seconds between attempts after a failed reset (MicroOcpp: 10 s)
SETTLE_LIMIT = 60.0  # seconds a reset waits at most for transaction messages


class ResetRunner:
    """One pending station reset and its attempts."""

    __slots__ = (
        "_attempts",
        "_ctx",
        "_due",
        "_gave_up",
        "_give_up_waiting",
        "_retries_key",
        "_settled",
        "kind",
    )

    def __init__(
        self,
        ctx: BlockContext,
        *,
        settled: Callable[[], bool],
        retries_key: str,
        gave_up: Callable[[str, float], None],
    ) -> None:
        self._ctx = ctx
        self._settled = settled  # the transaction messages are delivered
        self._retries_key = retries_key
        self._gave_up = gave_up  # (kind, now): the last attempt failed
        self.kind: str | None = None  # what the hook is asked for; None: no reset pending
        self._due = 0.0
        self._give_up_waiting = 0.0
        self._attempts = 0

    def schedule(self, kind: str, now: float, *, settle: bool) -> None:
        """Run the hook with ``kind`` soon (``settle``: after the transaction messages)."""
        self.kind = kind
        self._due = now + RESET_GRACE
        self._give_up_waiting = now + SETTLE_LIMIT if settle else now
        self._attempts = 0

    def tick(self, now: float) -> None:
        if self.kind is None or now < self._due:
            return
        if now < self._give_up_waiting and not self._settled():
            return
        self._execute(now)

    def timer(self, now: float) -> float | None:
        if self.kind is None:
            return None
        if now < self._due:
            return self._due
        if now < self._give_up_waiting:
            # Waiting for transaction messages: their answers arrive as input (a receive, after
            # which the caller polls anyway), so the only time of our own is the end of the wait.
            return self._give_up_waiting
        return now  # due and not run yet: only before this poll's tick, which runs it

    def _execute(self, now: float) -> None:
        ctx, kind, handler = self._ctx, self.kind, self._ctx.reset_handler
        assert kind is not None and handler is not None  # an accepted Reset (needs a hook)
        if ctx.watched:
            ctx.emit(ResetRequested(kind))
        try:
            succeeded = handler(kind) is not False
        except Exception:
            logger().exception("reset hook failed")
            succeeded = False
        if succeeded:
            self.kind = None
            return
        self._attempts += 1
        if self._attempts > ctx.config.integer(self._retries_key):
            logger().warning("%s reset failed %d times; giving up", kind, self._attempts)
            self.kind = None
            self._gave_up(kind, now)
            return
        self._due = now + RESET_RETRY
