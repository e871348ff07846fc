"""The transaction-message journal: persistent, strictly ordered, retried, never silently lost.

OCPP 1.6 §3.7 asks for transaction-related messages to reach the CSMS in chronological order,
queued while offline, and skipped only after the CSMS repeatedly failed to process one (§3.7.1).
The journal is the request source for them (its owning block hands the outbox ``take``/``wakeup``
through):

* ``append`` writes the message to the Store *before* it can be sent (one document per message,
  ``txmsg/<seq>``, the sequence number zero-padded so that names sort in order), so a restart at
  any point re-sends it; nothing is sent that is not journaled;
* only the oldest message is ever offered to the outbox: a newer one waits until the older is
  delivered or discarded, which keeps the chronological order across connectors and restarts;
* while the connection is down the outbox asks nobody, so waiting offline uses no attempts; a
  request lost with the connection is re-sent first after reconnecting, with the same message id;
* a CALLERROR or an unusable response is a failure to process (OCPP-J errata 3.2): the attempt is
  counted (and persisted, so attempts survive restarts), the message waits ``interval`` seconds
  times the attempts made, and after the last attempt it is discarded — through the owner's
  ``discarded`` callback, which records and reports it;
* a timeout proves nothing (the CSMS may have processed the message and lost the answer), so it
  uses no attempt: the message is re-sent after ``interval`` seconds, and may then arrive twice —
  the only case where the CSMS sees a duplicate;
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

__all__ = ["PREFIX", "Entry", "Journal", "JournalOwner", "sequence_of"]

PREFIX = "txmsg/"
_DIGITS = 10


def sequence_of(name: str, prefix: str) -> int | None:
    """The number at the end of a document name such as ``txmsg/0000000042`` (None if none)."""
    tail = name[len(prefix) :]
    return int(tail) if tail.isascii() and tail.isdigit() else None


class Entry:
    """One journaled message. ``tx`` is the owner's transaction number (by default the entry's
    own sequence number); ``data`` is the owner's extras, stored with it."""

    __slots__ = ("action", "attempts", "data", "due", "name", "payload", "request", "seq", "tx")

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

    def document(self) -> dict:
        document: dict = {"action": self.action, "payload": self.payload, "tx": self.tx}
        if self.data:
            document["data"] = self.data
        if self.attempts:
            document["attempts"] = self.attempts
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
        """The entry is given up after its last attempt (record and report it)."""

    def length_changed(self, length: int) -> None:
        """The number of entries changed."""


class Journal(RequestSource):
    """The ordered, persistent request source of transaction-related messages."""

    __slots__ = ("_attempts", "_entries", "_interval", "_next_seq", "_owner", "_store")

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

    # ------------------------------------------------------------------ contents

    def load(self, floor: int) -> list[str]:
        """Read the stored entries in order; returns the names of unreadable ones (kept).

        Sequence numbers continue above ``floor`` and above every stored name.
        """
        highest = floor
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
        self._next_seq = highest + 1
        return unreadable

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries)

    def append(self, action: str, payload: dict, tx: int | None, data: dict | None) -> Entry:
        """Journal a message (persisted before this returns; ``tx`` None: its own number)."""
        seq = self._next_seq
        self._next_seq += 1
        entry = Entry(seq, action, payload, seq if tx is None else tx, data)
        self._save(entry)
        self._entries.append(entry)
        self._owner.length_changed(len(self._entries))
        return entry

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
            logger().error(
                "%s %s discarded after %d attempts (%s)",
                entry.action,
                entry.seq,
                entry.attempts,
                reason,
            )
            self._owner.discarded(entry, reason, now)
            self._finish(entry)
            return
        entry.due = now + interval * entry.attempts
        self._save(entry)

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
    attempts = document.get("attempts", 0)
    if not (
        isinstance(action, str)
        and isinstance(payload, dict)
        and type(tx) is int
        and (data is None or isinstance(data, dict))
        and type(attempts) is int
        and attempts >= 0
    ):
        return None
    entry = Entry(seq, action, payload, tx, data)
    entry.attempts = attempts
    return entry
