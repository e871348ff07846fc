"""SuspendedEVSE under a smart-charging limit the EV cannot charge with (OCPP 1.6 §7.7: the EVSE
offers no energy, "e.g. due to a smart charging restriction"; errata 3.19: the change is sent),
as the CSMS sees it: SetChargingProfile in, StatusNotification out."""

from __future__ import annotations

from test_smart_charging_transactions import LimitRig
from tx_rig import start_session


def test_7_7_a_0_amp_tx_profile_suspends_the_evse_and_a_higher_limit_charges_again() -> None:
    rig = LimitRig()
    start_session(rig)
    assert rig.statuses()[-1] == "Charging"
    rig.clear()
    assert rig.set_profile(1, purpose="TxProfile", periods=((0, 0),)) == "Accepted"
    assert rig.limit() == 0
    assert rig.statuses() == ["SuspendedEVSE"]
    assert rig.set_profile(1, purpose="TxProfile", periods=((0, 16),)) == "Accepted"
    assert rig.limit() == 16
    assert rig.statuses() == ["SuspendedEVSE", "Charging"]


def test_7_7_a_limit_below_min_charging_rate_suspends_the_evse() -> None:
    rig = LimitRig()
    start_session(rig)
    rig.clear()
    low = {"purpose": "TxProfile", "periods": ((0, 4),), "minChargingRate": 6.0}
    assert rig.set_profile(1, **low) == "Accepted"
    assert rig.statuses() == ["SuspendedEVSE"]
    assert rig.csms.result("ClearChargingProfile", {"id": 1}) == {"status": "Accepted"}
    rig.pump()
    assert rig.statuses() == ["SuspendedEVSE", "Charging"]


def test_7_7_a_0_amp_charge_point_max_profile_suspends_every_charging_connector() -> None:
    rig = LimitRig()
    start_session(rig, "TAG1", 1)
    start_session(rig, "TAG2", 2)
    rig.clear()
    assert rig.set_profile(0, purpose="ChargePointMaxProfile", periods=((0, 0),)) == "Accepted"
    assert rig.statuses(1) == ["SuspendedEVSE"] and rig.statuses(2) == ["SuspendedEVSE"]
    assert rig.statuses(0) == []  # the station as a whole stays Available


def test_7_7_a_transaction_starting_under_a_0_amp_default_is_suspended_at_once() -> None:
    rig = LimitRig()
    assert rig.set_profile(0, purpose="TxDefaultProfile", periods=((0, 0),)) == "Accepted"
    start_session(rig)
    assert rig.statuses()[-1] == "SuspendedEVSE"
    assert "Charging" not in rig.statuses()


def test_7_7_a_limit_that_starts_later_suspends_at_its_start() -> None:
    rig = LimitRig()
    start_session(rig)
    rig.clear()
    pause = {"purpose": "TxProfile", "kind": "Relative", "periods": ((0, 16), (30, 0), (90, 16))}
    assert rig.set_profile(1, **pause) == "Accepted"
    assert rig.statuses() == []
    rig.advance(40)
    assert rig.statuses() == ["SuspendedEVSE"]
    rig.advance(60)
    assert rig.statuses() == ["SuspendedEVSE", "Charging"]


def test_7_7_suspended_evse_prevails_over_an_ev_that_asks_for_nothing() -> None:
    rig = LimitRig()
    start_session(rig)
    rig.ev_ready[1] = False
    rig.pump()
    assert rig.statuses()[-1] == "SuspendedEV"
    assert rig.set_profile(1, purpose="TxProfile", periods=((0, 0),)) == "Accepted"
    assert rig.statuses()[-1] == "SuspendedEVSE"
