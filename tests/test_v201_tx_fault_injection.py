"""OCPP 2.0.1 transaction safety under faults: a property test over seeded random schedules.

The 2.0.1 counterpart of tests/test_tx_fault_injection.py (same store that loses power after a
number of writes, same faults): each schedule drives one station through sessions (cards,
cables, RequestStart/StopTransaction, reboots ending transactions) while injecting connection
drops, CALLERRORs, lost responses, lost requests (timeouts, which count as attempts in 2.0.1),
clean restarts and power cuts between Store writes — also inside a discard. Then the faults
stop, every session is ended and the journal drains. The checks, against what the Store really
kept and what the CSMS really saw:

* nothing lost: every journaled TransactionEvent reached the CSMS (CALLRESULT), or was
  discarded with a record after MessageAttempts[TransactionEvent] failed attempts; none whose
  answer reached the station has a discard record; a journal sequence number is never reused;
* seqNo contiguous: per transactionId the events journaled carry 0, 1, 2, ... in order, the
  first Started, exactly one Ended, last; what the CSMS processed plus what was discarded is
  that whole range;
* order kept: the CSMS receives the events in the order they were journaled, their
  timestamps never going back;
* each Started eventually Ended (and the Ended reached the CSMS unless discarded on record);
* every send of an event carries the message id journaled with it; a CSMS processes an event
  twice only if the station never got the first answer;
* after every poll the station's wake-up is None or lies in the future (it never asks to spin).

``TX201_FAULT_SEEDS=N`` runs N schedules (default 1000); ``TX201_FAULT_SEED=s`` only seed s.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict

from fake_csms import WALL_START
from test_tx_fault_injection import Csms, Harness, Reception, run

from ocpp_core.clock import format_datetime, parse_datetime

ATTEMPTS = 3
ACTION = "TransactionEvent"
CONFIG = {
    "OCPPCommCtrlr.MessageAttempts[TransactionEvent]": str(ATTEMPTS),
    "OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]": "5",
    "OCPPCommCtrlr.MessageTimeout[Default]": "10",
    "AuthCtrlr.OfflineTxForUnknownIdEnabled": "true",
    "TxCtrlr.EVConnectionTimeOut": "25",
    "SampledDataCtrlr.TxUpdatedInterval": "20",
}
CONNECTORS = 2


def _status_of(id_token: str) -> str:
    """Every 7th token is refused by the CSMS (offline starts then meet Deauthorized)."""
    return "Invalid" if int(id_token[1:]) % 7 == 0 else "Accepted"


def _key(reception: Reception) -> tuple[str, int]:
    """An event's identity: its transaction and seqNo."""
    return reception.payload["transactionInfo"]["transactionId"], reception.payload["seqNo"]


class Csms201(Csms):
    """The fault-injecting CSMS of the 1.6 test, processing 2.0.1 messages."""

    tx_actions = (ACTION,)

    def __init__(self, harness: Harness, *, dedupe: bool) -> None:
        super().__init__(harness, dedupe=dedupe)
        # transactionIds are random: the open ones are numbered in the order they came, so a
        # seed's choice among them (sorted) is the same on every run.
        self.numbers: dict[str, int] = {}

    def _process(self, action: str, payload: dict) -> dict:
        wall = format_datetime(WALL_START + self.harness.now)
        if action == "BootNotification":
            return {"status": "Accepted", "currentTime": wall, "interval": 3600}
        if action == "Heartbeat":
            return {"currentTime": wall}
        if action == "Authorize":
            return {"idTokenInfo": {"status": _status_of(payload["idToken"]["idToken"])}}
        if action == ACTION:
            transaction_id = payload["transactionInfo"]["transactionId"]
            number = self.numbers.setdefault(transaction_id, len(self.numbers) + 1)
            if payload["eventType"] == "Ended":
                self.open_ids.discard(number)
            else:
                self.open_ids.add(number)
            token = payload.get("idToken")
            if token is not None:
                return {"idTokenInfo": {"status": _status_of(token["idToken"])}}
        return {}


class Harness201(Harness):
    """The 1.6 test's station life, faults and schedule, on a 2.0.1 engine; a Reset is a
    reboot that ends the transactions (ImmediateReset) first."""

    csms_type = Csms201
    version = "2.0.1"
    config = CONFIG

    def pump(self) -> None:
        """The 1.6 harness's pump; then the wake-up must lie in the future (issue 18.1)."""
        super().pump()
        if not self.store.frozen:
            wakeup = self.cp.next_wakeup(self.now)
            assert wakeup is None or wakeup > self.now, f"wake-up {wakeup} at {self.now}"

    def remote_start(self, connector: int, tag: str) -> None:
        token = {"idToken": tag, "type": "ISO14443"}
        payload = {"idToken": token, "remoteStartId": self.tags, "evseId": connector}
        self._csms_call("RequestStartTransaction", payload)

    def remote_stop(self, transaction_id: object) -> None:
        by_number = {n: t for t, n in self.csms.numbers.items()}
        self._csms_call("RequestStopTransaction", {"transactionId": by_number[transaction_id]})

    def reset(self, kind: str) -> None:
        for connector in range(1, CONNECTORS + 1):
            self.cp.end_transaction(connector, self.now, reason="ImmediateReset")
        self.reset_requested = True  # the station reboots once its events are journaled


def check(harness: Harness201) -> None:
    """The properties of the module docstring, against the Store and the CSMS."""
    store, csms = harness.store, harness.csms
    assert not store.reused, f"sequence numbers used twice: {store.reused}"
    discarded: dict[str, int] = {}  # journal document -> attempts on record
    for record in store.load("txdiscarded") or []:
        if record.get("seq") is not None:
            discarded[f"txmsg/{record['seq']:010d}"] = record["attempts"]
    position = {document["id"]: i for i, (_, document) in enumerate(store.journal)}
    assert len(position) == len(store.journal), "two journaled events share a message id"

    # seqNo contiguous per transaction, Started first, exactly one Ended, last.
    by_tx: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for name, document in store.journal:
        assert document["action"] == ACTION
        payload = document["payload"]
        by_tx[payload["transactionInfo"]["transactionId"]].append((name, payload))
    processed: dict[tuple[str, int], list[Reception]] = defaultdict(list)
    for reception in csms.receptions:
        assert reception.message_id in position, f"sent under an id never journaled: {reception}"
        if reception.outcome == "processed":
            processed[_key(reception)].append(reception)
    for transaction_id, events in by_tx.items():
        seq_nos = [payload["seqNo"] for _, payload in events]
        assert seq_nos == list(range(len(events))), f"{transaction_id}: seqNo {seq_nos}"
        kinds = [payload["eventType"] for _, payload in events]
        assert kinds[0] == "Started", f"{transaction_id} does not begin with Started: {kinds}"
        assert kinds.count("Ended") == 1 and kinds[-1] == "Ended", f"{transaction_id}: {kinds}"
        for name, payload in events:
            key = (transaction_id, payload["seqNo"])
            answered = any(r.answer_reached_station for r in processed[key])
            assert not (answered and name in discarded), f"{name} delivered and discarded"
            if not processed[key]:
                assert name in discarded, f"{name} {payload['eventType']} lost unrecorded"
                assert discarded[name] >= ATTEMPTS, f"{name} discarded after too few attempts"

    # Order kept, timestamps never back, duplicates only after a lost answer.
    last_position, last_time = -1, float("-inf")
    for reception in csms.receptions:
        at = position[reception.message_id]
        assert at >= last_position, "an event arrived after a later one"
        last_position = at
        stamp = parse_datetime(reception.payload["timestamp"])
        assert stamp >= last_time, f"event of {stamp} arrived after one of {last_time}"
        last_time = stamp
    for key, receptions in processed.items():
        for reception in receptions[:-1]:
            assert not reception.answer_reached_station, f"duplicate without a lost answer: {key}"


def test_transaction_events_survive_random_faults(capsys, caplog) -> None:
    caplog.set_level(logging.CRITICAL, logger="ocpp_core")
    only = os.environ.get("TX201_FAULT_SEED")
    seeds = [int(only)] if only else range(int(os.environ.get("TX201_FAULT_SEEDS", "1000")))
    started = time.perf_counter()
    totals: dict[str, int] = defaultdict(int)
    for seed in seeds:
        harness = run(seed, harness_type=Harness201, checker=check, env="TX201_FAULT_SEED")
        payloads = [document["payload"] for _, document in harness.store.journal]
        totals["transactions"] += sum(p["eventType"] == "Started" for p in payloads)
        totals["events"] += len(payloads)
        totals["discarded"] += len(harness.store.load("txdiscarded") or [])
        totals["restarts"] += sum(" restart (" in line for line in harness.log)
        totals["power cuts"] += sum("(power cut)" in line for line in harness.log)
        totals["cuts in a discard"] += harness.store.cuts_in_discard
        totals["repeats recognised"] += sum(r.outcome == "repeat" for r in harness.csms.receptions)
        totals["offline events"] += sum(bool(p.get("offline")) for p in payloads)
    elapsed = time.perf_counter() - started
    figures = ", ".join(f"{count} {name}" for name, count in totals.items())
    with capsys.disabled():
        print(f"\n{len(seeds)} 2.0.1 schedules ran in {elapsed:.1f} s: {figures}")
    assert totals["transactions"] > len(seeds)  # the schedules really exercise transactions
