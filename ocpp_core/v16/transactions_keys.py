"""Configuration keys of the transaction and authorization behaviour (OCPP 1.6 §9.1).

The transaction block (transactions, remote_control) and the authorization block give them their
behaviour. AuthorizationCacheEnabled and MaxEnergyOnInvalidId are optional keys whose presence
announces a feature (§9): the Authorization Cache and charging a minimum amount after an idTag
was found invalid. TransactionMessageAttempts and TransactionMessageRetryInterval drive the
journal (§3.7.1).
"""

from __future__ import annotations

from ocpp_core.config import KeyDeclarer

__all__ = ["KEYS"]

_keys = KeyDeclarer(__name__)
_keys.boolean("AllowOfflineTxForUnknownId", False)
_keys.boolean("AuthorizationCacheEnabled", True)
_keys.boolean("AuthorizeRemoteTxRequests", False)
_keys.integer("ConnectionTimeOut", 30)
_keys.boolean("LocalAuthorizeOffline", True)
_keys.boolean("LocalPreAuthorize", False)
_keys.integer("MaxEnergyOnInvalidId", 0)
_keys.boolean("StopTransactionOnEVSideDisconnect", True)
_keys.boolean("StopTransactionOnInvalidId", True)
_keys.integer("TransactionMessageAttempts", 3)
_keys.integer("TransactionMessageRetryInterval", 60)
_keys.boolean("UnlockConnectorOnEVSideDisconnect", True)

KEYS = tuple(_keys.keys)
