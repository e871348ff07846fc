"""What every version's transaction journal owner shares: the journal, the transaction records'
names, the discard log, and the reports of what a restart could not read.

A version's owner (``ocpp_core/<version>/tx_journal.py``) subclasses ``TransactionJournalBase``:
it gets one engine's Journal (ocpp_core.journal) with itself as owner, the discard log
(``txdiscarded``, ocpp_core.tx_discards) and ``load_journal``, which reads the journal above the
highest record number so that local ids are never reused; what it means by a record and a
message stays the version's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.clock import format_datetime
from ocpp_core.events import MessageDiscarded, QueueLengthChanged
from ocpp_core.journal import Journal, JournalOwner, sequence_of
from ocpp_core.log import logger
from ocpp_core.tx_discards import DiscardLog

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.journal import Entry

__all__ = ["RECORDS", "TransactionJournalBase", "record_name"]

RECORDS = "tx/"


def record_name(local_id: int) -> str:
    """The Store document of a transaction's record."""
    return f"{RECORDS}{local_id:010d}"


class TransactionJournalBase(JournalOwner):
    """One engine's transaction journal, its discard log and what a restart could not read."""

    __slots__ = ("_ctx", "_discard_log", "_unreadable", "journal")

    def __init__(self, ctx: BlockContext) -> None:
        self._ctx = ctx
        self.journal = Journal(ctx.store, self)
        self._discard_log = DiscardLog(ctx.store)
        self._unreadable: list[str] = []  # reported once the engine runs (there is a `now`)

    def load_journal(self) -> list[tuple[str, int]]:
        """Load the journal (its numbers above every stored record's); returns the records'
        documents and local ids, to be read by the version."""
        records = [
            (name, local_id)
            for name in self._ctx.store.names(RECORDS)
            if (local_id := sequence_of(name, RECORDS)) is not None
        ]
        self._unreadable.extend(self.journal.load(max((i for _, i in records), default=0)))
        return records

    def report_unreadable(self, now: float) -> None:
        """Record and report what could not be read at load, then delete it."""
        for name in self._unreadable:
            logger().error("transaction document %s is unreadable; discarded", name)
            event = MessageDiscarded("unknown", None, 0, f"unreadable document {name}")
            self.record_discards([(event, None)], now)
            try:
                self._ctx.store.delete(name)
            except Exception:
                logger().exception("unreadable document %s could not be deleted", name)
        self._unreadable = []

    def record_discards(
        self, events: list[tuple[MessageDiscarded, int | None]], now: float
    ) -> None:
        """Keep discards (each with its message's ``seq``) in the Store, in one write, and report
        those not on record already (a power cut may repeat one)."""
        ctx = self._ctx
        new = self._discard_log.add(events, format_datetime(ctx.clock.wall(now)))
        if ctx.watched:
            for event in new:
                ctx.emit(event)

    def discards(self) -> list[MessageDiscarded]:
        """The recorded discards, oldest first."""
        return self._discard_log.read()

    # ------------------------------------------------------------------ JournalOwner

    def dropped(self, entries: list[Entry], reason: str, now: float) -> None:
        events: list[tuple[MessageDiscarded, int | None]] = [
            (MessageDiscarded(e.action, e.tx, e.attempts, reason), e.seq) for e in entries
        ]
        self.record_discards(events, now)

    def length_changed(self, length: int) -> None:
        ctx = self._ctx
        if ctx.watched:
            ctx.emit(QueueLengthChanged(length))
