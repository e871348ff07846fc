"""The "Monitoring" panel's model (plain Python, OCPP 2.0.1 N02-N08): the variable monitors in
force and the events they raised (Station.monitors / Station.monitor_events) as rows of text,
and the temperature control's checks.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ocpp_core.operations import MonitorEventRow, MonitorRow

__all__ = [
    "TEMPERATURE_RANGE",
    "EventLine",
    "MonitorLine",
    "event_lines",
    "monitor_lines",
    "parse_temperature",
]

TEMPERATURE_RANGE = (-50.0, 150.0)  # what Station.set_temperature accepts (Celsius)
_KINDS = {
    "HardWiredMonitor": "hard-wired",
    "PreconfiguredMonitor": "preconfigured",
    "CustomMonitor": "custom",
}


class MonitorLine(NamedTuple):
    """One monitor in force: its test id suffix and its cells."""

    key: str  # "monitor-7"
    where: str  # "EVSE/1 Power"
    rule: str  # "UpperThreshold 30", "Delta 5", "Periodic 60 s"
    severity: str
    kind: str  # hard-wired, preconfigured, custom
    state: str  # "tripped", "" (thresholds), "transaction only"


class EventLine(NamedTuple):
    """One event raised, newest first in the panel."""

    key: str  # "event-12", "event-unsent-3" (not sent: filtered or dropped)
    when: str  # the time of day (UTC) of the event
    text: str  # "Temperature 61.0 Alerting (monitor 2)", "... cleared"
    sent: bool


def _number(value: float) -> str:
    return f"{value:g}"


def monitor_lines(rows: list[MonitorRow]) -> list[MonitorLine]:
    """The monitors in force, in the station's order."""
    lines = []
    for row in rows:
        rule = f"{row.type} {_number(row.value)}"
        if row.type in ("Periodic", "PeriodicClockAligned"):
            rule += " s"
        state = "tripped" if row.tripped else ""
        if row.transaction:
            state = " · ".join(part for part in (state, "transaction only") if part)
        lines.append(
            MonitorLine(
                f"monitor-{row.id}",
                f"{row.component} {row.variable}",
                rule,
                str(row.severity),
                _KINDS.get(row.kind, row.kind),
                state,
            )
        )
    return lines


def _clock_time(timestamp: str) -> str:
    """``2026-12-06T02:16:02.200Z`` as ``02:16:02`` (the panel's column; other text as it is)."""
    if len(timestamp) >= 19 and timestamp[10] == "T":
        return timestamp[11:19]
    return timestamp


def event_lines(rows: list[MonitorEventRow]) -> list[EventLine]:
    """The events, newest first; an event not sent says why it has no eventId."""
    lines = []
    for index, row in enumerate(reversed(rows)):
        text = f"{row.component} {row.variable} {row.actual_value} {row.trigger}"
        if row.cleared:
            text += " cleared"
        if row.kind == "HardWiredNotification":  # the station's own, no monitor (G05)
            text += " (hard-wired notification)"
        else:
            text += f" (monitor {row.monitor_id})"
        if not row.sent:
            text += " · not sent"
        key = f"event-{row.event_id}" if row.sent else f"event-unsent-{len(rows) - index}"
        lines.append(EventLine(key, _clock_time(row.timestamp), text, row.sent))
    return lines


def parse_temperature(text: str) -> float | None:
    """The control's text as a temperature in range (None: not a number or out of range)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    low, high = TEMPERATURE_RANGE
    if not math.isfinite(value) or not low <= value <= high:
        return None
    return value
