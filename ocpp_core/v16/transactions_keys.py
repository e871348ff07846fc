"""Configuration keys of the transaction and authorization behaviour (OCPP 1.6 §9.1).

The transaction block (transactions, remote_control) and the authorization block give them their
behaviour. AuthorizationCacheEnabled and MaxEnergyOnInvalidId are optional keys whose presence
announces a feature (§9): the Authorization Cache and charging a minimum amount after an idTag
was found invalid. TransactionMessageAttempts and TransactionMessageRetryInterval drive the
journal (§3.7.1).

TransactionMessageQueueLimit (a vendor key, like StopTransactionMaxMeterValues) bounds the
journal: the most transaction messages kept while the CSMS cannot be reached. §3.7 asks for
transaction-related messages to be queued and delivered, §4.7 lets periodic MeterValues be
sampled at any interval the station can afford; so once the limit is reached the periodic and
clock-aligned MeterValues are thinned out (every other one of the oldest half, each drop
logged and reported as a MessageDiscarded), while StartTransaction, StopTransaction and the
Transaction.Begin/End values in its transactionData are always kept — even beyond the limit.
The default, 1000, holds about 8 hours of two connectors sampling every minute at full
resolution and any longer time offline over its whole span, coarser the older it is.
"""

from __future__ import annotations

from ocpp_core.config import KeyDeclarer
from ocpp_core.journal import MIN_LIMIT

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
_keys.integer("TransactionMessageQueueLimit", 1000, minimum=MIN_LIMIT)
_keys.integer("TransactionMessageRetryInterval", 60)
_keys.boolean("UnlockConnectorOnEVSideDisconnect", True)

KEYS = tuple(_keys.keys)
