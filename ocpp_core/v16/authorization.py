"""Authorization of idTags (OCPP 1.6 §3.5, §4.1 Authorize, §5.4 ClearCache, §9.1 keys).

``authorize`` decides whether an idTag may charge, the way §3.5 describes:

* known locally — the Local Authorization List first, then the Authorization Cache (§3.5.3); an
  entry whose expiryDate has passed counts as Expired (and the cache records it so, §3.5.1);
* online (connected and the BootNotification Accepted): a valid local entry decides at once when
  LocalPreAuthorize is true; otherwise an Authorize.req asks the CSMS (also for entries that are
  not valid: the CSMS is asked again, §3.5.1);
* offline, or when the CSMS gives no usable answer in time (timeout, CALLERROR, invalid response,
  lost connection): a valid local entry authorizes if LocalAuthorizeOffline is true; a local
  entry that is not valid rejects (§3.5.4 "MUST be rejected"); anything else is unknown and is
  authorized only if AllowOfflineTxForUnknownId is true (status "Unknown" otherwise).

The deadline is MessageTimeout seconds from the presentation, waiting in the outbox included: a
user at the charger is not kept waiting behind other traffic. Decisions of the CSMS accept only
"Accepted" for charging (ConcurrentTx means the idTag is busy elsewhere); local entries count
Accepted and ConcurrentTx as valid (§3.5.2). Every decision is reported as an AuthorizationResult
event.

``learn`` takes every idTagInfo the CSMS sends (Authorize, StartTransaction, StopTransaction
responses): it updates the cache, or — for an idTag in the Local Authorization List — reports a
difference in validity or parentIdTag with a StatusNotification of connector 0 and errorCode
LocalListConflict (§3.5.2). ClearCache empties the cache, and only the cache; Accepted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ocpp_core.authorize_queue import AuthorizeSource, PendingAuthorization, expired
from ocpp_core.block import Block, on
from ocpp_core.connector import ErrorRecord
from ocpp_core.events import AuthorizationResult
from ocpp_core.log import logger
from ocpp_core.outbox import SEND_ACCEPTED
from ocpp_core.v16.auth_cache import VALID, cache

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.v16.local_list import LocalListBlock
    from ocpp_core.v16.payloads import (
        ClearCacheRequest,
        ClearCacheResponse,
    )
    from ocpp_core.v16.status import StatusBlock

__all__ = ["CACHE", "CSMS", "LOCAL_LIST", "OFFLINE", "UNKNOWN", "AuthorizationBlock", "Decision"]

CSMS, CACHE, LOCAL_LIST, OFFLINE = "csms", "cache", "local-list", "offline"
UNKNOWN = "Unknown"
ACCEPTED = "Accepted"


class Decision(NamedTuple):
    """Whether an idTag may charge, with what the decision learnt about it."""

    status: str  # an idTagInfo status, or UNKNOWN
    parent_id_tag: str | None
    source: str  # CSMS | CACHE | LOCAL_LIST | OFFLINE
    accepted: bool


def same_tag(first: str | None, second: str | None) -> bool:
    """idTags and parentIdTags are CiString20: equal ignoring case (None matches nothing)."""
    return first is not None and second is not None and first.lower() == second.lower()


class AuthorizationBlock(Block, AuthorizeSource):
    """Authorize requests, the Authorization Cache and the offline rules."""

    __slots__ = ("_cache", "_queue", "local_list", "status")

    sends = ("Authorize",)

    def __init__(
        self, ctx: BlockContext, *, local_list: LocalListBlock, status: StatusBlock
    ) -> None:
        super().__init__(ctx)
        self.local_list = local_list
        self.status = status  # reports a LocalListConflict
        self._cache = cache(self.ctx.store)
        self._queue = self._new_queue("idTag")

    # ------------------------------------------------------------------ deciding

    def authorize(
        self,
        connector: int,
        id_tag: str,
        now: float,
        done: Callable[[Decision, float], None],
    ) -> PendingAuthorization | None:
        """Decide on ``id_tag``; ``done(decision, now)`` runs now or once the CSMS answered.

        Returns the pending request to ``cancel``, or None when decided already.
        """
        ctx = self.ctx
        local = self.known(id_tag, now)
        if not (ctx.connected and ctx.outbox.gate == SEND_ACCEPTED):
            self._finish(connector, id_tag, self._offline(local), done, now)
            return None
        if local is not None and local.accepted and ctx.config.boolean("LocalPreAuthorize"):
            self._finish(connector, id_tag, local, done, now)
            return None
        return self._queue.add(connector, id_tag, now + ctx.config.integer("MessageTimeout"), done)

    def known(self, id_tag: str, now: float) -> Decision | None:
        """What the Local Authorization List, else the cache, says about ``id_tag``."""
        info = self.local_list.lookup(id_tag)
        if info is not None:
            return self._judge(info, LOCAL_LIST, now)
        if not self.ctx.config.boolean("AuthorizationCacheEnabled"):
            return None
        info = self._cache.get(id_tag)
        if info is None:
            return None
        decision = self._judge(info, CACHE, now)
        if decision.status != info["status"]:
            self._cache.put(id_tag, {**info, "status": decision.status})  # §3.5.1: now Expired
        return decision

    def _judge(self, info: JsonObject, source: str, now: float) -> Decision:
        status = info["status"]
        if status in VALID and self._expired(info, now):
            status = "Expired"
        return Decision(status, info.get("parentIdTag"), source, status in VALID)

    def _expired(self, info: JsonObject, now: float) -> bool:
        return expired(info.get("expiryDate"), self.ctx.clock.wall(now))

    def _offline(self, local: Decision | None) -> Decision:
        config = self.ctx.config
        if local is not None and (not local.accepted or config.boolean("LocalAuthorizeOffline")):
            return local
        if config.boolean("AllowOfflineTxForUnknownId"):
            return Decision(ACCEPTED, None if local is None else local.parent_id_tag, OFFLINE, True)
        return Decision(UNKNOWN, None, OFFLINE, False)

    def _finish(
        self,
        connector: int,
        id_tag: str,
        decision: Decision,
        done: Callable[[Decision, float], None],
        now: float,
    ) -> None:
        ctx = self.ctx
        if ctx.watched:
            ctx.emit(AuthorizationResult(connector, id_tag, decision.status, decision.source))
        done(decision, now)

    # ------------------------------------------------------------------ learning

    def learn(self, id_tag: str, info: JsonObject, now: float) -> None:
        """Take an idTagInfo from the CSMS: update the cache, or report a list conflict."""
        listed = self.local_list.lookup(id_tag)
        if listed is None:
            if self.ctx.config.boolean("AuthorizationCacheEnabled"):
                self._cache.put(id_tag, info)
            return
        local = self._judge(listed, LOCAL_LIST, now)
        remote_valid = info["status"] in VALID and not self._expired(info, now)
        parent, local_parent = info.get("parentIdTag"), local.parent_id_tag
        same_parent = (parent is None and local_parent is None) or same_tag(parent, local_parent)
        if remote_valid != local.accepted or not same_parent:
            logger().warning("idTagInfo of %s conflicts with the local list", id_tag)
            self.status.notify(0, ErrorRecord("LocalListConflict", faulted=False), now)

    @on("ClearCache")
    def clear_cache(self, payload: ClearCacheRequest, now: float) -> ClearCacheResponse:
        try:
            self._cache.clear()
        except Exception:
            logger().exception("authorization cache could not be cleared")
            return {"status": "Rejected"}
        return {"status": "Accepted"}

    # ------------------------------------------------------------------ Authorize.req

    def _answered(self, pending: PendingAuthorization, response: JsonObject, now: float) -> None:
        info = response["idTagInfo"]
        self.learn(pending.token, info, now)
        if not pending.cancelled:
            status = info["status"]
            decision = Decision(status, info.get("parentIdTag"), CSMS, status == ACCEPTED)
            self._finish(pending.connector, pending.token, decision, pending.done, now)

    def _undecided(self, pending: PendingAuthorization, now: float) -> None:
        decision = self._offline(self.known(pending.token, now))
        self._finish(pending.connector, pending.token, decision, pending.done, now)
