"""Configuration keys of metering (OCPP 1.6 §9.1); the metering block (issue 4) comes later.

Measurand lists accept the 1.6 Measurand values, optionally with a phase (``Voltage.L1``,
§9.1.17), at most ``...MaxLength`` items. ConnectorPhaseRotation items are
``<connectorId>.<rotation>`` (§9.1.7), at most one per connector including 0.
"""

from __future__ import annotations

from ocpp_core.config import KeyDeclarer, R

__all__ = ["KEYS", "MEASURANDS", "PHASES", "ROTATIONS"]

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
PHASES = frozenset({"L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1"})
_MEASURAND_ITEMS = MEASURANDS | frozenset(f"{m}.{p}" for m in MEASURANDS for p in PHASES)
ROTATIONS = frozenset({"NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR"})
MAX_MEASURANDS = 8

_keys = KeyDeclarer(__name__)
_keys.integer("ClockAlignedDataInterval", 0)
_keys.integer("MeterValueSampleInterval", 60)
for _name, _default in (
    ("MeterValuesAlignedData", "Energy.Active.Import.Register"),
    ("MeterValuesSampledData", "Energy.Active.Import.Register"),
    ("StopTxnAlignedData", ""),
    ("StopTxnSampledData", ""),
):
    _keys.integer(f"{_name}MaxLength", MAX_MEASURANDS, access=R)
    _keys.csl(_name, _default, members=_MEASURAND_ITEMS, max_items=f"{_name}MaxLength")
_keys.integer(
    "ConnectorPhaseRotationMaxLength", 0, access=R, compute=lambda engine: len(engine.connectors)
)
_keys.csl(
    "ConnectorPhaseRotation",
    "",
    members=lambda item: _is_rotation(item),
    max_items="ConnectorPhaseRotationMaxLength",
)

KEYS = tuple(_keys.keys)


def _is_rotation(item: str) -> bool:
    """``<connectorId>.<rotation>``, e.g. ``1.RST`` (§9.1.7)."""
    connector, _, rotation = item.partition(".")
    return connector.isascii() and connector.isdigit() and rotation in ROTATIONS
