"""Transaction safety: the journal, retries, discards and restarts (OCPP 1.6 §3.7, §3.7.1,
errata 3.18/3.36; OCPP-J errata 3.2; MicroOcpp tests/TransactionSafety.cpp and the
TransactionMessageAttempts-/RetryInterval sections of tests/ChargingSessions.cpp)."""

from __future__ import annotations

import json

import pytest
from fake_csms import SILENT, WALL_START, Error, Raw
from tx_rig import Rig, start_session

from ocpp_core import (
    FileStore,
    FrameLogged,
    MessageDiscarded,
    QueueLengthChanged,
    SessionStarted,
    SessionStopped,
)
from ocpp_core.clock import DEFAULT_EPOCH, format_datetime
from ocpp_core.store import MemoryStore
from ocpp_core.v16.tx_journal import DISCARD_LOG, DISCARDS


def stamp(now: float) -> str:
    return format_datetime(WALL_START + now)


def unset_stamp(now: float) -> str:
    """The time an engine whose clock the CSMS has not set gives at ``now`` (no host clock)."""
    return format_datetime(DEFAULT_EPOCH + now)


def tx_actions(rig: Rig) -> list[str]:
    return [action for action, _ in rig.tx_messages()]


def times_of(rig: Rig, action: str) -> list[float]:
    return [now for _, name, _, now in rig.csms.calls if name == action]


def offline_session(rig: Rig, id_tag: str = "TAG1", connector: int = 1) -> None:
    """Start and stop a transaction while offline (both messages wait in the journal)."""
    rig.plug(connector)
    rig.card(id_tag, connector)
    rig.card(id_tag, connector)


def refuse(rig: Rig, action: str, times: int | None = None) -> list[int]:
    """Answer ``action`` with a CALLERROR (``times`` times, else always); returns the counter."""
    count = [0]
    original = rig.csms.handlers[action]

    def handler(payload: dict) -> object:
        count[0] += 1
        if times is None or count[0] <= times:
            return Error("InternalError", "cannot process")
        return original(payload)

    rig.csms.handlers[action] = handler
    return count


OFFLINE_OK = {"AllowOfflineTxForUnknownId": "true"}
ATTEMPTS = 3  # TransactionMessageAttempts' default


class PowerCut(MemoryStore):
    """A MemoryStore that loses power after ``cut`` more writes (nothing persists after)."""

    def __init__(self) -> None:
        super().__init__()
        self.cut: int | None = None

    def save(self, name: str, value: object) -> None:
        if self._alive():
            super().save(name, value)

    def delete(self, name: str) -> None:
        if self._alive():
            super().delete(name)

    def _alive(self) -> bool:
        if self.cut is None:
            return True
        self.cut -= 1
        return self.cut >= 0


# ---------------------------------------------------------------------- TransactionSafety.cpp


def test_basic_transaction_is_journaled_before_it_is_sent() -> None:
    rig = Rig()
    seen: list[tuple[str, list[str]]] = []

    def on_frame(event: object) -> None:
        if not isinstance(event, FrameLogged) or event.direction != "out":
            return
        if event.action in ("StartTransaction", "StopTransaction"):
            journaled = [rig.store.load(n)["action"] for n in rig.store.names("txmsg/")]
            seen.append((event.action, journaled))

    rig.cp.subscribe(on_frame)
    start_session(rig)
    rig.card("TAG1")
    assert seen == [
        ("StartTransaction", ["StartTransaction"]),
        ("StopTransaction", ["StopTransaction"]),
    ]
    assert rig.store.names("txmsg/") == [] and rig.store.names("tx/") == []


def test_managed_transaction_leaves_nothing_behind() -> None:
    rig = Rig()
    assert rig.cp.begin_transaction(1, "TAG1", rig.now)
    rig.plug()
    assert rig.cp.end_transaction(1, rig.now)
    rig.pump()
    assert tx_actions(rig) == ["StartTransaction", "StopTransaction"]
    assert rig.cp.queue_length() == 0
    assert not rig.store.names("tx/") and not rig.store.names("txmsg/")


def test_reset_during_transaction_01_interrupt_initiation() -> None:
    rig = Rig()
    rig.csms.handlers["Authorize"] = lambda payload: SILENT
    rig.plug()
    rig.card("TAG1")
    assert rig.cp.transaction(1).state == "authorizing"
    rig.restart()
    assert rig.cp.transaction(1) is None
    assert not rig.store.names("tx/") and not rig.store.names("txmsg/")
    assert rig.statuses()[-1] == "Preparing"  # the cable is still in


def test_reset_during_transaction_02_second_time() -> None:
    rig = Rig()
    rig.csms.handlers["Authorize"] = lambda payload: SILENT
    rig.plug()
    rig.card("TAG1")
    rig.restart()
    rig.card("TAG1")
    rig.restart()
    rig.csms.handlers["Authorize"] = lambda payload: {"idTagInfo": {"status": "Accepted"}}
    rig.card("TAG1")
    rig.card("TAG1")
    assert tx_actions(rig) == ["StartTransaction", "StopTransaction"]


def test_reset_during_transaction_03_interrupt_running_transaction() -> None:
    rig = Rig(config={"MeterValueSampleInterval": "60"})
    start_session(rig)
    rig.offline()
    rig.advance(180, charging_w=3600)  # three periodic samples wait in the journal
    assert rig.cp.queue_length() == 3
    rig.energy[1] = 1250  # what the meter says after the power came back
    rig.restart()
    assert tx_actions(rig) == ["StartTransaction"] + ["MeterValues"] * 3 + ["StopTransaction"]
    values = [p["meterValue"][0]["sampledValue"][0]["value"] for p in rig.payloads("MeterValues")]
    assert values == ["1060", "1120", "1180"]
    assert all(p["transactionId"] == 1001 for p in rig.payloads("MeterValues"))
    assert rig.payloads("StopTransaction")[0] == {
        "meterStop": 1250,
        "timestamp": stamp(180),
        "reason": "PowerLoss",
        "transactionId": 1001,
    }


def test_reset_during_transaction_04_interrupt_stopping_transaction() -> None:
    rig = Rig(config=OFFLINE_OK)
    rig.offline()
    offline_session(rig)
    assert rig.cp.transaction(1).state == "stopping"
    stop = [rig.store.load(n) for n in rig.store.names("txmsg/")][-1]
    assert stop["action"] == "StopTransaction" and "transactionId" not in stop["payload"]
    rig.restart()
    assert tx_actions(rig) == ["StartTransaction", "StopTransaction"]
    assert rig.payloads("StopTransaction")[0]["transactionId"] == 1001
    assert rig.payloads("StopTransaction")[0]["reason"] == "Local"


def test_reset_during_transaction_06_check_transaction_finished() -> None:
    rig = Rig(config=OFFLINE_OK)
    rig.offline()
    offline_session(rig)
    rig.restart()
    assert rig.cp.queue_length() == 0
    assert not rig.store.names("tx/") and not rig.store.names("txmsg/")
    assert rig.cp.transaction(1) is None
    start_session(rig, "TAG2")
    assert rig.cp.transaction(1).transaction_id == 1002


def test_a_restart_between_the_journal_write_and_the_send() -> None:
    rig = Rig(config=OFFLINE_OK)
    rig.offline()
    rig.plug()
    rig.card("TAG1")  # journaled, never sent
    rig.restart()
    assert tx_actions(rig) == ["StartTransaction", "StopTransaction"]
    assert rig.payloads("StopTransaction")[0]["reason"] == "PowerLoss"


def test_the_answer_saved_just_before_a_restart_is_not_sent_again() -> None:
    rig = Rig()
    start_session(rig)
    # A crash after the record was saved and before the message was deleted: both are there.
    document = {
        "action": "StartTransaction",
        "tx": 1,
        "payload": rig.payloads("StartTransaction")[0],
    }
    rig.store.save("txmsg/0000000001", document)
    rig.restart(resume_transactions_after_restart=True)
    assert tx_actions(rig) == ["StartTransaction"]
    assert rig.cp.transaction(1).transaction_id == 1001
    assert rig.store.names("txmsg/") == []


def test_resume_transactions_after_restart() -> None:
    rig = Rig(config={"MeterValueSampleInterval": "60"}, resume_transactions_after_restart=True)
    start_session(rig)
    rig.advance(30, charging_w=3600)
    rig.restart()
    info = rig.cp.transaction(1)
    assert info.state == "running" and info.transaction_id == 1001
    assert tx_actions(rig) == ["StartTransaction"]
    rig.advance(60, charging_w=3600)  # the metering block samples the resumed transaction
    assert rig.payloads("MeterValues")[0]["transactionId"] == 1001
    rig.card("TAG1")
    assert rig.payloads("StopTransaction")[0]["reason"] == "Local"
    assert rig.payloads("StopTransaction")[0]["transactionId"] == 1001


def test_queued_meter_values_survive_a_restart() -> None:
    rig = Rig(config={"MeterValueSampleInterval": "10"}, resume_transactions_after_restart=True)
    start_session(rig)
    rig.offline()
    rig.advance(50, charging_w=3600)
    assert rig.cp.queue_length() == 5
    rig.restart()
    assert tx_actions(rig) == ["StartTransaction"] + ["MeterValues"] * 5


def test_a_file_store_keeps_the_journal_across_processes(tmp_path) -> None:
    rig = Rig(store=FileStore(tmp_path), config=OFFLINE_OK)
    rig.offline()
    offline_session(rig)
    assert len(list(tmp_path.glob("txmsg/*.json"))) == 2
    rig.store = FileStore(tmp_path)  # a new process opens the same directory
    rig.restart()
    assert tx_actions(rig) == ["StartTransaction", "StopTransaction"]
    assert list(tmp_path.glob("tx*/*.json")) == []


# ---------------------------------------------------------------------- TransactionMessageAttempts


def test_attempts_final_failure_after_the_transaction_ended() -> None:
    rig = Rig(config=OFFLINE_OK)
    rig.offline()
    offline_session(rig)
    refuse(rig, "StopTransaction")
    rig.online()
    rig.csms.advance(200)
    # §3.7.1: 3 attempts, 60 s then 120 s apart; then discarded, recorded and reported.
    assert times_of(rig, "StopTransaction") == [0, 60, 180]
    assert rig.cp.queue_length() == 0
    discarded = MessageDiscarded("StopTransaction", 1, 3, "CALLERROR InternalError: cannot process")
    assert rig.events_of(MessageDiscarded) == [discarded]
    assert rig.cp.discarded_messages() == [discarded]
    assert rig.store.load(DISCARDS)[0]["timestamp"] == stamp(180)
    assert not rig.store.names("tx/") and not rig.store.names("txmsg/")


def test_attempts_normal_communication_after_a_final_failure() -> None:
    rig = Rig(config=OFFLINE_OK)
    rig.offline()
    offline_session(rig)
    refuse(rig, "StopTransaction", times=3)
    rig.online()
    rig.csms.advance(200)
    rig.csms.clear()
    start_session(rig, "TAG2")
    rig.card("TAG2")
    assert tx_actions(rig) == ["StartTransaction", "StopTransaction"]
    assert rig.cp.queue_length() == 0


def test_attempts_start_transaction_fails_finally_during_the_transaction() -> None:
    rig = Rig(config={"MeterValueSampleInterval": "60"})
    refuse(rig, "StartTransaction")
    rig.plug()
    rig.card("TAG1")
    rig.advance(200, charging_w=3600)
    assert times_of(rig, "StartTransaction") == [0, 60, 180]
    # Our policy (errata 3.18), unlike MicroOcpp's silent drop: the session goes on and the rest
    # of it is still reported, with transactionId -1; the discard is recorded.
    info = rig.cp.transaction(1)
    assert info.state == "running" and info.transaction_id == -1
    assert rig.events_of(MessageDiscarded)[0].action == "StartTransaction"
    assert rig.store.load("tx/0000000001")["transactionId"] == -1
    rig.card("TAG1")
    assert {p["transactionId"] for p in rig.payloads("MeterValues")} == {-1}
    assert rig.payloads("StopTransaction")[0]["transactionId"] == -1
    assert not rig.store.names("tx/") and not rig.store.names("txmsg/")


def test_attempts_start_works_but_stop_fails_finally() -> None:
    rig = Rig()
    start_session(rig)
    refuse(rig, "StopTransaction")
    rig.card("TAG1")
    rig.csms.advance(200)
    assert times_of(rig, "StopTransaction") == [0, 60, 180]
    assert [e.action for e in rig.events_of(MessageDiscarded)] == ["StopTransaction"]
    assert rig.cp.transaction(1) is None


def test_attempts_fail_until_the_last_one_succeeds() -> None:
    rig = Rig(config={"TransactionMessageRetryInterval": "30"})
    start_session(rig)
    refuse(rig, "StopTransaction", times=2)
    rig.card("TAG1")
    rig.csms.advance(100)
    assert times_of(rig, "StopTransaction") == [0, 30, 90]
    assert rig.events_of(MessageDiscarded) == []
    assert rig.cp.queue_length() == 0


def test_attempts_continue_after_a_reboot() -> None:
    rig = Rig()
    start_session(rig)
    refuse(rig, "StopTransaction")
    rig.card("TAG1")
    assert rig.store.load(rig.store.names("txmsg/")[0])["attempts"] == 1
    rig.restart()
    rig.csms.advance(200)
    assert times_of(rig, "StopTransaction") == [0, 60, 180]  # one before, two after the reboot
    assert rig.events_of(MessageDiscarded)[0].attempts == 3


def test_the_retry_wait_is_not_skipped_by_a_reboot() -> None:
    rig = Rig()
    start_session(rig)
    refuse(rig, "StopTransaction")
    rig.card("TAG1")
    rig.csms.advance(30)
    rig.restart()  # 30 s into the 60 s wait: it starts again in full (the attempts are kept)
    rig.csms.advance(300)
    assert times_of(rig, "StopTransaction") == [0, 90, 210]


def cut_at_the_last_refusal(rig: Rig, store: PowerCut, action: str, writes: int) -> None:
    """Refuse ``action``; the power fails ``writes`` Store writes into its final refusal."""
    count = refuse(rig, action)
    original = rig.csms.handlers[action]

    def handler(payload: dict) -> object:
        if count[0] == ATTEMPTS - 1:
            store.cut = writes
        return original(payload)

    rig.csms.handlers[action] = handler


@pytest.mark.parametrize("writes", [1, 2, 3])
def test_a_power_cut_during_a_stop_discard_neither_resends_nor_loses_it(writes: int) -> None:
    store = PowerCut()
    rig = Rig(store=store)
    start_session(rig)
    cut_at_the_last_refusal(rig, store, "StopTransaction", writes)
    rig.card("TAG1")
    rig.csms.advance(200)
    assert times_of(rig, "StopTransaction") == [0, 60, 180]
    store.cut = None
    rig.restart()
    rig.csms.advance(300)
    assert times_of(rig, "StopTransaction") == [0, 60, 180]  # never sent again
    [record] = store.load(DISCARDS)
    assert (record["action"], record["local_id"], record["attempts"]) == ("StopTransaction", 1, 3)
    assert not rig.store.names("tx/") and not rig.store.names("txmsg/")


@pytest.mark.parametrize("writes", [1, 2, 3])
def test_a_power_cut_during_a_start_discard_neither_resends_nor_loses_it(writes: int) -> None:
    store = PowerCut()
    rig = Rig(store=store)
    cut_at_the_last_refusal(rig, store, "StartTransaction", writes)
    rig.plug()
    rig.card("TAG1")
    rig.csms.advance(200)
    store.cut = None
    rig.restart()
    rig.csms.advance(300)
    assert times_of(rig, "StartTransaction") == [0, 60, 180]
    [record] = store.load(DISCARDS)
    assert (record["action"], record["local_id"]) == ("StartTransaction", 1)
    [stop] = rig.payloads("StopTransaction")
    assert stop["reason"] == "PowerLoss" and stop["transactionId"] == -1
    assert not rig.store.names("tx/") and not rig.store.names("txmsg/")


def test_offline_messages_wait_without_using_attempts() -> None:
    rig = Rig(config=OFFLINE_OK)
    rig.offline()
    offline_session(rig)
    rig.csms.advance(7200)
    assert all("attempts" not in rig.store.load(n) for n in rig.store.names("txmsg/"))
    rig.online()
    assert tx_actions(rig) == ["StartTransaction", "StopTransaction"]


def test_a_timeout_uses_no_attempt_and_is_sent_again_after_the_interval() -> None:
    rig = Rig(config={"MessageTimeout": "10", "TransactionMessageRetryInterval": "20"})
    silent = [5]

    def start(payload: dict) -> object:
        silent[0] -= 1
        if silent[0] >= 0:
            return SILENT
        return {"transactionId": 77, "idTagInfo": {"status": "Accepted"}}

    rig.csms.handlers["StartTransaction"] = start
    rig.plug()
    rig.card("TAG1")
    rig.csms.advance(200)
    # Five unanswered tries (10 s timeout + 20 s wait each), none counted: then answered.
    assert times_of(rig, "StartTransaction") == [0, 30, 60, 90, 120, 150]
    assert rig.cp.transaction(1).transaction_id == 77
    assert rig.events_of(MessageDiscarded) == []


def test_a_lost_answer_means_the_csms_sees_the_message_twice() -> None:
    rig = Rig(config={"MessageTimeout": "10", "TransactionMessageRetryInterval": "5"})
    answers: list[int] = []

    def start(payload: dict) -> object:
        answers.append(len(answers) + 500)
        return (
            SILENT
            if len(answers) == 1
            else {
                "transactionId": answers[-1],
                "idTagInfo": {"status": "Accepted"},
            }
        )

    rig.csms.handlers["StartTransaction"] = start
    rig.plug()
    rig.card("TAG1")
    rig.csms.advance(20)
    starts = rig.payloads("StartTransaction")
    assert len(starts) == 2 and starts[0] == starts[1]  # the same message, once more
    assert rig.cp.transaction(1).transaction_id == 501


def test_a_connection_lost_while_sending_resends_with_the_same_message_id() -> None:
    rig = Rig()
    rig.csms.handlers["StartTransaction"] = lambda payload: SILENT
    rig.plug()
    rig.card("TAG1")
    first = [m for m, a, _, _ in rig.csms.calls if a == "StartTransaction"]
    rig.offline()
    rig.csms.handlers["StartTransaction"] = rig.csms._start_transaction
    rig.online()
    again = [m for m, a, _, _ in rig.csms.calls if a == "StartTransaction"]
    assert again == first * 2
    assert "attempts" not in json.dumps([rig.store.load(n) for n in rig.store.names()])


def test_an_invalid_answer_counts_as_a_failed_attempt() -> None:
    rig = Rig()
    calls = [0]

    def broken(payload: dict) -> object:
        calls[0] += 1
        return {"transactionId": "not a number", "idTagInfo": {"status": "Accepted"}}

    rig.csms.handlers["StartTransaction"] = broken
    rig.plug()
    rig.card("TAG1")
    rig.csms.advance(200)
    assert calls[0] == 3
    [discarded] = rig.events_of(MessageDiscarded)
    assert discarded.reason.startswith("invalid response")


def test_tx_meter_values_retry_behavior() -> None:
    """Metering.cpp "TxMsg retry behavior": a transaction MeterValues the CSMS cannot process
    is retried like the other transaction messages, then discarded; the Stop still goes out."""
    rig = Rig(config={"MeterValueSampleInterval": "10"})
    start_session(rig)
    refuse(rig, "MeterValues")
    rig.advance(15, charging_w=3600)  # the sample at 10 s is refused
    rig.card("TAG1")  # the StopTransaction waits behind it
    rig.csms.advance(400)
    # Defaults: 3 attempts, TransactionMessageRetryInterval (60 s) times the attempts made.
    assert times_of(rig, "MeterValues") == [10, 70, 190]
    assert rig.events_of(MessageDiscarded) == [
        MessageDiscarded("MeterValues", 1, ATTEMPTS, "CALLERROR InternalError: cannot process")
    ]
    assert tx_actions(rig) == ["StartTransaction"] + ["MeterValues"] * 3 + ["StopTransaction"]
    assert times_of(rig, "StopTransaction") == [190]
    assert rig.payloads("StopTransaction") == [
        {
            "meterStop": 1015,
            "timestamp": stamp(15),
            "reason": "Local",
            "idTag": "TAG1",
            "transactionId": 1001,
        }
    ]
    assert rig.cp.queue_length() == 0
    assert not rig.store.names("tx/") and not rig.store.names("txmsg/")


# ---------------------------------------------------------------------- ordering and ids


def test_preserve_order_of_tx_related_msgs_in_the_journal() -> None:
    """Metering.cpp "Preserve order of tx-related msgs" on the real journal (test_metering.py
    runs it on a stand-in FIFO)."""
    rig = Rig(config={"MeterValueSampleInterval": "10", **OFFLINE_OK})
    rig.offline()
    rig.plug()
    rig.card("TAG1")
    rig.advance(35, charging_w=3600)
    rig.card("TAG1")
    rig.advance(5, charging_w=3600)
    # Offline, every sample went to the journal, in time order, between start and stop.
    journaled = [rig.store.load(name) for name in rig.store.names("txmsg/")]
    assert [(d["action"], d["payload"].get("timestamp")) for d in journaled] == [
        ("StartTransaction", stamp(0)),
        ("MeterValues", None),
        ("MeterValues", None),
        ("MeterValues", None),
        ("StopTransaction", stamp(35)),
    ]
    samples = [d["payload"]["meterValue"][0]["timestamp"] for d in journaled[1:4]]
    assert samples == [stamp(10), stamp(20), stamp(30)]
    rig.online()
    assert tx_actions(rig) == ["StartTransaction"] + ["MeterValues"] * 3 + ["StopTransaction"]
    sent = [
        (p["transactionId"], p["meterValue"][0]["timestamp"]) for p in rig.payloads("MeterValues")
    ]
    assert sent == [(1001, stamp(10)), (1001, stamp(20)), (1001, stamp(30))]
    assert rig.payloads("StopTransaction")[0]["transactionId"] == 1001


def test_messages_arrive_in_chronological_order_across_connectors() -> None:
    rig = Rig(config=OFFLINE_OK)
    rig.offline()
    rig.plug(1)
    rig.card("ONE", 1)
    rig.csms.advance(5)
    rig.plug(2)
    rig.card("TWO", 2)
    rig.csms.advance(5)
    rig.card("ONE", 1)
    rig.csms.advance(5)
    rig.card("TWO", 2)
    rig.online()
    sent = [(a, p.get("idTag"), p["timestamp"]) for a, p in rig.tx_messages()]
    assert sent == [
        ("StartTransaction", "ONE", stamp(0)),
        ("StartTransaction", "TWO", stamp(5)),
        ("StopTransaction", "ONE", stamp(10)),
        ("StopTransaction", "TWO", stamp(15)),
    ]
    stops = {p["idTag"]: p["transactionId"] for p in rig.payloads("StopTransaction")}
    assert stops == {"ONE": 1001, "TWO": 1002}


def test_a_stop_journaled_before_the_id_is_known_gets_it_written_in() -> None:
    rig = Rig(config=OFFLINE_OK)
    rig.offline()
    offline_session(rig)
    rig.csms.handlers["StopTransaction"] = lambda payload: SILENT
    rig.online()
    [stop] = [rig.store.load(n) for n in rig.store.names("txmsg/")]
    assert stop["payload"]["transactionId"] == 1001


def test_timestamps_taken_before_the_clock_was_set_are_corrected() -> None:
    rig = Rig(boot=False, config=OFFLINE_OK)
    rig.csms.now = 100.0
    rig.plug()
    rig.card("TAG1")  # the clock still says 2020
    rig.csms.connect()
    assert rig.payloads("StartTransaction")[0]["timestamp"] == stamp(100)


def test_readings_taken_before_the_clock_was_set_are_corrected_everywhere() -> None:
    config = {
        "StopTxnSampledData": "Energy.Active.Import.Register",
        "MeterValueSampleInterval": "10",
        **OFFLINE_OK,
    }
    rig = Rig(boot=False, config=config)
    rig.csms.now = 100.0
    rig.plug()
    rig.card("TAG1")  # the clock still says 2020
    rig.advance(20)  # MeterValues at 110 and 120, before the sync
    rig.csms.connect()
    rig.advance(5)
    rig.card("TAG1")  # StopTransaction journaled after the sync, with readings from before it
    meter_values = [p["meterValue"][0]["timestamp"] for p in rig.payloads("MeterValues")]
    assert meter_values == [stamp(110), stamp(120)]
    [stop] = rig.payloads("StopTransaction")
    assert stop["timestamp"] == stamp(125)
    data = [mv["timestamp"] for mv in stop["transactionData"]]
    assert data == [stamp(100), stamp(110), stamp(120), stamp(125)]


def test_the_power_loss_stop_at_load_is_reported_with_the_time_the_csms_gets() -> None:
    rig = Rig()
    start_session(rig)
    rig.advance(60)
    rig.csms.now += 1000  # the station was off for 1000 s
    rig.clear()
    rig.restart(connect=False)
    rig.pump()  # the PowerLoss stop is journaled, stamped by a clock not set yet (2020)
    assert rig.events_of(SessionStopped) == []  # its time is not the one the CSMS will get
    rig.online()  # the BootNotification sets the clock
    stop = {"meterStop": 1000, "timestamp": stamp(1060), "reason": "PowerLoss"}
    assert rig.tx_messages() == [("StopTransaction", {**stop, "transactionId": 1001})]
    assert rig.events_of(SessionStopped) == [SessionStopped(1, 1, "PowerLoss", 1000, stamp(1060))]


def test_a_power_loss_stop_sent_without_the_clock_set_is_reported_as_sent() -> None:
    rig = Rig()
    start_session(rig)
    rig.csms.now += 1000
    rig.clear()
    rig.csms.handlers["BootNotification"] = lambda payload: {
        "status": "Accepted",
        "currentTime": "1990-01-01T00:00:00Z",  # refused: the clock stays unset
        "interval": 300,
    }
    rig.restart()
    # The unset clock says 2020, before the start: sent (and told) as the start + 1 s.
    stop = {"meterStop": 1000, "timestamp": stamp(1), "reason": "PowerLoss"}
    assert rig.tx_messages() == [("StopTransaction", {**stop, "transactionId": 1001})]
    assert rig.events_of(SessionStopped) == [SessionStopped(1, 1, "PowerLoss", 1000, stamp(1))]


def test_preboot_transactions_lose_start_tx_timestamp() -> None:
    """ChargingSessions.cpp: a transaction started before the clock was set, and a restart
    before it ever was. MicroOcpp drops such a transaction; we send it with its timestamps as
    taken (no correction is known any more, see tx_journal): only the PowerLoss stop, journaled
    in the new run before the sync, is corrected."""
    rig = Rig(boot=False, config=OFFLINE_OK)
    rig.csms.now = 100.0
    rig.plug()
    rig.card("TAG1")  # never connected: the clock says 2020
    rig.csms.now = 400.0
    rig.restart()
    start = {"connectorId": 1, "idTag": "TAG1", "meterStart": 1000, "timestamp": unset_stamp(100)}
    stop = {"meterStop": 1000, "timestamp": stamp(400), "reason": "PowerLoss"}
    assert rig.tx_messages() == [
        ("StartTransaction", start),
        ("StopTransaction", {**stop, "transactionId": 1001}),
    ]


def test_preboot_transactions_lose_stop_tx_timestamp() -> None:
    """ChargingSessions.cpp: a transaction started with the clock set, resumed after a restart
    and stopped before the clock was set again, then a restart before it was. The stop's time
    cannot be corrected and lies years before the start: like MicroOcpp, it is sent as the start
    time plus 1 s (see tx_journal)."""
    rig = Rig(resume_transactions_after_restart=True)
    start_session(rig)
    rig.csms.now = 100.0
    rig.restart(connect=False)  # the transaction resumes; the clock is not set
    rig.card("TAG1")
    rig.csms.now = 200.0
    rig.restart()
    start = {"connectorId": 1, "idTag": "TAG1", "meterStart": 1000, "timestamp": stamp(0)}
    stop = {"meterStop": 1000, "timestamp": stamp(1), "reason": "Local", "idTag": "TAG1"}
    assert rig.tx_messages() == [
        ("StartTransaction", start),
        ("StopTransaction", {**stop, "transactionId": 1001}),
    ]


# ---------------------------------------------------------------------- robustness


def test_an_unreadable_journal_document_is_reported_and_the_rest_delivered() -> None:
    rig = Rig(config=OFFLINE_OK)
    rig.offline()
    offline_session(rig)
    rig.store.save("txmsg/0000000002", {"action": 7})  # between Start and Stop
    rig.store.save("tx/0000000009", ["garbage"])
    rig.restart()
    assert tx_actions(rig) == ["StartTransaction", "StopTransaction"]
    reasons = sorted(e.reason for e in rig.events_of(MessageDiscarded))
    assert reasons == [
        "unreadable document tx/0000000009",
        "unreadable document txmsg/0000000002",
    ]
    assert not rig.store.names("tx/") and not rig.store.names("txmsg/")


def test_a_lost_transaction_record_sends_the_rest_with_minus_one() -> None:
    rig = Rig(config={"MeterValueSampleInterval": "10", **OFFLINE_OK})
    rig.offline()
    rig.plug()
    rig.card("TAG1")
    rig.advance(10, charging_w=3600)  # a MeterValues waits behind the StartTransaction
    rig.csms.handlers["MeterValues"] = lambda payload: SILENT
    rig.online()
    rig.store.save("tx/0000000001", {"connector": 1})  # then the record is damaged
    rig.restart()
    assert [p.get("transactionId") for p in rig.payloads("MeterValues")] == [1001, -1]
    assert [e.reason for e in rig.events_of(MessageDiscarded)] == [
        "unreadable document tx/0000000001"
    ]


def test_a_failing_store_does_not_lose_the_session_of_this_run() -> None:
    rig = Rig()
    store = rig.store
    original = store.save

    def failing(name: str, value: object) -> None:
        if name.startswith("tx"):
            raise OSError("quota exceeded")
        original(name, value)

    store.save = failing
    start_session(rig)
    rig.card("TAG1")
    assert tx_actions(rig) == ["StartTransaction", "StopTransaction"]


def test_queue_length_is_reported() -> None:
    rig = Rig(config=OFFLINE_OK)
    rig.offline()
    offline_session(rig)
    rig.online()
    assert [e.length for e in rig.events_of(QueueLengthChanged)] == [1, 2, 1, 0]
    assert rig.cp.queue_length() == 0


def test_local_ids_are_never_reused_once_the_journal_drained() -> None:
    rig = Rig()
    for id_tag in ("TAG1", "TAG2", "TAG3"):
        start_session(rig, id_tag)
        rig.card(id_tag)
        rig.unplug()
        assert rig.cp.queue_length() == 0 and not rig.store.names("txmsg/")
        rig.restart()
    ids = [event.local_id for event in rig.events_of(SessionStarted)]
    assert ids == sorted(set(ids)) and len(ids) == 3


def test_discards_across_restarts_name_distinct_messages() -> None:
    rig = Rig(config={"TransactionMessageAttempts": "1"})
    refuse(rig, "StopTransaction")
    for id_tag in ("TAG1", "TAG2"):
        start_session(rig, id_tag)
        rig.card(id_tag)
        rig.unplug()
        rig.restart()
    records = rig.store.load(DISCARDS)
    assert len({record["local_id"] for record in records}) == 2
    assert len({record["seq"] for record in records}) == 2


def test_the_discard_log_keeps_the_latest_entries() -> None:
    rig = Rig(config={"TransactionMessageAttempts": "1", **OFFLINE_OK})
    refuse(rig, "StartTransaction")
    refuse(rig, "StopTransaction")
    for n in range(DISCARD_LOG // 2 + 1):
        offline_session(rig, f"T{n}")
        rig.unplug()
    assert len(rig.cp.discarded_messages()) == DISCARD_LOG


@pytest.mark.parametrize("kind", ["Soft", "Hard"])
def test_a_reset_stops_the_transaction_before_the_reboot(kind: str) -> None:
    resets: list[str] = []
    rig = Rig(reset_handler=resets.append)
    start_session(rig)
    rig.csms.result("Reset", {"type": kind})
    rig.csms.advance(5)
    assert resets == [kind]
    assert tx_actions(rig) == ["StartTransaction", "StopTransaction"]
    rig.restart()  # the reboot: nothing is left to stop
    assert tx_actions(rig) == ["StartTransaction", "StopTransaction"]


def test_a_soft_reset_waits_for_the_transaction_messages() -> None:
    resets: list[str] = []
    rig = Rig(reset_handler=resets.append, config={"MessageTimeout": "10"})
    start_session(rig)
    rig.csms.handlers["StopTransaction"] = lambda payload: Raw("[3, oops")
    rig.csms.result("Reset", {"type": "Soft"})
    rig.csms.advance(30)
    assert resets == []  # the StopTransaction is still being retried
    rig.csms.handlers["StopTransaction"] = lambda payload: {}
    rig.csms.advance(60)
    assert resets == ["Soft"]
