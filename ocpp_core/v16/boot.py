"""BootNotification (OCPP 1.6 §4.2, errata 3.11): registration with the CSMS.

Sent as soon as the first connection opens, and again after every reboot (a new engine), but not
after a mere reconnect (OCPP-J §5.4). Until the CSMS answers Accepted the outbox only lets out
BootNotification and triggered messages (the gate); CALLs from the CSMS are answered while
Pending and ignored while Rejected ("the Charge Point SHALL NOT respond", §4.2).

Retries: Pending/Rejected -> after ``interval`` seconds, or DEFAULT_RETRY when it is 0 (the
station "chooses a waiting interval on its own"); a timeout, CALLERROR or invalid response ->
DEFAULT_RETRY after the previous attempt was sent (so a silent CSMS gets one attempt a minute,
like MicroOcpp). Every valid response sets the clock from ``currentTime`` (unless the time is
absurd, see Clock.sync: the registration still counts); Accepted with ``interval`` > 0 also sets
HeartbeatInterval.

``interval`` is any JSON integer, so a CSMS could send 10**400: it is clamped (with a warning)
to MAX_INTERVAL, the HeartbeatInterval maximum, both as HeartbeatInterval and as the retry
interval, so no timer ever sees a number a float cannot hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, trigger
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
    from ocpp_core.v16.payloads import BootNotificationResponse

__all__ = ["ACCEPTED", "DEFAULT_RETRY", "MAX_INTERVAL", "PENDING", "REJECTED", "BootBlock"]

ACCEPTED, PENDING, REJECTED = "Accepted", "Pending", "Rejected"
DEFAULT_RETRY = 60.0  # seconds (MicroOcpp's MO_BOOT_INTERVAL_DEFAULT)
MAX_INTERVAL = MAX_INTEGER  # 2**31 - 1 s (68 years): OCPP 1.6 integers are 32-bit (xs:int)


class BootBlock(Block, RequestSource):
    """Registration state and the BootNotification request source."""

    __slots__ = ("_next_attempt", "_retry_interval", "_sent_at", "_triggered", "registration")

    clearance = SEND_ALWAYS
    priority = PRIORITY_BOOT
    sends = ("BootNotification",)

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        self.registration: str | None = None  # None until the CSMS answers
        self._next_attempt = float("-inf")
        self._retry_interval = DEFAULT_RETRY
        self._sent_at = 0.0
        self._triggered = False

    def take(self, now: float) -> Request | None:
        if not self._triggered and (self.registration == ACCEPTED or now < self._next_attempt):
            return None
        self._triggered = False
        self._sent_at = now
        payload = self.ctx.identity.boot_notification_v16()
        return Request("BootNotification", payload, self._on_result, self._on_failure)

    def wakeup(self, now: float) -> float | None:
        if self._triggered:
            return now
        if self.registration == ACCEPTED:
            return None
        return max(now, self._next_attempt)

    def give_back(self, request: Request, now: float) -> None:
        self._next_attempt = now  # unanswered: send again as soon as a connection is back

    def _on_result(self, payload: BootNotificationResponse, now: float) -> None:
        ctx = self.ctx
        try:
            wall = parse_datetime(payload["currentTime"])
        except ValueError:
            logger().warning("BootNotification response has an unusable currentTime; ignored")
            self._on_failure(CallFailure(INVALID, description="currentTime"), now)
            return
        ctx.clock.sync(wall, now)  # refuses (and logs) an absurd time; registration counts
        status, interval = payload["status"], _interval(payload["interval"])
        self.registration = status
        if status == ACCEPTED:
            ctx.outbox.gate = SEND_ACCEPTED
            ctx.accepting_calls = True
            if interval > 0:
                config = ctx.config
                config.set("HeartbeatInterval", config.clamp("HeartbeatInterval", interval))
            if ctx.watched:
                ctx.emit(BootAccepted(ctx.config.integer("HeartbeatInterval")))
            return
        self._retry_interval = float(interval) if interval > 0 else DEFAULT_RETRY
        self._next_attempt = now + self._retry_interval
        ctx.outbox.gate = SEND_ALWAYS if status == REJECTED else SEND_PRE_BOOT
        ctx.accepting_calls = status != REJECTED
        if ctx.watched:
            ctx.emit(BootNotAccepted(status, self._retry_interval))

    def _on_failure(self, failure: CallFailure, now: float) -> None:
        logger().warning("BootNotification failed (%s); retrying", failure.kind)
        self._next_attempt = max(now, self._sent_at + self._retry_interval)

    @trigger("BootNotification")
    def send_triggered(self, connector_id: int | None, now: float) -> str:
        """TriggerMessage(BootNotification): send one now, whatever the registration state."""
        self._triggered = True
        return "Accepted"


def _interval(interval: int) -> int:
    """The response's ``interval`` (a schema-checked JSON integer), at most MAX_INTERVAL."""
    if interval > MAX_INTERVAL:
        logger().warning(
            "BootNotification interval is above %d seconds; using %d", MAX_INTERVAL, MAX_INTERVAL
        )
        return MAX_INTERVAL
    return interval
