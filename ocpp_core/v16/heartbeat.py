"""Heartbeat (OCPP 1.6 §4.6): keep-alive and clock sync.

The timer counts HeartbeatInterval seconds from the latest CALL this station sent, whatever its
action: §4.6 lets a station skip the Heartbeat when another PDU was sent within the interval, and
§9.1.10 defines the key as an interval "of inactivity". HeartbeatInterval 0 disables heartbeats
(OCPP-J: "sending heartbeats is not mandatory"); a changed interval applies at once. Heartbeats
go out only after the BootNotification is Accepted, except when triggered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, trigger
from ocpp_core.clock import parse_datetime
from ocpp_core.config import KeyDeclarer
from ocpp_core.log import logger
from ocpp_core.outbox import PRIORITY_HEARTBEAT, Request, RequestSource

if TYPE_CHECKING:
    from ocpp_core.v16.payloads import HeartbeatResponse

__all__ = ["HeartbeatBlock"]

_keys = KeyDeclarer(__name__)
_keys.integer("HeartbeatInterval", 86400)


class HeartbeatBlock(Block, RequestSource):
    """The Heartbeat request source."""

    __slots__ = ()

    priority = PRIORITY_HEARTBEAT
    keys = tuple(_keys.keys)
    sends = ("Heartbeat",)

    def _due(self) -> float | None:
        interval = self.ctx.config.integer("HeartbeatInterval")
        if interval <= 0:
            return None
        return self.ctx.outbox.last_sent + interval

    def take(self, now: float) -> Request | None:
        due = self._due()
        if due is None or now < due:
            return None
        return self._request()

    def wakeup(self, now: float) -> float | None:
        due = self._due()
        return None if due is None else max(now, due)

    def _request(self) -> Request:
        return Request("Heartbeat", {}, self._on_result)

    def _on_result(self, payload: HeartbeatResponse, now: float) -> None:
        try:
            self.ctx.clock.sync(parse_datetime(payload["currentTime"]), now)
        except ValueError:
            logger().warning("Heartbeat response has an unusable currentTime; clock not set")

    @trigger("Heartbeat")
    def send_triggered(self, connector_id: int | None, now: float) -> str:
        """TriggerMessage(Heartbeat): one Heartbeat, also before the boot is accepted."""
        self.ctx.triggered.push(self._request(), now)
        return "Accepted"
