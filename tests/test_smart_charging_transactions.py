"""Smart charging with the real transaction block: TxProfiles follow real transactions, the
RemoteStartTransaction profile is installed, Relative schedules count from the real start and
the ChargePointMaxProfile is shared between charging connectors (OCPP 1.6 §3.13, §5.11, §5.16).
"""

from __future__ import annotations

from test_smart_charging import charging_profile
from tx_rig import Rig, start_session


class LimitRig(Rig):
    """A tx_rig station that records each connector's charging-limit output."""

    def __init__(self, **options: object) -> None:
        self.outputs: dict[int, list] = {}
        super().__init__(**options)

    def _build(self, now: float):  # type: ignore[override]
        cp, csms = super()._build(now)
        for connector in range(self.connectors + 1):
            self.outputs[connector] = []
            cp.connector(connector).charging_limit = self.outputs[connector].append
        return cp, csms

    def set_profile(self, connector: int, **profile: object) -> str:
        payload = {"connectorId": connector, "csChargingProfiles": charging_profile(**profile)}
        status = self.csms.result("SetChargingProfile", payload)["status"]
        self.pump()
        return status

    def limit(self, connector: int = 1) -> float | None:
        return self.outputs[connector][-1] if self.outputs[connector] else None


def test_a_tx_profile_limits_the_running_transaction_and_ends_with_it() -> None:
    rig = LimitRig()
    transaction_id = start_session(rig)
    assert rig.set_profile(1, purpose="TxProfile", periods=((0, 10),)) == "Accepted"
    assert rig.limit() == 10
    [(connector, profile)] = rig.cp.charging_profiles()
    assert connector == 1 and profile["transactionId"] == transaction_id
    schedule = rig.cp.composite_schedule(1, 600, rig.now, "A")
    assert schedule["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 10
    rig.card("TAG1")  # stop
    assert rig.payloads("StopTransaction")
    assert rig.cp.charging_profiles() == []  # §3.13.1: it ceases with the transaction
    assert rig.limit() is None
    assert rig.csms.result("ClearChargingProfile", {"id": 1}) == {"status": "Unknown"}


def test_a_tx_profile_for_another_transaction_is_rejected() -> None:
    rig = LimitRig()
    transaction_id = start_session(rig)
    other = {"transactionId": transaction_id + 1}
    assert rig.set_profile(1, purpose="TxProfile", **other) == "Rejected"
    assert rig.set_profile(2, purpose="TxProfile") == "Rejected"  # nothing runs there


def test_remote_start_with_a_charging_profile_installs_it() -> None:
    rig = LimitRig()
    profile = charging_profile(7, purpose="TxProfile", kind="Relative", periods=((0, 6), (60, 12)))
    reply = rig.csms.result(
        "RemoteStartTransaction", {"connectorId": 1, "idTag": "TAG1", "chargingProfile": profile}
    )
    assert reply == {"status": "Accepted"}
    rig.csms.advance(20)  # the Relative schedule counts from the start, not from the request
    rig.plug(1)
    transaction_id = rig.cp.transaction(1).transaction_id
    assert rig.limit() == 6
    [(_, installed)] = rig.cp.charging_profiles()
    assert installed["transactionId"] == transaction_id
    rig.csms.advance(45)
    assert rig.limit() == 6
    rig.csms.advance(20)
    assert rig.limit() == 12
    rig.unplug(1)  # StopTransactionOnEVSideDisconnect
    assert rig.cp.charging_profiles() == []


def test_remote_start_profile_goes_when_the_session_never_starts() -> None:
    rig = LimitRig(config={"ConnectionTimeOut": "30"})
    profile = charging_profile(7, purpose="TxProfile")
    rig.csms.result(
        "RemoteStartTransaction", {"connectorId": 1, "idTag": "TAG1", "chargingProfile": profile}
    )
    assert len(rig.cp.charging_profiles()) == 1
    rig.csms.advance(40)  # no cable: the session is cancelled
    assert rig.cp.transaction(1) is None
    assert rig.cp.charging_profiles() == []


def test_remote_start_with_an_unusable_profile_is_rejected() -> None:
    rig = LimitRig()
    wrong = charging_profile(7, purpose="TxDefaultProfile")  # §5.11: it SHALL be a TxProfile
    reply = rig.csms.result(
        "RemoteStartTransaction", {"connectorId": 1, "idTag": "TAG1", "chargingProfile": wrong}
    )
    assert reply == {"status": "Rejected"}
    assert rig.cp.transaction(1) is None and rig.cp.charging_profiles() == []


def test_the_charge_point_max_profile_is_shared_by_charging_connectors() -> None:
    rig = LimitRig()
    assert rig.set_profile(0, purpose="ChargePointMaxProfile", periods=((0, 32),)) == "Accepted"
    start_session(rig, "TAG1", 1)
    assert rig.limit(1) == 32
    start_session(rig, "TAG2", 2)
    assert rig.limit(1) == rig.limit(2) == 16
    rig.card("TAG2", 2)
    assert rig.limit(1) == 32


def test_tx_default_profile_applies_before_and_during_real_transactions() -> None:
    rig = LimitRig()
    assert rig.set_profile(0, purpose="TxDefaultProfile", periods=((0, 20),)) == "Accepted"
    assert rig.limit(1) == 20  # before any transaction (MicroOcpp: only inside one)
    start_session(rig)
    assert rig.limit(1) == 20
    assert rig.set_profile(1, profile_id=2, purpose="TxProfile", periods=((0, 8),)) == "Accepted"
    assert rig.limit(1) == 8
    rig.card("TAG1")
    assert rig.limit(1) == 20  # the TxProfile went, the default stays


# ---------------------------------------------------------------------- §5.7 at the request moment


def test_5_7_composite_schedule_has_a_tx_profile_installed_in_the_current_second() -> None:
    # Issue 17: StartTransaction at .120 s with a RemoteStart TxProfile of 10 A, then
    # GetCompositeSchedule at .127 s was answered [{0: 32 A}, {1: 10 A}] with 10 A in force.
    rig = LimitRig()
    profile = charging_profile(7, purpose="TxProfile", kind="Relative", periods=((0, 10), (60, 16)))
    reply = rig.csms.result(
        "RemoteStartTransaction", {"connectorId": 1, "idTag": "TAG1", "chargingProfile": profile}
    )
    assert reply == {"status": "Accepted"}
    rig.csms.now = 21.120
    rig.plug(1)
    [start] = rig.payloads("StartTransaction")
    assert start["timestamp"].endswith(":41.120Z")  # WALL_START + 21.120 s
    assert rig.limit() == 10
    rig.csms.now = 21.127
    reply = rig.csms.result(
        "GetCompositeSchedule", {"connectorId": 1, "duration": 120, "chargingRateUnit": "A"}
    )
    # scheduleStart is the request's second (rounded down); what is in force at the request
    # counts from offset 0; the change at 60.120 s after the start shows from the next second.
    assert reply["scheduleStart"].endswith(":41Z") or reply["scheduleStart"].endswith(":41.000Z")
    periods = reply["chargingSchedule"]["chargingSchedulePeriod"]
    assert [(p["startPeriod"], p["limit"]) for p in periods] == [(0, 10), (61, 16)]
