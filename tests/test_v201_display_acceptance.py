"""Acceptance of the Advanced User Interface (issue 14): ``python -m sim --ocpp 2.0.1`` against the
independent, validating OCPP 2.0.1 CSMS of tests/test_v201_acceptance.py (the ``ocpp`` package's
v201 classes check every frame both ways), extended with display messages and cost.

The station charges on a card; the CSMS answers TransactionEvents with a running totalCost and
an updatedPersonalMessage (I02, I06), sets a station-wide and a transaction-bound display
message (O01, O02), reads them back through GetDisplayMessages (O03: NotifyDisplayMessages),
sends CostUpdated (I02) and clears one (O05). The station is then killed (SIGKILL) and started
again on the same --store: the station-wide message is still there (GetDisplayMessages), the one
bound to the transaction the kill ended is gone. Every frame is also checked by the suite's
independent schema checker (FrameChecker).
"""

from __future__ import annotations

import asyncio
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
from test_v201_acceptance import Csms, World, csms_url, station, until

WELCOME = {"format": "UTF8", "language": "en", "content": "Welcome to the acceptance station"}


class DisplayCsms(Csms):
    """The acceptance CSMS, answering with cost and taking NotifyDisplayMessages."""

    @on(Action.notify_display_messages)
    def on_notify_display_messages(self, **_: Any) -> call_result.NotifyDisplayMessages:
        return call_result.NotifyDisplayMessages()

    @on(Action.transaction_event)
    def on_transaction_event(self, **payload: Any) -> call_result.TransactionEvent:
        answer = super().on_transaction_event(**payload)
        answer.total_cost = 1.25 if payload["event_type"] != "Ended" else 3.5
        answer.updated_personal_message = {"format": "ASCII", "content": "0.30 EUR/kWh"}
        return answer


class DisplayWorld(World):
    csms_type = DisplayCsms


def notified(world: World, request_id: int) -> list[dict[str, Any]]:
    return [
        info
        for _, payload in world.calls("NotifyDisplayMessages")
        if payload["requestId"] == request_id
        for info in payload.get("messageInfo", [])
    ]


def test_acceptance_display_messages_and_cost_across_a_kill(tmp_path: Path) -> None:
    world = DisplayWorld()
    store = tmp_path / "store"

    async def scenario() -> None:
        async with csms_url(world) as url:
            first = await station(url, store, "--idtag", "CARD-D")
            try:
                await until(lambda: bool(world.events()), "a transaction started")
                await until(lambda: world.boots >= 2, "accepted after Pending")
                tx = world.events()[0]["transactionInfo"]["transactionId"]
                live = world.live
                assert live is not None
                answers = [
                    await live.call(
                        call.SetDisplayMessage(
                            message={"id": 1, "priority": "NormalCycle", "message": WELCOME}
                        )
                    ),
                    await live.call(
                        call.SetDisplayMessage(
                            message={
                                "id": 2,
                                "priority": "AlwaysFront",
                                "state": "Charging",
                                "transaction_id": tx,
                                "message": {"format": "HTML", "content": "<b>Charging</b>"},
                            }
                        )
                    ),
                    await live.call(
                        call.SetDisplayMessage(
                            message={
                                "id": 3,
                                "priority": "InFront",
                                "transaction_id": "not-a-transaction",
                                "message": WELCOME,
                            }
                        )
                    ),
                ]
                assert [a.status for a in answers] == ["Accepted", "Accepted", "UnknownTransaction"]
                got = await live.call(call.GetDisplayMessages(request_id=5))
                assert got.status == "Accepted"
                await until(lambda: len(notified(world, 5)) == 2, "NotifyDisplayMessages")
                assert [m["id"] for m in notified(world, 5)] == [1, 2]
                assert (
                    await live.call(call.CostUpdated(total_cost=2.0, transaction_id=tx)) is not None
                )
                cleared = await live.call(call.ClearDisplayMessage(id=9))
                assert cleared.status == "Unknown"
            finally:
                first.kill()  # SIGKILL mid-transaction: a power cut
                await first.wait()

            second = await station(url, store)
            try:
                await until(
                    lambda: any(e["eventType"] == "Ended" for e in world.transaction(tx)),
                    "the killed transaction ended after the restart",
                )
                live = world.live
                assert live is not None
                got = await live.call(call.GetDisplayMessages(request_id=6))
                assert got.status == "Accepted"
                await until(lambda: bool(notified(world, 6)), "NotifyDisplayMessages after restart")
                assert [m["id"] for m in notified(world, 6)] == [
                    1
                ]  # the bound one went with its tx
                assert notified(world, 6)[0]["message"] == WELCOME
                cleared = await live.call(call.ClearDisplayMessage(id=1))
                assert cleared.status == "Accepted"
                got = await live.call(call.GetDisplayMessages(request_id=7))
                assert got.status == "Unknown"
            finally:
                second.send_signal(signal.SIGINT)
                try:
                    async with asyncio.timeout(20):
                        await second.wait()
                except TimeoutError:
                    second.kill()
                    await second.wait()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario()).result()
    world.check_frames()
