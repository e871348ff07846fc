"""Local Authorization List (OCPP 1.6 §3.5.2, §5.10 GetLocalListVersion, §5.15 SendLocalList, §9.2).

The list is changed only by SendLocalList (§3.5.2) and persists in the Store document
``localauth`` in the shape the CSMS sent it. idTags are CiString20 (§3.9), so they are matched
ignoring case.

SendLocalList: LocalAuthListEnabled false -> NotSupported (the response status made for it; the
list is kept and used again once re-enabled); listVersion below 1 -> PropertyConstraintViolation
(errata 3.52: 0 and -1 have a special meaning); more entries than SendLocalListMaxLength ->
OccurenceConstraintViolation. Full replaces the list, Differential updates it (the rules both
versions share: ``ocpp_core.authorization_list``); a result longer than LocalAuthListMaxLength
is Failed. An empty list has version 0 (§5.10).

GetLocalListVersion: the version, 0 when the list is empty, -1 while the list is disabled (as
MicroOcpp and the OCTT expect: a disabled list is not there for the CSMS).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.authorization_list import AuthorizationList
from ocpp_core.block import Block, CallRefused, on
from ocpp_core.config import KeyDeclarer, R

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

    __slots__ = ("_list",)

    keys = tuple(_keys.keys)

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        self._list = AuthorizationList(
            ctx.store,
            DOCUMENT,
            version_field="listVersion",
            id_field="idTag",
            info_field="idTagInfo",
            key=str.lower,
            empty_is_version_zero=True,
        )

    @property
    def enabled(self) -> bool:
        return self.ctx.config.boolean("LocalAuthListEnabled")

    def lookup(self, id_tag: str) -> JsonObject | None:
        """The idTagInfo the list holds for ``id_tag`` (None: not listed, or list disabled)."""
        return self._list.lookup(id_tag) if self.enabled else None

    @on("GetLocalListVersion")
    def get_local_list_version(
        self, payload: GetLocalListVersionRequest, now: float
    ) -> GetLocalListVersionResponse:
        return {"listVersion": self._list.version if self.enabled else -1}

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
        status = self._list.update(
            payload["updateType"] == "Full",
            version,
            items,
            max_entries=config.integer("LocalAuthListMaxLength"),
        )
        return {"status": status}
