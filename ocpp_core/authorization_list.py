"""The Local Authorization List of any protocol version (1.6 §3.5.2/§5.15, 2.0.1 D01/D02).

Only the CSMS changes it (SendLocalList): a Full update replaces the list (entries without
info are ignored), a Differential one needs a version above the current one (else
VersionMismatch) and updates the entries that carry info and deletes those that do not. A
result with more than ``max_entries`` entries, or larger than ``byte_limit`` bytes, or that the
Store cannot save, is Failed and changes nothing. The version names its stored document's
fields and how identifiers match (``key``). The document is the list as the CSMS sent it; an
unreadable one means an empty list (version 0) and an error in the log, never a failed start.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from ocpp_core.log import logger
from ocpp_core.store import write

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from ocpp_core.rpc import JsonObject
    from ocpp_core.store import Store

__all__ = [
    "ACCEPTED",
    "FAILED",
    "ITEMS",
    "VERSION_MISMATCH",
    "AuthorizationList",
    "ListStatus",
    "document_size",
]

ListStatus = Literal["Accepted", "Failed", "VersionMismatch"]  # SendLocalList's, both versions
ACCEPTED: ListStatus = "Accepted"
FAILED: ListStatus = "Failed"
VERSION_MISMATCH: ListStatus = "VersionMismatch"
ITEMS = "localAuthorizationList"  # the field of the entries, in requests and the document


class AuthorizationList:
    """Identifier -> info, with the list's version; persisted in ``document``."""

    __slots__ = (
        "_empty_is_version_zero",
        "_entries",
        "_id_field",
        "_info_field",
        "_key",
        "_store",
        "_version_field",
        "document",
        "version",
    )

    def __init__(
        self,
        store: Store,
        document: str,
        *,
        version_field: str,
        id_field: str,
        info_field: str,
        key: Callable[[Any], str],
        empty_is_version_zero: bool,
        report: bool = True,
    ) -> None:
        self._store = store
        self.document = document
        self._version_field, self._id_field, self._info_field = version_field, id_field, info_field
        self._key = key  # identifier -> the text it is matched by
        self._empty_is_version_zero = empty_is_version_zero  # 1.6 §5.10: empty list = version 0
        self._entries: dict[str, tuple[Any, JsonObject]] = {}
        self.version = 0
        self._load(report)

    def _load(self, report: bool) -> None:
        stored = self._store.load(self.document)
        if stored is None:
            return
        try:
            version, items = stored[self._version_field], stored[ITEMS]
            if not all(isinstance(item[self._info_field], dict) for item in items):
                raise TypeError("an entry without info")
            entries = self._entries_of(items, {})
            if type(version) is not int or not all(
                isinstance(info.get("status"), str) for _, info in entries.values()
            ):
                raise TypeError("bad types")
        except (KeyError, TypeError, AttributeError, ValueError):
            if report:  # ``report`` False: a read-only look at the document
                logger().error("stored local authorization list is unreadable; starting empty")
            return
        self._entries, self.version = entries, self._version_of(version, entries)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, identifier: Any) -> JsonObject | None:
        """The info the list holds for ``identifier`` (None: not listed)."""
        if not self._entries:
            return None
        found = self._entries.get(self._key(identifier))
        return None if found is None else found[1]

    def update(
        self,
        full: bool,
        version: int,
        items: Iterable[Mapping[str, Any]],
        *,
        max_entries: int,
        byte_limit: int | None = None,
    ) -> ListStatus:
        """Apply a SendLocalList: Accepted, VersionMismatch or Failed (nothing changed)."""
        if full:
            entries: dict[str, tuple[Any, JsonObject]] = {}
        elif version <= self.version:
            return VERSION_MISMATCH
        else:
            entries = dict(self._entries)
        entries = self._entries_of(items, entries, delete=not full)
        if len(entries) > max_entries:
            return FAILED
        version = self._version_of(version, entries)
        document = self._document(version, entries)
        if byte_limit is not None and document is not None and document_size(document) > byte_limit:
            return FAILED
        try:
            # A list that cannot be stored now is Failed, not kept for later.
            write(self._store, self.document, document, refusable=True)
        except Exception:
            logger().exception("local authorization list could not be stored")
            return FAILED
        self._entries, self.version = entries, version
        return ACCEPTED

    def size(self) -> int:
        """Bytes the stored document takes (its JSON text)."""
        document = self._document(self.version, self._entries)
        return 0 if document is None else document_size(document)

    def _entries_of(
        self,
        items: Iterable[Mapping[str, Any]],
        entries: dict[str, tuple[Any, JsonObject]],
        *,
        delete: bool = False,
    ) -> dict[str, tuple[Any, JsonObject]]:
        for item in items:
            identifier, info = item[self._id_field], item.get(self._info_field)
            if info is not None:
                entries[self._key(identifier)] = (identifier, dict(info))
            elif delete:
                entries.pop(self._key(identifier), None)
        return entries

    def _version_of(self, version: int, entries: dict[str, tuple[Any, JsonObject]]) -> int:
        return 0 if self._empty_is_version_zero and not entries else version

    def _document(
        self, version: int, entries: dict[str, tuple[Any, JsonObject]]
    ) -> JsonObject | None:
        if not entries and version == 0:
            return None
        items = [{self._id_field: i, self._info_field: info} for i, info in entries.values()]
        return {self._version_field: version, ITEMS: items}


def document_size(value: object) -> int:
    """Bytes a JSON value takes as compact UTF-8 text (lone surrogates count as three)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode("utf-8", "surrogatepass"))
