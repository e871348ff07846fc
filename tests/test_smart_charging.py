"""Smart Charging through the engine (OCPP 1.6 §3.13, §5.5, §5.7, §5.16, §9.4, errata), with the
scenarios of MicroOcpp's tests/SmartCharging.cpp by name, a virtual clock and the fake CSMS.

The transaction block is not part of these tests: a small SessionView says which transaction
runs, and the tests report starts and stops through the SmartChargingView seam, as the
transaction block does.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, NamedTuple

import pytest
from block_peers import block_of, rewire
from fake_csms import WALL_START, booted, station

from ocpp_core.clock import format_datetime
from ocpp_core.sessions import SessionView
from ocpp_core.smart_charging import ProfileSet
from ocpp_core.store import MemoryStore
from ocpp_core.v16.smart_charging import DOCUMENT, SmartChargingBlock

H = 3600
DAY = 24 * H
MIDNIGHT = 80_000  # the virtual clock starts at 22:13:20Z: midnight was 80,000 s earlier


def at(offset: float) -> str:
    """The wall time ``offset`` seconds after virtual time 0, as OCPP writes it."""
    return format_datetime(WALL_START + offset)


def charging_profile(
    profile_id: int = 1,
    *,
    stack: int = 0,
    purpose: str = "TxDefaultProfile",
    kind: str = "Absolute",
    unit: str = "A",
    periods: tuple = ((0, 16),),
    start: float | None = 0,
    **extra: Any,
) -> dict:
    """A 1.6 ChargingProfile; ``start`` is the startSchedule as virtual seconds (None: absent)."""
    schedule: dict = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": p[0], "limit": p[1], **({"numberPhases": p[2]} if len(p) > 2 else {})}
            for p in periods
        ],
    }
    for name in ("duration", "minChargingRate"):
        if name in extra:
            schedule[name] = extra.pop(name)
    if start is not None and kind != "Relative":
        schedule["startSchedule"] = at(start)
    data = {
        "chargingProfileId": profile_id,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
    }
    for name in ("validFrom", "validTo"):
        if name in extra:
            data[name] = at(extra.pop(name))
    data.update(extra)
    return data


class Tx(NamedTuple):
    transaction_id: int | None
    state: str = "running"


class Sessions(SessionView):
    """Which transaction runs where (set by the test)."""

    __slots__ = ("running",)

    def __init__(self) -> None:
        self.running: dict[int, int | None] = {}

    def transaction_running(self, connector: int) -> bool:
        return connector in self.running

    def current(self, connector: int) -> Tx | None:
        if connector not in self.running:
            return None
        return Tx(self.running[connector])


class Rig:
    """A booted two-connector station recording its charging-limit outputs (attached before
    the first poll, as a station does); a new Rig on the same store is a reboot."""

    def __init__(self, sessions: Sessions | None = None, **options: Any) -> None:
        self.cp, self.csms = station(**options)
        self.csms.heartbeat_interval = 10 * DAY  # keep heartbeats out of next_wakeup
        self.engine = self.cp._engine.ctx
        self.sc = block_of(self.cp, SmartChargingBlock)
        self.sessions = Sessions() if sessions is None else sessions
        rewire(self.cp, sessions=self.sessions)
        self.outputs: dict[int, list] = {}
        for connector, io in enumerate(self.engine.connectors):
            self.outputs[connector] = []
            io.charging_limit = self.outputs[connector].append
        self.csms.connect()
        self.csms.clear()

    @property
    def now(self) -> float:
        return self.csms.now

    def set(self, connector: int = 1, **profile: Any) -> str:
        payload = {"connectorId": connector, "csChargingProfiles": charging_profile(**profile)}
        return self.csms.result("SetChargingProfile", payload)["status"]

    def accept(self, connector: int = 1, **profile: Any) -> None:
        status = self.set(connector, **profile)
        assert status == "Accepted", status

    def refused(self, connector: int = 1, **profile: Any) -> str:
        payload = {"connectorId": connector, "csChargingProfiles": charging_profile(**profile)}
        reply = self.csms.call("SetChargingProfile", payload)
        assert reply[0] == 4, reply
        return reply[2]

    def clear(self, **filters: Any) -> str:
        return self.csms.result("ClearChargingProfile", filters)["status"]

    def composite(self, connector: int = 1, duration: int = H, unit: str | None = "A") -> dict:
        payload: dict = {"connectorId": connector, "duration": duration}
        if unit is not None:
            payload["chargingRateUnit"] = unit
        return self.csms.result("GetCompositeSchedule", payload)

    def periods(self, connector: int = 1, duration: int = H, unit: str | None = "A") -> list:
        schedule = self.composite(connector, duration, unit)["chargingSchedule"]
        return [
            (p["startPeriod"], p["limit"], p["numberPhases"])
            for p in schedule["chargingSchedulePeriod"]
        ]

    def start(self, connector: int, transaction_id: int | None) -> None:
        self.sessions.running[connector] = transaction_id
        self.sc.transaction_started(connector, transaction_id, self.now)
        self.csms.pump()

    def stop(self, connector: int) -> None:
        del self.sessions.running[connector]
        self.sc.transaction_stopped(connector, self.now)
        self.csms.pump()

    def limit(self, connector: int = 1) -> tuple[float, str] | None:
        return self.sc.limit(connector, self.now)

    def advance(self, seconds: float, step: float = 1.0) -> None:
        self.csms.advance(seconds, step)


# ---------------------------------------------------------------------- SmartCharging.cpp


def test_load_smart_charging_service() -> None:
    rig = Rig()
    assert "SmartCharging" in rig.cp.get_configuration("SupportedFeatureProfiles").split(",")
    listed = {
        entry["key"]: (entry["value"], entry["readonly"])
        for entry in rig.csms.result("GetConfiguration", {})["configurationKey"]
    }
    assert listed["ChargeProfileMaxStackLevel"] == ("8", True)
    assert listed["ChargingScheduleAllowedChargingRateUnit"] == ("Current,Power", True)
    assert listed["ChargingScheduleMaxPeriods"] == ("24", True)
    assert listed["MaxChargingProfilesInstalled"] == ("10", True)
    assert "ConnectorSwitch3to1PhaseSupported" not in listed
    assert rig.outputs == {0: [], 1: [], 2: []}
    assert rig.limit() is None


def test_set_charging_profile_and_clear() -> None:
    rig = Rig()
    assert rig.set(1, periods=((0, 16),)) == "Accepted"
    assert rig.outputs[1] == [16]
    assert rig.outputs[2] == []
    assert rig.limit(1) == (16, "A")
    assert rig.clear(id=1) == "Accepted"
    assert rig.outputs[1] == [16, None]
    assert rig.limit(1) is None
    assert rig.clear(id=1) == "Unknown"


def test_persistency_over_reboots() -> None:
    store = MemoryStore()
    rig = Rig(store=store)
    # The top stack level too (MicroOcpp forgets level 8 profiles after a reboot).
    rig.accept(0, profile_id=1, stack=8, purpose="ChargePointMaxProfile", periods=((0, 20),))
    rig.accept(1, profile_id=2, stack=3, periods=((0, 16), (600, 10)), duration=DAY)
    rig.start(1, 42)
    assert rig.set(1, profile_id=3, purpose="TxProfile", periods=((0, 12),)) == "Accepted"
    before = rig.composite(1, 2 * H)
    assert store.load(DOCUMENT)[2]["csChargingProfiles"]["transactionId"] == 42

    rebooted = Rig(store=store)
    assert rebooted.outputs[0] == [20]
    assert rebooted.outputs[1] == [16]  # no transaction after the reboot: the TxDefaultProfile
    rebooted.start(1, 42)  # the transaction resumed: its TxProfile applies again
    assert rebooted.outputs[1] == [16, 12]
    assert rebooted.composite(1, 2 * H) == before
    rebooted.stop(1)
    rebooted.start(2, 43)
    assert rebooted.clear(chargingProfilePurpose="TxProfile") == "Unknown"


def test_a_stale_tx_profile_is_dropped_when_another_transaction_starts() -> None:
    store = MemoryStore()
    rig = Rig(store=store)
    rig.start(1, 42)
    assert rig.set(1, purpose="TxProfile", transactionId=42, periods=((0, 12),)) == "Accepted"
    rebooted = Rig(store=store)
    rebooted.start(1, 43)  # the old transaction is gone: its TxProfile must not apply
    assert rebooted.outputs[1] == []
    assert store.load(DOCUMENT) is None


def test_corrupt_stored_profiles_are_logged_and_left_out(caplog: pytest.LogCaptureFixture) -> None:
    store = MemoryStore()
    store.save(DOCUMENT, {"not": "a list"})
    with caplog.at_level(logging.WARNING, logger="ocpp_core"):
        rig = Rig(store=store)
    assert "not a list" in caplog.text
    assert rig.limit() is None
    good = {"connectorId": 1, "csChargingProfiles": charging_profile(5, periods=((0, 10),))}
    store.save(
        DOCUMENT,
        [
            good,
            {"connectorId": 9, "csChargingProfiles": charging_profile(6)},
            {"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 7}},
            "junk",
            good,
        ],
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ocpp_core"):
        rig = Rig(store=store)
    assert caplog.text.count("unusable") == 4
    assert rig.outputs[1] == [10]


def test_set_conflicting_profile() -> None:
    rig = Rig()
    assert rig.set(1, profile_id=1, stack=1, periods=((0, 16),)) == "Accepted"
    # Same purpose and stack level on the same connector: replaced (§3.13.2).
    assert rig.set(1, profile_id=2, stack=1, periods=((0, 10),)) == "Accepted"
    assert rig.clear(id=1) == "Unknown"
    # Same id: replaced wherever it was (§5.16.3).
    assert rig.set(2, profile_id=2, stack=4, periods=((0, 8),)) == "Accepted"
    assert rig.outputs[1] == [16, 10, None]
    assert rig.outputs[2] == [8]
    # Same purpose and level on another connector: both stay.
    assert rig.set(1, profile_id=3, stack=4, periods=((0, 6),)) == "Accepted"
    assert rig.clear(stackLevel=4) == "Accepted"
    assert rig.limit(1) is None
    assert rig.limit(2) is None


def test_set_charging_profile_via_remote_start_transaction() -> None:
    rig = Rig()
    assert rig.set(0, periods=((0, 20),)) == "Accepted"  # a TxDefaultProfile for all
    profile = charging_profile(9, purpose="TxProfile", kind="Relative", periods=((0, 6), (60, 12)))
    assert rig.sc.install_remote_start_profile(1, profile, rig.now) is True
    assert rig.limit(1) == (20, "A")  # the TxProfile waits for its transaction
    rig.advance(30)
    rig.start(1, None)
    assert rig.limit(1) == (6, "A")
    rig.advance(30)
    rig.sessions.running[1] = 77
    rig.sc.transaction_started(1, 77, rig.now)  # the CSMS assigned the id: same start
    [_default, stored] = rig.engine.store.load(DOCUMENT)
    assert stored["csChargingProfiles"]["transactionId"] == 77  # now bound to it
    rig.advance(30)
    assert rig.outputs[1] == [20, 6, 12]
    # errata 3.42: a SetChargingProfile for this transaction at the same level replaces it.
    assert rig.set(1, profile_id=10, purpose="TxProfile", transactionId=77) == "Accepted"
    assert rig.clear(id=9) == "Unknown"
    rig.stop(1)
    assert rig.clear(chargingProfilePurpose="TxProfile") == "Unknown"
    assert rig.outputs[1] == [20, 6, 12, 16, 20]


def test_remote_start_profile_is_refused_unless_a_tx_profile_without_id() -> None:
    rig = Rig()
    install = rig.sc.install_remote_start_profile
    assert install(1, charging_profile(1, purpose="TxDefaultProfile"), rig.now) is False
    assert install(1, charging_profile(1, purpose="TxProfile", transactionId=3), rig.now) is False
    assert install(0, charging_profile(1, purpose="TxProfile"), rig.now) is False
    assert install(3, charging_profile(1, purpose="TxProfile"), rig.now) is False
    assert install(1, {"chargingProfileId": 1}, rig.now) is False
    assert install(1, charging_profile(1, purpose="TxProfile", stack=99), rig.now) is False
    rig.start(2, 5)
    assert install(2, charging_profile(1, purpose="TxProfile"), rig.now) is False  # busy
    assert rig.clear() == "Unknown"


def test_charge_point_max_profile_absolute() -> None:
    rig = Rig()
    assert rig.set(0, purpose="ChargePointMaxProfile", start=100, periods=((0, 16),)) == "Accepted"
    assert rig.cp.next_wakeup(rig.now) == 100  # woken exactly when the limit starts
    rig.advance(99)
    assert rig.outputs == {0: [], 1: [], 2: []}
    rig.advance(1)
    assert rig.outputs == {0: [16], 1: [16], 2: [16]}
    # The limit is for all connectors together (§3.13.3): charging connectors share it.
    rig.start(1, 1)
    rig.start(2, 2)
    assert rig.outputs == {0: [16], 1: [16, 8], 2: [16, 8]}
    rig.stop(2)
    assert rig.outputs[1] == [16, 8, 16]
    assert rig.outputs[2] == [16, 8]  # one more car would share it with connector 1


def test_tx_default_profile_relative() -> None:
    rig = Rig()
    assert rig.set(1, kind="Relative", periods=((0, 6), (120, 16)), duration=600) == "Accepted"
    assert rig.outputs[1] == [6]  # before a transaction: as if it started now
    rig.advance(500)
    assert rig.outputs[1] == [6]
    rig.start(1, 1)
    assert rig.cp.next_wakeup(rig.now) == rig.now + 120
    rig.advance(120)
    assert rig.outputs[1] == [6, 16]
    rig.advance(480)
    assert rig.outputs[1] == [6, 16, None]


def test_tx_default_profile_applies_before_and_to_the_next_transactions() -> None:
    rig = Rig()
    assert rig.set(0, kind="Relative", periods=((0, 6), (60, 16))) == "Accepted"
    assert rig.limit(1) == (6, "A")
    assert rig.limit(2) == (6, "A")
    rig.start(1, 1)
    rig.advance(60)
    assert rig.limit(1) == (16, "A")
    rig.stop(1)
    assert rig.limit(1) == (6, "A")
    rig.advance(10)
    rig.start(1, 2)  # the next transaction: the schedule counts from its own start
    rig.advance(59)
    assert rig.limit(1) == (6, "A")
    rig.advance(1)
    assert rig.outputs[1] == [6, 16, 6, 16]


def test_transaction_id_assigned_later_keeps_the_start() -> None:
    rig = Rig()
    assert rig.set(1, kind="Relative", periods=((0, 6), (100, 16))) == "Accepted"
    rig.start(1, None)
    rig.advance(50)
    rig.sc.transaction_started(1, 5, rig.now)
    rig.advance(50)
    assert rig.limit(1) == (16, "A")


def test_tx_profile_tx_fit_and_mismatch() -> None:
    rig = Rig()
    assert rig.set(1, purpose="TxProfile") == "Rejected"  # no transaction
    rig.start(1, 7)
    assert rig.set(1, purpose="TxProfile", transactionId=8) == "Rejected"
    assert rig.set(2, purpose="TxProfile") == "Rejected"  # nothing runs on connector 2
    assert rig.refused(0, purpose="TxProfile") == "PropertyConstraintViolation"
    rig.accept(1, profile_id=1, purpose="TxProfile", transactionId=7, periods=((0, 9),))
    assert rig.outputs[1] == [9]
    assert rig.set(1, profile_id=2, stack=1, purpose="TxProfile", periods=((0, 5),)) == "Accepted"
    assert rig.outputs[1] == [9, 5]
    rig.stop(1)
    assert rig.outputs[1] == [9, 5, None]
    assert rig.clear(chargingProfilePurpose="TxProfile") == "Unknown"


def test_tx_profile_fit_and_mismatch_with_the_transaction_block() -> None:
    cp, csms = booted()
    cp.connector(1).plugged = lambda: True
    profile = charging_profile(purpose="TxProfile", periods=((0, 9),))
    payload = {"connectorId": 1, "csChargingProfiles": profile}
    assert csms.result("SetChargingProfile", payload)["status"] == "Rejected"
    assert cp.begin_transaction(1, "TAG", csms.now)
    csms.advance(3)
    running = cp.transaction(1).transaction_id
    mismatch = {**payload, "csChargingProfiles": {**profile, "transactionId": running + 1}}
    assert csms.result("SetChargingProfile", mismatch)["status"] == "Rejected"
    fit = {**payload, "csChargingProfiles": {**profile, "transactionId": running}}
    assert csms.result("SetChargingProfile", fit)["status"] == "Accepted"


def test_tx_profile_waits_for_the_transaction_id_when_it_is_not_known_yet() -> None:
    rig = Rig()
    rig.start(1, None)
    assert rig.set(1, purpose="TxProfile", transactionId=8) == "Rejected"
    assert rig.set(1, purpose="TxProfile") == "Accepted"


def test_a_transaction_that_is_stopping_takes_no_tx_profile() -> None:
    class Stopping(Sessions):
        def current(self, connector: int) -> Tx | None:
            return Tx(3, "stopping")

    rig = Rig(Stopping())
    assert rig.set(1, purpose="TxProfile", transactionId=3) == "Rejected"


def test_time_validity_check() -> None:
    rig = Rig()
    assert rig.set(1, start=-DAY, validFrom=100, validTo=200, periods=((0, 10),)) == "Accepted"
    assert rig.cp.next_wakeup(rig.now) == 100
    rig.advance(100)
    assert rig.outputs[1] == [10]
    assert rig.cp.next_wakeup(rig.now) == 200
    rig.advance(100)
    assert rig.outputs[1] == [10, None]


def test_valid_from_not_before_valid_to_is_refused() -> None:
    rig = Rig()
    assert rig.refused(1, validFrom=300, validTo=300) == "PropertyConstraintViolation"


def test_multiple_periods() -> None:
    rig = Rig()
    assert rig.set(1, periods=((0, 10), (60, 16), (120, 6)), duration=180) == "Accepted"
    rig.advance(200, step=5)
    assert rig.outputs[1] == [10, 16, 6, None]


def test_recurring_daily() -> None:
    rig = Rig()
    # Every day 10 A from 22:15 (100 s from now) until midnight, 32 A otherwise.
    periods = ((0, 32), (MIDNIGHT + 100, 10))
    rig.accept(1, kind="Recurring", recurrencyKind="Daily", start=-MIDNIGHT, periods=periods)
    assert rig.outputs[1] == [32]
    assert rig.cp.next_wakeup(rig.now) == 100
    rig.advance(100, step=50)
    assert rig.outputs[1] == [32, 10]
    rig.advance(DAY - MIDNIGHT - 100, step=100)  # to midnight
    assert rig.outputs[1] == [32, 10, 32]
    rig.advance(MIDNIGHT + 100, step=200)  # 22:15 the next day
    assert rig.outputs[1] == [32, 10, 32, 10]


def test_recurring_weekly() -> None:
    rig = Rig()
    monday = -(DAY + MIDNIGHT)  # the virtual clock starts on a Tuesday
    periods = ((0, 16), (DAY + MIDNIGHT + 100, 8), (2 * DAY, 16))
    rig.accept(1, kind="Recurring", recurrencyKind="Weekly", start=monday, periods=periods)
    assert rig.outputs[1] == [16]
    assert rig.cp.next_wakeup(rig.now) == 100
    rig.advance(100, step=50)
    assert rig.outputs[1] == [16, 8]
    assert rig.cp.next_wakeup(rig.now) == DAY - MIDNIGHT  # Wednesday 00:00
    rig.advance(7 * DAY, step=1800)
    assert rig.outputs[1] == [16, 8, 16, 8]


def test_stacking_recurring_profiles() -> None:
    rig = Rig()
    monday = -(DAY + MIDNIGHT)
    week = ((0, 16), (5 * DAY, 32))  # weekdays 16 A, weekend 32 A
    weekly = dict(kind="Recurring", recurrencyKind="Weekly", start=monday, periods=week)
    assert rig.set(1, profile_id=1, **weekly) == "Accepted"
    # 22:00-06:00 32 A, across midnight
    nightly = dict(kind="Recurring", start=22 * H - MIDNIGHT, duration=8 * H, periods=((0, 32),))
    assert rig.set(1, profile_id=2, stack=1, recurrencyKind="Daily", **nightly) == "Accepted"
    # Now is Tuesday 22:13:20: nightly until Wednesday 06:00, then weekday 16 A until 22:00.
    assert rig.periods(1, DAY) == [
        (0, 32, 3),
        (DAY - MIDNIGHT + 6 * H, 16, 3),  # Wednesday 06:00
        (DAY - MIDNIGHT + 22 * H, 32, 3),  # Wednesday 22:00
    ]


def test_tx_profile_capped_by_charge_point_max_profile() -> None:
    rig = Rig()
    rig.accept(0, profile_id=1, purpose="ChargePointMaxProfile", periods=((0, 10),))
    rig.start(1, 1)
    assert rig.set(1, profile_id=2, purpose="TxProfile", periods=((0, 16),)) == "Accepted"
    assert rig.limit(1) == (10, "A")
    assert rig.clear(id=1) == "Accepted"
    assert rig.limit(1) == (16, "A")
    assert rig.outputs[1] == [10, 16]


def test_mixed_units() -> None:
    rig = Rig()
    cap_w = ((0, 6900),)  # 10 A on 3 x 230 V
    rig.accept(0, profile_id=1, purpose="ChargePointMaxProfile", unit="W", periods=cap_w)
    assert rig.set(1, profile_id=2, unit="A", periods=((0, 16),)) == "Accepted"
    assert rig.set(2, profile_id=3, unit="A", periods=((0, 8),)) == "Accepted"
    assert rig.limit(1) == (6900, "W")
    assert rig.limit(2) == (8, "A")
    assert rig.outputs[1] == [10]  # the output always gets amperes per phase
    assert rig.periods(1, H, "A") == [(0, 10, 3)]
    assert rig.periods(1, H, "W") == [(0, 6900, 3)]
    assert rig.periods(2, H, "W") == [(0, 5520, 3)]


def test_mixed_units_with_one_phase() -> None:
    rig = Rig()
    assert rig.set(1, unit="W", periods=((0, 3680, 1),)) == "Accepted"  # 16 A on one phase
    assert rig.outputs[1] == [16]
    assert rig.periods(1, H, "A") == [(0, 16, 1)]
    rig.sc.set_supply(120.0, 1, 48.0)  # a single-phase 120 V station
    rig.csms.pump()
    assert rig.outputs[1] == [16, pytest.approx(30.6666, abs=1e-3)]
    assert rig.periods(1, H, "A") == [(0, 30.6, 1)]


def test_get_composite_schedule() -> None:
    rig = Rig()
    rig.accept(0, profile_id=1, purpose="ChargePointMaxProfile", periods=((0, 24), (1800, 10)))
    rig.accept(1, profile_id=2, periods=((0, 16), (600, 20), (2400, 16)), duration=3000)
    reply = rig.composite(1, H, "A")
    assert reply == {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": at(0),
        "chargingSchedule": {
            "duration": H,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16, "numberPhases": 3},
                {"startPeriod": 600, "limit": 20, "numberPhases": 3},
                {"startPeriod": 1800, "limit": 10, "numberPhases": 3},
            ],
        },
    }
    assert rig.periods(0, H, "A") == [(0, 24, 3), (1800, 10, 3)]
    rig.advance(700, step=100)
    assert rig.composite(1, 600)["scheduleStart"] == at(700)
    assert rig.periods(1, 1200) == [(0, 20, 3), (1100, 10, 3)]


def test_composite_schedule_with_definition_gap() -> None:
    rig = Rig()
    assert rig.set(1, start=H, duration=H, periods=((0, 10),)) == "Accepted"
    assert rig.periods(1, 3 * H, "A") == [(0, 32, 3), (H, 10, 3), (2 * H, 32, 3)]
    assert rig.periods(1, 3 * H, "W") == [(0, 22080, 3), (H, 6900, 3), (2 * H, 22080, 3)]
    # Connector 0: the whole station's maximum, N connectors of 32 A.
    assert rig.periods(0, H, "A") == [(0, 64, 3)]
    rig.sc.set_supply(230.0, 3, 16.0)
    assert rig.periods(1, 3 * H, "A") == [(0, 16, 3), (H, 10, 3), (2 * H, 16, 3)]


def test_composite_schedule_unit_defaults() -> None:
    rig = Rig(config_defaults={"ChargingScheduleAllowedChargingRateUnit": "Power"})
    assert rig.composite(1, 60, None)["chargingSchedule"]["chargingRateUnit"] == "W"
    rig = Rig()
    assert rig.set(1, unit="W", periods=((0, 6900),)) == "Accepted"
    assert rig.composite(1, 60, None)["chargingSchedule"]["chargingRateUnit"] == "W"


def test_memory_limits() -> None:
    rig = Rig(
        config_defaults={
            "MaxChargingProfilesInstalled": "3",
            "ChargeProfileMaxStackLevel": "2",
            "ChargingScheduleMaxPeriods": "4",
        }
    )
    for profile_id in range(3):
        assert rig.set(1, profile_id=profile_id, stack=profile_id) == "Accepted"
    assert rig.set(2, profile_id=3) == "Rejected"  # MaxChargingProfilesInstalled
    assert rig.set(1, profile_id=4, stack=2) == "Accepted"  # replaces one: still 3
    assert rig.set(1, profile_id=0, stack=0, periods=((0, 8),)) == "Accepted"  # same id
    assert rig.clear(id=0) == "Accepted"
    assert rig.set(2, profile_id=5, stack=3) == "Rejected"  # ChargeProfileMaxStackLevel
    five = tuple((60 * n, 10) for n in range(5))
    assert rig.set(2, profile_id=5, periods=five) == "Rejected"  # ChargingScheduleMaxPeriods
    assert rig.set(2, profile_id=5, periods=five[:4]) == "Accepted"


def test_charging_schedule_allowed_charging_rate_unit() -> None:
    rig = Rig(config_defaults={"ChargingScheduleAllowedChargingRateUnit": "Current"})
    assert rig.set(1, unit="W") == "Rejected"
    assert rig.set(1, unit="A") == "Accepted"
    assert rig.composite(1, 60, None)["chargingSchedule"]["chargingRateUnit"] == "A"
    assert rig.cp.change_configuration("ChargingScheduleAllowedChargingRateUnit", "Power") == (
        "Rejected"
    )


# ---------------------------------------------------------------------- validation


def test_invalid_requests_are_property_constraint_violations() -> None:
    rig = Rig()
    assert rig.refused(3) == "PropertyConstraintViolation"
    assert rig.refused(1, purpose="ChargePointMaxProfile") == "PropertyConstraintViolation"
    assert rig.refused(1, periods=((60, 10),)) == "PropertyConstraintViolation"
    assert rig.refused(1, stack=-1) == "PropertyConstraintViolation"
    assert rig.refused(1, unit="kW") == "PropertyConstraintViolation"
    for payload in (
        {"connectorId": 1, "duration": -1},
        {"connectorId": 1, "duration": 60, "chargingRateUnit": "kW"},
    ):
        reply = rig.csms.call("GetCompositeSchedule", payload)
        assert reply[2] == "PropertyConstraintViolation", payload


def test_composite_schedule_of_an_unknown_connector_is_rejected() -> None:
    """§5.7: "if the connectorId is unknown, it SHALL respond with a status Rejected"."""
    rig = Rig()
    reply = rig.csms.call("GetCompositeSchedule", {"connectorId": 3, "duration": 60})
    assert reply[0] == 3 and reply[2] == {"status": "Rejected"}


def test_a_relative_charge_point_max_profile_is_rejected() -> None:
    rig = Rig()
    assert rig.set(0, purpose="ChargePointMaxProfile", kind="Relative") == "Rejected"


# ---------------------------------------------------------------------- ClearChargingProfile


def test_clear_charging_profile_filters() -> None:
    rig = Rig()
    rig.accept(0, profile_id=1, purpose="ChargePointMaxProfile")
    rig.accept(0, profile_id=2, stack=1)
    rig.accept(1, profile_id=3, stack=1)
    rig.accept(2, profile_id=4, stack=0)
    assert rig.clear(id=99) == "Unknown"
    assert rig.clear(id=1, connectorId=2) == "Accepted"  # errata 3.26: the id alone counts
    assert rig.clear(connectorId=1, stackLevel=0) == "Unknown"  # AND of the fields
    assert rig.clear(chargingProfilePurpose="ChargePointMaxProfile") == "Unknown"
    assert rig.clear(chargingProfilePurpose="TxDefaultProfile", stackLevel=1) == "Accepted"
    assert rig.limit(1) is None
    assert rig.limit(2) == (16, "A")
    assert rig.clear(connectorId=1) == "Unknown"
    assert rig.clear() == "Accepted"  # no field: every profile
    assert rig.clear() == "Unknown"
    assert rig.outputs[1] == [16, None]
    assert rig.outputs[2] == [16, None]


# ---------------------------------------------------------------------- output and timing


def test_output_is_called_only_when_the_limit_changes() -> None:
    rig = Rig()
    assert rig.set(1, profile_id=1, periods=((0, 16),)) == "Accepted"
    assert rig.set(1, profile_id=1, periods=((0, 16), (60, 16))) == "Accepted"
    rig.advance(120)
    assert rig.outputs[1] == [16]


def test_a_raising_output_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    rig = Rig()

    def broken(limit: float | None) -> None:
        raise RuntimeError("relay stuck")

    rig.engine.connectors[1].charging_limit = broken
    with caplog.at_level(logging.ERROR, logger="ocpp_core"):
        assert rig.set(1) == "Accepted"
    assert "charging_limit output of connector 1 failed" in caplog.text


def test_idle_polls_do_not_evaluate_profiles(monkeypatch: pytest.MonkeyPatch) -> None:
    rig = Rig()
    assert rig.set(1, periods=((0, 16), (600, 10))) == "Accepted"
    calls = []
    original = ProfileSet.limit

    def counting(self: ProfileSet, *args: Any, **kwargs: Any) -> Any:
        calls.append(rig.now)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ProfileSet, "limit", counting)
    rig.advance(599)
    assert calls == []
    rig.advance(1)
    assert set(calls) == {600}  # one evaluation (of each connector) at the change
    assert rig.outputs[1] == [16, 10]


def test_clock_changes_are_followed_both_ways() -> None:
    rig = Rig()
    assert rig.set(1, start=-DAY, validTo=100, periods=((0, 10),)) == "Accepted"
    assert rig.cp.next_wakeup(rig.now) == 100
    rig.cp.clock.sync(WALL_START + 200, rig.now)  # the CSMS says it is later
    rig.csms.pump()
    assert rig.outputs[1] == [10, None]
    rig.cp.clock.sync(WALL_START + 50, rig.now)  # and back again
    rig.csms.pump()
    assert rig.outputs[1] == [10, None, 10]


def test_a_failing_store_leaves_the_profiles_unchanged() -> None:
    class Failing(MemoryStore):
        broken = False

        def save(self, name: str, value: Any) -> None:
            if self.broken:
                raise OSError("disk full")
            super().save(name, value)

    store = Failing()
    rig = Rig(store=store)
    store.broken = True
    payload = {"connectorId": 1, "csChargingProfiles": charging_profile()}
    assert rig.csms.call("SetChargingProfile", payload)[2] == "InternalError"
    assert rig.limit(1) is None


def test_set_supply_is_validated() -> None:
    rig = Rig()
    for bad in ((0.0, 3, 16.0), (230.0, 4, 16.0), (230.0, 3, -1.0)):
        with pytest.raises(ValueError):
            rig.sc.set_supply(*bad)


# ---------------------------------------------------------------------- numbers a CSMS can check


def float_multiple_of_tenth(value: float) -> bool:
    """multipleOf 0.1 as float-based JSON-schema validators compute it (jsonschema, ajv)."""
    quotient = value / 0.1
    return int(quotient) == quotient


def test_composite_limits_are_multiples_of_a_tenth_for_float_and_decimal_validators() -> None:
    # Issue 18 item 8: a limit of 17.7 is a multiple of 0.1 in decimal, but 17.7 / 0.1 is
    # 176.99999999999997 in binary floating point: a CSMS validating with floats refuses it.
    # Every answer is checked by the frame guard (float) as well; the loop covers the tenths.
    rig = Rig()
    shown = []
    for tenths in range(61, 320, 4):  # below the station maximum, 32 A
        rig.accept(1, periods=((0, tenths / 10),))
        for unit in ("A", "W"):
            for _, limit, _ in rig.periods(1, 60, unit):
                assert float_multiple_of_tenth(limit), (tenths, unit, limit)
                assert Decimal(repr(limit)) % Decimal("0.1") == 0  # as the ocpp package checks
                shown.append((tenths, unit, limit))
    exact = {tenths: limit for tenths, unit, limit in shown if unit == "A"}
    assert all(0 <= tenths / 10 - limit <= 0.2 + 1e-9 for tenths, limit in exact.items())
    assert exact[177] == 17.6  # 17.7 itself fails a float check: the tenth below is sent


def test_numbers_beyond_any_station_are_property_constraint_violations() -> None:
    # Valid JSON and valid for the schema, but they would overflow the time and rate arithmetic.
    rig = Rig()
    huge = 10**400
    assert rig.refused(periods=((0, huge),)) == "PropertyConstraintViolation"
    assert rig.refused(periods=((0, 1e10),)) == "PropertyConstraintViolation"
    assert rig.refused(periods=((0, 16), (2**31, 8))) == "PropertyConstraintViolation"
    assert rig.refused(periods=((0, 16),), duration=huge) == "PropertyConstraintViolation"
    assert rig.refused(periods=((0, 16),), minChargingRate=huge) == "PropertyConstraintViolation"
    reply = rig.csms.call("GetCompositeSchedule", {"connectorId": 1, "duration": huge})
    assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation"
    assert rig.set(periods=((0, 1e9),), duration=2**31 - 1) == "Accepted"
    assert rig.periods(1, 2**31 - 1)[0][1] == 32  # capped by the station's maximum
