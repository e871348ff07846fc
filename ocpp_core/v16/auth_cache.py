"""The Authorization Cache (OCPP 1.6 §3.5.1, errata 3.4): idTagInfo the CSMS gave, kept locally.

Every idTagInfo received in Authorize.conf, StartTransaction.conf or StopTransaction.conf updates
the cache (valid and not-valid ones alike), unless the idTag is in the Local Authorization List
(§3.5.3; the caller checks that). When full, not-valid entries go first, then the oldest valid
ones (§3.5.1). The entries persist in the Store document ``authcache``, oldest first, so the
order survives restarts (the version-neutral ``ocpp_core.authorization_cache``); idTags are
CiString20 (§3.9), matched ignoring case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.authorization_cache import CAPACITY, AuthorizationCache

if TYPE_CHECKING:
    from ocpp_core.store import Store

__all__ = ["CAPACITY", "DOCUMENT", "VALID", "cache"]

DOCUMENT = "authcache"
VALID = frozenset({"Accepted", "ConcurrentTx"})  # §3.5.2: the statuses of a valid identifier


def cache(store: Store) -> AuthorizationCache:
    """The 1.6 Authorization Cache of an engine: idTag (any case) -> idTagInfo."""
    return AuthorizationCache(
        store, DOCUMENT, id_field="idTag", info_field="idTagInfo", key=str.lower, valid=VALID
    )
