"""What ChargePoint offers a station, made of one OCPP 1.6 engine's blocks (``Operations``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.operations import NoDisplay, NoMonitoring
from ocpp_core.v16.diagnostics import check_simulation as check_diagnostics_simulation
from ocpp_core.v16.firmware import check_simulation as check_firmware_simulation
from ocpp_core.v16.tx_session import STOP_REASONS

if TYPE_CHECKING:
    from ocpp_core.certificate_store import CertificateStore
    from ocpp_core.log_upload import PairedUploads
    from ocpp_core.transfer import DiagnosticsSimulation, FirmwareSimulation
    from ocpp_core.v16.boot import BootBlock
    from ocpp_core.v16.configuration import ConfigurationBlock
    from ocpp_core.v16.data_transfer import DataTransferBlock
    from ocpp_core.v16.firmware import FirmwareBlock
    from ocpp_core.v16.reservation import ReservationBlock
    from ocpp_core.v16.smart_charging import SmartChargingBlock
    from ocpp_core.v16.status import StatusBlock
    from ocpp_core.v16.transactions import TransactionBlock

__all__ = ["Operations16"]

ID_TAG_LENGTH = 20  # IdToken is CiString20Type (OCPP 1.6 §7.28)


class Operations16:
    """The 1.6 blocks behind ChargePoint's version-neutral API."""

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
    id_tag_length = ID_TAG_LENGTH
    id_token_types: tuple[str, ...] = ()  # a 1.6 idTag has no type

    def __init__(
        self,
        *,
        boot: BootBlock,
        status: StatusBlock,
        sessions: TransactionBlock,
        reservations: ReservationBlock,
        smart_charging: SmartChargingBlock,
        data_transfer: DataTransferBlock,
        firmware: FirmwareBlock,
        diagnostics: PairedUploads,
        certificates: CertificateStore,
        device_model: ConfigurationBlock,
    ) -> None:
        self._boot = boot
        self._status = status
        self.sessions = sessions
        self.reservations = reservations
        self.smart_charging = smart_charging
        self.data_transfer = data_transfer
        self.firmware = firmware
        self.diagnostics = diagnostics
        self.certificates = certificates
        self.device_model = device_model
        self.display = NoDisplay()  # 1.6 has no display messages
        self.monitoring = NoMonitoring()  # nor variable monitoring

    @property
    def registration(self) -> str | None:
        """The last BootNotification answer: None, "Pending", "Rejected" or "Accepted"."""
        return self._boot.registration

    def status(self, connector: int, now: float) -> str:
        """The connector's ChargePointStatus."""
        return self._status.status_of(connector, now)

    def set_firmware_simulation(self, simulation: FirmwareSimulation) -> None:
        """Change how simulated updates behave (ValueError if invalid)."""
        self.firmware.simulation = check_firmware_simulation(simulation)

    def set_diagnostics_simulation(self, simulation: DiagnosticsSimulation) -> None:
        """Change how simulated uploads behave (ValueError if invalid)."""
        self.diagnostics.simulation = check_diagnostics_simulation(simulation)
