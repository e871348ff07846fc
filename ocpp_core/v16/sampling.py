"""OCPP 1.6's side of sampling: its MeterValue objects (§7.33 MeterValue, §7.43 SampledValue),
measurands, units and measurand lists; the readings themselves come from ``ocpp_core.sampling``.

A configured item is a measurand, optionally with a phase (``Voltage.L1``, §9.1.17). Every
sampledValue carries its context, measurand and location, and phase and unit when known:
explicit fields cost a few bytes and spare the CSMS the defaults of §7.43. The value is the
Sample's text; a SignedReading is passed through unchanged with format SignedData.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_core.sampling import (
    BEGIN,
    CLOCK,
    END,
    PERIODIC,
    TRIGGER,
    Item,
    Sampler,
    covered,
    energy_register,
    register_wh,
    selects,
)

if TYPE_CHECKING:
    from ocpp_core.connector import MeterInput
    from ocpp_core.events import Sample

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


def supported(value: str, inputs: list[MeterInput]) -> bool:
    """Every item of a measurand list has a matching input (§3.16.4: else Rejected)."""
    return covered(items_of(value), inputs)


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
