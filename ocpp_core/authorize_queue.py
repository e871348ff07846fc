"""Authorize requests waiting for the CSMS, for any protocol version (1.6 §3.5, 2.0.1 C01/C15).

A user at the charger waits MessageTimeout at most, waiting in the outbox included: a request
not yet sent when its deadline passes, one the CSMS gives no usable answer to (timeout,
CALLERROR, invalid response, lost connection) and one not yet sent when the link drops are all
handed to ``undecided``, where the version's offline rules decide. ``answered`` gets the
CSMS's response. A cancelled request still delivers its answer (the cache learns from it), but
nobody waits for a decision any more.

The version's block owns the queue and says what a request carries (``build``); inheriting
AuthorizeSource makes the queue its RequestSource, tick, timer and disconnect hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_core.clock import parse_datetime
from ocpp_core.log import logger
from ocpp_core.outbox import PRIORITY_CALLS, Request, RequestSource

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.outbox import CallFailure
    from ocpp_core.rpc import JsonObject

__all__ = ["AuthorizeQueue", "AuthorizeSource", "PendingAuthorization", "expired"]


def expired(expiry: object, wall: float) -> bool:
    """Whether an expiry date-time (RFC 3339 text) lies at or before ``wall`` (epoch seconds).

    None, or text that is not a date-time, never expires.
    """
    if not isinstance(expiry, str):
        return False
    try:
        return parse_datetime(expiry) <= wall
    except ValueError:
        return False


class PendingAuthorization:
    """An authorization waiting for the CSMS: who presented what, and who waits for the answer."""

    __slots__ = ("cancelled", "connector", "deadline", "done", "sent", "token")

    def __init__(
        self,
        connector: int,
        token: Any,
        deadline: float,
        done: Callable[[Any, float], None],
    ) -> None:
        self.connector = connector
        self.token = token  # 1.6: the idTag; 2.0.1: the IdTokenType object
        self.deadline = deadline
        self.done = done  # done(decision, now), with the version's decision type
        self.sent = False
        self.cancelled = False


class AuthorizeQueue:
    """The pending Authorize requests of one engine, oldest first."""

    __slots__ = ("_answered", "_build", "_pending", "_undecided")

    def __init__(
        self,
        build: Callable[[PendingAuthorization], JsonObject],
        answered: Callable[[PendingAuthorization, JsonObject, float], None],
        undecided: Callable[[PendingAuthorization, float], None],
    ) -> None:
        self._build = build  # the Authorize payload of a pending request
        self._answered = answered  # the CSMS answered (cancelled requests included)
        self._undecided = undecided  # no usable answer in time (never for cancelled ones)
        self._pending: list[PendingAuthorization] = []

    def add(
        self, connector: int, token: Any, deadline: float, done: Callable[[Any, float], None]
    ) -> PendingAuthorization:
        """Queue a request; ``done`` is called through ``answered``/``undecided`` later."""
        pending = PendingAuthorization(connector, token, deadline, done)
        self._pending.append(pending)
        return pending

    def cancel(self, pending: PendingAuthorization) -> None:
        """Nobody waits for this decision any more (an answer still reaches ``answered``)."""
        pending.cancelled = True
        if not pending.sent and pending in self._pending:
            self._pending.remove(pending)

    def take(self, now: float) -> Request | None:
        """The oldest request not sent yet whose deadline has not passed."""
        if not self._pending:
            return None
        pending = next((p for p in self._pending if not p.sent and now < p.deadline), None)
        if pending is None:
            return None
        pending.sent = True
        return Request(
            "Authorize",
            self._build(pending),
            lambda response, at: self._on_answer(pending, response, at),
            lambda failure, at: self._on_failure(pending, failure, at),
            timeout=pending.deadline - now,
        )

    def wakeup(self, now: float) -> float | None:
        return now if any(not p.sent for p in self._pending) else None

    def _on_answer(self, pending: PendingAuthorization, response: JsonObject, now: float) -> None:
        self._pending.remove(pending)
        self._answered(pending, response, now)

    def _on_failure(self, pending: PendingAuthorization, failure: CallFailure, now: float) -> None:
        logger().warning("Authorize of connector %d failed (%s)", pending.connector, failure.kind)
        self._pending.remove(pending)
        if not pending.cancelled:
            self._undecided(pending, now)

    def tick(self, now: float) -> None:
        """Decide the requests still unsent at their deadline by the offline rules."""
        if not self._pending:
            return
        for pending in [p for p in self._pending if not p.sent and now >= p.deadline]:
            self._pending.remove(pending)
            self._undecided(pending, now)

    def timer(self, now: float) -> float | None:
        if not self._pending:
            return None
        deadlines = [p.deadline for p in self._pending if not p.sent]
        return min(deadlines) if deadlines else None

    def disconnected(self, now: float) -> None:
        """Offline now: what was not sent yet is decided by the offline rules."""
        for pending in [p for p in self._pending if not p.sent]:
            self._pending.remove(pending)
            self._undecided(pending, now)


class AuthorizeSource(RequestSource):
    """What a block owning an AuthorizeQueue (as ``_queue``) offers the engine through it."""

    __slots__ = ()

    _queue: AuthorizeQueue
    priority = PRIORITY_CALLS

    def _new_queue(self, field: str) -> AuthorizeQueue:
        """The queue of AuthorizeRequests carrying the presented token as ``field``."""
        return AuthorizeQueue(
            lambda pending: {field: pending.token}, self._answered, self._undecided
        )

    def _answered(self, pending: PendingAuthorization, response: JsonObject, now: float) -> None:
        """The CSMS answered (also for a cancelled request: the cache learns from it)."""
        raise NotImplementedError

    def _undecided(self, pending: PendingAuthorization, now: float) -> None:
        """No usable answer in time: the version's offline rules decide."""
        raise NotImplementedError

    def cancel(self, pending: PendingAuthorization) -> None:
        """Nobody waits for this decision any more (an answer still updates the cache)."""
        self._queue.cancel(pending)

    def take(self, now: float) -> Request | None:
        return self._queue.take(now)

    def wakeup(self, now: float) -> float | None:
        return self._queue.wakeup(now)

    def tick(self, now: float) -> None:
        self._queue.tick(now)

    def timer(self, now: float) -> float | None:
        return self._queue.timer(now)

    def disconnected(self, now: float) -> None:
        """Offline now: what was not sent yet is decided by the offline rules."""
        self._queue.disconnected(now)
