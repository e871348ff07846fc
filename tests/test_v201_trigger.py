"""OCPP 2.0.1 TriggerMessage (F06), after part 6's TC_F_* trigger steps: every requestedMessage
of MessageTriggerEnumType, with and without evse. TC_F_13/F_14 (TransactionEvent) are in
test_v201_transactions.py."""

from __future__ import annotations

import pytest
from fake_csms import WALL_START
from fake_csms201 import booted201, station201
from tx_rig201 import Rig201

from ocpp_core.clock import format_datetime

ALL_MESSAGES = (
    "BootNotification",
    "LogStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "SignChargingStationCertificate",
    "SignV2GCertificate",
    "StatusNotification",
    "TransactionEvent",
    "SignCombinedCertificate",
    "PublishFirmwareStatusNotification",
)
NOT_IMPLEMENTED = {
    "SignCombinedCertificate",
    "PublishFirmwareStatusNotification",
}


def trigger(csms, message: str, evse: dict | None = None) -> str:  # type: ignore[no-untyped-def]
    payload: dict = {"requestedMessage": message}
    if evse is not None:
        payload["evse"] = evse
    return csms.result("TriggerMessage", payload)["status"]


def metered_rig() -> Rig201:
    r = Rig201()
    r.clear()
    return r


def test_TC_F_11_CS_trigger_meter_values_specific_evse() -> None:
    r = metered_rig()
    assert trigger(r.csms, "MeterValues", {"id": 1}) == "Accepted"
    (payload,) = r.csms.payloads("MeterValues")
    assert payload["evseId"] == 1
    assert payload["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"


def test_TC_F_12_CS_trigger_meter_values_all_evse() -> None:
    r = metered_rig()
    assert trigger(r.csms, "MeterValues") == "Accepted"
    payloads = r.csms.payloads("MeterValues")
    assert {1, 2} <= {p["evseId"] for p in payloads}
    for payload in payloads:
        assert payload["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"


def test_TC_F_15_CS_trigger_log_status_notification_idle() -> None:
    _cp, csms = booted201()
    assert trigger(csms, "LogStatusNotification") == "Accepted"
    assert csms.payloads("LogStatusNotification") == [{"status": "Idle"}]


def test_TC_F_17_CS_trigger_firmware_status_with_an_evse_not_relevant() -> None:
    _cp, csms = booted201()
    assert trigger(csms, "FirmwareStatusNotification", {"id": 1}) == "Accepted"
    assert csms.payloads("FirmwareStatusNotification") == [{"status": "Idle"}]


def test_TC_F_18_CS_trigger_firmware_status_notification_idle() -> None:
    _cp, csms = booted201()
    assert trigger(csms, "FirmwareStatusNotification") == "Accepted"
    assert csms.payloads("FirmwareStatusNotification") == [{"status": "Idle"}]


def test_TC_F_20_CS_trigger_heartbeat() -> None:
    _cp, csms = booted201()
    assert trigger(csms, "Heartbeat") == "Accepted"
    assert csms.actions() == ["Heartbeat"]
    # An evse is not relevant to a Heartbeat: ignored (F06.FR.03).
    assert trigger(csms, "Heartbeat", {"id": 2}) == "Accepted"
    assert csms.actions() == ["Heartbeat", "Heartbeat"]


def test_TC_F_23_CS_trigger_status_notification_specific_evse_available() -> None:
    _cp, csms = booted201()
    assert trigger(csms, "StatusNotification", {"id": 1, "connectorId": 1}) == "Accepted"
    (payload,) = csms.payloads("StatusNotification")
    assert (payload["evseId"], payload["connectorId"], payload["connectorStatus"]) == (
        1,
        1,
        "Available",
    )


def test_TC_F_24_CS_trigger_status_notification_specific_evse_occupied() -> None:
    r = Rig201()
    r.plug(2)
    r.clear()
    assert trigger(r.csms, "StatusNotification", {"id": 2, "connectorId": 1}) == "Accepted"
    (payload,) = r.csms.payloads("StatusNotification")
    assert (payload["evseId"], payload["connectorStatus"]) == (2, "Occupied")


def test_F06_trigger_status_notification_without_evse_reports_every_connector() -> None:
    _cp, csms = booted201()
    assert trigger(csms, "StatusNotification") == "Accepted"
    assert [p["evseId"] for p in csms.payloads("StatusNotification")] == [1, 2]


@pytest.mark.parametrize(
    "evse", [{"id": 3}, {"id": 0}, {"id": 1, "connectorId": 2}, {"id": 1, "connectorId": 0}]
)
def test_F06_trigger_status_notification_for_an_unknown_evse_or_connector_is_rejected(
    evse: dict,
) -> None:
    _cp, csms = booted201()
    assert trigger(csms, "StatusNotification", evse) == "Rejected"
    assert csms.actions() == []


@pytest.mark.parametrize("message", ["MeterValues", "TransactionEvent"])
def test_F06_trigger_for_an_evse_that_does_not_exist_is_rejected(message: str) -> None:
    r = metered_rig()
    assert trigger(r.csms, message, {"id": 9}) == "Rejected"
    assert r.csms.actions() == []


def test_TC_F_26_CS_trigger_boot_notification_once_accepted_is_rejected() -> None:
    _cp, csms = booted201()
    assert trigger(csms, "BootNotification") == "Rejected"
    assert csms.actions() == []


def test_F06_trigger_boot_notification_while_pending_sends_it_at_once() -> None:
    """TC_B_02 step 13-15 / TC_B_31: while Pending the boot is re-sent at once, reason Triggered."""
    _cp, csms = station201()
    csms.handlers["BootNotification"] = lambda payload: {
        "status": "Pending",
        "currentTime": format_datetime(WALL_START + csms.now),
        "interval": 3600,
    }
    csms.connect()
    assert trigger(csms, "BootNotification") == "Accepted"
    assert [p["reason"] for p in csms.payloads("BootNotification")] == ["PowerUp", "Triggered"]
    # A Heartbeat may be triggered while Pending too (the gate lets triggered messages out).
    assert trigger(csms, "Heartbeat") == "Accepted"
    assert csms.actions()[-1] == "Heartbeat"


@pytest.mark.parametrize("message", sorted(NOT_IMPLEMENTED))
def test_TC_F_27_CS_trigger_not_implemented(message: str) -> None:
    _cp, csms = booted201()
    assert trigger(csms, message) == "NotImplemented"
    assert trigger(csms, message, {"id": 1}) == "NotImplemented"
    assert csms.actions() == []


@pytest.mark.parametrize("message", ALL_MESSAGES)
@pytest.mark.parametrize("evse", [None, {"id": 1}, {"id": 2, "connectorId": 1}, {"id": 7}])
def test_F06_every_requested_message_with_and_without_evse_gets_a_status(
    message: str, evse: dict | None
) -> None:
    """Whatever is asked, an answer from the enum, and an Accepted one is followed by that
    message (every frame is schema-checked by the test harness)."""
    r = metered_rig()
    r.card("TOKEN1", evse=1)
    r.plug(1)  # a transaction runs on EVSE 1
    r.clear()
    status = trigger(r.csms, message, evse)
    assert status in ("Accepted", "Rejected", "NotImplemented")
    assert (status == "NotImplemented") == (message in NOT_IMPLEMENTED)
    if status == "Accepted":
        assert message in r.csms.actions()
    else:
        assert message not in r.csms.actions()


def test_F06_unknown_requested_message_is_a_schema_error() -> None:
    _cp, csms = booted201()
    reply = csms.call("TriggerMessage", {"requestedMessage": "StartTransaction"})
    assert reply[0] == 4 and reply[2] in ("PropertyConstraintViolation", "FormationViolation")
