"""OCPP 2.0.1 external charging limits (K11-K13), SuspendedEVSE under a 0 limit, and a
GetCompositeSchedule computed by hand.

The simulated station's local energy manager is ``ChargePoint.set_external_limit`` /
``clear_external_limit`` (per EVSE, or 0 for the station). Part 6 has no TC_K_*_CS for them, so
the tests are named after the requirement ids of K11 (with a transaction), K12 (without one) and
K13 (release). Every frame the station sends is schema-checked (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from ev201 import Ev, tx_events
from fake_csms import WALL_START, booted
from fake_csms201 import booted201, station201
from station_fakes import FakeBackend, Rig
from test_v201_smart_charging import (
    MIDNIGHT,
    composite,
    outputs,
    periods,
    profile,
    running,
    set_profile,
)

from ocpp_core import ChargePoint
from ocpp_core.clock import format_datetime
from ocpp_core.store import MemoryStore

SMART = "SmartChargingCtrlr"


def notified(csms: Any) -> list[dict[str, Any]]:
    return csms.payloads("NotifyChargingLimit")


def cleared(csms: Any) -> list[dict[str, Any]]:
    return csms.payloads("ClearedChargingLimit")


def triggers(csms: Any) -> list[tuple[str, str]]:
    """(triggerReason, chargingState) of each TransactionEvent Updated."""
    return [
        (e["triggerReason"], e["transactionInfo"].get("chargingState", ""))
        for e in tx_events(csms, "Updated")
    ]


def set_var(cp: ChargePoint, csms: Any, name: str, value: str) -> None:
    assert cp.set_variable(f"{SMART}.{name}", value, csms.now) == "Accepted"


# ---------------------------------------------------------------------- K12 without a transaction


def test_K12_FR_01_FR_02_external_limit_caps_the_evse_and_sends_NotifyChargingLimit_EMS() -> None:
    cp, csms = booted201()
    got = outputs(cp)
    assert cp.set_external_limit(1, 10, "A", csms.now) is True
    csms.pump()
    assert notified(csms) == [
        {"chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": False}, "evseId": 1}
    ]
    assert got[1] == [10.0] and got[2] == []
    assert cp.external_limit(1) == (10.0, "A")
    assert periods(composite(csms, 1, 600)) == [(0, 10)]
    assert periods(composite(csms, 2, 600)) == [(0, 32)]  # EVSE 2: the supply's maximum


def test_K12_FR_03_with_NotifyChargingLimitWithSchedules_the_limit_goes_as_a_schedule() -> None:
    """A station-wide limit in W, grid critical: no evseId, the schedule in W from now."""
    cp, csms = booted201()
    set_var(cp, csms, "NotifyChargingLimitWithSchedules", "true")
    assert cp.set_external_limit(0, 11000, "W", csms.now, grid_critical=True)
    csms.pump()
    assert notified(csms) == [
        {
            "chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": True},
            "chargingSchedule": [
                {
                    "id": 0,
                    "startSchedule": format_datetime(WALL_START + csms.now),
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}],
                }
            ],
        }
    ]
    # 11000 W over 3 phases at 230 V: 15.9 A per phase (rounded down), for the station and EVSEs.
    assert periods(composite(csms, 0, 60, "W")) == [(0, 11000)]
    assert periods(composite(csms, 1, 60, "A")) == [(0, 15.9)]


def test_K12_a_change_below_LimitChangeSignificance_applies_without_a_notification() -> None:
    cp, csms = booted201()
    got = outputs(cp)
    cp.set_external_limit(1, 10, "A", csms.now)
    csms.pump()
    cp.set_external_limit(1, 10.05, "A", csms.now)  # 0.5 % < 1 % (the default)
    csms.pump()
    assert len(notified(csms)) == 1 and got[1] == [10.0, 10.05]  # applied all the same
    cp.set_external_limit(1, 12, "A", csms.now)
    csms.pump()
    assert len(notified(csms)) == 2 and got[1] == [10.0, 10.05, 12.0]
    set_var(cp, csms, "LimitChangeSignificance", "50")
    cp.set_external_limit(1, 15, "A", csms.now)  # 25 % < 50 %
    csms.pump()
    assert len(notified(csms)) == 2 and got[1] == [10.0, 10.05, 12.0, 15.0]
    cp.set_external_limit(1, 15, "W", csms.now)  # another unit: always significant
    csms.pump()
    assert len(notified(csms)) == 3


def test_K12_ExternalControlSignalsEnabled_false_ignores_limits_and_releases_those_in_force() -> (
    None
):
    cp, csms = booted201()
    got = outputs(cp)
    cp.set_external_limit(1, 10, "A", csms.now)
    csms.pump()
    set_var(cp, csms, "ExternalControlSignalsEnabled", "false")
    csms.pump()
    assert cleared(csms) == [{"chargingLimitSource": "EMS", "evseId": 1}]
    assert got[1] == [10.0, None] and cp.external_limit(1) is None
    assert cp.set_external_limit(1, 6, "A", csms.now) is False
    csms.pump()
    assert len(notified(csms)) == 1 and got[1] == [10.0, None]
    assert periods(composite(csms, 1, 60)) == [(0, 32)]


def test_K12_bad_input_is_refused() -> None:
    cp, csms = booted201()
    for args in ((3, 10, "A"), (1, -1, "A"), (1, 10, "kW"), (1, float("nan"), "A")):
        with pytest.raises(ValueError):
            cp.set_external_limit(*args, csms.now)  # type: ignore[arg-type]
    assert cp.clear_external_limit(1, csms.now) is False
    csms.pump()
    assert notified(csms) == [] and cleared(csms) == []


# ---------------------------------------------------------------------- K13 release


def test_K13_FR_02_releasing_the_limit_sends_ClearedChargingLimit() -> None:
    cp, csms = booted201()
    got = outputs(cp)
    cp.set_external_limit(0, 20, "A", csms.now)
    cp.set_external_limit(2, 8, "A", csms.now)
    csms.pump()
    assert cp.clear_external_limit(2, csms.now) is True
    assert cp.clear_external_limit(0, csms.now) is True
    csms.pump()
    assert cleared(csms) == [
        {"chargingLimitSource": "EMS", "evseId": 2},
        {"chargingLimitSource": "EMS"},
    ]
    assert got[2] == [8.0, None] and got[1] == [20.0, None]
    assert cp.clear_external_limit(0, csms.now) is False


# ---------------------------------------------------------------------- K11, K13 in a transaction


def test_K11_FR_04_an_external_change_during_a_transaction_is_ChargingRateChanged() -> None:
    cp, csms, _tx = running()
    cp.set_external_limit(1, 10, "A", csms.now)
    csms.pump()
    assert triggers(csms) == [("ChargingRateChanged", "Charging")]
    assert len(notified(csms)) == 1
    cp.set_external_limit(1, 10.05, "A", csms.now)  # below LimitChangeSignificance: neither
    csms.pump()
    assert len(triggers(csms)) == 1 and len(notified(csms)) == 1
    cp.set_external_limit(0, 6, "A", csms.now)  # the station's, lower: EVSE 1's rate moves
    csms.pump()
    assert triggers(csms) == [("ChargingRateChanged", "Charging")] * 2


def test_K11_a_limit_change_hidden_by_a_lower_profile_moves_no_rate() -> None:
    """The TxProfile's 6 A binds: the external 20 A -> 15 A is notified but the rate is as it
    was, so no ChargingRateChanged."""
    cp, csms, _tx = running()
    assert set_profile(csms, 1, profile(3, "TxProfile", periods=[(0, 6.0)]))["status"] == "Accepted"
    cp.set_external_limit(1, 20, "A", csms.now)
    csms.pump()
    cp.set_external_limit(1, 15, "A", csms.now)
    csms.pump()
    assert len(notified(csms)) == 2 and triggers(csms) == []


def test_K13_FR_03_releasing_during_a_transaction_is_ChargingRateChanged() -> None:
    cp, csms, _tx = running()
    cp.set_external_limit(1, 10, "A", csms.now)
    csms.pump()
    cp.clear_external_limit(1, csms.now)
    csms.pump()
    assert triggers(csms) == [("ChargingRateChanged", "Charging")] * 2
    assert cleared(csms) == [{"chargingLimitSource": "EMS", "evseId": 1}]


# ---------------------------------------------------------------------- SuspendedEVSE at 0


def test_a_0_A_tx_profile_suspends_the_transaction_SuspendedEVSE_and_a_higher_one_resumes() -> None:
    """As in 1.6 (e2e/test_suspended_evse.py): ChargingStateChanged to SuspendedEVSE and back."""
    cp, csms, tx = running()
    got = outputs(cp)
    zero = profile(4, "TxProfile", periods=[(0, 0.0)], transactionId=tx)
    assert set_profile(csms, 1, zero)["status"] == "Accepted"
    csms.pump()
    assert got[1] == [0.0]
    assert triggers(csms) == [("ChargingStateChanged", "SuspendedEVSE")]
    sixteen = profile(4, "TxProfile", periods=[(0, 16.0)], transactionId=tx)
    assert set_profile(csms, 1, sixteen)["status"] == "Accepted"
    csms.pump()
    assert triggers(csms)[1:] == [("ChargingStateChanged", "Charging")]
    assert cp.transaction(1) is not None  # suspended, not ended


def test_an_external_0_limit_is_SuspendedEVSE_not_ChargingRateChanged() -> None:
    cp, csms, _tx = running()
    cp.set_external_limit(1, 0, "A", csms.now)
    csms.pump()
    assert triggers(csms) == [("ChargingStateChanged", "SuspendedEVSE")]
    cp.clear_external_limit(1, csms.now)
    csms.pump()
    assert triggers(csms)[1:] == [("ChargingStateChanged", "Charging")]


def test_a_transaction_starting_under_a_0_limit_starts_SuspendedEVSE() -> None:
    cp, csms = booted201()
    cp.set_external_limit(1, 0, "A", csms.now)
    csms.pump()
    Ev(cp, 1).plugged = True
    csms.pump()
    cp.present_card(1, "RFID-1", csms.now)
    csms.pump()
    states = [e["transactionInfo"].get("chargingState") for e in tx_events(csms)]
    assert states[-1] == "SuspendedEVSE" and "Charging" not in states


# ---------------------------------------------------------------------- K01 / K09 / K10 sources


def test_K01_a_ChargingStationExternalConstraints_profile_from_the_CSMS_is_rejected() -> None:
    cp, csms = booted201()
    answer = set_profile(csms, 0, profile(1, "ChargingStationExternalConstraints"))
    assert answer["status"] == "Rejected"
    assert cp.charging_profiles() == []


def test_K09_K10_an_external_limit_is_no_CSMS_profile_to_report_or_clear() -> None:
    cp, csms = booted201()
    got = outputs(cp)
    cp.set_external_limit(1, 10, "A", csms.now)
    csms.pump()
    request = {"requestId": 1, "chargingProfile": {"chargingLimitSource": ["EMS"]}}
    assert csms.result("GetChargingProfiles", request)["status"] == "NoProfiles"
    assert csms.result("ClearChargingProfile", {})["status"] == "Unknown"
    criteria = {
        "chargingProfileCriteria": {"chargingProfilePurpose": "ChargingStationExternalConstraints"}
    }
    assert csms.result("ClearChargingProfile", criteria)["status"] == "Unknown"
    csms.pump()
    assert cp.external_limit(1) == (10.0, "A") and got[1] == [10.0] and cleared(csms) == []


# ---------------------------------------------------------------------- persistence, 1.6


def test_an_external_limit_survives_a_restart_without_a_second_notification() -> None:
    store = MemoryStore()
    cp, csms = station201(store=store)
    csms.connect()
    cp.set_external_limit(1, 9, "A", csms.now)
    csms.pump()
    again, csms2 = station201(store=store)
    got = outputs(again)
    csms2.connect()
    assert again.external_limit(1) == (9.0, "A") and got[1] == [9.0]
    assert notified(csms2) == []


def test_version_neutral_a_1_6_station_applies_the_external_limit_silently() -> None:
    cp, csms = booted()
    got = outputs(cp)
    assert cp.set_external_limit(1, 12, "A", csms.now) is True
    csms.pump()
    assert got[1] == [12.0]
    limits = cp.composite_schedule(1, 60, csms.now, "A")["chargingSchedule"]  # type: ignore[index]
    assert limits["chargingSchedulePeriod"][0]["limit"] == 12  # type: ignore[index]
    assert cp.clear_external_limit(1, csms.now) is True
    csms.pump()
    assert got[1] == [12.0, None]
    assert not {"NotifyChargingLimit", "ClearedChargingLimit"} & set(csms.actions())


# ---------------------------------------------------------------------- K08 by hand


def test_K08_composite_by_hand_recurring_past_midnight_mixed_units_gaps_external_limit() -> None:
    """At 22:00 UTC, EVSE 1 of a 230 V 3-phase 32 A station, 6 hours:

    * A: TxDefaultProfile on EVSE 0, level 0, Recurring Daily from 00:00 for 4 h, in A:
      10 A from 00:00, 14 A from 02:00 (nothing from 04:00 to 24:00);
    * B: TxDefaultProfile on EVSE 1, level 1, Recurring Daily from 22:30 for 2 h, in W:
      6900 W on 3 phases (10 A), from 23:30 2760 W on 1 phase (12 A);
    * the external limit on EVSE 1: 13 A.

    22:00 no profile: the gap filled by the supply's 32 A, capped by the external 13 A;
    22:30 B 10 A (6900 W); 23:30 B 12 A on 1 phase (2760 W); 00:30 B ends, A's 10 A shows
    through; 02:00 A's 14 A, the external 13 A binds. In W the binding limit's own value, else
    A x 230 V x phases: 13 A -> 8970 W, A's 10 A -> 6900 W.
    """
    cp, csms = booted201()
    cp.set_supply(230, 3, 32)
    at = MIDNIGHT + 86_400 - 2 * 3600  # 22:00, the day after the first midnight
    csms.advance(at - WALL_START - csms.now, step=at - WALL_START - csms.now)
    assert WALL_START + csms.now == at
    a = profile(
        1,
        kind="Recurring",
        recurrencyKind="Daily",
        start=MIDNIGHT,
        periods=[(0, 10.0), (7200, 14.0)],
        schedule={"duration": 4 * 3600},
    )
    b = profile(
        2,
        level=1,
        kind="Recurring",
        recurrencyKind="Daily",
        unit="W",
        start=MIDNIGHT - 5400,
        periods=[(0, 6900.0), (3600, 2760.0)],
        schedule={"duration": 2 * 3600},
    )
    b["chargingSchedule"][0]["chargingSchedulePeriod"][0]["numberPhases"] = 3
    b["chargingSchedule"][0]["chargingSchedulePeriod"][1]["numberPhases"] = 1
    assert set_profile(csms, 0, a)["status"] == "Accepted"
    assert set_profile(csms, 1, b)["status"] == "Accepted"
    cp.set_external_limit(1, 13, "A", csms.now)
    csms.pump()

    def rows(answer: dict[str, Any]) -> list[tuple[int, float, int]]:
        assert answer["status"] == "Accepted", answer
        return [
            (p["startPeriod"], p["limit"], p["numberPhases"])
            for p in answer["schedule"]["chargingSchedulePeriod"]
        ]

    in_a = composite(csms, 1, 6 * 3600, "A")
    assert in_a["schedule"]["duration"] == 6 * 3600
    assert in_a["schedule"]["scheduleStart"] == format_datetime(at)
    assert rows(in_a) == [
        (0, 13, 3),
        (1800, 10, 3),
        (5400, 12, 1),
        (9000, 10, 3),
        (14400, 13, 3),
    ]
    assert rows(composite(csms, 1, 6 * 3600, "W")) == [
        (0, 8970, 3),
        (1800, 6900, 3),
        (5400, 2760, 1),
        (9000, 6900, 3),
        (14400, 8970, 3),
    ]
    # Without the external limit: the gap is the supply's 32 A and A's 14 A holds from 02:00.
    cp.clear_external_limit(1, csms.now)
    assert rows(composite(csms, 1, 6 * 3600, "A")) == [
        (0, 32, 3),
        (1800, 10, 3),
        (5400, 12, 1),
        (9000, 10, 3),
        (7200 + 7200, 14, 3),
    ]
    # The station's own external limit in W instead: 8280 W is 12 A on 3 phases, 36 A on one.
    cp.set_external_limit(0, 8280, "W", csms.now)
    assert rows(composite(csms, 1, 6 * 3600, "A")) == [
        (0, 12, 3),
        (1800, 10, 3),
        (5400, 12, 1),
        (9000, 10, 3),
        (14400, 12, 3),
    ]


# ---------------------------------------------------------------------- the sim Station API


def test_the_station_api_is_the_control_centers_switch() -> None:
    """sim.Station.set_external_limit / clear_external_limit (what the card's switch calls):
    NotifyChargingLimit leaves at once, the snapshot and the charging power follow, and the
    switch's state (external_limit) is what a reloaded page shows."""
    rig = Rig(FakeBackend(), ocpp_version="2.0.1").boot()
    station = rig.station
    station.plug(1)
    station.present_card(1, "CARD-1")
    rig.run(5)
    assert station.snapshot(1).power_w > 6 * 3 * 230
    assert station.set_external_limit(1, 6) is True
    rig.run(0)
    assert rig.backend.payloads("NotifyChargingLimit") == [
        {"chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": False}, "evseId": 1}
    ]
    assert station.external_limit(1) == (6.0, "A")
    snap = station.snapshot(1)
    assert snap.limit == (6.0, "A") and 0 < snap.power_w <= 6 * 3 * 253
    schedule = station.composite_schedule(1, 600)["schedule"]
    assert schedule["chargingSchedulePeriod"][0]["limit"] == 6
    assert station.clear_external_limit(1) is True
    rig.run(0)
    assert rig.backend.payloads("ClearedChargingLimit") == [
        {"chargingLimitSource": "EMS", "evseId": 1}
    ]
    assert station.external_limit(1) is None and station.snapshot(1).power_w > 6 * 3 * 253
