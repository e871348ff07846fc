"""Local Authorization List (OCPP 2.0.1 D01 SendLocalList, D02 GetLocalListVersion; C13, C14).

Only the CSMS changes the list, and it persists in the Store document ``localauth`` as the CSMS
sent it (the rules both versions share: ``ocpp_core.authorization_list``). Entries are matched
by idToken (any case) and type (``id_tokens``).

SendLocalList: Full replaces the list, Differential (D01) needs a versionNumber above the
current one (else VersionMismatch) and updates the entries with idTokenInfo and removes those
without. Failed, with a statusInfo reasonCode and nothing changed, when: LocalAuthListCtrlr.Enabled
is false (NotEnabled); versionNumber is not above 0 (D01.FR.18: 0 means "no list installed";
ValuePositiveOnly); more entries than ItemsPerMessage (TooManyElements) or a payload above
BytesPerMessage (TooLargeElement), as DeviceDataCtrlr's limits are enforced; the result would
hold more than Entries' maxLimit idTokens or more than Storage's maxLimit bytes, or the Store
cannot save it (OutOfStorage). A Full update with no entries empties the list; it keeps the
version it was sent with (only "no list ever installed" is 0).

GetLocalListVersion: the version, 0 when no list was installed (D02) — also while the list is
disabled, when the station uses no list.

LocalAuthListCtrlr (part 2 §3.1.10): Enabled, Available, Entries (maxLimit: the most idTokens
kept), ItemsPerMessage, BytesPerMessage, Storage (bytes used; maxLimit the most), and
DisablePostAuthorize (C14.FR.03: a listed idToken that is not Accepted is not asked about again).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.authorization_list import FAILED, AuthorizationList, document_size
from ocpp_core.block import Block, on
from ocpp_core.v201.id_tokens import token_key
from ocpp_core.v201.variables import VariableDeclarer

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.store import Store
    from ocpp_core.v201.payloads import (
        GetLocalListVersionRequest,
        GetLocalListVersionResponse,
        SendLocalListRequest,
        SendLocalListResponse,
    )

__all__ = ["DOCUMENT", "MAX_ENTRIES", "MAX_STORAGE", "LocalListBlock"]

DOCUMENT = "localauth"
MAX_ENTRIES = 1000  # Entries' maxLimit: idTokens the list holds at most
MAX_STORAGE = 262_144  # Storage's maxLimit: bytes the stored list takes at most


def _open(store: Store, *, report: bool = True) -> AuthorizationList:
    """The list in ``store`` (``report`` False: a look for the read-only variables, no log)."""
    return AuthorizationList(
        store,
        DOCUMENT,
        version_field="versionNumber",
        id_field="idToken",
        info_field="idTokenInfo",
        key=token_key,
        empty_is_version_zero=False,
        report=report,
    )


_vars = VariableDeclarer(__name__, "LocalAuthListCtrlr")
_vars.boolean("Enabled", True)
_vars.boolean("Available", True, mutability="ReadOnly")
_vars.integer(
    "Entries",
    0,
    maximum=MAX_ENTRIES,
    live=lambda state, _, now: len(_open(state.ctx.store, report=False)),
)
_vars.integer("ItemsPerMessage", 250, mutability="ReadOnly")
_vars.integer("BytesPerMessage", 65_536, mutability="ReadOnly", unit="B")
_vars.integer(
    "Storage",
    0,
    maximum=MAX_STORAGE,
    unit="B",
    live=lambda state, _, now: _open(state.ctx.store, report=False).size(),
)
_vars.boolean("DisablePostAuthorize", False)


class LocalListBlock(Block):
    """The Local Authorization List: lookups for authorization, updates from the CSMS."""

    __slots__ = ("_list",)

    keys = tuple(_vars.keys)

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        self._list = _open(ctx.store)

    @property
    def enabled(self) -> bool:
        return self.ctx.config.boolean("LocalAuthListCtrlr.Enabled")

    @property
    def post_authorize(self) -> bool:
        """C14.FR.03: ask the CSMS about a listed idToken that is not Accepted."""
        return not self.ctx.config.boolean("LocalAuthListCtrlr.DisablePostAuthorize")

    def lookup(self, id_token: JsonObject) -> JsonObject | None:
        """The idTokenInfo the list holds for ``id_token`` (None: not listed, or list disabled)."""
        return self._list.lookup(id_token) if self.enabled else None

    def entry(self, id_token: JsonObject) -> JsonObject | None:
        """The idTokenInfo listed for ``id_token``, also when the list is disabled (N09)."""
        return self._list.lookup(id_token)

    @on("GetLocalListVersion")
    def get_local_list_version(
        self, payload: GetLocalListVersionRequest, now: float
    ) -> GetLocalListVersionResponse:
        return {"versionNumber": self._list.version}

    @on("SendLocalList")
    def send_local_list(self, payload: SendLocalListRequest, now: float) -> SendLocalListResponse:
        config = self.ctx.config
        reason = None
        items = payload.get("localAuthorizationList") or []
        if not self.enabled:
            reason = "NotEnabled"
        elif payload["versionNumber"] < 1:
            reason = "ValuePositiveOnly"
        elif len(items) > config.integer("LocalAuthListCtrlr.ItemsPerMessage"):
            reason = "TooManyElements"
        elif document_size(payload) > config.integer("LocalAuthListCtrlr.BytesPerMessage"):
            reason = "TooLargeElement"
        if reason is not None:
            return {"status": FAILED, "statusInfo": {"reasonCode": reason}}
        status = self._list.update(
            payload["updateType"] == "Full",
            payload["versionNumber"],
            items,
            max_entries=MAX_ENTRIES,
            byte_limit=MAX_STORAGE,
        )
        if status == FAILED:
            return {"status": FAILED, "statusInfo": {"reasonCode": "OutOfStorage"}}
        return {"status": status}
