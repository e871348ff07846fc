"""OCPP 2.0.1 side of the demo CSMS: a valid answer to every CS->CSMS action of the spec."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result, datatypes
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    DataTransferStatusEnumType,
    GenericStatusEnumType,
    GetCertificateStatusEnumType,
    Iso15118EVCertificateStatusEnumType,
    NotifyEVChargingNeedsStatusEnumType,
    RegistrationStatusEnumType,
    TransactionEventEnumType,
)

from devtools.csms_station import CsmsStation, utc_now
from devtools.registry import TransactionRecord

SUBPROTOCOL = "ocpp2.0.1"


def _accepted() -> datatypes.IdTokenInfoType:
    return datatypes.IdTokenInfoType(status=AuthorizationStatusEnumType.accepted)


class V201Station(CsmsStation, ChargePoint):
    """One OCPP 2.0.1 connection as seen by the CSMS.

    Certificate and smart-charging requests get the honest "no service here" answers
    (Failed / Rejected): the demo has no PKI and never sends charging profiles on its own.
    """

    @on(Action.authorize)
    def on_authorize(self, **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_token_info=_accepted())

    @on(Action.boot_notification)
    def on_boot_notification(self, **payload: Any) -> call_result.BootNotification:
        self.state.record_boot(payload)
        return call_result.BootNotification(
            current_time=utc_now(),
            interval=self.options.heartbeat_interval,
            status=RegistrationStatusEnumType.accepted,
        )

    @on(Action.cleared_charging_limit)
    def on_cleared_charging_limit(self, **_: Any) -> call_result.ClearedChargingLimit:
        return call_result.ClearedChargingLimit()

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        known = vendor_id in self.options.accepted_vendor_ids
        status = (
            DataTransferStatusEnumType.accepted
            if known
            else DataTransferStatusEnumType.unknown_vendor_id
        )
        return call_result.DataTransfer(status=status)

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, **_: Any) -> call_result.FirmwareStatusNotification:
        return call_result.FirmwareStatusNotification()

    @on(Action.get_15118_ev_certificate)
    def on_get_15118_ev_certificate(self, **_: Any) -> call_result.Get15118EVCertificate:
        return call_result.Get15118EVCertificate(
            status=Iso15118EVCertificateStatusEnumType.failed, exi_response=""
        )

    @on(Action.get_certificate_status)
    def on_get_certificate_status(self, **_: Any) -> call_result.GetCertificateStatus:
        return call_result.GetCertificateStatus(status=GetCertificateStatusEnumType.failed)

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        self.state.last_heartbeat_at = datetime.now(UTC)
        return call_result.Heartbeat(current_time=utc_now())

    @on(Action.log_status_notification)
    def on_log_status_notification(self, **_: Any) -> call_result.LogStatusNotification:
        return call_result.LogStatusNotification()

    @on(Action.meter_values)
    def on_meter_values(self, meter_value: list[Any], **_: Any) -> call_result.MeterValues:
        self.state.last_meter_values = meter_value
        return call_result.MeterValues()

    @on(Action.notify_charging_limit)
    def on_notify_charging_limit(self, **_: Any) -> call_result.NotifyChargingLimit:
        return call_result.NotifyChargingLimit()

    @on(Action.notify_customer_information)
    def on_notify_customer_information(self, **_: Any) -> call_result.NotifyCustomerInformation:
        return call_result.NotifyCustomerInformation()

    @on(Action.notify_display_messages)
    def on_notify_display_messages(self, **_: Any) -> call_result.NotifyDisplayMessages:
        return call_result.NotifyDisplayMessages()

    @on(Action.notify_ev_charging_needs)
    def on_notify_ev_charging_needs(self, **_: Any) -> call_result.NotifyEVChargingNeeds:
        return call_result.NotifyEVChargingNeeds(
            status=NotifyEVChargingNeedsStatusEnumType.rejected
        )

    @on(Action.notify_ev_charging_schedule)
    def on_notify_ev_charging_schedule(self, **_: Any) -> call_result.NotifyEVChargingSchedule:
        return call_result.NotifyEVChargingSchedule(status=GenericStatusEnumType.accepted)

    @on(Action.notify_event)
    def on_notify_event(self, **_: Any) -> call_result.NotifyEvent:
        return call_result.NotifyEvent()

    @on(Action.notify_monitoring_report)
    def on_notify_monitoring_report(self, **_: Any) -> call_result.NotifyMonitoringReport:
        return call_result.NotifyMonitoringReport()

    @on(Action.notify_report)
    def on_notify_report(self, **_: Any) -> call_result.NotifyReport:
        return call_result.NotifyReport()

    @on(Action.publish_firmware_status_notification)
    def on_publish_firmware_status_notification(
        self, **_: Any
    ) -> call_result.PublishFirmwareStatusNotification:
        return call_result.PublishFirmwareStatusNotification()

    @on(Action.report_charging_profiles)
    def on_report_charging_profiles(self, **_: Any) -> call_result.ReportChargingProfiles:
        return call_result.ReportChargingProfiles()

    @on(Action.reservation_status_update)
    def on_reservation_status_update(self, **_: Any) -> call_result.ReservationStatusUpdate:
        return call_result.ReservationStatusUpdate()

    @on(Action.security_event_notification)
    def on_security_event_notification(self, **_: Any) -> call_result.SecurityEventNotification:
        return call_result.SecurityEventNotification()

    @on(Action.sign_certificate)
    def on_sign_certificate(self, **_: Any) -> call_result.SignCertificate:
        return call_result.SignCertificate(status=GenericStatusEnumType.rejected)

    @on(Action.status_notification)
    def on_status_notification(
        self, evse_id: int, connector_id: int, connector_status: str, **_: Any
    ) -> call_result.StatusNotification:
        self.state.connector_status[(evse_id, connector_id)] = connector_status
        return call_result.StatusNotification()

    @on(Action.transaction_event)
    def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        transaction_info: dict[str, Any],
        **payload: Any,
    ) -> call_result.TransactionEvent:
        self._track_transaction(event_type, timestamp, transaction_info, payload)
        id_token = payload.get("id_token")
        return call_result.TransactionEvent(id_token_info=_accepted() if id_token else None)

    def _track_transaction(
        self,
        event_type: str,
        timestamp: str,
        transaction_info: dict[str, Any],
        payload: dict[str, Any],
    ) -> None:
        transaction_id = transaction_info["transaction_id"]
        record = self.state.transactions.get(transaction_id)
        if record is None:
            evse = payload.get("evse") or {}
            record = TransactionRecord(
                transaction_id=transaction_id, evse_id=evse.get("id", 0), started_at=timestamp
            )
            self.state.transactions[transaction_id] = record
        record.events.append((event_type, payload["seq_no"], payload["trigger_reason"]))
        id_token = payload.get("id_token")
        if id_token:
            record.id_token = id_token.get("id_token")
        if event_type == TransactionEventEnumType.ended:
            record.ended_at = timestamp
            record.stop_reason = transaction_info.get("stopped_reason", "Local")
