"""Configuration keys of the transaction and authorization behaviour (OCPP 1.6 §9.1).

Declared now so the CSMS can read and set them; the transaction block (issue 4) gives them their
behaviour and adds its own keys here. AuthorizationCacheEnabled and MaxEnergyOnInvalidId are
optional keys whose presence announces a feature (§9), so they wait for that feature.
"""

from __future__ import annotations

from ocpp_core.config import KeyDeclarer

__all__ = ["KEYS"]

_keys = KeyDeclarer(__name__)
_keys.boolean("AllowOfflineTxForUnknownId", False)
_keys.boolean("AuthorizeRemoteTxRequests", False)
_keys.integer("ConnectionTimeOut", 30)
_keys.boolean("LocalAuthorizeOffline", True)
_keys.boolean("LocalPreAuthorize", False)
_keys.boolean("StopTransactionOnEVSideDisconnect", True)
_keys.boolean("StopTransactionOnInvalidId", True)
_keys.integer("TransactionMessageAttempts", 3)
_keys.integer("TransactionMessageRetryInterval", 60)
_keys.boolean("UnlockConnectorOnEVSideDisconnect", True)

KEYS = tuple(_keys.keys)
