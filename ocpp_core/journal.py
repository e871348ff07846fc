"""The transaction-message journal: persistent, strictly ordered, retried, never silently lost.

OCPP 1.6 §3.7 asks for transaction-related messages to reach the CSMS in chronological order,
queued while offline, and skipped only after the CSMS repeatedly failed to process one (§3.7.1).
The journal is the request source for them (its owning block hands the outbox ``take``/``wakeup``
through):

* ``append`` writes the message to the Store *before* it can be sent (one document per message,
  ``txmsg/<seq>``, the sequence number zero-padded so that names sort in order), so a restart at
  any point re-sends it; nothing is sent that is not journaled;
* sequence numbers increase over the Store's whole life, also once the journal has drained: the
  ``txseq`` document reserves them RESERVE at a time (one write per RESERVE messages), so a
  restart may skip numbers but never reuses one, and a number names one message for good;
* only the oldest message is ever offered to the outbox: a newer one waits until the older is
  delivered or discarded, which keeps the chronological order across connectors and restarts;
* each message has one OCPP-J message id for good (``tx-<seq>-<token>``, saved in its document
  when it is journaled, so it costs no write): every send of it — the first, after a timeout,
  after a lost connection, after a restart — carries that id. The sequence number makes it unique
  over the Store's life; ``token``, random per engine, keeps a later Store (a wiped station) from
  repeating it; the ``tx-`` prefix keeps it apart from the engine's other CALL ids (UUIDs);
* the delivery guarantee is therefore *at least once, under the same message id*: a CSMS that
  remembers the ids it answered can recognise every repeat and answer it as before;
* while the connection is down the outbox asks nobody, so waiting offline uses no attempts; a
  request lost with the connection is re-sent first after reconnecting;
* a CALLERROR or an unusable response is a failure to process (OCPP-J errata 3.2): the attempt is
  counted and persisted at once, and the message waits ``retry_interval`` seconds times the attempts
  made (``attempts`` and ``retry_interval`` are the owner's). The wait itself is not persisted:
  after a restart it starts again in full from the first poll (``resume``), so a reboot may lengthen
  it but never skips it;
* after the last attempt the message is discarded, never silently and never after delivery: the
  entry is first saved with its verdict (``discarded``), then the owner's ``discarded`` callback
  records and reports it, then the entry is deleted. A power cut in between leaves an entry
  that is never sent again: ``resume`` hands it to ``discarded`` once more (the owner keeps one
  record per sequence number) and deletes it;
* a timeout proves nothing (the CSMS may have processed the message and lost the answer), so it uses
  no attempt: the same request (same id, same payload) is re-sent after ``retry_interval`` seconds,
  and may then arrive twice. So may a message whose connection was lost, or whose station restarted,
  before the answer came: these are the only cases where the CSMS sees a repeat. An answer that
  comes after the timeout, while the message waits to be re-sent, completes it (``held``); a second
  answer to a message already completed is dropped (the outbox logs it). An owner whose protocol
  counts a timeout as a failed attempt (OCPP 2.0.1 E13: ``timeout_is_attempt``) gets the same
  re-send under the same id, with the attempt counted and the wait grown as after a CALLERROR;
* the journal is bounded (the owner's ``limit`` of entries): when it is full, a quarter of the limit
  is freed among the owner's ``droppable`` entries (OCPP 1.6: periodic and clock-aligned
  MeterValues; never StartTransaction, StopTransaction or their Begin/End values), where each
  transaction's lie densest, oldest first: every other entry of the oldest stretch of a regular
  series. A long time offline so keeps its whole span at an even resolution that coarsens as it
  grows (``_thin``); each drop is saved with its verdict, reported (``dropped``) and deleted like a
  discard;
* a delivered message is deleted only after the owner's ``delivered`` callback has stored what
  the answer taught it (e.g. the transactionId), so a restart in between re-sends nothing the
  owner cannot recognise as done;
* an entry that cannot be read, that its owner rejects at load (``check``) or whose payload the
  owner cannot prepare, is discarded with a record and never blocks the ones behind it; a
  field the journal can do without (the attempts, the id, the owner's extras, a verdict that
  is not one: sent again) is repaired and the repair reported (``repaired``).

What a message means, how its payload is completed at send time (``prepare``) and what an answer
changes is the owner's business: the journal is the same for every protocol version.
"""

from __future__ import annotations

import os
from collections import deque
from typing import TYPE_CHECKING, NamedTuple

from ocpp_core.log import logger
from ocpp_core.outbox import (
    ERROR,
    INVALID,
    PRIORITY_TRANSACTIONS,
    TIMEOUT,
    Request,
    RequestSource,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from ocpp_core.outbox import CallFailure
    from ocpp_core.rpc import JsonObject
    from ocpp_core.store import Store

__all__ = [
    "COUNTER",
    "ID_PREFIX",
    "MIN_LIMIT",
    "PREFIX",
    "RESERVE",
    "Entry",
    "Journal",
    "JournalNames",
    "JournalOwner",
    "JournalSource",
    "sequence_of",
]

PREFIX = "txmsg/"
COUNTER = "txseq"  # the first sequence number not reserved yet
RESERVE = 100
_DIGITS = 10
ID_PREFIX = "tx-"  # journaled messages' ids: never a UUID, the engine's other CALL ids
_MAX_ID = 36  # OCPP-J §4.1.4 (CiString36)
MIN_LIMIT = 10  # the smallest bound an owner may set (shorter journals never ask for it)


class JournalNames(NamedTuple):
    """Where a journal keeps its entries and counter, and how its message ids begin: the
    transaction journal's by default; another journal (security events) names its own."""

    prefix: str = PREFIX
    counter: str = COUNTER
    id_prefix: str = ID_PREFIX


TRANSACTIONS = JournalNames()


def sequence_of(name: str, prefix: str) -> int | None:
    """The number at the end of a document name such as ``txmsg/0000000042`` (None if none)."""
    tail = name[len(prefix) :]
    return int(tail) if tail.isascii() and tail.isdigit() else None


class Entry:
    """One journaled message. ``tx`` is the owner's transaction number (by default the entry's
    own sequence number); ``data`` is the owner's extras, stored with it; ``message_id`` the
    OCPP-J id every send of it carries."""

    __slots__ = (
        "action",
        "attempts",
        "data",
        "due",
        "message_id",
        "name",
        "payload",
        "request",
        "seq",
        "tx",
        "verdict",
    )

    def __init__(
        self,
        seq: int,
        action: str,
        payload: JsonObject,
        tx: int,
        data: JsonObject | None,
        message_id: str,
        prefix: str = PREFIX,
    ) -> None:
        self.seq = seq
        self.name = f"{prefix}{seq:0{_DIGITS}d}"  # its Store document
        self.action = action
        self.payload = payload
        self.tx = tx
        self.data = data
        self.message_id = message_id
        self.attempts = 0  # failures to process so far
        self.due = float("-inf")  # monotonic time before which it is not sent
        self.request: Request | None = None  # kept until answered or refused (same id, payload)
        self.verdict: str | None = None  # why it is discarded, once its last attempt failed

    def document(self) -> JsonObject:
        document: JsonObject = {
            "action": self.action,
            "payload": self.payload,
            "tx": self.tx,
            "id": self.message_id,
        }
        if self.data:
            document["data"] = self.data
        if self.attempts:
            document["attempts"] = self.attempts
        if self.verdict is not None:
            document["discarded"] = self.verdict
        return document


class JournalOwner:
    """What the journal asks of the block whose messages it carries."""

    __slots__ = ()

    def attempts(self) -> int:
        """How many failures to process discard a message."""
        return 3

    def retry_interval(self) -> int:
        """Seconds per attempt made before the next try."""
        return 60

    def limit(self) -> int:
        """The most entries kept while droppable ones remain (at least MIN_LIMIT)."""
        return 1000

    def timeout_is_attempt(self) -> bool:
        """Whether an unanswered send (timeout) uses an attempt, as a CALLERROR does (OCPP
        2.0.1 E13: "no response within the timeout, or a CALLERROR"); False: it uses none and
        the message is sent again after ``retry_interval`` (OCPP 1.6, see module)."""
        return False

    def check(self, entry: Entry) -> str | None:
        """At load: None if the entry can be sent (the owner may repair it in place), else why
        it cannot; it is then discarded (``discarded``) before anything is sent."""
        return None

    def prepare(self, entry: Entry) -> Mapping[str, object]:
        """The payload to send now (e.g. with the transactionId learnt meanwhile)."""
        return entry.payload

    def delivered(self, entry: Entry, response: JsonObject, now: float) -> None:
        """The CSMS answered; persist what the answer teaches before the entry is deleted."""

    def discarded(self, entry: Entry, reason: str, now: float) -> None:
        """The entry is given up (after its last attempt, unusable, or dropped to keep the
        journal within its limit): record and report it, once per ``entry.seq`` (after a power
        cut this is called again for the same entry)."""

    def droppable(self, entry: Entry) -> bool:
        """Whether the entry may be dropped to keep the journal within its limit."""
        return False

    def dropped(self, entries: list[Entry], reason: str, now: float) -> None:
        """Droppable entries are given up to keep the journal within its limit: record and
        report each (like ``discarded``, which a power cut may make run for them again)."""
        for entry in entries:
            self.discarded(entry, reason, now)

    def repaired(self, name: str, problem: str) -> None:
        """A stored entry had a bad field the journal repaired (reported by the owner)."""

    def length_changed(self, length: int) -> None:
        """The number of entries changed."""


class Journal(RequestSource):
    """The ordered, persistent request source of transaction-related messages."""

    __slots__ = ("_entries", "_names", "_next_seq", "_owner", "_reserved", "_store", "_token")

    priority = PRIORITY_TRANSACTIONS

    def __init__(
        self, store: Store, owner: JournalOwner, names: JournalNames = TRANSACTIONS
    ) -> None:
        self._store = store
        self._names = names
        self._owner = owner  # also says how many attempts, how long a wait, how many entries
        self._entries: deque[Entry] = deque()
        self._next_seq = 1
        self._reserved = 1  # sequence numbers below this one are reserved in the Store
        self._token = ""  # tells this engine's message ids from a wiped Store's (made at first use)

    # ------------------------------------------------------------------ contents

    def load(self, floor: int) -> list[str]:
        """Read the stored entries in order; returns the names of unreadable ones (kept).

        Sequence numbers continue above ``floor``, every stored name and the stored counter.
        An entry the owner's ``check`` rejects is discarded at ``resume``; one with a bad
        field the journal can do without is repaired and saved again.
        """
        prefix = self._names.prefix
        counter = self._store.load(self._names.counter)
        highest = max(floor, counter - 1 if type(counter) is int else 0)
        unreadable = []
        for name in self._store.names(prefix):
            seq = sequence_of(name, prefix)
            if seq is None:
                logger().warning("journal document %s has no sequence number; ignored", name)
                continue
            highest = max(highest, seq)
            entry, problems = _entry_from(seq, self._store.load(name), prefix)
            if entry is None:
                unreadable.append(name)
                continue
            for problem in problems:
                logger().error("journal entry %s: %s", name, problem)
                self._owner.repaired(name, problem)
            if problems or not entry.message_id:
                entry.message_id = entry.message_id or self._new_message_id(seq)
                self._save(entry)  # before it is sent under that id
            self._entries.append(entry)
        self._next_seq = self._reserved = highest + 1
        for entry in list(self._entries):
            refusal = None if entry.verdict is not None else self._owner.check(entry)
            if refusal:
                logger().error("journal entry %s: %s; discarded", entry.name, refusal)
                entry.verdict = f"unusable entry: {refusal}"
                self._save(entry)  # first: a power cut from here on never sends it
        return unreadable

    @property
    def needs_resume(self) -> bool:
        """Whether ``resume`` has work: an interrupted discard, or a retry wait to restart."""
        return any(entry.attempts or entry.verdict is not None for entry in self._entries)

    def resume(self, now: float) -> None:
        """After a restart: finish the discards a power cut interrupted (or ``load`` decided),
        and let each message that failed before wait its full retry wait again from ``now``."""
        interval = self._owner.retry_interval()
        for entry in list(self._entries):
            if entry.verdict is not None:
                self._discard(entry, now)
            elif entry.attempts:
                entry.due = now + interval * entry.attempts

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def append(
        self, action: str, payload: JsonObject, tx: int | None, data: JsonObject | None, now: float
    ) -> Entry:
        """Journal a message (persisted before this returns; ``tx`` None: its own number).
        A full journal is thinned first (see module)."""
        length = len(self._entries)
        if length >= MIN_LIMIT and length >= self._owner.limit():
            self._thin(now)
        seq = self._allocate()
        tx = seq if tx is None else tx
        entry = Entry(seq, action, payload, tx, data, self._new_message_id(seq), self._names.prefix)
        self._save(entry)
        self._entries.append(entry)
        self._owner.length_changed(len(self._entries))
        return entry

    def _new_message_id(self, seq: int) -> str:
        if not self._token:
            self._token = os.urandom(4).hex()
        return f"{self._names.id_prefix}{seq}-{self._token}"

    def _allocate(self) -> int:
        """The next sequence number, reserved in the Store before it is used."""
        seq = self._next_seq
        self._next_seq += 1
        if seq >= self._reserved:
            self._reserved = seq + RESERVE
            try:
                self._store.save(self._names.counter, self._reserved)
            except Exception:
                logger().exception("journal counter could not be stored")
        return seq

    def _thin(self, now: float) -> None:
        """Make room (a quarter of the limit) where each transaction's droppable entries lie
        densest: an entry goes if dropping it leaves the smallest gap between its neighbours
        (in sequence numbers, the journal's clock), the oldest first among equal gaps, never
        two neighbours in one pass, never a transaction's first or last one. So a regular
        series loses every other entry of its oldest stretch, and a long time offline keeps
        its whole span at an even, coarser resolution. With no transaction holding three, the
        oldest droppable one goes. Each drop is saved with its verdict, reported and deleted,
        like any discard; an entry in flight is never dropped."""
        owner, limit = self._owner, self._owner.limit()
        streams: dict[int, list[Entry]] = {}
        for entry in self._entries:
            if entry.request is None and owner.droppable(entry):
                streams.setdefault(entry.tx, []).append(entry)
        inner = sorted(
            (
                (stream[i + 1].seq - stream[i - 1].seq, stream[i].seq, stream, i)
                for stream in streams.values()
                for i in range(1, len(stream) - 1)
            ),
            key=lambda item: (item[0], item[1]),
        )
        victims: list[Entry] = []
        spared: set[int] = set()  # sequence numbers of the victims' neighbours (this pass)
        for _, seq, stream, i in inner:
            if seq not in spared:
                victims.append(stream[i])
                spared.update((stream[i - 1].seq, stream[i + 1].seq))
                if len(victims) >= max(1, limit // 4):
                    break
        if not victims and streams:
            victims = [min((stream[0] for stream in streams.values()), key=lambda e: e.seq)]
        if not victims:
            logger().warning("transaction journal over its limit of %d; nothing to drop", limit)
            return
        victims.sort(key=lambda e: e.seq)
        reason = f"journal full (limit {limit} messages): thinned out"
        for victim in victims:
            logger().warning("%s %s dropped: %s", victim.action, victim.seq, reason)
            victim.verdict = reason
            self._save(victim)  # first: a power cut from here on never sends it
        try:
            owner.dropped(victims, reason, now)
        except Exception:
            logger().exception("dropped messages could not be recorded")
        for victim in victims:
            self._finish(victim)

    def rewrite(self, entry: Entry) -> None:
        """Persist an entry whose payload or data the owner changed."""
        self._save(entry)

    def remove(self, entry: Entry) -> None:
        """Drop an entry the owner knows to be done (e.g. found confirmed after a restart)."""
        self._delete(entry.name)
        self._entries.remove(entry)
        self._owner.length_changed(len(self._entries))

    def _save(self, entry: Entry) -> None:
        try:
            self._store.save(entry.name, entry.document())
        except Exception:
            # Kept in memory and still delivered; only a restart before delivery loses it.
            logger().exception("journal entry %s could not be stored", entry.name)

    def _delete(self, name: str) -> None:
        try:
            self._store.delete(name)
        except Exception:
            logger().exception("journal entry %s could not be deleted", name)

    # ------------------------------------------------------------------ RequestSource

    def take(self, now: float) -> Request | None:
        entries = self._entries
        while entries:
            entry = entries[0]
            if now < entry.due:
                return None
            request = entry.request
            if request is not None:
                return request
            request = self._request(entry, now)
            if request is not None:
                return request
        return None

    def _request(self, entry: Entry, now: float) -> Request | None:
        """The entry's request, under its own message id; None if the owner cannot make its
        payload (the entry is discarded then, so it never blocks the ones behind it)."""
        try:
            payload = self._owner.prepare(entry)
        except Exception as problem:
            logger().exception("%s %s cannot be sent; discarded", entry.action, entry.seq)
            entry.verdict = f"unusable entry: {type(problem).__name__}"
            self._save(entry)
            self._discard(entry, now)
            return None
        request = entry.request = Request(
            entry.action,
            payload,
            lambda response, at: self._delivered(entry, response, at),
            lambda failure, at: self._failed(entry, failure, at),
        )
        request.message_id = entry.message_id
        return request

    def give_back(self, request: Request, now: float) -> None:
        """Lost with the connection: first again after reconnecting, no attempt used."""

    def held(self, message_id: str) -> Request | None:
        """The front entry's request if ``message_id`` is its id: an answer that came after
        the timeout, while the message waits to be re-sent, completes it instead of being lost."""
        entries = self._entries
        request = entries[0].request if entries else None
        return request if request is not None and request.message_id == message_id else None

    def wakeup(self, now: float) -> float | None:
        entries = self._entries
        return max(now, entries[0].due) if entries else None

    def _delivered(self, entry: Entry, response: JsonObject, now: float) -> None:
        entry.request = None
        try:
            self._owner.delivered(entry, response, now)
        except Exception:
            # Answered all the same: keeping it would send it, and block the queue, forever.
            logger().exception("%s %s: its answer could not be applied", entry.action, entry.seq)
        self._finish(entry)

    def _failed(self, entry: Entry, failure: CallFailure, now: float) -> None:
        interval = self._owner.retry_interval()
        if failure.kind not in (ERROR, INVALID):
            if failure.kind != TIMEOUT or not self._owner.timeout_is_attempt():
                logger().warning(
                    "%s %s unanswered (%s); retrying", entry.action, entry.seq, failure.kind
                )
                entry.due = now + interval  # the same request again: a late answer completes it
                return
            entry.attempts += 1  # the same request is kept: a late answer still completes it
        else:
            entry.request = None
            entry.attempts += 1
        if entry.attempts >= max(1, self._owner.attempts()):
            reason = {ERROR: f"CALLERROR {failure.code}", TIMEOUT: "no response"}.get(
                failure.kind, "invalid response"
            )
            if failure.description:
                reason = f"{reason}: {failure.description}"
            entry.verdict = reason
            self._save(entry)  # first: a power cut from here on never sends it again
            self._discard(entry, now)
            return
        entry.due = now + interval * entry.attempts
        self._save(entry)

    def _discard(self, entry: Entry, now: float) -> None:
        """Give up an entry with a verdict: the owner records it, then it is deleted."""
        logger().error(
            "%s %s discarded (%s; %d attempts made)",
            entry.action,
            entry.seq,
            entry.verdict,
            entry.attempts,
        )
        try:
            self._owner.discarded(entry, entry.verdict or "discarded", now)
        except Exception:
            logger().exception("%s %s: its discard could not be recorded", entry.action, entry.seq)
        self._finish(entry)

    def _finish(self, entry: Entry) -> None:
        entry.request = None
        self._delete(entry.name)
        if self._entries and self._entries[0] is entry:
            self._entries.popleft()
        else:
            self._entries.remove(entry)
        self._owner.length_changed(len(self._entries))


class JournalSource(RequestSource):
    """A block whose requests are its journal's: the RequestSource methods handed through."""

    __slots__ = ()

    priority = PRIORITY_TRANSACTIONS

    def source_journal(self) -> Journal:
        """The journal whose oldest message is offered."""
        raise NotImplementedError

    def take(self, now: float) -> Request | None:
        return self.source_journal().take(now)

    def give_back(self, request: Request, now: float) -> None:
        self.source_journal().give_back(request, now)

    def wakeup(self, now: float) -> float | None:
        return self.source_journal().wakeup(now)

    def held(self, message_id: str) -> Request | None:
        return self.source_journal().held(message_id)


def _entry_from(seq: int, document: object, prefix: str) -> tuple[Entry | None, list[str]]:
    """An Entry from its stored document (None if it is not one), and the problems repaired:
    the fields the journal can do without get their defaults (an owner's field that is wrong,
    ``tx`` included, is the owner's ``check``)."""
    if not isinstance(document, dict):
        return None, []
    action, payload = document.get("action"), document.get("payload")
    if not (isinstance(action, str) and action and isinstance(payload, dict)):
        return None, []
    problems = []
    tx = document.get("tx")
    if type(tx) is not int:
        problems.append(f"tx {tx!r} is not a number; taken as its own")
        tx = seq
    data = document.get("data")
    if not (data is None or isinstance(data, dict)):
        problems.append(f"data {data!r} is not an object; dropped")
        data = None
    attempts = document.get("attempts", 0)
    if not (type(attempts) is int and attempts >= 0):
        problems.append(f"attempts {attempts!r} is not a count; taken as 0")
        attempts = 0
    verdict = document.get("discarded")
    if not (verdict is None or isinstance(verdict, str)):
        # At least once: sending a message that was about to be given up is harmless.
        problems.append(f"discarded {verdict!r} is not a reason; sent again")
        verdict = None
    message_id = document.get("id")
    if not (isinstance(message_id, str) and 0 < len(message_id) <= _MAX_ID):
        if message_id is not None:  # None: journaled by an older version, given one quietly
            problems.append(f"id {message_id!r} is not a message id; a new one given")
        message_id = ""
    entry = Entry(seq, action, payload, tx, data, message_id, prefix)
    entry.attempts, entry.verdict = attempts, verdict
    return entry, problems
