"""One simulated charging station: the core's ChargePoint, N mocked connectors and a transport.

The station is bound to ``ocpp_core`` only through the engine's public inputs and outputs: per
connector it feeds the cable, EV-ready and EVSE-ready switches, an injectable fault and the meter
readings (sim/meter.py) into ``ChargePoint.connector(n)``, and receives the charging limit (to the
meter) and the connector lock. An RFID reader hands cards to ``ChargePoint.present_card``, which
starts a session or stops it, as a real charger does. The GUI and the CLI use only this module's
API (see ARCHITECTURE.md, "The sim station API"); they hold no protocol logic.

Time: ``tick(now)`` is the only place the station does anything. ``now`` is the runtime's
monotonic, possibly simulated, seconds (sim/runtime.py); controls and transport events are queued
and take effect at the next tick, and the station asks its runtime for one through ``waker``.

Energy only flows while the core says the connector is Charging (a transaction runs, OCPP permits
it, the cable is in, the EVSE offers and the EV asks for energy, no fault): the station ties the
meter's EVSE switch to that status, so the meter never charges outside a session.

A Reset from the CSMS reboots the station: after the Reset.conf has left, the engine is discarded
and a new ChargePoint is built on the same Store (the physical state, i.e. cables, EVs, faults and
meter registers, stays), and the station connects again. The meter registers are kept in the Store
document ``sim-meters`` so they survive restarts too, and a power cut (a kill, a page reload) at any
moment never makes one fall (OCPP 1.6 §7.31): a register is saved before the core reads a higher
value for a frame (meterStart, MeterValues, meterStop), and while power flows at least every
METER_SAVE_WH; at load it continues from the highest value the stored transactions hold, if the
saved one is lower (a save that failed or was lost). A cut loses at most METER_SAVE_WH, plus the
energy since the last tick (METER_REFRESH_S while power flows), of energy never reported.
"""

from __future__ import annotations

import json
import logging
import math
import re
import zlib
from collections import deque
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, NamedTuple

from ocpp_core import ChargePoint, StationIdentity
from ocpp_core.clock import DEFAULT_EPOCH, Clock, format_datetime
from ocpp_core.connector import ERROR_CODES, ErrorRecord
from ocpp_core.events import (
    AuthorizationResult,
    ConfigurationChanged,
    DiagnosticsProgress,
    FirmwareProgress,
    FrameLogged,
    SessionCancelled,
    SessionStopped,
    StatusChanged,
)
from ocpp_core.sessions import STOPPING
from ocpp_core.store import RetryingStore
from sim.echo import EchoDetector
from sim.meter import NOMINAL_VOLTAGE_V, EvModel, MeterModel
from sim.transfer_policy import DEFAULT_MAX_BYTES, TransferPolicy
from sim.transport.base import ConnectionState, TransportConfig, validate_url

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ocpp_core.sessions import TransactionInfo
    from ocpp_core.store import Store
    from sim.transport.base import Transport, TransportListener

__all__ = [
    "METER_DOCUMENT",
    "METER_REFRESH_S",
    "METER_SAVE_WH",
    "BackendEchoes",
    "ConnectionChanged",
    "ConnectorSnapshot",
    "FaultInfo",
    "FirmwareImage",
    "LastAuth",
    "ReservationShown",
    "SnapshotChanged",
    "Station",
    "StationRebooted",
    "StationSettings",
    "TransferFailures",
    "frame_json",
    "printable",
]

SUPPORTED_VERSIONS = ("1.6",)
DIAGNOSTICS_LOG_FRAMES = 500  # the frames a diagnostics file shows, at most
KNOWN_VERSIONS = ("1.6", "2.0.1")
METER_DOCUMENT = "sim-meters"
METER_REFRESH_S = 1.0
"""While power flows the station wakes at least this often (simulated seconds), so the readings
the GUI shows move smoothly; energy is exact whatever the tick rate (see sim/meter.py)."""
METER_SAVE_WH = 100.0
"""While power flows a connector's register is saved whenever it grew this much (Wh) since the
last save: the most energy a power cut can lose, besides values reported (saved before)."""

KEY_CHANGE_GRACE_S = 1.0
"""After the CSMS changes AuthorizationKey, the station reconnects with the new key this long
after the ChangeConfiguration.conf was sent (security whitepaper A01)."""

MAX_ID_TAG = 20  # IdToken: CiString20Type in OCPP 1.6
MAX_CHARGE_BOX_ID = 48  # OCPP-J: the identity is at most 48 characters
MAX_ERROR_INFO = 50  # StatusNotification.info: CiString50Type
MAX_VENDOR_ERROR_CODE = 50  # StatusNotification.vendorErrorCode: CiString50Type
_MASK = "***"


# ---------------------------------------------------------------------------------- settings


def _problem_with_settings(settings: StationSettings) -> str | None:
    """What is wrong with a settings object, or None (types and ranges; messages are for users)."""
    for field in fields(settings):
        value = getattr(settings, field.name)
        kind = _FIELD_TYPES[field.name]
        if value is None and kind.endswith("?"):
            continue
        base = kind.rstrip("?")
        if base == "str" and not isinstance(value, str):
            return f"{field.name} must be a string"
        if base == "int" and (type(value) is not int):
            return f"{field.name} must be a whole number"
        if base == "float" and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            return f"{field.name} must be a number"
        if base == "bool" and type(value) is not bool:
            return f"{field.name} must be true or false"
    if settings.csms_url:
        problem = validate_url(settings.csms_url)
        if problem is not None:
            return problem
    cb_id = settings.charge_box_id
    if not cb_id or cb_id != cb_id.strip():
        return "the charge box id must not be empty nor start or end with spaces"
    if len(cb_id) > MAX_CHARGE_BOX_ID:
        return f"the charge box id must be at most {MAX_CHARGE_BOX_ID} characters"
    if not cb_id.isprintable():
        return "the charge box id must not contain control characters"
    if settings.auth_key is not None:
        if settings.auth_key == "":
            return "the authorization key is empty (leave it unset for no key)"
        if ":" in cb_id:
            return "with an authorization key the charge box id must not contain ':'"
    if settings.ocpp_version not in KNOWN_VERSIONS:
        return f"unknown OCPP version {settings.ocpp_version!r}: use 1.6 or 2.0.1"
    if not 1 <= settings.connectors <= 99:
        return "the number of connectors must be from 1 to 99"
    for name, limit in (("vendor", 20), ("model", 20), ("serial", 25)):
        value = getattr(settings, name)
        if not value or len(value) > limit:
            return f"{name} must be 1 to {limit} characters"
    if len(settings.firmware_version) > 50:
        return "firmware_version must be at most 50 characters"
    if settings.meter_serial is not None and not 1 <= len(settings.meter_serial) <= 25:
        return "meter_serial must be 1 to 25 characters"
    if settings.phases not in (1, 3):
        return "the station has 1 or 3 phases"
    if settings.ev_phases not in (1, 3):
        return "the EV uses 1 or 3 phases"
    if not 0 <= settings.max_current_a <= 1000:
        return "the station maximum current must be within 0..1000 A"
    if not 0 <= settings.ev_max_current_a <= 1000:
        return "the EV maximum current must be within 0..1000 A"
    try:
        settings.transfer_policy()
    except ValueError as exc:
        return f"transfers: {exc}"
    problem = _problem_with_tls_files(settings)
    if problem is not None:
        return problem
    if settings.ev_capacity_kwh is not None and not 0 < settings.ev_capacity_kwh <= 10_000:
        return "the EV battery capacity must be > 0 kWh (or unset for no battery)"
    if not 0 <= settings.ev_soc_percent <= 100:
        return "the EV state of charge must be within 0..100 %"
    return None


def _problem_with_tls_files(settings: StationSettings) -> str | None:
    for name in _TLS_FIELDS:
        value = getattr(settings, name)
        if value == "":
            return f"{name} is empty (leave it unset for none)"
    if settings.client_key_file is not None and settings.client_cert_file is None:
        return "client_key_file needs client_cert_file: give the client certificate too"
    using_tls = any(getattr(settings, name) is not None for name in _TLS_FIELDS)
    if using_tls and settings.csms_url and not settings.csms_url.lower().startswith("wss://"):
        return "the CA and client certificate files need a wss:// CSMS URL"
    return None


@dataclass(frozen=True, repr=False)
class StationSettings:
    """Everything a user can set in the GUI or on the CLI; JSON-(de)serialisable.

    ``csms_url`` is the CSMS base URL ("ws://127.0.0.1:8000/ocpp"): the charge box id is appended
    as its last path segment, URL-encoded. An empty URL is allowed here (not configured yet) and
    refused by ``Station.connect``; any other invalid value raises ValueError with a message for
    the user. ``auth_key`` (the HTTP Basic password of security profile 1/2) never appears in
    ``repr`` nor, unless asked, in ``to_json``. ``phases``/``max_current_a`` describe the station,
    the ``ev_*`` fields the car plugged in (a fresh one at every plug); ``ev_capacity_kwh`` None
    means a car without a modelled battery (no SoC, it charges as long as it is ready).

    TLS for a wss:// URL (security profiles 2 and 3), used by the CPython transport (CLI):
    ``ca_file`` is a PEM file of the CA certificate(s) that signed the CSMS's certificate (None:
    the system's trust store); ``client_cert_file`` the station's PEM certificate chain for
    profile 3 (mutual TLS) and ``client_key_file`` its unencrypted private key (None: the key is
    in the certificate file; a key without a certificate is an error). The browser transport
    ignores all three: a browser checks the server with its own trust store and a page cannot
    present a client certificate (the GUI does not show these fields).

    Firmware and diagnostics transfers over http(s) (``transfer_policy``): ``transfer_allow``
    lists the hosts they may reach, comma-separated, "same-csms" for the CSMS's host (None: any
    host); ``transfer_max_bytes`` bounds what one transfer moves.
    """

    csms_url: str
    charge_box_id: str = "SIM-0001"
    auth_key: str | None = None
    ocpp_version: str = "1.6"
    connectors: int = 2
    vendor: str = "OpenSim"
    model: str = "Sim-AC22"
    serial: str = "SIM-0001"
    firmware_version: str = "0.1.0"
    phases: int = 3
    max_current_a: float = 32.0
    ev_max_current_a: float = 32.0
    ev_phases: int = 3
    ev_capacity_kwh: float | None = 60.0
    ev_soc_percent: float = 20.0
    resume_transactions_after_restart: bool = False
    meter_serial: str | None = None
    ca_file: str | None = None
    client_cert_file: str | None = None
    client_key_file: str | None = None
    transfer_allow: str | None = None
    transfer_max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        problem = _problem_with_settings(self)
        if problem is not None:
            raise ValueError(problem)

    def __repr__(self) -> str:
        parts = []
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "auth_key" and value is not None:
                value = _MASK
            parts.append(f"{field.name}={value!r}")
        return f"StationSettings({', '.join(parts)})"

    def to_json(self, *, include_secret: bool = False) -> dict[str, Any]:
        """A plain dict for JSON; ``auth_key`` is left out unless ``include_secret``."""
        data = {field.name: getattr(self, field.name) for field in fields(self)}
        if not include_secret:
            del data["auth_key"]
        return data

    @classmethod
    def from_json(cls, data: object) -> StationSettings:
        """Settings from a dict as ``to_json`` makes it (missing keys take their defaults).

        Raises ValueError with a user-facing message for a non-object, an unknown key, a missing
        ``csms_url`` or any invalid value.
        """
        if not isinstance(data, dict):
            raise ValueError("the station settings must be a JSON object")
        known = {field.name for field in fields(cls)}
        unknown = sorted(str(key) for key in data if key not in known)
        if unknown:
            raise ValueError(f"unknown station setting(s): {', '.join(unknown)}")
        if "csms_url" not in data:
            raise ValueError("the station settings need csms_url")
        values = dict(data)
        for name in _FLOAT_FIELDS:
            # JSON has one number type: 32 and 32.0 both mean 32 A.
            value = values.get(name)
            if type(value) is int:
                values[name] = float(value)
        return cls(**values)

    def transfer_policy(self) -> TransferPolicy:
        """What the transfer hosts of this station may do (ValueError for invalid settings)."""
        # Checked before a CSMS URL is set too ("same-csms" against a stand-in host then).
        csms_url = self.csms_url or "ws://csms.invalid/"
        return TransferPolicy.parse(
            self.transfer_allow, csms_url=csms_url, max_bytes=self.transfer_max_bytes
        )

    def identity(self) -> StationIdentity:
        """The BootNotification fields."""
        return StationIdentity(
            vendor=self.vendor,
            model=self.model,
            serial_number=self.serial,
            charge_box_serial_number=self.serial,
            firmware_version=self.firmware_version or None,
            meter_type="Simulated AC meter",
            meter_serial_number=self.meter_serial,
        )


_FIELD_TYPES = {
    "csms_url": "str",
    "charge_box_id": "str",
    "auth_key": "str?",
    "ocpp_version": "str",
    "connectors": "int",
    "vendor": "str",
    "model": "str",
    "serial": "str",
    "firmware_version": "str",
    "phases": "int",
    "max_current_a": "float",
    "ev_max_current_a": "float",
    "ev_phases": "int",
    "ev_capacity_kwh": "float?",
    "ev_soc_percent": "float",
    "resume_transactions_after_restart": "bool",
    "meter_serial": "str?",
    "ca_file": "str?",
    "client_cert_file": "str?",
    "client_key_file": "str?",
    "transfer_allow": "str?",
    "transfer_max_bytes": "int",
}
_TLS_FIELDS = ("ca_file", "client_cert_file", "client_key_file")
_FLOAT_FIELDS = tuple(name for name, kind in _FIELD_TYPES.items() if kind.startswith("float"))


# ---------------------------------------------------------------------------------- state values


class FaultInfo(NamedTuple):
    """An injected fault as the user gave it."""

    error_code: str
    info: str | None = None
    vendor_error_code: str | None = None


class LastAuth(NamedTuple):
    """The latest authorization outcome on a connector (status: Accepted, Invalid, ...)."""

    id_tag: str
    status: str


class ReservationShown(NamedTuple):
    """The reservation that makes a connector show Reserved (``connector`` 0: one kept for a
    reservation of the whole station); ``expiry_date`` as the CSMS sent it."""

    reservation_id: int
    connector: int
    id_tag: str
    expiry_date: str


@dataclass(frozen=True)
class ConnectorSnapshot:
    """What one connector looks like now, for the GUI and the CLI (immutable).

    ``status``/``error_code`` are the core's (ChargePointStatus / ChargePointErrorCode);
    ``fault`` is the injected one; ``id_tag`` is the card of the current session (being
    authorized, waiting for the cable, or charging; None without one) and ``transaction_id`` the
    CSMS's id for its transaction (None until the StartTransaction is answered);
    ``current_a``/``voltage_v`` hold one value per station phase, L1 first; ``soc_percent`` is
    None without a car or a modelled battery; ``limit`` is the charging limit the core set,
    ``(value, "A" | "W")``, or None, and ``limit_w`` the power it allows now (for a chart);
    ``reservation`` the one the connector is held for, or None.
    """

    connector: int
    status: str
    error_code: str
    plugged: bool
    ev_ready: bool
    evse_ready: bool
    locked: bool
    fault: FaultInfo | None
    transaction_id: int | str | None
    id_tag: str | None
    last_auth: LastAuth | None
    power_w: float
    energy_wh: float
    current_a: list[float]
    voltage_v: list[float]
    soc_percent: float | None
    limit: tuple[float, str] | None
    reservation: ReservationShown | None = None
    limit_w: float | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON (named tuples become objects)."""
        data = {field.name: getattr(self, field.name) for field in fields(self)}
        data["fault"] = None if self.fault is None else self.fault._asdict()
        data["last_auth"] = None if self.last_auth is None else self.last_auth._asdict()
        data["current_a"] = list(self.current_a)
        data["voltage_v"] = list(self.voltage_v)
        data["limit"] = None if self.limit is None else list(self.limit)
        data["reservation"] = None if self.reservation is None else self.reservation._asdict()
        return data


# ---------------------------------------------------------------------------------- events


class ConnectionChanged(NamedTuple):
    """The transport's state changed; ``detail`` is a human-readable message (why it failed)."""

    state: ConnectionState
    detail: str


class SnapshotChanged(NamedTuple):
    """Something shown in ``Station.snapshot(connector)`` changed (checked once per tick)."""

    connector: int


class FirmwareImage(NamedTuple):
    """The last firmware image really downloaded (http(s) location): what the user can check."""

    size: int | None
    sha256: str

    def describe(self) -> str:
        size = "size unknown" if self.size is None else f"{self.size:,} bytes"
        return f"image {size}, SHA-256 {self.sha256}"


class TransferFailures(NamedTuple):
    """Failure injection for the simulated firmware update and diagnostics upload."""

    firmware_download: bool = False
    firmware_install: bool = False
    diagnostics_upload: bool = False


class BackendEchoes(NamedTuple):
    """The backend sends the station's own frames back: an echo server, not a CSMS (raised
    once per connection)."""


class StationRebooted(NamedTuple):
    """The station rebooted after a Reset (``kind`` "Soft" or "Hard"): a new engine runs."""

    kind: str


# ---------------------------------------------------------------------------------- internals


class _Hardware:
    """One connector's simulated hardware and what the station shows about it."""

    __slots__ = (
        "ev_ready",
        "evse_ready",
        "fault",
        "fault_record",
        "last_auth",
        "locked",
        "meter",
        "n",
        "plugged",
        "saved_wh",
        "shown",
    )

    def __init__(self, n: int, meter: MeterModel) -> None:
        self.n = n
        self.plugged = False
        self.ev_ready = True  # a car plugged in asks for energy unless told otherwise
        self.evse_ready = True
        self.locked = False
        self.fault: FaultInfo | None = None
        self.fault_record: ErrorRecord | None = None
        self.last_auth: LastAuth | None = None
        self.meter = meter
        self.saved_wh: float | None = None  # the register as last saved (None: not saved)
        self.shown: tuple | None = None  # the last snapshot key reported by SnapshotChanged


class _Link:
    """The TransportListener of one transport: events of a replaced transport are dropped."""

    __slots__ = ("_station",)

    def __init__(self, station: Station) -> None:
        self._station = station

    def on_open(self, subprotocol: str) -> None:
        self._station._from_transport(self, ("open", subprotocol))

    def on_message(self, text: str) -> None:
        self._station._from_transport(self, ("message", text))

    def on_close(self, reason: str) -> None:
        self._station._from_transport(self, ("close", reason))

    def on_state(self, state: ConnectionState, detail: str) -> None:
        self._station._transport_state(self, state, detail)


class _AnchoredClock(Clock):
    """Wall time that starts at ``wall_at_start`` on the station's first tick, whatever ``now``
    the runtime starts from; after a sync with the CSMS it is the plain engine clock."""

    def __init__(self, wall_at_start: float | None) -> None:
        super().__init__()
        self._start_wall = DEFAULT_EPOCH if wall_at_start is None else float(wall_at_start)
        self._anchor: float | None = None

    def anchor(self, now: float) -> None:
        if self._anchor is None:
            self._anchor = now

    def wall(self, now: float) -> float:
        if self.is_synced:
            return super().wall(now)
        anchor = now if self._anchor is None else self._anchor
        return self._start_wall + (now - anchor)


def _check_id_tag(id_tag: object) -> str:
    if not isinstance(id_tag, str) or not id_tag or len(id_tag) > MAX_ID_TAG:
        raise ValueError(f"an idTag is 1 to {MAX_ID_TAG} characters")
    if not id_tag.isprintable():
        raise ValueError("an idTag must not contain control characters")
    return id_tag


# ---------------------------------------------------------------------------------- the station


class Station:
    """One simulated charging station: ChargePoint + N simulated connectors (meter, EV, RFID,
    lock, faults) + a transport.

    ``transport_factory(config, listener)`` makes the WebSocket transport (CPython:
    ``sim.transport.cpython.WebsocketsTransport``, browser: ``sim.transport.browser.
    BrowserTransport``). ``clock_start_wall`` is the wall time (epoch seconds) at the first tick;
    without it the station's clock starts at 2020-01-01 until the CSMS tells the time.
    ``config_defaults`` replaces declared defaults of configuration keys (ChargePoint's option;
    e.g. the CLI's ``{"WebSocketPingInterval": "20"}``, which a browser cannot honour). Raises
    ValueError when the settings ask for a protocol version the engine does not implement yet.
    """

    def __init__(
        self,
        settings: StationSettings,
        *,
        store: Store,
        transport_factory: Callable[[TransportConfig, TransportListener], Transport],
        clock_start_wall: float | None = None,
        config_defaults: Mapping[str, str] | None = None,
    ) -> None:
        if settings.ocpp_version not in SUPPORTED_VERSIONS:
            raise ValueError(
                f"OCPP {settings.ocpp_version} is not supported by the station engine yet;"
                f" use OCPP {' or '.join(SUPPORTED_VERSIONS)}"
            )
        self.settings = settings
        self.store = store
        # One for the station's life, so writes a failing disk made it keep survive a reboot.
        self._store = RetryingStore(store)
        self.waker: Callable[[], None] | None = None
        """Set by the runtime: asks for a tick soon (a control was used, a frame arrived)."""
        self._factory = transport_factory
        self._config_defaults = dict(config_defaults or {})
        self._subscribers: tuple[Callable[[object], None], ...] = ()
        self._now: float | None = None
        self._inbox: deque[tuple[str, str]] = deque()
        self._cards: list[tuple[int, str]] = []
        self._transport: Transport | None = None
        self._link: _Link | None = None
        self._running = False  # connect() was called and disconnect() not since
        self._offline = False
        self._state = ConnectionState.DISCONNECTED
        self._detail = "not connected"
        self._reboot: str | None = None
        self._reconnect_at: float | None = None
        self._save_meters_soon = False
        self._statuses: dict[int, tuple[str, str]] = {}
        self._unsubscribe_engine: Callable[[], None] | None = None
        self._engine_setups: tuple[Callable[[ChargePoint], None], ...] = ()
        self._firmware: FirmwareProgress | None = None
        self._firmware_image: FirmwareImage | None = None
        # The recent frames (wall time, direction, text): the log of a diagnostics file.
        self._recent: deque[tuple[float, str, str]] = deque(maxlen=DIAGNOSTICS_LOG_FRAMES)
        self._echo = EchoDetector()
        self._echoes = False  # the backend of the current connection is an echo server
        self._diagnostics: DiagnosticsProgress | None = None
        stored = self._store.load(METER_DOCUMENT)
        registers = stored if isinstance(stored, dict) else {}
        self._hardware = [
            _Hardware(n, self._new_meter(n, registers.get(str(n))))
            for n in range(1, settings.connectors + 1)
        ]
        for hw in self._hardware:
            if registers.get(str(hw.n)) == hw.meter.energy_wh:
                hw.saved_wh = hw.meter.energy_wh
        self._engine = self._build_engine(_AnchoredClock(clock_start_wall))
        self._raise_registers()
        stored_key = self._engine.get_configuration("AuthorizationKey")
        # The key given in the settings wins; without one, a key the CSMS set earlier (stored).
        self._auth_key: str | None = settings.auth_key or stored_key or None

    # ------------------------------------------------------------------ construction

    def _new_meter(self, n: int, register: object = None) -> MeterModel:
        settings = self.settings
        ev = EvModel(
            max_current_a=settings.ev_max_current_a,
            phases=settings.ev_phases,
            capacity_kwh=settings.ev_capacity_kwh,
            soc_percent=settings.ev_soc_percent,
        )
        energy = 0.0
        number = isinstance(register, (int, float)) and not isinstance(register, bool)
        if number and math.isfinite(register) and register >= 0:
            energy = float(register)
        seed = zlib.crc32(f"{settings.charge_box_id}:{n}".encode())
        return MeterModel(
            ev,
            phases=settings.phases,
            max_current_a=settings.max_current_a,
            seed=seed,
            energy_wh=energy,
        )

    def _build_engine(self, clock: Clock, previous: ChargePoint | None = None) -> ChargePoint:
        settings = self.settings
        options: dict[str, Any] = {}
        if previous is not None:
            # What the user set on the engine survives the reboot (a new ChargePoint).
            options["firmware_simulation"] = previous.firmware_simulation
            options["diagnostics_simulation"] = previous.diagnostics_simulation
        engine = ChargePoint(
            identity=settings.identity(),
            connectors=settings.connectors,
            store=self._store,
            version=settings.ocpp_version,
            clock=clock,
            reset_handler=self._on_reset,
            config_defaults=self._config_defaults,
            resume_transactions_after_restart=settings.resume_transactions_after_restart,
            **options,
        )
        # Smart charging converts W and A and fills schedule gaps with the station's supply.
        engine.set_supply(NOMINAL_VOLTAGE_V, settings.phases, settings.max_current_a)
        engine.set_diagnostics_log(self._diagnostics_log)
        for hw in self._hardware:
            self._wire(engine, hw)
        self._statuses = {}
        self._unsubscribe_engine = engine.subscribe(self._on_engine_event)
        return engine

    def _wire(self, engine: ChargePoint, hw: _Hardware) -> None:
        """Bind one connector's hardware to the engine's inputs and outputs."""
        io = engine.connector(hw.n)
        meter = hw.meter
        io.plugged = lambda: hw.plugged
        # The EV asks for energy while it is ready and its battery is not full (else SuspendedEV).
        io.ev_ready = lambda: hw.plugged and meter.ev.requesting
        io.evse_ready = lambda: hw.evse_ready
        io.add_error_input(lambda: hw.fault_record)
        io.energy_wh = lambda: self._report_register(hw)
        io.power_w = lambda: meter.power_w
        phases = ("L1", "L2", "L3")[: meter.phases]
        for index, phase in enumerate(phases):
            io.add_meter_input(
                "Current.Import", lambda i=index: meter.current_a[i], phase=phase, unit="A"
            )
        for index, phase in enumerate(phases):
            io.add_meter_input(
                "Voltage", lambda i=index: meter.voltage_v[i], phase=f"{phase}-N", unit="V"
            )
        io.add_meter_input("Current.Offered", lambda: self._offered_a(hw), unit="A")
        if self.settings.ev_capacity_kwh is not None:
            # The car's battery: a reading only while a car is plugged in (None: none now).
            io.add_meter_input(
                "SoC",
                lambda: meter.soc_percent if hw.plugged else None,
                location="EV",
                unit="Percent",
            )

        def charging_limit(value: float | None, unit: str = "A") -> None:
            meter.set_limit(value, "W" if unit == "W" else "A")

        def lock(locked: bool) -> None:
            hw.locked = bool(locked)

        io.charging_limit = charging_limit
        io.lock = lock

    def _offered_a(self, hw: _Hardware) -> float:
        """Current.Offered: what the station would deliver per phase under the limit."""
        meter = hw.meter
        offered = meter.max_current_a
        limit = meter.limit
        if limit is not None:
            value, unit = limit
            if unit == "A":
                offered = min(offered, value)
            else:
                volts = sum(meter.voltage_v[: min(meter.phases, meter.ev.phases)])
                offered = min(offered, value / volts if volts > 0 else 0.0)
        return offered

    # ------------------------------------------------------------------ firmware, diagnostics

    @property
    def transfer_failures(self) -> TransferFailures:
        firmware = self._engine.firmware_simulation
        diagnostics = self._engine.diagnostics_simulation
        return TransferFailures(
            firmware.fail_download, firmware.fail_install, diagnostics.fail_upload
        )

    def set_transfer_failures(self, failures: TransferFailures) -> None:
        """Make the next simulated firmware download or installation, or diagnostics upload,
        fail (kept across the station's reboots)."""
        engine = self._engine
        engine.set_firmware_simulation(
            engine.firmware_simulation._replace(
                fail_download=bool(failures.firmware_download),
                fail_install=bool(failures.firmware_install),
            )
        )
        engine.set_diagnostics_simulation(
            engine.diagnostics_simulation._replace(fail_upload=bool(failures.diagnostics_upload))
        )

    def _diagnostics_log(self, start: float | None, stop: float | None) -> str:
        """The frames sent and received between two wall times, one per line (newest last;
        write-only configuration values are already masked by the core)."""
        lines = [
            f"{format_datetime(wall)} {direction} {text}"
            for wall, direction, text in self._recent
            if (start is None or wall >= start) and (stop is None or wall <= stop)
        ]
        return "\n".join(lines) if lines else "(no frames in this window)"

    @property
    def firmware_progress(self) -> FirmwareProgress | None:
        """The latest step of the firmware update the CSMS asked for (None: none yet)."""
        return self._firmware

    @property
    def firmware_image(self) -> FirmwareImage | None:
        """Size and SHA-256 of the image the current (or last) update really downloaded."""
        return self._firmware_image

    @property
    def diagnostics_progress(self) -> DiagnosticsProgress | None:
        """The latest step of the diagnostics upload the CSMS asked for (None: none yet)."""
        return self._diagnostics

    # ------------------------------------------------------------------ smart charging

    def charging_profiles(self, n: int) -> list[dict[str, Any]]:
        """The charging profiles that apply to connector ``n``: its own and the station-wide
        ones (connectorId 0), each as installed, with its ``connectorId``."""
        self._hw(n)
        return [
            {"connectorId": connector, **profile}
            for connector, profile in self._engine.charging_profiles()
            if connector in (0, n)
        ]

    def composite_schedule(self, n: int, duration_s: int = 3600) -> dict[str, Any]:
        """What GetCompositeSchedule would answer for connector ``n`` now, in amps."""
        self._hw(n)
        now = 0.0 if self._now is None else self._now
        return self._engine.composite_schedule(n, duration_s, now, "A")

    # ------------------------------------------------------------------ lifecycle

    @property
    def engine(self) -> ChargePoint:
        """The core (for advanced use and tests; the GUI must not hold protocol logic)."""
        return self._engine

    def add_engine_setup(self, setup: Callable[[ChargePoint], None]) -> None:
        """Run ``setup(engine)`` on the current engine now and on every new one a reboot builds
        (before its first poll): for what lives on the ChargePoint and must survive reboots,
        e.g. ``set_transfer_host`` with a host made for that engine."""
        self._engine_setups = (*self._engine_setups, setup)
        setup(self._engine)

    @property
    def transport(self) -> Transport | None:
        """The current transport (None before ``connect``); replaced at every reboot."""
        return self._transport

    @property
    def connection_state(self) -> ConnectionState:
        return self._state

    @property
    def connection_detail(self) -> str:
        """A human-readable message about the connection (why it failed, when it did)."""
        return self._detail

    @property
    def backend_echoes(self) -> bool:
        """The backend of the current connection sends our frames back (see BackendEchoes)."""
        return self._echoes

    @property
    def connectors(self) -> int:
        return len(self._hardware)

    def connect(self) -> None:
        """Start the transport: connect, and reconnect with backoff until ``disconnect``.

        Raises ValueError with a message for the user when the URL or the connection settings
        are unusable (nothing is started then).
        """
        problem = validate_url(self.settings.csms_url)
        if problem is not None:
            raise ValueError(problem)
        if self._running:
            return
        self._running = True
        try:
            self._start_transport()  # e.g. an unreadable CA file: ValueError from the transport
        except BaseException:
            self._running = False
            raise

    def disconnect(self) -> None:
        """Close the connection cleanly (code 1000) and stay disconnected; saves the meters."""
        self._running = False
        self._reconnect_at = None
        if self._transport is not None:
            self._transport.stop()
        self.flush()

    def set_offline(self, offline: bool) -> None:
        """The "network cable" switch: off closes the connection and keeps it closed (the core
        goes offline and queues its messages); on lets it connect again."""
        self._offline = bool(offline)
        if self._transport is not None:
            self._transport.set_offline(self._offline)
        self._wake()

    @property
    def offline(self) -> bool:
        return self._offline

    def flush(self) -> None:
        """Save what the station keeps across runs (the meter registers) to the Store now."""
        if any(round(hw.meter.energy_wh, 3) != hw.saved_wh for hw in self._hardware):
            self._save_registers()

    def save_kept_writes(self) -> int:
        """Store now the writes a failing Store made the station keep in memory; returns how
        many it still cannot store (lost if the process ends)."""
        return self._store.flush()

    def _save_registers(self) -> None:
        """Save every connector's register (one document). A failing Store is logged; the
        registers are saved again at the next occasion (and at load never fall, see above)."""
        registers = {str(hw.n): round(hw.meter.energy_wh, 3) for hw in self._hardware}
        try:
            self._store.save(METER_DOCUMENT, registers)
        except Exception:
            _log().exception("[%s] meter registers not saved", self.settings.charge_box_id)
            return
        for hw in self._hardware:
            hw.saved_wh = registers[str(hw.n)]

    def _report_register(self, hw: _Hardware) -> int:
        """Energy.Active.Import.Register as the core reads it for a frame: saved first when it
        passed the saved one, so nothing leaves that a restart could fall below."""
        register = hw.meter.register_wh
        if hw.saved_wh is None or register > hw.saved_wh:
            self._save_registers()
        return register

    def _raise_registers(self) -> None:
        """A register saved lower than what the Store's transactions hold (a save lost to a
        failing Store, a corrupt or older document) continues from their highest value."""
        for hw in self._hardware:
            floor = self._engine.energy_floor(hw.n)
            if floor > hw.meter.energy_wh:
                _log().warning(
                    "[%s] connector %d: meter register %.3f Wh raised to %d Wh, reported before",
                    self.settings.charge_box_id, hw.n, hw.meter.energy_wh, floor,
                )  # fmt: skip
                hw.meter.energy_wh = float(floor)

    def _start_transport(self) -> None:
        if self._transport is not None:
            self._drop_transport()
        config = TransportConfig(
            url=self.settings.csms_url,
            charge_box_id=self.settings.charge_box_id,
            ocpp_version=self.settings.ocpp_version,
            auth_key=self._auth_key,
            ca_file=self.settings.ca_file,
            client_cert_file=self.settings.client_cert_file,
            client_key_file=self.settings.client_key_file,
            ping_interval_s=self._ping_interval(),
        )
        link = _Link(self)
        transport = self._factory(config, link)
        self._link, self._transport = link, transport
        if self._offline:
            transport.set_offline(True)
        transport.start()

    def _ping_interval(self) -> float | None:
        text = self._engine.get_configuration("WebSocketPingInterval")
        try:
            seconds = int(text) if text is not None else 0
        except ValueError:
            seconds = 0
        return float(seconds) if seconds > 0 else None

    def _drop_transport(self) -> None:
        """Stop the current transport and ignore anything it reports from now on; the engine
        learns at the next tick that its connection is gone (if it thought it had one)."""
        transport, self._transport = self._transport, None
        self._link = None
        self._inbox.append(("close", "transport replaced"))
        if transport is not None:
            transport.stop()

    # ------------------------------------------------------------------ transport events

    def _from_transport(self, link: _Link, item: tuple[str, str]) -> None:
        if link is not self._link:
            return
        self._inbox.append(item)
        self._wake()

    def _transport_state(self, link: _Link, state: ConnectionState, detail: str) -> None:
        if link is not self._link:
            return
        self._set_connection(state, detail)

    def _set_connection(self, state: ConnectionState, detail: str) -> None:
        if (state, detail) == (self._state, self._detail):
            return
        if state is ConnectionState.CONNECTING:
            self._echo.reset()
            self._echoes = False
        self._state, self._detail = state, detail
        self._emit(ConnectionChanged(state, detail))
        self._wake()

    # ------------------------------------------------------------------ controls

    def _hw(self, n: int) -> _Hardware:
        if type(n) is not int or not 1 <= n <= len(self._hardware):
            raise ValueError(f"no connector {n!r}: connectors are 1 to {len(self._hardware)}")
        return self._hardware[n - 1]

    def plug(self, n: int) -> None:
        """Plug a car in (a fresh one, with the configured state of charge)."""
        hw = self._hw(n)
        if not hw.plugged:
            settings = self.settings
            hw.meter.ev = EvModel(
                max_current_a=settings.ev_max_current_a,
                phases=settings.ev_phases,
                capacity_kwh=settings.ev_capacity_kwh,
                soc_percent=settings.ev_soc_percent,
                ready=hw.ev_ready,
            )
            hw.plugged = True
        self._wake()

    def unplug(self, n: int) -> None:
        self._hw(n).plugged = False
        self._wake()

    def set_ev_ready(self, n: int, ready: bool) -> None:
        """The car asks for energy (True) or pauses (False: SuspendedEV while charging)."""
        hw = self._hw(n)
        hw.ev_ready = bool(ready)
        hw.meter.ev.ready = hw.ev_ready
        self._wake()

    def set_evse_ready(self, n: int, ready: bool) -> None:
        """The EVSE offers energy (True) or not (False: SuspendedEVSE while charging)."""
        self._hw(n).evse_ready = bool(ready)
        self._wake()

    def inject_fault(
        self,
        n: int,
        error_code: str,
        info: str | None = None,
        vendor_error_code: str | None = None,
    ) -> None:
        """Simulate a fault: any OCPP 1.6 ChargePointErrorCode except NoError.

        EVCommunicationError is a warning (§7.6: the connector goes SuspendedEVSE, not Faulted);
        every other code makes the connector Faulted, which also stops energy flowing. ``info``
        and ``vendor_error_code`` (at most 50 characters each) go into the StatusNotification.
        """
        hw = self._hw(n)
        if error_code not in ERROR_CODES:
            codes = ", ".join(sorted(ERROR_CODES))
            raise ValueError(f"unknown error code {error_code!r}; use one of {codes}")
        for name, value, limit in (
            ("info", info, MAX_ERROR_INFO),
            ("vendor_error_code", vendor_error_code, MAX_VENDOR_ERROR_CODE),
        ):
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                raise ValueError(f"{name} must be a string of at most {limit} characters")
        info = info or None
        vendor_error_code = vendor_error_code or None
        hw.fault = FaultInfo(error_code, info, vendor_error_code)
        hw.fault_record = ErrorRecord(
            error_code,
            info,
            self.settings.vendor if vendor_error_code else None,
            vendor_error_code,
            faulted=error_code != "EVCommunicationError",
        )
        self._wake()

    def clear_fault(self, n: int) -> None:
        hw = self._hw(n)
        hw.fault = None
        hw.fault_record = None
        self._wake()

    def present_card(self, n: int, id_tag: str) -> None:
        """Hold an RFID card to connector ``n``'s reader: with no session it starts one (after
        authorization), the card of the running session (or one of its group) stops it."""
        self._hw(n)
        self._cards.append((n, _check_id_tag(id_tag)))
        self._wake()

    # ------------------------------------------------------------------ state

    def snapshot(self, n: int) -> ConnectorSnapshot:
        hw = self._hw(n)
        status, error_code = self._status_of(n)
        meter = hw.meter
        info = self._transaction(n)
        transaction_id = None if info is None else info.transaction_id
        id_tag = None if info is None else info.id_tag
        return ConnectorSnapshot(
            connector=n,
            status=status,
            error_code=error_code,
            plugged=hw.plugged,
            ev_ready=hw.ev_ready,
            evse_ready=hw.evse_ready,
            locked=hw.locked,
            fault=hw.fault,
            transaction_id=transaction_id,
            id_tag=id_tag,
            last_auth=hw.last_auth,
            power_w=meter.power_w,
            energy_wh=meter.energy_wh,
            current_a=list(meter.current_a),
            voltage_v=list(meter.voltage_v),
            soc_percent=meter.soc_percent if hw.plugged else None,
            limit=meter.limit,
            reservation=self._reservation(n),
            limit_w=meter.limit_w,
        )

    def _reservation(self, n: int) -> ReservationShown | None:
        found = self._engine.reservation(n)
        if found is None:
            return None
        return ReservationShown(
            found.reservation_id, found.connector, found.id_tag, found.expiry_date
        )

    def _status_of(self, n: int) -> tuple[str, str]:
        known = self._statuses.get(n)
        if known is not None:
            return known
        now = 0.0 if self._now is None else self._now
        return self._engine.status(n, now), "NoError"

    def _transaction(self, n: int) -> TransactionInfo | None:
        info = self._engine.transaction(n)
        if info is None or info.state == STOPPING:
            return None  # a stopped transaction whose messages are still queued is no session
        return info

    def subscribe(self, callback: Callable[[object], None]) -> Callable[[], None]:
        """Receive every engine event (FrameLogged, StatusChanged, SessionStarted, ...) and the
        station's own (ConnectionChanged, SnapshotChanged, StationRebooted); returns the
        unsubscribe function. A callback may use the controls; it must not call ``tick``."""
        self._subscribers = (*self._subscribers, callback)

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not callback)

        return unsubscribe

    def _emit(self, event: object) -> None:
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception:
                _log().exception("a station subscriber failed on %s", type(event).__name__)

    def _on_engine_event(self, event: object) -> None:
        kind = type(event)
        if kind is FrameLogged:
            self._on_frame(event)
            return
        if kind is StatusChanged:
            self._statuses[event.connector] = (event.status, event.error_code)
        elif kind is ConfigurationChanged:
            if event.key == "AuthorizationKey":
                self._auth_key = self._engine.get_configuration("AuthorizationKey") or None
                if self._running and self._now is not None:
                    self._reconnect_at = self._now + KEY_CHANGE_GRACE_S
        elif kind is AuthorizationResult:
            if 1 <= event.connector <= len(self._hardware):
                self._hardware[event.connector - 1].last_auth = LastAuth(event.id_tag, event.status)
        elif kind is SessionCancelled and event.reason == "ReservationConflict":
            if 1 <= event.connector <= len(self._hardware):
                self._hardware[event.connector - 1].last_auth = LastAuth(event.id_tag, event.reason)
        elif kind is SessionStopped:
            self._save_meters_soon = True
        elif kind is FirmwareProgress:
            if event.sha256 is not None:
                self._firmware_image = FirmwareImage(event.size, event.sha256)
            elif event.status == "Downloading" and (
                self._firmware is None or self._firmware.status != "Downloading"
            ):
                self._firmware_image = None  # a new download: the old image is gone
            self._firmware = event
        elif kind is DiagnosticsProgress:
            self._diagnostics = event
        self._emit(event)

    def _on_frame(self, event: FrameLogged) -> None:
        self._recent.append((self._engine.clock.wall(event.now), event.direction, event.text))
        echo = self._echo.observe(event.direction, event.text) and not self._echoes
        self._emit(event)
        if echo:
            self._echoes = True
            self._emit(BackendEchoes())

    def _on_reset(self, kind: str) -> bool:
        """The engine's reset hook: reboot after this poll (the engine must not be replaced
        while it runs)."""
        self._reboot = kind
        self._wake()
        return True

    def _wake(self) -> None:
        if self.waker is not None:
            self.waker()

    # ------------------------------------------------------------------ the tick

    def tick(self, now: float) -> float | None:
        """Advance meters, poll the engine, send frames; returns the next wake-up time (None:
        only after a control or a transport event, which call ``waker``)."""
        self._now = now
        engine = self._engine
        clock = engine.clock
        if isinstance(clock, _AnchoredClock):
            clock.anchor(now)
        self._deliver(now)
        cards, self._cards = self._cards, []
        for n, id_tag in cards:
            engine.present_card(n, id_tag, now)
        for hw in self._hardware:
            hw.meter.advance(now)  # account the energy of the power held since the last tick
        if any(hw.meter.energy_wh - (hw.saved_wh or 0.0) >= METER_SAVE_WH for hw in self._hardware):
            self._save_registers()
        frames = engine.poll(now)
        self._gate_meters(now)
        self._send(frames)
        if self._reboot is not None:
            kind, self._reboot = self._reboot, None
            self._do_reboot(kind, now)
            return now
        if self._reconnect_at is not None and now >= self._reconnect_at:
            self._reconnect_at = None
            if self._running:
                self._start_transport()
        if self._save_meters_soon:
            self._save_meters_soon = False
            self.flush()
        if self._subscribers:
            self._report_snapshots()
        return self._next_wakeup(now)

    def _deliver(self, now: float) -> None:
        engine = self._engine
        while self._inbox:
            kind, value = self._inbox.popleft()
            if kind == "message":
                engine.receive(value, now)
            elif kind == "open":
                engine.connected(now)
            elif engine.is_connected:  # "close": the end of a connection or a failed attempt
                engine.disconnected(now)

    def _gate_meters(self, now: float) -> None:
        """Energy flows only while the core says Charging; refresh the readings for ``now``."""
        for hw in self._hardware:
            meter = hw.meter
            meter.plugged = hw.plugged
            meter.evse_ready = self._status_of(hw.n)[0] == "Charging"
            meter.advance(now)

    def _send(self, frames: list[str]) -> None:
        transport = self._transport
        for text in frames:
            if transport is None or not transport.send(text):
                # The connection just closed: the engine learns it at the next tick and sends
                # an unanswered CALL again on the next connection.
                _log().info("[%s] frame not sent: not connected", self.settings.charge_box_id)

    def _next_wakeup(self, now: float) -> float | None:
        wake = self._engine.next_wakeup(now)
        if self._inbox or self._cards:
            return now
        if any(hw.meter.power_w > 0 for hw in self._hardware):
            refresh = now + METER_REFRESH_S
            wake = refresh if wake is None else min(wake, refresh)
        if self._reconnect_at is not None:
            wake = self._reconnect_at if wake is None else min(wake, self._reconnect_at)
        return wake

    def _report_snapshots(self) -> None:
        for hw in self._hardware:
            status = self._statuses.get(hw.n)
            meter = hw.meter
            info = self._transaction(hw.n)
            key = (
                status,
                hw.plugged,
                hw.ev_ready,
                hw.evse_ready,
                hw.locked,
                hw.fault,
                None if info is None else (info.state, info.transaction_id, info.id_tag),
                hw.last_auth,
                round(meter.power_w),
                round(meter.energy_wh),
                None if meter.soc_percent is None else round(meter.soc_percent, 1),
                meter.limit,
                self._engine.reservation(hw.n),
            )
            if key != hw.shown:
                hw.shown = key
                self._emit(SnapshotChanged(hw.n))

    def _do_reboot(self, kind: str, now: float) -> None:
        """Discard the engine and start a new one on the same Store, then connect again."""
        old = self._engine
        self.flush()
        if self._unsubscribe_engine is not None:
            self._unsubscribe_engine()
        wall = old.clock.wall(now)
        self._drop_transport()
        self._inbox.clear()  # all of it was for the discarded engine
        self._cards.clear()
        for hw in self._hardware:
            hw.locked = False
            hw.meter.set_limit(None)
        self._engine = self._build_engine(Clock(wall, now), old)
        for setup in self._engine_setups:
            try:
                setup(self._engine)
            except Exception:
                _log().exception("an engine setup failed after the reboot")
        self._emit(StationRebooted(kind))
        if self._running:
            self._start_transport()
        else:
            self._set_connection(ConnectionState.DISCONNECTED, "rebooted")

    def __repr__(self) -> str:
        return f"Station({self.settings.charge_box_id!r}, {self._state.value})"


def frame_json(event: FrameLogged) -> object:
    """The frame of a FrameLogged event, parsed when it is JSON (else the text, verbatim: also
    when it nests too deeply for the parser)."""
    try:
        return json.loads(event.text)
    except (ValueError, RecursionError):
        return event.text


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with each lone surrogate (valid in a JSON string, e.g. an idTag "\\ud800A" from a
    CSMS, but not encodable as UTF-8) written as its JSON escape: safe for a terminal, a file or
    a browser, readable, and JSON text stays JSON that parses back to the same strings."""
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


def _log() -> logging.Logger:
    return logging.getLogger("sim.station")
