"""OCPP 1.6-J: one module per functional block, assembled into the version's static tables.

Block order is construction order (a block may use the blocks before it) and the order of
handlers in the routing table. Modules named ``*_keys``, ``security`` and ``connection`` only
declare configuration keys whose behaviour comes with later blocks or with the transport.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.assembly import Assembly
from ocpp_core.v16 import connection, security, transactions_keys
from ocpp_core.v16.authorization import AuthorizationBlock
from ocpp_core.v16.availability import AvailabilityBlock
from ocpp_core.v16.boot import BootBlock
from ocpp_core.v16.configuration import ConfigurationBlock
from ocpp_core.v16.data_transfer import DataTransferBlock
from ocpp_core.v16.diagnostics import DiagnosticsBlock
from ocpp_core.v16.firmware import FirmwareBlock
from ocpp_core.v16.heartbeat import HeartbeatBlock
from ocpp_core.v16.local_list import LocalListBlock
from ocpp_core.v16.metering import MeteringBlock
from ocpp_core.v16.remote_control import RemoteControlBlock
from ocpp_core.v16.reservation import ReservationBlock
from ocpp_core.v16.reset import ResetBlock
from ocpp_core.v16.smart_charging import SmartChargingBlock
from ocpp_core.v16.status import StatusBlock
from ocpp_core.v16.transactions import TransactionBlock
from ocpp_core.v16.trigger import TriggerBlock

if TYPE_CHECKING:
    from ocpp_core.config import KeyTable

__all__ = ["BLOCKS", "PROFILES", "assembly", "mask"]

BLOCKS = (
    ConfigurationBlock,
    BootBlock,
    HeartbeatBlock,
    AvailabilityBlock,
    # Before the status block: its tick sees the sessions as this poll left them.
    LocalListBlock,
    AuthorizationBlock,
    TransactionBlock,
    RemoteControlBlock,
    # Before the status block: expired and terminated reservations are gone when it derives.
    ReservationBlock,
    StatusBlock,
    ResetBlock,
    DataTransferBlock,
    FirmwareBlock,
    DiagnosticsBlock,
    TriggerBlock,
    MeteringBlock,
    SmartChargingBlock,
)

# Messages of each feature profile (OCPP 1.6 §3.3 with errata 3.2's corrected columns). The
# SupportedFeatureProfiles key lists a profile only when all of its messages are implemented.
PROFILES = {
    "Core": frozenset(
        {
            "Authorize",
            "BootNotification",
            "ChangeAvailability",
            "ChangeConfiguration",
            "ClearCache",
            "DataTransfer",
            "GetConfiguration",
            "Heartbeat",
            "MeterValues",
            "RemoteStartTransaction",
            "RemoteStopTransaction",
            "Reset",
            "StartTransaction",
            "StatusNotification",
            "StopTransaction",
            "UnlockConnector",
        }
    ),
    "FirmwareManagement": frozenset(
        {
            "GetDiagnostics",
            "DiagnosticsStatusNotification",
            "FirmwareStatusNotification",
            "UpdateFirmware",
        }
    ),
    "LocalAuthListManagement": frozenset({"GetLocalListVersion", "SendLocalList"}),
    "Reservation": frozenset({"CancelReservation", "ReserveNow"}),
    "SmartCharging": frozenset(
        {"ClearChargingProfile", "GetCompositeSchedule", "SetChargingProfile"}
    ),
    "RemoteTrigger": frozenset({"TriggerMessage"}),
}

_MASK = "********"


def mask(action: str, payload: dict, keys: KeyTable) -> dict | None:
    """The payload with the value of a write-only key hidden, or None if it carries none."""
    if (
        action == "ChangeConfiguration"
        and "value" in payload
        and keys.is_secret(payload.get("key"))
    ):
        return {**payload, "value": _MASK}
    return None


def assembly() -> Assembly:
    """Build the OCPP 1.6 tables (the caller caches the result)."""
    extra_keys = (
        *transactions_keys.KEYS,
        *security.KEYS,
        *connection.KEYS,
    )
    return Assembly("1.6", BLOCKS, extra_keys, PROFILES, timeout_key="MessageTimeout", mask=mask)
