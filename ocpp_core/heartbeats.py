"""Heartbeat: keep-alive and clock sync, shared by every protocol version.

The timer counts the heartbeat interval from the latest CALL this station sent, whatever its
action: both versions let a station skip the Heartbeat when another message was sent within the
interval (1.6 §4.6, 2.0.1 B05), which makes the interval one "of inactivity". An interval of 0
disables heartbeats (OCPP-J: "sending heartbeats is not mandatory"); a changed interval applies
at once. Heartbeats go out only after the BootNotification is Accepted, except when triggered.
The version names the configuration key (``interval_key``) and declares it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ocpp_core.block import Block, trigger
from ocpp_core.clock import parse_datetime
from ocpp_core.log import logger
from ocpp_core.outbox import PRIORITY_HEARTBEAT, Request, RequestSource

if TYPE_CHECKING:
    from ocpp_core.rpc import JsonObject

__all__ = ["HeartbeatSource"]


class HeartbeatSource(Block, RequestSource):
    """The Heartbeat request source."""

    __slots__ = ()

    priority = PRIORITY_HEARTBEAT
    sends = ("Heartbeat",)
    interval_key: ClassVar[str]  # the configuration key of the interval (seconds)

    def _due(self) -> float | None:
        interval = self.ctx.config.integer(self.interval_key)
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

    def _on_result(self, payload: JsonObject, now: float) -> None:
        try:
            self.ctx.clock.sync(parse_datetime(str(payload["currentTime"])), now)
        except ValueError:
            logger().warning("Heartbeat response has an unusable currentTime; clock not set")

    @trigger("Heartbeat")
    def send_triggered(self, connector_id: int | None, now: float) -> str:
        """TriggerMessage(Heartbeat): one Heartbeat, also before the boot is accepted."""
        self.ctx.triggered.push(self._request(), now)
        return "Accepted"
