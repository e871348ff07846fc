"""The components no functional block owns (OCPP 2.0.1 part 2 appendix 3, part 6 TC_B_53).

Controllers declared here as configuration keys (``VARIABLES``): DeviceDataCtrlr (the limits the
device-model messages are held to), ClockCtrlr, SecurityCtrlr (BasicAuthPassword is write-only:
never read back, reported or logged), ReservationCtrlr and SmartChargingCtrlr (their features
come with their blocks; ``Available`` says whether the engine routes their messages, so it is
true exactly when they do).

The station's own structure is live and per station, not a configuration key
(``station_variables(n)``): ChargingStation, EVSE/1..n and Connector/n/1 (one connector per EVSE),
whose AvailabilityState, Problem, Power, ACCurrent, ACVoltage and SupplyPhases are read from the
engine when asked through the ``LiveState`` the device model hands each getter, and
TemperatureSensor (the station's ``temperature`` input), ConnectorPlugRetentionLock/n/1's Problem
(the cable lock's last drive failed, G05: monitoring.py reports it by itself). The values variable
monitors may watch are ``monitored`` (AvailabilityState, Power, ACCurrent, ACVoltage, Temperature,
the lock's Problem).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ocpp_core.connector import SignedReading
from ocpp_core.v201.variables import VariableDeclarer, VariableDef

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.context import BlockContext
    from ocpp_core.smart_charging import Supply

__all__ = [
    "CONNECTOR_TYPE",
    "STATUSES",
    "VARIABLES",
    "LiveState",
    "declare_limits",
    "routed",
    "station_variables",
]

# ConnectorStatusEnumType: what AvailabilityState replicates (StatusNotification's values).
STATUSES = ("Available", "Occupied", "Reserved", "Unavailable", "Faulted")
CONNECTOR_TYPE = "cType2"  # the simulated AC station has an IEC 62196 Type 2 socket per EVSE
# GetReport/GetVariables/SetVariables: what one request may carry (part 6 TC_B_08, TC_B_53).
ITEMS_PER_MESSAGE = {"GetReport": 16, "GetVariables": 32, "SetVariables": 32}
BYTES_PER_MESSAGE = 65536
# Limits the smart-charging block enforces (the same figures as the 1.6 keys).
PROFILES_INSTALLED_MAX = 10
STACK_LEVEL_MAX = 8
PERIODS_PER_SCHEDULE = 24


class LiveState(Protocol):
    """What live values are read from: the engine's services and two peers' state."""

    @property
    def ctx(self) -> BlockContext: ...

    def status_of(self, connector: int, now: float) -> str:
        """ConnectorStatusEnumType of EVSE 1..n; 0: the station (Available or Unavailable)."""
        ...

    @property
    def supply(self) -> Supply: ...

    def profiles_installed(self) -> int:
        """How many charging profiles are installed."""
        ...


def routed(action: str) -> Any:
    """Live getter: whether the engine handles ``action`` (the feature is supported)."""
    return lambda state, definition, now: action in state.ctx.assembly.routes


def declare_limits(declarer: VariableDeclarer, message: str, items: int, size: int) -> None:
    """ItemsPerMessage[message] and BytesPerMessage[message] of a controller (read-only)."""
    declarer.integer(
        "ItemsPerMessage", items, variable_instance=message, mutability="ReadOnly", minimum=1
    )
    declarer.integer(
        "BytesPerMessage",
        size,
        variable_instance=message,
        mutability="ReadOnly",
        minimum=1,
        unit="B",
    )


_device = VariableDeclarer(__name__, "DeviceDataCtrlr")
for _message, _items in ITEMS_PER_MESSAGE.items():
    declare_limits(_device, _message, _items, BYTES_PER_MESSAGE)

_clock = VariableDeclarer(__name__, "ClockCtrlr")
_clock.date_time("DateTime", "", live=lambda state, definition, now: state.ctx.clock.timestamp(now))
# The engine's only time source is the CSMS (Heartbeat and BootNotification currentTime).
_clock.sequence("TimeSource", "Heartbeat", ("Heartbeat",))

# passwordString (part 2): 16 to 40 of these characters.
_PASSWORD_CHARACTERS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-_=:+|@."
)


def _password(text: object) -> bool:
    return isinstance(text, str) and 16 <= len(text) <= 40 and set(text) <= _PASSWORD_CHARACTERS


_security = VariableDeclarer(__name__, "SecurityCtrlr")
# Errata 2023-12 §2.17.3: dataType string, maxLimit 40 (its longest length).
_security.string(
    "BasicAuthPassword", "", mutability="WriteOnly", check=_password, max_length=40, max_limit=40
)
_security.string("OrganizationName", "")
_security.integer("SecurityProfile", 1, mutability="ReadOnly", minimum=1, maximum=3)

_reservation = VariableDeclarer(__name__, "ReservationCtrlr")
_reservation.boolean("Available", False, live=routed("ReserveNow"))
_reservation.boolean("Enabled", True)

_smart = VariableDeclarer(__name__, "SmartChargingCtrlr")
_smart.boolean("Available", False, live=routed("SetChargingProfile"))
_smart.boolean("Enabled", True)
_smart.integer(
    "Entries",
    0,
    variable_instance="ChargingProfiles",
    live=lambda state, definition, now: state.profiles_installed(),
    maximum=PROFILES_INSTALLED_MAX,
)
_smart.decimal("LimitChangeSignificance", "1.0", unit="Percent", min_limit=0.0, max_limit=100.0)
_smart.integer("PeriodsPerSchedule", PERIODS_PER_SCHEDULE, mutability="ReadOnly")
_smart.integer("ProfileStackLevel", STACK_LEVEL_MAX, mutability="ReadOnly")
_smart.members("RateUnit", "A,W", ("A", "W"), mutability="ReadOnly")
# The simulated AC station cannot choose the phase of 1-phase charging (phaseToUse is refused).
_smart.boolean("ACPhaseSwitchingSupported", False, mutability="ReadOnly")
# Read by the external-limit part of smart charging (NotifyChargingLimit, K12/K13).
_smart.boolean("ExternalControlSignalsEnabled", True)
_smart.boolean("NotifyChargingLimitWithSchedules", False)

VARIABLES = (*_device.keys, *_clock.keys, *_security.keys, *_reservation.keys, *_smart.keys)


# ---------------------------------------------------------------- the station's own components


def _state(state: LiveState, definition: VariableDef, now: float) -> str:
    return state.status_of(definition.evse or 0, now)


def _problem(state: LiveState, definition: VariableDef, now: float) -> bool:
    return state.status_of(definition.evse or 0, now) == "Faulted"


def _lock_problem(state: LiveState, definition: VariableDef, now: float) -> bool:
    return state.ctx.connectors[definition.evse or 0].lock_failed


def _phases(state: LiveState, definition: VariableDef, now: float) -> int:
    return state.supply.phases


def _power(state: LiveState, definition: VariableDef, now: float) -> float:
    """The EVSE's active power (W) from its meter input; 0 without one or without a reading."""
    io = state.ctx.connectors[definition.evse or 0]
    read = io.power_w
    reading = None if read is None else io.sample("power_w", read)
    if isinstance(reading, SignedReading):
        reading = reading.value
    return float(reading) if isinstance(reading, (int, float)) and reading >= 0 else 0.0


def _meter(measurand: str, combine: Callable[[list[float]], float]) -> Any:
    """Live getter: the EVSE's readings of ``measurand`` (one per phase) combined; 0 without."""

    def read(state: LiveState, definition: VariableDef, now: float) -> float:
        io = state.ctx.connectors[definition.evse or 0]
        values = []
        for entry in io.meter_inputs:
            if entry.measurand == measurand:
                reading = io.sample(entry, entry.read)
                if isinstance(reading, SignedReading):
                    reading = reading.value
                if isinstance(reading, (int, float)) and not isinstance(reading, bool):
                    values.append(float(reading))
        return combine(values) if values else 0.0

    return read


def _temperature(state: LiveState, definition: VariableDef, now: float) -> float:
    """The station's temperature input (connector 0, Celsius); 0 without one or a reading."""
    io = state.ctx.connectors[0]
    read = io.temperature
    reading = None if read is None else io.sample("temperature", read)
    ok = isinstance(reading, (int, float)) and not isinstance(reading, bool)
    return float(reading) if ok else 0.0  # type: ignore[arg-type]


def _power_limit(state: LiveState, definition: VariableDef) -> float:
    supply = state.supply
    return supply.voltage * supply.phases * supply.max_current


def _current_limit(state: LiveState, definition: VariableDef) -> float:
    return state.supply.max_current


_max_phase = _meter("Current.Import", max)  # ACCurrent: the highest phase current (A)
_mean_phase = _meter("Voltage", lambda values: sum(values) / len(values))  # ACVoltage (V)


def _identity(field: str) -> Any:
    return lambda state, definition, now: getattr(state.ctx.identity, field) or ""


def _declare_common(declarer: VariableDeclarer, **place: Any) -> None:
    """AvailabilityState, Available, Problem and SupplyPhases of a station, EVSE or connector."""
    declarer.option(
        "AvailabilityState", "Available", STATUSES, live=_state, monitored=True, **place
    )
    declarer.boolean("Available", True, mutability="ReadOnly", **place)
    declarer.boolean("Problem", False, live=_problem, **place)
    declarer.integer("SupplyPhases", 3, live=_phases, maximum=3, **place)


def _build(evses: int) -> tuple[VariableDef, ...]:
    station = VariableDeclarer(__name__, "ChargingStation")
    _declare_common(station)
    station.string("VendorName", "", live=_identity("vendor"))
    station.string("Model", "", live=_identity("model"))
    station.string("SerialNumber", "", live=_identity("serial_number"))
    sensor = VariableDeclarer(__name__, "TemperatureSensor")
    sensor.decimal(
        "Temperature",
        "0",
        live=_temperature,
        unit="Celsius",
        min_limit=-50.0,
        max_limit=150.0,
        monitored=True,
    )
    evse = VariableDeclarer(__name__, "EVSE")
    connector = VariableDeclarer(__name__, "Connector")
    lock = VariableDeclarer(__name__, "ConnectorPlugRetentionLock")
    for number in range(1, evses + 1):
        _declare_common(evse, evse=number)
        evse.decimal(
            "Power", "0", live=_power, unit="W", max_limit=_power_limit, monitored=True, evse=number
        )
        evse.decimal(
            "ACCurrent",
            "0",
            live=_max_phase,
            unit="A",
            min_limit=0.0,
            max_limit=_current_limit,
            monitored=True,
            evse=number,
        )
        evse.decimal(
            "ACVoltage",
            "0",
            live=_mean_phase,
            unit="V",
            min_limit=0.0,
            max_limit=1000.0,
            monitored=True,
            evse=number,
        )
        place = {"evse": number, "connector": 1}
        _declare_common(connector, **place)
        connector.string("ConnectorType", CONNECTOR_TYPE, mutability="ReadOnly", **place)
        lock.boolean("Problem", False, live=_lock_problem, monitored=True, **place)
    ordered = list(station.keys)
    for number in range(1, evses + 1):
        ordered += [key for key in evse.keys if key.evse == number]
        ordered += [key for key in connector.keys if key.evse == number]
        ordered += [key for key in lock.keys if key.evse == number]
    return (*ordered, *sensor.keys)


_STATIONS: dict[int, tuple[VariableDef, ...]] = {}


def station_variables(evses: int) -> tuple[VariableDef, ...]:
    """The live variables of a station with ``evses`` EVSEs (built once per count, shared)."""
    found = _STATIONS.get(evses)
    if found is None:
        found = _STATIONS[evses] = _build(evses)
    return found
