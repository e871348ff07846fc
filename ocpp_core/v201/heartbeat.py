"""Heartbeat (OCPP 2.0.1 B05, G02): the shared keep-alive (ocpp_core/heartbeats.py) on
``OCPPCommCtrlr.HeartbeatInterval``, set by an Accepted BootNotification (B01.FR.04)."""

from __future__ import annotations

from ocpp_core.heartbeats import HeartbeatSource
from ocpp_core.v201.boot import HEARTBEAT_INTERVAL
from ocpp_core.v201.variables import VariableDeclarer

__all__ = ["HeartbeatBlock"]

_vars = VariableDeclarer(__name__, "OCPPCommCtrlr")
_vars.integer("HeartbeatInterval", 86400, unit="s")


class HeartbeatBlock(HeartbeatSource):
    """The 2.0.1 Heartbeat request source."""

    __slots__ = ()

    keys = tuple(_vars.keys)
    interval_key = HEARTBEAT_INTERVAL
