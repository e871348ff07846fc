"""OCPP 1.6 side of the demo CSMS: a valid answer to every charge-point-initiated action.

Covers the core profile plus the CP->CSMS actions of the 1.6 security extension that the
`ocpp` package knows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result, datatypes
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    DataTransferStatus,
    GenericStatus,
    RegistrationStatus,
)

from devtools.csms_station import CsmsStation, rename_error_code, utc_now
from devtools.registry import TransactionRecord

SUBPROTOCOL = "ocpp1.6"

# The `ocpp` package emits the 2.0.1 spellings; OCPP-J 1.6 keeps its published typos
# (errata sheet: "do not fix"), so a 1.6 peer must see these.
_V16_ERROR_CODES = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
}


def _accepted() -> datatypes.IdTagInfo:
    return datatypes.IdTagInfo(status=AuthorizationStatus.accepted)


class V16Station(CsmsStation, ChargePoint):
    """One OCPP 1.6 connection as seen by the CSMS."""

    def adapt_outgoing(self, message: str) -> str:
        return rename_error_code(message, _V16_ERROR_CODES)

    @on(Action.authorize)
    def on_authorize(self, **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info=_accepted())

    @on(Action.boot_notification)
    def on_boot_notification(self, **payload: Any) -> call_result.BootNotification:
        self.state.record_boot(payload)
        return call_result.BootNotification(
            current_time=utc_now(),
            interval=self.options.heartbeat_interval,
            status=RegistrationStatus.accepted,
        )

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        known = vendor_id in self.options.accepted_vendor_ids
        status = DataTransferStatus.accepted if known else DataTransferStatus.unknown_vendor_id
        return call_result.DataTransfer(status=status)

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status_notification(
        self, **_: Any
    ) -> call_result.DiagnosticsStatusNotification:
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, **_: Any) -> call_result.FirmwareStatusNotification:
        return call_result.FirmwareStatusNotification()

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        self.state.last_heartbeat_at = datetime.now(UTC)
        return call_result.Heartbeat(current_time=utc_now())

    @on(Action.meter_values)
    def on_meter_values(self, meter_value: list[Any], **_: Any) -> call_result.MeterValues:
        self.state.last_meter_values = meter_value
        return call_result.MeterValues()

    @on(Action.start_transaction)
    def on_start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        call_unique_id: str,
        **_: Any,
    ) -> call_result.StartTransaction:
        # A station re-sends a StartTransaction whose answer it lost under the same message id
        # (at-least-once delivery): recognise the repeat and give the same transactionId.
        known = self.state.start_message_ids.get(call_unique_id)
        if known is not None:
            self.state.repeated_starts += 1
            return call_result.StartTransaction(transaction_id=known, id_tag_info=_accepted())
        transaction_id = next(self.context.transaction_ids)
        self.state.start_message_ids[call_unique_id] = transaction_id
        self.state.transactions[transaction_id] = TransactionRecord(
            transaction_id=transaction_id,
            evse_id=connector_id,
            id_token=id_tag,
            started_at=timestamp,
            meter_start=meter_start,
        )
        return call_result.StartTransaction(transaction_id=transaction_id, id_tag_info=_accepted())

    @on(Action.status_notification)
    def on_status_notification(
        self, connector_id: int, status: str, **_: Any
    ) -> call_result.StatusNotification:
        self.state.connector_status[(0, connector_id)] = status
        return call_result.StatusNotification()

    @on(Action.stop_transaction)
    def on_stop_transaction(
        self,
        transaction_id: int,
        meter_stop: int,
        timestamp: str,
        call_unique_id: str,
        **payload: Any,
    ) -> call_result.StopTransaction:
        self.state.stop_message_ids.setdefault(transaction_id, []).append(call_unique_id)
        record = self.state.transactions.setdefault(
            transaction_id, TransactionRecord(transaction_id=transaction_id, evse_id=0)
        )
        record.ended_at = timestamp
        record.meter_stop = meter_stop
        record.stop_reason = payload.get("reason", "Local")
        id_tag_info = _accepted() if payload.get("id_tag") is not None else None
        return call_result.StopTransaction(id_tag_info=id_tag_info)

    @on(Action.security_event_notification)
    def on_security_event_notification(self, **_: Any) -> call_result.SecurityEventNotification:
        return call_result.SecurityEventNotification()

    @on(Action.sign_certificate)
    def on_sign_certificate(self, **_: Any) -> call_result.SignCertificate:
        # The demo has no certificate authority, so it never promises a CertificateSigned.
        return call_result.SignCertificate(status=GenericStatus.rejected)

    @on(Action.log_status_notification)
    def on_log_status_notification(self, **_: Any) -> call_result.LogStatusNotification:
        return call_result.LogStatusNotification()

    @on(Action.signed_firmware_status_notification)
    def on_signed_firmware_status_notification(
        self, **_: Any
    ) -> call_result.SignedFirmwareStatusNotification:
        return call_result.SignedFirmwareStatusNotification()
