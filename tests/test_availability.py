"""ChangeAvailability (OCPP 1.6 §5.2, §4.9; MicroOcpp ChangeAvailability and "Set Unavailable")."""

from __future__ import annotations

import logging

import pytest
from fake_csms import IDENTITY, FakeCsms, booted
from test_status import Hardware, with_sessions
from tx_rig import Rig

from ocpp_core import ChargePoint
from ocpp_core.store import MemoryStore


def change(csms, connector: int, kind: str) -> str:
    return csms.result("ChangeAvailability", {"connectorId": connector, "type": kind})["status"]


def statuses(csms) -> list[tuple[int, str]]:
    return [(p["connectorId"], p["status"]) for p in csms.payloads("StatusNotification")]


def test_inoperative_connector_becomes_unavailable_and_back() -> None:
    _cp, csms = booted()
    assert change(csms, 1, "Inoperative") == "Accepted"
    assert change(csms, 1, "Operative") == "Accepted"
    assert statuses(csms) == [(1, "Unavailable"), (1, "Available")]


def test_requesting_the_current_state_is_accepted() -> None:
    _cp, csms = booted()
    assert change(csms, 2, "Operative") == "Accepted"
    assert statuses(csms) == []


def test_connector_zero_applies_to_the_charge_point_and_all_connectors() -> None:
    _cp, csms = booted()
    assert change(csms, 0, "Inoperative") == "Accepted"
    assert sorted(statuses(csms)) == [(0, "Unavailable"), (1, "Unavailable"), (2, "Unavailable")]
    csms.clear()
    assert change(csms, 0, "Operative") == "Accepted"
    assert sorted(statuses(csms)) == [(0, "Available"), (1, "Available"), (2, "Available")]


@pytest.mark.parametrize("connector", [3, -1, 1000])
def test_unknown_connector_is_rejected(connector: int) -> None:
    _cp, csms = booted()
    assert change(csms, connector, "Inoperative") == "Rejected"
    assert statuses(csms) == []


def test_unavailable_connector_stays_unavailable_when_plugged() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    change(csms, 1, "Inoperative")
    hw.plugged = True
    csms.advance(1)
    assert statuses(csms) == [(1, "Unavailable")]


def test_fault_takes_precedence_over_unavailable() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    change(csms, 1, "Inoperative")
    hw.error = "GroundFailure"
    csms.advance(1)
    assert statuses(csms) == [(1, "Unavailable"), (1, "Faulted")]


def test_scheduled_while_a_transaction_runs_then_unavailable_when_it_ends() -> None:
    cp, csms = booted()
    hw = Hardware(cp)
    sessions = with_sessions(cp)
    hw.plugged = True
    sessions.running.add(1)
    csms.advance(1)
    assert change(csms, 1, "Inoperative") == "Scheduled"
    csms.advance(5)
    assert statuses(csms) == [(1, "Charging")]
    sessions.running.clear()
    csms.advance(1)
    assert statuses(csms) == [(1, "Charging"), (1, "Unavailable")]


def test_whole_station_change_is_scheduled_by_a_transaction_on_any_connector() -> None:
    cp, csms = booted()
    sessions = with_sessions(cp)
    sessions.running.add(2)
    csms.advance(1)
    assert change(csms, 0, "Inoperative") == "Scheduled"
    assert sorted(statuses(csms)) == [(1, "Unavailable"), (2, "Charging")]
    sessions.running.clear()
    csms.advance(1)
    assert sorted(statuses(csms)) == [
        (0, "Unavailable"),
        (1, "Unavailable"),
        (2, "Charging"),
        (2, "Unavailable"),
    ]


def test_availability_survives_a_restart() -> None:
    store = MemoryStore()
    _cp, csms = booted(store=store)
    change(csms, 2, "Inoperative")
    rebooted = ChargePoint(identity=IDENTITY, store=store)
    csms = FakeCsms(rebooted)
    csms.connect()
    assert statuses(csms) == [(0, "Available"), (1, "Available"), (2, "Unavailable")]


def test_stored_availability_for_more_connectors_is_cut_to_the_station() -> None:
    store = MemoryStore()
    store.save("availability", [True, False, True, False, False])
    cp = ChargePoint(identity=IDENTITY, store=store, connectors=2)
    assert [cp.status(n, 0.0) for n in range(3)] == ["Available", "Unavailable", "Available"]


def test_corrupt_stored_availability_means_operative(caplog) -> None:
    store = MemoryStore()
    store.save("availability", {"1": False})
    with caplog.at_level(logging.WARNING, logger="ocpp_core"):
        cp = ChargePoint(identity=IDENTITY, store=store)
    assert cp.status(1, 0.0) == "Available"
    assert "stored availability is invalid" in caplog.text


def test_a_scheduled_change_survives_a_restart_and_applies_when_the_transaction_ends() -> None:
    """Scheduled while charging, then a power cut: the transaction ends with PowerLoss on the
    new engine and the connector is Unavailable at once, as the CSMS asked before the cut."""
    rig = Rig()
    rig.plug(1)
    rig.card("TAG")
    rig.advance(1)
    assert rig.statuses(1)[-1] == "Charging"
    assert change(rig.csms, 1, "Inoperative") == "Scheduled"
    rig.advance(1)
    rig.clear()
    rig.restart()
    rig.advance(1)
    assert [p["reason"] for p in rig.payloads("StopTransaction")] == ["PowerLoss"]
    assert rig.statuses(1)[-1] == "Unavailable"
    assert rig.cp.status(1, rig.now) == "Unavailable"
    assert rig.cp.status(2, rig.now) == "Available"
