"""BootNotification (OCPP 2.0.1 B01-B04): registration with the CSMS.

The registration machinery is version-neutral (ocpp_core/registration.py: the outbox gate,
retries after ``interval``, the clock set from ``currentTime``, the interval clamp). 2.0.1's own
parts:

* the payload: ``reason`` (BootReasonEnumType) and the ``chargingStation`` from the identity.
  The reason of the next boot is kept in the Store document ``bootreason`` by whoever reboots
  the station (Reset: RemoteReset; firmware: FirmwareUpdate) before it does, and forgotten once
  the CSMS accepted a boot that carried it; without one the boot is a PowerUp. A boot sent
  because of TriggerMessage says Triggered.
* Accepted sets ``OCPPCommCtrlr.HeartbeatInterval`` (B01.FR.04).
* Pending (B02): the gate lets out only what the CSMS triggered or asked for (NotifyReport of a
  GetBaseReport); CSMS calls are answered.
* Rejected (B03): nothing but the next BootNotification leaves; every CSMS call is answered with
  CALLERROR SecurityError (B03.FR.08, errata 2023-12).
* TriggerMessage(BootNotification) is Rejected once Accepted (F06.FR.17).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import trigger
from ocpp_core.log import logger
from ocpp_core.registration import ACCEPTED, RegistrationBlock

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject

__all__ = ["BOOT_REASONS", "DOCUMENT", "HEARTBEAT_INTERVAL", "BootBlock", "next_boot_reason"]

DOCUMENT = "bootreason"
HEARTBEAT_INTERVAL = "OCPPCommCtrlr.HeartbeatInterval"
# BootReasonEnumType.
BOOT_REASONS = frozenset(
    {
        "ApplicationReset",
        "FirmwareUpdate",
        "LocalReset",
        "PowerUp",
        "RemoteReset",
        "ScheduledReset",
        "Triggered",
        "Unknown",
        "Watchdog",
    }
)


def next_boot_reason(ctx: BlockContext, reason: str) -> None:
    """Record why the station is about to reboot (before the reboot): the next boot says so."""
    assert reason in BOOT_REASONS
    ctx.store.save(DOCUMENT, reason)


class BootBlock(RegistrationBlock):
    """Registration state and the 2.0.1 BootNotification request source."""

    __slots__ = ("_reason", "_trigger_reason")

    heartbeat_key = HEARTBEAT_INTERVAL

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        stored = ctx.store.load(DOCUMENT)
        if stored is not None and not (isinstance(stored, str) and stored in BOOT_REASONS):
            logger().warning("stored boot reason is invalid; booting as PowerUp")
            stored = None
        self._reason = "PowerUp" if stored is None else str(stored)
        self._trigger_reason = False

    def payload(self) -> JsonObject:
        identity = self.ctx.identity
        station: JsonObject = {"model": identity.model, "vendorName": identity.vendor}
        if identity.serial_number is not None:
            station["serialNumber"] = identity.serial_number
        if identity.firmware_version is not None:
            station["firmwareVersion"] = identity.firmware_version
        modem = {
            name: value
            for name, value in (("iccid", identity.iccid), ("imsi", identity.imsi))
            if value is not None
        }
        if modem:
            station["modem"] = modem
        reason = "Triggered" if self._trigger_reason else self._reason
        self._trigger_reason = False
        return {"reason": reason, "chargingStation": station}

    def _on_result(self, payload: JsonObject, now: float) -> None:
        super()._on_result(payload, now)
        if self.registration == ACCEPTED and self.ctx.store.load(DOCUMENT) is not None:
            self.ctx.store.delete(DOCUMENT)  # this boot's reason is told; the next is a PowerUp

    def rejected_calls(self) -> None:
        super().rejected_calls()
        self.ctx.call_refusal = "SecurityError"

    @trigger("BootNotification")
    def send_triggered(self, evse: int | None, now: float) -> str:
        """TriggerMessage(BootNotification): Rejected once Accepted (F06.FR.17), else sent now."""
        if self.registration == ACCEPTED:
            return "Rejected"
        self._trigger_reason = True
        self.trigger_boot()
        return "Accepted"
