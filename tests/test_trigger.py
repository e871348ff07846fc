"""TriggerMessage (OCPP 1.6 §5.17, errata 3.40; MicroOcpp §1.6 RemoteTrigger)."""

from __future__ import annotations

import json

import pytest
from fake_csms import booted
from test_status import Hardware

from ocpp_core.assembly import for_version
from ocpp_core.clock import parse_datetime


def trigger(csms, message: str, connector: int | None = None) -> str:
    payload = {"requestedMessage": message}
    if connector is not None:
        payload["connectorId"] = connector
    return csms.result("TriggerMessage", payload)["status"]


def test_reply_leaves_before_the_triggered_message() -> None:
    cp, csms = booted()
    message_id = csms.send("TriggerMessage", {"requestedMessage": "Heartbeat"})
    reply, heartbeat = (json.loads(frame) for frame in cp.poll(csms.now))
    assert reply == [3, message_id, {"status": "Accepted"}]
    assert heartbeat[2] == "Heartbeat"


def test_triggered_heartbeat_sets_the_clock() -> None:
    cp, csms = booted()
    csms.handlers["Heartbeat"] = lambda payload: {"currentTime": "2031-05-06T07:08:09Z"}
    assert trigger(csms, "Heartbeat", connector=7) == "Accepted"  # connectorId does not matter
    assert csms.actions() == ["Heartbeat", "SecurityEventNotification"]  # SettingSystemTime
    assert cp.clock.wall(csms.now) == parse_datetime("2031-05-06T07:08:09Z")


def test_triggered_boot_notification() -> None:
    cp, csms = booted()
    assert trigger(csms, "BootNotification") == "Accepted"
    assert csms.actions() == ["BootNotification"]
    assert cp.registration == "Accepted"


def test_status_notification_for_one_connector_with_its_current_status() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    hw.plugged = True
    cp.change_configuration("MinimumStatusDuration", "60")  # not yet reported on its own
    assert trigger(csms, "StatusNotification", connector=1) == "Accepted"
    assert [(p["connectorId"], p["status"]) for p in csms.payloads("StatusNotification")] == [
        (1, "Preparing")
    ]
    csms.advance(120)
    assert len(csms.payloads("StatusNotification")) == 1  # the trigger already reported it


def test_status_notification_without_connector_covers_the_station_and_all_connectors() -> None:
    _cp, csms = booted()
    assert trigger(csms, "StatusNotification") == "Accepted"
    assert [p["connectorId"] for p in csms.payloads("StatusNotification")] == [0, 1, 2]


def test_status_notification_for_connector_zero_is_the_charge_point() -> None:
    _cp, csms = booted()
    assert trigger(csms, "StatusNotification", connector=0) == "Accepted"
    assert [p["connectorId"] for p in csms.payloads("StatusNotification")] == [0]


@pytest.mark.parametrize("connector", [3, -1])
def test_status_notification_for_an_unknown_connector_is_rejected(connector: int) -> None:
    _cp, csms = booted()
    assert trigger(csms, "StatusNotification", connector=connector) == "Rejected"
    assert csms.actions() == []


def test_unknown_requested_message_is_a_property_violation() -> None:
    _cp, csms = booted()
    reply = csms.call("TriggerMessage", {"requestedMessage": "StartTransaction"})
    assert reply[2] == "PropertyConstraintViolation"


def test_triggerable_messages_come_from_the_blocks() -> None:
    assert set(for_version("1.6").triggers) == {
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "LogStatusNotification",  # ExtendedTriggerMessage only
        "MeterValues",
        "SignCertificate",  # ExtendedTriggerMessage SignChargePointCertificate only
        "StatusNotification",
    }
