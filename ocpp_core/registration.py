"""Registration with the CSMS by BootNotification, shared by every protocol version.

Sent as soon as the first connection opens, and again after every reboot (a new engine), but not
after a mere reconnect. Until the CSMS answers Accepted the outbox only lets out BootNotification
and triggered messages (the gate, SEND_PRE_BOOT while Pending); after Rejected only the
BootNotification itself may leave, and the version says what becomes of CSMS calls.

Retries: Pending/Rejected -> after ``interval`` seconds, or DEFAULT_RETRY when it is 0 (the
station "chooses a waiting interval on its own"); a timeout, CALLERROR or invalid response ->
DEFAULT_RETRY after the previous attempt was sent (so a silent CSMS gets one attempt a minute,
like MicroOcpp). Every valid response sets the clock from ``currentTime`` (unless the time is
absurd, see Clock.sync: the registration still counts); Accepted with ``interval`` > 0 also sets
the heartbeat interval (the version names its key).

``interval`` is any JSON integer, so a CSMS could send 10**400: it is clamped (with a warning)
to MAX_INTERVAL, both as heartbeat interval and as the retry interval, so no timer ever sees a
number a float cannot hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ocpp_core.block import Block
from ocpp_core.clock import parse_datetime
from ocpp_core.config import MAX_INTEGER
from ocpp_core.events import BootAccepted, BootNotAccepted
from ocpp_core.log import logger
from ocpp_core.outbox import (
    INVALID,
    PRIORITY_BOOT,
    SEND_ACCEPTED,
    SEND_ALWAYS,
    SEND_PRE_BOOT,
    CallFailure,
    Request,
    RequestSource,
)

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject

__all__ = ["ACCEPTED", "DEFAULT_RETRY", "MAX_INTERVAL", "PENDING", "REJECTED", "RegistrationBlock"]

ACCEPTED, PENDING, REJECTED = "Accepted", "Pending", "Rejected"
DEFAULT_RETRY = 60.0  # seconds (MicroOcpp's MO_BOOT_INTERVAL_DEFAULT)
MAX_INTERVAL = MAX_INTEGER  # 2**31 - 1 s (68 years): the protocols' integers are 32-bit


class RegistrationBlock(Block, RequestSource):
    """Registration state and the BootNotification request source (a version subclasses it
    with its payload, its heartbeat key and its TriggerMessage rule)."""

    __slots__ = ("_next_attempt", "_retry_interval", "_sent_at", "_triggered", "registration")

    clearance = SEND_ALWAYS
    priority = PRIORITY_BOOT
    sends = ("BootNotification",)
    heartbeat_key: ClassVar[str]  # the configuration key Accepted's interval sets

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        self.registration: str | None = None  # None until the CSMS answers
        self._next_attempt = float("-inf")
        self._retry_interval = DEFAULT_RETRY
        self._sent_at = 0.0
        self._triggered = False

    def payload(self) -> JsonObject:
        """The BootNotification request payload."""
        raise NotImplementedError

    def rejected_calls(self) -> None:
        """What becomes of CSMS calls after Rejected (1.6: ignored, §4.2)."""
        self.ctx.accepting_calls = False

    def take(self, now: float) -> Request | None:
        if not self._triggered and (self.registration == ACCEPTED or now < self._next_attempt):
            return None
        self._triggered = False
        self._sent_at = now
        return Request("BootNotification", self.payload(), self._on_result, self._on_failure)

    def wakeup(self, now: float) -> float | None:
        if self._triggered:
            return now
        if self.registration == ACCEPTED:
            return None
        return max(now, self._next_attempt)

    def give_back(self, request: Request, now: float) -> None:
        self._next_attempt = now  # unanswered: send again as soon as a connection is back

    def trigger_boot(self) -> None:
        """Send a BootNotification at once, whatever the registration state."""
        self._triggered = True

    def _on_result(self, payload: JsonObject, now: float) -> None:
        ctx = self.ctx
        try:
            wall = parse_datetime(str(payload["currentTime"]))
        except ValueError:
            logger().warning("BootNotification response has an unusable currentTime; ignored")
            self._on_failure(CallFailure(INVALID, description="currentTime"), now)
            return
        ctx.clock.sync(wall, now)  # refuses (and logs) an absurd time; registration counts
        status, interval = str(payload["status"]), _interval(payload["interval"])
        self.registration = status
        if status == ACCEPTED:
            ctx.outbox.gate = SEND_ACCEPTED
            ctx.accepting_calls = True
            if interval > 0:
                config, key = ctx.config, self.heartbeat_key
                config.set(key, config.clamp(key, interval))
            if ctx.watched:
                ctx.emit(BootAccepted(ctx.config.integer(self.heartbeat_key)))
            return
        self._retry_interval = float(interval) if interval > 0 else DEFAULT_RETRY
        self._next_attempt = now + self._retry_interval
        ctx.outbox.gate = SEND_ALWAYS if status == REJECTED else SEND_PRE_BOOT
        if status == REJECTED:
            self.rejected_calls()
        else:
            ctx.accepting_calls = True
        if ctx.watched:
            ctx.emit(BootNotAccepted(status, self._retry_interval))

    def _on_failure(self, failure: CallFailure, now: float) -> None:
        logger().warning("BootNotification failed (%s); retrying", failure.kind)
        self._next_attempt = max(now, self._sent_at + self._retry_interval)


def _interval(interval: object) -> int:
    """The response's ``interval`` (a schema-checked JSON integer), at most MAX_INTERVAL."""
    assert isinstance(interval, int)  # the response schema says integer
    if interval > MAX_INTERVAL:
        logger().warning(
            "BootNotification interval is above %d seconds; using %d", MAX_INTERVAL, MAX_INTERVAL
        )
        return MAX_INTERVAL
    return interval
