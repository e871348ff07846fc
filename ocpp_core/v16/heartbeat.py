"""Heartbeat (OCPP 1.6 §4.6): the shared keep-alive (ocpp_core/heartbeats.py) on the
HeartbeatInterval key (§9.1.10, an interval "of inactivity")."""

from __future__ import annotations

from ocpp_core.config import KeyDeclarer
from ocpp_core.heartbeats import HeartbeatSource

__all__ = ["HeartbeatBlock"]

_keys = KeyDeclarer(__name__)
_keys.integer("HeartbeatInterval", 86400)


class HeartbeatBlock(HeartbeatSource):
    """The 1.6 Heartbeat request source."""

    __slots__ = ()

    keys = tuple(_keys.keys)
    interval_key = "HeartbeatInterval"
