"""Acceptance of issue 13: ``python -m sim --ocpp 2.0.1`` against an independent, validating
OCPP 2.0.1 CSMS built on the ``ocpp`` package's v201 classes (not the project's demo CSMS).

The CSMS answers the first BootNotification with Pending and provisions the station meanwhile
(B02: SetVariables, GetBaseReport), then accepts the retry. The station charges on a card
(--plugged 1 --idtag), is killed with SIGKILL in the middle of the transaction (a power cut),
and its restart on the same --store ends that transaction under the same transactionId
(PowerLoss), seqNo counting on; the CSMS then starts and stops a transaction remotely. Every
frame the station sent is checked by the `ocpp` package on arrival and again by the suite's
independent schema checker; seqNo runs 0, 1, 2, ... in every transaction.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fresh_loop import run_async
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action, AuthorizationStatusEnumType, RegistrationStatusEnumType
from ocpp_schema_check import FrameChecker
from websockets.asyncio.server import ServerConnection, serve

ROOT = Path(__file__).resolve().parent.parent
STATION = "ACCEPT-201"
TIMEOUT_S = 60.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Recorded:
    """The CSMS's WebSocket, every text kept: (direction seen by the station, text)."""

    def __init__(self, ws: ServerConnection, frames: list[tuple[str, str]]) -> None:
        self.ws = ws
        self.frames = frames

    async def recv(self) -> str:
        text = str(await self.ws.recv())
        self.frames.append(("out", text))  # the station sent it
        return text

    async def send(self, text: str) -> None:
        self.frames.append(("in", text))
        await self.ws.send(text)


class Csms(ChargePoint):
    """One connection of the station, as an independent CSMS sees it."""

    world: World

    @on(Action.boot_notification)
    def on_boot(self, **_: Any) -> call_result.BootNotification:
        self.world.boots += 1
        if self.world.boots == 1:
            self.world.later(self.provision())
            status, interval = RegistrationStatusEnumType.pending, 2
        else:
            status, interval = RegistrationStatusEnumType.accepted, 300
        self.world.boot_answers.append(status.value)
        return call_result.BootNotification(current_time=_now(), interval=interval, status=status)

    async def provision(self) -> None:
        """B02: while Pending the CSMS configures the station and asks for its device model."""
        result = await self.call(
            call.SetVariables(
                set_variable_data=[
                    {
                        "component": {"name": "SampledDataCtrlr"},
                        "variable": {"name": "TxUpdatedInterval"},
                        "attribute_value": "2",
                    }
                ]
            )
        )
        self.world.set_variables = result.set_variable_result
        report = await self.call(call.GetBaseReport(request_id=41, report_base="FullInventory"))
        self.world.base_report = report.status

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    def on_status(self, **_: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.notify_report)
    def on_notify_report(self, **_: Any) -> call_result.NotifyReport:
        return call_result.NotifyReport()

    @on(Action.notify_event)
    def on_notify_event(self, **_: Any) -> call_result.NotifyEvent:
        return call_result.NotifyEvent()

    @on(Action.meter_values)
    def on_meter_values(self, **_: Any) -> call_result.MeterValues:
        return call_result.MeterValues()

    @on(Action.security_event_notification)
    def on_security_event(self, **_: Any) -> call_result.SecurityEventNotification:
        return call_result.SecurityEventNotification()

    @on(Action.authorize)
    def on_authorize(self, **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_token_info={"status": AuthorizationStatusEnumType.accepted})

    @on(Action.transaction_event)
    def on_transaction_event(self, **payload: Any) -> call_result.TransactionEvent:
        if payload.get("id_token"):
            return call_result.TransactionEvent(
                id_token_info={"status": AuthorizationStatusEnumType.accepted}
            )
        return call_result.TransactionEvent()


class World:
    """What the CSMS saw over every connection of the station."""

    csms_type: type[Csms] = Csms  # a test may answer more (test_v201_display_acceptance)

    def __init__(self) -> None:
        self.frames: list[tuple[str, str]] = []
        self.boots = 0
        self.boot_answers: list[str] = []
        self.set_variables: Any = None
        self.base_report: Any = None
        self.live: Csms | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def later(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def handle(self, ws: ServerConnection) -> None:
        assert ws.subprotocol == "ocpp2.0.1"
        csms = self.csms_type(STATION, Recorded(ws, self.frames))
        csms.world = self
        self.live = csms
        try:
            await csms.start()
        except Exception:  # the connection ended (the station was killed or stopped)
            return

    def calls(self, action: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for direction, text in self.frames:
            frame = json.loads(text)
            if direction == "out" and frame[0] == 2 and action in (None, frame[2]):
                found.append((frame[2], frame[3]))
        return found

    def check_frames(self) -> None:
        """Every frame of every connection through the suite's independent schema checker."""
        checker = FrameChecker("2.0.1")
        for direction, text in self.frames:
            if direction == "in":
                checker.incoming(text)
            else:
                checker.outgoing(text)

    def events(self) -> list[dict[str, Any]]:
        return [payload for _, payload in self.calls("TransactionEvent")]

    def transaction(self, transaction_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e["transactionInfo"]["transactionId"] == transaction_id]


async def until(predicate: Callable[[], bool], what: str, timeout: float = TIMEOUT_S) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)
    assert predicate(), what


async def station(url: str, store: Path, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sim", "--ocpp", "2.0.1", "--url", url, "--id", STATION,
        "--store", str(store), "--plugged", "1", "--speed", "10", *extra,
        cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@asynccontextmanager
async def csms_url(world: World) -> AsyncIterator[str]:
    """The world's CSMS serving ocpp2.0.1 on a free port for the block; its URL."""
    async with serve(world.handle, "127.0.0.1", 0, subprotocols=["ocpp2.0.1"]) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"


def assert_seq_nos(events: list[dict[str, Any]]) -> None:
    """E01.FR.xx: seqNo starts at 0 and counts up by 1 per event of the transaction (an event
    re-sent after a lost answer repeats its own number)."""
    seq = [e["seqNo"] for e in events]
    assert seq == sorted(seq), seq
    assert sorted(set(seq)) == list(range(len(set(seq)))), seq


def test_acceptance_boot_pending_then_accepted_transactions_and_a_kill(tmp_path: Path) -> None:
    world = World()
    store = tmp_path / "store"

    async def scenario() -> None:
        async with csms_url(world) as url:
            first = await station(url, store, "--idtag", "CARD-A")
            try:

                def charged_a_while() -> bool:
                    updated = [e for e in world.events() if e["eventType"] == "Updated"]
                    return sum(1 for e in updated if e.get("meterValue")) >= 2

                await until(charged_a_while, "periodic meter values in Updated events")
            finally:
                first.kill()  # SIGKILL mid-transaction: a power cut
                await first.wait()
            killed = world.events()[0]["transactionInfo"]["transactionId"]
            before = world.transaction(killed)

            second = await station(url, store)
            try:
                await until(
                    lambda: any(e["eventType"] == "Ended" for e in world.transaction(killed)),
                    "the killed transaction ended after the restart",
                )
                assert world.live is not None
                started = await world.live.call(
                    call.RequestStartTransaction(
                        id_token={"id_token": "REMOTE-1", "type": "Central"},
                        remote_start_id=7,
                        evse_id=1,
                    )
                )
                assert started.status == "Accepted"

                def remote() -> list[dict[str, Any]]:
                    return [
                        e
                        for e in world.events()
                        if e.get("idToken", {}).get("idToken") == "REMOTE-1"
                    ]

                await until(lambda: bool(remote()), "the remote transaction started")
                remote_id = remote()[0]["transactionInfo"]["transactionId"]
                stopped = await world.live.call(
                    call.RequestStopTransaction(transaction_id=remote_id)
                )
                assert stopped.status == "Accepted"
                await until(
                    lambda: any(e["eventType"] == "Ended" for e in world.transaction(remote_id)),
                    "the remote transaction ended",
                )
            finally:
                second.send_signal(signal.SIGINT)
                try:
                    async with asyncio.timeout(20):
                        await second.wait()
                except TimeoutError:
                    second.kill()
                    await second.wait()
            check(world, killed, before, remote_id)

    run_async(scenario())


def check(world: World, killed: str, before: list[dict[str, Any]], remote_id: str) -> None:
    # Boot: Pending first; nothing of its own but the report while Pending (B02.FR.02); then
    # Accepted on the retry.
    assert world.boot_answers[:2] == ["Pending", "Accepted"]
    actions = [action for action, _ in world.calls()]
    accepted_at = [i for i, a in enumerate(actions) if a == "BootNotification"][1]
    assert set(actions[:accepted_at]) <= {"BootNotification", "NotifyReport"}
    assert world.set_variables[0]["attribute_status"] == "Accepted"
    assert world.base_report == "Accepted"

    # The device model, paged by NotifyReport: seqNo 0.., the last tbc false, no password value.
    pages = [p for _, p in world.calls("NotifyReport") if p["requestId"] == 41]
    assert [p["seqNo"] for p in pages] == list(range(len(pages)))
    assert pages[-1].get("tbc", False) is False and all(p.get("tbc") for p in pages[:-1])
    reported = [item for page in pages for item in page.get("reportData", [])]
    names = {(i["component"]["name"], i["variable"]["name"]) for i in reported}
    for wanted in (
        ("OCPPCommCtrlr", "HeartbeatInterval"),
        ("TxCtrlr", "TxStartPoint"),
        ("AuthCtrlr", "Enabled"),
        ("SampledDataCtrlr", "TxUpdatedInterval"),
        ("EVSE", "AvailabilityState"),
    ):
        assert wanted in names, wanted
    for item in reported:
        if item["variable"]["name"] == "BasicAuthPassword":
            assert all("value" not in a for a in item["variableAttribute"])

    # The transaction cut by the kill: Started by the card, sampled, then Ended after the
    # restart under the same id with PowerLoss; seqNo continues.
    events = world.transaction(killed)
    assert events[0]["eventType"] == "Started"
    assert events[0]["idToken"] == {"idToken": "CARD-A", "type": "ISO14443"}
    assert events[-1]["eventType"] == "Ended"
    assert events[-1]["transactionInfo"]["stoppedReason"] == "PowerLoss"
    assert max(e["seqNo"] for e in events[-1:]) > max(e["seqNo"] for e in before)
    assert_seq_nos(events)
    sampled = [e for e in events if e["eventType"] == "Updated" and e.get("meterValue")]
    values = [sv for e in sampled for mv in e["meterValue"] for sv in mv["sampledValue"]]
    assert any(
        sv.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register"
        for sv in values
    )

    # The remote transaction: RemoteStart with its remoteStartId, ended by the CSMS (Remote).
    remote = world.transaction(remote_id)
    assert remote[0]["triggerReason"] == "RemoteStart"
    assert remote[0]["transactionInfo"]["remoteStartId"] == 7
    assert remote[-1]["eventType"] == "Ended"
    assert remote[-1]["transactionInfo"]["stoppedReason"] == "Remote"
    assert_seq_nos(remote)
    assert remote_id != killed

    print(
        f"\nacceptance: boots {world.boot_answers}, report pages {len(pages)} with"
        f" {len(reported)} variables, killed transaction seqNo {[e['seqNo'] for e in events]}"
        f" ({[e['triggerReason'] for e in events]}), remote seqNo {[e['seqNo'] for e in remote]},"
        f" {len(world.frames)} frames"
    )
    # Every frame the station sent is valid for the independent checker too.
    world.check_frames()
