"""The in-process CSMS of tests/fake_csms.py speaking OCPP 2.0.1: valid default answers to every
message a 2.0.1 station sends, station ids from a counter, the same driving and inspection API.
"""

from __future__ import annotations

from typing import Any

from fake_csms import IDENTITY, FakeCsms

from ocpp_core import ChargePoint
from ocpp_core.store import MemoryStore, Store

__all__ = ["FakeCsms201", "booted201", "station201"]

_EMPTY = (
    "StatusNotification",
    "TransactionEvent",
    "MeterValues",
    "NotifyReport",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyCustomerInformation",
    "SecurityEventNotification",
    "FirmwareStatusNotification",
    "LogStatusNotification",
    "ReservationStatusUpdate",
    "NotifyChargingLimit",
    "ClearedChargingLimit",
    "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule",
    "NotifyDisplayMessages",
    "ReportChargingProfiles",
)


class FakeCsms201(FakeCsms):
    """A FakeCsms whose default handlers answer 2.0.1's CS-initiated messages."""

    def __init__(self, cp: ChargePoint, *, now: float = 0.0, heartbeat_interval: int = 300) -> None:
        super().__init__(cp, now=now, heartbeat_interval=heartbeat_interval)
        accepted = {"idTokenInfo": {"status": "Accepted"}}
        self.handlers = {
            "BootNotification": self._boot,
            "Heartbeat": lambda payload: {"currentTime": self.wall_text()},
            "Authorize": lambda payload: accepted,
            "DataTransfer": lambda payload: {"status": "Accepted"},
            **{action: (lambda payload: {}) for action in _EMPTY},
        }


def station201(
    *, store: Store | None = None, connectors: int = 2, **options: Any
) -> tuple[ChargePoint, FakeCsms201]:
    """A fresh, connected but not yet booted 2.0.1 station and its CSMS."""
    cp = ChargePoint(
        identity=IDENTITY,
        connectors=connectors,
        store=MemoryStore() if store is None else store,
        version="2.0.1",
        **options,
    )
    return cp, FakeCsms201(cp)


def booted201(**options: Any) -> tuple[ChargePoint, FakeCsms201]:
    """A 2.0.1 station that has connected, been accepted and reported its statuses."""
    cp, csms = station201(**options)
    csms.connect()
    assert cp.registration == "Accepted"
    csms.clear()
    return cp, csms
