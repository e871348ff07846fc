"""Transaction safety under faults: a property test over seeded random schedules.

Each schedule drives one station through sessions (cards, plugs, remote starts and stops, meter
values) while injecting connection drops, CALLERRORs, lost responses, lost requests (timeouts),
clean restarts, resets and power cuts after a random number of Store writes — so also between
the journal write and the send, and (armed with a burst of CALLERRORs) between the writes of a
discard: the verdict, the discard record, the transaction record, the deletion. Then the faults
stop, every session is ended, and the journal drains. The checks, against what the Store really
kept and what the CSMS really saw:

* every journaled transaction message reached the CSMS (answered with a CALLRESULT), or was
  discarded and recorded — only after TransactionMessageAttempts CALLERRORs; so every session
  that started has its StartTransaction and its StopTransaction reported;
* no message whose CALLRESULT reached the station has a discard record;
* a journal sequence number is never used for two messages;
* StopTransaction and MeterValues carry their transaction's id (-1 if its Start was discarded);
* transaction messages arrive in chronological order;
* meterStop >= meterStart;
* the CSMS processes a message twice only if the station never got the first answer;
* every send of a journaled message carries the message id journaled with it (the first, and
  every re-send after a timeout, a CALLERROR, a lost connection or a restart), and no two
  journaled messages share an id over the Store's life;
* with a CSMS that recognises repeats by message id (every other seed), that CSMS opens exactly
  one transaction per StartTransaction and sees every one of them stopped, except where the
  StopTransaction was discarded after TransactionMessageAttempts CALLERRORs.

``TX_FAULT_SEEDS=N`` runs N schedules (default 1000); ``TX_FAULT_SEED=s`` runs only seed s, and a
failure names its seed.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections import defaultdict

from fake_csms import IDENTITY, WALL_START

from ocpp_core import ChargePoint, Clock, MemoryStore
from ocpp_core.clock import format_datetime, parse_datetime

ATTEMPTS = 3
TX_ACTIONS = ("StartTransaction", "StopTransaction", "MeterValues")
CONFIG = {
    "TransactionMessageAttempts": str(ATTEMPTS),
    "TransactionMessageRetryInterval": "5",
    "MessageTimeout": "10",
    "AllowOfflineTxForUnknownId": "true",
    "ConnectionTimeOut": "25",
    "MeterValueSampleInterval": "20",
    "HeartbeatInterval": "3600",
}
CONNECTORS = 2


class CrashableStore:
    """A MemoryStore that can lose power: after ``cut_after`` more writes nothing persists.

    ``cut_in_discard`` arms a cut that many writes after the first write of the next discard
    (the entry saved with its verdict, or the discard log); ``cuts_in_discard`` counts them.
    ``journal`` lists every journal document as first persisted, in order, so the checks know
    exactly which messages the station had committed to deliver; ``reused`` lists the names
    persisted anew after they had been used already (sequence numbers must never repeat).
    """

    def __init__(self) -> None:
        self.inner = MemoryStore()
        self.cut_after: int | None = None
        self.cut_in_discard: int | None = None
        self.cuts_in_discard = 0
        self.frozen = False
        self.journal: list[tuple[str, dict]] = []
        self.used: set[str] = set()
        self.reused: list[str] = []

    def load(self, name: str):
        return self.inner.load(name)

    def names(self, prefix: str = "") -> list[str]:
        return self.inner.names(prefix)

    def save(self, name: str, value) -> None:
        if self.frozen:
            return
        new = name.startswith("txmsg/") and self.inner.load(name) is None
        self.inner.save(name, value)
        if new:
            if name in self.used:
                self.reused.append(name)
            self.used.add(name)
            self.journal.append((name, json.loads(json.dumps(value))))
        if self.cut_in_discard is not None and (
            name == "txdiscarded" or (isinstance(value, dict) and "discarded" in value)
        ):
            self.cut_after, self.cut_in_discard = self.cut_in_discard, None
            self.cuts_in_discard += 1
        self._count()

    def delete(self, name: str) -> None:
        if self.frozen:
            return
        self.inner.delete(name)
        self._count()

    def _count(self) -> None:
        if self.cut_after is not None:
            self.cut_after -= 1
            if self.cut_after <= 0:
                self.frozen = True


def _key(action: str, payload: dict) -> str:
    """A message's identity, whatever transactionId it was sent with."""
    rest = {k: v for k, v in payload.items() if k != "transactionId"}
    return action + json.dumps(rest, sort_keys=True)


def _time_of(action: str, payload: dict) -> float:
    if action == "MeterValues":
        return min(parse_datetime(mv["timestamp"]) for mv in payload["meterValue"])
    return parse_datetime(payload["timestamp"])


class Reception:
    """One transaction message as the CSMS received it."""

    def __init__(self, message_id: str, action: str, payload: dict, outcome: str) -> None:
        self.message_id = message_id
        self.action, self.payload, self.outcome = action, payload, outcome
        self.answer_reached_station = False


class Csms:
    """A CSMS that processes what it gets, with injectable faults."""

    tx_actions = TX_ACTIONS  # what it records as receptions

    def __init__(self, harness: Harness, *, dedupe: bool) -> None:
        self.harness = harness
        self.dedupe = dedupe  # answer a repeated message id as the first time, not again
        self.answers: dict[str, dict] = {}  # message id -> the answer it got (dedupe)
        self.fault: str | None = None
        self.fault_left = 0
        self.next_id = 1
        self.receptions: list[Reception] = []
        self.ids_by_start: dict[str, list[int]] = defaultdict(list)  # Start content -> ids
        self.open_ids: set[int] = set()
        self.calls = 0

    def handle(self, text: str) -> None:
        frame = json.loads(text)
        if frame[0] != 2:
            return  # a reply to our CALL
        _, message_id, action, payload = frame
        fault = self._fault()
        if fault == "lose-request":
            return
        if fault == "error":
            answer = [4, message_id, "InternalError", "injected", {}]
            if action in self.tx_actions:
                self.receptions.append(Reception(message_id, action, payload, "error"))
            self.harness.deliver(json.dumps(answer))
            return
        repeat = self.dedupe and message_id in self.answers
        result = self.answers[message_id] if repeat else self._process(action, payload)
        if self.dedupe:
            self.answers[message_id] = result
        reception = None
        if action in self.tx_actions:
            outcome = "repeat" if repeat else "processed"
            reception = Reception(message_id, action, payload, outcome)
            self.receptions.append(reception)
        if fault == "lose-response":
            return
        delivered = self.harness.deliver(json.dumps([3, message_id, result]))
        if reception is not None:
            reception.answer_reached_station = delivered

    def _fault(self) -> str | None:
        if self.fault_left <= 0:
            return None
        self.fault_left -= 1
        return self.fault

    def _process(self, action: str, payload: dict) -> dict:
        now = self.harness.now
        if action == "BootNotification":
            time = format_datetime(WALL_START + now)
            return {"status": "Accepted", "currentTime": time, "interval": 3600}
        if action == "Heartbeat":
            return {"currentTime": format_datetime(WALL_START + now)}
        if action == "Authorize":
            return {"idTagInfo": {"status": _status_of(payload["idTag"])}}
        if action == "StartTransaction":
            transaction_id = self.next_id
            self.next_id += 1
            self.ids_by_start[_key(action, payload)].append(transaction_id)
            self.open_ids.add(transaction_id)
            return {
                "transactionId": transaction_id,
                "idTagInfo": {"status": _status_of(payload["idTag"])},
            }
        if action == "StopTransaction":
            self.open_ids.discard(payload["transactionId"])
        return {}


def _status_of(id_tag: str) -> str:
    """Every 7th card is refused by the CSMS (offline starts then meet DeAuthorized)."""
    return "Invalid" if int(id_tag[1:]) % 7 == 0 else "Accepted"


class Harness:
    """One station, its hardware and its CSMS, driven by a seeded schedule (a protocol
    version's harness overrides the engine, the CSMS and the CSMS's commands)."""

    csms_type = Csms
    version = "1.6"
    config = CONFIG

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.store = CrashableStore()
        self.now = 0.0
        self.resume = self.rng.random() < 0.3
        self.online = True
        self.plugged = [False] * (CONNECTORS + 1)
        self.energy = [0.0] * (CONNECTORS + 1)
        self.tags = 0
        self.reset_requested = False
        self.csms = self.csms_type(self, dedupe=seed % 2 == 1)
        self.log: list[str] = []
        self.cp = self._new_engine()

    # ------------------------------------------------------------------ the station

    def _new_engine(self) -> ChargePoint:
        ids = iter(range(1, 1 << 30))
        cp = ChargePoint(
            identity=IDENTITY,
            connectors=CONNECTORS,
            store=self.store,
            version=self.version,
            clock=Clock(wall_at_start=WALL_START + self.now, mono_at_start=self.now),
            message_ids=lambda: f"{self.seed}-{self.now}-{next(ids)}",
            reset_handler=self._reset,
            config_defaults=self.config,
            resume_transactions_after_restart=self.resume,
        )
        for connector in range(1, CONNECTORS + 1):
            io = cp.connector(connector)
            io.plugged = lambda c=connector: self.plugged[c]
            io.energy_wh = lambda c=connector: self.energy[c]
        if self.online:
            cp.connected(self.now)
        return cp

    def _reset(self, kind: str) -> bool:
        self.reset_requested = True
        return True

    def restart(self, why: str) -> None:
        self.log.append(f"{self.now:.0f} restart ({why})")
        self.store.frozen, self.store.cut_after = False, None
        self.reset_requested = False
        self.cp = self._new_engine()
        self.pump()

    def deliver(self, text: str) -> bool:
        """Hand an answer to the station; True if a live station took it in."""
        if self.store.frozen or not self.online:
            return False
        self.cp.receive(text, self.now)
        return not self.store.frozen

    def pump(self) -> None:
        for _ in range(500):
            if self.store.frozen:
                return
            frames = self.cp.poll(self.now)
            if self.store.frozen or not frames:
                return
            for text in frames:
                if self.online:
                    self.csms.handle(text)
        raise AssertionError(f"seed {self.seed}: the station never stopped sending")

    def settle(self) -> None:
        """After an operation: a power cut or a reset reboots the station."""
        if self.store.frozen:
            self.restart("power cut")
        elif self.reset_requested:
            self.restart("reset")

    def advance(self, seconds: float) -> None:
        """Move time on, waking the station when it asks to be woken (at least every 5 s)."""
        end = self.now + seconds
        while self.now < end:
            wakeup = self.cp.next_wakeup(self.now)
            step = min(end - self.now, 5.0 if wakeup is None else max(0.5, wakeup - self.now))
            self.now += step
            for connector in range(1, CONNECTORS + 1):
                info = self.cp.transaction(connector)
                if info is not None and info.state == "running" and self.plugged[connector]:
                    self.energy[connector] += 3.0 * step
            self.pump()
            self.settle()

    # ------------------------------------------------------------------ the schedule

    def step(self) -> None:
        rng, cp = self.rng, self.cp
        connector = rng.randint(1, CONNECTORS)
        choice = rng.random()
        if choice < 0.14:
            self.plugged[connector] = not self.plugged[connector]
            self.log.append(f"{self.now:.0f} plug {connector} {self.plugged[connector]}")
        elif choice < 0.30:
            info = cp.transaction(connector)
            if info is not None and info.state != "stopping" and info.id_tag and rng.random() < 0.6:
                tag = info.id_tag
            else:
                self.tags += 1
                tag = f"T{self.tags}"
            self.log.append(f"{self.now:.0f} card {connector} {tag}")
            cp.present_card(connector, tag, self.now)
        elif choice < 0.35 and self.online:
            self.tags += 1
            self.log.append(f"{self.now:.0f} remote start {connector} T{self.tags}")
            self.remote_start(connector, f"T{self.tags}")
        elif choice < 0.39 and self.online and self.csms.open_ids:
            transaction_id = rng.choice(sorted(self.csms.open_ids))
            self.log.append(f"{self.now:.0f} remote stop {transaction_id}")
            self.remote_stop(transaction_id)
        elif choice < 0.47:
            self.online = not self.online
            self.log.append(f"{self.now:.0f} online {self.online}")
            if self.online:
                cp.connected(self.now)
            else:
                cp.disconnected(self.now)
        elif choice < 0.60:
            self.csms.fault = rng.choice(("error", "error", "lose-response", "lose-request"))
            self.csms.fault_left = rng.randint(1, 4)
            self.log.append(f"{self.now:.0f} fault {self.csms.fault} x{self.csms.fault_left}")
            if self.csms.fault == "error" and rng.random() < 0.5:
                self.store.cut_in_discard = rng.randint(1, 4)
                self.log.append(
                    f"{self.now:.0f} power cut {self.store.cut_in_discard} into a discard"
                )
        elif choice < 0.64:
            self.restart("clean")
            return
        elif choice < 0.70:
            self.store.cut_after = rng.randint(1, 6)
            self.log.append(f"{self.now:.0f} power cut after {self.store.cut_after} writes")
        elif choice < 0.72 and self.online:
            kind = rng.choice(("Soft", "Hard"))
            self.log.append(f"{self.now:.0f} reset {kind}")
            self.reset(kind)
        else:
            self.advance(rng.choice((1, 2, 5, 10, 20, 40)))
            return
        self.pump()
        self.settle()

    def remote_start(self, connector: int, tag: str) -> None:
        self._csms_call("RemoteStartTransaction", {"connectorId": connector, "idTag": tag})

    def remote_stop(self, transaction_id: object) -> None:
        self._csms_call("RemoteStopTransaction", {"transactionId": transaction_id})

    def reset(self, kind: str) -> None:
        self._csms_call("Reset", {"type": kind})

    def _csms_call(self, action: str, payload: dict) -> None:
        self.csms.calls += 1
        self.cp.receive(json.dumps([2, f"csms-{self.csms.calls}", action, payload]), self.now)

    def heal(self) -> None:
        """No more faults: end every session and let the journal drain."""
        self.log.append(f"{self.now:.0f} heal")
        self.csms.fault_left = 0
        self.store.cut_after = self.store.cut_in_discard = None
        self.settle()
        if not self.online:
            self.online = True
            self.cp.connected(self.now)
        for connector in range(1, CONNECTORS + 1):
            self.cp.end_transaction(connector, self.now)
        for _ in range(400):
            self.advance(5)
            if self.cp.queue_length() == 0:
                return
        raise AssertionError(f"seed {self.seed}: the journal never drained")


def check(harness: Harness) -> None:
    """The properties of the module docstring, against the Store and the CSMS."""
    store, csms = harness.store, harness.csms
    # What the CSMS processed (CALLRESULT) and refused (CALLERROR), by content and transactionId:
    # two transactions may stop at the same time with the same meter reading.
    processed: dict[tuple[str, int | None], list[Reception]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for reception in csms.receptions:
        key = _key(reception.action, reception.payload)
        if reception.outcome == "processed":
            processed[(key, reception.payload.get("transactionId"))].append(reception)
        else:
            errors[key] += 1
    discards: dict[tuple[str, int], int] = defaultdict(int)
    discarded_names: set[str] = set()
    for record in store.load("txdiscarded") or []:
        discards[(record["action"], record["local_id"])] += 1
        if record.get("seq") is not None:
            discarded_names.add(f"txmsg/{record['seq']:010d}")
    assert not store.reused, f"sequence numbers used twice: {store.reused}"

    # Group the journaled documents by transaction, in the order they were written.
    transactions: list[dict] = []
    current: dict[int, dict] = {}
    for name, document in store.journal:
        action, payload, tx = document["action"], document["payload"], document["tx"]
        if action == "StartTransaction":
            current[tx] = {"local_id": tx, "start": (name, payload), "stop": None, "others": []}
            transactions.append(current[tx])
        elif action == "StopTransaction":
            current[tx]["stop"] = (name, payload)
            current[tx]["others"].append((name, action, payload))
        else:
            current[tx]["others"].append((name, action, payload))

    undelivered: dict[tuple[str, int], int] = defaultdict(int)
    expected: set[tuple[str, int]] = set()  # (content, transactionId) the CSMS may see
    for transaction in transactions:
        local_id = transaction["local_id"]
        start_name, start = transaction["start"]
        start_key = _key("StartTransaction", start)
        ids = csms.ids_by_start.get(start_key, [])
        # Every session that started was stopped, with meterStop >= meterStart.
        assert transaction["stop"] is not None, f"transaction {local_id} ({start}) never stopped"
        stop = transaction["stop"][1]
        assert stop["meterStop"] >= start["meterStart"], f"{local_id}: meterStop < meterStart"
        # Every journaled message: delivered, or discarded after ATTEMPTS CALLERRORs.
        start_delivered = bool(processed[(start_key, None)])
        answered = any(r.answer_reached_station for r in processed[(start_key, None)])
        assert not (answered and start_name in discarded_names), (
            f"{start_name} delivered, discarded"
        )
        if not start_delivered:
            assert errors[start_key] >= ATTEMPTS, f"{start_name} neither delivered nor refused"
            undelivered[("StartTransaction", local_id)] += 1
        # The others carry a transactionId the CSMS gave, or -1 after a discarded Start.
        allowed = set(ids) | ({-1} if discards[("StartTransaction", local_id)] else set())
        for name, action, payload in transaction["others"]:
            key = _key(action, payload)
            expected.update((key, tid) for tid in allowed)
            answered = any(r.answer_reached_station for t in allowed for r in processed[(key, t)])
            assert not (answered and name in discarded_names), f"{name} delivered, discarded"
            if not any(processed[(key, tid)] for tid in allowed):
                assert errors[key] >= ATTEMPTS, f"{name} {action} neither delivered nor refused"
                undelivered[(action, local_id)] += 1
    for (action, local_id), count in undelivered.items():
        assert discards[(action, local_id)] >= count, f"{action} of {local_id} lost unrecorded"
    for (key, tid), receptions in processed.items():
        if tid is not None and receptions:
            assert (key, tid) in expected, f"sent with transactionId {tid}: {key}"

    # Chronological order, and duplicates only after a lost answer.
    last = float("-inf")
    for reception in csms.receptions:
        at = _time_of(reception.action, reception.payload)
        assert at >= last, f"{reception.action} at {at} arrived after a message of {last}"
        last = at
    for key, receptions in processed.items():
        for reception in receptions[:-1]:
            assert not reception.answer_reached_station, f"duplicate without a lost answer: {key}"


def run(seed: int, steps: int = 30, *, harness_type=Harness, checker=check, env="TX_FAULT_SEED"):
    harness = harness_type(seed)
    harness.pump()
    for _ in range(steps):
        harness.step()
    harness.heal()
    try:
        checker(harness)
    except AssertionError as problem:
        trail = "\n".join(harness.log[-60:])
        raise AssertionError(f"seed {seed} ({env}={seed}): {problem}\n{trail}") from None
    return harness


def test_transaction_messages_survive_random_faults(capsys, caplog) -> None:
    caplog.set_level(logging.CRITICAL, logger="ocpp_core")  # thousands of expected warnings
    only = os.environ.get("TX_FAULT_SEED")
    seeds = [int(only)] if only else range(int(os.environ.get("TX_FAULT_SEEDS", "1000")))
    started = time.perf_counter()
    totals: dict[str, int] = defaultdict(int)
    for seed in seeds:
        harness = run(seed)
        documents = [document for _, document in harness.store.journal]
        totals["sessions"] += sum(d["action"] == "StartTransaction" for d in documents)
        totals["messages"] += len(documents)
        totals["discarded"] += len(harness.store.load("txdiscarded") or [])
        totals["restarts"] += sum(" restart (" in line for line in harness.log)
        totals["power cuts"] += sum("(power cut)" in line for line in harness.log)
        totals["cuts in a discard"] += harness.store.cuts_in_discard
        totals["repeats recognised"] += sum(r.outcome == "repeat" for r in harness.csms.receptions)
        processed = [r for r in harness.csms.receptions if r.outcome == "processed"]
        totals["duplicates"] += len(processed) - len(
            {(_key(r.action, r.payload), r.payload.get("transactionId")) for r in processed}
        )
    elapsed = time.perf_counter() - started
    figures = ", ".join(f"{count} {name}" for name, count in totals.items())
    with capsys.disabled():
        print(f"\n{len(seeds)} schedules ran in {elapsed:.1f} s: {figures}")
    assert totals["sessions"] > len(seeds)  # the schedules really exercise transactions
