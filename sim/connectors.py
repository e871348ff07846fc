"""The simulated hardware of one connector and how it is bound to the core's ConnectorIO.

Per connector: the cable, the EV-ready and EVSE-ready switches, an injected fault, the lock and
the meter (sim/meter.py). ``wire`` hands them to ``ChargePoint.connector(n)`` as inputs and takes
the charging limit (to the meter) and the lock as outputs. ``MeterRegisters`` keeps the energy
registers in the Store so that a register never falls across a kill, a reload or a reboot.
"""

from __future__ import annotations

import logging
import math
import zlib
from typing import TYPE_CHECKING

from ocpp_core.connector import ERROR_CODES, ErrorRecord
from sim.events import ConnectorSnapshot, FaultInfo, LastAuth, ReservationShown
from sim.meter import EvModel, MeterModel

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

    from ocpp_core import ChargePoint
    from ocpp_core.sessions import TransactionInfo
    from ocpp_core.store import Store
    from sim.settings import StationSettings

__all__ = [
    "METER_DOCUMENT",
    "METER_SAVE_WH",
    "Hardware",
    "MeterRegisters",
    "check_id_tag",
    "fault_of",
    "meter_wakeup",
    "new_ev",
    "new_meter",
    "wire",
]

METER_DOCUMENT = "sim-meters"
METER_SAVE_WH = 100.0
"""While power flows a connector's register is saved whenever it grew this much (Wh) since the
last save: the most energy a power cut can lose, besides values reported (saved before)."""

MAX_ID_TAG = 20  # IdToken: CiString20Type in OCPP 1.6 (2.0.1: 36, sim/versions.py)
MAX_ERROR_INFO = 50  # StatusNotification.info: CiString50Type
MAX_VENDOR_ERROR_CODE = 50  # StatusNotification.vendorErrorCode: CiString50Type


class Hardware:
    """One connector's simulated hardware and what the station shows about it."""

    __slots__ = (
        "ev_ready",
        "evse_ready",
        "fault",
        "fault_record",
        "last_auth",
        "lock_fails",
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
        self.lock_fails = False  # the lock jams: locking it fails (Station.set_lock_failing)
        self.fault: FaultInfo | None = None
        self.fault_record: ErrorRecord | None = None
        self.last_auth: LastAuth | None = None
        self.meter = meter
        self.saved_wh: float | None = None  # the register as last saved (None: not saved)
        self.shown: Hashable | None = None  # the last snapshot key reported by SnapshotChanged

    def snapshot(
        self,
        status: tuple[str, str],
        info: TransactionInfo | None,
        reservation: ReservationShown | None,
    ) -> ConnectorSnapshot:
        """What this connector looks like now (``status``: the core's status and error code,
        ``info``: the running transaction)."""
        meter = self.meter
        return ConnectorSnapshot(
            connector=self.n,
            status=status[0],
            error_code=status[1],
            plugged=self.plugged,
            ev_ready=self.ev_ready,
            evse_ready=self.evse_ready,
            locked=self.locked,
            fault=self.fault,
            transaction_id=None if info is None else info.transaction_id,
            id_tag=None if info is None else info.id_tag,
            seq_no=None if info is None else info.seq_no,
            id_token_type=None if info is None else info.id_token_type,
            last_auth=self.last_auth,
            power_w=meter.power_w,
            energy_wh=meter.energy_wh,
            current_a=list(meter.current_a),
            voltage_v=list(meter.voltage_v),
            soc_percent=meter.soc_percent if self.plugged else None,
            limit=meter.limit,
            reservation=reservation,
            limit_w=meter.limit_w,
            lock_fails=self.lock_fails,
        )

    def shown_key(self, status: tuple[str, str] | None, info: TransactionInfo | None) -> Hashable:
        """What a SnapshotChanged is reported for: the snapshot, rounded as it is shown."""
        meter = self.meter
        return (
            status,
            self.plugged,
            self.ev_ready,
            self.evse_ready,
            self.locked,
            self.lock_fails,
            self.fault,
            None if info is None else (info.state, info.transaction_id, info.id_tag, info.seq_no),
            self.last_auth,
            round(meter.power_w),
            round(meter.energy_wh),
            None if meter.soc_percent is None else round(meter.soc_percent, 1),
            meter.limit,
        )

    def is_plugged(self) -> bool:
        return self.plugged

    def ev_requesting(self) -> bool:
        return self.plugged and self.meter.ev.requesting

    def is_evse_ready(self) -> bool:
        return self.evse_ready

    def error_record(self) -> ErrorRecord | None:
        return self.fault_record

    def ev_soc(self) -> float | None:
        return self.meter.soc_percent if self.plugged else None

    def offered_a(self) -> float:
        """Current.Offered: what the station would deliver per phase under the limit."""
        meter = self.meter
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


def meter_wakeup(hardware: list[Hardware], now: float, refresh_s: float | None) -> float | None:
    """When the meters need a tick while power flows: every ``refresh_s`` (None: never, the
    energy is integrated when read) and the moment a battery is full (SuspendedEV)."""
    due: float | None = None
    for hw in hardware:
        if hw.meter.power_w > 0:
            seconds = hw.meter.full_in_s()
            for wait in (refresh_s, seconds):
                if wait is not None and (due is None or now + wait < due):
                    due = now + wait
    return due


def new_ev(settings: StationSettings, *, ready: bool = True) -> EvModel:
    """A fresh car as the settings describe it (each plug brings one)."""
    return EvModel(
        max_current_a=settings.ev_max_current_a,
        phases=settings.ev_phases,
        capacity_kwh=settings.ev_capacity_kwh,
        soc_percent=settings.ev_soc_percent,
        ready=ready,
    )


def new_meter(settings: StationSettings, n: int, register: object = None) -> MeterModel:
    """Connector ``n``'s meter, continuing from a stored ``register`` (Wh) when it is usable."""
    energy = 0.0
    number = isinstance(register, (int, float)) and not isinstance(register, bool)
    if number and math.isfinite(register) and register >= 0:  # type: ignore[arg-type, operator]
        energy = float(register)  # type: ignore[arg-type]
    seed = zlib.crc32(f"{settings.charge_box_id}:{n}".encode())
    return MeterModel(
        new_ev(settings),
        phases=settings.phases,
        max_current_a=settings.max_current_a,
        seed=seed,
        energy_wh=energy,
    )


_NEUTRAL = {"L1": "L1-N", "L2": "L2-N", "L3": "L3-N"}


def wire(engine: ChargePoint, hw: Hardware, *, soc: bool, register: Callable[[], int]) -> None:
    """Bind one connector's hardware to the engine's inputs and outputs (``soc``: the car has a
    modelled battery; ``register``: the energy register as the core reads it for a frame)."""
    io = engine.connector(hw.n)
    meter = hw.meter
    # Bound methods rather than closures: a fleet wires tens of thousands.
    io.plugged = hw.is_plugged
    # The EV asks for energy while it is ready and its battery is not full (else SuspendedEV).
    io.ev_ready = hw.ev_requesting
    io.evse_ready = hw.is_evse_ready
    io.add_error_input(hw.error_record)
    io.energy_wh = register
    io.power_w = meter.read_power_w
    currents = (meter.current_l1, meter.current_l2, meter.current_l3)
    voltages = (meter.voltage_l1, meter.voltage_l2, meter.voltage_l3)
    phases = ("L1", "L2", "L3")[: meter.phases]
    for phase, current in zip(phases, currents, strict=False):
        io.add_meter_input("Current.Import", current, phase=phase, unit="A")
    for phase, voltage in zip(phases, voltages, strict=False):
        io.add_meter_input("Voltage", voltage, phase=_NEUTRAL[phase], unit="V")
    io.add_meter_input("Current.Offered", hw.offered_a, unit="A")
    if soc:
        # The car's battery: a reading only while a car is plugged in (None: none now).
        io.add_meter_input("SoC", hw.ev_soc, location="EV", unit="Percent")

    def charging_limit(value: float | None, unit: str = "A") -> None:
        meter.set_limit(value, "W" if unit == "W" else "A")

    def lock(locked: bool) -> bool:
        if locked and hw.lock_fails:
            return False  # jammed open: the engine is told the lock failed
        hw.locked = bool(locked)
        return True

    io.charging_limit = charging_limit
    io.lock = lock


def fault_of(
    error_code: str, info: str | None, vendor_error_code: str | None, vendor: str
) -> tuple[FaultInfo, ErrorRecord]:
    """An injected fault as the user gave it and as the core reports it (ValueError: unusable)."""
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
    record = ErrorRecord(
        error_code,
        info,
        vendor if vendor_error_code else None,
        vendor_error_code,
        faulted=error_code != "EVCommunicationError",
    )
    return FaultInfo(error_code, info, vendor_error_code), record


def check_id_tag(id_tag: object, longest: int = MAX_ID_TAG) -> str:
    """An RFID card's idTag of at most ``longest`` characters, or ValueError."""
    if not isinstance(id_tag, str) or not id_tag or len(id_tag) > longest:
        raise ValueError(f"an idTag is 1 to {longest} characters")
    if not id_tag.isprintable():
        raise ValueError("an idTag must not contain control characters")
    return id_tag


class MeterRegisters:
    """Every connector's energy register in the Store document ``METER_DOCUMENT``.

    A register is saved before the core reads a higher value for a frame (meterStart,
    MeterValues, meterStop) and, while power flows, whenever it grew METER_SAVE_WH; at load it
    continues from the highest value the stored transactions hold if the saved one is lower.
    """

    def __init__(self, store: Store, label: str) -> None:
        self._store = store
        self._label = label  # the charge box id, for log lines
        self.hardware: list[Hardware] = []

    def load(self, settings: StationSettings) -> list[Hardware]:
        """The connectors' hardware, each meter continuing from its stored register."""
        stored = self._store.load(METER_DOCUMENT)
        registers = stored if isinstance(stored, dict) else {}
        self.hardware = [
            Hardware(n, new_meter(settings, n, registers.get(str(n))))
            for n in range(1, settings.connectors + 1)
        ]
        for hw in self.hardware:
            if registers.get(str(hw.n)) == hw.meter.energy_wh:
                hw.saved_wh = hw.meter.energy_wh
        return self.hardware

    def save_if_grown(self) -> None:
        """Save while power flows, every METER_SAVE_WH."""
        if any(hw.meter.energy_wh - (hw.saved_wh or 0.0) >= METER_SAVE_WH for hw in self.hardware):
            self.save()

    def flush(self) -> None:
        """Save every register that changed since it was last saved."""
        if any(round(hw.meter.energy_wh, 3) != hw.saved_wh for hw in self.hardware):
            self.save()

    def save(self) -> None:
        """Save every connector's register (one document). A failing Store is logged; the
        registers are saved again at the next occasion (and at load never fall, see above)."""
        registers = {str(hw.n): round(hw.meter.energy_wh, 3) for hw in self.hardware}
        try:
            self._store.save(METER_DOCUMENT, registers)
        except Exception:
            _log().exception("[%s] meter registers not saved", self._label)
            return
        for hw in self.hardware:
            hw.saved_wh = registers[str(hw.n)]

    def report(self, hw: Hardware) -> int:
        """Energy.Active.Import.Register as the core reads it for a frame: saved first when it
        passed the saved one, so nothing leaves that a restart could fall below."""
        register = hw.meter.register_wh
        if hw.saved_wh is None or register > hw.saved_wh:
            self.save()
        return register

    def raise_to(self, engine: ChargePoint) -> None:
        """A register saved lower than what the Store's transactions hold (a save lost to a
        failing Store, a corrupt or older document) continues from their highest value."""
        for hw in self.hardware:
            floor = engine.energy_floor(hw.n)
            if floor > hw.meter.energy_wh:
                _log().warning(
                    "[%s] connector %d: meter register %.3f Wh raised to %d Wh, reported before",
                    self._label, hw.n, hw.meter.energy_wh, floor,
                )  # fmt: skip
                hw.meter.energy_wh = float(floor)


def _log() -> logging.Logger:
    return logging.getLogger("sim.station")
