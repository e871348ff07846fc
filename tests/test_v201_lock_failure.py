"""OCPP 2.0.1 G05 Lock Failure: the cable lock that fails to lock is reported by a NotifyEvent
(part 6 TC_G_20, whose station side is the message the OCTT sends there: trigger Delta,
component ConnectorPlugRetentionLock, variable Problem, actualValue "true"), raised by the
station itself (HardWiredNotification, no monitor), and "false" once the lock works again.
The engine's frames are schema-checked (conftest); the simulated station's too (FrameChecker).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ocpp_schema_check import FrameChecker
from station_fakes import FakeBackend, Rig
from tx_rig201 import Rig201

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))
from control_center.monitoring_model import event_lines

LOCK1 = {"name": "ConnectorPlugRetentionLock", "evse": {"id": 1, "connectorId": 1}}


def lock_events(payloads: list[dict]) -> list[dict]:
    return [
        event
        for page in payloads
        for event in page["eventData"]
        if event["component"]["name"] == "ConnectorPlugRetentionLock"
    ]


def test_TC_G_20_CS_lock_failure_reported_by_notify_event() -> None:
    rig = Rig201()
    rig.lock_result = False  # the lock output reports a failure
    rig.plug(1)
    rig.card("TOKEN1", 1)
    rig.advance(2)
    assert rig.events_tx()[0]["eventType"] == "Started"
    assert (1, True) in rig.locks
    (event,) = lock_events(rig.csms.payloads("NotifyEvent"))
    assert event["trigger"] == "Delta"
    assert event["component"] == LOCK1
    assert event["variable"] == {"name": "Problem"}
    assert event["actualValue"] == "true"
    assert event["eventNotificationType"] == "HardWiredNotification"
    assert "variableMonitoringId" not in event and "cleared" not in event

    # Reported once, not on every poll; "false" once a drive of the lock works (the unlock).
    rig.advance(5)
    assert len(lock_events(rig.csms.payloads("NotifyEvent"))) == 1
    rig.lock_result = True
    rig.card("TOKEN1", 1)  # stop: the cable is unlocked
    rig.advance(2)
    assert rig.events_tx()[-1]["eventType"] == "Ended"
    events = lock_events(rig.csms.payloads("NotifyEvent"))
    assert [e["actualValue"] for e in events] == ["true", "false"]
    assert events[1]["eventId"] > events[0]["eventId"]


def test_G05_a_working_lock_raises_no_event_whatever_the_monitoring_level() -> None:
    rig = Rig201()
    rig.plug(1)
    rig.card("TOKEN1", 1)
    rig.advance(2)
    assert (1, True) in rig.locks
    assert lock_events(rig.csms.payloads("NotifyEvent")) == []
    # A hard-wired notification is no monitor: MonitoringLevel 0 does not hold it back.
    level = rig.csms.result("SetMonitoringLevel", {"severity": 0})
    assert level["status"] == "Accepted"
    rig.lock_result = False
    rig.plug(2)
    rig.card("TOKEN2", 2)
    rig.advance(2)
    (event,) = lock_events(rig.csms.payloads("NotifyEvent"))
    assert event["component"]["evse"] == {"id": 2, "connectorId": 1}


def test_TC_G_20_CS_simulated_station_lock_failure_switch() -> None:
    rig = Rig(FakeBackend(), ocpp_version="2.0.1").boot()
    station = rig.station
    station.set_lock_failing(1, True)
    station.plug(1)
    station.present_card(1, "CARD-L")
    rig.run(3)
    assert rig.backend.payloads("TransactionEvent")[0]["eventType"] == "Started"
    snapshot = station.snapshot(1)
    assert (snapshot.locked, snapshot.lock_fails) == (False, True)  # the lock jammed open
    pages = rig.backend.payloads("NotifyEvent")
    (event,) = lock_events(pages)
    assert (event["component"], event["variable"], event["actualValue"]) == (
        LOCK1,
        {"name": "Problem"},
        "true",
    )
    # What the Control Center's monitoring panel lists.
    rows = station.monitor_events()
    assert [(r.component, r.variable, r.actual_value, r.kind, r.sent) for r in rows] == [
        ("ConnectorPlugRetentionLock/1/1", "Problem", "true", "HardWiredNotification", True)
    ]
    (line,) = event_lines(rows)
    assert (
        line.text == "ConnectorPlugRetentionLock/1/1 Problem true Delta (hard-wired notification)"
    )
    checker = FrameChecker("2.0.1")
    for n, page in enumerate(pages):
        checker.outgoing(json.dumps([2, f"m{n}", "NotifyEvent", page]))

    # The lock works again: the next lock drive clears the problem.
    station.set_lock_failing(1, False)
    assert station.snapshot(1).lock_fails is False
    station.present_card(1, "CARD-L")  # stop: the cable is unlocked, which works
    rig.run(3)
    assert [e["actualValue"] for e in lock_events(rig.backend.payloads("NotifyEvent"))] == [
        "true",
        "false",
    ]
