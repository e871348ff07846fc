"""TriggerMessage (OCPP 1.6 §5.17, errata 3.35/3.40/3.46): the CSMS asks for a message now.

Which messages can be triggered is collected from the blocks' ``@trigger`` methods, so a block
makes its message triggerable by declaring one. The matrix:

* a requestedMessage outside the MessageTrigger enum (e.g. StartTransaction, which §5.17 leaves
  out on purpose) breaks the request schema: CALLERROR PropertyConstraintViolation (the code
  errata 3.24 and 3.38 give an invalid enumeration value), never MicroOcpp's Accepted plus a
  broken CALL;
* one in the enum that no block declares: NotImplemented (§5.17: "unknown or not implemented");
* otherwise the sender decides Accepted or Rejected. connectorId matters only to
  StatusNotification and MeterValues: absent means "for all allowed connectorId values" (0, the
  charge point, and every connector), an id outside 0..N is Rejected. For BootNotification,
  Heartbeat, FirmwareStatusNotification and DiagnosticsStatusNotification it is ignored, whatever
  its value, and the message is sent ("if the specified connectorId is not relevant to the
  message, it should be ignored"). A connectorId that is not an integer is a
  TypeConstraintViolation (schema). A BootNotification is Accepted also once registered: errata
  3.35 only RECOMMENDS Rejected then, and 3.40 forbids the CSMS to ask.

The reply leaves before the triggered message, which may go out even while the BootNotification
is Pending (§4.2).

ExtendedTriggerMessage (security whitepaper §5.5, the 2.0.1 TriggerMessage renamed) routes the
same way: BootNotification, Heartbeat, MeterValues and StatusNotification to the same senders
(connectorId as above), LogStatusNotification to the GetLog block, FirmwareStatusNotification to
the sender of SignedFirmwareStatusNotification (L01.FR.28/29) and SignChargePointCertificate to
the sender of SignCertificate; what no block sends is NotImplemented.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ocpp_core.block import on
from ocpp_core.triggers import TriggerRouter

if TYPE_CHECKING:
    from ocpp_core.v16.payloads import (
        ExtendedTriggerMessageRequest,
        ExtendedTriggerMessageResponse,
        TriggerMessageRequest,
        TriggerMessageResponse,
        TriggerMessageResponseStatus,
        TriggerMessageStatusEnumType,
    )

__all__ = ["EXTENDED_SENDERS", "TriggerBlock"]

# ExtendedTriggerMessage's requestedMessage -> the message a block's @trigger sends for it.
EXTENDED_SENDERS = {
    "FirmwareStatusNotification": "SignedFirmwareStatusNotification",
    "SignChargePointCertificate": "SignCertificate",
}


class TriggerBlock(TriggerRouter):
    """Routes TriggerMessage to the block that sends the requested message."""

    __slots__ = ()

    @on("TriggerMessage")
    def trigger_message(self, payload: TriggerMessageRequest, now: float) -> TriggerMessageResponse:
        status = self.route(payload["requestedMessage"], payload.get("connectorId"), now)
        return {"status": cast("TriggerMessageResponseStatus", status)}

    @on("ExtendedTriggerMessage")
    def extended_trigger_message(
        self, payload: ExtendedTriggerMessageRequest, now: float
    ) -> ExtendedTriggerMessageResponse:
        message = payload["requestedMessage"]
        status = self.route(EXTENDED_SENDERS.get(message, message), payload.get("connectorId"), now)
        return {"status": cast("TriggerMessageStatusEnumType", status)}
