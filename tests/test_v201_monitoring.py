"""OCPP 2.0.1 Advanced Device Management (N02-N08): SetVariableMonitoring, ClearVariableMonitoring,
SetMonitoringBase, SetMonitoringLevel, GetMonitoringReport (paged NotifyMonitoringReport) and the
NotifyEvent messages monitors raise (thresholds, Delta, Periodic, clock-aligned), offline queuing
and persistence. Part 6 has no station test case for N02-N08: tests are named by requirement.
Every frame the station sends is schema-checked (conftest)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fake_csms201 import booted201, station201
from tx_rig201 import Rig201

from ocpp_core.clock import parse_datetime
from ocpp_core.store import MemoryStore
from ocpp_core.v201.monitor_events import EVENTS_PER_MESSAGE
from ocpp_core.v201.reports import REPORT_PAGE_ITEMS

TEMPERATURE = {"component": {"name": "TemperatureSensor"}, "variable": {"name": "Temperature"}}
POWER1 = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}
STATE1 = {
    "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
    "variable": {"name": "AvailabilityState"},
}
HARD_WIRED_ID, PRESET_HIGH, PRESET_LOW = 1, 2, 3


def monitor(where: dict, kind: str, value: float, severity: int = 3, **extra: Any) -> dict:
    return {**where, "type": kind, "value": value, "severity": severity, **extra}


class Station:
    """A booted 2.0.1 station with a temperature input and its CSMS."""

    def __init__(self, store: MemoryStore | None = None, **options: Any) -> None:
        self.store = MemoryStore() if store is None else store
        self.temperature: float | None = 20.0
        self.cp, self.csms = booted201(store=self.store, **options)
        self.cp.connector(0).temperature = lambda: self.temperature
        self.csms.advance(1)

    def set(self, *items: dict) -> list[dict]:
        answer = self.csms.result("SetVariableMonitoring", {"setMonitoringData": list(items)})
        return answer["setMonitoringResult"]

    def accepted(self, item: dict) -> int:
        (result,) = self.set(item)
        assert result["status"] == "Accepted", result
        return result["id"]

    def events(self) -> list[dict]:
        return [event for page in self.csms.payloads("NotifyEvent") for event in page["eventData"]]

    def events_of(self, monitor_id: int) -> list[dict]:
        return [event for event in self.events() if event["variableMonitoringId"] == monitor_id]

    def heat(self, value: float, seconds: float = 2) -> None:
        self.temperature = value
        self.csms.advance(seconds)

    def report(self, **request: Any) -> tuple[dict, list[dict]]:
        request.setdefault("requestId", 77)
        answer = self.csms.result("GetMonitoringReport", request)
        pages = [
            page
            for page in self.csms.payloads("NotifyMonitoringReport")
            if page["requestId"] == request["requestId"]
        ]
        return answer, pages

    def restart(self) -> None:
        self.csms.disconnect()
        self.cp, self.csms = station201(store=self.store)
        self.cp.connector(0).temperature = lambda: self.temperature
        self.csms.connect()


def reported_ids(pages: list[dict]) -> set[int]:
    return {
        m["id"] for page in pages for data in page["monitor"] for m in data["variableMonitoring"]
    }


# ---------------------------------------------------------------------- N04 SetVariableMonitoring


def test_N04_FR_01_FR_02_FR_08_FR_11_one_result_per_item_same_address_new_ids() -> None:
    station = Station()
    results = station.set(
        monitor(TEMPERATURE, "UpperThreshold", 40),
        monitor(POWER1, "Delta", 500),
        monitor(STATE1, "Delta", 1, 5),
    )
    assert [r["status"] for r in results] == ["Accepted"] * 3
    assert [r["component"] for r in results] == [
        TEMPERATURE["component"],
        POWER1["component"],
        STATE1["component"],
    ]
    assert [r["variable"]["name"] for r in results] == ["Temperature", "Power", "AvailabilityState"]
    assert [r["type"] for r in results] == ["UpperThreshold", "Delta", "Delta"]
    ids = [r["id"] for r in results]
    assert len(set(ids)) == 3 and min(ids) > PRESET_LOW


def test_N04_FR_03_unknown_component() -> None:
    station = Station()
    item = monitor(
        {"component": {"name": "Nothing"}, "variable": {"name": "Temperature"}}, "Delta", 1
    )
    (result,) = station.set(item)
    assert result["status"] == "UnknownComponent"
    (result,) = station.set(
        monitor({**POWER1, "component": {"name": "EVSE", "evse": {"id": 9}}}, "Delta", 1)
    )
    assert result["status"] == "UnknownComponent"


def test_N04_FR_04_unknown_variable() -> None:
    station = Station()
    (result,) = station.set(monitor({**TEMPERATURE, "variable": {"name": "Humidity"}}, "Delta", 1))
    assert result["status"] == "UnknownVariable"
    assert "id" not in result


def test_N04_FR_05_unsupported_monitor_type() -> None:
    station = Station()
    heartbeat = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    (result,) = station.set(monitor(heartbeat, "Delta", 1))
    assert result["status"] == "UnsupportedMonitorType"  # not a monitorable variable
    (result,) = station.set(monitor(STATE1, "UpperThreshold", 1))
    assert result["status"] == "UnsupportedMonitorType"  # a threshold on a text value


def test_N04_FR_06_threshold_outside_the_variables_range_rejected() -> None:
    station = Station()
    results = station.set(
        monitor(TEMPERATURE, "UpperThreshold", 151),
        monitor(TEMPERATURE, "LowerThreshold", -51),
        monitor(POWER1, "UpperThreshold", 10_000_000),
    )
    assert [r["status"] for r in results] == ["Rejected"] * 3
    assert results[0]["statusInfo"]["reasonCode"] == "ValueOutOfRange"
    (result,) = station.set(monitor(TEMPERATURE, "UpperThreshold", 150))
    assert result["status"] == "Accepted"


def test_N04_FR_09_items_and_bytes_per_message() -> None:
    station = Station()
    items = [monitor(TEMPERATURE, "Delta", 1, severity % 10) for severity in range(17)]
    reply = station.csms.call("SetVariableMonitoring", {"setMonitoringData": items})
    assert reply[0] == 4 and reply[2] == "OccurrenceConstraintViolation"
    huge = monitor(TEMPERATURE, "Delta", 1, customData={"vendorId": "x", "pad": "x" * 9000})
    reply = station.csms.call("SetVariableMonitoring", {"setMonitoringData": [huge]})
    assert reply[0] == 4 and reply[2] == "FormatViolation"


def test_N04_FR_10_duplicate_type_and_severity() -> None:
    station = Station()
    station.accepted(monitor(TEMPERATURE, "UpperThreshold", 40, 4 - 1))
    (result,) = station.set(monitor(TEMPERATURE, "UpperThreshold", 45, 3))
    assert result["status"] == "Duplicate"
    # The preconfigured warning at 60 has severity 4: another at severity 4 is a duplicate too.
    (result,) = station.set(monitor(TEMPERATURE, "UpperThreshold", 50, 4))
    assert result["status"] == "Duplicate"
    (result,) = station.set(monitor(TEMPERATURE, "UpperThreshold", 45, 2))
    assert result["status"] == "Accepted"


def test_N04_FR_12_replace_by_id_and_N04_FR_13_unknown_id_rejected() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 40))
    (result,) = station.set(monitor(TEMPERATURE, "UpperThreshold", 30, id=monitor_id))
    assert result["status"] == "Accepted" and result["id"] == monitor_id
    _, pages = station.report(requestId=1)
    values = [
        m["value"]
        for page in pages
        for data in page["monitor"]
        for m in data["variableMonitoring"]
        if m["id"] == monitor_id
    ]
    assert values == [30.0]
    (result,) = station.set(monitor(TEMPERATURE, "UpperThreshold", 30, 2, id=4242))
    assert result["status"] == "Rejected"


def test_N04_FR_14_negative_delta_rejected() -> None:
    station = Station()
    (result,) = station.set(monitor(POWER1, "Delta", -1))
    assert result["status"] == "Rejected"


def test_N04_FR_15_replaced_preconfigured_monitor_is_custom_until_a_base() -> None:
    station = Station()
    (result,) = station.set(monitor(TEMPERATURE, "UpperThreshold", 30, 4, id=PRESET_HIGH))
    assert result["status"] == "Accepted"
    station.heat(31)
    (event,) = station.events_of(PRESET_HIGH)
    assert event["eventNotificationType"] == "CustomMonitor"
    assert station.csms.result("SetMonitoringBase", {"monitoringBase": "All"})["status"] == (
        "Accepted"
    )
    _, pages = station.report(requestId=2)
    assert PRESET_HIGH in reported_ids(pages)  # the custom replacement stays under All


def test_N04_FR_16_id_of_another_variable_rejected() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 40))
    (result,) = station.set(monitor(POWER1, "UpperThreshold", 40, id=monitor_id))
    assert result["status"] == "Rejected"


def test_N04_FR_18_hard_wired_monitor_cannot_be_replaced() -> None:
    station = Station()
    (result,) = station.set(monitor(TEMPERATURE, "UpperThreshold", 70, 1, id=HARD_WIRED_ID))
    assert result["status"] == "Rejected"


# ---------------------------------------------------------------------- N06 Clear


def test_N06_FR_01_FR_02_FR_03_FR_05_clear_accepted_not_found_rejected() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(POWER1, "Delta", 100))
    answer = station.csms.result(
        "ClearVariableMonitoring", {"id": [monitor_id, 999, HARD_WIRED_ID, PRESET_LOW]}
    )
    assert [(r["id"], r["status"]) for r in answer["clearMonitoringResult"]] == [
        (monitor_id, "Accepted"),
        (999, "NotFound"),
        (HARD_WIRED_ID, "Rejected"),
        (PRESET_LOW, "Accepted"),
    ]
    _, pages = station.report(requestId=3)
    assert reported_ids(pages) == {HARD_WIRED_ID, PRESET_HIGH}
    answer = station.csms.result("ClearVariableMonitoring", {"id": [monitor_id]})
    assert answer["clearMonitoringResult"][0]["status"] == "NotFound"


def test_N06_FR_06_too_many_ids_occurrence_violation() -> None:
    station = Station()
    reply = station.csms.call("ClearVariableMonitoring", {"id": list(range(1, 18))})
    assert reply[0] == 4 and reply[2] == "OccurrenceConstraintViolation"


# ---------------------------------------------------------------------- N03 SetMonitoringBase


def test_N03_FR_03_FR_04_FR_05_monitoring_bases() -> None:
    station = Station()
    custom = station.accepted(monitor(POWER1, "Delta", 100))
    station.csms.result("ClearVariableMonitoring", {"id": [PRESET_HIGH]})
    assert station.csms.result("SetMonitoringBase", {"monitoringBase": "All"}) == {
        "status": "Accepted"
    }
    _, pages = station.report(requestId=10)
    assert reported_ids(pages) == {HARD_WIRED_ID, PRESET_HIGH, PRESET_LOW, custom}
    station.csms.result("SetMonitoringBase", {"monitoringBase": "HardWiredOnly"})
    _, pages = station.report(requestId=11)
    assert reported_ids(pages) == {HARD_WIRED_ID}
    station.accepted(monitor(POWER1, "Delta", 100))
    station.csms.result("SetMonitoringBase", {"monitoringBase": "FactoryDefault"})
    _, pages = station.report(requestId=12)
    assert reported_ids(pages) == {HARD_WIRED_ID, PRESET_HIGH, PRESET_LOW}
    value = station.csms.result(
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "MonitoringCtrlr"}, "variable": {"name": name}}
                for name in ("ActiveMonitoringBase", "MonitoringBase", "Available", "Enabled")
            ]
        },
    )
    assert [r["attributeValue"] for r in value["getVariableResult"]] == [
        "FactoryDefault",
        "FactoryDefault",
        "true",
        "true",
    ]


# ---------------------------------------------------------------------- N05 SetMonitoringLevel


def test_N05_FR_01_FR_03_level_filters_events_and_N05_FR_02_out_of_range() -> None:
    station = Station()
    low = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 30, 2))
    high = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 31, 6))
    assert station.csms.result("SetMonitoringLevel", {"severity": 5}) == {"status": "Accepted"}
    station.heat(35)
    assert len(station.events_of(low)) == 1
    assert station.events_of(high) == []
    answer = station.csms.result("SetMonitoringLevel", {"severity": 10})
    assert answer["status"] == "Rejected"
    got = station.csms.result(
        "GetVariables",
        {
            "getVariableData": [
                {
                    "component": {"name": "MonitoringCtrlr"},
                    "variable": {"name": "ActiveMonitoringLevel"},
                }
            ]
        },
    )
    assert got["getVariableResult"][0]["attributeValue"] == "5"


# ---------------------------------------------------------------------- N02 GetMonitoringReport


def test_N02_FR_01_FR_03_FR_04_FR_09_FR_11_paged_report_of_every_monitor() -> None:
    station = Station(connectors=2)
    ids = set()
    for severity in range(10):
        for where in (POWER1, STATE1):
            ids.add(station.accepted(monitor(where, "Delta", 10, severity)))
        for evse in (1, 2):
            where = {**POWER1, "component": {"name": "EVSE", "evse": {"id": evse}}}
            for variable in ("ACCurrent", "ACVoltage"):
                item = {**where, "variable": {"name": variable}}
                ids.add(station.accepted(monitor(item, "Periodic", 60, severity)))
    answer, pages = station.report(requestId=42)
    assert answer == {"status": "Accepted"}
    assert [page["seqNo"] for page in pages] == list(range(len(pages)))
    assert [page.get("tbc", False) for page in pages] == [True] * (len(pages) - 1) + [False]
    assert all(len(page["monitor"]) <= REPORT_PAGE_ITEMS for page in pages)
    assert reported_ids(pages) == ids | {HARD_WIRED_ID, PRESET_HIGH, PRESET_LOW}
    assert parse_datetime(pages[0]["generatedAt"])


def test_N02_FR_06_FR_12_FR_13_FR_14_monitoring_criteria() -> None:
    station = Station()
    delta = station.accepted(monitor(POWER1, "Delta", 100))
    periodic = station.accepted(monitor(POWER1, "Periodic", 60))
    aligned = station.accepted(monitor(STATE1, "PeriodicClockAligned", 900))
    _, pages = station.report(requestId=20, monitoringCriteria=["ThresholdMonitoring"])
    assert reported_ids(pages) == {HARD_WIRED_ID, PRESET_HIGH, PRESET_LOW}
    _, pages = station.report(requestId=21, monitoringCriteria=["DeltaMonitoring"])
    assert reported_ids(pages) == {delta}
    _, pages = station.report(requestId=22, monitoringCriteria=["PeriodicMonitoring"])
    assert reported_ids(pages) == {periodic, aligned}


def test_N02_FR_05_FR_08_FR_15_FR_16_component_variable_filters() -> None:
    station = Station()
    power1 = station.accepted(monitor(POWER1, "Delta", 100))
    power2 = station.accepted(
        monitor({**POWER1, "component": {"name": "EVSE", "evse": {"id": 2}}}, "Delta", 100)
    )
    state = station.accepted(monitor(STATE1, "Delta", 1))
    # No EVSE: every EVSE (N02.FR.15); no variable: every variable of the component (FR.16).
    _, pages = station.report(requestId=30, componentVariable=[{"component": {"name": "EVSE"}}])
    assert reported_ids(pages) == {power1, power2}
    _, pages = station.report(
        requestId=31, componentVariable=[{"component": {"name": "Connector"}}, POWER1]
    )
    assert reported_ids(pages) == {state, power1}
    _, pages = station.report(
        requestId=32,
        monitoringCriteria=["ThresholdMonitoring"],
        componentVariable=[TEMPERATURE, POWER1],
    )
    assert reported_ids(pages) == {HARD_WIRED_ID, PRESET_HIGH, PRESET_LOW}


def test_N02_FR_10_empty_result_set() -> None:
    station = Station()
    answer, pages = station.report(requestId=40, monitoringCriteria=["DeltaMonitoring"])
    assert answer["status"] == "EmptyResultSet" and pages == []
    answer, pages = station.report(requestId=41, componentVariable=[POWER1])
    assert answer["status"] == "EmptyResultSet" and pages == []


def test_N02_FR_07_too_many_component_variables_rejected() -> None:
    station = Station()
    answer, _ = station.report(requestId=43, componentVariable=[POWER1] * 17)
    assert answer["status"] == "Rejected"


# ---------------------------------------------------------------------- N07 alert events


def test_N07_FR_16_FR_02_FR_06_FR_07_upper_threshold_trips_above_and_clears() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 30))
    station.heat(30)  # on the threshold: nothing (above, not at)
    assert station.events_of(monitor_id) == []
    station.heat(30.5)
    station.heat(25)
    trip, back = station.events_of(monitor_id)
    assert (trip["trigger"], trip.get("cleared", False), trip["actualValue"]) == (
        "Alerting",
        False,
        "30.5",
    )
    assert (back["trigger"], back["cleared"], back["actualValue"]) == ("Alerting", True, "25.0")
    assert trip["component"] == {"name": "TemperatureSensor"}
    assert trip["variable"] == {"name": "Temperature"}
    assert trip["eventNotificationType"] == "CustomMonitor"
    assert back["eventId"] > trip["eventId"]
    assert all(page["seqNo"] == 0 for page in station.csms.payloads("NotifyEvent"))


def test_N07_FR_17_lower_threshold_trips_below() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(TEMPERATURE, "LowerThreshold", 0))
    station.heat(0)
    assert station.events_of(monitor_id) == []
    station.heat(-1)
    (event,) = station.events_of(monitor_id)
    assert event["trigger"] == "Alerting" and event["actualValue"] == "-1.0"


def test_N07_hard_wired_and_preconfigured_event_notification_types() -> None:
    station = Station()
    station.heat(90)
    hard = station.events_of(HARD_WIRED_ID)
    preset = station.events_of(PRESET_HIGH)
    assert hard[0]["eventNotificationType"] == "HardWiredMonitor"
    assert hard[0]["techCode"] == "OverTemperature"
    assert preset[0]["eventNotificationType"] == "PreconfiguredMonitor"


def test_N07_FR_18_numeric_delta_against_the_last_reported_value() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(TEMPERATURE, "Delta", 5))
    station.heat(24)  # moved 4: nothing
    assert station.events_of(monitor_id) == []
    station.heat(25.5)  # 5.5 from 20
    station.heat(29)  # 3.5 from 25.5: nothing
    station.heat(31)  # 5.5 from 25.5
    assert [(e["trigger"], e["actualValue"]) for e in station.events_of(monitor_id)] == [
        ("Delta", "25.5"),
        ("Delta", "31.0"),
    ]


def test_N07_FR_19_delta_on_connector_status_every_change() -> None:
    rig = Rig201()
    result = rig.csms.result(
        "SetVariableMonitoring", {"setMonitoringData": [monitor(STATE1, "Delta", 1, 5)]}
    )
    monitor_id = result["setMonitoringResult"][0]["id"]
    rig.csms.advance(1)
    rig.plug(1)
    rig.csms.advance(2)
    rig.unplug(1)
    rig.csms.advance(2)
    events = [
        event
        for page in rig.csms.payloads("NotifyEvent")
        for event in page["eventData"]
        if event["variableMonitoringId"] == monitor_id
    ]
    assert [(e["trigger"], e["actualValue"]) for e in events] == [
        ("Delta", "Occupied"),
        ("Delta", "Available"),
    ]


def test_N07_FR_11_changed_threshold_is_checked_against_the_value() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 30))
    station.heat(35)
    station.set(monitor(TEMPERATURE, "UpperThreshold", 40, id=monitor_id))
    station.csms.advance(2)
    _trip, cleared = station.events_of(monitor_id)
    assert cleared["cleared"] is True and cleared["actualValue"] == "35.0"


def test_N07_FR_12_removed_tripped_monitor_sends_no_cleared() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 30))
    station.heat(35)
    station.csms.result("ClearVariableMonitoring", {"id": [monitor_id]})
    station.heat(20)
    assert len(station.events_of(monitor_id)) == 1


def test_N07_FR_13_FR_14_monitors_and_tripped_state_survive_a_restart() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 30))
    station.csms.result("SetMonitoringLevel", {"severity": 7})
    station.heat(35)
    assert len(station.events_of(monitor_id)) == 1
    station.temperature = 20.0  # back to normal while the station is down
    station.restart()
    station.csms.advance(2)
    (cleared,) = station.events_of(monitor_id)
    assert cleared["cleared"] is True
    assert cleared["eventId"] > 1  # eventIds keep increasing across the restart
    _, pages = station.report(requestId=50)
    assert monitor_id in reported_ids(pages)
    level = station.csms.result(
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "MonitoringCtrlr"}, "variable": {"name": "MonitoringLevel"}}
            ]
        },
    )
    assert level["getVariableResult"][0]["attributeValue"] == "7"


def test_N07_FR_04_offline_events_queued_up_to_the_queuing_severity() -> None:
    station = Station()
    queued = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 30, 2))
    dropped = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 31, 8))
    station.csms.disconnect()
    station.heat(35)
    assert station.csms.payloads("NotifyEvent") == []
    station.csms.connect()
    station.csms.advance(1)
    assert len(station.events_of(queued)) == 1
    assert station.events_of(dropped) == []


def test_N07_FR_04_queued_events_survive_a_reboot_while_offline() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 30, 0))
    station.csms.disconnect()
    station.heat(35)
    station.restart()
    station.csms.advance(1)
    events = station.events_of(monitor_id)
    assert [event.get("cleared", False) for event in events] == [False]


def test_N07_enabled_false_raises_no_events() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 30))
    answer = station.csms.result(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "MonitoringCtrlr"},
                    "variable": {"name": "Enabled"},
                    "attributeValue": "false",
                }
            ]
        },
    )
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
    station.heat(35)
    assert station.events_of(monitor_id) == []


def test_N07_many_events_paged_with_seq_no_and_tbc() -> None:
    station = Station()
    ids = [
        station.accepted(monitor(TEMPERATURE, "UpperThreshold", 30, severity))
        for severity in (0, 2, 3, 5, 6, 7, 8, 9)
    ]
    ids += [station.accepted(monitor(TEMPERATURE, "Delta", 1, severity)) for severity in range(10)]
    station.csms.advance(2)
    station.heat(40)
    pages = station.csms.payloads("NotifyEvent")
    assert [page["seqNo"] for page in pages] == [0, 1]
    assert [page.get("tbc", False) for page in pages] == [True, False]
    assert len(pages[0]["eventData"]) == EVENTS_PER_MESSAGE
    sent = [event["variableMonitoringId"] for page in pages for event in page["eventData"]]
    assert sorted(sent) == sorted(ids)
    event_ids = [event["eventId"] for page in pages for event in page["eventData"]]
    assert event_ids == sorted(event_ids) and len(set(event_ids)) == len(event_ids)


def test_N07_reporting_value_size_truncates_the_actual_value() -> None:
    station = Station()
    station.csms.result(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "MonitoringCtrlr"},
                    "variable": {"name": "ReportingValueSize"},
                    "attributeValue": "2",
                }
            ]
        },
    )
    monitor_id = station.accepted(monitor(TEMPERATURE, "UpperThreshold", 30))
    station.heat(123.5)
    assert station.events_of(monitor_id)[0]["actualValue"] == "12"


# ---------------------------------------------------------------------- N08 periodic events


def test_N08_FR_04_FR_05_FR_06_periodic_every_value_seconds() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(POWER1, "Periodic", 10))
    station.csms.advance(35)
    events = station.events_of(monitor_id)
    assert [event["trigger"] for event in events] == ["Periodic"] * 3
    times = [parse_datetime(event["timestamp"]) for event in events]
    assert [b - a for a, b in itertools.pairwise(times)] == [10, 10]


def test_N08_FR_07_periodic_clock_aligned() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(TEMPERATURE, "PeriodicClockAligned", 60))
    station.csms.advance(130)
    events = station.events_of(monitor_id)
    assert len(events) == 2
    for event in events:
        assert parse_datetime(event["timestamp"]) % 60 == 0
        assert event["trigger"] == "Periodic"


def test_N08_periodic_wakeup_and_nothing_due_without_monitors() -> None:
    station = Station()
    assert station.cp.next_wakeup(station.csms.now) is None or (
        station.cp.next_wakeup(station.csms.now) > station.csms.now
    )
    station.accepted(monitor(POWER1, "Periodic", 30))
    station.csms.advance(1)
    wake = station.cp.next_wakeup(station.csms.now)
    assert wake is not None and wake <= station.csms.now + 30


def test_N08_FR_03_periodic_events_queued_offline() -> None:
    station = Station()
    monitor_id = station.accepted(monitor(POWER1, "Periodic", 10, 2))
    station.csms.disconnect()
    station.csms.advance(25)
    station.csms.connect()
    station.csms.advance(1)
    assert len(station.events_of(monitor_id)) == 2


def test_transaction_monitor_watches_only_during_a_transaction() -> None:
    rig = Rig201()
    item = monitor(POWER1, "Periodic", 5, transaction=True)
    result = rig.csms.result("SetVariableMonitoring", {"setMonitoringData": [item]})
    monitor_id = result["setMonitoringResult"][0]["id"]

    def fired() -> int:
        return sum(
            event["variableMonitoringId"] == monitor_id
            for page in rig.csms.payloads("NotifyEvent")
            for event in page["eventData"]
        )

    rig.csms.advance(12)
    assert fired() == 0
    rig.plug(1)
    rig.card("TOKEN1", 1)
    assert rig.cp.transaction(1) is not None
    rig.csms.advance(12)
    assert fired() == 2
    rig.card("TOKEN1", 1)
    rig.unplug(1)
    rig.csms.advance(12)
    assert fired() == 2
    wake = rig.cp.next_wakeup(rig.now)
    assert wake is None or wake > rig.now  # no stale period left behind


def test_get_report_component_criteria_cover_monitoring_ctrlr() -> None:
    station = Station()
    for request_id, criterion in ((61, "Enabled"), (62, "Available")):
        station.csms.result(
            "GetReport", {"requestId": request_id, "componentCriteria": [criterion]}
        )
        components = {
            data["component"]["name"]
            for page in station.csms.payloads("NotifyReport")
            if page["requestId"] == request_id
            for data in page["reportData"]
        }
        assert "MonitoringCtrlr" in components


@pytest.mark.parametrize("variable", ["Power", "ACCurrent", "ACVoltage"])
def test_get_report_says_which_variables_support_monitoring(variable: str) -> None:
    station = Station()
    station.csms.result(
        "GetReport",
        {
            "requestId": 60,
            "componentVariable": [
                {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": variable}}
            ],
        },
    )
    (page,) = station.csms.payloads("NotifyReport")
    (data,) = page["reportData"]
    assert data["variableCharacteristics"]["supportsMonitoring"] is True


def test_N06_FR_07_too_large_request_format_violation() -> None:
    station = Station()
    payload = {"id": [5], "customData": {"vendorId": "x", "pad": "x" * 9000}}
    reply = station.csms.call("ClearVariableMonitoring", payload)
    assert reply[0] == 4 and reply[2] == "FormatViolation"
    reply = station.csms.call("ClearVariableMonitoring", {"id": [5]})
    assert reply[0] == 3
