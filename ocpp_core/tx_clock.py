"""Timestamps of transaction messages taken before the CSMS set the clock (both versions).

Timestamps taken before the CSMS set the clock (a transaction before the BootNotification, or
the PowerLoss stop right after a restart) are moved by the clock's correction when they are sent
after it in the same run, like MicroOcpp's adjustPrebootTimestamp; the corrected message is
journaled again. That covers every timestamp of a message journaled before the sync, and the
readings in the transactionData of a StopTransaction journaled after it that were taken before
it: those are told by value, being within the unsynced wall times this run saw (``Presync``;
the journal notes every poll and every start). If the CSMS sets the clock *back* by d seconds, a
reading taken within d seconds after the sync is in that range too and is moved as well.
Without a correction in the same run timestamps go as they were taken, except a
StopTransaction's: one that would lie before its StartTransaction is sent with the start time +
1 s (MicroOcpp's rule, ``not_before_start``).
"""

from __future__ import annotations

from typing import Any

from ocpp_core.clock import format_datetime, parse_datetime

__all__ = ["Presync", "not_before_start", "shifted", "shifted_all"]

_MS = 0.001  # timestamps are rounded to the millisecond


def shifted(timestamp: str, delta: float) -> str:
    """An RFC 3339 timestamp moved by ``delta`` seconds."""
    return format_datetime(parse_datetime(timestamp) + delta)


def not_before_start(stop: dict[str, Any], start: str) -> dict[str, Any]:
    """A StopTransaction whose timestamp could not be corrected and lies before its start gets
    the start time + 1 s, as MicroOcpp sends it: a stop before its start is no use to a CSMS."""
    try:
        if parse_datetime(stop["timestamp"]) >= parse_datetime(start):
            return stop
    except (KeyError, TypeError, ValueError):
        return stop
    return {**stop, "timestamp": shifted(start, 1.0)}


def shifted_all(meter_values: list[dict[str, Any]], delta: float) -> list[dict[str, Any]]:
    """Meter values (copies) with their timestamps moved by ``delta`` seconds."""
    return [{**mv, "timestamp": shifted(mv["timestamp"], delta)} for mv in meter_values]


class Presync:
    """The wall times this run saw before the CSMS first set the clock (the unsynced frame)."""

    __slots__ = ("earliest", "latest", "offset")

    def __init__(self, offset: float) -> None:
        self.offset = offset  # clock.wall(0.0) while unsynced
        self.earliest = float("inf")
        self.latest = float("-inf")

    def saw(self, wall: float) -> None:
        self.earliest = min(self.earliest, wall)
        self.latest = max(self.latest, wall)

    def moved(self, meter_values: list[dict[str, Any]], delta: float) -> list[dict[str, Any]]:
        """The meter values with those taken before the sync moved by ``delta``."""
        low, high = self.earliest - _MS, self.latest + _MS
        return [
            {**mv, "timestamp": shifted(mv["timestamp"], delta)}
            if low <= parse_datetime(mv["timestamp"]) <= high
            else mv
            for mv in meter_values
        ]
