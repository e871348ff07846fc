"""Authorization of idTokens (OCPP 2.0.1 C01-C06, C09, C12-C16; AuthCtrlr).

``authorize`` decides whether an idToken may start or stop a transaction on an EVSE:

* AuthCtrlr.Enabled false, or an idToken of type NoAuthorization (C02): authorized at once,
  nothing asked (source "unauthorized");
* known locally — the Local Authorization List first (C14), then the Authorization Cache (C12);
  an entry whose cacheExpiryDateTime has passed counts as Expired (and the cache records it so);
* online (connected, the BootNotification Accepted): with AuthCtrlr.LocalPreAuthorize a local
  entry that is Accepted decides at once (C12.FR.02, C14.FR.01), and one that is not is asked
  about again (C10.FR.03, C12.FR.05, C14.FR.03) unless its DisablePostAuthorize says not to
  (TC_C_57); everything else is asked with an AuthorizeRequest (C01.FR.01) — except with
  AuthCtrlr.DisableRemoteAuthorization, where only the list and the cache decide;
* offline, or when the CSMS gives no usable answer in time (MessageTimeout from the
  presentation, waiting in the outbox included; a CALLERROR, an invalid response, a lost
  connection): an Accepted local entry authorizes if AuthCtrlr.LocalAuthorizeOffline (C13.FR.01,
  C15), a local entry that is not Accepted refuses, and an idToken in neither the list nor the
  cache is authorized only with AuthCtrlr.OfflineTxForUnknownIdEnabled (C15.FR.02, errata
  C13.FR.04), else it is Unknown.

Only "Accepted" lets a transaction start (C01.FR.02); an idTokenInfo.evseId list limits it to
those EVSEs. A decision carries the idTokenInfo, its groupIdToken (C09: an Accepted idToken of
the transaction's group may stop it, ``same_group``) and whether that group is
AuthCtrlr.MasterPassGroupId (C16: such a token stops transactions, never starts one —
``is_master_pass``). Every decision is reported as an AuthorizationResult event. An idToken's
additionalInfo goes into the AuthorizeRequest, at most AdditionalInfoItemsPerMessage items.

``learn`` takes every idTokenInfo the CSMS sends (AuthorizeResponse, TransactionEventResponse:
C10.FR.04/05, C12.FR.06) into the cache — unless the idToken is in the local list, whose entries
only the CSMS's SendLocalList changes (a difference is logged).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ocpp_core.authorize_queue import AuthorizeSource, PendingAuthorization, expired
from ocpp_core.block import Block
from ocpp_core.events import AuthorizationResult
from ocpp_core.log import logger
from ocpp_core.outbox import SEND_ACCEPTED
from ocpp_core.v201.id_tokens import same_id_token
from ocpp_core.v201.variables import VariableDeclarer

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.v201.auth_cache import AuthCacheBlock
    from ocpp_core.v201.local_list import LocalListBlock

__all__ = [
    "CACHE",
    "CSMS",
    "LOCAL_LIST",
    "NOT_FOUND",
    "NO_LISTENER",
    "OFFLINE",
    "UNAUTHORIZED",
    "AuthorizationBlock",
    "Decision",
    "DecisionListener",
    "same_id_token",
]

CSMS, CACHE, LOCAL_LIST, OFFLINE = "csms", "cache", "local-list", "offline"
UNAUTHORIZED = "unauthorized"  # AuthCtrlr.Enabled false or type NoAuthorization: nothing checked
NOT_FOUND = "not-found"  # DisableRemoteAuthorization and not known locally
ACCEPTED, UNKNOWN = "Accepted", "Unknown"

_vars = VariableDeclarer(__name__, "AuthCtrlr")
_vars.boolean("Enabled", True)
_vars.integer("AdditionalInfoItemsPerMessage", 10, mutability="ReadOnly")
_vars.boolean("AuthorizeRemoteStart", False)
_vars.boolean("DisableRemoteAuthorization", False)
_vars.boolean("LocalAuthorizeOffline", True)
_vars.boolean("LocalPreAuthorize", False)
_vars.string("MasterPassGroupId", "", maximum=36)
_vars.boolean("OfflineTxForUnknownIdEnabled", False)


class Decision(NamedTuple):
    """Whether an idToken may start or stop a transaction, with what is known about it."""

    status: str  # AuthorizationStatusEnumType, or "Unknown" when nobody could say
    accepted: bool  # Accepted, and for this EVSE if idTokenInfo.evseId names EVSEs
    source: str  # CSMS | CACHE | LOCAL_LIST | OFFLINE | UNAUTHORIZED | NOT_FOUND
    info: JsonObject  # the IdTokenInfoType it rests on ({"status": ...} at least)
    group_id_token: JsonObject | None  # idTokenInfo.groupIdToken
    master_pass: bool  # the group is AuthCtrlr.MasterPassGroupId


class DecisionListener:
    """Who hears every decision on an idToken (ocpp_core.v201.tariff: personal messages);
    the default before it is wired: nobody."""

    __slots__ = ()

    def decided(self, evse: int, id_token: JsonObject, decision: Decision, now: float) -> None:
        """``id_token`` was decided on at ``evse``."""


NO_LISTENER = DecisionListener()


class AuthorizationBlock(Block, AuthorizeSource):
    """AuthorizeRequests, the local decisions and the offline rules."""

    __slots__ = ("_queue", "cache", "listener", "local_list")

    sends = ("Authorize",)

    keys = tuple(_vars.keys)

    def __init__(
        self, ctx: BlockContext, *, local_list: LocalListBlock, cache: AuthCacheBlock
    ) -> None:
        super().__init__(ctx)
        self.local_list = local_list
        self.cache = cache
        self.listener = NO_LISTENER  # the tariff block hears the decisions (I01)
        self._queue = self._new_queue("idToken")

    # ------------------------------------------------------------------ deciding

    def authorize(
        self,
        evse: int,
        id_token: JsonObject,
        now: float,
        done: Callable[[Decision, float], None],
    ) -> PendingAuthorization | None:
        """Decide on ``id_token`` at ``evse``; ``done(decision, now)`` runs now or once decided.

        Returns the pending request to ``cancel``, or None when decided already.
        """
        ctx, config = self.ctx, self.ctx.config
        token = self._sent_form(id_token)
        if not config.boolean("AuthCtrlr.Enabled") or token["type"] == "NoAuthorization":
            self._finish(evse, token, self._decision({"status": ACCEPTED}, UNAUTHORIZED), done, now)
            return None
        local = self.known(token, now, evse)
        if not (ctx.connected and ctx.outbox.gate == SEND_ACCEPTED):
            self._finish(evse, token, self._offline(local), done, now)
            return None
        if (
            local is not None
            and config.boolean("AuthCtrlr.LocalPreAuthorize")
            and (local.accepted or not self._post_authorize(local))
        ):
            self._finish(evse, token, local, done, now)
            return None
        if config.boolean("AuthCtrlr.DisableRemoteAuthorization"):
            if local is None:
                local = self._decision({"status": UNKNOWN}, NOT_FOUND)
            self._finish(evse, token, local, done, now)
            return None
        deadline = now + config.integer(ctx.assembly.timeout_key)  # MessageTimeout
        return self._queue.add(evse, token, deadline, done)

    def known(self, id_token: JsonObject, now: float, evse: int = 0) -> Decision | None:
        """What the Local Authorization List, else the cache, says about ``id_token``."""
        info = self.local_list.lookup(id_token)
        if info is not None:
            return self._decision(info, LOCAL_LIST, evse, self.ctx.clock.wall(now))
        info = self.cache.use(id_token, now)
        if info is None:
            return None
        decision = self._decision(info, CACHE, evse, self.ctx.clock.wall(now))
        if decision.status != info["status"]:
            self.cache.put(id_token, {**info, "status": decision.status}, now)  # now Expired
        return decision

    def same_group(self, group_id_token: JsonObject | None, decision: Decision) -> bool:
        """C09: whether an Accepted ``decision`` is of the transaction's ``group_id_token``."""
        return decision.accepted and same_id_token(group_id_token, decision.group_id_token)

    @staticmethod
    def is_master_pass(decision: Decision) -> bool:
        """C16: whether the decided idToken is a master pass (stops transactions, starts none)."""
        return decision.master_pass

    def _decision(
        self, info: JsonObject, source: str, evse: int = 0, wall: float | None = None
    ) -> Decision:
        """The decision ``info`` makes at ``evse``; ``wall``: judge cacheExpiryDateTime then."""
        status = info["status"]
        if (
            status == ACCEPTED
            and wall is not None
            and expired(info.get("cacheExpiryDateTime"), wall)
        ):
            status = "Expired"
        evses = info.get("evseId")
        accepted = status == ACCEPTED and (not evses or evse <= 0 or evse in evses)
        group = info.get("groupIdToken")
        master = self.ctx.config.string("AuthCtrlr.MasterPassGroupId")
        master_pass = bool(master) and isinstance(group, dict) and _same_text(group, master)
        return Decision(status, accepted, source, info, group, master_pass)

    def _post_authorize(self, local: Decision) -> bool:
        """Whether a local entry that is not Accepted is asked about again."""
        if local.source == LOCAL_LIST:
            return self.local_list.post_authorize
        return self.cache.post_authorize

    def _offline(self, local: Decision | None) -> Decision:
        config = self.ctx.config
        if local is not None:
            if local.accepted and not config.boolean("AuthCtrlr.LocalAuthorizeOffline"):
                return local._replace(accepted=False, source=OFFLINE)
            return local
        if config.boolean("AuthCtrlr.OfflineTxForUnknownIdEnabled"):
            return self._decision({"status": ACCEPTED}, OFFLINE)
        return self._decision({"status": UNKNOWN}, OFFLINE)

    def _sent_form(self, id_token: JsonObject) -> JsonObject:
        """The idToken as an AuthorizeRequest carries it: additionalInfo within its limit."""
        extra = id_token.get("additionalInfo")
        if not extra:
            return dict(id_token)
        limit = self.ctx.config.integer("AuthCtrlr.AdditionalInfoItemsPerMessage")
        token = dict(id_token)
        if limit < 1:
            del token["additionalInfo"]
        else:
            token["additionalInfo"] = list(extra[:limit])
        return token

    def _finish(
        self,
        evse: int,
        id_token: JsonObject,
        decision: Decision,
        done: Callable[[Decision, float], None],
        now: float,
    ) -> None:
        ctx = self.ctx
        if ctx.watched:
            ctx.emit(
                AuthorizationResult(evse, id_token["idToken"], decision.status, decision.source)
            )
        try:
            self.listener.decided(evse, id_token, decision, now)
        except Exception:
            logger().exception("a decision on an idToken was not taken in")
        done(decision, now)

    # ------------------------------------------------------------------ learning

    def learn(self, id_token: JsonObject, info: JsonObject, now: float) -> None:
        """Take an idTokenInfo from the CSMS into the cache (not for listed idTokens)."""
        listed = self.local_list.lookup(id_token)
        if listed is None:
            self.cache.put(id_token, info, now)
        elif listed.get("status") != info.get("status"):
            logger().warning(
                "idTokenInfo of %s (%s) differs from the local list (%s)",
                id_token.get("idToken"),
                info.get("status"),
                listed.get("status"),
            )

    # ------------------------------------------------------------------ AuthorizeRequest

    def _answered(self, pending: PendingAuthorization, response: JsonObject, now: float) -> None:
        info = response["idTokenInfo"]
        self.learn(pending.token, info, now)
        if not pending.cancelled:
            decision = self._decision(info, CSMS, pending.connector)
            self._finish(pending.connector, pending.token, decision, pending.done, now)

    def _undecided(self, pending: PendingAuthorization, now: float) -> None:
        decision = self._offline(self.known(pending.token, now, pending.connector))
        self._finish(pending.connector, pending.token, decision, pending.done, now)


def _same_text(group: Any, master: str) -> bool:
    value = group.get("idToken")
    return isinstance(value, str) and value.lower() == master.lower()
