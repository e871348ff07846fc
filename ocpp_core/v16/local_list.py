"""Local Authorization List (OCPP 1.6 §3.5.2, §5.10 GetLocalListVersion, §5.15 SendLocalList, §9.2).

The list is changed only by SendLocalList (§3.5.2) and persists in the Store document
``localauth`` in the shape the CSMS sent it. idTags are CiString20 (§3.9), so they are matched
ignoring case.

SendLocalList: LocalAuthListEnabled false -> NotSupported (the response status made for it; the
list is kept and used again once re-enabled); listVersion below 1 -> PropertyConstraintViolation
(errata 3.52: 0 and -1 have a special meaning); more entries than SendLocalListMaxLength ->
OccurenceConstraintViolation. Full replaces the list (entries without idTagInfo are ignored);
Differential needs a listVersion above the current one (else VersionMismatch) and updates the
entries with idTagInfo and deletes those without. A result longer than LocalAuthListMaxLength,
or one the Store cannot save, is Failed and changes nothing. An empty list has version 0 (§5.10).

GetLocalListVersion: the version, 0 when the list is empty, -1 while the list is disabled (as
MicroOcpp and the OCTT expect: a disabled list is not there for the CSMS).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, CallRefused, on
from ocpp_core.config import KeyDeclarer, R
from ocpp_core.log import logger
from ocpp_core.store import write

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.v16.payloads import (
        GetLocalListVersionRequest,
        GetLocalListVersionResponse,
        SendLocalListRequest,
        SendLocalListResponse,
    )

__all__ = ["DOCUMENT", "LocalListBlock"]

DOCUMENT = "localauth"

_keys = KeyDeclarer(__name__)
_keys.boolean("LocalAuthListEnabled", True)
_keys.integer("LocalAuthListMaxLength", 1000, access=R)
_keys.integer("SendLocalListMaxLength", 250, access=R)


class LocalListBlock(Block):
    """The Local Authorization List: lookups for authorization, updates from the CSMS."""

    __slots__ = ("_entries", "_version")

    keys = tuple(_keys.keys)

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        # idTag in lower case -> (idTag as sent, idTagInfo)
        self._entries: dict[str, tuple[str, JsonObject]] = {}
        self._version = 0
        self._load()

    def _load(self) -> None:
        stored = self.ctx.store.load(DOCUMENT)
        if stored is None:
            return
        try:
            version = stored["listVersion"]
            items = stored["localAuthorizationList"]
            entries = {
                item["idTag"].lower(): (item["idTag"], dict(item["idTagInfo"])) for item in items
            }
            if type(version) is not int or not all(
                isinstance(info.get("status"), str) for _, info in entries.values()
            ):
                raise TypeError("bad types")
        except (KeyError, TypeError, AttributeError, ValueError):
            logger().error("stored local authorization list is unreadable; starting empty")
            return
        self._entries, self._version = entries, version if entries else 0

    @property
    def enabled(self) -> bool:
        return self.ctx.config.boolean("LocalAuthListEnabled")

    def lookup(self, id_tag: str) -> JsonObject | None:
        """The idTagInfo the list holds for ``id_tag`` (None: not listed, or list disabled)."""
        if not self._entries or not self.enabled:
            return None
        found = self._entries.get(id_tag.lower())
        return None if found is None else found[1]

    @on("GetLocalListVersion")
    def get_local_list_version(
        self, payload: GetLocalListVersionRequest, now: float
    ) -> GetLocalListVersionResponse:
        return {"listVersion": self._version if self.enabled else -1}

    @on("SendLocalList")
    def send_local_list(self, payload: SendLocalListRequest, now: float) -> SendLocalListResponse:
        config = self.ctx.config
        if not self.enabled:
            return {"status": "NotSupported"}
        version = payload["listVersion"]
        if version < 1:
            raise CallRefused(
                "listVersion must be 1 or more (0 and -1 have a special meaning)", kind="property"
            )
        items = payload.get("localAuthorizationList") or []
        limit = config.integer("SendLocalListMaxLength")
        if len(items) > limit:
            raise CallRefused(
                f"More than SendLocalListMaxLength ({limit}) entries",
                kind="occurrence",
                details={"SendLocalListMaxLength": limit},
            )
        if payload["updateType"] == "Full":
            entries: dict[str, tuple[str, JsonObject]] = {}
        elif version <= self._version:
            return {"status": "VersionMismatch"}
        else:
            entries = dict(self._entries)
        for item in items:
            id_tag, info = item["idTag"], item.get("idTagInfo")
            if info is None:
                entries.pop(id_tag.lower(), None)
            else:
                entries[id_tag.lower()] = (id_tag, dict(info))
        if len(entries) > config.integer("LocalAuthListMaxLength"):
            return {"status": "Failed"}
        version = version if entries else 0
        try:
            self._save(version, entries)
        except Exception:
            logger().exception("local authorization list could not be stored")
            return {"status": "Failed"}
        self._entries, self._version = entries, version
        return {"status": "Accepted"}

    def _save(self, version: int, entries: dict[str, tuple[str, JsonObject]]) -> None:
        items = [{"idTag": id_tag, "idTagInfo": info} for id_tag, info in entries.values()]
        document = {"listVersion": version, "localAuthorizationList": items} if items else None
        # A list that cannot be stored now is Failed, not kept for later.
        write(self.ctx.store, DOCUMENT, document, refusable=True)
