"""Acceptance of Reservation (H01-H04), Smart Charging (K01-K10) and Advanced Device Management
(N02-N08) of issue 14: ``python -m sim --ocpp 2.0.1`` against the independent, validating OCPP
2.0.1 CSMS of tests/test_v201_acceptance.py (the ``ocpp`` package's v201 classes check every
frame both ways), extended with the notifications of these profiles.

Each test drives the profile's messages, then kills the station (SIGKILL: a power cut) and starts
it again on the same --store: what the CSMS set is still in force (the reservation, the charging
profiles, the monitors). Every frame is also checked by the suite's independent schema checker
(FrameChecker). External charging limits (K12-K14) need the Control Center's switch: the command
line has none, so they are not driven here (tests/test_v201_smart_charging_limits.py).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fresh_loop import run_async
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
from test_v201_acceptance import Csms, World, _now, csms_url, station, until


class ProfilesCsms(Csms):
    """The acceptance CSMS, taking the notifications of reservation, smart charging and
    monitoring."""

    @on(Action.reservation_status_update)
    def on_reservation_status(self, **_: Any) -> call_result.ReservationStatusUpdate:
        return call_result.ReservationStatusUpdate()

    @on(Action.report_charging_profiles)
    def on_report_charging_profiles(self, **_: Any) -> call_result.ReportChargingProfiles:
        return call_result.ReportChargingProfiles()

    @on(Action.notify_charging_limit)
    def on_notify_charging_limit(self, **_: Any) -> call_result.NotifyChargingLimit:
        return call_result.NotifyChargingLimit()

    @on(Action.notify_monitoring_report)
    def on_notify_monitoring_report(self, **_: Any) -> call_result.NotifyMonitoringReport:
        return call_result.NotifyMonitoringReport()


class ProfilesWorld(World):
    csms_type = ProfilesCsms

    def live_csms(self) -> Csms:
        assert self.live is not None
        return self.live

    def since(self, mark: int, action: str) -> list[dict[str, Any]]:
        """The payloads of ``action`` the station sent after frame ``mark``."""
        world = World()
        world.frames = self.frames[mark:]
        return [payload for _, payload in world.calls(action)]

    async def set_variable(self, component: str, variable: str, value: str) -> None:
        answer = await self.live_csms().call(
            call.SetVariables(
                set_variable_data=[
                    {
                        "component": {"name": component},
                        "variable": {"name": variable},
                        "attribute_value": value,
                    }
                ]
            )
        )
        assert answer.set_variable_result[0]["attribute_status"] == "Accepted"

    def statuses(self, evse: int, mark: int = 0) -> list[str]:
        return [
            p["connectorStatus"]
            for p in self.since(mark, "StatusNotification")
            if p["evseId"] == evse
        ]

    def status(self, evse: int, mark: int = 0) -> str | None:
        """The EVSE's last StatusNotification after frame ``mark``."""
        found = self.statuses(evse, mark)
        return found[-1] if found else None


@asynccontextmanager
async def running(url: str, store: Path, *extra: str, cut: bool = False) -> AsyncIterator[None]:
    """``python -m sim`` running for the block, then killed (``cut``: SIGKILL, a power cut) or
    stopped (Ctrl-C)."""
    process = await station(url, store, *extra)
    try:
        yield
    finally:
        if not cut:
            process.send_signal(signal.SIGINT)
            try:
                async with asyncio.timeout(20):
                    await process.wait()
            except TimeoutError:
                pass
        if process.returncode is None:
            process.kill()
            await process.wait()


def run(scenario: Callable[[], Coroutine[Any, Any, None]], world: World) -> None:
    """The scenario in a fresh thread (the e2e tests' Playwright fixtures keep a loop running in
    this one), then every frame through the independent checker too."""
    run_async(scenario())
    world.check_frames()


def _in(seconds: float) -> str:
    later = datetime.now(UTC) + timedelta(seconds=seconds)
    return later.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ---------------------------------------------------------------------- Reservation (H01-H04)


def test_acceptance_reservation_across_a_kill(tmp_path: Path) -> None:
    world = ProfilesWorld()
    store = tmp_path / "store"
    card = {"id_token": "RESERVED-1", "type": "ISO14443"}
    answers: dict[str, str] = {}

    async def reserve(reservation_id: int, seconds: float, **where: Any) -> str:
        answer = await world.live_csms().call(
            call.ReserveNow(
                id=reservation_id, expiry_date_time=_in(seconds), id_token=card, **where
            )
        )
        return str(answer.status)

    async def scenario() -> None:
        async with csms_url(world) as url:
            # EVSE 1 has a cable in (--plugged 1), EVSE 2 is free.
            async with running(url, store, cut=True):
                await until(lambda: world.boots >= 2, "accepted after Pending")
                await until(lambda: "Occupied" in world.statuses(1), "EVSE 1 occupied")
                live = world.live_csms()
                # H01 any EVSE: the free one (EVSE 2) shows Reserved; it expires.
                assert await reserve(3, 30) == "Accepted"
                await until(lambda: "Reserved" in world.statuses(2), "EVSE 2 reserved (any)")
                await until(
                    lambda: any(
                        (p["reservationId"], p["reservationUpdateStatus"]) == (3, "Expired")
                        for p in world.since(0, "ReservationStatusUpdate")
                    ),
                    "ReservationStatusUpdate Expired",
                )
                await until(lambda: world.status(2) == "Available", "EVSE 2 free again")
                # H01 a specific EVSE: Accepted on the free one, Occupied on the one with a car,
                # Occupied on the one already reserved; H02 an unknown id is Rejected.
                assert await reserve(1, 86400, evse_id=2) == "Accepted"
                await until(lambda: world.status(2) == "Reserved", "EVSE 2 reserved")
                assert await reserve(2, 86400, evse_id=1) == "Occupied"
                assert await reserve(4, 86400, evse_id=2) == "Occupied"
                assert await reserve(5, 86400, evse_id=2, connector_type="cCCS2") == "Rejected"
                cancelled = await live.call(call.CancelReservation(reservation_id=99))
                assert cancelled.status == "Rejected"
                # H02: cancelled, the EVSE is free again; reserved anew, that one is kept.
                cancelled = await live.call(call.CancelReservation(reservation_id=1))
                assert cancelled.status == "Accepted"
                await until(lambda: world.status(2) == "Available", "EVSE 2 free after cancel")
                assert await reserve(10, 86400, evse_id=2) == "Accepted"
                await until(lambda: world.status(2) == "Reserved", "EVSE 2 reserved again")

            mark = len(world.frames)
            async with running(url, store):
                await until(lambda: world.boots >= 3, "the restart booted")
                # The reservation survived the power cut: EVSE 2 still Reserved, still held.
                await until(lambda: bool(world.statuses(2, mark)), "EVSE 2 status after restart")
                assert world.statuses(2, mark)[0] == "Reserved"
                assert await reserve(6, 86400, evse_id=2) == "Occupied"
                live = world.live_csms()
                # H03: only the holder's idToken starts a transaction on the reserved EVSE (a
                # transaction starts on authorization here, EVSE 2 has no cable), and its first
                # TransactionEvent names the reservation (H03.FR.04).
                await world.set_variable("TxCtrlr", "TxStartPoint", "Authorized")
                other = await live.call(
                    call.RequestStartTransaction(
                        id_token={"id_token": "OTHER-1", "type": "ISO14443"},
                        remote_start_id=8,
                        evse_id=2,
                    )
                )
                answers["other"] = other.status
                holder = await live.call(
                    call.RequestStartTransaction(id_token=card, remote_start_id=9, evse_id=2)
                )
                assert holder.status == "Accepted"
                await until(lambda: bool(world.events()), "the holder's transaction started")
                started = world.events()[0]
                tx = started["transactionInfo"]["transactionId"]
                stopped = await live.call(call.RequestStopTransaction(transaction_id=tx))
                assert stopped.status == "Accepted"
                await until(
                    lambda: any(e["eventType"] == "Ended" for e in world.transaction(tx)),
                    "the holder's transaction ended",
                )
                # Used, the reservation is gone.
                cancelled = await live.call(call.CancelReservation(reservation_id=10))
                assert cancelled.status == "Rejected"

    run(scenario, world)
    updates = [
        (p["reservationId"], p["reservationUpdateStatus"])
        for _, p in world.calls("ReservationStatusUpdate")
    ]
    # A cancelled or used reservation is not reported (H02, H03).
    assert updates == [(3, "Expired")]
    assert answers == {"other": "Rejected"}  # the reserved EVSE refuses another idToken
    events = world.events()
    assert {e["idToken"]["idToken"] for e in events if "idToken" in e} == {"RESERVED-1"}
    assert events[0]["transactionInfo"]["remoteStartId"] == 9
    assert [e.get("reservationId") for e in events if e.get("reservationId")] == [10]
    print(f"\nreservation acceptance: updates {updates}, {len(world.frames)} frames")


# ---------------------------------------------------------------------- Smart Charging (K01-K10)

METER_MEASURANDS = "Energy.Active.Import.Register,Power.Active.Import"


def _profile(profile_id: int, purpose: str, limit: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": profile_id,
        "stack_level": extra.pop("stack_level", 0),
        "charging_profile_purpose": purpose,
        "charging_profile_kind": "Absolute",
        "charging_schedule": [
            {
                "id": profile_id,
                "start_schedule": _now(),
                "charging_rate_unit": extra.pop("unit", "A"),
                "charging_schedule_period": [{"start_period": 0, "limit": limit}],
            }
        ],
        **extra,
    }


def _powers(events: list[dict[str, Any]]) -> list[float]:
    return [
        float(sv["value"])
        for event in events
        for mv in event.get("meterValue", [])
        for sv in mv["sampledValue"]
        if sv.get("measurand") == "Power.Active.Import"
    ]


def test_acceptance_smart_charging_across_a_kill(tmp_path: Path) -> None:
    world = ProfilesWorld()
    store = tmp_path / "store"
    limits: dict[str, float] = {}

    def reported(request_id: int) -> list[dict[str, Any]]:
        return [p for _, p in world.calls("ReportChargingProfiles") if p["requestId"] == request_id]

    def reported_ids(request_id: int) -> set[int]:
        return {c["id"] for p in reported(request_id) for c in p["chargingProfile"]}

    async def report(request_id: int, wanted: int) -> set[int]:
        answer = await world.live_csms().call(
            call.GetChargingProfiles(request_id=request_id, charging_profile={})
        )
        assert answer.status == "Accepted"
        await until(
            lambda: sum(len(p["chargingProfile"]) for p in reported(request_id)) >= wanted,
            f"ReportChargingProfiles {request_id}",
        )
        pages = reported(request_id)
        assert pages[-1].get("tbc", False) is False
        return reported_ids(request_id)

    async def composite(evse: int) -> float:
        answer = await world.live_csms().call(
            call.GetCompositeSchedule(duration=3600, evse_id=evse, charging_rate_unit="W")
        )
        assert answer.status == "Accepted"
        schedule = answer.schedule
        assert schedule["evse_id"] == evse and schedule["charging_rate_unit"] == "W"
        return float(schedule["charging_schedule_period"][0]["limit"])

    async def follows(tx: str, mark: int, limit: float) -> None:
        """The transaction's sampled power after frame ``mark`` comes down to ``limit`` W."""

        def lowered() -> bool:
            since = [
                e
                for e in world.since(mark, "TransactionEvent")
                if e["transactionInfo"]["transactionId"] == tx
            ]
            powers = _powers(since)
            return bool(powers) and 0 < powers[-1] <= limit * 1.01  # the voltage varies a bit

        await until(lowered, f"the charging power of {tx} follows the limit {limit} W")

    async def scenario() -> None:
        async with csms_url(world) as url:
            async with running(url, store, "--idtag", "CARD-S", cut=True):
                await until(lambda: bool(world.events()), "a transaction started")
                await until(lambda: world.boots >= 2, "accepted after Pending")
                live = world.live_csms()
                tx = world.events()[0]["transactionInfo"]["transactionId"]
                await world.set_variable(
                    "SampledDataCtrlr", "TxUpdatedMeasurands", METER_MEASURANDS
                )
                await until(lambda: bool(_powers(world.transaction(tx))), "power sampled")
                limits["free"] = await composite(1)

                # K01: station maximum and default profiles (EVSE 0), then a TxProfile bound to
                # the running transaction, lower than both; a TxProfile of another transaction is
                # refused.
                answers = [
                    await live.call(call.SetChargingProfile(evse_id=evse, charging_profile=profile))
                    for evse, profile in (
                        (0, _profile(1, "ChargingStationMaxProfile", 20.0)),
                        (0, _profile(2, "TxDefaultProfile", 16.0)),
                        (1, _profile(3, "TxProfile", 6.0, stack_level=1, transaction_id=tx)),
                        (1, _profile(4, "TxProfile", 8.0, transaction_id="not-running")),
                    )
                ]
                assert [a.status for a in answers] == ["Accepted"] * 3 + ["Rejected"]
                mark = len(world.frames)
                limits["tx"] = await composite(1)
                limits["evse2"] = await composite(2)  # no transaction: TxDefaultProfile 16 A
                await follows(tx, mark, limits["tx"])
                assert await report(21, 3) == {1, 2, 3}
                # K10 ClearChargingProfile: an unknown id, then by purpose.
                unknown = await live.call(call.ClearChargingProfile(charging_profile_id=99))
                assert unknown.status == "Unknown"

            async with running(url, store):
                await until(
                    lambda: any(e["eventType"] == "Ended" for e in world.transaction(tx)),
                    "the killed transaction ended after the restart",
                )
                # The station's profiles survived the power cut; the TxProfile went with its
                # transaction.
                assert await report(22, 2) == {1, 2}
                limits["restart"] = await composite(1)
                live = world.live_csms()
                cleared = await live.call(
                    call.ClearChargingProfile(
                        charging_profile_criteria={
                            "charging_profile_purpose": "ChargingStationMaxProfile"
                        }
                    )
                )
                assert cleared.status == "Accepted"
                cleared = await live.call(call.ClearChargingProfile(charging_profile_id=2))
                assert cleared.status == "Accepted"
                none = await live.call(call.GetChargingProfiles(request_id=23, charging_profile={}))
                assert none.status == "NoProfiles"
                # K05: RequestStartTransaction with a TxProfile: the transaction charges under it.
                mark = len(world.frames)
                started = await live.call(
                    call.RequestStartTransaction(
                        id_token={"id_token": "REMOTE-S", "type": "Central"},
                        remote_start_id=5,
                        evse_id=1,
                        charging_profile=_profile(7, "TxProfile", 8.0),
                    )
                )
                assert started.status == "Accepted"
                await until(lambda: bool(world.since(mark, "TransactionEvent")), "remote start")
                remote = world.since(mark, "TransactionEvent")[0]["transactionInfo"]
                assert remote["remoteStartId"] == 5
                assert await report(24, 1) == {7}
                limits["remote"] = await composite(1)
                await follows(remote["transactionId"], mark, limits["remote"])
                stopped = await live.call(
                    call.RequestStopTransaction(transaction_id=remote["transactionId"])
                )
                assert stopped.status == "Accepted"
                await until(
                    lambda: any(
                        e["eventType"] == "Ended"
                        for e in world.transaction(remote["transactionId"])
                    ),
                    "the remote transaction ended",
                )
                gone = await live.call(call.GetChargingProfiles(request_id=25, charging_profile={}))
                assert gone.status == "NoProfiles"  # the TxProfile went with its transaction

    run(scenario, world)
    # Hand-computed, in W of the simulated 3-phase 230 V supply (690 W per A): the TxProfile's
    # 6 A; EVSE 2 while EVSE 1 charges: its TxDefaultProfile's 16 A capped by the 20 A station
    # maximum shared by the two EVSEs (10 A); after the restart, nothing charging: 16 A; the
    # remote start's own TxProfile, nothing else left: 8 A.
    assert limits == {
        "free": 32 * 690.0,
        "tx": 6 * 690.0,
        "evse2": 10 * 690.0,
        "restart": 16 * 690.0,
        "remote": 8 * 690.0,
    }
    powers = _powers(world.events())
    print(
        f"\nsmart charging acceptance: composite limits {limits} W, power samples"
        f" {powers[:3]}..{powers[-3:]}, {len(world.frames)} frames"
    )


# ---------------------------------------------------------------------- Monitoring (N02-N08)

POWER1 = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}
STATE2 = {
    "component": {"name": "EVSE", "evse": {"id": 2}},
    "variable": {"name": "AvailabilityState"},
}


def _monitor(where: dict[str, Any], kind: str, value: float, severity: int) -> dict[str, Any]:
    return {**where, "type": kind, "value": value, "severity": severity}


def test_acceptance_monitoring_across_a_kill(tmp_path: Path) -> None:
    world = ProfilesWorld()
    store = tmp_path / "store"
    ids: dict[str, int] = {}

    def events(mark: int = 0) -> list[dict[str, Any]]:
        return [e for p in world.since(mark, "NotifyEvent") for e in p["eventData"]]

    def of(monitor: str, mark: int = 0) -> list[dict[str, Any]]:
        return [e for e in events(mark) if e.get("variableMonitoringId") == ids[monitor]]

    def reported(request_id: int) -> dict[int, str]:
        return {
            m["id"]: m["type"]
            for _, p in world.calls("NotifyMonitoringReport")
            if p["requestId"] == request_id
            for data in p.get("monitor", [])
            for m in data["variableMonitoring"]
        }

    async def report(request_id: int, **criteria: Any) -> dict[int, str]:
        answer = await world.live_csms().call(
            call.GetMonitoringReport(request_id=request_id, **criteria)
        )
        assert answer.status == "Accepted"
        await until(
            lambda: any(
                p["requestId"] == request_id and not p.get("tbc", False)
                for _, p in world.calls("NotifyMonitoringReport")
            ),
            f"NotifyMonitoringReport {request_id}",
        )
        return reported(request_id)

    async def availability(evse: int, status: str) -> None:
        answer = await world.live_csms().call(
            call.ChangeAvailability(operational_status=status, evse={"id": evse})
        )
        assert answer.status == "Accepted"

    async def scenario() -> None:
        async with csms_url(world) as url:
            async with running(url, store, "--idtag", "CARD-M", cut=True):
                await until(lambda: bool(world.events()), "a transaction started")
                await until(lambda: world.boots >= 2, "accepted after Pending")
                live = world.live_csms()
                level = await live.call(call.SetMonitoringLevel(severity=8))
                assert level.status == "Accepted"
                base = await live.call(call.SetMonitoringBase(monitoring_base="All"))
                assert base.status == "Accepted"
                answer = await live.call(
                    call.SetVariableMonitoring(
                        set_monitoring_data=[
                            _monitor(POWER1, "UpperThreshold", 1000, 4),
                            _monitor(POWER1, "Delta", 100000, 6),
                            _monitor(STATE2, "Delta", 0, 5),
                            _monitor(POWER1, "Periodic", 60, 9),  # filtered by level 8
                            _monitor(
                                {"component": {"name": "Nothing"}, "variable": {"name": "X"}},
                                "Delta",
                                1,
                                5,
                            ),
                        ]
                    )
                )
                results = answer.set_monitoring_result
                assert [r["status"] for r in results] == ["Accepted"] * 4 + ["UnknownComponent"]
                for name, result in zip(
                    ("upper", "delta", "state", "periodic"), results[:4], strict=True
                ):
                    ids[name] = result["id"]
                # N07: the EVSE charging draws more than 1 kW: Alerting on the threshold.
                await until(lambda: bool(of("upper")), "NotifyEvent of the power threshold")
                upper = of("upper")[0]
                assert upper["trigger"] == "Alerting"
                assert upper["eventNotificationType"] == "CustomMonitor"
                assert float(upper["actualValue"]) > 1000
                # N07.FR.19: any change of a status is a Delta event.
                await availability(2, "Inoperative")
                await until(lambda: bool(of("state")), "NotifyEvent of AvailabilityState")
                assert of("state")[0]["actualValue"] == "Unavailable"
                assert of("state")[0]["trigger"] == "Delta"

                everything = await report(31)
                assert {1, 2, 3} <= set(everything)  # hard-wired and preconfigured
                assert {ids[n] for n in ("upper", "delta", "state", "periodic")} <= set(everything)
                deltas = await report(32, monitoring_criteria=["DeltaMonitoring"])
                assert set(deltas) == {ids["delta"], ids["state"]}
                cleared = await live.call(call.ClearVariableMonitoring(id=[ids["delta"], 1, 999]))
                statuses = [r["status"] for r in cleared.clear_monitoring_result]
                assert statuses == ["Accepted", "Rejected", "NotFound"]

            mark = len(world.frames)
            async with running(url, store):
                await until(lambda: world.boots >= 3, "the restart booted")
                # The monitors survived the power cut and still watch: EVSE 2 back in operation.
                after = await report(33)
                kept = {ids[n] for n in ("upper", "state", "periodic")}
                assert kept <= set(after) and ids["delta"] not in after
                await availability(2, "Operative")
                await until(lambda: bool(of("state", mark)), "AvailabilityState after restart")
                assert of("state", mark)[-1]["actualValue"] == "Available"
                live = world.live_csms()
                base = await live.call(call.SetMonitoringBase(monitoring_base="FactoryDefault"))
                assert base.status == "Accepted"
                assert set(await report(34)) == {1, 2, 3}

    run(scenario, world)
    assert not [e for e in events() if e.get("variableMonitoringId") == ids["periodic"]]
    numbers = [e["eventId"] for e in events()]
    assert numbers == sorted(set(numbers))  # eventId counts on across the restart
    print(
        f"\nmonitoring acceptance: monitors {ids}, {len(events())} events"
        f" ({sorted({e['trigger'] for e in events()})}), {len(world.frames)} frames"
    )
