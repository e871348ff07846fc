"""What the OCPP 1.6 transaction messages mean to the journal, and what survives a restart.

Documents (each save is one IndexedDB write in the browser, so a message costs one write to
journal and one to delete):

* ``txmsg/<seq>`` — a journaled StartTransaction, MeterValues or StopTransaction (ocpp_core
  journal). A transaction's local id is the sequence number of its StartTransaction: never
  reused over the Store's life (``txseq``), so a local id in the discard log is unambiguous.
  The energy register a MeterValues reports is kept as a number beside its payload (the
  entry's data ``registerWh``, from sampling's numbers): the register floor is never parsed
  back from the frame's text. A MeterValues journaled without it (an older version) adds
  nothing to it.
* ``tx/<local id>`` — the transaction's record (ocpp_core.v16.tx_record), written when the
  StartTransaction is answered (or discarded), saved again with each MeterValues that raises
  its ``lastMeter`` (one write more per such MeterValues), deleted when its StopTransaction is
  answered or discarded.
* ``txdiscarded`` — the discard log (ocpp_core.v16.tx_discards).

Why this order of writes is safe at every point of a crash (a restart is a new engine on the
same Store):

* StartTransaction answered: the record is saved, then the journal deletes the message. A
  record beside its StartTransaction means "answered": the message is dropped at load.
* StopTransaction journaled before the transactionId is known (offline): when the answer brings
  it, the StopTransaction document is rewritten with it, so that the Stop never depends on a
  record that is about to go.
* StopTransaction answered: the record is deleted, then the message. The Stop left behind
  carries its transactionId and is simply sent again.
* MeterValues and StopTransaction get the transactionId filled in at send time from the
  record; they cannot overtake their StartTransaction, the journal being strictly ordered.
* A discard: the journal saves the entry with its verdict, then ``discarded`` writes the discard
  record (skipped if one with the entry's ``seq`` exists: a power cut came after it last time)
  and settles the transaction record, then the journal deletes the entry. So a discarded
  message is never sent again and always has exactly one record; a message that got its
  CALLRESULT never has one.

A StartTransaction that is discarded does not end its session: the transaction record gets
transactionId -1, the session runs on as if Accepted (not ``invalid``: no answer was had, so
StopTransactionOnInvalidId and MaxEnergyOnInvalidId do not apply, and the idTag is not learnt),
and its MeterValues and StopTransaction are still sent, with transactionId -1 (errata 3.18;
filled in at send time, or written into a StopTransaction journaled before). A StopTransaction
that is discarded settles its transaction all the same (the record is deleted).

Timestamps taken before the CSMS set the clock are moved by the clock's correction when they
are sent after it in the same run (ocpp_core.tx_clock; ``saw_time`` notes the unsynced wall
times at every poll and every start); the corrected message is journaled again.

The PowerLoss stop of a transaction cut by a restart is journaled at load, always before the
sync (a new engine's clock is unset). Its SessionStopped therefore waits until the timestamp is
final (``end`` with ``tell``), so that a GUI shows the time the CSMS gets: at the first poll after
the CSMS set the clock (the StopTransaction is corrected then, before it is sent), or when it is
sent with the clock still unset. A restart before either loses the event, never the message.
The events of a session run before the sync are not held: they tell what happens as it happens,
with the time the clock gave then.

At load, a transaction is *open* (was running when the station went down) if its
StartTransaction or record exists and no StopTransaction is journaled; the transaction block
then stops it with reason PowerLoss and meterStop the last reading known (never below
meterStart), or resumes it — still ``invalid`` if its StartTransaction.conf was not Accepted. Each
record and journaled payload is checked field by field first (``tx_repair``): repaired where its
meaning survives (reported as RecordRepaired), else the transaction is *closed* — stopped, never
resumed — so its StopTransaction still goes out. An unreadable document, or a record that keeps
no transactionId anywhere, is reported as a MessageDiscarded (reason says so) and deleted; it
never stops the others from loading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_core.events import MessageDiscarded, RecordRepaired
from ocpp_core.log import logger
from ocpp_core.tx_clock import Presync, not_before_start, shifted, shifted_all
from ocpp_core.tx_discards import DISCARD_LOG, DISCARDS
from ocpp_core.tx_records import TransactionJournalBase
from ocpp_core.v16.tx_record import RECORDS, Transaction, record_name, transaction_from
from ocpp_core.v16.tx_repair import EPOCH, RecordHints, repair_payload, repair_record

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.journal import Entry, Journal

__all__ = [
    "DISCARDS",
    "DISCARD_LOG",
    "RECORDS",
    "Transaction",
    "TransactionJournal",
    "TransactionListener",
]

START, STOP, METER_VALUES = "StartTransaction", "StopTransaction", "MeterValues"
_ACTIONS = frozenset({START, STOP, METER_VALUES})
_REGISTER = "registerWh"  # a MeterValues entry's data: the energy register it reports (Wh)


def _hints(journal: Journal, local_id: int) -> RecordHints:
    """What the journaled messages of a transaction tell of its id and connector."""
    transaction_id = connector = None
    for entry in journal:
        if entry.tx == local_id and entry.verdict is None:
            payload = entry.payload
            found = payload.get("transactionId")
            if type(found) is int and transaction_id is None:
                transaction_id = found
            found = payload.get("connectorId")
            if type(found) is int and connector is None:
                connector = found
    return RecordHints(transaction_id, connector)


def _register_of(entry: Entry) -> int | None:
    """The energy register (Wh) a journaled MeterValues reports, if it was kept (checked at
    load: see ``check``)."""
    data = entry.data
    register: int | None = None if data is None else data.get(_REGISTER)
    return register


class TransactionListener:
    """What the transaction block hears from the journal."""

    __slots__ = ()

    def start_answered(
        self, transaction: Transaction, id_tag_info: dict[str, Any], now: float
    ) -> None:
        """StartTransaction.conf arrived (the transactionId is stored already)."""

    def stop_settled(
        self,
        transaction: Transaction | None,
        id_tag: str | None,
        info: dict[str, Any] | None,
        now: float,
    ) -> None:
        """A StopTransaction was answered (``info``: its idTagInfo, if any) or discarded."""

    def stop_final(self, transaction: Transaction, payload: dict[str, Any]) -> None:
        """A StopTransaction journaled with ``tell`` has its final timestamp (``payload``)."""


class TransactionJournal(TransactionJournalBase):
    """The journal of one engine's 1.6 transaction messages and its transaction records."""

    __slots__ = (
        "_closing",
        "_listener",
        "_presync",
        "_repairs",
        "_unsynced",
        "_untold",
        "transactions",
    )

    def __init__(self, ctx: BlockContext, listener: TransactionListener) -> None:
        super().__init__(ctx)
        self._listener = listener
        self.transactions: dict[int, Transaction] = {}  # by local id
        self._repairs: list[RecordRepaired] = []  # likewise
        self._closing: list[int] = []  # local ids whose StartTransaction needed stand-ins
        self._unsynced: set[int] = set()  # seqs of the entries journaled before the sync
        self._presync: Presync | None = None  # None: the clock was synced all this run
        # StopTransactions whose listener is told once their timestamp is final, by seq.
        self._untold: dict[int, tuple[Transaction, Entry]] = {}
        self._load()

    # ------------------------------------------------------------------ restart

    def _load(self) -> None:
        for name, local_id in self.load_journal():
            self._load_record(name, local_id)
        by_id = {tx.transaction_id: tx.local_id for tx in self.transactions.values()}
        for entry in list(self.journal):
            if entry.verdict is not None and entry.action not in _ACTIONS:
                continue  # discarded at recover, with its record
            if entry.tx not in self.transactions and entry.action != START:
                entry.tx = by_id.get(entry.payload.get("transactionId"), entry.tx)
            tx = self.transactions.get(entry.tx)
            if entry.action == START:
                if tx is not None:
                    self.journal.remove(entry)  # answered just before the restart
                    continue
                parent = (entry.data or {}).get("parentIdTag")
                tx = transaction_from(entry.tx, entry.payload, parent)
                if tx is None:
                    self._unreadable.append(entry.name)
                    self.journal.remove(entry)
                    continue
                tx.closed = entry.tx in self._closing
                self.transactions[entry.tx] = tx
            elif entry.action == STOP:
                self._complete_stop(entry, tx)
                if tx is not None:
                    tx.stopped, tx.stop_entry = True, entry
                    self._fill_stop(tx)
            elif tx is not None and entry.action == METER_VALUES:
                self._raise_meter(tx, _register_of(entry))

    def _load_record(self, name: str, local_id: int) -> None:
        """A transaction record, checked field by field (ocpp_core.v16.tx_repair)."""
        hints = _hints(self.journal, local_id)
        connectors = len(self._ctx.connectors) - 1
        fields, problems, closed = repair_record(self._ctx.store.load(name), hints, connectors)
        parent = None if fields is None else fields.get("parentIdTag")
        tx = None if fields is None else transaction_from(local_id, fields, parent)
        if fields is None or tx is None:
            for problem in problems:
                logger().error("%s: %s", name, problem)
            self._unreadable.append(name)
            return
        tx.transaction_id = fields["transactionId"]
        tx.invalid = fields["invalid"]
        tx.closed = closed
        last = fields.get("lastMeter")
        if last is not None and last > tx.last_meter:
            tx.last_meter = last
        self.transactions[local_id] = tx
        if problems:
            for problem in problems:
                self._note_repair(name, problem, closed)
            self._save_record(tx)

    def _complete_stop(self, entry: Entry, tx: Transaction | None) -> None:
        """A StopTransaction whose meterStop or timestamp was unusable gets them from its
        transaction (the last reading known, the start time), and is journaled again."""
        payload = entry.payload
        if "meterStop" in payload and "timestamp" in payload:
            return
        for name in ("meterStop", "timestamp"):
            if name not in payload:
                self._note_repair(entry.name, f"{name} missing; taken from its transaction", False)
        fill = {
            "meterStop": 0 if tx is None else max(tx.last_meter, tx.meter_start),
            "timestamp": EPOCH if tx is None else tx.start,
        }
        entry.payload = {**fill, **payload}
        self.journal.rewrite(entry)

    def _note_repair(self, document: str, problem: str, closed: bool) -> None:
        logger().error(
            "%s: %s%s", document, problem, "; its transaction is closed" if closed else ""
        )
        self._repairs.append(RecordRepaired(document, problem, closed))

    # ------------------------------------------------------------------ JournalOwner settings

    def attempts(self) -> int:
        return self._ctx.config.integer("TransactionMessageAttempts")

    def retry_interval(self) -> int:
        return self._ctx.config.integer("TransactionMessageRetryInterval")

    def limit(self) -> int:
        return self._ctx.config.integer("TransactionMessageQueueLimit")

    # ------------------------------------------------------------------ JournalOwner at load

    def check(self, entry: Entry) -> str | None:
        payload, problems, closed = repair_payload(entry.action, entry.payload)
        if payload is None:
            return "; ".join(problems)
        register = (entry.data or {}).get(_REGISTER)
        if register is not None and not (type(register) is int and register >= 0):
            self._note_repair(entry.name, f"{_REGISTER} {register!r} unusable; dropped", False)
            entry.data = {k: v for k, v in (entry.data or {}).items() if k != _REGISTER} or None
            self.journal.rewrite(entry)
        if problems:
            for problem in problems:
                self._note_repair(entry.name, problem, closed)
            entry.payload = payload
            self.journal.rewrite(entry)
        if closed:
            self._closing.append(entry.tx)
        return None

    def repaired(self, name: str, problem: str) -> None:
        self._repairs.append(RecordRepaired(name, problem, False))

    def droppable(self, entry: Entry) -> bool:
        return entry.action == METER_VALUES

    @property
    def needs_recovery(self) -> bool:
        """Whether ``recover`` has work (repairs and unreadable documents to report, the
        journal's resume)."""
        return bool(self._unreadable or self._repairs) or self.journal.needs_resume

    def recover(self, now: float) -> None:
        """At the first use after a restart: report what was repaired and what could not be
        read, finish the interrupted discards and restart the retry waits (ocpp_core.journal)."""
        ctx = self._ctx
        if self._repairs and ctx.watched:
            for event in self._repairs:
                ctx.emit(event)
        self._repairs = []
        self.report_unreadable(now)
        self.journal.resume(now)

    def open_transactions(self) -> list[Transaction]:
        """Transactions without a journaled StopTransaction, oldest first."""
        return sorted(
            (tx for tx in self.transactions.values() if not tx.stopped),
            key=lambda tx: tx.local_id,
        )

    # ------------------------------------------------------------------ journaling

    def begin(
        self,
        connector: int,
        id_tag: str,
        parent_id_tag: str | None,
        meter_start: int,
        timestamp: str,
        reservation_id: int | None,
        now: float,
    ) -> Transaction:
        """Journal a StartTransaction; the new transaction's local id is its sequence number."""
        payload: dict[str, Any] = {
            "connectorId": connector,
            "idTag": id_tag,
            "meterStart": meter_start,
            "timestamp": timestamp,
        }
        if reservation_id is not None:
            payload["reservationId"] = reservation_id
        data = None if parent_id_tag is None else {"parentIdTag": parent_id_tag}
        entry = self._append(START, payload, None, data, now)
        tx = Transaction(
            entry.seq, connector, id_tag, parent_id_tag, meter_start, timestamp, reservation_id
        )
        self.transactions[tx.local_id] = tx
        return tx

    def meter_values(
        self,
        tx: Transaction,
        meter_values: list[dict[str, Any]],
        now: float,
        register_wh: int | None,
    ) -> None:
        """Journal a MeterValues of the transaction with the energy register it reports (Wh,
        None: none); a higher one goes into its record too, so that a PowerLoss stop after a
        restart knows it once the MeterValues is delivered."""
        payload: dict[str, Any] = {"connectorId": tx.connector, "meterValue": meter_values}
        if tx.transaction_id is not None:
            payload["transactionId"] = tx.transaction_id
        data = None if register_wh is None else {_REGISTER: register_wh}
        self._append(METER_VALUES, payload, tx.local_id, data, now)
        if self._raise_meter(tx, register_wh) and tx.transaction_id is not None:
            self._save_record(tx)

    def _raise_meter(self, tx: Transaction, energy: int | None) -> bool:
        """Take a higher energy reading as the transaction's last; True if it was higher."""
        if energy is None or energy <= tx.last_meter:
            return False
        tx.last_meter = energy
        return True

    def end(
        self,
        tx: Transaction,
        meter_stop: int,
        timestamp: str,
        reason: str,
        id_tag: str | None,
        data: list[dict[str, Any]],
        now: float,
        *,
        tell: bool = False,
    ) -> None:
        """Journal the StopTransaction; with ``tell``, tell the listener (``stop_final``) once
        its timestamp is the one the CSMS gets (see module)."""
        payload: dict[str, Any] = {
            "meterStop": meter_stop,
            "timestamp": timestamp,
            "reason": reason,
        }
        if id_tag is not None:
            payload["idTag"] = id_tag
        if data:
            payload["transactionData"] = self._presync_moved(data)
        if tx.transaction_id is not None:
            payload["transactionId"] = tx.transaction_id
        tx.stopped = True
        tx.stop_entry = entry = self._append(STOP, payload, tx.local_id, None, now)
        if tell:
            self._untold[entry.seq] = (tx, entry)

    def _append(
        self,
        action: str,
        payload: dict[str, Any],
        tx: int | None,
        data: dict[str, Any] | None,
        now: float,
    ) -> Entry:
        entry = self.journal.append(action, payload, tx, data, now)
        if not self._ctx.clock.is_synced:
            self._presync_of()
            self._unsynced.add(entry.seq)
        return entry

    # ------------------------------------------------------------------ clock corrections

    def saw_time(self, now: float) -> None:
        """Readings may be taken at ``now``: before the sync, note it in the unsynced range;
        after it, correct and tell the stops waiting for their final timestamp."""
        clock = self._ctx.clock
        if not clock.is_synced:
            self._presync_of().saw(clock.wall(now))
            return
        if self._untold:
            untold, self._untold = self._untold, {}
            for tx, entry in untold.values():
                self._listener.stop_final(tx, self._outgoing(entry))

    def _presync_of(self) -> Presync:
        presync = self._presync
        if presync is None:
            presync = self._presync = Presync(self._ctx.clock.wall(0.0))
        return presync

    def _presync_moved(self, meter_values: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Readings for a message journaled after the sync, those taken before it corrected."""
        presync, clock = self._presync, self._ctx.clock
        if presync is None or not clock.is_synced:
            return meter_values
        return presync.moved(meter_values, clock.wall(0.0) - presync.offset)

    def _correct_time(self, entry: Entry) -> None:
        """Move the timestamps of an entry stamped before the clock was set (see module)."""
        self._unsynced.discard(entry.seq)
        delta = self._ctx.clock.wall(0.0) - self._presync_of().offset
        if not delta:
            return
        payload = dict(entry.payload)
        if "timestamp" in payload:
            payload["timestamp"] = shifted(payload["timestamp"], delta)
        for key in ("meterValue", "transactionData"):
            if key in payload:
                payload[key] = shifted_all(payload[key], delta)
        entry.payload = payload
        self.journal.rewrite(entry)
        tx = self.transactions.get(entry.tx)
        if entry.action == START and tx is not None:
            tx.start = payload["timestamp"]

    # ------------------------------------------------------------------ JournalOwner

    def _outgoing(self, entry: Entry) -> dict[str, Any]:
        """The entry's timestamps as the CSMS gets them: corrected once the clock is set (the
        entry is journaled again), and a StopTransaction never before its start."""
        if entry.seq in self._unsynced and self._ctx.clock.is_synced:
            self._correct_time(entry)
        tx = self.transactions.get(entry.tx)
        if entry.action == STOP and tx is not None:
            return not_before_start(entry.payload, tx.start)
        return entry.payload

    def prepare(self, entry: Entry) -> dict[str, Any]:
        payload = self._outgoing(entry)
        untold = self._untold.pop(entry.seq, None)
        if untold is not None:  # sent with the clock still unset: final as it is
            self._listener.stop_final(untold[0], payload)
        if entry.action == START or "transactionId" in payload:
            return payload
        tx = self.transactions.get(entry.tx)
        transaction_id = None if tx is None else tx.transaction_id
        if transaction_id is None:
            logger().error("%s %s: transactionId unknown; sending -1", entry.action, entry.seq)
            transaction_id = -1
        return {**payload, "transactionId": transaction_id}

    def delivered(self, entry: Entry, response: dict[str, Any], now: float) -> None:
        tx = self.transactions.get(entry.tx)
        if entry.action == START:
            if tx is not None:
                info = response["idTagInfo"]
                tx.invalid = info["status"] != "Accepted"  # kept in the record
                self._settle_start(tx, response["transactionId"], info.get("parentIdTag"))
                self._listener.start_answered(tx, info, now)
        elif entry.action == STOP:
            self._settle_stop(tx)
            info = response.get("idTagInfo")
            self._listener.stop_settled(tx, entry.payload.get("idTag"), info, now)

    def discarded(self, entry: Entry, reason: str, now: float) -> None:
        event = MessageDiscarded(entry.action, entry.tx, entry.attempts, reason)
        self.record_discards([(event, entry.seq)], now)
        tx = self.transactions.get(entry.tx)
        if entry.action == START:
            if tx is not None:
                self._settle_start(tx, -1, None)  # errata 3.18: the rest goes with -1
        elif entry.action == STOP:
            self._settle_stop(tx)
            self._listener.stop_settled(tx, None, None, now)

    # ------------------------------------------------------------------ records

    def _settle_start(self, tx: Transaction, transaction_id: int, parent: str | None) -> None:
        tx.transaction_id = transaction_id
        if parent is not None and tx.parent_id_tag is None:
            tx.parent_id_tag = parent
        self._save_record(tx)
        self._fill_stop(tx)

    def _save_record(self, tx: Transaction) -> None:
        try:
            self._ctx.store.save(record_name(tx.local_id), tx.record())
        except Exception:
            logger().exception("transaction record %s could not be stored", tx.local_id)

    def _fill_stop(self, tx: Transaction) -> None:
        """Give a StopTransaction journaled without a transactionId the one now known."""
        entry = tx.stop_entry
        if entry is None or tx.transaction_id is None or "transactionId" in entry.payload:
            return
        entry.payload = {**entry.payload, "transactionId": tx.transaction_id}
        self.journal.rewrite(entry)

    def _settle_stop(self, tx: Transaction | None) -> None:
        if tx is None:
            return
        del self.transactions[tx.local_id]
        try:
            self._ctx.store.delete(record_name(tx.local_id))
        except Exception:
            logger().exception("transaction record %s could not be deleted", tx.local_id)
