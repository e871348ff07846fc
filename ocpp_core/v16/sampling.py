"""Meter inputs turned into OCPP 1.6 MeterValue objects (§7.33 MeterValue, §7.43 SampledValue).

A configured item is a measurand, optionally with a phase (``Voltage.L1``, §9.1.17). A plain
measurand selects every input of the connector that measures it, on all phases and locations
(§3.16.3 "all possible locations and/or phases SHALL be reported"); with a phase, only the inputs
of that phase. Items are reported in the configured order, each input at most once.

Every sampledValue carries its context, measurand and location, and phase and unit when known:
explicit fields cost a few bytes and spare the CSMS the defaults of §7.43. Numbers become decimal
strings (integers as they are, other numbers with at most three decimals, never an exponent).
A reading becomes a ``Sample`` (ocpp_core.events) that keeps the number the text shows next to
the text, so the journal (the energy register, ``register_wh``) and the application
(MeterSampled) take numbers, never the frame's text. A SignedReading is passed through
unchanged with format SignedData. An input without a reading now
(None) is left out of that sample; so is one that raises or gives an unusable value: not a number
(a str, a bool), not finite, a negative register reading (``...Register`` measurands count up from
0), a SignedReading without signed data or with such a plain value. Inputs are called through
``ConnectorIO.sample``, which logs such an input once and once more when it works again.
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING, Any

from ocpp_core.connector import ENERGY_REGISTER, SignedReading, UnusableValue
from ocpp_core.events import Sample

if TYPE_CHECKING:
    from ocpp_core.connector import ConnectorIO, MeterInput

__all__ = [
    "BEGIN",
    "CLOCK",
    "END",
    "MEASURANDS",
    "PERIODIC",
    "TRIGGER",
    "UNITS",
    "Sampler",
    "check_input",
    "energy_register",
    "items_of",
    "meter_value",
    "register_wh",
    "selects",
    "supported",
]

# ReadingContext values this station emits (§7.35).
PERIODIC, CLOCK, BEGIN, END, TRIGGER = (
    "Sample.Periodic",
    "Sample.Clock",
    "Transaction.Begin",
    "Transaction.End",
    "Trigger",
)

MEASURANDS = frozenset(
    {
        "Current.Export",
        "Current.Import",
        "Current.Offered",
        "Energy.Active.Export.Interval",
        "Energy.Active.Export.Register",
        "Energy.Active.Import.Interval",
        "Energy.Active.Import.Register",
        "Energy.Reactive.Export.Interval",
        "Energy.Reactive.Export.Register",
        "Energy.Reactive.Import.Interval",
        "Energy.Reactive.Import.Register",
        "Frequency",
        "Power.Active.Export",
        "Power.Active.Import",
        "Power.Factor",
        "Power.Offered",
        "Power.Reactive.Export",
        "Power.Reactive.Import",
        "RPM",
        "SoC",
        "Temperature",
        "Voltage",
    }
)
# UnitOfMeasure (§7.45), with the errata's Hertz; "Celcius" is the spec's own misspelling.
UNITS = frozenset(
    {
        "Wh",
        "kWh",
        "varh",
        "kvarh",
        "W",
        "kW",
        "VA",
        "kVA",
        "var",
        "kvar",
        "A",
        "V",
        "K",
        "Celcius",
        "Celsius",
        "Fahrenheit",
        "Percent",
        "Hertz",
    }
)
_WH_PER_UNIT = {None: 1, "Wh": 1, "kWh": 1000}

Item = tuple[str, str | None]  # (measurand, phase or None)


def check_input(entry: MeterInput) -> None:
    """ConnectorIO.meter_check for 1.6: only measurands and units 1.6 can carry are reported."""
    if entry.measurand not in MEASURANDS:
        raise ValueError(f"OCPP 1.6 has no measurand {entry.measurand!r}")
    if entry.unit is not None and entry.unit not in UNITS:
        raise ValueError(f"OCPP 1.6 has no unit {entry.unit!r}")


def items_of(value: str) -> tuple[Item, ...]:
    """The items of a measurand list as the configuration stores it (already validated)."""
    if not value:
        return ()
    items: list[Item] = []
    for item in value.split(","):
        if item in MEASURANDS:
            items.append((item, None))
        else:
            measurand, _, phase = item.rpartition(".")
            items.append((measurand, phase))
    return tuple(items)


def _matches(item: Item, entry: MeterInput) -> bool:
    measurand, phase = item
    return entry.measurand == measurand and (phase is None or entry.phase == phase)


def _select(inputs: tuple[MeterInput, ...], items: tuple[Item, ...]) -> list[MeterInput]:
    chosen: list[MeterInput] = []
    for item in items:
        for entry in inputs:
            if _matches(item, entry) and entry not in chosen:
                chosen.append(entry)
    return chosen


def selects(inputs: tuple[MeterInput, ...], items: tuple[Item, ...]) -> bool:
    """Whether any input matches any item (a sample would have something to read)."""
    return any(_matches(item, entry) for item in items for entry in inputs)


def supported(value: str, inputs: list[MeterInput]) -> bool:
    """Every item of a measurand list has a matching input (§3.16.4: else Rejected)."""
    return all(any(_matches(item, entry) for entry in inputs) for item in items_of(value))


def energy_register(io: ConnectorIO) -> int | None:
    """The overall Energy.Active.Import.Register in whole Wh (meterStart/meterStop), or None."""
    for entry in io.meter_inputs:
        if entry.measurand != ENERGY_REGISTER or entry.phase is not None:
            continue
        factor = _WH_PER_UNIT.get(entry.unit)
        if factor is None:
            continue
        reading = _sample(io, entry)
        if reading is None or reading[2] is None:
            return None
        wh = reading[2] * factor  # an int stays exact
        if isinstance(wh, float) and not math.isfinite(wh):
            return None  # a finite kWh beyond the float range in Wh: no register to report
        return round(wh)
    return None


Reading = tuple[str, bool, int | float | None]  # (value text, signed, plain number as read)


def _sample(io: ConnectorIO, entry: MeterInput) -> Reading | None:
    """Read one meter input through the connector (a failing input is logged once)."""
    return io.sample(entry, entry.read, partial(_usable, entry))


def _usable(entry: MeterInput, raw: object) -> Reading | None:
    """What a meter input gave, ready for a sampledValue; None: no reading now.

    Raises UnusableValue for anything that cannot be reported (see the module docstring).
    """
    if raw is None:
        return None
    register = entry.measurand.endswith(".Register")
    if isinstance(raw, SignedReading):
        data, number = raw
        if not isinstance(data, str) or not data:
            raise UnusableValue("SignedReading without signed_data")
        if number is not None:
            number = _number(number, register)
            _text(number)
        return (data, True, number)
    number = _number(raw, register)
    return (_text(number), False, number)


def _number(reading: object, register: bool) -> int | float:
    """The reading as a number that can be reported; UnusableValue if it is not one."""
    if isinstance(reading, bool) or not isinstance(reading, (int, float)):
        raise UnusableValue(f"{type(reading).__name__}, expected a number")
    if isinstance(reading, float) and not math.isfinite(reading):
        raise UnusableValue(f"{reading!r}")
    if register and reading < 0:
        raise UnusableValue(f"negative register reading {reading!r}")
    return reading


def _text(reading: int | float) -> str:
    """A number as a decimal string without exponent; UnusableValue if it cannot be one."""
    if isinstance(reading, int):
        try:
            return str(int(reading))
        except ValueError:  # more digits than int-to-str allows
            raise UnusableValue("an integer too long to report") from None
    text = f"{reading:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _shown(number: int | float | None) -> int | float | None:
    """The number a value text shows: an integer as it is, a float rounded to three decimals
    (CPython rounds exactly as it formats ``.3f``; -0.0 is shown as 0)."""
    if number is None or isinstance(number, int):
        return number
    return round(number, 3) + 0.0


def register_wh(samples: tuple[Sample, ...]) -> int | None:
    """The highest overall Energy.Active.Import.Register of plain (unsigned) samples in Wh, as
    their texts show it (the journal's register floor), or None."""
    best: float | None = None
    for sample in samples:
        if sample.measurand != ENERGY_REGISTER or sample.phase is not None or sample.signed:
            continue
        factor = _WH_PER_UNIT.get(sample.unit)
        value = sample.value
        if factor is None or value is None:
            continue
        wh = value * factor  # an int stays exact; a kWh float may overflow Wh
        if (best is None or wh > best) and not (isinstance(wh, float) and math.isinf(wh)):
            best = wh
    return None if best is None else round(best)


def meter_value(timestamp: str, samples: tuple[Sample, ...]) -> dict[str, Any] | None:
    """The MeterValue object of a frame for ``samples`` taken at ``timestamp`` (None: none)."""
    if not samples:
        return None
    sampled = []
    for sample in samples:
        value: dict[str, str] = {"value": sample.text, "context": sample.context}
        if sample.signed:
            value["format"] = "SignedData"
        value["measurand"] = sample.measurand
        if sample.phase is not None:
            value["phase"] = sample.phase
        value["location"] = sample.location
        if sample.unit is not None:
            value["unit"] = sample.unit
        sampled.append(value)
    return {"timestamp": timestamp, "sampledValue": sampled}


class Sampler:
    """One sampling moment: each input is read at most once, whatever lists are built from it.

    So the MeterValues and the transactionData taken at the same instant agree.
    """

    __slots__ = ("_readings", "timestamp")

    def __init__(self, timestamp: str) -> None:
        self.timestamp = timestamp
        # Keyed by the entry's id (an input need not be hashable); the entries outlive this.
        self._readings: dict[int, Reading | None] = {}

    def samples(self, io: ConnectorIO, items: tuple[Item, ...], context: str) -> tuple[Sample, ...]:
        """The connector's selected inputs that have a reading now, as Samples."""
        if not items:
            return ()
        found = []
        for entry in _select(io.meter_inputs, items):
            reading = self._reading(io, entry)
            if reading is None:
                continue
            text, signed, number = reading
            found.append(
                Sample(
                    entry.measurand,
                    _shown(number),
                    text,
                    entry.unit,
                    entry.phase,
                    entry.location,
                    context,
                    signed,
                )
            )
        return tuple(found)

    def meter_value(
        self, io: ConnectorIO, items: tuple[Item, ...], context: str
    ) -> dict[str, Any] | None:
        """A MeterValue of the connector's selected inputs, or None when none has a reading."""
        return meter_value(self.timestamp, self.samples(io, items, context))

    def _reading(self, io: ConnectorIO, entry: MeterInput) -> Reading | None:
        """What an input gave, read on first use."""
        readings = self._readings
        key = id(entry)
        if key in readings:
            return readings[key]
        result = readings[key] = _sample(io, entry)
        return result
