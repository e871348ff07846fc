"""The log of discarded transaction messages: the Store document ``txdiscarded`` (any version).

It keeps the last DISCARD_LOG discards (MessageDiscarded fields, the message's sequence number
``seq`` and the time), so a user can see afterwards what the CSMS never got. A discard whose
``seq`` is on record already is not added again: the journal may repeat one after a power cut
that fell between this write and the deletion of its message (ocpp_core.journal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.events import MessageDiscarded
from ocpp_core.log import logger

if TYPE_CHECKING:
    from ocpp_core.store import Store

__all__ = ["DISCARDS", "DISCARD_LOG", "DiscardLog"]

DISCARDS = "txdiscarded"
DISCARD_LOG = 50


class DiscardLog:
    """The discard log in one engine's Store."""

    __slots__ = ("_store",)

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(
        self, events: list[tuple[MessageDiscarded, int | None]], timestamp: str
    ) -> list[MessageDiscarded]:
        """Keep the discards (each with the ``seq`` of its message, if any) in one write;
        returns those that were not on record yet, to be reported."""
        store = self._store
        log = store.load(DISCARDS)
        log = log if isinstance(log, list) else []
        known = {i.get("seq") for i in log if isinstance(i, dict)}
        new = []
        for event, seq in events:
            if seq is not None and seq in known:
                continue
            entry = {**event._asdict(), "timestamp": timestamp}
            if seq is not None:
                entry["seq"] = seq
            new.append((event, entry))
        if not new:
            return []
        log = [*log, *(entry for _, entry in new)][-DISCARD_LOG:]
        try:
            store.save(DISCARDS, log)
        except Exception:
            logger().exception("discard log could not be stored")
        return [event for event, _ in new]

    def read(self) -> list[MessageDiscarded]:
        """The recorded discards, oldest first (unreadable items skipped)."""
        log = self._store.load(DISCARDS)
        found = []
        for item in log if isinstance(log, list) else ():
            try:
                found.append(
                    MessageDiscarded(
                        item["action"], item["local_id"], item["attempts"], item["reason"]
                    )
                )
            except (KeyError, TypeError):
                continue
        return found
