"""Configuration keys of the connection (OCPP 1.6 §9.1.34, errata 3.82).

MessageTimeout (errata 9.1.15, optional) is how long a CALL waits for its answer; the engine uses
it for every request that sets no timeout of its own, counted from sending. 30 s leaves room for
the round trips of mobile networks (OCPP-J §4.1.1 asks to consider them); MicroOcpp uses 40 s but
counts from queueing, so its messages can expire before they are sent. WebSocketPingInterval is
for the transport (0: no client pings, which is all a browser WebSocket can do).
"""

from __future__ import annotations

from ocpp_core.config import KeyDeclarer

__all__ = ["KEYS"]

_keys = KeyDeclarer(__name__)
_keys.integer("MessageTimeout", 30, minimum=1, maximum=3600)
_keys.integer("WebSocketPingInterval", 0)

KEYS = tuple(_keys.keys)
