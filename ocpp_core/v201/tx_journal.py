"""What the OCPP 2.0.1 TransactionEvent messages mean to the journal, and what survives a restart.

The station names its transactions (a UUID, ``transactionId``) and numbers the events of each
(``seqNo`` from 0), so no answer is needed to send the next message. Documents:

* ``txmsg/<seq>`` — a journaled TransactionEvent (ocpp_core.journal: saved before it can be
  sent, strictly ordered, retried under one message id). A transaction's local id is the
  sequence number of its Started event. The energy register an event reports is kept beside its
  payload (the entry's data ``registerWh``), never parsed back from the frame.
* ``tx/<local id>`` — the transaction's record (``Transaction.record``): its id, EVSE, idToken,
  the next seqNo, the meter at its start, the highest register journaled and the time reported
  charging (timeSpentCharging). Saved right after each of its events is journaled, deleted when
  its Ended event is answered or discarded.
* ``txdiscarded`` — the discard log (ocpp_core.tx_discards).

Why the order of writes is safe at every point of a crash (a restart is a new engine on the
same Store):

* an event is journaled first, its record saved after: a crash in between leaves the event,
  whose seqNo and transactionId the load takes into account (the next seqNo is one above the
  highest of the record and of the journaled events, and the record is saved so at once,
  before those events can be delivered and deleted), so no seqNo is used twice or skipped;
  a Started event without a record is a transaction of its own (rebuilt from the payload);
* an answered Ended: the record is deleted, then the event. The event left behind is sent again
  (the CSMS recognises the message id), and without a record its transaction is known as ended;
* a transaction is *open* at load when no Ended event of it is journaled: it is then ended with
  stoppedReason PowerLoss (triggerReason AbnormalCondition) or resumed
  (``resume_after_restart``); a discarded event settles nothing but an Ended.

A TransactionEvent that cannot be sent (a stored document that is not one, or breaks the request
schema) is discarded with a record and never blocks the queue. A timeout counts as a failed
attempt (E13): after ``MessageAttempts[TransactionEvent]`` the event is discarded and recorded;
a discarded Started does not end its transaction (its later events still go out).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ocpp_core import validation
from ocpp_core.clock import format_datetime
from ocpp_core.events import MessageDiscarded
from ocpp_core.log import logger
from ocpp_core.tx_clock import Presync, shifted, shifted_all
from ocpp_core.tx_records import TransactionJournalBase, record_name
from ocpp_core.v201.tx_ctrlr import ATTEMPTS, INTERVAL

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.context import BlockContext
    from ocpp_core.journal import Entry
    from ocpp_core.rpc import JsonObject

__all__ = ["ACTION", "Transaction", "TransactionJournal", "TransactionListener"]

ACTION = "TransactionEvent"
QUEUE_LIMIT = 1000  # journaled events kept while periodic meter values can be thinned out
_REGISTER = "registerWh"
_PERIODIC = frozenset({"MeterValuePeriodic", "MeterValueClock"})


def new_transaction_id() -> str:
    """A transactionId no other transaction of this or any station has (a random UUID)."""
    raw = os.urandom(16).hex()
    return f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-{raw[16:20]}-{raw[20:]}"


class Transaction:
    """A 2.0.1 transaction from its Started event until its Ended event is settled."""

    __slots__ = (
        "charged",
        "ended",
        "evse",
        "id_token",
        "last_meter",
        "local_id",
        "meter_start",
        "seq_no",
        "start",
        "transaction_id",
    )

    def __init__(
        self, local_id: int, transaction_id: str, evse: int, meter_start: int, start: str
    ) -> None:
        self.local_id = local_id
        self.transaction_id = transaction_id
        self.evse = evse  # 0: not known (a damaged record)
        self.meter_start = meter_start
        self.last_meter = meter_start  # the highest energy register journaled (Wh)
        self.start = start
        self.seq_no = 0  # the seqNo of its next event
        self.id_token: JsonObject | None = None
        self.ended = False  # its Ended event is journaled
        self.charged = 0.0  # seconds reported in chargingState Charging (timeSpentCharging)

    def record(self) -> JsonObject:
        record: JsonObject = {
            "transactionId": self.transaction_id,
            "evse": self.evse,
            "seqNo": self.seq_no,
            "meterStart": self.meter_start,
            "lastMeter": self.last_meter,
            "timestamp": self.start,
        }
        if self.id_token is not None:
            record["idToken"] = self.id_token
        if self.charged:
            record["charged"] = self.charged
        return record


def _transaction_from(local_id: int, stored: object) -> Transaction | None:
    """A Transaction from its record (None if the record lost what identifies it)."""
    if not isinstance(stored, dict):
        return None
    transaction_id, evse = stored.get("transactionId"), stored.get("evse")
    if not (isinstance(transaction_id, str) and 0 < len(transaction_id) <= 36):
        return None
    tx = Transaction(
        local_id,
        transaction_id,
        evse if type(evse) is int and evse >= 0 else 0,
        _count(stored.get("meterStart")),
        str(stored.get("timestamp") or format_datetime(0.0)),
    )
    tx.last_meter = max(tx.meter_start, _count(stored.get("lastMeter")))
    tx.seq_no = _count(stored.get("seqNo"))
    charged = stored.get("charged")
    if isinstance(charged, (int, float)) and not isinstance(charged, bool) and 0 <= charged < 1e9:
        tx.charged = float(charged)
    token = stored.get("idToken")
    tx.id_token = token if isinstance(token, dict) else None
    return tx


def _count(value: object) -> int:
    return value if type(value) is int and value >= 0 else 0


class TransactionListener:
    """What the transaction block hears from the journal."""

    __slots__ = ()

    def answered(self, tx: Transaction, payload: JsonObject, info: JsonObject, now: float) -> None:
        """The CSMS answered an event that carried an idToken with this idTokenInfo."""

    def transaction_settled(self, tx: Transaction, now: float) -> None:
        """The Ended event of ``tx`` was answered or discarded: the transaction is gone."""

    def responded(
        self, tx: Transaction, payload: JsonObject, response: JsonObject, now: float
    ) -> None:
        """The CSMS answered an event of ``tx`` (totalCost, personal messages: I02, I03, I06)."""


class TransactionJournal(TransactionJournalBase):
    """The journal of one engine's TransactionEvents and its transaction records."""

    __slots__ = ("_listener", "_presync", "_unsynced", "transactions")

    def __init__(self, ctx: BlockContext, listener: TransactionListener) -> None:
        super().__init__(ctx)
        self._listener = listener
        self.transactions: dict[int, Transaction] = {}  # by local id
        self._unsynced: set[int] = set()  # seqs of the events journaled before the clock sync
        self._presync: Presync | None = None  # None: the clock was synced all this run
        self._load()

    # ------------------------------------------------------------------ restart

    def _load(self) -> None:
        store = self._ctx.store
        for name, local_id in self.load_journal():
            tx = _transaction_from(local_id, store.load(name))
            if tx is None:
                logger().error("transaction record %s is unusable", name)
                self._unreadable.append(name)
            else:
                self.transactions[local_id] = tx
        by_id = {tx.transaction_id: tx for tx in self.transactions.values()}
        stored = {local_id: tx.seq_no for local_id, tx in self.transactions.items()}
        for entry in self.journal:
            if entry.verdict is not None and entry.action != ACTION:
                continue
            payload = entry.payload
            info = payload.get("transactionInfo")
            transaction_id = info.get("transactionId") if isinstance(info, dict) else None
            if not isinstance(transaction_id, str):
                continue  # unusable: discarded at recover (``check``)
            tx = self.transactions.get(entry.tx) or by_id.get(transaction_id)
            if tx is None:  # journaled, its record not saved yet (or lost)
                evse = payload.get("evse")
                number = evse.get("id") if isinstance(evse, dict) else None
                stamp = payload.get("timestamp")
                tx = Transaction(
                    entry.tx,
                    transaction_id,
                    number if type(number) is int else 0,
                    _register_of(entry) or 0,
                    stamp if isinstance(stamp, str) else format_datetime(0.0),
                )
                token = payload.get("idToken")
                tx.id_token = token if isinstance(token, dict) else None
                self.transactions[entry.tx] = by_id[transaction_id] = tx
            entry.tx = tx.local_id
            seq_no = payload.get("seqNo")
            if type(seq_no) is int and seq_no >= tx.seq_no:
                tx.seq_no = seq_no + 1
            register = _register_of(entry)
            if register is not None and register > tx.last_meter:
                tx.last_meter = register
            if payload.get("eventType") == "Ended":
                tx.ended = True
        for tx in self.transactions.values():
            if stored.get(tx.local_id) != tx.seq_no:
                # Before its events are sent and deleted: the next seqNo must outlive them.
                self._save_record(tx)

    @property
    def needs_recovery(self) -> bool:
        """Whether ``recover`` has work (unreadable documents, the journal's resume)."""
        return bool(self._unreadable) or self.journal.needs_resume

    def recover(self, now: float) -> None:
        """At the first use after a restart: report what could not be read, finish the
        interrupted discards and restart the retry waits (ocpp_core.journal)."""
        self.report_unreadable(now)
        self.journal.resume(now)

    def open_transactions(self) -> list[Transaction]:
        """Transactions without a journaled Ended event, oldest first."""
        return sorted(
            (tx for tx in self.transactions.values() if not tx.ended), key=lambda t: t.local_id
        )

    # ------------------------------------------------------------------ journaling

    def event(
        self,
        tx: Transaction | None,
        payload: JsonObject,
        now: float,
        register_wh: int | None = None,
    ) -> Transaction:
        """Journal one TransactionEvent of ``tx`` (None: a Started event of a new transaction,
        whose ``transactionInfo`` names it and whose ``evse`` says where). ``payload`` lacks the
        seqNo, which is given here. The record follows the event (see module)."""
        info = payload["transactionInfo"]
        assert isinstance(info, dict)
        data = None if register_wh is None else {_REGISTER: register_wh}
        clock = self._ctx.clock
        presync = self._presync
        if presync is not None and clock.is_synced and "meterValue" in payload:
            delta = clock.wall(0.0) - presync.offset  # readings taken before the sync
            payload = {**payload, "meterValue": presync.moved(payload["meterValue"], delta)}
        if tx is None:
            evse = payload["evse"]
            assert isinstance(evse, dict)
            entry = self.journal.append(ACTION, {**payload, "seqNo": 0}, None, data, now)
            meter = 0 if register_wh is None else register_wh
            tx = Transaction(
                entry.seq, str(info["transactionId"]), int(evse["id"]), meter, entry_time(payload)
            )
            self.transactions[tx.local_id] = tx
        else:
            entry = self.journal.append(
                ACTION, {**payload, "seqNo": tx.seq_no}, tx.local_id, data, now
            )
        if not clock.is_synced:
            self._presync_of()
            self._unsynced.add(entry.seq)
        tx.seq_no += 1
        if register_wh is not None and register_wh > tx.last_meter:
            tx.last_meter = register_wh
        token = payload.get("idToken")
        if isinstance(token, dict) and tx.id_token is None:
            tx.id_token = token
        if payload["eventType"] == "Ended":
            tx.ended = True
        self._save_record(tx)
        return tx

    # ------------------------------------------------------------------ clock corrections

    def saw_time(self, now: float) -> None:
        """Readings may be taken at ``now``: before the sync, note it in the unsynced range."""
        clock = self._ctx.clock
        if not clock.is_synced:
            self._presync_of().saw(clock.wall(now))

    def _presync_of(self) -> Presync:
        presync = self._presync
        if presync is None:
            presync = self._presync = Presync(self._ctx.clock.wall(0.0))
        return presync

    def prepare(self, entry: Entry) -> JsonObject:
        """An event journaled before the CSMS set the clock gets the clock's correction (and
        is journaled again), as in 1.6 (ocpp_core.tx_clock)."""
        if entry.seq in self._unsynced and self._ctx.clock.is_synced:
            self._unsynced.discard(entry.seq)
            delta = self._ctx.clock.wall(0.0) - self._presync_of().offset
            if delta:
                payload = dict(entry.payload)
                payload["timestamp"] = shifted(str(payload["timestamp"]), delta)
                if "meterValue" in payload:
                    payload["meterValue"] = shifted_all(payload["meterValue"], delta)
                entry.payload = payload
                self.journal.rewrite(entry)
        return entry.payload

    def forget_id_token(self, matches: Callable[[JsonObject | None], bool]) -> int:
        """Drop the idToken from the records of ended transactions that ``matches`` it
        (CustomerInformation clear, N10); how many records changed."""
        forgotten = 0
        for tx in self.transactions.values():
            if tx.ended and tx.id_token is not None and matches(tx.id_token):
                tx.id_token = None
                self._save_record(tx)
                forgotten += 1
        return forgotten

    def _save_record(self, tx: Transaction) -> None:
        try:
            self._ctx.store.save(record_name(tx.local_id), tx.record())
        except Exception:
            logger().exception("transaction record %s could not be stored", tx.local_id)

    def _settle(self, tx: Transaction | None, now: float) -> None:
        if tx is None or self.transactions.pop(tx.local_id, None) is None:
            return
        try:
            self._ctx.store.delete(record_name(tx.local_id))
        except Exception:
            logger().exception("transaction record %s could not be deleted", tx.local_id)
        self._listener.transaction_settled(tx, now)

    def queued(self, transaction_id: str | None) -> bool:
        """Whether events (of that transaction, if given) wait in the journal."""
        if transaction_id is None:
            return bool(self.journal)
        return any(
            tx.transaction_id == transaction_id
            for entry in self.journal
            if (tx := self.transactions.get(entry.tx)) is not None
        )

    # ------------------------------------------------------------------ JournalOwner

    def attempts(self) -> int:
        return self._ctx.config.integer(ATTEMPTS)

    def retry_interval(self) -> int:
        return self._ctx.config.integer(INTERVAL)

    def limit(self) -> int:
        return QUEUE_LIMIT

    def timeout_is_attempt(self) -> bool:
        return True

    def check(self, entry: Entry) -> str | None:
        if entry.action != ACTION:
            return f"{entry.action} is no 2.0.1 transaction message"
        violation = validation.validate("2.0.1", "TransactionEventRequest", entry.payload)
        return None if violation is None else f"{violation.path or '/'}: {violation.message}"

    def delivered(self, entry: Entry, response: JsonObject, now: float) -> None:
        tx = self.transactions.get(entry.tx)
        info = response.get("idTokenInfo")
        if tx is not None and isinstance(info, dict):
            self._listener.answered(tx, entry.payload, info, now)
        if tx is not None:
            self._listener.responded(tx, entry.payload, response, now)
        if entry.payload.get("eventType") == "Ended":
            self._settle(tx, now)

    def discarded(self, entry: Entry, reason: str, now: float) -> None:
        event = MessageDiscarded(entry.action, entry.tx, entry.attempts, reason)
        self.record_discards([(event, entry.seq)], now)
        if entry.payload.get("eventType") == "Ended":
            self._settle(self.transactions.get(entry.tx), now)

    def droppable(self, entry: Entry) -> bool:
        payload = entry.payload
        return payload.get("eventType") == "Updated" and payload.get("triggerReason") in _PERIODIC


def _register_of(entry: Entry) -> int | None:
    data = entry.data
    register = None if data is None else data.get(_REGISTER)
    return register if type(register) is int and register >= 0 else None


def entry_time(payload: JsonObject) -> str:
    """The timestamp of an event payload."""
    return str(payload["timestamp"])
