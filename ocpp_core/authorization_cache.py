"""The Authorization Cache of any protocol version: identifier -> the info the CSMS last gave.

1.6 (§3.5.1) keys it by idTag, 2.0.1 (C10) by idToken and type; the version says how
(``key``) and names the fields of its stored document. Entries are kept in order of last use
(a presentation) or update, so the least recently used comes first. When full — more than
``capacity`` entries, or a document larger than ``byte_limit`` — entries whose status is not
valid go first (1.6 §3.5.1, 2.0.1 C10.FR.09), then the least recently used (LRU) or the least
frequently used (LFU, the count of uses kept with ``track_use``). With ``track_use`` each entry
also records when it was last used (wall epoch seconds), for 2.0.1's AuthCacheCtrlr.LifeTime.

The entries persist in one Store document, a list oldest first, so order survives restarts;
it is written only when an entry changes. An unreadable document means an empty cache and an
error in the log, never a failed start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_core.authorization_list import document_size
from ocpp_core.log import logger
from ocpp_core.store import write

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.rpc import JsonObject
    from ocpp_core.store import Store

__all__ = ["CAPACITY", "AuthorizationCache"]

CAPACITY = 100  # entries; a real station's flash is the limit, 100 covers any test fleet

_USED, _USES = "lastUsed", "uses"


class _Entry:
    __slots__ = ("identifier", "info", "used", "uses")

    def __init__(self, identifier: Any, info: JsonObject, used: float | None, uses: int) -> None:
        self.identifier = identifier
        self.info = info
        self.used = used
        self.uses = uses

    def same(self, identifier: Any, info: JsonObject) -> bool:
        return bool(self.identifier == identifier and self.info == info)


class AuthorizationCache:
    """Identifiers and their info, least recently used first, persisted in ``document``."""

    __slots__ = (
        "_entries",
        "_id_field",
        "_info_field",
        "_key",
        "_store",
        "_track_use",
        "_valid",
        "document",
    )

    def __init__(
        self,
        store: Store,
        document: str,
        *,
        id_field: str,
        info_field: str,
        key: Callable[[Any], str],
        valid: frozenset[str],
        track_use: bool = False,
        report: bool = True,
    ) -> None:
        self._store = store
        self.document = document
        self._id_field, self._info_field = id_field, info_field
        self._key = key  # identifier -> the text it is matched by
        self._valid = valid  # the statuses of a valid identifier
        self._track_use = track_use
        self._entries: dict[str, _Entry] = {}
        self._load(report)

    def _load(self, report: bool) -> None:
        stored = self._store.load(self.document)
        if stored is None:
            return
        try:
            for item in stored:
                identifier, info = item[self._id_field], dict(item[self._info_field])
                used, uses = item.get(_USED), item.get(_USES, 0)
                if not isinstance(info.get("status"), str) or type(uses) is not int:
                    raise TypeError("no status")
                if used is not None and not isinstance(used, (int, float)):
                    raise TypeError("bad lastUsed")
                self._entries[self._key(identifier)] = _Entry(identifier, info, used, uses)
        except (KeyError, TypeError, AttributeError, ValueError):
            if report:  # ``report`` False: a read-only look at the document
                logger().error("stored authorization cache is unreadable; starting empty")
            self._entries = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, identifier: Any) -> JsonObject | None:
        """The cached info of ``identifier``, or None."""
        found = self._entries.get(self._key(identifier))
        return None if found is None else found.info

    def use(self, identifier: Any, wall: float) -> JsonObject | None:
        """The cached info of ``identifier`` as it is presented: counts as its most recent use."""
        key = self._key(identifier)
        found = self._entries.pop(key, None)
        if found is None:
            return None
        self._entries[key] = found
        if self._track_use:
            found.used, found.uses = wall, found.uses + 1
            self._save()
        return found.info

    def put(
        self,
        identifier: Any,
        info: JsonObject,
        *,
        wall: float | None = None,
        capacity: int = CAPACITY,
        byte_limit: int | None = None,
        frequency: bool = False,
    ) -> None:
        """Record the latest info of ``identifier`` (persisted if it changed), evicting if full.

        ``frequency``: evict the least frequently used rather than the least recently used.
        """
        key = self._key(identifier)
        entries = self._entries
        previous = entries.pop(key, None)
        if previous is None and len(entries) >= capacity:
            self._evict(frequency)
        used = wall if self._track_use else None
        uses = 0 if previous is None else previous.uses
        entries[key] = _Entry(identifier, info, used, uses)
        if byte_limit is not None:
            while len(entries) > 1 and self.size() > byte_limit:
                self._evict(frequency, keep=key)
        if previous is None or not previous.same(identifier, info) or self._track_use:
            self._save()

    def _evict(self, frequency: bool, keep: str | None = None) -> None:
        candidates = [(k, e) for k, e in self._entries.items() if k != keep]
        if not candidates:
            return
        invalid = [(k, e) for k, e in candidates if e.info.get("status") not in self._valid]
        pool = invalid or candidates
        victim = min(pool, key=lambda item: item[1].uses)[0] if frequency else pool[0][0]
        del self._entries[victim]

    def remove(self, identifier: Any) -> None:
        """Forget ``identifier`` (persisted)."""
        if self._entries.pop(self._key(identifier), None) is not None:
            self._save()

    def forget_unused(self, lifetime: float, wall: float) -> None:
        """Drop the entries last used (or stored) more than ``lifetime`` seconds before ``wall``."""
        stale = [
            k for k, e in self._entries.items() if e.used is not None and e.used + lifetime < wall
        ]
        for key in stale:
            del self._entries[key]
        if stale:
            self._save()

    def clear(self, *, refusable: bool = False) -> None:
        """Forget every entry (ClearCache); ``refusable``: now or raise, never kept for later."""
        write(self._store, self.document, None, refusable=refusable)
        self._entries = {}

    def size(self) -> int:
        """Bytes the stored document takes (its JSON text)."""
        return document_size(self._items()) if self._entries else 0

    def _items(self) -> list[JsonObject]:
        items: list[JsonObject] = []
        for entry in self._entries.values():
            item = {self._id_field: entry.identifier, self._info_field: entry.info}
            if self._track_use:
                item[_USED], item[_USES] = entry.used, entry.uses
            items.append(item)
        return items

    def _save(self) -> None:
        try:
            self._store.save(self.document, self._items())
        except Exception:
            logger().exception("authorization cache could not be stored")
