"""Wall time for a sans-IO engine: the caller supplies monotonic time, the CSMS supplies the date.

The engine never reads the system clock. It keeps an offset between the caller's monotonic ``now``
and Unix epoch seconds, set from the host at start (if the caller has a clock it trusts) and reset
whenever a BootNotification or Heartbeat response carries ``currentTime``.

Date-times are parsed by a hand-written RFC 3339 / ISO 8601 parser rather than
``datetime.fromisoformat`` because the latter accepts different inputs on 3.11 and 3.14 (fraction
lengths, ``Z``, short offsets): the engine must behave identically on CPython and in Pyodide.

A CSMS time outside SYNC_MIN..SYNC_MAX (years 2000 to 8999) is refused by ``Clock.sync``: no
real CSMS is that wrong, and a date near the end of year 9999 would make every later timestamp
unformattable (``datetime`` stops there). The upper bound leaves a thousand years of uptime
before that edge. ``Clock.wall`` saturates at the formattable range, so a timestamp built from
the clock never raises whatever monotonic ``now`` the caller passes.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from ocpp_core.log import logger

__all__ = [
    "DEFAULT_EPOCH",
    "SYNC_MAX",
    "SYNC_MIN",
    "Clock",
    "format_datetime",
    "parse_datetime",
]

# 2020-01-01T00:00:00Z: an obviously-unsynced but plausible date (not 1970, which some CSMSs reject
# and which makes logs look broken) used until the CSMS tells the time.
DEFAULT_EPOCH = 1577836800.0

_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The CSMS times Clock.sync accepts: 2000-01-01T00:00:00Z up to (excluding) 9000-01-01T00:00:00Z.
SYNC_MIN = 946684800.0
SYNC_MAX = 221845392000.0

# What format_datetime can write: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
_WALL_MIN = -62135596800.0
_WALL_MAX = 253402300799.0

_DATETIME = re.compile(
    r"""
    (?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})
    [Tt\ ]
    (?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})
    (?:[.,](?P<fraction>[0-9]{1,9}))?
    (?P<offset>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?
    """,
    re.VERBOSE | re.ASCII,
)


def parse_datetime(text: str) -> float:
    """Parse an ISO 8601 / RFC 3339 date-time into Unix epoch seconds.

    Accepts ``T``, ``t`` or a space between date and time; a fraction of 1-9 digits; and the offsets
    ``Z``, ``z``, ``+hh:mm``, ``+hhmm`` and ``+hh``. A leap second (``:60``) counts as the next
    second, as POSIX time does. A date-time without an offset is taken as UTC: OCPP requires UTC
    timestamps, so a CSMS that leaves the offset out almost always means UTC, and the station has no
    local time zone to assume instead. Any other input, including a non-string, raises ValueError
    so callers handle one exception.
    """
    match = _DATETIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    fields = match.groupdict()
    try:
        midnight = datetime(
            int(fields["year"]), int(fields["month"]), int(fields["day"]), tzinfo=UTC
        )
    except ValueError as exc:
        raise ValueError(f"invalid date in {text!r}: {exc}") from None
    seconds = _time_of_day(fields, text) - _offset_seconds(fields["offset"], text)
    whole = round((midnight - _UNIX_EPOCH).total_seconds()) + seconds
    fraction = fields["fraction"]
    return whole + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


def _time_of_day(fields: dict[str, str], text: str) -> int:
    hour, minute, second = int(fields["hour"]), int(fields["minute"]), int(fields["second"])
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError(f"invalid time of day in {text!r}")
    return hour * 3600 + minute * 60 + second


def _offset_seconds(offset: str | None, text: str) -> int:
    """Seconds east of UTC; no offset, ``Z`` and RFC 3339's ``-00:00`` all mean UTC."""
    if offset is None or offset in ("Z", "z"):
        return 0
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"invalid UTC offset in {text!r}")
    sign = -1 if offset[0] == "-" else 1
    return sign * (hours * 3600 + minutes * 60)


def format_datetime(epoch: float) -> str:
    """Format epoch seconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (UTC, rounded to the millisecond).

    One fixed shape for every frame: valid RFC 3339 (the ``date-time`` format of the OCPP schemas),
    always UTC as OCPP requires, and milliseconds because CSMSs order meter values and transaction
    events by timestamp.
    """
    if not math.isfinite(epoch):
        raise ValueError(f"cannot format non-finite time {epoch!r}")
    seconds, millis = divmod(round(epoch * 1000), 1000)
    try:
        moment = _UNIX_EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        raise ValueError(f"time {epoch!r} is outside years 1-9999") from None
    # Fields by hand: strftime("%Y") does not zero-pad years below 1000 on every platform.
    date = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
    return f"{date}T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{millis:03d}Z"


class Clock:
    """Maps the caller's monotonic time to wall time (epoch seconds).

    ``wall_at_start`` is the wall time at monotonic time ``mono_at_start`` when the host knows it
    (a simulator on a PC); without it the clock starts at DEFAULT_EPOCH. Either way ``is_synced``
    stays False until ``sync`` is called with a time from the CSMS, which is the only time the
    OCPP protocol treats as authoritative. Wall time may jump (either way) at a sync, like a real
    station's clock; use monotonic ``now`` for durations.
    """

    def __init__(self, wall_at_start: float | None = None, mono_at_start: float = 0.0) -> None:
        start = DEFAULT_EPOCH if wall_at_start is None else wall_at_start
        self._offset = _finite(start, "wall_at_start") - _finite(mono_at_start, "mono_at_start")
        self._synced = False

    @property
    def is_synced(self) -> bool:
        """True once the CSMS has told the time (BootNotification / Heartbeat ``currentTime``)."""
        return self._synced

    def sync(self, wall_epoch: float, now: float) -> bool:
        """Record that it is ``wall_epoch`` (epoch seconds) at monotonic time ``now``.

        A time outside SYNC_MIN..SYNC_MAX is refused with a warning (the clock keeps its
        previous offset and state); returns whether the clock was set.
        """
        wall = _finite(wall_epoch, "wall_epoch")
        offset = wall - _finite(now, "now")
        if not SYNC_MIN <= wall < SYNC_MAX:
            logger().warning(
                "CSMS time %r is outside years 2000-8999; clock not set", _describe(wall)
            )
            return False
        self._offset = offset
        self._synced = True
        return True

    def wall(self, now: float) -> float:
        """Wall time (epoch seconds) at monotonic time ``now``, within what can be formatted."""
        wall = now + self._offset
        if _WALL_MIN <= wall <= _WALL_MAX:
            return wall
        # Saturate (NaN too, as the latest time): an absurd ``now`` must not break a frame.
        return _WALL_MIN if wall < _WALL_MIN else _WALL_MAX

    def timestamp(self, now: float) -> str:
        """Wall time at ``now`` formatted for an OCPP frame."""
        return format_datetime(self.wall(now))


def _describe(wall: float) -> str:
    try:
        return format_datetime(wall)
    except ValueError:
        return f"{wall:.0f} s since 1970"


def _finite(value: float, what: str) -> float:
    """Reject NaN/infinity early: they would silently poison every later timestamp."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return number
