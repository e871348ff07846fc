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
* while the connection is down the outbox asks nobody, so waiting offline uses no attempts; a
  request lost with the connection is re-sent first after reconnecting, with the same message id;
* a CALLERROR or an unusable response is a failure to process (OCPP-J errata 3.2): the attempt is
  counted and persisted at once, and the message waits ``interval`` seconds times the attempts
  made. The wait itself is not persisted: after a restart it starts again in full from the
  first poll (``resume``), so a reboot may lengthen it but never skips it;
* after the last attempt the message is discarded, never silently and never after delivery: the
  entry is first saved with its verdict (``discarded``), then the owner's ``discarded`` callback
  records and reports it, then the entry is deleted. A power cut in between leaves an entry
  that is never sent again: ``resume`` hands it to ``discarded`` once more (the owner keeps one
  record per sequence number) and deletes it;
* a timeout proves nothing (the CSMS may have processed the message and lost the answer), so it
  uses no attempt: the message is re-sent after ``interval`` seconds, and may then arrive twice.
  So may a message whose connection was lost, or whose station restarted, before the answer
  came: these are the only cases where the CSMS sees a duplicate;
* a delivered message is deleted only after the owner's ``delivered`` callback has stored what
  the answer taught it (e.g. the transactionId), so a restart in between re-sends nothing the
  owner cannot recognise as done.

What a message means, how its payload is completed at send time (``prepare``) and what an answer
changes is the owner's business: the journal is the same for every protocol version.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from ocpp_core.log import logger
from ocpp_core.outbox import ERROR, INVALID, PRIORITY_TRANSACTIONS, Request, RequestSource

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from ocpp_core.outbox import CallFailure
    from ocpp_core.store import Store

__all__ = ["COUNTER", "PREFIX", "RESERVE", "Entry", "Journal", "JournalOwner", "sequence_of"]

PREFIX = "txmsg/"
COUNTER = "txseq"  # the first sequence number not reserved yet
RESERVE = 100
_DIGITS = 10


def sequence_of(name: str, prefix: str) -> int | None:
    """The number at the end of a document name such as ``txmsg/0000000042`` (None if none)."""
    tail = name[len(prefix) :]
    return int(tail) if tail.isascii() and tail.isdigit() else None


class Entry:
    """One journaled message. ``tx`` is the owner's transaction number (by default the entry's
    own sequence number); ``data`` is the owner's extras, stored with it."""

    __slots__ = (
        "action",
        "attempts",
        "data",
        "due",
        "name",
        "payload",
        "request",
        "seq",
        "tx",
        "verdict",
    )

    def __init__(self, seq: int, action: str, payload: dict, tx: int, data: dict | None) -> None:
        self.seq = seq
        self.name = f"{PREFIX}{seq:0{_DIGITS}d}"  # its Store document
        self.action = action
        self.payload = payload
        self.tx = tx
        self.data = data
        self.attempts = 0  # failures to process so far
        self.due = float("-inf")  # monotonic time before which it is not sent
        self.request: Request | None = None  # kept across a lost connection (same message id)
        self.verdict: str | None = None  # why it is discarded, once its last attempt failed

    def document(self) -> dict:
        document: dict = {"action": self.action, "payload": self.payload, "tx": self.tx}
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

    def prepare(self, entry: Entry) -> dict:
        """The payload to send now (e.g. with the transactionId learnt meanwhile)."""
        return entry.payload

    def delivered(self, entry: Entry, response: dict, now: float) -> None:
        """The CSMS answered; persist what the answer teaches before the entry is deleted."""

    def discarded(self, entry: Entry, reason: str, now: float) -> None:
        """The entry is given up after its last attempt: record and report it, once per
        ``entry.seq`` (after a power cut this is called again for the same entry)."""

    def length_changed(self, length: int) -> None:
        """The number of entries changed."""


class Journal(RequestSource):
    """The ordered, persistent request source of transaction-related messages."""

    __slots__ = ("_attempts", "_entries", "_interval", "_next_seq", "_owner", "_reserved", "_store")

    priority = PRIORITY_TRANSACTIONS

    def __init__(
        self,
        store: Store,
        owner: JournalOwner,
        attempts: Callable[[], int],
        interval: Callable[[], int],
    ) -> None:
        self._store = store
        self._owner = owner
        self._attempts = attempts  # how many failures to process discard a message
        self._interval = interval  # seconds per attempt made before the next try
        self._entries: deque[Entry] = deque()
        self._next_seq = 1
        self._reserved = 1  # sequence numbers below this one are reserved in the Store

    # ------------------------------------------------------------------ contents

    def load(self, floor: int) -> list[str]:
        """Read the stored entries in order; returns the names of unreadable ones (kept).

        Sequence numbers continue above ``floor``, every stored name and the stored counter.
        """
        counter = self._store.load(COUNTER)
        highest = max(floor, counter - 1 if type(counter) is int else 0)
        unreadable = []
        for name in self._store.names(PREFIX):
            seq = sequence_of(name, PREFIX)
            if seq is None:
                logger().warning("journal document %s has no sequence number; ignored", name)
                continue
            highest = max(highest, seq)
            entry = _entry_from(seq, self._store.load(name))
            if entry is None:
                unreadable.append(name)
            else:
                self._entries.append(entry)
        self._next_seq = self._reserved = highest + 1
        return unreadable

    @property
    def needs_resume(self) -> bool:
        """Whether ``resume`` has work: an interrupted discard, or a retry wait to restart."""
        return any(entry.attempts or entry.verdict is not None for entry in self._entries)

    def resume(self, now: float) -> None:
        """After a restart: finish the discards a power cut interrupted, and let each message
        that failed before wait its full retry wait again from ``now``."""
        interval = self._interval()
        for entry in list(self._entries):
            if entry.verdict is not None:
                self._discard(entry, now)
            elif entry.attempts:
                entry.due = now + interval * entry.attempts

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def append(self, action: str, payload: dict, tx: int | None, data: dict | None) -> Entry:
        """Journal a message (persisted before this returns; ``tx`` None: its own number)."""
        seq = self._allocate()
        entry = Entry(seq, action, payload, seq if tx is None else tx, data)
        self._save(entry)
        self._entries.append(entry)
        self._owner.length_changed(len(self._entries))
        return entry

    def _allocate(self) -> int:
        """The next sequence number, reserved in the Store before it is used."""
        seq = self._next_seq
        self._next_seq += 1
        if seq >= self._reserved:
            self._reserved = seq + RESERVE
            try:
                self._store.save(COUNTER, self._reserved)
            except Exception:
                logger().exception("journal counter could not be stored")
        return seq

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
        if not entries:
            return None
        entry = entries[0]
        if now < entry.due:
            return None
        request = entry.request
        if request is None:
            payload = self._owner.prepare(entry)
            request = entry.request = Request(
                entry.action,
                payload,
                lambda response, at: self._delivered(entry, response, at),
                lambda failure, at: self._failed(entry, failure, at),
            )
        return request

    def give_back(self, request: Request, now: float) -> None:
        """Lost with the connection: first again after reconnecting, no attempt used."""

    def wakeup(self, now: float) -> float | None:
        entries = self._entries
        return max(now, entries[0].due) if entries else None

    def _delivered(self, entry: Entry, response: dict, now: float) -> None:
        entry.request = None
        self._owner.delivered(entry, response, now)
        self._finish(entry)

    def _failed(self, entry: Entry, failure: CallFailure, now: float) -> None:
        entry.request = None
        interval = self._interval()
        if failure.kind not in (ERROR, INVALID):
            logger().warning(
                "%s %s unanswered (%s); retrying", entry.action, entry.seq, failure.kind
            )
            entry.due = now + interval
            return
        entry.attempts += 1
        if entry.attempts >= max(1, self._attempts()):
            reason = f"CALLERROR {failure.code}" if failure.kind == ERROR else "invalid response"
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
            "%s %s discarded after %d attempts (%s)",
            entry.action,
            entry.seq,
            entry.attempts,
            entry.verdict,
        )
        self._owner.discarded(entry, entry.verdict, now)
        self._finish(entry)

    def _finish(self, entry: Entry) -> None:
        self._delete(entry.name)
        if self._entries and self._entries[0] is entry:
            self._entries.popleft()
        else:
            self._entries.remove(entry)
        self._owner.length_changed(len(self._entries))


def _entry_from(seq: int, document: object) -> Entry | None:
    """An Entry from its stored document, or None if the document is not one."""
    if not isinstance(document, dict):
        return None
    action, payload = document.get("action"), document.get("payload")
    tx, data = document.get("tx"), document.get("data")
    attempts, verdict = document.get("attempts", 0), document.get("discarded")
    if not (
        isinstance(action, str)
        and isinstance(payload, dict)
        and type(tx) is int
        and (data is None or isinstance(data, dict))
        and type(attempts) is int
        and attempts >= 0
        and (verdict is None or isinstance(verdict, str))
    ):
        return None
    entry = Entry(seq, action, payload, tx, data)
    entry.attempts, entry.verdict = attempts, verdict
    return entry
