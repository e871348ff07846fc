"""The Authorization Cache (OCPP 1.6 §3.5.1, errata 3.4): idTagInfo the CSMS gave, kept locally.

Every idTagInfo received in Authorize.conf, StartTransaction.conf or StopTransaction.conf updates
the cache (valid and not-valid ones alike), unless the idTag is in the Local Authorization List
(§3.5.3; the caller checks that). When full, not-valid entries go first, then the oldest valid
ones (§3.5.1). The entries persist in the Store document ``authcache``, oldest first, so the
order survives restarts; a document is written only when an entry actually changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.log import logger

if TYPE_CHECKING:
    from ocpp_core.rpc import JsonObject
    from ocpp_core.store import Store

__all__ = ["CAPACITY", "DOCUMENT", "VALID", "AuthorizationCache"]

DOCUMENT = "authcache"
CAPACITY = 100  # entries; a real station's flash is the limit, 100 covers any test fleet
VALID = frozenset({"Accepted", "ConcurrentTx"})  # §3.5.2: the statuses of a valid identifier


class AuthorizationCache:
    """idTag (any case) -> idTagInfo, in order of last update."""

    __slots__ = ("_entries", "_store")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._entries: dict[str, tuple[str, JsonObject]] = {}  # lower-case idTag -> (idTag, info)
        stored = store.load(DOCUMENT)
        if stored is None:
            return
        try:
            for item in stored:
                id_tag, info = item["idTag"], item["idTagInfo"]
                if not isinstance(info.get("status"), str):
                    raise TypeError("no status")
                self._entries[id_tag.lower()] = (id_tag, dict(info))
        except (KeyError, TypeError, AttributeError):
            logger().error("stored authorization cache is unreadable; starting empty")
            self._entries = {}

    def get(self, id_tag: str) -> JsonObject | None:
        """The cached idTagInfo of ``id_tag``, or None."""
        found = self._entries.get(id_tag.lower())
        return None if found is None else found[1]

    def put(self, id_tag: str, info: JsonObject) -> None:
        """Record the latest idTagInfo of ``id_tag`` (persisted if it changed)."""
        key = id_tag.lower()
        entries = self._entries
        previous = entries.pop(key, None)
        if previous is None and len(entries) >= CAPACITY:
            victim = next((k for k, (_, i) in entries.items() if i["status"] not in VALID), None)
            del entries[next(iter(entries)) if victim is None else victim]
        entries[key] = (id_tag, info)
        if previous != (id_tag, info):
            self._save()

    def clear(self) -> None:
        """Forget every entry (ClearCache)."""
        self._entries = {}
        self._store.delete(DOCUMENT)

    def _save(self) -> None:
        items = [{"idTag": id_tag, "idTagInfo": info} for id_tag, info in self._entries.values()]
        try:
            self._store.save(DOCUMENT, items)
        except Exception:
            logger().exception("authorization cache could not be stored")
