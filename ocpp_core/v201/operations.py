"""What ChargePoint offers a station, made of one OCPP 2.0.1 engine's blocks (``Operations``).

Smart charging, firmware updates and log uploads come with issue 14; until their blocks are
wired, the parts here answer truthfully for a station that has none of them: no profiles (the
supply is kept for the device model), transfers Idle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.transfer import (
    DiagnosticsSimulation,
    FirmwareSimulation,
    check_diagnostics_simulation,
    check_firmware_simulation,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.transfer import TransferHost
    from ocpp_core.v201.boot import BootBlock
    from ocpp_core.v201.data_transfer import DataTransferBlock
    from ocpp_core.v201.device_model import DeviceModelBlock
    from ocpp_core.v201.display import DisplayBlock
    from ocpp_core.v201.monitoring import MonitoringBlock
    from ocpp_core.v201.reservation import ReservationBlock
    from ocpp_core.v201.smart_charging import SmartChargingBlock
    from ocpp_core.v201.status import StatusBlock
    from ocpp_core.v201.transactions import TransactionBlock

__all__ = ["ID_TOKEN_LENGTH", "STOP_REASONS", "Operations201"]

ID_TOKEN_LENGTH = 36  # IdTokenType.idToken is identifierString, maxLength 36

# ReasonEnumType: TransactionEvent's stoppedReason.
STOP_REASONS = frozenset(
    {
        "DeAuthorized",
        "EmergencyStop",
        "EnergyLimitReached",
        "EVDisconnected",
        "GroundFault",
        "ImmediateReset",
        "Local",
        "LocalOutOfCredit",
        "MasterPass",
        "Other",
        "OvercurrentFault",
        "PowerLoss",
        "PowerQuality",
        "Reboot",
        "Remote",
        "SOCLimitReached",
        "StoppedByEV",
        "TimeLimitReached",
        "Timeout",
    }
)


class _NoTransfer:
    """A transfer kind until issue 14: none ever runs (status Idle); settings are kept."""

    __slots__ = ("host",)

    def __init__(self) -> None:
        self.host: TransferHost | None = None

    @property
    def status(self) -> str:
        return "Idle"


class NoFirmware(_NoTransfer):
    """Firmware updates until issue 14 (FirmwareStatusEnumType Idle)."""

    __slots__ = ("simulation",)

    def __init__(self) -> None:
        super().__init__()
        self.simulation = FirmwareSimulation()

    def download_progress(self, received: int, total: int | None, now: float) -> None:
        """No download was asked for: nothing to report."""

    def download_finished(
        self, ok: bool, detail: str, size: int | None, sha256: str | None, now: float
    ) -> None:
        """No download was asked for: nothing to finish."""


class NoDiagnostics(_NoTransfer):
    """Log uploads until issue 14 (UploadLogStatusEnumType Idle)."""

    __slots__ = ("log_source", "simulation")

    def __init__(self) -> None:
        super().__init__()
        self.simulation = DiagnosticsSimulation()
        self.log_source: Callable[[float | None, float | None], str] | None = None

    @property
    def last_file(self) -> tuple[str, bytes] | None:
        return None

    def upload_finished(self, ok: bool, detail: str, now: float) -> None:
        """No upload was asked for: nothing to finish."""


class Operations201:
    """The 2.0.1 blocks behind ChargePoint's version-neutral API."""

    __slots__ = (
        "_boot",
        "_status",
        "data_transfer",
        "device_model",
        "diagnostics",
        "display",
        "firmware",
        "monitoring",
        "reservations",
        "sessions",
        "smart_charging",
    )

    stop_reasons = STOP_REASONS
    id_tag_length = ID_TOKEN_LENGTH
    # IdTokenEnumType, the default (a card at the reader) first.
    id_token_types = (
        "ISO14443",
        "ISO15693",
        "KeyCode",
        "eMAID",
        "Central",
        "Local",
        "MacAddress",
        "NoAuthorization",
    )

    def __init__(
        self,
        *,
        boot: BootBlock,
        status: StatusBlock,
        sessions: TransactionBlock,
        data_transfer: DataTransferBlock,
        device_model: DeviceModelBlock,
        smart_charging: SmartChargingBlock,
        reservations: ReservationBlock,
        display: DisplayBlock,
        monitoring: MonitoringBlock,
    ) -> None:
        self._boot = boot
        self._status = status
        self.sessions = sessions
        self.data_transfer = data_transfer
        self.device_model = device_model
        self.smart_charging = smart_charging
        self.reservations = reservations
        self.display = display
        self.monitoring = monitoring
        self.firmware = NoFirmware()
        self.diagnostics = NoDiagnostics()

    @property
    def registration(self) -> str | None:
        """The last BootNotification answer: None, "Pending", "Rejected" or "Accepted"."""
        return self._boot.registration

    def status(self, connector: int, now: float) -> str:
        """ConnectorStatusEnumType of EVSE 1..N; 0: the station (Available / Unavailable)."""
        return self._status.status_of(connector, now)

    def set_firmware_simulation(self, simulation: FirmwareSimulation) -> None:
        """Change how simulated updates behave (ValueError if invalid)."""
        self.firmware.simulation = check_firmware_simulation(simulation)

    def set_diagnostics_simulation(self, simulation: DiagnosticsSimulation) -> None:
        """Change how simulated uploads behave (ValueError if invalid)."""
        self.diagnostics.simulation = check_diagnostics_simulation(simulation)
