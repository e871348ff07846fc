"""Authorization Cache (OCPP 2.0.1 C10 store, C11 ClearCache, C12 use; AuthCacheCtrlr).

Every idTokenInfo the CSMS sends in an AuthorizeResponse or a TransactionEventResponse is
stored (C10.FR.01/04/05), unless the idToken is in the Local Authorization List (the
authorization block checks that) or of type NoAuthorization; the cache persists across
restarts in the Store document ``authcache`` (C10.FR.02). An entry not used (presented or
updated) for AuthCacheCtrlr.LifeTime seconds is dropped (C10.FR.08). When full — CAPACITY
idTokens or Storage's maxLimit bytes — entries that are not Accepted go first, then by
AuthCacheCtrlr.Policy: the least recently (LRU) or least frequently (LFU) used (C10.FR.09;
``ocpp_core.authorization_cache``).

ClearCache (C11): Accepted and the cache emptied; Rejected with reasonCode NotEnabled while
AuthCacheCtrlr.Enabled is false (C11.FR.04, TC_C_38), Rejected (OutOfStorage) when the Store
refuses the change. A disabled cache is neither read nor written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.authorization_cache import CAPACITY, AuthorizationCache
from ocpp_core.block import Block, on
from ocpp_core.log import logger
from ocpp_core.v201.id_tokens import token_key
from ocpp_core.v201.variables import VariableDeclarer

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.store import Store
    from ocpp_core.v201.payloads import ClearCacheRequest, ClearCacheResponse

__all__ = ["CAPACITY", "DOCUMENT", "MAX_STORAGE", "AuthCacheBlock"]

DOCUMENT = "authcache"
MAX_STORAGE = 32_768  # Storage's maxLimit: bytes the stored cache takes at most
VALID = frozenset({"Accepted"})  # what a cached idToken needs to be used without asking


def _open(store: Store, *, report: bool = True) -> AuthorizationCache:
    """The cache in ``store`` (``report`` False: a look for the read-only variables, no log)."""
    return AuthorizationCache(
        store,
        DOCUMENT,
        id_field="idToken",
        info_field="idTokenInfo",
        key=token_key,
        valid=VALID,
        track_use=True,
        report=report,
    )


_vars = VariableDeclarer(__name__, "AuthCacheCtrlr")
_vars.boolean("Available", True, mutability="ReadOnly")
_vars.boolean("Enabled", True)
_vars.integer("LifeTime", 86_400, unit="s")
_vars.option("Policy", "LRU", ("LRU", "LFU"))
_vars.integer(
    "Storage",
    0,
    maximum=MAX_STORAGE,
    unit="B",
    live=lambda state, _, now: _open(state.ctx.store, report=False).size(),
)
_vars.boolean("DisablePostAuthorize", False)


class AuthCacheBlock(Block):
    """The Authorization Cache: lookups and updates for the authorization block, ClearCache."""

    __slots__ = ("_cache",)

    keys = tuple(_vars.keys)

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        self._cache = _open(ctx.store)

    @property
    def enabled(self) -> bool:
        return self.ctx.config.boolean("AuthCacheCtrlr.Enabled")

    @property
    def post_authorize(self) -> bool:
        """C10.FR.03/C12.FR.05: ask the CSMS about a cached idToken that is not Accepted."""
        return not self.ctx.config.boolean("AuthCacheCtrlr.DisablePostAuthorize")

    def use(self, id_token: JsonObject, now: float) -> JsonObject | None:
        """The cached idTokenInfo of a presented ``id_token`` (a use), or None."""
        if not self.enabled:
            return None
        wall = self.ctx.clock.wall(now)
        self._cache.forget_unused(self.ctx.config.integer("AuthCacheCtrlr.LifeTime"), wall)
        return self._cache.use(id_token, wall)

    def put(self, id_token: JsonObject, info: JsonObject, now: float) -> None:
        """Store the idTokenInfo the CSMS gave for ``id_token`` (C10.FR.01)."""
        if not self.enabled or id_token.get("type") == "NoAuthorization":
            return
        config = self.ctx.config
        self._cache.put(
            id_token,
            dict(info),
            wall=self.ctx.clock.wall(now),
            byte_limit=MAX_STORAGE,
            frequency=config.string("AuthCacheCtrlr.Policy") == "LFU",
        )

    def entry(self, id_token: JsonObject) -> JsonObject | None:
        """The idTokenInfo cached for ``id_token``, also when the cache is disabled (N09)."""
        return self._cache.get(id_token)

    def forget(self, id_token: JsonObject) -> bool:
        """Remove ``id_token``'s entry, persisted (N10); False when there is none."""
        if self._cache.get(id_token) is None:
            return False
        self._cache.remove(id_token)
        return True

    @on("ClearCache")
    def clear_cache(self, payload: ClearCacheRequest, now: float) -> ClearCacheResponse:
        if not self.enabled:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "NotEnabled"}}
        try:
            self._cache.clear(refusable=True)
        except Exception:
            logger().exception("authorization cache could not be cleared")
            return {"status": "Rejected", "statusInfo": {"reasonCode": "OutOfStorage"}}
        return {"status": "Accepted"}
