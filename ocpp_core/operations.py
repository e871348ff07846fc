"""What a station asks of any protocol version, under version-neutral names and types.

ChargePoint is written against these protocols only: a version's wiring function returns an
``Operations`` made of its own blocks (``Wiring.operations``), so ChargePoint imports no version
package and a second version adds no branch to it. Checks that depend on the version's data types
(which stop reasons exist, how long an idTag may be, what a valid transfer simulation is) are the
version's too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ocpp_core.certificate_store import CertificateStore
    from ocpp_core.events import MessageDiscarded
    from ocpp_core.outbox import CallFailure
    from ocpp_core.sessions import ReservationInfo, TransactionInfo
    from ocpp_core.transfer import DiagnosticsSimulation, FirmwareSimulation, TransferHost

__all__ = [
    "DataTransferResult",
    "DataTransfers",
    "DeviceModel",
    "DiagnosticsUploads",
    "Display",
    "DisplayLine",
    "DisplayScreen",
    "FirmwareUpdates",
    "MonitorEventRow",
    "MonitorRow",
    "Monitoring",
    "NoDisplay",
    "NoMonitoring",
    "Operations",
    "Reservations",
    "Sessions",
    "SmartCharging",
    "VariableRow",
]


class DataTransferResult(NamedTuple):
    """The outcome of a DataTransfer we sent: the CSMS's status and data, or why there is none."""

    status: str | None
    data: str | None = None
    failure: CallFailure | None = None


class VariableRow(NamedTuple):
    """One attribute of one device-model variable (2.0.1) or one configuration key (1.6), as a
    station's user sees it: ``ChargePoint.variables``; ``address`` is what ``set_variable``
    takes and what a ConfigurationChanged event names."""

    address: str  # "OCPPCommCtrlr.HeartbeatInterval", "EVSE/1.Power"; 1.6: the key name
    component: str  # "OCPPCommCtrlr", "EVSE/1", "Connector/1/1"; 1.6: "" (no components)
    variable: str  # "HeartbeatInterval", "MessageTimeout[Default]"; 1.6: the key name
    attribute: str  # "Actual", "Target", "MinSet" or "MaxSet" (1.6: "Actual")
    value: str | None  # as the protocol reports it; None: write-only (or unreadable now)
    mutability: str  # "ReadOnly", "ReadWrite" or "WriteOnly"
    data_type: str  # part 2 DataEnumType: "integer", "boolean", "string", "MemberList", ...
    unit: str | None  # "s", "W", "Percent", ... (1.6: None)
    values_list: tuple[str, ...] | None  # the allowed values of a list type, else None


class DisplayLine(NamedTuple):
    """One display message as the station's screen shows it (2.0.1 SetDisplayMessage)."""

    id: int
    priority: str  # MessagePriorityEnumType: "AlwaysFront", "InFront" or "NormalCycle"
    format: str  # MessageFormatEnumType; the text is shown as it is, whatever the format
    language: str | None
    text: str


class DisplayScreen(NamedTuple):
    """What a connector's display shows now: the messages in priority order (the first in
    front), the driver's tariff text, the running or final total cost (in ``currency``), and
    ``cost_text``, the message shown when the final cost could not be had."""

    connector: int
    state: str  # MessageStateEnumType the messages are chosen for: Charging, Faulted, ...
    messages: tuple[DisplayLine, ...] = ()
    tariff: str | None = None
    cost: float | None = None
    currency: str = ""
    final: bool = False
    cost_text: str | None = None


class Display(Protocol):
    """The station's display (2.0.1 display messages, tariff and cost; 1.6: none)."""

    def screen(self, connector: int, now: float) -> DisplayScreen:
        """What connector 1..N's display shows now."""
        ...


class NoDisplay:
    """A version without display messages: the screens are empty."""

    __slots__ = ()

    def screen(self, connector: int, now: float) -> DisplayScreen:
        return DisplayScreen(connector, "Idle")


class MonitorRow(NamedTuple):
    """One variable monitor in force (2.0.1 SetVariableMonitoring and the station's own)."""

    id: int
    component: str  # as variable addresses write it: "EVSE/1", "TemperatureSensor"
    variable: str
    type: str  # MonitorEnumType: UpperThreshold, LowerThreshold, Delta, Periodic, ...
    value: float
    severity: int  # 0 (Danger) .. 9 (Debug)
    kind: str  # HardWiredMonitor, PreconfiguredMonitor or CustomMonitor
    transaction: bool
    tripped: bool  # a threshold past its value now


class MonitorEventRow(NamedTuple):
    """One event a monitor raised (NotifyEvent), newest last."""

    event_id: int  # 0: not sent (monitoring disabled, severity filtered, dropped offline)
    timestamp: str
    monitor_id: int
    component: str
    variable: str
    trigger: str  # Alerting, Delta or Periodic
    actual_value: str
    cleared: bool
    kind: str
    sent: bool


class Monitoring(Protocol):
    """Variable monitoring (2.0.1 N02-N08; 1.6: none)."""

    def monitor_rows(self) -> list[MonitorRow]:
        """The monitors in force."""
        ...

    def event_rows(self) -> list[MonitorEventRow]:
        """The latest events raised, oldest first."""
        ...


class NoMonitoring:
    """A version without variable monitoring."""

    __slots__ = ()

    def monitor_rows(self) -> list[MonitorRow]:
        return []

    def event_rows(self) -> list[MonitorEventRow]:
        return []


class DeviceModel(Protocol):
    """The station's variables (2.0.1 device model, 1.6 configuration keys)."""

    def rows(self, now: float) -> list[VariableRow]:
        """Every variable attribute, in the version's report order."""
        ...

    def set(self, address: str, value: str, now: float) -> str:
        """Set one (the version's SetVariables / ChangeConfiguration rules); its status."""
        ...


class Sessions(Protocol):
    """Charging sessions and their transactions, per connector 1..N."""

    resume_after_restart: bool  # a transaction the last run left open continues

    def present_card(
        self, connector: int, id_tag: str, now: float, token_type: str | None = None
    ) -> None:
        """An idTag at the connector's reader: begin, end, release the lock, or report.

        ``token_type`` is one of the version's ``id_token_types`` (None: the version's default).
        """
        ...

    def begin(self, connector: int, id_tag: str, now: float, token_type: str | None = None) -> bool:
        """Begin a session with authorization (False: the connector cannot take one now)."""
        ...

    def charging(self, connector: int, now: float) -> bool:
        """The protocol lets energy flow on the connector now (the station's meter runs)."""
        ...

    def end(self, connector: int, now: float, id_tag: str | None, reason: str) -> bool:
        """End the connector's session (False: none, or ``id_tag`` may not end it)."""
        ...

    def current(self, connector: int) -> TransactionInfo | None:
        """The connector's session or transaction (running, else one still stopping)."""
        ...

    def energy_floor(self, connector: int) -> int:
        """The highest energy register (Wh) the stored transactions of the connector hold."""
        ...

    def queue_length(self) -> int:
        """Transaction messages waiting to be delivered."""
        ...

    def discards(self) -> list[MessageDiscarded]:
        """Transaction messages given up after their last attempt, oldest first."""
        ...


class Reservations(Protocol):
    """The reservations the CSMS holds on the station."""

    def reservations(self) -> list[ReservationInfo]:
        """Every reservation held, in the order they were made."""
        ...

    def reservation_on(self, connector: int) -> ReservationInfo | None:
        """The reservation that makes ``connector`` show Reserved."""
        ...


class SmartCharging(Protocol):
    """Installed charging profiles and the limits they impose."""

    def installed(self) -> list[tuple[int, dict[str, Any]]]:
        """Installed profiles as ``(connector, profile)``, as received."""
        ...

    def composite_payload(
        self, connector: int, duration: int, unit: str | None, now: float
    ) -> Mapping[str, object]:
        """What the version's composite-schedule request would answer now."""
        ...

    def set_supply(self, voltage_v: float, phases: int, max_current_a: float) -> None:
        """The station's nominal voltage, phases and maximum current per connector."""
        ...

    def external_limit(self, connector: int) -> tuple[float, str] | None:
        """The external limit on connector 1..N (0: the station) as (limit, unit), if any."""
        ...

    def set_external_limit(
        self, connector: int, limit: float, unit: str, now: float, *, grid_critical: bool = False
    ) -> bool:
        """A local energy manager's limit on connector 1..N (0: the station) in A or W; False:
        ignored (2.0.1 ExternalControlSignalsEnabled false)."""
        ...

    def clear_external_limit(self, connector: int, now: float) -> bool:
        """The local energy manager releases its limit; whether there was one."""
        ...


class DataTransfers(Protocol):
    """Vendor-specific DataTransfer in both directions."""

    def register(
        self,
        vendor_id: str,
        handler: Callable[[str | None, str | None], str | tuple[str, str | None]],
        message_id: str | None = None,
    ) -> None:
        """Answer incoming DataTransfer for a vendor (and message id) with ``handler``."""
        ...

    def send(
        self,
        vendor_id: str,
        message_id: str | None,
        data: str | None,
        callback: Callable[[DataTransferResult], None] | None,
        now: float,
    ) -> None:
        """Queue a DataTransfer request; ``callback`` gets its DataTransferResult."""
        ...


class FirmwareUpdates(Protocol):
    """Firmware updates the CSMS asks for, transferred by the host or simulated."""

    host: TransferHost | None

    @property
    def simulation(self) -> FirmwareSimulation:
        """How simulated updates behave."""
        ...

    @property
    def status(self) -> str:
        """The firmware status a trigger would report now."""
        ...

    def download_progress(self, received: int, total: int | None, now: float) -> None:
        """The host's download progress in bytes."""
        ...

    def download_finished(
        self, ok: bool, detail: str, size: int | None, sha256: str | None, now: float
    ) -> None:
        """The host's download ended."""
        ...


class DiagnosticsUploads(Protocol):
    """Diagnostics (log) uploads the CSMS asks for, transferred by the host or simulated."""

    host: TransferHost | None
    log_source: Callable[[float | None, float | None], str] | None

    @property
    def simulation(self) -> DiagnosticsSimulation:
        """How simulated uploads behave."""
        ...

    @property
    def status(self) -> str:
        """The diagnostics status a trigger would report now."""
        ...

    @property
    def last_file(self) -> tuple[str, bytes] | None:
        """The latest file built for an upload (name, content)."""
        ...

    def upload_finished(self, ok: bool, detail: str, now: float) -> None:
        """The host's upload ended."""
        ...


class Operations(Protocol):
    """Everything version-specific a ChargePoint offers, made of one engine's blocks."""

    @property
    def stop_reasons(self) -> frozenset[str]:
        """The reasons a transaction may be ended with."""
        ...

    @property
    def id_tag_length(self) -> int:
        """The longest idTag the version's messages carry."""
        ...

    @property
    def id_token_types(self) -> tuple[str, ...]:
        """The idToken types a card may have, the default first (empty: idTags are untyped)."""
        ...

    @property
    def registration(self) -> str | None:
        """The last answer to the registration request (None: none yet)."""
        ...

    @property
    def sessions(self) -> Sessions: ...

    @property
    def reservations(self) -> Reservations: ...

    @property
    def smart_charging(self) -> SmartCharging: ...

    @property
    def data_transfer(self) -> DataTransfers: ...

    @property
    def firmware(self) -> FirmwareUpdates: ...

    @property
    def diagnostics(self) -> DiagnosticsUploads: ...

    @property
    def certificates(self) -> CertificateStore:
        """The installed certificates (1.6 security whitepaper and 2.0.1 M03-M05)."""
        ...

    @property
    def device_model(self) -> DeviceModel: ...

    @property
    def display(self) -> Display: ...

    @property
    def monitoring(self) -> Monitoring: ...

    def status(self, connector: int, now: float) -> str:
        """The current status of connector 0..N."""
        ...

    def set_firmware_simulation(self, simulation: FirmwareSimulation) -> None:
        """Change how simulated updates behave (ValueError if invalid)."""
        ...

    def set_diagnostics_simulation(self, simulation: DiagnosticsSimulation) -> None:
        """Change how simulated uploads behave (ValueError if invalid)."""
        ...
