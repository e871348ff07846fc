"""ocpp_core: the charge-point side of OCPP 1.6-J and 2.0.1 as a sans-IO engine (stdlib only).

The public names are loaded on first access (PEP 562), so ``import ocpp_core`` alone (e.g. for
``__version__``) stays cheap; ``from ocpp_core import ChargePoint`` loads the engine.
"""

from __future__ import annotations

from importlib import import_module

# Not ``from typing import TYPE_CHECKING``: ``typing`` alone would double the cost of
# ``import ocpp_core`` for callers that only want __version__.
TYPE_CHECKING = False

__version__ = "0.1.0"

_EXPORTS = {
    "ChargePoint": "ocpp_core.chargepoint",
    "StationIdentity": "ocpp_core.identity",
    "ConnectorIO": "ocpp_core.connector",
    "ErrorRecord": "ocpp_core.connector",
    "SignedReading": "ocpp_core.connector",
    "Clock": "ocpp_core.clock",
    "Store": "ocpp_core.store",
    "MemoryStore": "ocpp_core.store",
    "FileStore": "ocpp_core.store",
    "CallFailure": "ocpp_core.outbox",
    "DataTransferResult": "ocpp_core.operations",
    "VariableRow": "ocpp_core.operations",
    "FrameLogged": "ocpp_core.events",
    "StatusChanged": "ocpp_core.events",
    "BootAccepted": "ocpp_core.events",
    "BootNotAccepted": "ocpp_core.events",
    "ResetRequested": "ocpp_core.events",
    "ConfigurationChanged": "ocpp_core.events",
    "FirmwareProgress": "ocpp_core.events",
    "DiagnosticsProgress": "ocpp_core.events",
    "FirmwareSimulation": "ocpp_core.transfer",
    "DiagnosticsSimulation": "ocpp_core.transfer",
    "TransferHost": "ocpp_core.transfer",
    "AuthorizationResult": "ocpp_core.events",
    "SessionStarted": "ocpp_core.events",
    "SessionStopped": "ocpp_core.events",
    "SessionCancelled": "ocpp_core.events",
    "MessageDiscarded": "ocpp_core.events",
    "QueueLengthChanged": "ocpp_core.events",
    "ReservationChanged": "ocpp_core.events",
    "ReservationInfo": "ocpp_core.sessions",
    "TransactionInfo": "ocpp_core.sessions",
}

__all__ = [
    "AuthorizationResult",
    "BootAccepted",
    "BootNotAccepted",
    "CallFailure",
    "ChargePoint",
    "Clock",
    "ConfigurationChanged",
    "ConnectorIO",
    "DataTransferResult",
    "DiagnosticsProgress",
    "DiagnosticsSimulation",
    "ErrorRecord",
    "FileStore",
    "FirmwareProgress",
    "FirmwareSimulation",
    "FrameLogged",
    "MemoryStore",
    "MessageDiscarded",
    "QueueLengthChanged",
    "ReservationChanged",
    "ReservationInfo",
    "ResetRequested",
    "SessionCancelled",
    "SessionStarted",
    "SessionStopped",
    "SignedReading",
    "StationIdentity",
    "StatusChanged",
    "Store",
    "TransactionInfo",
    "TransferHost",
    "VariableRow",
    "__version__",
]

if TYPE_CHECKING:
    from ocpp_core.chargepoint import ChargePoint
    from ocpp_core.clock import Clock
    from ocpp_core.connector import ConnectorIO, ErrorRecord, SignedReading
    from ocpp_core.events import (
        AuthorizationResult,
        BootAccepted,
        BootNotAccepted,
        ConfigurationChanged,
        DiagnosticsProgress,
        FirmwareProgress,
        FrameLogged,
        MessageDiscarded,
        QueueLengthChanged,
        ResetRequested,
        SessionCancelled,
        SessionStarted,
        SessionStopped,
        StatusChanged,
    )
    from ocpp_core.identity import StationIdentity
    from ocpp_core.operations import DataTransferResult, VariableRow
    from ocpp_core.outbox import CallFailure
    from ocpp_core.sessions import ReservationInfo, TransactionInfo
    from ocpp_core.store import FileStore, MemoryStore, Store
    from ocpp_core.transfer import DiagnosticsSimulation, FirmwareSimulation, TransferHost


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ocpp_core' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
