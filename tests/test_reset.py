"""Reset (OCPP 1.6 §5.14, errata 3.36/3.81, §9.1.22 ResetRetries)."""

from __future__ import annotations

import json

from block_peers import rewire
from fake_csms import IDENTITY, FakeCsms, booted
from test_status import Sessions

from ocpp_core import ChargePoint, ResetRequested
from ocpp_core.store import MemoryStore
from ocpp_core.v16.reset import RESET_GRACE, RESET_RETRY, SETTLE_LIMIT


class Hook:
    def __init__(self, results: list[bool | None] | None = None) -> None:
        self.calls: list[tuple[str, float]] = []
        self.results = list(results or [])
        self.csms: FakeCsms | None = None

    def __call__(self, kind: str) -> bool | None:
        self.calls.append((kind, self.csms.now if self.csms else -1))
        return self.results.pop(0) if self.results else None


def with_hook(results: list[bool | None] | None = None):
    hook = Hook(results)
    cp, csms = booted(reset_handler=hook)
    hook.csms = csms
    return cp, csms, hook


def test_without_a_reset_hook_reset_is_rejected() -> None:
    _cp, csms = booted()
    assert csms.result("Reset", {"type": "Soft"}) == {"status": "Rejected"}
    assert csms.result("Reset", {"type": "Hard"}) == {"status": "Rejected"}


def test_soft_reset_is_accepted_and_the_hook_runs_after_the_reply() -> None:
    cp, csms, hook = with_hook()
    events: list[object] = []
    cp.subscribe(events.append)
    message_id = csms.send("Reset", {"type": "Soft"})
    [reply] = cp.poll(csms.now)
    assert json.loads(reply) == [3, message_id, {"status": "Accepted"}]
    assert hook.calls == []
    csms.advance(RESET_GRACE)
    assert hook.calls == [("Soft", RESET_GRACE)]
    assert ResetRequested("Soft") in events


def test_hard_reset_calls_the_hook_with_hard() -> None:
    _cp, csms, hook = with_hook()
    csms.result("Reset", {"type": "Hard"})
    csms.advance(RESET_GRACE)
    assert hook.calls == [("Hard", RESET_GRACE)]


def test_reset_stops_running_transactions() -> None:
    cp, csms, hook = with_hook()

    class Stopping(Sessions):
        def __init__(self) -> None:
            super().__init__()
            self.stopped: list[str] = []

        def stop_all(self, reason: str, now: float) -> None:
            self.stopped.append(reason)

    sessions = Stopping()
    rewire(cp, sessions=sessions)
    csms.result("Reset", {"type": "Soft"})
    csms.result("Reset", {"type": "Hard"})
    assert sessions.stopped == ["SoftReset", "HardReset"]
    csms.advance(RESET_GRACE)
    assert hook.calls == [("Hard", RESET_GRACE)]


def test_soft_reset_waits_for_transaction_messages_within_a_limit() -> None:
    cp, csms, hook = with_hook()

    class Busy(Sessions):
        def settled(self) -> bool:
            return False

    rewire(cp, sessions=Busy())
    csms.result("Reset", {"type": "Soft"})
    csms.advance(SETTLE_LIMIT - 1)
    assert hook.calls == []
    csms.advance(1)
    assert hook.calls == [("Soft", SETTLE_LIMIT)]


def test_hard_reset_does_not_wait_for_transaction_messages() -> None:
    cp, csms, hook = with_hook()

    class Busy(Sessions):
        def settled(self) -> bool:
            return False

    rewire(cp, sessions=Busy())
    csms.result("Reset", {"type": "Hard"})
    csms.advance(RESET_GRACE)
    assert hook.calls == [("Hard", RESET_GRACE)]


def test_failed_reset_is_retried_reset_retries_times_then_reported() -> None:
    _cp, csms, hook = with_hook([False, False, False, False])
    csms.result("Reset", {"type": "Soft"})
    csms.advance(RESET_GRACE + 3 * RESET_RETRY)
    assert [at for _, at in hook.calls] == [
        RESET_GRACE,
        RESET_GRACE + RESET_RETRY,
        RESET_GRACE + 2 * RESET_RETRY,
    ]
    [note] = csms.payloads("StatusNotification")
    assert (note["connectorId"], note["errorCode"], note["status"]) == (
        0,
        "ResetFailure",
        "Available",
    )
    csms.advance(100)
    assert len(hook.calls) == 3


def test_a_raising_hook_counts_as_a_failed_reset() -> None:
    def explode(kind: str) -> None:
        raise RuntimeError("cannot reboot")

    cp, csms = booted(reset_handler=explode)
    cp.change_configuration("ResetRetries", "0")
    csms.result("Reset", {"type": "Hard"})
    csms.advance(RESET_GRACE)
    assert [p["errorCode"] for p in csms.payloads("StatusNotification")] == ["ResetFailure"]


def test_next_wakeup_includes_the_pending_reset() -> None:
    cp, csms, _hook = with_hook()
    csms.result("Reset", {"type": "Soft"})
    assert cp.next_wakeup(csms.now) == csms.now + RESET_GRACE
    csms.disconnect()
    assert cp.next_wakeup(csms.now) == csms.now + RESET_GRACE


def test_reboot_through_the_hook_boots_a_new_engine_on_the_same_store() -> None:
    store = MemoryStore()
    stations: list[ChargePoint] = []

    def reboot(kind: str) -> None:
        stations.append(ChargePoint(identity=IDENTITY, store=store, reset_handler=reboot))

    _cp, csms = booted(store=store, reset_handler=reboot)
    csms.result("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    csms.result("Reset", {"type": "Soft"})
    csms.advance(RESET_GRACE)
    [rebooted] = stations
    csms = FakeCsms(rebooted, now=csms.now)
    csms.connect()
    assert csms.actions()[0] == "BootNotification"
    assert rebooted.status(1, csms.now) == "Unavailable"
