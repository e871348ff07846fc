"""What ChargePoint offers a station, made of one OCPP 2.0.1 engine's blocks (``Operations``).

SKELETON (issue 13 in progress): the blocks are being written; until a block lands, its part
of the API is a _NotWired placeholder that raises. Each helper replaces its placeholder with
its block when it wires it in ``wiring.py``; none may remain when the issue is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocpp_core.transfer import DiagnosticsSimulation, FirmwareSimulation

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


class _NotWired:
    """Placeholder for a block not written yet (skeleton only; see the module docstring)."""

    def __init__(self, part: str) -> None:
        self._part = part

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"OCPP 2.0.1 {self._part} is not wired yet ({name})")


class Operations201:
    """The 2.0.1 blocks behind ChargePoint's version-neutral API."""

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

    def __init__(self, **blocks: Any) -> None:
        self._boot = blocks.get("boot")
        self._status = blocks.get("status")
        self.sessions = blocks.get("sessions", _NotWired("sessions"))
        self.reservations = blocks.get("reservations", _NotWired("reservations"))
        self.smart_charging = blocks.get("smart_charging", _NotWired("smart charging"))
        self.data_transfer = blocks.get("data_transfer", _NotWired("data transfer"))
        self.firmware = blocks.get("firmware", _NotWired("firmware"))
        self.diagnostics = blocks.get("diagnostics", _NotWired("diagnostics"))
        self.device_model = blocks.get("device_model", _NotWired("device model"))

    @property
    def registration(self) -> str | None:
        """The last BootNotification answer: None, "Pending", "Rejected" or "Accepted"."""
        return None if self._boot is None else self._boot.registration

    def status(self, connector: int, now: float) -> str:
        """The connector's ConnectorStatusEnumType."""
        if self._status is None:
            raise NotImplementedError("OCPP 2.0.1 status is not wired yet")
        return str(self._status.status_of(connector, now))

    def set_firmware_simulation(self, simulation: FirmwareSimulation) -> None:
        """Change how simulated updates behave."""
        raise NotImplementedError("OCPP 2.0.1 firmware updates are not wired yet")

    def set_diagnostics_simulation(self, simulation: DiagnosticsSimulation) -> None:
        """Change how simulated uploads behave."""
        raise NotImplementedError("OCPP 2.0.1 log uploads are not wired yet")
