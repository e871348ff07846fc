"""Corrupt transaction records and journal entries (a hostile review's 733 corruption runs):
every field of the running transaction's record (``tx/<id>``) and of each journaled message
(``txmsg/<seq>``) made wrong-typed, missing, out of range, an unknown action, a bad payload.

For each, after the restart on the damaged Store: no exception; the queue drains; every
transaction whose StartTransaction reached the CSMS gets a StopTransaction with its
transactionId; and what was repaired or discarded is visible (a RecordRepaired or
MessageDiscarded event, and a log line). Before the fix a wrong-typed field lost the running
transaction (61 of 82 runs) and an entry with an unknown action made every answer raise
LookupError, blocking the messages behind it."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from tx_rig import Rig, start_session

from ocpp_core.events import MessageDiscarded, RecordRepaired
from ocpp_core.journal import PREFIX
from ocpp_core.v16.tx_journal import RECORDS

CONFIG = {"AllowOfflineTxForUnknownId": "true", "MeterValueSampleInterval": "10"}
MISSING = object()  # a mutation's value: delete the field


def offline_history(resume: bool) -> tuple[Rig, dict[str, str]]:
    """Three transactions, and the names of the documents the cases damage:

    * A, connector 1: started online (its record holds transactionId 1001), then offline its
      MeterValues and its StopTransaction journaled;
    * B, connector 2: started online (1002), running at the restart with MeterValues journaled
      offline — its record is "the running transaction's record";
    * C, connector 3: started offline, its StartTransaction journaled, never sent.
    """
    rig = Rig(connectors=3, config=CONFIG, resume_transactions_after_restart=resume)
    rig.csms.dedupe = True
    start_session(rig, "TAG1", 1)
    start_session(rig, "TAG2", 2)
    local = {c: rig.cp.transaction(c).local_id for c in (1, 2)}
    rig.advance(1)
    rig.offline()
    rig.advance(25, charging_w=3600)
    rig.card("TAG1", 1)
    rig.plug(3)
    rig.card("TAG3", 3)
    rig.advance(15, charging_w=3600)
    names = {
        "record": f"{RECORDS}{local[2]:010d}",
        "start": journaled(rig, "StartTransaction", None),
        "meter values": journaled(rig, "MeterValues", local[1]),
        "stop": journaled(rig, "StopTransaction", local[1]),
    }
    return rig, names


def journaled(rig: Rig, action: str, tx: int | None) -> str:
    """The name of the first journaled ``action`` of local transaction ``tx`` (None: any)."""
    for name in rig.store.names(PREFIX):
        document = rig.store.load(name)
        if document["action"] == action and tx in (None, document["tx"]):
            return name
    raise AssertionError(f"no {action} of {tx} journaled")


Mutation = Callable[[Rig, dict[str, str]], None]


def field(where: str, key: str, value: object) -> Mutation:
    """Set (or delete, MISSING) ``key`` of the document ``where`` names; ``payload.key`` is a
    field of a journaled message's payload."""

    def mutate(rig: Rig, names: dict[str, str]) -> None:
        name = names[where]
        document = rig.store.load(name)
        target = document
        if key.startswith("payload."):
            target, key_in = document["payload"], key[len("payload.") :]
        else:
            key_in = key
        if value is MISSING:
            target.pop(key_in, None)
        else:
            target[key_in] = value
        rig.store.save(name, document)

    return mutate


def whole(where: str, value: object) -> Mutation:
    def mutate(rig: Rig, names: dict[str, str]) -> None:
        rig.store.save(names[where], value)

    return mutate


R, START, MV, STOP = "record", "start", "meter values", "stop"
CASES: dict[str, Mutation] = {
    # the running transaction's record, field by field
    "record meterStart float": field(R, "meterStart", 1.5),
    "record meterStart string": field(R, "meterStart", "abc"),
    "record meterStart negative": field(R, "meterStart", -5),
    "record meterStart missing": field(R, "meterStart", MISSING),
    "record transactionId string": field(R, "transactionId", "1002"),
    "record transactionId garbage": field(R, "transactionId", "x"),
    "record transactionId missing": field(R, "transactionId", MISSING),
    "record transactionId huge": field(R, "transactionId", 2**40),
    "record connector string": field(R, "connector", "1"),
    "record connector out of range": field(R, "connector", 99),
    "record connector missing": field(R, "connector", MISSING),
    "record idTag number": field(R, "idTag", 42),
    "record idTag too long": field(R, "idTag", "T" * 30),
    "record idTag missing": field(R, "idTag", MISSING),
    "record timestamp garbage": field(R, "timestamp", "yesterday"),
    "record timestamp missing": field(R, "timestamp", MISSING),
    "record reservationId string": field(R, "reservationId", "r"),
    "record parentIdTag number": field(R, "parentIdTag", 7),
    "record invalid string": field(R, "invalid", "yes"),
    "record lastMeter list": field(R, "lastMeter", [1]),
    "record not an object": whole(R, ["garbage"]),
    "record a number": whole(R, 42),
    # the journaled StartTransaction of C (never sent)
    "start action unknown": field(START, "action", "NoSuchAction"),
    "start action number": field(START, "action", 7),
    "start payload not an object": field(START, "payload", "garbage"),
    "start connectorId string": field(START, "payload.connectorId", "two"),
    "start idTag missing": field(START, "payload.idTag", MISSING),
    "start meterStart float": field(START, "payload.meterStart", 12.7),
    "start timestamp garbage": field(START, "payload.timestamp", 12),
    "start extra field": field(START, "payload.bogus", True),
    "start tx string": field(START, "tx", "six"),
    "start id number": field(START, "id", 5),
    "start id too long": field(START, "id", "x" * 40),
    "start attempts negative": field(START, "attempts", -1),
    "start data list": field(START, "data", [1]),
    "start discarded number": field(START, "discarded", 3),
    # a journaled MeterValues of A
    "meter values action unknown": field(MV, "action", "Bogus"),
    "meter values meterValue garbage": field(MV, "payload.meterValue", "x"),
    "meter values meterValue missing": field(MV, "payload.meterValue", MISSING),
    "meter values sampledValue empty": field(MV, "payload.meterValue", [{"timestamp": "x"}]),
    "meter values transactionId string": field(MV, "payload.transactionId", "zz"),
    "meter values connectorId negative": field(MV, "payload.connectorId", -3),
    "meter values tx missing": field(MV, "tx", MISSING),
    "meter values whole not an object": whole(MV, "garbage"),
    # the journaled StopTransaction of A
    "stop action unknown": field(STOP, "action", "StopTransactionX"),
    "stop meterStop string": field(STOP, "payload.meterStop", "many"),
    "stop meterStop missing": field(STOP, "payload.meterStop", MISSING),
    "stop timestamp missing": field(STOP, "payload.timestamp", MISSING),
    "stop reason unknown": field(STOP, "payload.reason", "Because"),
    "stop transactionId garbage": field(STOP, "payload.transactionId", [1]),
    "stop transactionData garbage": field(STOP, "payload.transactionData", [{"x": 1}]),
    "stop idTag number": field(STOP, "payload.idTag", 5),
    "stop payload missing": field(STOP, "payload", MISSING),
    "stop tx string": field(STOP, "tx", "1"),
    "stop attempts string": field(STOP, "attempts", "2"),
}


@pytest.mark.parametrize("resume", [False, True], ids=["power-loss", "resume"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_corrupt_field_neither_crashes_nor_blocks_nor_loses_a_transaction(
    case: str, resume: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="ocpp_core")
    rig, names = offline_history(resume)
    CASES[case](rig, names)
    caplog.clear()
    rig.restart()
    rig.advance(5)
    for connector in (1, 2, 3):
        rig.cp.end_transaction(connector, rig.now)
        rig.unplug(connector)
    rig.advance(30)
    assert rig.cp.queue_length() == 0
    assert not rig.store.names(PREFIX) and not rig.store.names(RECORDS)
    started = {
        answer["transactionId"]
        for answer in rig.csms.answered.values()
        if isinstance(answer, dict) and "transactionId" in answer
    }
    stopped = {p["transactionId"] for p in rig.payloads("StopTransaction")}
    assert {1001, 1002} <= started
    assert started <= stopped, f"never stopped: {sorted(started - stopped)}"
    told = rig.events_of(RecordRepaired) + rig.events_of(MessageDiscarded)
    assert told, "the damage went unreported"
    assert caplog.records, "the damage was not logged"


def test_the_repaired_record_is_saved_and_the_transaction_runs_on() -> None:
    rig, names = offline_history(resume=True)
    field(R, "meterStart", 1.5)(rig, names)
    rig.restart()
    info = rig.cp.transaction(2)
    assert info is not None and info.state == "running" and info.meter_start == 2
    assert rig.store.load(names[R])["meterStart"] == 2
    (event,) = rig.events_of(RecordRepaired)
    assert event.document == names[R] and "meterStart" in event.problem and not event.closed


def test_a_running_transaction_whose_record_lost_its_idtag_is_closed_not_resumed() -> None:
    rig, names = offline_history(resume=True)
    field(R, "idTag", MISSING)(rig, names)
    rig.restart()
    (event,) = rig.events_of(RecordRepaired)
    assert event.document == names[R] and event.closed and "idTag" in event.problem
    info = rig.cp.transaction(2)
    assert info is None or info.state == "stopping"
    assert rig.cp.transaction(3).state == "running"  # the undamaged one resumes
    rig.advance(30)
    stops = [p for p in rig.payloads("StopTransaction") if p["transactionId"] == 1002]
    assert [p["reason"] for p in stops] == ["PowerLoss"]


def test_a_string_transaction_id_is_read_as_the_number() -> None:
    rig, names = offline_history(resume=False)
    field(R, "transactionId", "1002")(rig, names)
    rig.restart()
    rig.advance(30)
    stops = [p for p in rig.payloads("StopTransaction") if p["transactionId"] == 1002]
    assert [p["reason"] for p in stops] == ["PowerLoss"]


def test_an_unknown_action_is_discarded_with_a_record_and_the_rest_delivered() -> None:
    rig, names = offline_history(resume=False)
    field(MV, "action", "NoSuchAction")(rig, names)
    rig.restart()
    rig.advance(30)
    (event,) = rig.events_of(MessageDiscarded)
    assert event.action == "NoSuchAction" and "not a transaction message" in event.reason
    assert rig.cp.queue_length() == 0
    assert "NoSuchAction" not in rig.actions()
