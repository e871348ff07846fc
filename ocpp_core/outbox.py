"""Outgoing traffic: replies to the CSMS's CALLs and our own CALLs, one outstanding at a time.

Requests are not pushed into one queue. The outbox asks its *request sources*, in priority order,
for the next request that is ready now (like MicroOcpp's RequestQueue with its front and back
emitters), so each functional block keeps its own ordering and retry policy:

* a block that always knows what it wants to say next (boot retries, heartbeat timer, connector
  statuses that coalesce while offline) is a source itself and builds the request when asked;
* ``RequestQueue`` is a plain FIFO source for one-off requests (triggered messages, app calls);
* a persistent transaction-message queue with retry/backoff is one more source: it answers
  ``take`` only when its front message is due, deletes it on the result callback and schedules a
  retry on the failure callback.

Rules the outbox enforces:

* replies to received CALLs go out first, in the order the CALLs arrived;
* at most one CALL is outstanding (OCPP-J §4.1.1); its timeout counts from sending;
* ``gate`` follows the registration (OCPP 1.6 §4.2): while Rejected only the BootNotification
  source is asked, until Accepted also the sources of triggered messages (SEND_PRE_BOOT), after
  Accepted every source;
* a CALLRESULT or CALLERROR completes the outstanding request if the id matches, else a request
  a source still holds after its timeout (``held``: the transaction journal re-sends under the
  same id, so a late answer is as good as a timely one); anything else is dropped;
* nothing is sent while disconnected, so no timeout runs down offline. When the connection drops,
  the outstanding request goes back to its source (``give_back``), which decides: the FIFO queue
  re-sends it first after reconnecting (same message id: a new connection may reuse it, and it
  lets the CSMS spot the duplicate); boot, heartbeat and status rebuild a current request instead.
  Replies still waiting for a dropped connection are discarded: they answer CALLs of a session
  that no longer exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ocpp_core import rpc
from ocpp_core.log import logger

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "DISCONNECTED",
    "DROPPED",
    "ERROR",
    "INVALID",
    "PRIORITY_BOOT",
    "PRIORITY_CALLS",
    "PRIORITY_HEARTBEAT",
    "PRIORITY_STATUS",
    "PRIORITY_TRANSACTIONS",
    "PRIORITY_TRIGGERED",
    "SEND_ACCEPTED",
    "SEND_ALWAYS",
    "SEND_PRE_BOOT",
    "TIMEOUT",
    "CallFailure",
    "Outbox",
    "Request",
    "RequestQueue",
    "RequestSource",
]

# Order in which the outbox asks its sources (lowest first). Non-transaction messages overtake
# queued transaction messages, as in MicroOcpp 1.2 ("relaxed temporal order").
PRIORITY_BOOT = 0
PRIORITY_TRIGGERED = 10
PRIORITY_CALLS = 20  # one-off requests: app DataTransfer, one-time notifications
PRIORITY_STATUS = 30
PRIORITY_TRANSACTIONS = 50
PRIORITY_HEARTBEAT = 90

SEND_ALWAYS = 0  # the BootNotification itself
SEND_PRE_BOOT = 1  # also before Accepted: messages the CSMS asked for with TriggerMessage
SEND_ACCEPTED = 2  # only once the BootNotification is Accepted

TIMEOUT = "timeout"  # no answer within the request's timeout
ERROR = "error"  # the CSMS answered with a CALLERROR
INVALID = "invalid"  # the answer broke the response schema or OCPP-J framing
DISCONNECTED = "disconnected"  # the connection dropped while the request was outstanding
DROPPED = "dropped"  # never sent: pushed out of a full queue


class CallFailure(NamedTuple):
    """Why a request produced no usable response."""

    kind: str  # TIMEOUT | ERROR | INVALID | DISCONNECTED | DROPPED
    code: str = ""  # the CALLERROR code, for ERROR
    description: str = ""


class Request:
    """One CALL to send, with what to do with its outcome.

    ``timeout`` None means the engine's default (MessageTimeout). ``message_id`` is assigned when
    the request is first sent and kept if it is re-sent after a reconnect. ``on_result`` gets the
    response once it passed its schema: its payload parameter is typed by the callback (the
    generated ``XResponse``), which the type checker cannot tie to ``action``.
    """

    __slots__ = ("action", "message_id", "on_failure", "on_result", "payload", "source", "timeout")

    def __init__(
        self,
        action: str,
        payload: Mapping[str, object],
        on_result: Callable[[Any, float], None] | None = None,
        on_failure: Callable[[CallFailure, float], None] | None = None,
        *,
        timeout: float | None = None,
    ) -> None:
        self.action = action
        self.payload = payload
        self.on_result = on_result
        self.on_failure = on_failure
        self.timeout = timeout
        self.message_id: str | None = None
        self.source: RequestSource | None = None

    def succeed(self, payload: rpc.JsonObject, now: float) -> None:
        """Run the result callback; a raising callback is logged, never propagated."""
        if self.on_result is not None:
            try:
                self.on_result(payload, now)
            except Exception:
                logger().exception("result callback of %s failed", self.action)

    def fail(self, failure: CallFailure, now: float) -> None:
        """Run the failure callback; a raising callback is logged, never propagated."""
        if self.on_failure is not None:
            try:
                self.on_failure(failure, now)
            except Exception:
                logger().exception("failure callback of %s failed", self.action)


class RequestSource:
    """Hands the outbox its next ready request; subclasses choose order and retry policy."""

    __slots__ = ()

    clearance = SEND_ACCEPTED  # the lowest gate at which this source is asked
    priority = PRIORITY_TRANSACTIONS  # position among the sources (lowest asked first)

    def take(self, now: float) -> Request | None:
        """The request to send now, or None (asked only when no CALL is outstanding)."""
        return None

    def give_back(self, request: Request, now: float) -> None:
        """The connection dropped while ``request`` was outstanding; by default it failed."""
        request.fail(CallFailure(DISCONNECTED), now)

    def wakeup(self, now: float) -> float | None:
        """The earliest time ``take`` may return a request (``now`` if it has one already)."""
        return None

    def held(self, message_id: str) -> Request | None:
        """A request this source sent, that timed out and that it will re-send under the same
        ``message_id``: an answer to it arriving now still completes it (None: none such)."""
        return None


class RequestQueue(RequestSource):
    """FIFO of one-off requests; when full, the oldest is dropped (its failure callback runs)."""

    __slots__ = ("_items", "clearance", "limit", "priority")

    def __init__(self, priority: int, *, clearance: int = SEND_ACCEPTED, limit: int = 32) -> None:
        self._items: list[Request] = []
        self.priority = priority
        self.clearance = clearance
        self.limit = limit

    def push(self, request: Request, now: float) -> None:
        """Queue ``request`` behind the others."""
        items = self._items
        if len(items) >= self.limit:
            dropped = items.pop(0)
            logger().warning("request queue full: dropped %s", dropped.action)
            dropped.fail(CallFailure(DROPPED), now)
        items.append(request)

    def take(self, now: float) -> Request | None:
        return self._items.pop(0) if self._items else None

    def give_back(self, request: Request, now: float) -> None:
        self._items.insert(0, request)

    def wakeup(self, now: float) -> float | None:
        return now if self._items else None


class Outbox:
    """Orders everything the engine sends and tracks the one outstanding CALL."""

    __slots__ = (
        "_default_timeout",
        "_gate",
        "_gated",
        "_holders",
        "_new_id",
        "_replies",
        "_sources",
        "deadline",
        "last_sent",
        "outstanding",
    )

    def __init__(
        self,
        sources: Sequence[RequestSource],
        new_id: Callable[[], str],
        default_timeout: Callable[[], float],
    ) -> None:
        sources = sorted(sources, key=lambda source: source.priority)
        # Sources askable at each gate, precomputed: the idle poll only walks a tuple.
        self._gated = tuple(
            tuple(s for s in sources if s.clearance <= gate)
            for gate in (SEND_ALWAYS, SEND_PRE_BOOT, SEND_ACCEPTED)
        )
        self._gate = SEND_PRE_BOOT
        self._sources = self._gated[SEND_PRE_BOOT]
        # Sources that may hold a timed-out request (asked only for an unmatched answer).
        self._holders = tuple(s for s in sources if type(s).held is not RequestSource.held)
        self._new_id = new_id
        self._default_timeout = default_timeout
        self._replies: list[tuple[str, str | None, str]] = []  # (message id, action, frame)
        self.outstanding: Request | None = None
        self.deadline = 0.0
        self.last_sent = float("-inf")  # when the latest CALL went out (heartbeat timing)

    @property
    def gate(self) -> int:
        """Which sources may send: SEND_ALWAYS, SEND_PRE_BOOT (initially) or SEND_ACCEPTED."""
        return self._gate

    @gate.setter
    def gate(self, gate: int) -> None:
        self._gate = gate
        self._sources = self._gated[gate]

    def reply(self, message_id: str, action: str | None, text: str) -> None:
        """Queue a CALLRESULT/CALLERROR; replies leave in the order their CALLs arrived."""
        self._replies.append((message_id, action, text))

    def reply_pending(self, message_id: str) -> bool:
        """Whether a reply to a CALL with this id is still waiting to be sent."""
        return any(entry[0] == message_id for entry in self._replies)

    def poll(
        self, now: float, log: Callable[[str, str | None, float], None] | None = None
    ) -> list[str]:
        """Frames to send now: every queued reply, then at most one new CALL."""
        replies = self._replies
        if replies:
            self._replies = []
            frames = [entry[2] for entry in replies]
            if log is not None:
                for _, action, text in replies:
                    log(text, action, now)
        else:
            frames = []
        request = self.outstanding
        if request is not None:
            if now < self.deadline:
                return frames
            self.outstanding = None
            logger().warning("%s %s timed out", request.action, request.message_id)
            request.fail(CallFailure(TIMEOUT), now)
        for source in self._sources:
            request = source.take(now)
            if request is not None:
                frames.append(self._send(request, source, now, log))
                break
        return frames

    def _send(
        self,
        request: Request,
        source: RequestSource,
        now: float,
        log: Callable[[str, str | None, float], None] | None,
    ) -> str:
        if request.message_id is None:
            request.message_id = self._new_id()
        request.source = source
        timeout = request.timeout
        self.outstanding = request
        self.last_sent = now
        self.deadline = now + (self._default_timeout() if timeout is None else timeout)
        text = rpc.call_text(request.message_id, request.action, request.payload)
        if log is not None:
            log(text, request.action, now)
        return text

    def match(self, message_id: str) -> Request | None:
        """The request ``message_id`` answers: the outstanding one (taken), else one a source
        holds after its timeout (see ``RequestSource.held``); None if none."""
        request = self.outstanding
        if request is not None and request.message_id == message_id:
            self.outstanding = None
            return request
        for source in self._holders:
            request = source.held(message_id)
            if request is not None:
                logger().info("%s %s answered after its timeout", request.action, message_id)
                return request
        return None

    def connection_lost(self, now: float) -> None:
        """Drop unsent replies and hand the outstanding request back to its source."""
        self._replies = []
        request = self.outstanding
        if request is not None:
            self.outstanding = None
            source = request.source
            if source is None:
                request.fail(CallFailure(DISCONNECTED), now)
            else:
                source.give_back(request, now)

    def wakeup(self, now: float) -> float | None:
        """When ``poll`` next has something to do (None: not until something external happens)."""
        if self._replies:
            return now
        if self.outstanding is not None:
            return self.deadline
        earliest = None
        for source in self._sources:
            at = source.wakeup(now)
            if at is not None and (earliest is None or at < earliest):
                earliest = at
        return earliest
