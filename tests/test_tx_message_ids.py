"""A journaled transaction message keeps one message id for good (OCPP-J §4.1.4: the id
identifies the message; OCPP 1.6 §3.7: transaction messages are delivered, in order, at least
once). Every send of it — after a timeout, a lost connection, a restart — carries the id it was
journaled with, so a CSMS can recognise a repeat; an answer that comes after the timeout still
completes it. Found by a hostile review: a CSMS answering 3 s after a 1.5 s timeout got the
same StartTransaction 9 times under 9 ids and opened 9 transactions that were never stopped."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from fake_csms import SILENT
from tx_rig import Rig, start_session

from ocpp_core import MemoryStore
from ocpp_core.journal import ID_PREFIX, PREFIX

FAST_TIMEOUT = {"MessageTimeout": "1", "TransactionMessageRetryInterval": "5"}


class LateCsms:
    """Makes the rig's CSMS answer ``actions`` only ``delay`` seconds after they were sent;
    with ``dedupe`` a repeated message id gets the first answer again (not processed twice)."""

    def __init__(
        self, rig: Rig, actions: tuple[str, ...], delay: float, *, dedupe: bool = False
    ) -> None:
        self.rig, self.delay, self.dedupe = rig, delay, dedupe
        self.pending: list[tuple[float, str]] = []  # (when, answer frame)
        self.delivered: list[str] = []
        self.answers: dict[str, object] = {}  # message id -> its answer
        for action in actions:
            original = rig.csms.handlers[action]
            rig.csms.handlers[action] = lambda payload, handle=original: self._handler(
                handle, payload
            )

    def _handler(self, original: Callable[[dict], object], payload: dict) -> object:
        message_id = self.rig.csms.calls[-1][0]
        if not (self.dedupe and message_id in self.answers):
            self.answers[message_id] = original(payload)
        answer = self.answers[message_id]
        self.pending.append((self.rig.now + self.delay, json.dumps([3, message_id, answer])))
        return SILENT

    def run(self, seconds: float) -> None:
        """Time passes in 0.5 s steps; answers are delivered when due."""
        end = self.rig.now + seconds
        while self.rig.now < end:
            self.rig.csms.advance(0.5, step=0.5)
            due = [frame for at, frame in self.pending if at <= self.rig.now]
            self.pending = [(at, frame) for at, frame in self.pending if at > self.rig.now]
            for frame in due:
                self.delivered.append(frame)
                self.rig.cp.receive(frame, self.rig.now)
            self.rig.pump()


def sends(rig: Rig, action: str) -> list[tuple[str, dict]]:
    """(message id, payload) of every ``action`` the CSMS received, in order."""
    return [(mid, payload) for mid, name, payload, _ in rig.csms.calls if name == action]


def test_a_late_start_answer_completes_it_and_no_new_id_goes_out() -> None:
    rig = Rig(config=FAST_TIMEOUT)
    late = LateCsms(rig, ("StartTransaction",), delay=3.0)
    rig.plug()
    rig.card("TAG1")
    late.run(120)
    starts = sends(rig, "StartTransaction")
    assert len({mid for mid, _ in starts}) == 1, starts  # re-sent, if at all, under one id
    assert len(late.delivered) == len(starts)
    info = rig.cp.transaction(1)
    assert info is not None and info.transaction_id == 1001  # the late answer was taken
    assert rig.cp.queue_length() == 0
    rig.card("TAG1")
    late.run(5)
    assert [p["transactionId"] for _, p in sends(rig, "StopTransaction")] == [1001]


def test_the_issue_sequence_one_transaction_and_it_is_stopped() -> None:
    """Every answer 3 s late, a 1 s timeout: the CSMS opens one transaction, sees it stopped."""
    rig = Rig(config={**FAST_TIMEOUT, "TransactionMessageRetryInterval": "2"})
    late = LateCsms(rig, ("StartTransaction", "StopTransaction"), 3.0, dedupe=True)
    rig.plug()
    rig.card("TAG1")
    late.run(30)
    rig.card("TAG1")
    late.run(30)
    starts, stops = sends(rig, "StartTransaction"), sends(rig, "StopTransaction")
    assert len({mid for mid, _ in starts}) == 1 and len({mid for mid, _ in stops}) == 1
    assert [p["transactionId"] for _, p in stops][:1] == [1001]
    assert next(rig.transaction_ids) == 1002  # the CSMS opened exactly one transaction
    assert rig.cp.queue_length() == 0


def test_a_second_answer_to_a_completed_message_is_ignored(caplog) -> None:
    rig = Rig(config=FAST_TIMEOUT)
    late = LateCsms(rig, ("StartTransaction",), delay=3.0)
    rig.plug()
    rig.card("TAG1")
    late.run(10)
    (frame,) = late.delivered
    caplog.set_level(logging.WARNING, logger="ocpp_core")
    rig.cp.receive(frame, rig.now)  # the same answer again
    rig.cp.receive(
        json.dumps([3, json.loads(frame)[1], {"idTagInfo": {"status": "Blocked"}}]), rig.now
    )
    rig.pump()
    info = rig.cp.transaction(1)
    assert info is not None and info.state == "running" and info.transaction_id == 1001
    assert "answers no outstanding CALL" in caplog.text
    assert len(sends(rig, "StartTransaction")) == 1


def test_a_late_callerror_counts_as_a_failed_attempt() -> None:
    rig = Rig(config=FAST_TIMEOUT)
    rig.csms.handlers["StartTransaction"] = lambda payload: SILENT
    rig.plug()
    rig.card("TAG1")
    rig.csms.advance(2)  # timed out, waiting to be re-sent
    ((message_id, _),) = sends(rig, "StartTransaction")
    rig.cp.receive(json.dumps([4, message_id, "InternalError", "late", {}]), rig.now)
    (name,) = rig.store.names(PREFIX)
    assert rig.store.load(name)["attempts"] == 1


def test_a_timed_out_message_is_resent_under_its_id_with_the_same_payload() -> None:
    rig = Rig(config=FAST_TIMEOUT)
    rig.csms.handlers["StartTransaction"] = lambda payload: SILENT
    rig.plug()
    rig.card("TAG1")
    rig.csms.advance(20)
    starts = sends(rig, "StartTransaction")
    assert len(starts) >= 3
    assert {mid for mid, _ in starts} == {starts[0][0]}
    assert all(payload == starts[0][1] for _, payload in starts)
    (name,) = rig.store.names(PREFIX)
    assert rig.store.load(name)["id"] == starts[0][0]  # journaled with it, before it was sent
    assert starts[0][0].startswith(ID_PREFIX)


def test_a_message_lost_with_the_connection_or_a_restart_keeps_its_id() -> None:
    rig = Rig()
    rig.csms.handlers["StartTransaction"] = lambda payload: SILENT
    rig.plug()
    rig.card("TAG1")
    rig.offline()
    rig.online()
    rig.restart()
    rig.csms.handlers["StartTransaction"] = rig.csms._start_transaction
    rig.offline()
    rig.online()
    starts = sends(rig, "StartTransaction")
    assert len(starts) == 4 and len({mid for mid, _ in starts}) == 1, starts


class CutAfterAnswer(MemoryStore):
    """Power is cut the moment the station receives the answer to ``action``: nothing it
    writes after that persists (the record of the answer included)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.frozen = False
        self.armed = True

    def save(self, name: str, value: object) -> None:
        if not self.frozen:
            super().save(name, value)

    def delete(self, name: str) -> None:
        if not self.frozen:
            super().delete(name)


def _freeze_on_answer(rig: Rig, store: CutAfterAnswer) -> None:
    original = rig.csms.handlers[store.action]

    def handler(payload: dict) -> object:
        if store.armed:
            store.frozen, store.armed = True, False
        return original(payload)

    rig.csms.handlers[store.action] = handler


@pytest.mark.parametrize("action", ["StartTransaction", "StopTransaction"])
def test_a_restart_between_the_answer_and_its_record_resends_under_the_same_id(
    action: str,
) -> None:
    store = CutAfterAnswer(action)
    rig = Rig(store=store, config={"AllowOfflineTxForUnknownId": "true"})
    rig.csms.dedupe = True
    _freeze_on_answer(rig, store)
    start_session(rig)
    rig.card("TAG1")
    assert store.frozen  # the answer came; nothing after it was kept
    store.frozen = False
    rig.restart()  # the Start: re-sent, then its transaction stopped (PowerLoss)
    rig.unplug()
    rig.advance(5)
    ids = sends(rig, action)
    assert len(ids) == 2 and ids[0][0] == ids[1][0], ids  # the same message, again
    assert rig.csms.repeats == [(ids[0][0], action)]
    stops = [p["transactionId"] for _, p in sends(rig, "StopTransaction")]
    assert sorted(set(stops)) == [1001]  # one transaction, stopped (a repeat is recognised)
    assert rig.cp.queue_length() == 0


def test_message_ids_are_unique_over_the_stores_life_and_apart_from_other_ids() -> None:
    counter = iter(range(1, 10_000))
    rig = Rig(message_ids=lambda: f"id-{next(counter)}")
    for _ in range(3):
        start_session(rig)
        rig.advance(5)
        rig.card("TAG1")
        rig.unplug()
        rig.restart()
    ids = [
        mid for mid, name, _, _ in rig.csms.calls if name in ("StartTransaction", "StopTransaction")
    ]
    others = [
        mid
        for mid, name, _, _ in rig.csms.calls
        if name not in ("StartTransaction", "StopTransaction", "MeterValues")
    ]
    assert len(ids) == len(set(ids)) == 6
    assert all(mid.startswith(ID_PREFIX) for mid in ids)
    assert not set(ids) & set(others)
    # A wiped station starts its sequence numbers again, never its ids.
    fresh = Rig()
    start_session(fresh)
    (first,) = [mid for mid, name, _, _ in fresh.csms.calls if name == "StartTransaction"]
    assert first.split("-")[1] == ids[0].split("-")[1] and first != ids[0]


def test_an_entry_journaled_without_an_id_gets_one_before_it_is_sent() -> None:
    rig = Rig(config={"AllowOfflineTxForUnknownId": "true"})
    rig.offline()
    rig.plug()
    rig.card("TAG1")
    (name,) = rig.store.names(PREFIX)
    document = rig.store.load(name)
    del document["id"]  # as an older version journaled it
    rig.store.save(name, document)
    rig.restart(connect=False)
    rig.pump()
    given = rig.store.load(name)["id"]
    rig.online()
    ((sent, _),) = sends(rig, "StartTransaction")
    assert sent == given
