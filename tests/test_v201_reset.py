"""OCPP 2.0.1 Reset of the station and of one EVSE (B11, B12), after part 6's TC_B_2x steps."""

from __future__ import annotations

from fake_csms201 import booted201
from tx_rig201 import Rig201

from ocpp_core.resets import RESET_GRACE, RESET_RETRY, SETTLE_LIMIT
from ocpp_core.store import MemoryStore


class Station(Rig201):
    """A Rig201 whose reset hook reboots it like the sim does: after the poll that asked."""

    def __init__(self, *, hook_result: bool = True, **options: object) -> None:
        self.resets: list[str] = []
        self.hook_result = hook_result
        super().__init__(store=MemoryStore(), reset_handler=self._hook, **options)  # type: ignore[arg-type]

    def _hook(self, kind: str) -> bool:
        self.resets.append(kind)
        return self.hook_result

    def run(self, seconds: float) -> None:
        """Time passes; a requested reboot happens after the poll that asked for it."""
        for _ in range(int(seconds)):
            before = len(self.resets)
            self.advance(1)
            if len(self.resets) > before and self.hook_result:
                self.restart()


def start(r: Rig201, evse: int = 1, token: str = "TOKEN1") -> str:
    r.card(token, evse=evse)
    r.plug(evse)
    info = r.cp.transaction(evse)
    assert info is not None and info.state == "running"
    return str(info.transaction_id)


def reset(r: Rig201, kind: str, evse: int | None = None) -> str:
    payload: dict = {"type": kind}
    if evse is not None:
        payload["evseId"] = evse
    return r.csms.result("Reset", payload)["status"]


def boots(r: Rig201) -> list[str]:
    return [p["reason"] for p in r.payloads("BootNotification")]


def ended(r: Rig201) -> list[tuple[str, str, str]]:
    return [
        (
            p["transactionInfo"]["transactionId"],
            p["triggerReason"],
            p["transactionInfo"].get("stoppedReason", ""),
        )
        for p in r.events_tx()
        if p["eventType"] == "Ended"
    ]


def test_TC_B_20_CS_reset_on_idle_without_transaction() -> None:
    r = Station()
    assert reset(r, "OnIdle") == "Accepted"
    r.run(RESET_GRACE + 1)
    assert r.resets == ["OnIdle"]
    assert boots(r) == ["RemoteReset"]
    statuses = {p["evseId"]: p["connectorStatus"] for p in r.payloads("StatusNotification")}
    assert statuses == {1: "Available", 2: "Available"}
    # The reason is told once: a later power cut boots as PowerUp.
    r.restart()
    assert boots(r) == ["RemoteReset", "PowerUp"]


def test_TC_B_21_CS_reset_on_idle_with_ongoing_transaction_is_scheduled() -> None:
    r = Station()
    transaction_id = start(r)
    r.clear()
    assert reset(r, "OnIdle") == "Scheduled"
    r.run(SETTLE_LIMIT)
    assert r.resets == [] and ended(r) == []  # the transaction goes on
    r.card("TOKEN1", evse=1)  # StopAuthorized
    assert ended(r) == [(transaction_id, "StopAuthorized", "Local")]
    r.run(RESET_GRACE + 1)
    assert r.resets == ["OnIdle"]
    assert boots(r) == ["ScheduledReset"]
    assert {p["evseId"] for p in r.payloads("StatusNotification")} >= {1, 2}
    # The EV is still plugged in after the reboot: Occupied.
    assert r.cp.status(1, r.now) == "Occupied"


def test_TC_B_41_CS_reset_on_idle_waits_for_every_transaction() -> None:
    r = Station()
    start(r, 1, "TOKEN1")
    start(r, 2, "TOKEN2")
    assert reset(r, "OnIdle") == "Scheduled"
    r.card("TOKEN1", evse=1)
    r.run(RESET_GRACE + 5)
    assert r.resets == []
    r.card("TOKEN2", evse=2)
    r.run(RESET_GRACE + 1)
    assert r.resets == ["OnIdle"]
    assert boots(r) == ["ScheduledReset"]


def test_TC_B_22_CS_reset_immediate_with_ongoing_transaction() -> None:
    r = Station()
    transaction_id = start(r)
    r.clear()
    assert reset(r, "Immediate") == "Accepted"
    assert ended(r) == [(transaction_id, "ResetCommand", "ImmediateReset")]
    r.run(RESET_GRACE + 1)
    assert r.resets == ["Immediate"]
    assert boots(r) == ["RemoteReset"]


def test_B12_immediate_replaces_a_scheduled_on_idle_reset() -> None:
    r = Station()
    transaction_id = start(r)
    assert reset(r, "OnIdle") == "Scheduled"
    assert reset(r, "Immediate") == "Accepted"
    assert ended(r) == [(transaction_id, "ResetCommand", "ImmediateReset")]
    r.run(RESET_GRACE + 1)
    assert r.resets == ["Immediate"]
    assert boots(r) == ["RemoteReset"]


def test_TC_B_23_CS_unavailable_persists_reset() -> None:
    r = Station()
    change = {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    assert r.csms.result("ChangeAvailability", change) == {"status": "Accepted"}
    r.clear()
    assert reset(r, "OnIdle") == "Accepted"
    r.run(RESET_GRACE + 1)
    assert boots(r) == ["RemoteReset"]
    statuses = {p["evseId"]: p["connectorStatus"] for p in r.payloads("StatusNotification")}
    assert statuses == {1: "Unavailable", 2: "Available"}


def test_B11_reset_without_a_hook_is_rejected() -> None:
    _cp, csms = booted201()
    for kind in ("Immediate", "OnIdle"):
        assert csms.result("Reset", {"type": kind}) == {"status": "Rejected"}


def test_TC_B_25_CS_reset_evse_without_ongoing_transaction() -> None:
    r = Station()
    r.clear()
    assert reset(r, "OnIdle", evse=1) == "Accepted"
    r.run(RESET_GRACE + 1)
    assert r.resets == []  # the station does not reboot
    # The EVSE came back: its connector is reported again, the other one is not.
    assert [(p["evseId"], p["connectorStatus"]) for p in r.payloads("StatusNotification")] == [
        (1, "Available")
    ]


def test_TC_B_26_CS_reset_evse_on_idle_with_ongoing_transaction() -> None:
    r = Station()
    transaction_id = start(r)
    r.clear()
    assert reset(r, "OnIdle", evse=1) == "Scheduled"
    r.run(5)
    assert ended(r) == [] and r.payloads("StatusNotification") == []
    r.card("TOKEN1", evse=1)
    assert ended(r) == [(transaction_id, "StopAuthorized", "Local")]
    r.run(1)
    assert [p["evseId"] for p in r.payloads("StatusNotification")] == [1]
    assert r.resets == [] and boots(r) == []


def test_TC_B_27_CS_reset_evse_immediate_with_ongoing_transaction() -> None:
    r = Station()
    start(r, 1, "TOKEN1")
    other = start(r, 2, "TOKEN2")
    r.clear()
    assert reset(r, "Immediate", evse=1) == "Accepted"
    (stopped,) = ended(r)
    assert stopped[1:] == ("ResetCommand", "ImmediateReset")
    assert stopped[0] != other  # EVSE 2's transaction goes on
    assert r.cp.transaction(2) is not None and r.cp.transaction(2).state == "running"
    r.run(RESET_GRACE + 1)
    assert r.resets == []


def test_B11_reset_of_an_unknown_evse_is_rejected() -> None:
    r = Station()
    for evse in (0, 3, 99):
        assert reset(r, "Immediate", evse=evse) == "Rejected"
    r.run(RESET_GRACE + 1)
    assert r.resets == []


def test_B11_a_failing_hook_is_retried_ResetRetries_times_then_given_up() -> None:
    r = Station(hook_result=False)
    r.cp.set_variable("OCPPCommCtrlr.ResetRetries", "1", r.now)
    assert reset(r, "Immediate") == "Accepted"
    r.run(RESET_GRACE + 1)
    assert r.resets == ["Immediate"]
    r.run(RESET_RETRY)
    assert r.resets == ["Immediate", "Immediate"]
    r.run(RESET_RETRY * 3)
    assert r.resets == ["Immediate", "Immediate"]  # given up
    # No reboot happened: a later power cut is a PowerUp, not a RemoteReset.
    r.restart()
    assert boots(r) == ["PowerUp"]


def test_B12_the_reset_waits_for_the_transaction_messages_within_a_limit() -> None:
    r = Station()
    start(r)
    from fake_csms import SILENT

    r.csms.handlers["TransactionEvent"] = lambda payload: SILENT  # Ended unanswered
    assert reset(r, "Immediate") == "Accepted"
    r.run(RESET_GRACE + 5)
    assert r.resets == []  # still waiting for the Ended event to be delivered
    r.run(SETTLE_LIMIT)
    assert r.resets == ["Immediate"]
