"""BootNotification (OCPP 1.6 §4.2, errata 3.11/3.22; MicroOcpp tests/Boot.cpp).

Boot.cpp scenarios that have no counterpart here, and why:

* Auto recovery (boot statistics; after more than 3 short boots MicroOcpp wipes its state):
  a guard against firmware crash loops caused by a bad state file. Our store cannot cause
  one: writes are atomic and every document is checked when it is loaded; a corrupt or
  invalid one is logged, moved aside and replaced by defaults (tests/test_store.py,
  test_configuration.py, test_availability.py, the journal tests).
* Migration (a new MicroOcpp version deletes the operation store and transactions): the same
  load-time checks decide document by document, so an update never throws away a
  transaction that the new version can still read.
* Clean unused configs: a stored key no module declares is ignored, not deleted
  (test_configuration.py::test_stored_keys_nobody_declares_are_ignored), so switching to a
  build without a profile and back keeps its settings.
* Boot with v201: OCPP 2.0.1's boot is tested in tests/test_v201_boot.py.
"""

from __future__ import annotations

import json

import pytest
from fake_csms import IDENTITY, SILENT, WALL_START, Error, booted, station

from ocpp_core import BootAccepted, BootNotAccepted, ChargePoint, StationIdentity
from ocpp_core.store import MemoryStore
from ocpp_core.v16.boot import MAX_INTERVAL


def pending(interval: int = 30):
    return lambda payload: {
        "status": "Pending",
        "currentTime": "2024-01-01T00:00:00Z",
        "interval": interval,
    }


def rejected(interval: int = 30):
    return lambda payload: {
        "status": "Rejected",
        "currentTime": "2024-01-01T00:00:00Z",
        "interval": interval,
    }


def test_boot_notification_is_the_first_message_and_carries_the_identity() -> None:
    identity = StationIdentity(
        vendor="Acme",
        model="AC-22",
        serial_number="SN1",
        charge_box_serial_number="CB1",
        firmware_version="2.3.4",
        iccid="8931",
        imsi="2620",
        meter_type="M-1",
        meter_serial_number="MS1",
    )
    cp = ChargePoint(identity=identity)
    cp.connected(0.0)
    [frame] = cp.poll(0.0)
    assert json.loads(frame)[2:] == [
        "BootNotification",
        {
            "chargePointVendor": "Acme",
            "chargePointModel": "AC-22",
            "chargePointSerialNumber": "SN1",
            "chargeBoxSerialNumber": "CB1",
            "firmwareVersion": "2.3.4",
            "iccid": "8931",
            "imsi": "2620",
            "meterType": "M-1",
            "meterSerialNumber": "MS1",
        },
    ]


def test_nothing_is_sent_before_the_connection_opens() -> None:
    cp, _csms = station()
    assert cp.poll(0.0) == []
    assert cp.poll(100.0) == []


@pytest.mark.parametrize("field", ["vendor", "model"])
def test_identity_fields_are_checked_against_the_schema(field: str) -> None:
    values = {"vendor": "V", "model": "M", field: "x" * 21}
    with pytest.raises(ValueError, match=field):
        StationIdentity(**values)


def test_accepted_sets_clock_and_heartbeat_interval_and_reports_all_connectors() -> None:
    cp, csms = station()
    events: list[object] = []
    cp.subscribe(events.append)
    csms.now = 5.0
    csms.connect()
    assert cp.registration == "Accepted"
    assert cp.clock.is_synced
    assert cp.clock.wall(5.0) == pytest.approx(WALL_START + 5.0, abs=0.001)
    assert cp.get_configuration("HeartbeatInterval") == "300"
    assert BootAccepted(300) in events
    statuses = csms.payloads("StatusNotification")
    assert [(p["connectorId"], p["status"]) for p in statuses] == [
        (0, "Available"),
        (1, "Available"),
        (2, "Available"),
    ]
    assert all(p["timestamp"] == csms.wall_text() for p in statuses)


def test_accepted_with_interval_zero_keeps_the_heartbeat_interval() -> None:
    cp, csms = station()
    csms.heartbeat_interval = 0
    csms.connect()
    assert cp.get_configuration("HeartbeatInterval") == "86400"


def test_pending_retries_after_the_interval() -> None:
    cp, csms = station()
    csms.handlers["BootNotification"] = pending(30)
    events: list[object] = []
    cp.subscribe(events.append)
    csms.connect()
    assert cp.registration == "Pending"
    assert BootNotAccepted("Pending", 30.0) in events
    csms.advance(29)
    assert csms.actions() == ["BootNotification"]
    csms.advance(1)
    assert csms.actions() == ["BootNotification", "BootNotification"]


@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_interval_zero_means_the_station_chooses_60_seconds(status: str) -> None:
    _cp, csms = station()
    csms.handlers["BootNotification"] = pending(0) if status == "Pending" else rejected(0)
    csms.connect()
    csms.advance(59)
    assert csms.actions() == ["BootNotification"]
    csms.advance(1)
    assert csms.actions() == ["BootNotification", "BootNotification"]


def test_pending_holds_every_other_request_until_accepted() -> None:
    cp, csms = station()
    csms.handlers["BootNotification"] = pending(30)
    csms.connect()
    cp.send_data_transfer("v", data="queued", now=csms.now)
    csms.advance(29)
    assert csms.actions() == ["BootNotification"]  # no StatusNotification, Heartbeat, DataTransfer
    csms.handlers["BootNotification"] = csms._boot
    csms.advance(1)
    assert csms.actions()[:2] == ["BootNotification", "BootNotification"]
    assert "DataTransfer" in csms.actions()
    assert csms.actions().count("StatusNotification") == 3


def test_pending_station_answers_the_csms() -> None:
    _cp, csms = station()
    csms.handlers["BootNotification"] = pending(30)
    csms.connect()
    reply = csms.result("GetConfiguration", {"key": ["NumberOfConnectors"]})
    assert reply["configurationKey"][0]["value"] == "2"


def test_triggered_messages_pass_while_pending() -> None:
    _cp, csms = station()
    csms.handlers["BootNotification"] = pending(300)
    csms.connect()
    csms.clear()
    status = csms.result(
        "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1}
    )
    assert status == {"status": "Accepted"}
    assert csms.actions() == ["StatusNotification"]
    csms.result("TriggerMessage", {"requestedMessage": "Heartbeat"})
    assert csms.actions() == ["StatusNotification", "Heartbeat"]


def test_triggered_boot_notification_goes_out_before_the_interval() -> None:
    cp, csms = station()
    csms.handlers["BootNotification"] = pending(300)
    csms.connect()
    csms.handlers["BootNotification"] = csms._boot
    reply = csms.call("TriggerMessage", {"requestedMessage": "BootNotification"})
    assert reply[2] == {"status": "Accepted"}
    assert csms.actions()[:2] == ["BootNotification", "BootNotification"]
    assert cp.registration == "Accepted"


def test_rejected_station_sends_nothing_until_the_interval_and_ignores_calls() -> None:
    cp, csms = station()
    csms.handlers["BootNotification"] = rejected(30)
    csms.connect()
    assert cp.registration == "Rejected"
    cp.send_data_transfer("v", now=csms.now)
    csms.send("GetConfiguration", {}, message_id="ignored")
    csms.send("TriggerMessage", {"requestedMessage": "Heartbeat"}, message_id="ignored-2")
    cp.receive('[2,"broken","Reset",{', csms.now)
    csms.advance(29)
    assert csms.sent[1:] == []
    assert "ignored" not in csms.replies
    csms.handlers["BootNotification"] = csms._boot
    csms.advance(1)
    assert csms.actions()[:2] == ["BootNotification", "BootNotification"]
    assert cp.registration == "Accepted"
    assert "DataTransfer" in csms.actions()
    assert csms.result("GetConfiguration", {"key": ["HeartbeatInterval"]})


def test_boot_timeout_retries_a_minute_after_the_previous_attempt() -> None:
    _cp, csms = station()
    csms.handlers["BootNotification"] = lambda payload: SILENT
    csms.connect()
    csms.advance(59)
    assert csms.actions() == ["BootNotification"]
    csms.advance(1)
    assert csms.actions() == ["BootNotification", "BootNotification"]


def test_boot_callerror_is_retried() -> None:
    cp, csms = station()
    csms.handlers["BootNotification"] = lambda payload: Error("InternalError")
    csms.connect()
    assert cp.registration is None
    csms.handlers["BootNotification"] = csms._boot
    csms.advance(60)
    assert cp.registration == "Accepted"


@pytest.mark.parametrize(
    "response",
    [
        {"status": "Accepted", "interval": 300},
        {"status": "Accepted", "currentTime": "yesterday", "interval": 300},
        {"status": "Accepted", "currentTime": "2024-01-01T00:00:00Z", "interval": 1.5},
        {"status": "Welcome", "currentTime": "2024-01-01T00:00:00Z", "interval": 300},
    ],
    ids=["no currentTime", "bad currentTime", "interval not an integer", "unknown status"],
)
def test_invalid_boot_response_is_ignored_and_retried(response: dict) -> None:
    cp, csms = station()
    csms.handlers["BootNotification"] = lambda payload: response
    csms.connect()
    assert cp.registration is None
    assert not cp.clock.is_synced
    csms.handlers["BootNotification"] = csms._boot
    csms.advance(60)
    assert cp.registration == "Accepted"


def test_disconnect_during_boot_sends_it_again_on_reconnect() -> None:
    cp, csms = station()
    csms.handlers["BootNotification"] = lambda payload: SILENT
    csms.connect()
    csms.disconnect()
    csms.handlers["BootNotification"] = csms._boot
    csms.now += 5
    csms.connect()
    assert csms.actions()[:2] == ["BootNotification", "BootNotification"]
    assert cp.registration == "Accepted"


def test_reconnect_after_acceptance_sends_no_new_boot_notification() -> None:
    _cp, csms = booted()
    csms.disconnect()
    csms.now += 10
    csms.connect()
    assert "BootNotification" not in csms.actions()


def test_reboot_boots_again_with_the_persisted_heartbeat_interval() -> None:
    store = MemoryStore()
    _cp, csms = station(store=store)
    csms.heartbeat_interval = 120
    csms.connect()
    rebooted = ChargePoint(identity=IDENTITY, store=store)
    assert rebooted.get_configuration("HeartbeatInterval") == "120"
    assert rebooted.registration is None
    rebooted.connected(0.0)
    assert json.loads(rebooted.poll(0.0)[0])[2] == "BootNotification"


def test_heartbeat_waits_for_acceptance() -> None:
    cp, csms = station()
    csms.handlers["BootNotification"] = pending(100_000)
    csms.connect()
    cp.change_configuration("HeartbeatInterval", "10")
    csms.advance(100, step=5)
    assert csms.actions() == ["BootNotification"]


def test_status_notifications_wait_for_acceptance() -> None:
    cp, csms = station()
    csms.handlers["BootNotification"] = pending(60)
    csms.connect()
    cp.connector(1).plugged = lambda: True
    csms.advance(30)
    assert csms.actions() == ["BootNotification"]
    csms.handlers["BootNotification"] = csms._boot
    csms.advance(30)
    statuses = [(p["connectorId"], p["status"]) for p in csms.payloads("StatusNotification")]
    # In the order the statuses arose (§4.9 rule 4): connector 1 became Preparing last.
    assert statuses == [(0, "Available"), (2, "Available"), (1, "Preparing")]


def test_next_wakeup_follows_the_boot_retry() -> None:
    cp, csms = station()
    csms.handlers["BootNotification"] = pending(45)
    assert cp.next_wakeup(0.0) is None  # not connected
    csms.connect()
    assert cp.next_wakeup(csms.now) == 45.0


def test_an_unknown_ocpp_version_is_refused_with_the_supported_ones() -> None:
    with pytest.raises(ValueError, match=r"'1\.6', '2\.0\.1'"):
        ChargePoint(identity=IDENTITY, version="2.1")


@pytest.mark.parametrize("connectors", [0, 100, 1.5])
def test_connector_count_is_checked(connectors: object) -> None:
    with pytest.raises(ValueError, match="connectors"):
        ChargePoint(identity=IDENTITY, connectors=connectors)


@pytest.mark.parametrize("connector", [-1, 3, "1"])
def test_unknown_connector_handle_is_refused(connector: object) -> None:
    cp = ChargePoint(identity=IDENTITY, connectors=2)
    with pytest.raises(ValueError, match="connector"):
        cp.connector(connector)
    with pytest.raises(ValueError, match="connector"):
        cp.status(connector, 0.0)


def test_version_attribute_names_the_protocol() -> None:
    assert ChargePoint(identity=IDENTITY).version == "1.6"


# ---------------------------------------------------------------------- hostile CSMS numbers


@pytest.mark.parametrize(
    "current_time",
    ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00+01:00"],
)
def test_absurd_current_time_is_not_synced_and_no_status_is_lost(current_time: str) -> None:
    cp, csms = station()
    csms.handlers["BootNotification"] = lambda payload: {
        "status": "Accepted",
        "currentTime": current_time,
        "interval": 300,
    }
    csms.connect()
    assert cp.registration == "Accepted"  # the registration counts, the time does not
    assert not cp.clock.is_synced
    cp.connector(1).plugged = lambda: True
    csms.advance(5)
    statuses = [(p["connectorId"], p["status"]) for p in csms.payloads("StatusNotification")]
    assert statuses[-1] == (1, "Preparing")
    assert csms.result("Reset", {"type": "Soft"}) == {"status": "Rejected"}  # still answering


def _raw_boot_reply(cp: ChargePoint, status: str, interval_text: str) -> None:
    cp.connected(0.0)
    boot = json.loads(cp.poll(0.0)[0])
    fields = f'"status":"{status}","currentTime":"2024-01-01T00:00:00Z","interval":{interval_text}'
    cp.receive(f'[3,"{boot[1]}",{{{fields}}}]', 0.0)


@pytest.mark.parametrize("interval_text", ["1" + "0" * 400, str(10**15), str(2**31)])
def test_huge_accepted_interval_is_clamped_and_the_engine_keeps_working(
    interval_text: str, caplog
) -> None:
    store = MemoryStore()
    cp = ChargePoint(identity=IDENTITY, store=store)
    _raw_boot_reply(cp, "Accepted", interval_text)
    assert cp.registration == "Accepted"
    assert cp.get_configuration("HeartbeatInterval") == str(MAX_INTERVAL) == str(2**31 - 1)
    assert "interval" in caplog.text
    for t in range(1, 8):
        for text in cp.poll(float(t)):  # OverflowError here before the fix
            frame = json.loads(text)
            if frame[0] == 2:
                cp.receive(json.dumps([3, frame[1], {}]), float(t))
    cp.receive('[2,"r1","GetConfiguration",{"key":["HeartbeatInterval"]}]', 8.0)
    assert json.loads(cp.poll(8.0)[0])[2]["configurationKey"][0]["value"] == str(2**31 - 1)
    rebooted = ChargePoint(identity=IDENTITY, store=store)  # nothing poisoned in the Store
    rebooted.connected(0.0)
    assert json.loads(rebooted.poll(0.0)[0])[2] == "BootNotification"


@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_huge_retry_interval_is_clamped(status: str) -> None:
    cp = ChargePoint(identity=IDENTITY)
    _raw_boot_reply(cp, status, "1" + "0" * 400)  # OverflowError in receive before the fix
    assert cp.registration == status
    assert cp.poll(61.0) == []
    assert cp.next_wakeup(61.0) == float(MAX_INTERVAL)
