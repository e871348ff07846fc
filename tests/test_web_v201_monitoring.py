"""The Control Center's "Monitoring" panel for OCPP 2.0.1 (issue 14, N02-N08): its plain-Python
model (control_center/monitoring_model.py) and the Station API it reads (Station.monitors,
Station.monitor_events, Station.temperature_c / set_temperature), on a simulated station driven by
a virtual clock against a fake backend."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from station_fakes import FakeBackend, Rig

from ocpp_core import MemoryStore
from ocpp_core.operations import MonitorEventRow, MonitorRow

WEB = Path(__file__).resolve().parent.parent / "web"
sys.path.insert(0, str(WEB))

from control_center.monitoring_model import (  # noqa: E402
    event_lines,
    monitor_lines,
    parse_temperature,
)

TEMPERATURE = {"component": {"name": "TemperatureSensor"}, "variable": {"name": "Temperature"}}


def test_monitor_lines_say_rule_kind_and_state() -> None:
    rows = [
        MonitorRow(
            1,
            "TemperatureSensor",
            "Temperature",
            "UpperThreshold",
            85.0,
            1,
            "HardWiredMonitor",
            False,
            True,
        ),
        MonitorRow(100, "EVSE/1", "Power", "Periodic", 60.0, 5, "CustomMonitor", True, False),
    ]
    lines = monitor_lines(rows)
    assert [(x.key, x.where, x.rule, x.severity, x.kind, x.state) for x in lines] == [
        (
            "monitor-1",
            "TemperatureSensor Temperature",
            "UpperThreshold 85",
            "1",
            "hard-wired",
            "tripped",
        ),
        ("monitor-100", "EVSE/1 Power", "Periodic 60 s", "5", "custom", "transaction only"),
    ]


def test_event_lines_newest_first_cleared_and_unsent() -> None:
    rows = [
        MonitorEventRow(
            7,
            "2026-12-06T02:16:02.200Z",
            2,
            "TemperatureSensor",
            "Temperature",
            "Alerting",
            "61.0",
            False,
            "PreconfiguredMonitor",
            True,
        ),
        MonitorEventRow(
            8,
            "T2",
            2,
            "TemperatureSensor",
            "Temperature",
            "Alerting",
            "59.0",
            True,
            "PreconfiguredMonitor",
            True,
        ),
        MonitorEventRow(
            0, "T3", 101, "EVSE/1", "Power", "Delta", "7000.0", False, "CustomMonitor", False
        ),
    ]
    lines = event_lines(rows)
    assert [(x.key, x.when, x.text) for x in lines] == [
        ("event-unsent-3", "T3", "EVSE/1 Power 7000.0 Delta (monitor 101) · not sent"),
        ("event-8", "T2", "TemperatureSensor Temperature 59.0 Alerting cleared (monitor 2)"),
        ("event-7", "02:16:02", "TemperatureSensor Temperature 61.0 Alerting (monitor 2)"),
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [("25", 25.0), ("-50", -50.0), ("150", 150.0), ("151", None), ("nan", None), ("x", None)],
)
def test_parse_temperature(text: str, value: float | None) -> None:
    assert parse_temperature(text) == value


def test_the_station_temperature_trips_the_preconfigured_monitor() -> None:
    backend = FakeBackend()
    rig = Rig(backend, store=MemoryStore(), ocpp_version="2.0.1").boot()
    station = rig.station
    assert station.temperature_c == 25.0
    kinds = {(row.id, row.kind) for row in station.monitors()}
    assert {(1, "HardWiredMonitor"), (2, "PreconfiguredMonitor")} <= kinds
    station.set_temperature(65.0)
    rig.run(2.0)
    (event,) = [e for e in station.monitor_events() if e.monitor_id == 2]
    assert (event.trigger, event.actual_value, event.sent, event.cleared) == (
        "Alerting",
        "65.0",
        True,
        False,
    )
    assert [row.tripped for row in station.monitors() if row.id == 2] == [True]
    sent = [e for p in backend.payloads("NotifyEvent") for e in p["eventData"]]
    assert [e["variableMonitoringId"] for e in sent] == [2]
    station.set_temperature(30.0)
    rig.run(2.0)
    assert [e.cleared for e in station.monitor_events()] == [False, True]
    with pytest.raises(ValueError):
        station.set_temperature(200.0)


def test_custom_monitor_set_by_the_csms_is_listed() -> None:
    backend = FakeBackend()
    rig = Rig(backend, store=MemoryStore(), ocpp_version="2.0.1").boot()
    item = {**TEMPERATURE, "type": "Delta", "value": 2, "severity": 6}
    backend.call("SetVariableMonitoring", {"setMonitoringData": [item]})
    rig.run(1.0)
    lines = monitor_lines(rig.station.monitors())
    assert ("TemperatureSensor Temperature", "Delta 2", "custom") in {
        (x.where, x.rule, x.kind) for x in lines
    }


def test_a_1_6_station_has_no_monitors() -> None:
    rig = Rig(FakeBackend(), store=MemoryStore(), ocpp_version="1.6").boot()
    assert rig.station.monitors() == []
    assert rig.station.monitor_events() == []
