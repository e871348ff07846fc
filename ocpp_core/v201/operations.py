"""What ChargePoint offers a station, made of one OCPP 2.0.1 engine's blocks (``Operations``).

Firmware updates and log uploads are the firmware and logs blocks (their simulation settings,
transfer host and progress are 1.6's, see ocpp_core/firmware_update.py and log_upload.py).
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
    from ocpp_core.certificate_store import CertificateStore
    from ocpp_core.v201.boot import BootBlock
    from ocpp_core.v201.data_transfer import DataTransferBlock
    from ocpp_core.v201.device_model import DeviceModelBlock
    from ocpp_core.v201.display import DisplayBlock
    from ocpp_core.v201.firmware import FirmwareBlock
    from ocpp_core.v201.logs import LogsBlock
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


class Operations201:
    """The 2.0.1 blocks behind ChargePoint's version-neutral API."""

    __slots__ = (
        "_boot",
        "_status",
        "certificates",
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
        firmware: FirmwareBlock,
        diagnostics: LogsBlock,
        certificates: CertificateStore,
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
        self.firmware = firmware
        self.diagnostics = diagnostics
        self.certificates = certificates

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
