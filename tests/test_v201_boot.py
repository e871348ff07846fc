"""OCPP 2.0.1 provisioning: BootNotification (B01-B04) and Heartbeat, after part 6 TC_B_*."""

from __future__ import annotations

from fake_csms import WALL_START, Error
from fake_csms201 import booted201, station201

from ocpp_core.clock import format_datetime, parse_datetime
from ocpp_core.registration import DEFAULT_RETRY
from ocpp_core.store import MemoryStore
from ocpp_core.v201.boot import next_boot_reason

HEARTBEAT = "OCPPCommCtrlr.HeartbeatInterval"


def answer(status: str, interval: int, csms, wall: float | None = None):  # type: ignore[no-untyped-def]
    return lambda payload: {
        "status": status,
        "currentTime": format_datetime(WALL_START + csms.now if wall is None else wall),
        "interval": interval,
    }


def statuses(csms) -> list[tuple[int, int, str]]:  # type: ignore[no-untyped-def]
    return [
        (p["evseId"], p["connectorId"], p["connectorStatus"])
        for p in csms.payloads("StatusNotification")
    ]


def test_TC_B_01_CS_cold_boot_accepted() -> None:
    """Booted: BootNotification (PowerUp, the station's identity), then every connector's status;
    HeartbeatInterval from the response (B01.FR.04), clock from currentTime (B01.FR.06)."""
    cp, csms = station201()
    csms.heartbeat_interval = 120
    csms.connect()
    assert csms.actions()[0] == "BootNotification"
    boot = csms.payloads("BootNotification")[0]
    assert boot == {
        "reason": "PowerUp",
        "chargingStation": {
            "model": "TestModel",
            "vendorName": "TestVendor",
            "firmwareVersion": "1.0.0",
        },
    }
    assert cp.registration == "Accepted"
    assert statuses(csms) == [(1, 1, "Available"), (2, 1, "Available")]
    for payload in csms.payloads("StatusNotification"):
        assert abs(parse_datetime(payload["timestamp"]) - WALL_START) < 1
    assert cp.get_configuration(HEARTBEAT) == "120"


def test_B01_heartbeat_after_an_interval_of_inactivity() -> None:
    cp, csms = booted201()
    csms.advance(299)
    assert "Heartbeat" not in csms.actions()
    csms.advance(1)
    assert csms.actions() == ["Heartbeat"]
    csms.clear()
    cp.set_variable(HEARTBEAT, "0", csms.now)  # 0: no heartbeats
    csms.advance(1000, step=50)
    assert "Heartbeat" not in csms.actions()


def test_TC_B_02_CS_cold_boot_pending() -> None:
    """Pending: the CSMS may configure and query the station; nothing else is sent of the
    station's own accord; a triggered BootNotification says
    Triggered and, once Accepted, every connector's status follows."""
    cp, csms = station201()
    csms.handlers["BootNotification"] = answer("Pending", 300, csms)
    cp.connector(1).plugged = lambda: True  # a change the station would report
    csms.connect()
    assert cp.registration == "Pending"
    assert csms.actions() == ["BootNotification"]
    result = csms.result(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "OfflineThreshold"},
                    "attributeValue": "300",
                }
            ]
        },
    )
    assert result["setVariableResult"][0]["attributeStatus"] == "Accepted"
    result = csms.result(
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}
            ]
        },
    )
    assert result["getVariableResult"][0]["attributeStatus"] == "Accepted"
    assert csms.result("GetBaseReport", {"requestId": 7, "reportBase": "FullInventory"}) == {
        "status": "Accepted"
    }
    csms.advance(5)
    reports = csms.payloads("NotifyReport")
    assert reports and reports[-1].get("tbc", False) is False
    assert set(csms.actions()) == {"BootNotification", "NotifyReport"}  # nothing else of its own
    csms.handlers["BootNotification"] = answer("Accepted", 300, csms)
    assert csms.result("TriggerMessage", {"requestedMessage": "BootNotification"}) == {
        "status": "Accepted"
    }
    assert csms.now < 300  # sent at once, before the interval has passed
    assert csms.payloads("BootNotification")[-1]["reason"] == "Triggered"
    assert cp.registration == "Accepted"
    assert statuses(csms) == [(1, 1, "Occupied"), (2, 1, "Available")]


def test_B02_pending_retries_after_the_interval() -> None:
    _cp, csms = station201()
    csms.handlers["BootNotification"] = answer("Pending", 30, csms)
    csms.connect()
    csms.advance(29)
    assert csms.actions() == ["BootNotification"]
    csms.advance(1)
    assert csms.actions() == ["BootNotification", "BootNotification"]


def test_TC_B_03_CS_cold_boot_rejected() -> None:
    """Rejected: nothing is sent until the interval has passed; then the next boot, and after
    Accepted the statuses of all connectors."""
    cp, csms = station201()
    csms.handlers["BootNotification"] = answer("Rejected", 60, csms)
    csms.connect()
    assert cp.registration == "Rejected"
    cp.connector(2).plugged = lambda: True
    csms.advance(59)
    assert csms.actions() == ["BootNotification"]
    csms.handlers["BootNotification"] = answer("Accepted", 300, csms)
    csms.advance(1)
    assert csms.actions()[:2] == ["BootNotification", "BootNotification"]
    assert cp.registration == "Accepted"
    assert statuses(csms) == [(1, 1, "Available"), (2, 1, "Occupied")]


def test_TC_B_30_CS_calls_while_rejected_get_a_SecurityError() -> None:
    """B03.FR.08 (errata 2023-12): every CSMS message while Rejected -> CALLERROR SecurityError;
    once Accepted the same request is answered."""
    cp, csms = station201()
    csms.handlers["BootNotification"] = answer("Rejected", 60, csms)
    csms.connect()
    reply = csms.call("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
    assert reply[0] == 4 and reply[2] == "SecurityError"
    reply = csms.call("TriggerMessage", {"requestedMessage": "BootNotification"})
    assert reply[0] == 4 and reply[2] == "SecurityError"
    csms.cp.receive('[2, "bad-1", "Reset", {"type": 5}]', csms.now)  # invalid too
    csms.pump()
    assert csms.replies["bad-1"][2] == "SecurityError"
    csms.handlers["BootNotification"] = answer("Accepted", 300, csms)
    csms.advance(60)
    assert cp.registration == "Accepted"
    assert csms.result("GetBaseReport", {"requestId": 2, "reportBase": "FullInventory"}) == {
        "status": "Accepted"
    }


def test_B03_rejected_with_interval_0_retries_after_the_default() -> None:
    _cp, csms = station201()
    csms.handlers["BootNotification"] = answer("Rejected", 0, csms)
    csms.connect()
    csms.advance(DEFAULT_RETRY - 1)
    assert csms.actions() == ["BootNotification"]
    csms.advance(1)
    assert csms.actions() == ["BootNotification", "BootNotification"]


def test_B01_failed_boot_is_retried_and_the_clock_comes_from_the_csms() -> None:
    cp, csms = station201()
    csms.handlers["BootNotification"] = lambda payload: Error("InternalError")
    csms.connect()
    assert cp.registration is None
    csms.handlers["BootNotification"] = answer("Accepted", 300, csms, wall=WALL_START + 86400)
    csms.advance(DEFAULT_RETRY)
    assert cp.registration == "Accepted"
    # The statuses became what they are at the first poll (60 s before the clock was set) and
    # are stamped on the CSMS's clock.
    stamp = parse_datetime(csms.payloads("StatusNotification")[0]["timestamp"])
    assert abs(stamp - (WALL_START + 86400 - DEFAULT_RETRY)) < 2


def test_B01_boot_reason_survives_the_reboot_and_is_dropped_once_accepted() -> None:
    store = MemoryStore()
    cp, csms = booted201(store=store)
    next_boot_reason(cp._engine.ctx, "FirmwareUpdate")  # what a block does before a reboot
    cp, csms = station201(store=store)
    csms.connect()
    assert csms.payloads("BootNotification")[0]["reason"] == "FirmwareUpdate"
    assert store.load("bootreason") is None
    cp, csms = station201(store=store)
    csms.connect()
    assert csms.payloads("BootNotification")[0]["reason"] == "PowerUp"


def test_B01_an_unknown_stored_boot_reason_boots_as_PowerUp() -> None:
    store = MemoryStore()
    store.save("bootreason", {"not": "a reason"})
    _cp, csms = station201(store=store)
    csms.connect()
    assert csms.payloads("BootNotification")[0]["reason"] == "PowerUp"


def test_B01_reconnect_without_reboot_sends_no_second_boot() -> None:
    _cp, csms = booted201()
    csms.disconnect()
    csms.advance(10)
    csms.connect()
    assert "BootNotification" not in csms.actions()


def test_TC_B_02_CS_remote_start_while_pending_is_rejected() -> None:
    """TC_B_02 step 12: RequestStartTransaction while Pending -> Rejected, nothing starts."""
    cp, csms = station201()
    csms.handlers["BootNotification"] = answer("Pending", 300, csms)
    csms.connect()
    start = csms.result(
        "RequestStartTransaction",
        {"idToken": {"idToken": "TOKEN1", "type": "ISO14443"}, "remoteStartId": 1},
    )
    assert start["status"] == "Rejected"
    assert cp.transaction(1) is None
