"""OCPP 1.6-J: one module per functional block, assembled into the version's static tables.

``wiring.py`` builds one engine's blocks and orders their work (``wire``); its BLOCK_TYPES are
the order of handlers in the routing table. Modules named ``*_keys``, ``security`` and
``connection`` only declare configuration keys whose behaviour comes with other blocks or with
the transport.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.assembly import Assembly
from ocpp_core.v16 import connection, security, transactions_keys
from ocpp_core.v16.wiring import BLOCK_TYPES, wire

if TYPE_CHECKING:
    from ocpp_core.config import KeyTable
    from ocpp_core.rpc import JsonObject

__all__ = ["PROFILES", "assembly", "mask"]

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


def mask(action: str, payload: JsonObject, keys: KeyTable) -> JsonObject | None:
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
    return Assembly(
        "1.6",
        BLOCK_TYPES,
        extra_keys,
        PROFILES,
        wire=wire,
        timeout_key="MessageTimeout",
        mask=mask,
    )
