"""OCPP 2.0.1 Smart Charging (K01, K05, K08, K09, K10; F01.FR.12) on a booted station.

The part 6 edition in shared/spec has no TC_K_*_CS but TC_K_38_CS (a station without smart
charging, in test_v201_remote_control.py), so the tests are named after the use cases and the
requirement ids they check, and follow the steps a CSMS takes: set a profile, ask for the
composite schedule or the installed profiles, clear them, and what the EVSE's output receives.
"""

from __future__ import annotations

from typing import Any

import pytest
from ev201 import Ev
from fake_csms import WALL_START
from fake_csms201 import booted201, station201

from ocpp_core import ChargePoint
from ocpp_core.clock import format_datetime
from ocpp_core.store import MemoryStore

MIDNIGHT = (WALL_START // 86_400 + 1) * 86_400  # the first midnight (UTC) after the CSMS's start


def profile(
    profile_id: int = 1,
    purpose: str = "TxDefaultProfile",
    *,
    level: int = 0,
    kind: str = "Absolute",
    unit: str = "A",
    periods: list[tuple[int, float]] | None = None,
    start: float | None = WALL_START,
    **fields: Any,
) -> dict[str, Any]:
    """A ChargingProfileType with one schedule of ``periods`` (startPeriod, limit)."""
    schedule: dict[str, Any] = {
        "id": 1,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": s, "limit": limit} for s, limit in (periods or [(0, 16.0)])
        ],
    }
    if start is not None and kind != "Relative":
        schedule["startSchedule"] = format_datetime(start)
    schedule.update(fields.pop("schedule", {}))
    data = {
        "id": profile_id,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule],
        **fields,
    }
    return data


def set_profile(csms: Any, evse: int, data: dict[str, Any]) -> dict[str, Any]:
    return csms.result("SetChargingProfile", {"evseId": evse, "chargingProfile": data})


def composite(csms: Any, evse: int, duration: int, unit: str | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"evseId": evse, "duration": duration}
    if unit is not None:
        request["chargingRateUnit"] = unit
    return csms.result("GetCompositeSchedule", request)


def periods(answer: dict[str, Any]) -> list[tuple[int, float]]:
    assert answer["status"] == "Accepted", answer
    return [(p["startPeriod"], p["limit"]) for p in answer["schedule"]["chargingSchedulePeriod"]]


def outputs(cp: ChargePoint) -> list[list[float | None]]:
    """What each EVSE's (and the station's, index 0) charging-limit output received."""
    got: list[list[float | None]] = [[] for _ in range(3)]
    for n in range(3):
        cp.connector(n).charging_limit = got[n].append
    return got


def running(evse: int = 1) -> tuple[ChargePoint, Any, str]:
    """EnergyTransferStarted after a card on an EV already plugged in: (cp, csms, transactionId)."""
    cp, csms = booted201()
    ev = Ev(cp, evse)
    ev.plugged = True
    csms.pump()
    cp.present_card(evse, "RFID-1", csms.now)
    csms.pump()
    info = cp.transaction(evse)
    assert info is not None and info.state == "running" and isinstance(info.transaction_id, str)
    csms.clear()
    return cp, csms, info.transaction_id


def reports(csms: Any) -> list[dict[str, Any]]:
    return csms.payloads("ReportChargingProfiles")


# ---------------------------------------------------------------------- K01 SetChargingProfile


def test_K01_tx_default_profile_on_an_evse_limits_it_before_a_transaction() -> None:
    cp, csms = booted201()
    got = outputs(cp)
    assert set_profile(csms, 1, profile())["status"] == "Accepted"
    csms.pump()
    assert got[1] == [16.0] and got[2] == []
    assert periods(composite(csms, 1, 600)) == [(0, 16)]
    assert periods(composite(csms, 2, 600)) == [(0, 32)]  # the supply's maximum: no profile


def test_K01_tx_default_profile_on_evse_0_applies_to_every_evse_and_an_evses_own_prevails() -> None:
    cp, csms = booted201()
    got = outputs(cp)
    assert set_profile(csms, 0, profile(1, periods=[(0, 20.0)]))["status"] == "Accepted"
    csms.pump()
    assert got[1] == [20.0] and got[2] == [20.0]
    assert set_profile(csms, 2, profile(2, periods=[(0, 10.0)]))["status"] == "Accepted"
    csms.pump()
    assert got[2] == [20.0, 10.0]
    assert periods(composite(csms, 1, 60)) == [(0, 20)]
    assert periods(composite(csms, 2, 60)) == [(0, 10)]


def test_K01_charging_station_max_profile_caps_the_station_on_evse_0_only() -> None:
    """K01.FR.38: a ChargingStationMaxProfile is not Relative; it is for evseId 0."""
    cp, csms = booted201()
    got = outputs(cp)
    max_profile = profile(3, "ChargingStationMaxProfile", periods=[(0, 24.0)])
    answer = set_profile(csms, 1, max_profile)
    assert answer["status"] == "Rejected" and answer["statusInfo"]["reasonCode"] == "InvalidProfile"
    relative = profile(3, "ChargingStationMaxProfile", kind="Relative")
    assert set_profile(csms, 0, relative)["status"] == "Rejected"
    assert set_profile(csms, 0, max_profile)["status"] == "Accepted"
    csms.pump()
    assert got[0] == [24.0]
    assert periods(composite(csms, 0, 60)) == [(0, 24)]
    # Shared by the EVSEs that charge: none yet, so the one asking gets it all.
    assert periods(composite(csms, 1, 60)) == [(0, 24)]


def test_K01_tx_profile_without_a_transaction_is_rejected_TxNotFound() -> None:
    _cp, csms = booted201()
    answer = set_profile(csms, 1, profile(5, "TxProfile", kind="Relative"))
    assert answer == {
        "status": "Rejected",
        "statusInfo": {
            "reasonCode": "TxNotFound",
            "additionalInfo": "no such transaction runs on the EVSE",
        },
    }
    tx_on_0 = profile(5, "TxProfile", kind="Relative", transactionId="x")
    assert set_profile(csms, 0, tx_on_0)["status"] == "Rejected"


def test_K01_tx_profile_is_bound_to_its_transaction_and_ends_with_it() -> None:
    cp, csms, transaction_id = running()
    got = outputs(cp)
    other = profile(5, "TxProfile", kind="Relative", transactionId="not-this-one")
    assert set_profile(csms, 1, other)["statusInfo"]["reasonCode"] == "TxNotFound"
    tx_profile = profile(5, "TxProfile", kind="Relative", periods=[(0, 8.0), (600, 12.0)])
    tx_profile["transactionId"] = transaction_id
    assert set_profile(csms, 1, tx_profile)["status"] == "Accepted"
    csms.pump()
    assert got[1] == [8.0]
    assert cp.charging_profiles() == [(1, tx_profile)]
    csms.advance(600, step=60)
    assert got[1] == [8.0, 12.0]
    # The transaction ends: its TxProfile goes.
    cp.connector(1).plugged = lambda: False
    cp.connector(1).ev_ready = lambda: False
    csms.pump()
    assert cp.charging_profiles() == []
    assert got[1][-1] is None


def test_K01_a_tx_profile_without_transaction_id_is_bound_to_the_running_one() -> None:
    cp, csms, transaction_id = running()
    assert set_profile(csms, 1, profile(5, "TxProfile", kind="Relative"))["status"] == "Accepted"
    [(evse, installed)] = cp.charging_profiles()
    assert evse == 1 and installed["transactionId"] == transaction_id


def test_K01_a_tx_profile_overrules_the_tx_default_profile_while_the_transaction_runs() -> None:
    cp, csms, _ = running()
    got = outputs(cp)
    assert set_profile(csms, 0, profile(1, periods=[(0, 20.0)]))["status"] == "Accepted"
    assert set_profile(csms, 1, profile(2, "TxProfile", kind="Relative", periods=[(0, 25.0)]))[
        "status"
    ] == ("Accepted")
    csms.pump()
    assert got[1][-1] == 25.0
    assert periods(composite(csms, 1, 60)) == [(0, 25)]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"purpose": "ChargingStationExternalConstraints"}, "InvalidProfile"),
        ({"periods": [(10, 16.0)]}, "InvalidProfile"),  # K01.FR.31: the first startPeriod is 0
        ({"periods": [(0, 16.0), (0, 10.0)]}, "InvalidProfile"),  # not ascending
        (
            {"periods": [(n * 60, 16.0) for n in range(25)]},
            "InvalidSchedule",
        ),  # > PeriodsPerSchedule
        ({"level": 9}, "InvalidStackLevel"),  # > ProfileStackLevel 8
        (
            {"validFrom": format_datetime(WALL_START + 60), "validTo": format_datetime(WALL_START)},
            "InvalidProfile",
        ),
    ],
)
def test_K01_a_profile_the_station_cannot_use_is_rejected_with_its_reason(
    change: dict[str, Any], reason: str
) -> None:
    cp, csms = booted201()
    data = profile(
        1,
        change.pop("purpose", "TxDefaultProfile"),
        level=change.pop("level", 0),
        periods=change.pop("periods", None),
        **change,
    )
    answer = set_profile(
        csms, 0 if data["chargingProfilePurpose"] != "TxDefaultProfile" else 1, data
    )
    assert answer["status"] == "Rejected" and answer["statusInfo"]["reasonCode"] == reason
    assert cp.charging_profiles() == []


def test_K01_more_than_one_schedule_and_phase_to_use_are_rejected() -> None:
    """Up to three schedules are alternatives for an ISO 15118 EV; phaseToUse needs phase
    switching (SmartChargingCtrlr.ACPhaseSwitchingSupported is false)."""
    cp, csms = booted201()
    two = profile()
    two["chargingSchedule"].append({**two["chargingSchedule"][0], "id": 2})
    assert set_profile(csms, 1, two)["status"] == "Rejected"
    phase = profile()
    phase["chargingSchedule"][0]["chargingSchedulePeriod"][0].update(numberPhases=1, phaseToUse=2)
    assert set_profile(csms, 1, phase)["status"] == "Rejected"
    assert cp.charging_profiles() == []


def test_K01_same_id_replaces_and_same_level_with_overlapping_validity_is_rejected() -> None:
    cp, csms = booted201()
    assert set_profile(csms, 1, profile(1, periods=[(0, 16.0)]))["status"] == "Accepted"
    assert set_profile(csms, 1, profile(1, periods=[(0, 10.0)]))["status"] == "Accepted"
    assert [
        data["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"]
        for _, data in cp.charging_profiles()
    ] == [10.0]
    clash = set_profile(csms, 1, profile(2, periods=[(0, 6.0)]))
    assert clash["statusInfo"]["reasonCode"] == "DuplicateProfile"
    later = profile(2, validFrom=format_datetime(WALL_START + 3600))
    first = profile(1, validTo=format_datetime(WALL_START + 3600))
    assert set_profile(csms, 1, first)["status"] == "Accepted"
    assert set_profile(csms, 1, later)["status"] == "Accepted"  # back to back: no overlap


def test_K01_more_profiles_than_entries_allow_are_rejected() -> None:
    """SmartChargingCtrlr.Entries counts the installed profiles; its maxLimit bounds them."""
    cp, csms = booted201()
    for n in range(10):
        assert set_profile(csms, n % 3, profile(n + 1, level=n // 3))["status"] == "Accepted"
    answer = set_profile(csms, 1, profile(11, level=8))
    assert answer["statusInfo"]["reasonCode"] == "OutOfStorage"
    entries = cp.variables(csms.now)
    [row] = [r for r in entries if r.address == "SmartChargingCtrlr.Entries[ChargingProfiles]"]
    assert row.value == "10"


def test_K01_smart_charging_disabled_rejects_profiles() -> None:
    cp, csms = booted201()
    assert cp.set_variable("SmartChargingCtrlr.Enabled", "false", csms.now) == "Accepted"
    assert set_profile(csms, 1, profile())["statusInfo"]["reasonCode"] == "NotEnabled"


def test_K01_integers_written_as_decimals_are_taken_as_integers() -> None:
    """Draft-06 schemas let 1.0 through as an integer: the profile is taken, never refused."""
    cp, csms = booted201()
    data = profile()
    data.update(id=4.0, stackLevel=1.0)
    data["chargingSchedule"][0]["chargingSchedulePeriod"][0]["startPeriod"] = 0.0
    answer = csms.result("SetChargingProfile", {"evseId": 1.0, "chargingProfile": data})
    assert answer["status"] == "Accepted"
    [(evse, installed)] = cp.charging_profiles()
    assert evse == 1 and installed["id"] == 4 and installed["stackLevel"] == 1


# ---------------------------------------------------------------------- schedules


def test_K01_stack_levels_validity_and_absolute_periods_in_the_composite() -> None:
    """The highest stack level defining a limit prevails; outside [validFrom, validTo) a profile
    defines nothing, so the next level shows through."""
    _cp, csms = booted201()
    base = profile(1, level=0, periods=[(0, 16.0), (1800, 10.0)])
    high = profile(
        2,
        level=1,
        periods=[(0, 6.0)],
        validFrom=format_datetime(WALL_START + 600),
        validTo=format_datetime(WALL_START + 1200),
    )
    assert set_profile(csms, 1, base)["status"] == "Accepted"
    assert set_profile(csms, 1, high)["status"] == "Accepted"
    assert periods(composite(csms, 1, 3600)) == [(0, 16), (600, 6), (1200, 16), (1800, 10)]


def test_K01_recurring_daily_profile_crossing_midnight() -> None:
    """A Daily profile from 22:00 to 06:00 (two periods at 22:00 and midnight the day before)."""
    _cp, csms = booted201()
    day_start = MIDNIGHT - 86_400
    night = profile(
        1,
        kind="Recurring",
        recurrencyKind="Daily",
        start=day_start,
        periods=[(0, 8.0), (6 * 3600, 32.0), (22 * 3600, 8.0)],
    )
    assert set_profile(csms, 1, night)["status"] == "Accepted"
    until_midnight = int(MIDNIGHT - WALL_START)
    answer = composite(csms, 1, until_midnight + 8 * 3600)
    expected = {0: 32, until_midnight - 2 * 3600: 8, until_midnight + 6 * 3600: 32}
    got = dict(periods(answer))
    seconds_of_day = WALL_START % 86_400
    if seconds_of_day >= 22 * 3600 or seconds_of_day < 6 * 3600:
        expected[0] = 8
    assert got == {k: v for k, v in expected.items() if k >= 0}


def test_K01_relative_profile_counts_from_the_transaction_start() -> None:
    _cp, csms, _ = running()
    csms.advance(100, step=50)
    tx_profile = profile(5, "TxProfile", kind="Relative", periods=[(0, 8.0), (300, 16.0)])
    assert set_profile(csms, 1, tx_profile)["status"] == "Accepted"
    assert periods(composite(csms, 1, 600)) == [(0, 8), (200, 16)]


def test_K01_min_charging_rate_below_the_limit_gives_zero() -> None:
    """Below the profile's minChargingRate charging is not worth it: the limit becomes 0."""
    cp, csms = booted201()
    got = outputs(cp)
    data = profile(periods=[(0, 5.0), (60, 10.0)], schedule={"minChargingRate": 6.0})
    assert set_profile(csms, 1, data)["status"] == "Accepted"
    csms.pump()
    assert got[1] == [0.0]
    assert periods(composite(csms, 1, 120)) == [(0, 0), (60, 10)]


def test_K01_number_phases_convert_watts_and_the_composite_answers_in_a_or_w() -> None:
    """11040 W on one phase at 230 V is 48 A; in W the limit is given back as set."""
    cp, csms = booted201()
    got = outputs(cp)
    cp.set_supply(230, 3, 63)
    data = profile(unit="W", periods=[(0, 11040.0)])
    data["chargingSchedule"][0]["chargingSchedulePeriod"][0]["numberPhases"] = 1
    assert set_profile(csms, 1, data)["status"] == "Accepted"
    csms.pump()
    assert got[1] == [48.0]
    answer_a = composite(csms, 1, 60, "A")
    assert answer_a["schedule"]["chargingRateUnit"] == "A"
    assert answer_a["schedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 48, "numberPhases": 1}
    ]
    assert periods(composite(csms, 1, 60, "W")) == [(0, 11040)]


# ---------------------------------------------------------------------- K08 GetCompositeSchedule


def test_K08_composite_schedule_of_an_unknown_evse_is_rejected() -> None:
    _cp, csms = booted201()
    answer = composite(csms, 3, 60)
    assert answer["status"] == "Rejected" and answer["statusInfo"]["reasonCode"] == "UnknownEvse"


def test_K08_composite_schedule_fields() -> None:
    _cp, csms = booted201()
    answer = composite(csms, 1, 300, "A")
    schedule = answer["schedule"]
    assert schedule["evseId"] == 1 and schedule["duration"] == 300
    assert schedule["scheduleStart"] == format_datetime(WALL_START + csms.now)


# ---------------------------------------------------------------------- K09 GetChargingProfiles


def install_three(csms: Any) -> None:
    assert set_profile(csms, 0, profile(1, "ChargingStationMaxProfile"))["status"] == "Accepted"
    assert set_profile(csms, 0, profile(2, level=1))["status"] == "Accepted"
    assert set_profile(csms, 1, profile(3, level=2))["status"] == "Accepted"
    csms.clear()


def test_K09_no_profile_matching_is_NoProfiles_and_no_report() -> None:
    _cp, csms = booted201()
    request = {"requestId": 1, "chargingProfile": {"chargingProfilePurpose": "TxProfile"}}
    assert csms.result("GetChargingProfiles", request) == {"status": "NoProfiles"}
    install_three(csms)
    assert csms.result("GetChargingProfiles", request) == {"status": "NoProfiles"}
    csms.pump()
    assert reports(csms) == []


@pytest.mark.parametrize(
    ("evse", "criteria", "expected"),
    [
        (None, {}, {0: [1, 2], 1: [3]}),
        (0, {}, {0: [1, 2]}),
        (1, {}, {1: [3]}),
        (None, {"chargingProfilePurpose": "ChargingStationMaxProfile"}, {0: [1]}),
        (None, {"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 2}, {1: [3]}),
        (None, {"chargingProfileId": [1, 3]}, {0: [1], 1: [3]}),
        (None, {"chargingLimitSource": ["CSO"]}, {0: [1, 2], 1: [3]}),
    ],
)
def test_K09_criteria_select_the_reported_profiles(
    evse: int | None, criteria: dict[str, Any], expected: dict[int, list[int]]
) -> None:
    _cp, csms = booted201()
    install_three(csms)
    request: dict[str, Any] = {"requestId": 77, "chargingProfile": criteria}
    if evse is not None:
        request["evseId"] = evse
    assert csms.result("GetChargingProfiles", request) == {"status": "Accepted"}
    csms.pump()
    sent = reports(csms)
    assert {page["evseId"]: [p["id"] for p in page["chargingProfile"]] for page in sent} == expected
    assert all(page["requestId"] == 77 and page["chargingLimitSource"] == "CSO" for page in sent)
    assert [page.get("tbc", False) for page in sent] == [True] * (len(sent) - 1) + [False]


def test_K09_other_limit_sources_match_nothing() -> None:
    _cp, csms = booted201()
    install_three(csms)
    request = {"requestId": 2, "chargingProfile": {"chargingLimitSource": ["EMS", "SO"]}}
    assert csms.result("GetChargingProfiles", request)["status"] == "NoProfiles"


def test_K09_the_answer_precedes_the_reports_and_many_profiles_are_paged() -> None:
    _cp, csms = booted201()
    for n in range(9):
        assert set_profile(csms, 1, profile(n + 1, level=n))["status"] == "Accepted"
    csms.clear()
    message_id = csms.send("GetChargingProfiles", {"requestId": 3, "chargingProfile": {}})
    csms.pump()
    first = csms.sent[0]
    assert message_id in first and first.startswith("[3,")
    sent = reports(csms)
    assert [len(page["chargingProfile"]) for page in sent] == [8, 1]
    assert [page.get("tbc", False) for page in sent] == [True, False]


# ---------------------------------------------------------------------- K10 ClearChargingProfile


def test_K10_clear_by_id() -> None:
    cp, csms = booted201()
    install_three(csms)
    assert csms.result("ClearChargingProfile", {"chargingProfileId": 2}) == {"status": "Accepted"}
    assert [data["id"] for _, data in cp.charging_profiles()] == [1, 3]
    assert csms.result("ClearChargingProfile", {"chargingProfileId": 2}) == {"status": "Unknown"}


@pytest.mark.parametrize(
    ("criteria", "left"),
    [
        ({"evseId": 0}, [3]),
        ({"chargingProfilePurpose": "ChargingStationMaxProfile"}, [2, 3]),
        ({"chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1}, [1, 3]),
        ({"evseId": 1, "stackLevel": 2}, [1, 2]),
    ],
)
def test_K10_clear_by_criteria(criteria: dict[str, Any], left: list[int]) -> None:
    cp, csms = booted201()
    install_three(csms)
    request = {"chargingProfileCriteria": criteria}
    assert csms.result("ClearChargingProfile", request) == {"status": "Accepted"}
    assert [data["id"] for _, data in cp.charging_profiles()] == left


def test_K10_clear_without_fields_clears_all_and_nothing_matching_is_Unknown() -> None:
    cp, csms = booted201()
    got = outputs(cp)
    install_three(csms)
    csms.pump()
    unmatched = {"chargingProfileCriteria": {"evseId": 2, "stackLevel": 5}}
    assert csms.result("ClearChargingProfile", unmatched) == {"status": "Unknown"}
    assert csms.result("ClearChargingProfile", {}) == {"status": "Accepted"}
    csms.pump()
    assert cp.charging_profiles() == []
    assert got[1][-1] is None


# ---------------------------------------------------------------------- K05 / F01.FR.12


def test_F01_request_start_profile_becomes_the_transactions_tx_profile() -> None:
    cp, csms = booted201()
    got = outputs(cp)
    ev = Ev(cp, 1)
    ev.plugged = True
    csms.pump()
    tx_profile = profile(7, "TxProfile", kind="Relative", periods=[(0, 6.0)])
    request = {"remoteStartId": 5, "idToken": {"idToken": "RFID-1", "type": "ISO14443"}}
    request.update(evseId=1, chargingProfile=tx_profile)
    assert csms.result("RequestStartTransaction", request)["status"] == "Accepted"
    csms.pump()
    info = cp.transaction(1)
    assert info is not None and info.state == "running"
    [(evse, installed)] = cp.charging_profiles()
    assert evse == 1 and installed == {**tx_profile, "transactionId": info.transaction_id}
    assert got[1] == [6.0]
    csms.clear()
    request = {"requestId": 9, "chargingProfile": {"chargingProfilePurpose": "TxProfile"}}
    assert csms.result("GetChargingProfiles", request)["status"] == "Accepted"
    csms.pump()
    assert reports(csms)[0]["chargingProfile"][0]["transactionId"] == info.transaction_id
    ev.plugged = False
    csms.pump()
    assert cp.charging_profiles() == []


# ---------------------------------------------------------------------- persistence


def test_K01_profiles_survive_a_restart() -> None:
    store = MemoryStore()
    cp, csms = station201(store=store)
    csms.connect()
    install_three(csms)
    before = cp.charging_profiles()
    cp2, csms2 = station201(store=store)
    got = outputs(cp2)
    csms2.now = csms.now
    csms2.connect()
    assert cp2.charging_profiles() == before
    assert got[0] == [16.0] and got[1] == [16.0]


def restarted_with_a_tx_profile(
    **options: Any,
) -> tuple[ChargePoint, list[Any], list[float | None]]:
    """A transaction with a TxProfile, then a restart on the same Store: (the new station, the
    profiles stored before, what EVSE 1's output received after)."""
    store = MemoryStore()
    cp, csms = station201(store=store)
    csms.connect()
    ev = Ev(cp, 1)
    ev.plugged = True
    csms.pump()
    cp.present_card(1, "RFID-1", csms.now)
    csms.pump()
    data = profile(5, "TxProfile", kind="Relative", periods=[(0, 7.0)])
    assert set_profile(csms, 1, data)["status"] == "Accepted"
    stored = cp.charging_profiles()
    cp2, csms2 = station201(store=store, **options)
    got = outputs(cp2)
    Ev(cp2, 1).plugged = True
    csms2.now = csms.now
    csms2.connect()
    return cp2, stored, got[1]


def test_K01_a_tx_profile_applies_again_to_its_transaction_resumed_after_a_restart() -> None:
    cp, stored, got = restarted_with_a_tx_profile(resume_transactions_after_restart=True)
    info = cp.transaction(1)
    assert info is not None and info.state == "running"
    assert cp.charging_profiles() == stored
    assert stored[0][1]["transactionId"] == info.transaction_id
    assert got == [7.0]


def test_K01_a_tx_profile_goes_with_its_transaction_ended_by_a_restart() -> None:
    """The transaction ends (PowerLoss) at the restart, and its TxProfile with it."""
    cp, stored, got = restarted_with_a_tx_profile()
    assert len(stored) == 1
    assert cp.transaction(1) is None or cp.transaction(1).state != "running"  # type: ignore[union-attr]
    assert cp.charging_profiles() == []
    assert got == []


def test_K01_a_corrupt_stored_profile_is_left_out() -> None:
    store = MemoryStore()
    store.save(
        "charging_profiles",
        [
            {"evseId": 1, "chargingProfile": {"id": "x"}},
            {"evseId": 1, "chargingProfile": profile()},
        ],
    )
    cp, _ = station201(store=store)
    assert [data["id"] for _, data in cp.charging_profiles()] == [1]


# ---------------------------------------------------------------------- the station's view


def test_station_api_supply_and_composite_schedule() -> None:
    """What sim.Station calls: set_supply at start, composite_schedule every render."""
    cp, csms = booted201()
    cp.set_supply(230, 1, 16)
    answer = cp.composite_schedule(1, 3600, csms.now, "A")
    assert periods(dict(answer)) == [(0, 16)]
    assert answer["schedule"]["chargingSchedulePeriod"][0]["numberPhases"] == 1  # type: ignore[index]
    rows = {r.address: r.value for r in cp.variables(csms.now)}
    assert rows["EVSE/1.SupplyPhases"] == "1"
