"""Charging profiles and the limits they impose: pure computation, no engine, no I/O.

Version-neutral: a Profile holds what OCPP 1.6 and 2.0.1 profiles share; ``parse_v16`` and
``parse_v201`` build one from each version's JSON (2.0.1's ChargingStationMaxProfile is the
CHARGE_POINT_MAX purpose). All times are wall-clock epoch seconds given by the caller.

One profile at wall time ``t`` (``_active``):

* outside [validFrom, validTo) it defines nothing (validFrom inclusive, validTo exclusive);
* its schedule starts at ``startSchedule``; Relative schedules, and schedules without
  ``startSchedule``, start at the transaction start (the *anchor*); Recurring schedules restart
  every day or week from ``startSchedule`` (recurrencyKind absent: Daily, as MicroOcpp), never
  before it;
* ``duration`` bounds the schedule, and so does the recurrence cycle (errata 3.43/3.44: periods
  beyond either are not executed); the last period lasts until then;
* without an anchor (no transaction) an anchored schedule is evaluated as if charging started
  now: its first period, which never changes by itself.

A connector's limit (``ProfileSet.limit``): within a purpose the highest stack level that defines
a limit at ``t`` prevails (§3.13.2; a profile that defines nothing lets the next level through,
errata 3.43). A TxProfile overrules the TxDefaultProfiles while the transaction runs (§3.13.1);
TxDefaultProfiles apply before a transaction too, so the limit a car will get is known before it
starts (MicroOcpp applies them only inside one, OCTT TC_056/066). A TxDefaultProfile of the
connector and one of connector 0 stack together; at the same level the connector's wins
(§3.13.1: it "SHALL be replaced only for that specific connector"). The result is capped by the
ChargePointMaxProfiles, whose limit is for all connectors combined (§3.13.3), so it is shared
equally by ``share`` connectors.

Units: limits are compared as current per phase. W becomes A with the nominal voltage and the
phases in use: the fewest of the station's phases and each applicable period's numberPhases
(absent: 3, §7.12). A limit is used "as is" for the phases actually available (errata 3.34).
Below the prevailing Tx(Default)Profile's minChargingRate charging is not worth it (§7.13: the
EV's minimum), so the limit becomes 0 rather than exceeding the schedule (§3.13.3 forbids that;
MicroOcpp raises it to minChargingRate).

External limits (a local energy manager's, 2.0.1 K11-K14): each an ``External`` (limit, unit,
share) given by the caller, capping the result like a ChargePointMaxProfile does (the station's
own divided among ``share`` connectors, an EVSE's with share 1); constant, so they never move
``until``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

from ocpp_core.clock import parse_datetime

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ocpp_core.rpc import JsonObject

__all__ = [
    "ABSOLUTE",
    "AMPS",
    "CHARGE_POINT_MAX",
    "DAILY",
    "MAX_COMPOSITE_STEPS",
    "MAX_RATE",
    "MAX_SECONDS",
    "RECURRING",
    "RELATIVE",
    "TX",
    "TX_DEFAULT",
    "WATTS",
    "WEEKLY",
    "Composite",
    "External",
    "Limit",
    "Period",
    "Profile",
    "ProfileSet",
    "Supply",
    "floor_tenth",
    "json_tenth",
    "parse_v16",
    "parse_v201",
]

CHARGE_POINT_MAX, TX_DEFAULT, TX = "ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"
ABSOLUTE, RECURRING, RELATIVE = "Absolute", "Recurring", "Relative"
DAILY, WEEKLY = "Daily", "Weekly"
AMPS, WATTS = "A", "W"
DEFAULT_PHASES = 3  # §7.12: "if numberPhases ... is absent, 3 SHALL be assumed"
MAX_COMPOSITE_STEPS = 4096  # limit changes evaluated for one composite: bounds work and reply
MAX_SECONDS = 2**31 - 1  # startPeriod and duration: a 32-bit integer, as most CSMSs send them
MAX_RATE = 1e9  # a limit or minChargingRate (A or W) beyond any station, so beyond reason

_CYCLES = {DAILY: 86_400, WEEKLY: 604_800}
_PURPOSES = frozenset({CHARGE_POINT_MAX, TX_DEFAULT, TX})
_V201_PURPOSES = {"ChargingStationMaxProfile": CHARGE_POINT_MAX, TX_DEFAULT: TX_DEFAULT, TX: TX}
_KINDS = frozenset({ABSOLUTE, RECURRING, RELATIVE})
_INF = math.inf


class Period(NamedTuple):
    """One schedule period: from ``start`` seconds after the schedule start, ``limit`` applies."""

    start: int
    limit: float
    phases: int | None = None


class Profile(NamedTuple):
    """An installed charging profile with its single schedule (times in epoch seconds)."""

    id: int
    connector: int
    stack_level: int
    purpose: str
    kind: str
    unit: str
    periods: tuple[Period, ...]
    recurrency: str | None = None
    valid_from: float | None = None
    valid_to: float | None = None
    transaction_id: int | str | None = None  # 1.6: the CSMS's integer; 2.0.1: the station's
    start: float | None = None  # startSchedule
    duration: int | None = None
    min_rate: float | None = None


class Supply(NamedTuple):
    """The station's electrical side: nominal voltage, phases and maximum current per connector."""

    voltage: float = 230.0
    phases: int = 3
    max_current: float = 32.0


class Limit(NamedTuple):
    """An effective limit: ``amps`` per phase on ``phases`` phases; ``value`` in ``unit`` is how
    the binding constraint (a profile, or the station's maximum) expresses it."""

    amps: float
    phases: int
    value: float
    unit: str

    def in_unit(self, unit: str, voltage: float) -> float:
        """The limit in ``unit`` (W = A x voltage x phases) for a frame (see ``json_tenth``)."""
        if unit == self.unit:
            return json_tenth(self.value)
        if unit == AMPS:
            return json_tenth(self.amps)
        return json_tenth(self.amps * voltage * self.phases)


class External(NamedTuple):
    """An external limit (a local energy manager's) on a connector or the station: ``limit`` in
    ``unit``, divided equally among ``share`` connectors."""

    limit: float
    unit: str
    share: int = 1


class Composite(NamedTuple):
    """A composite schedule: ``periods`` relative to ``start`` (epoch s), all in ``unit``."""

    start: float
    duration: int
    unit: str
    periods: tuple[Period, ...]


def floor_tenth(value: float) -> float:
    """Round down to one decimal (the schemas' multipleOf 0.1) without exceeding the limit."""
    tenths = math.floor(value * 10 + 1e-6)
    return tenths // 10 if tenths % 10 == 0 else tenths / 10


def json_tenth(value: float) -> float:
    """``floor_tenth``, lowered to a tenth that also passes a float-based multipleOf 0.1 check.

    A limit goes out as the shortest decimal of a binary float: 17.7 is a multiple of 0.1 in
    decimal (what a validator reading numbers as decimals checks), but 17.7 / 0.1 is
    176.99999999999997 in floating point, so validators working with plain floats (jsonschema,
    ajv) refuse it. About a third of all tenths are such; the next tenth down never is far: the
    value sent is at most 0.2 below ``floor_tenth`` (whole numbers always pass), never above.
    """
    tenths = math.floor(value * 10 + 1e-6)
    while tenths % 10:
        number = tenths / 10
        quotient = number / 0.1
        if int(quotient) == quotient:
            return number
        tenths -= 1
    return tenths // 10


# ---------------------------------------------------------------------- parsing (OCPP 1.6 JSON)


def parse_v16(data: object, connector: int) -> Profile:
    """A Profile from a 1.6 ``ChargingProfile`` object; ValueError says what is wrong.

    Checks what the schema cannot: stackLevel >= 0 (§7.8), non-negative numbers, numberPhases
    1..3, the first startPeriod 0 and ascending periods (errata 3.45/3.69), validFrom before
    validTo. A transactionId is kept for TxProfiles only (§7.8: "Only valid if ... TxProfile").
    """
    if not isinstance(data, dict):
        raise ValueError("the charging profile is not an object")
    purpose = _member(data, "chargingProfilePurpose", _PURPOSES)
    transaction_id = None
    if purpose == TX and "transactionId" in data:
        transaction_id = _integer(data, "transactionId", None)
    schedule = data.get("chargingSchedule")
    return _profile(data, "chargingProfileId", connector, purpose, schedule, transaction_id)


def parse_v201(data: object, evse: int) -> Profile:
    """A Profile from a 2.0.1 ``ChargingProfileType`` object; ValueError says what is wrong.

    The checks of ``parse_v16``, and: ChargingStationExternalConstraints is not a purpose a CSMS
    sets (K01); one chargingSchedule only (up to three are alternatives for an ISO 15118 EV,
    which a simulated AC station does not talk to); no phaseToUse (it needs phase switching,
    which the station does not offer). The transactionId (a string) is kept for TxProfiles.
    """
    if not isinstance(data, dict):
        raise ValueError("the charging profile is not an object")
    purpose = _V201_PURPOSES.get(data.get("chargingProfilePurpose"))  # type: ignore[arg-type]
    if purpose is None:
        raise ValueError("chargingProfilePurpose is missing or not one a CSMS may set")
    schedules = data.get("chargingSchedule")
    if not isinstance(schedules, list) or len(schedules) != 1:
        raise ValueError("chargingSchedule is not one schedule (more are for ISO 15118 only)")
    schedule = schedules[0]
    periods = schedule.get("chargingSchedulePeriod") if isinstance(schedule, dict) else None
    if isinstance(periods, list) and any(
        isinstance(item, dict) and "phaseToUse" in item for item in periods
    ):
        raise ValueError("phaseToUse needs phase switching, which this station does not offer")
    transaction_id = None
    if purpose == TX and "transactionId" in data:
        transaction_id = data["transactionId"]
        if not isinstance(transaction_id, str):
            raise ValueError("transactionId is not a string")
    return _profile(data, "id", evse, purpose, schedule, transaction_id)


def _profile(
    data: JsonObject,
    id_field: str,
    connector: int,
    purpose: str,
    schedule: object,
    transaction_id: int | str | None,
) -> Profile:
    """What both versions' profiles share, checked; ``id_field`` names the profile's id,
    ``schedule`` is its one chargingSchedule."""
    kind = _member(data, "chargingProfileKind", _KINDS)
    recurrency = data.get("recurrencyKind")
    if recurrency is not None and recurrency not in _CYCLES:
        raise ValueError("recurrencyKind is not Daily or Weekly")
    valid_from = _time(data, "validFrom")
    valid_to = _time(data, "validTo")
    if valid_from is not None and valid_to is not None and valid_from >= valid_to:
        raise ValueError("validFrom is not before validTo")
    if not isinstance(schedule, dict):
        raise ValueError("chargingSchedule is not an object")
    return Profile(
        id=_integer(data, id_field, None),
        connector=connector,
        stack_level=_integer(data, "stackLevel", 0),
        purpose=purpose,
        kind=kind,
        unit=_member(schedule, "chargingRateUnit", frozenset({AMPS, WATTS})),
        periods=_periods(schedule.get("chargingSchedulePeriod")),
        recurrency=(recurrency or DAILY) if kind == RECURRING else None,
        valid_from=valid_from,
        valid_to=valid_to,
        transaction_id=transaction_id,
        start=_time(schedule, "startSchedule"),
        duration=_seconds(schedule, "duration") if "duration" in schedule else None,
        min_rate=_number(schedule, "minChargingRate") if "minChargingRate" in schedule else None,
    )


def _periods(items: object) -> tuple[Period, ...]:
    if not isinstance(items, list) or not items:
        raise ValueError("chargingSchedulePeriod is not a non-empty list")
    periods: list[Period] = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError("a chargingSchedulePeriod is not an object")
        start = _seconds(item, "startPeriod")
        if (not periods and start != 0) or (periods and start <= periods[-1].start):
            raise ValueError("startPeriods must begin at 0 and ascend")
        phases = _integer(item, "numberPhases", 1) if "numberPhases" in item else None
        if phases is not None and phases > 3:
            raise ValueError("numberPhases is above 3")
        periods.append(Period(start, _number(item, "limit"), phases))
    return tuple(periods)


def _member(data: JsonObject, name: str, allowed: frozenset[str]) -> str:
    value = data.get(name)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} is missing or not allowed")
    return value


def _integer(data: JsonObject, name: str, minimum: int | None) -> int:
    value = data.get(name)
    if type(value) is not int:
        raise ValueError(f"{name} is not an integer")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} is below {minimum}")
    return value


def _seconds(data: JsonObject, name: str) -> int:
    """A non-negative integer of seconds, at most MAX_SECONDS (a larger one, valid JSON and
    valid for the schema, would overflow the time arithmetic)."""
    value = _integer(data, name, 0)
    if value > MAX_SECONDS:
        raise ValueError(f"{name} is above {MAX_SECONDS}")
    return value


def _number(data: JsonObject, name: str) -> float:
    value = data.get(name)
    if type(value) is not int and type(value) is not float:
        raise ValueError(f"{name} is not a non-negative number")
    if not 0 <= value <= MAX_RATE:  # NaN too; a huge int compares without becoming a float
        raise ValueError(f"{name} is not a number from 0 to {MAX_RATE:.0e}")
    return value


def _time(data: JsonObject, name: str) -> float | None:
    text = data.get(name)
    return None if text is None else parse_datetime(text)


# ---------------------------------------------------------------------- one profile at time t


def _active(profile: Profile, t: float, anchor: float | None) -> tuple[Period | None, float]:
    """The period of ``profile`` in force at ``t`` (None: it defines nothing) and the earliest
    later time at which that answer can change. ``anchor`` is the transaction start."""
    valid_to = profile.valid_to
    if valid_to is not None and t >= valid_to:
        return None, _INF
    if profile.valid_from is not None and t < profile.valid_from:
        return None, profile.valid_from
    horizon = _INF if valid_to is None else valid_to
    base = profile.start if profile.kind != RELATIVE else None
    if base is None:
        base = anchor
    end = _INF if profile.duration is None else profile.duration
    if base is None:  # no transaction yet: as if charging started now, so nothing moves
        return (profile.periods[0] if end > 0 else None), horizon
    cycle = _INF
    if profile.kind == RECURRING:
        cycle = _CYCLES[profile.recurrency or DAILY]  # parse_v16 sets it for RECURRING
        if t >= base:
            base += (t - base) // cycle * cycle
        end = min(end, cycle)
    if t < base:
        return None, min(base, horizon)
    offset = t - base
    if offset >= end:
        return None, min(base + cycle, horizon)
    periods = profile.periods
    index = len(periods) - 1
    while periods[index].start > offset:
        index -= 1
    following = periods[index + 1].start if index + 1 < len(periods) else _INF
    return periods[index], min(base + min(following, end), horizon)


def _prevailing(
    stack: Sequence[Profile], t: float, anchor: float | None
) -> tuple[Profile | None, Period | None, float]:
    """The first profile of ``stack`` (highest level first) defining a limit at ``t``."""
    until = _INF
    for profile in stack:
        period, change = _active(profile, t, anchor)
        if change < until:
            until = change
        if period is not None:
            return profile, period, until
    return None, None, until


# ---------------------------------------------------------------------- the installed set


class ProfileSet:
    """Installed profiles, grouped by purpose and ordered for evaluation; immutable."""

    __slots__ = ("_max", "_tx", "_tx_default", "profiles")

    def __init__(self, profiles: Iterable[Profile] = ()) -> None:
        self.profiles = tuple(profiles)
        # Highest stack level first; at the same level a connector's profile before connector 0's.
        ordered = sorted(self.profiles, key=lambda p: (-p.stack_level, p.connector == 0))
        self._max = tuple(p for p in ordered if p.purpose == CHARGE_POINT_MAX)
        self._tx_default = tuple(p for p in ordered if p.purpose == TX_DEFAULT)
        self._tx = tuple(p for p in ordered if p.purpose == TX)

    def __len__(self) -> int:
        return len(self.profiles)

    def limit(
        self,
        connector: int,
        t: float,
        supply: Supply,
        *,
        tx_start: float | None = None,
        share: int = 1,
        external: Sequence[External] = (),
    ) -> tuple[Limit | None, float]:
        """The limit of ``connector`` at wall time ``t`` (None: unlimited) and when it may
        change next (inf: only when something else changes). ``tx_start`` is the running
        transaction's start (None: no transaction); connector 0 gets the ChargePointMaxProfiles.
        """
        running = tx_start is not None
        return self._evaluate(connector, t, supply, tx_start, running, share, None, external)

    def composite(
        self,
        connector: int,
        at: float,
        duration: int,
        unit: str | None,
        supply: Supply,
        *,
        tx_start: float | None = None,
        share: int = 1,
        ceiling: float | None = None,
        external: Sequence[External] = (),
    ) -> Composite:
        """The composite schedule from the request moment ``at`` for ``duration`` s in ``unit``.

        In whole seconds, as OCPP counts them: the schedule starts at ``at`` rounded down to the
        second; the limit in force at ``at`` holds from offset 0 (§5.7: "from the moment the
        request is received"; a profile that took effect earlier in that second included), and a
        later change shows from the first whole second at or after it (two changes within one
        second: the later one). ``ceiling`` is the station's maximum current per phase (default:
        the supply's per connector); it caps every period and fills the gaps where no profile
        applies, since a 1.6 schedule cannot leave a gap (each startPeriod ends the previous
        period) and "charge as if no profile is installed" (§5.16) means the station's own
        maximum. Without a transaction, anchored schedules start with the schedule: the one a
        car would get if it started then. ``unit`` None: the unit of the first period's binding
        limit. After MAX_COMPOSITE_STEPS changes the schedule ends early (``duration`` says
        where).
        """
        start = float(math.floor(at))
        running = tx_start is not None
        anchor = tx_start if running else start
        cap = supply.max_current if ceiling is None else ceiling
        end = start + duration
        periods: list[Period] = []
        t = at
        for _ in range(MAX_COMPOSITE_STEPS):
            limit, until = self._evaluate(
                connector, t, supply, anchor, running, share, cap, external
            )
            assert limit is not None  # the ceiling always limits
            if unit is None:
                unit = limit.unit
            offset = math.ceil(t - start - 1e-6) if periods else 0
            period = Period(offset, limit.in_unit(unit, supply.voltage), limit.phases)
            if periods and periods[-1].start == offset:
                periods.pop()  # two changes within one second: the later one holds
            if not periods or periods[-1][1:] != period[1:]:
                periods.append(period)
            if until >= end:
                break
            t = until
        else:
            duration = math.ceil(t - start - 1e-6)
        assert unit is not None  # the first step chose it
        return Composite(start, duration, unit, tuple(periods))

    def _evaluate(
        self,
        connector: int,
        t: float,
        supply: Supply,
        anchor: float | None,
        running: bool,
        share: int,
        ceiling: float | None,
        external: Sequence[External] = (),
    ) -> tuple[Limit | None, float]:
        tx_profile = tx_period = None
        until = _INF
        if connector > 0:
            if running:
                stack = tuple(p for p in self._tx if p.connector == connector)
                tx_profile, tx_period, until = _prevailing(stack, t, anchor)
            if tx_period is None:
                stack = tuple(p for p in self._tx_default if p.connector in (0, connector))
                tx_profile, tx_period, later = _prevailing(stack, t, anchor)
                until = min(until, later)
        max_profile, max_period, later = _prevailing(self._max, t, anchor)
        until = min(until, later)
        if tx_period is None and max_period is None and ceiling is None and not external:
            return None, until
        phases = supply.phases
        for period in (tx_period, max_period):
            if period is not None:
                phases = min(phases, DEFAULT_PHASES if period.phases is None else period.phases)
        per_phase = supply.voltage * phases
        candidates = []  # (amps, value, unit)
        if tx_profile is not None and tx_period is not None:
            candidates.append(_candidate(tx_period.limit, tx_profile.unit, per_phase, 1))
        if max_profile is not None and max_period is not None:
            candidates.append(_candidate(max_period.limit, max_profile.unit, per_phase, share))
        candidates.extend(_candidate(e.limit, e.unit, per_phase, e.share) for e in external)
        if ceiling is not None:
            candidates.append((ceiling, ceiling, AMPS))
        amps, value, unit = min(candidates)
        if tx_profile is not None and tx_profile.min_rate is not None:
            minimum = tx_profile.min_rate
            if tx_profile.unit == WATTS:
                minimum /= per_phase
            if amps < minimum:
                amps = value = 0.0
        return Limit(amps, phases, value, unit), until


def _candidate(limit: float, unit: str, per_phase: float, share: int) -> tuple[float, float, str]:
    """(amps per phase, value in unit, unit) of a limit divided among ``share`` connectors."""
    value = limit / share
    return (value if unit == AMPS else value / per_phase), value, unit
