"""BootNotification (OCPP 1.6 §4.2, errata 3.11): registration with the CSMS.

The registration machinery is version-neutral (ocpp_core/registration.py: gate, retries, clock,
interval clamp). 1.6's own parts: the payload from the station identity, HeartbeatInterval set
by Accepted, CALLs from the CSMS ignored while Rejected ("the Charge Point SHALL NOT respond",
§4.2), and TriggerMessage(BootNotification) sending one whatever the registration state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import trigger
from ocpp_core.registration import (
    ACCEPTED,
    DEFAULT_RETRY,
    MAX_INTERVAL,
    PENDING,
    REJECTED,
    RegistrationBlock,
)

if TYPE_CHECKING:
    from ocpp_core.rpc import JsonObject

__all__ = ["ACCEPTED", "DEFAULT_RETRY", "MAX_INTERVAL", "PENDING", "REJECTED", "BootBlock"]


class BootBlock(RegistrationBlock):
    """Registration state and the 1.6 BootNotification request source."""

    __slots__ = ()

    heartbeat_key = "HeartbeatInterval"

    def payload(self) -> JsonObject:
        return dict(self.ctx.identity.boot_notification_v16())

    @trigger("BootNotification")
    def send_triggered(self, connector_id: int | None, now: float) -> str:
        """TriggerMessage(BootNotification): send one now, whatever the registration state."""
        self.trigger_boot()
        return "Accepted"
