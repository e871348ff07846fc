"""Meter inputs turned into Samples, whatever the protocol version (the number next to the text).

A configured item is a measurand, optionally with a phase (1.6's ``Voltage.L1``). A plain
measurand selects every input of the connector that measures it, on all phases and locations
(OCPP 1.6 §3.16.3 and 2.0.1 J01/J02 alike: "all possible locations and/or phases"); with a
phase, only the inputs of that phase. Items are reported in the configured order, each input
at most once.

A reading becomes a ``Sample`` (ocpp_core.events) that keeps the number the text shows next to
the text: 1.6 sends the text, 2.0.1 the number, and the journal (the energy register,
``register_wh``) and the application (MeterSampled) take numbers, never a frame's text. Numbers
become decimal strings (integers as they are, other numbers with at most three decimals, never an
exponent) and the number is what that text shows. A SignedReading keeps its signed data as the
text. An input without a reading now (None) is left out of that sample; so is one that raises or
gives an unusable value: not a number (a str, a bool), not finite, a negative register reading
(``...Register`` measurands count up from 0), a SignedReading without signed data or with such a
plain value. Inputs are called through ``ConnectorIO.sample``, which logs such an input once and
once more when it works again.

How a Sample looks in a frame (1.6 SampledValue text, 2.0.1 number and unitOfMeasure) is the
version's business; so are the measurands and units it accepts. Shared too: the schedule rules of
periodic sampling (``realign``) and of clock-aligned sampling (``AlignedBoundary``).
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING

from ocpp_core.connector import ENERGY_REGISTER, SignedReading, UnusableValue
from ocpp_core.events import Sample

if TYPE_CHECKING:
    from ocpp_core.connector import ConnectorIO, MeterInput

__all__ = [
    "ALIGNED_LATENESS",
    "BEGIN",
    "CLOCK",
    "END",
    "PERIODIC",
    "TRIGGER",
    "AlignedBoundary",
    "Item",
    "Sampler",
    "covered",
    "energy_register",
    "realign",
    "register_wh",
    "selects",
]

# ReadingContext values a station emits (1.6 §7.35, 2.0.1 ReadingContextEnumType).
PERIODIC, CLOCK, BEGIN, END, TRIGGER = (
    "Sample.Periodic",
    "Sample.Clock",
    "Transaction.Begin",
    "Transaction.End",
    "Trigger",
)
ALIGNED_LATENESS = 60.0  # seconds a clock-aligned reading may trail its boundary

_WH_PER_UNIT = {None: 1, "Wh": 1, "kWh": 1000}

Item = tuple[str, str | None]  # (measurand, phase or None)


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


def covered(items: tuple[Item, ...], inputs: list[MeterInput]) -> bool:
    """Every item has a matching input (a measurand list naming one without: refused)."""
    return all(any(_matches(item, entry) for entry in inputs) for item in items)


def energy_register(io: ConnectorIO) -> int | None:
    """The overall Energy.Active.Import.Register in whole Wh, or None."""
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
    """What a meter input gave, ready for a sampled value; None: no reading now.

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


def realign(due: float, interval: float, now: float) -> float:
    """The anchor of a periodic schedule that came due at ``due`` and is served at ``now``:
    the schedule keeps its phase, and samples missed while the caller did not poll are skipped."""
    anchor = due + interval * ((now - due) // interval)
    if anchor + interval <= now:  # the float division rounded a whole period down
        anchor += interval
    return anchor


class AlignedBoundary:
    """The next clock-aligned boundary of one interval: multiples of it after midnight UTC.

    When the clock jumps forward (a sync) past a boundary, that boundary counts if the reading is
    at most ALIGNED_LATENESS late, else it is skipped (MicroOcpp's rule: a later reading would
    not describe it); when it jumps back, the next boundary after the new time is awaited.
    """

    __slots__ = ("next",)

    def __init__(self) -> None:
        self.next: float | None = None  # wall time of the boundary awaited; None: not armed

    def passed(self, wall: float, interval: int) -> bool:
        """Whether a boundary is to be sampled at wall time ``wall`` (then the next is armed)."""
        boundary = self.next
        if boundary is None or wall < boundary - interval:  # not armed yet, or the clock went back
            self.next = (wall // interval + 1) * interval
            return False
        if wall < boundary:
            return False
        latest = wall // interval * interval
        self.next = latest + interval
        return wall - latest <= ALIGNED_LATENESS


class Sampler:
    """One sampling moment: each input is read at most once, whatever lists are built from it.

    So the messages and the transaction's data taken at the same instant agree.
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

    def _reading(self, io: ConnectorIO, entry: MeterInput) -> Reading | None:
        """What an input gave, read on first use."""
        readings = self._readings
        key = id(entry)
        if key in readings:
            return readings[key]
        result = readings[key] = _sample(io, entry)
        return result
