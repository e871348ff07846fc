"""Charging-profile computation (ocpp_core.smart_charging) against hand-computed expectations.

Times are wall-clock epoch seconds. MONDAY is 2024-01-01T00:00:00Z (a Monday); H is an hour.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from ocpp_core.clock import format_datetime
from ocpp_core.smart_charging import (
    MAX_COMPOSITE_STEPS,
    Limit,
    Period,
    ProfileSet,
    Supply,
    floor_tenth,
    json_tenth,
    parse_v16,
)

MONDAY = 1_704_067_200.0
H = 3600
DAY = 24 * H
INF = math.inf
SUPPLY = Supply(voltage=230.0, phases=3, max_current=32.0)


def profile(
    profile_id: int = 1,
    *,
    connector: int = 1,
    stack: int = 0,
    purpose: str = "TxDefaultProfile",
    kind: str = "Absolute",
    unit: str = "A",
    periods: tuple = ((0, 16),),
    start: float | None = None,
    **extra: object,
):
    """A parsed profile; ``periods`` are (startPeriod, limit[, numberPhases]) tuples."""
    schedule: dict = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": p[0], "limit": p[1], **({"numberPhases": p[2]} if len(p) > 2 else {})}
            for p in periods
        ],
    }
    for name in ("duration", "minChargingRate"):
        if name in extra:
            schedule[name] = extra.pop(name)
    if start is not None:
        schedule["startSchedule"] = format_datetime(start)
    data: dict = {
        "chargingProfileId": profile_id,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
    }
    for name in ("validFrom", "validTo"):
        if name in extra:
            data[name] = format_datetime(extra.pop(name))
    data.update(extra)
    return parse_v16(data, connector)


def cap(profile_id: int, periods: tuple, **extra: object):
    """A ChargePointMaxProfile starting on MONDAY."""
    return profile(
        profile_id,
        connector=0,
        purpose="ChargePointMaxProfile",
        start=MONDAY,
        periods=periods,
        **extra,
    )


def amps(profiles, t: float, connector: int = 1, **options: object) -> tuple[float | None, float]:
    """(effective current per phase or None, next change) at ``t``."""
    limit, until = ProfileSet(profiles).limit(connector, t, SUPPLY, **options)
    return (None if limit is None else round(limit.amps, 6)), until


def schedule(profiles, start: float, duration: int, unit: str | None = "A", **options: object):
    composite = ProfileSet(profiles).composite(1, start, duration, unit, SUPPLY, **options)
    return [tuple(p) for p in composite.periods]


# ---------------------------------------------------------------------- parsing


def test_parse_reads_every_field() -> None:
    p = profile(
        7,
        stack=3,
        kind="Recurring",
        recurrencyKind="Weekly",
        unit="W",
        periods=((0, 11000, 3), (600, 3680.5, 1)),
        start=MONDAY,
        duration=1200,
        minChargingRate=1380.0,
        validFrom=MONDAY - DAY,
        validTo=MONDAY + DAY,
    )
    assert (p.id, p.connector, p.stack_level, p.purpose, p.kind) == (
        7,
        1,
        3,
        "TxDefaultProfile",
        "Recurring",
    )
    assert (p.recurrency, p.unit, p.start, p.duration, p.min_rate) == (
        "Weekly",
        "W",
        MONDAY,
        1200,
        1380.0,
    )
    assert (p.valid_from, p.valid_to) == (MONDAY - DAY, MONDAY + DAY)
    assert p.periods == (Period(0, 11000, 3), Period(600, 3680.5, 1))


def test_recurring_without_recurrency_kind_is_daily_and_others_ignore_it() -> None:
    assert profile(kind="Recurring", start=MONDAY).recurrency == "Daily"
    assert profile(kind="Absolute", recurrencyKind="Weekly").recurrency is None


def test_transaction_id_is_kept_for_tx_profiles_only() -> None:
    assert profile(purpose="TxProfile", transactionId=5).transaction_id == 5
    assert profile(purpose="TxDefaultProfile", transactionId=5).transaction_id is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"stack": -1}, "stackLevel"),
        ({"periods": ((60, 16),)}, "startPeriods"),
        ({"periods": ((0, 16), (600, 10), (600, 8))}, "startPeriods"),
        ({"periods": ((0, 16), (600, 10), (300, 8))}, "startPeriods"),
        ({"periods": ((0, -1),)}, "limit"),
        ({"periods": ((0, 16, 4),)}, "numberPhases"),
        ({"periods": ((0, 16, 0),)}, "numberPhases"),
        ({"periods": ()}, "chargingSchedulePeriod"),
        ({"unit": "kW"}, "chargingRateUnit"),
        ({"purpose": "Other"}, "chargingProfilePurpose"),
        ({"kind": "Sometimes"}, "chargingProfileKind"),
        ({"recurrencyKind": "Monthly"}, "recurrencyKind"),
        ({"duration": -5}, "duration"),
        ({"minChargingRate": -1}, "minChargingRate"),
        ({"validFrom": MONDAY, "validTo": MONDAY}, "validFrom"),
    ],
)
def test_parse_refuses_what_the_schema_lets_through(change: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        profile(**change)


def test_parse_refuses_a_non_object_and_a_bad_date() -> None:
    with pytest.raises(ValueError):
        parse_v16([], 1)
    with pytest.raises(ValueError):
        parse_v16({"chargingProfileId": 1, "validFrom": "yesterday"}, 1)


# ---------------------------------------------------------------------- one profile


def test_absolute_schedule_starts_at_start_schedule_and_ends_after_duration() -> None:
    p = profile(start=MONDAY + H, duration=2 * H, periods=((0, 16), (H, 10)))
    assert amps([p], MONDAY) == (None, MONDAY + H)
    assert amps([p], MONDAY + H) == (16, MONDAY + 2 * H)
    assert amps([p], MONDAY + 2 * H - 1) == (16, MONDAY + 2 * H)
    assert amps([p], MONDAY + 2 * H) == (10, MONDAY + 3 * H)
    assert amps([p], MONDAY + 3 * H) == (None, INF)


def test_last_period_lasts_without_duration_and_later_periods_are_cut_by_it() -> None:
    open_ended = profile(start=MONDAY, periods=((0, 16), (H, 10)))
    assert amps([open_ended], MONDAY + 100 * DAY) == (10, INF)
    cut = profile(start=MONDAY, duration=H // 2, periods=((0, 16), (H, 10)))
    assert amps([cut], MONDAY + H // 4) == (16, MONDAY + H // 2)
    assert amps([cut], MONDAY + H) == (None, INF)


def test_valid_from_is_inclusive_and_valid_to_exclusive() -> None:
    p = profile(start=MONDAY - DAY, validFrom=MONDAY, validTo=MONDAY + H)
    assert amps([p], MONDAY - 1) == (None, MONDAY)
    assert amps([p], MONDAY) == (16, MONDAY + H)
    assert amps([p], MONDAY + H - 1) == (16, MONDAY + H)
    assert amps([p], MONDAY + H) == (None, INF)


def test_relative_schedule_counts_from_the_transaction_start() -> None:
    p = profile(kind="Relative", periods=((0, 6), (600, 16)), duration=1200)
    start = MONDAY + 5 * H
    assert amps([p], start + 599, tx_start=start) == (6, start + 600)
    assert amps([p], start + 600, tx_start=start) == (16, start + 1200)
    assert amps([p], start + 1200, tx_start=start) == (None, INF)


def test_relative_schedule_before_a_transaction_is_its_first_period_unchanging() -> None:
    p = profile(kind="Relative", periods=((0, 6), (600, 16)), validTo=MONDAY + DAY)
    assert amps([p], MONDAY) == (6, MONDAY + DAY)
    assert amps([p], MONDAY + 700) == (6, MONDAY + DAY)


def test_absolute_without_start_schedule_starts_with_the_transaction() -> None:
    p = profile(periods=((0, 6), (600, 16)))
    assert amps([p], MONDAY + 600, tx_start=MONDAY) == (16, INF)


# ---------------------------------------------------------------------- recurrence


DAILY_6KW = dict(  # §3.13.7: 6 kW from 08:00 to 20:00, else 11 kW
    kind="Recurring",
    recurrencyKind="Daily",
    unit="W",
    start=MONDAY,
    duration=DAY,
    periods=((0, 11040), (8 * H, 6900), (20 * H, 11040)),
)


def test_recurring_daily_repeats_every_day_from_start_schedule() -> None:
    p = profile(**DAILY_6KW)
    wednesday = MONDAY + 2 * DAY
    assert amps([p], wednesday + 9 * H) == (10, wednesday + 20 * H)  # 6900 W / (230 V x 3)
    assert amps([p], wednesday + 21 * H) == (16, wednesday + DAY)
    assert amps([p], wednesday + DAY) == (16, wednesday + DAY + 8 * H)


def test_recurring_is_not_active_before_its_start_schedule() -> None:
    p = profile(**DAILY_6KW | {"start": MONDAY + DAY})
    assert amps([p], MONDAY + 9 * H) == (None, MONDAY + DAY)


def test_recurrence_cuts_periods_and_duration_longer_than_the_cycle() -> None:
    # errata 3.44: a period starting after 24 h of a Daily schedule is never executed.
    p = profile(kind="Recurring", start=MONDAY, duration=2 * DAY, periods=((0, 10), (DAY + H, 6)))
    assert amps([p], MONDAY + DAY + 2 * H) == (10, MONDAY + 2 * DAY)


def test_recurring_with_short_duration_falls_back_to_the_lower_stack_level() -> None:
    # errata 3.43: after the duration the next lower stack level applies, until the next cycle.
    night = profile(1, stack=1, kind="Recurring", start=MONDAY, duration=6 * H, periods=((0, 32),))
    base = profile(2, stack=0, start=MONDAY - DAY, periods=((0, 10),))
    assert amps([night, base], MONDAY + DAY + 5 * H) == (32, MONDAY + DAY + 6 * H)
    assert amps([night, base], MONDAY + DAY + 7 * H) == (10, MONDAY + 2 * DAY)


def stacked_week() -> list:
    """Weekly stack 0: 16 A on weekdays, 32 A at the weekend; daily stack 1: 32 A from 22:00
    for 8 hours, across midnight."""
    weekly = profile(
        1,
        kind="Recurring",
        recurrencyKind="Weekly",
        start=MONDAY,
        periods=((0, 16), (5 * DAY, 32)),
    )
    nightly = profile(
        2,
        stack=1,
        kind="Recurring",
        recurrencyKind="Daily",
        start=MONDAY + 22 * H,
        duration=8 * H,
        periods=((0, 32),),
    )
    return [weekly, nightly]


def test_stacked_daily_over_weekly_crossing_midnight() -> None:
    tuesday = MONDAY + DAY
    wednesday = tuesday + DAY
    profiles = stacked_week()
    assert amps(profiles, tuesday + 12 * H) == (16, tuesday + 22 * H)
    assert amps(profiles, tuesday + 23 * H) == (32, wednesday + 6 * H)
    assert amps(profiles, wednesday + 2 * H) == (32, wednesday + 6 * H)
    assert amps(profiles, wednesday + 6 * H) == (16, wednesday + 22 * H)
    saturday = MONDAY + 5 * DAY
    assert amps(profiles, saturday + 10 * H) == (32, saturday + 22 * H)
    sunday = saturday + DAY
    # Sunday night: the nightly slot outlasts the weekend, which ends with the weekly cycle.
    assert amps(profiles, sunday + 23 * H) == (32, sunday + DAY + 6 * H)
    assert amps(profiles, sunday + DAY + 7 * H) == (16, sunday + DAY + 22 * H)


def test_composite_of_stacked_recurring_profiles_across_midnight() -> None:
    tuesday_20h = MONDAY + DAY + 20 * H
    assert schedule(stacked_week(), tuesday_20h, 12 * H) == [
        (0, 16, 3),
        (2 * H, 32, 3),
        (10 * H, 16, 3),
    ]


def test_composite_of_the_week_end_merges_equal_neighbours() -> None:
    friday_20h = MONDAY + 4 * DAY + 20 * H
    # Friday 22:00 the nightly 32 A runs into the weekend's 32 A, and Sunday's nightly slot
    # carries it over the weekly restart (Monday 00:00) to Monday 06:00: one merged period.
    assert schedule(stacked_week(), friday_20h, 30 * H) == [(0, 16, 3), (2 * H, 32, 3)]
    assert schedule(stacked_week(), friday_20h, 60 * H) == [
        (0, 16, 3),
        (2 * H, 32, 3),
        (58 * H, 16, 3),
    ]


# ---------------------------------------------------------------------- stacking and purposes


def test_highest_valid_stack_level_wins() -> None:
    low = profile(1, stack=0, start=MONDAY, periods=((0, 16),))
    high = profile(2, stack=5, start=MONDAY, periods=((0, 8),), validFrom=MONDAY + H)
    assert amps([low, high], MONDAY) == (16, MONDAY + H)
    assert amps([low, high], MONDAY + H) == (8, INF)


def test_tx_profile_overrules_tx_default_only_while_the_transaction_runs() -> None:
    default = profile(1, stack=3, start=MONDAY, periods=((0, 16),))
    tx = profile(2, purpose="TxProfile", kind="Relative", periods=((0, 6),), duration=H)
    assert amps([default, tx], MONDAY + H) == (16, INF)
    start = MONDAY + H
    assert amps([default, tx], start + 10, tx_start=start) == (6, start + H)
    # When the TxProfile's duration ends the TxDefaultProfile applies again.
    assert amps([default, tx], start + H, tx_start=start) == (16, INF)


def test_connector_tx_default_beats_connector_zero_at_the_same_level() -> None:
    everywhere = profile(1, connector=0, stack=1, start=MONDAY, periods=((0, 20),))
    here = profile(2, connector=1, stack=1, start=MONDAY, periods=((0, 12),))
    above = profile(3, connector=0, stack=2, start=MONDAY, periods=((0, 18),), validTo=MONDAY + H)
    assert amps([everywhere, here], MONDAY, connector=1)[0] == 12
    assert amps([everywhere, here], MONDAY, connector=2)[0] == 20
    assert amps([everywhere, here, above], MONDAY, connector=1) == (18, MONDAY + H)
    assert amps([everywhere, here, above], MONDAY + H, connector=1)[0] == 12


def test_charge_point_max_caps_and_is_shared_by_charging_connectors() -> None:
    limit = cap(1, ((0, 24),))
    tx = profile(2, purpose="TxProfile", start=MONDAY, periods=((0, 20),))
    assert amps([limit, tx], MONDAY, tx_start=MONDAY)[0] == 20
    assert amps([limit, tx], MONDAY, tx_start=MONDAY, share=2)[0] == 12
    assert amps([limit], MONDAY, connector=0)[0] == 24
    assert amps([tx], MONDAY, connector=0) == (None, INF)


def test_no_profile_means_no_limit() -> None:
    assert ProfileSet().limit(1, MONDAY, SUPPLY) == (None, INF)


# ---------------------------------------------------------------------- units and phases


def test_watts_become_amps_with_the_voltage_and_the_phases_in_use() -> None:
    three = profile(unit="W", start=MONDAY, periods=((0, 11040, 3),))
    one = profile(unit="W", start=MONDAY, periods=((0, 7360, 1),))
    unspecified = profile(unit="W", start=MONDAY, periods=((0, 11040),))  # §7.12: 3 assumed
    assert amps([three], MONDAY)[0] == 16
    assert amps([one], MONDAY)[0] == 32
    assert amps([unspecified], MONDAY)[0] == 16


def test_a_single_phase_station_uses_a_power_limit_as_given() -> None:
    # errata 3.34: the limit is used as is for the phases that can be used.
    p = profile(unit="W", start=MONDAY, periods=((0, 11040, 3),))
    limit, _ = ProfileSet([p]).limit(1, MONDAY, Supply(230.0, 1, 32.0))
    assert limit == Limit(48.0, 1, 11040, "W")


def test_mixed_units_compare_per_phase_and_report_the_binding_unit() -> None:
    tx_w = profile(1, unit="W", start=MONDAY, periods=((0, 11040, 3),))  # 16 A
    cap_a = cap(2, ((0, 10),))
    limit, _ = ProfileSet([tx_w, cap_a]).limit(1, MONDAY, SUPPLY)
    assert limit == Limit(10, 3, 10, "A")
    assert (limit.in_unit("A", 230.0), limit.in_unit("W", 230.0)) == (10, 6900)


def test_mixed_units_one_phase_tx_under_a_three_phase_cap() -> None:
    tx_w = profile(1, unit="W", start=MONDAY, periods=((0, 7360, 1),))  # 32 A on one phase
    cap_a = cap(2, ((0, 20),))
    limit, _ = ProfileSet([tx_w, cap_a]).limit(1, MONDAY, SUPPLY)
    assert limit == Limit(20, 1, 20, "A")
    assert limit.in_unit("W", 230.0) == 4600


def test_composite_with_mixed_units_in_watts_and_in_amps() -> None:
    default_w = profile(1, unit="W", start=MONDAY, periods=((0, 11040), (H, 4140)))  # 16 A, 6 A
    cap_a = cap(2, ((0, 32), (H // 2, 10), (2 * H, 32)))
    assert schedule([default_w, cap_a], MONDAY, 3 * H, "W") == [
        (0, 11040, 3),
        (H // 2, 6900, 3),
        (H, 4140, 3),
    ]
    assert schedule([default_w, cap_a], MONDAY, 3 * H, "A") == [
        (0, 16, 3),
        (H // 2, 10, 3),
        (H, 6, 3),
    ]


def test_converted_limits_are_rounded_down_to_a_tenth() -> None:
    p = profile(unit="W", start=MONDAY, periods=((0, 11000),))  # 15.942 A
    assert schedule([p], MONDAY, H, "A") == [(0, 15.9, 3)]
    assert schedule([p], MONDAY, H, "W") == [(0, 11000, 3)]
    assert (floor_tenth(21.4), floor_tenth(15.94), floor_tenth(16.0)) == (21.4, 15.9, 16)


# ---------------------------------------------------------------------- minChargingRate


def test_a_limit_below_min_charging_rate_pauses_charging() -> None:
    default = profile(1, start=MONDAY, periods=((0, 16),), minChargingRate=8.0)
    low_cap = cap(2, ((0, 6),))
    high_cap = cap(3, ((0, 10),))
    assert amps([default, low_cap], MONDAY)[0] == 0
    assert amps([default, high_cap], MONDAY)[0] == 10


def test_min_charging_rate_in_watts_is_converted_too() -> None:
    default = profile(1, unit="W", start=MONDAY, periods=((0, 11040),), minChargingRate=4140.0)
    assert amps([default, cap(2, ((0, 5),))], MONDAY)[0] == 0  # 5 A < 4140 W / 690 V = 6 A


# ---------------------------------------------------------------------- composite schedule


def test_composite_fills_gaps_with_the_station_maximum() -> None:
    p = profile(start=MONDAY + H, duration=H, periods=((0, 10),))
    assert schedule([p], MONDAY, 3 * H) == [(0, 32, 3), (H, 10, 3), (2 * H, 32, 3)]
    assert schedule([p], MONDAY, 3 * H, "W") == [(0, 22080, 3), (H, 6900, 3), (2 * H, 22080, 3)]


def test_composite_caps_profiles_at_the_station_maximum() -> None:
    p = profile(start=MONDAY, periods=((0, 63),))
    assert schedule([p], MONDAY, H) == [(0, 32, 3)]
    composite = ProfileSet([p]).composite(1, MONDAY, H, "A", SUPPLY, ceiling=100.0)
    assert composite.periods == (Period(0, 63, 3),)


def test_composite_merges_equal_adjacent_periods() -> None:
    p = profile(start=MONDAY, periods=((0, 10), (600, 10), (1200, 16), (1800, 16, 3)))
    assert schedule([p], MONDAY, H) == [(0, 10, 3), (1200, 16, 3)]


def test_composite_without_a_transaction_starts_relative_schedules_now() -> None:
    p = profile(kind="Relative", periods=((0, 6), (600, 16)))
    assert schedule([p], MONDAY, H) == [(0, 6, 3), (600, 16, 3)]


def test_composite_during_a_transaction_counts_from_its_start() -> None:
    p = profile(purpose="TxProfile", kind="Relative", periods=((0, 6), (900, 16)))
    assert schedule([p], MONDAY, H, tx_start=MONDAY - 600) == [(0, 6, 3), (300, 16, 3)]


def test_composite_unit_defaults_to_the_first_binding_unit() -> None:
    p = profile(unit="W", start=MONDAY, periods=((0, 6900),))
    composite = ProfileSet([p]).composite(1, MONDAY, H, None, SUPPLY)
    assert (composite.unit, composite.periods) == ("W", (Period(0, 6900, 3),))
    assert ProfileSet().composite(1, MONDAY, H, None, SUPPLY).unit == "A"


def test_composite_of_zero_duration_has_the_current_period() -> None:
    assert schedule([], MONDAY, 0) == [(0, 32, 3)]


def test_composite_stops_after_a_bounded_number_of_changes() -> None:
    p = profile(kind="Recurring", start=MONDAY, periods=((0, 10), (12 * H, 16)))
    composite = ProfileSet([p]).composite(1, MONDAY, 3650 * DAY, "A", SUPPLY)
    assert len(composite.periods) == MAX_COMPOSITE_STEPS
    assert composite.duration == MAX_COMPOSITE_STEPS * 12 * H


# ---------------------------------------------------------------------- composites, request moment


def test_a_composite_starts_at_the_request_second_with_what_is_in_force_then() -> None:
    # §5.7 "from the moment the request is received": a TxProfile whose transaction started
    # 0.120 s into the second is in force at 0.127 s, so it holds from offset 0; its next
    # period, 60 s after the start, shows from the first whole second at or after it.
    tx = profile(1, purpose="TxProfile", kind="Relative", periods=((0, 10), (60, 16)))
    composite = ProfileSet([tx]).composite(
        1, MONDAY + 0.127, 120, "A", SUPPLY, tx_start=MONDAY + 0.12
    )
    assert composite.start == MONDAY
    assert [tuple(p) for p in composite.periods] == [(0, 10, 3), (61, 16, 3)]
    # A change later in the request's second shows from the next second.
    later = profile(2, start=MONDAY + 0.5, periods=((0, 10),))
    composite = ProfileSet([later]).composite(1, MONDAY + 0.1, 60, "A", SUPPLY)
    assert [tuple(p) for p in composite.periods] == [(0, 32, 3), (1, 10, 3)]


# ---------------------------------------------------------------------- numbers in frames


def test_json_tenths_pass_float_and_decimal_multiple_of_checks_and_never_exceed() -> None:
    for tenths in range(0, 100_001):
        value = tenths / 10
        sent = json_tenth(value)
        quotient = sent / 0.1
        assert int(quotient) == quotient, value  # float validators (jsonschema, ajv)
        assert Decimal(repr(sent)) % Decimal("0.1") == 0, value  # decimal validators
        assert value - 0.2 - 1e-9 <= sent <= value, value
    assert (json_tenth(17.7), json_tenth(17.75), json_tenth(16.0), json_tenth(0.3)) == (
        17.6,
        17.6,
        16,
        0.2,
    )
