"""TriggerMessage (OCPP 2.0.1 F06): the CSMS asks for a message now.

The shared TriggerRouter (ocpp_core/triggers.py) finds the block that declares ``@trigger`` for
the requestedMessage; one no block declares (SignCombinedCertificate,
PublishFirmwareStatusNotification: no ISO 15118 combined certificate, no local controller) is
NotImplemented (F06.FR.08); SignChargingStationCertificate and SignV2GCertificate are
v201/certificate_renewal.py's (Rejected while the station cannot make a CSR: no key generator or
no SecurityCtrlr.OrganizationName). A requestedMessage outside the
enum fails the request schema (CALLERROR). ``evse.id`` goes to the sender, which answers Rejected
for an EVSE that does not exist where the message concerns EVSEs (StatusNotification,
MeterValues, TransactionEvent) and ignores it where it does not (BootNotification, Heartbeat,
FirmwareStatusNotification, LogStatusNotification: F06.FR.03/TC_F_17). Each EVSE has only
connector 1: a StatusNotification request for another connectorId is Rejected.
FirmwareStatusNotification and LogStatusNotification come from the firmware and logs blocks:
Idle while no update or upload runs (F06.FR.15/16).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ocpp_core.block import on
from ocpp_core.triggers import TriggerRouter

if TYPE_CHECKING:
    from ocpp_core.v201.payloads import (
        TriggerMessageRequest,
        TriggerMessageResponse,
        TriggerMessageStatusEnumType,
    )

__all__ = ["TriggerBlock"]

CONNECTOR_ID = 1  # the only connector of each EVSE


class TriggerBlock(TriggerRouter):
    """Routes TriggerMessage to the block that sends the requested message."""

    __slots__ = ()

    @on("TriggerMessage")
    def trigger_message(self, payload: TriggerMessageRequest, now: float) -> TriggerMessageResponse:
        message, evse = payload["requestedMessage"], payload.get("evse")
        # int(): the draft-06 schemas let an integer arrive as 1.0.
        target = None if evse is None else int(evse["id"])
        if (
            evse is not None
            and message == "StatusNotification"
            and evse.get("connectorId", CONNECTOR_ID) != CONNECTOR_ID
        ):
            return {"status": "Rejected"}
        status = self.route(message, target, now)
        return {"status": cast("TriggerMessageStatusEnumType", status)}
