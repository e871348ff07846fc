"""The simulated meter and EV: energy integrates power, limits cap current, SoC stops at 100 %."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.meter import EvModel, LimitUnit, MeterModel


def flat_meter(phases: int = 3, ev: EvModel | None = None, **kwargs: float) -> MeterModel:
    """A meter at exactly 230 V so expected figures are plain arithmetic."""
    meter = MeterModel(ev, phases=phases, voltage_variation=0.0, **kwargs)
    meter.plugged = True
    return meter


def test_energy_is_the_exact_integral_of_piecewise_constant_power() -> None:
    meter = flat_meter(max_current_a=16)
    meter.advance(0.0)
    assert meter.power_w == pytest.approx(3 * 230 * 16)
    meter.advance(100.0)
    meter.set_limit(10, "A")
    meter.advance(100.0)
    meter.advance(250.0)
    meter.plugged = False
    meter.advance(250.0)
    meter.advance(1000.0)
    expected_wh = (3 * 230 * 16 * 100 + 3 * 230 * 10 * 150) / 3600
    assert meter.energy_wh == pytest.approx(expected_wh, rel=1e-12)
    assert meter.power_w == 0.0


def test_energy_is_the_integral_of_the_reported_power_with_drifting_voltage() -> None:
    meter = MeterModel(EvModel(max_current_a=20), seed=7)
    meter.plugged = True
    times = [0.0, 0.1, 3.0, 29.9, 30.0, 31.5, 95.0, 95.05, 400.0]
    integral = 0.0
    previous: tuple[float, float] | None = None
    for now in times:
        meter.advance(now)
        if previous is not None:
            integral += previous[1] * (now - previous[0]) / 3600
        previous = (now, meter.power_w)
    assert meter.energy_wh == pytest.approx(integral, rel=1e-12)
    assert meter.energy_wh > 0


def test_readings_are_exposed_per_phase() -> None:
    meter = flat_meter(max_current_a=16)
    meter.advance(5.0)
    assert meter.current_a == [16.0, 16.0, 16.0]
    assert meter.voltage_v == [230.0, 230.0, 230.0]
    assert meter.soc_percent is None


@pytest.mark.parametrize(
    ("phases", "limit", "unit", "amps"),
    [
        (3, 10, "A", 10.0),
        (1, 10, "A", 10.0),
        (3, 6900, "W", 10.0),
        (1, 2300, "W", 10.0),
        (3, 100, "A", 16.0),  # the station maximum still applies
        (3, None, "A", 16.0),
        (3, 0, "W", 0.0),
        (1, -5, "A", 0.0),
    ],
)
def test_the_charging_limit_caps_the_current(
    phases: int, limit: float | None, unit: str, amps: float
) -> None:
    meter = flat_meter(phases, max_current_a=16)
    meter.set_limit(limit, unit)  # type: ignore[arg-type]
    meter.advance(0.0)
    assert meter.current_a == pytest.approx([amps] * phases)
    assert meter.power_w == pytest.approx(230 * amps * phases)


def test_a_power_limit_gives_exactly_that_power_with_drifting_voltage() -> None:
    meter = MeterModel(seed=3)
    meter.plugged = True
    meter.set_limit(7000, "W")
    meter.advance(12.3)
    assert meter.power_w == pytest.approx(7000)
    assert meter.limit == (7000.0, "W")


def test_the_ev_maximum_current_and_phases_apply() -> None:
    meter = flat_meter(3, EvModel(max_current_a=13, phases=1), max_current_a=32)
    meter.advance(0.0)
    assert meter.current_a == [13.0, 0.0, 0.0]
    assert meter.power_w == pytest.approx(230 * 13)
    meter.set_limit(2300, "W")  # a power limit is shared by the phases in use only
    meter.advance(1.0)
    assert meter.current_a == pytest.approx([10.0, 0.0, 0.0])


def test_no_power_without_cable_ev_request_or_evse_offer() -> None:
    meter = flat_meter()
    meter.advance(0.0)
    assert meter.power_w > 0
    for attribute, owner in (("plugged", meter), ("evse_ready", meter), ("ready", meter.ev)):
        setattr(owner, attribute, False)
        meter.advance(1.0)
        assert meter.power_w == 0.0
        assert meter.current_a == [0.0, 0.0, 0.0]
        setattr(owner, attribute, True)
    meter.plugged = False
    energy = meter.energy_wh
    meter.advance(1000.0)
    assert meter.energy_wh == energy
    assert meter.voltage_v == [230.0, 230.0, 230.0]  # the grid is still there


def test_a_full_battery_stops_charging_and_energy_stays_flat() -> None:
    ev = EvModel(max_current_a=16, capacity_kwh=1.0, soc_percent=99.0)
    meter = flat_meter(ev=ev, max_current_a=16)
    meter.advance(0.0)
    assert meter.soc_percent == 99.0
    meter.advance(1.0)
    assert 99.0 < meter.soc_percent < 100.0  # type: ignore[operator]
    meter.advance(60.0)  # 10 Wh were left: full after ~3.3 s, the rest of the step adds nothing
    assert meter.soc_percent == 100.0
    assert meter.energy_wh == pytest.approx(10.0)
    assert meter.power_w == 0.0
    assert meter.current_a == [0.0, 0.0, 0.0]
    assert not ev.requesting
    meter.advance(3600.0)
    assert meter.energy_wh == pytest.approx(10.0)


def test_the_same_seed_gives_the_same_readings_and_voltage_stays_in_band() -> None:
    def run(seed: int) -> list[tuple[float, ...]]:
        meter = MeterModel(seed=seed)
        meter.plugged = True
        readings = []
        for step in range(0, 600, 7):
            meter.advance(float(step))
            readings.append((meter.energy_wh, meter.power_w, *meter.voltage_v, *meter.current_a))
        return readings

    assert run(42) == run(42)
    assert run(42) != run(43)
    for row in run(42):
        for volts in row[2:5]:
            assert 230 * 0.98 <= volts <= 230 * 1.02


def test_voltage_is_a_function_of_time_not_of_the_tick_rate() -> None:
    coarse, fine = MeterModel(seed=1), MeterModel(seed=1)
    for step in range(100):
        fine.advance(step * 0.5)
    fine.advance(77.0)
    coarse.advance(77.0)
    assert fine.voltage_v == coarse.voltage_v


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(
                st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
                st.sampled_from([math.inf, -math.inf, math.nan, 1e300, -1e300]),
            ),
            st.booleans(),
            st.booleans(),
        ),
        max_size=40,
    ),
    st.booleans(),
)
def test_energy_never_decreases_and_stays_finite(
    steps: list[tuple[float, bool, bool]], battery: bool
) -> None:
    ev = EvModel(capacity_kwh=50.0, soc_percent=10.0) if battery else EvModel()
    meter = MeterModel(ev, seed=5)
    previous = meter.energy_wh
    for now, plugged, ready in steps:
        meter.plugged = plugged
        meter.ev.ready = ready
        meter.advance(now)
        assert meter.energy_wh >= previous
        assert math.isfinite(meter.energy_wh)
        assert meter.power_w >= 0
        previous = meter.energy_wh
        if battery:
            assert 0 <= meter.soc_percent <= 100  # type: ignore[operator]


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: EvModel(phases=2), "1 or 3 phases"),
        (lambda: EvModel(capacity_kwh=0), "capacity"),
        (lambda: EvModel(soc_percent=101), "state of charge"),
        (lambda: MeterModel(phases=2), "1 or 3 phases"),
        (lambda: MeterModel(max_current_a=-1), "maximum current"),
        (lambda: MeterModel(voltage_variation=1.5), "variation"),
        (lambda: MeterModel().set_limit(5, "kW"), "unit"),  # type: ignore[arg-type]
        (lambda: MeterModel().set_limit(math.nan), "number"),
    ],
)
def test_invalid_parameters_are_refused(factory: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        factory()  # type: ignore[operator]


def test_the_limit_in_watts_follows_the_phases_the_car_uses() -> None:
    meter = flat_meter(3, max_current_a=32)
    assert meter.limit_w is None
    meter.set_limit(11_000, "W")
    assert meter.limit_w == 11_000.0
    meter.set_limit(16, "A")
    meter.advance(0.0)
    assert meter.limit_w == pytest.approx(16 * 690)
    one_phase_car = flat_meter(3, EvModel(phases=1), max_current_a=32)
    one_phase_car.set_limit(16, "A")
    one_phase_car.advance(0.0)
    assert one_phase_car.limit_w == pytest.approx(16 * 230)


def test_the_register_reported_counts_whole_wh_and_never_goes_down() -> None:
    meter = flat_meter(max_current_a=16, energy_wh=12.4)
    assert meter.register_wh == 12 and isinstance(meter.register_wh, int)
    meter.advance(0.0)
    previous = meter.register_wh
    for step in range(1, 200):
        meter.advance(step * 0.37)
        assert previous <= meter.register_wh <= meter.energy_wh
        previous = meter.register_wh
    assert meter.register_wh == math.floor(meter.energy_wh)


def test_new_gates_show_at_once_without_counting_energy_twice() -> None:
    meter = flat_meter(max_current_a=16)
    meter.gate(True, True)  # before the first advance: only remembered
    assert meter.power_w == 0.0
    meter.advance(0.0)
    meter.advance(100.0)
    energy = meter.energy_wh
    meter.gate(True, False)  # the core stopped offering energy in this tick
    assert meter.power_w == 0.0 and meter.current_a == [0.0, 0.0, 0.0]
    assert meter.energy_wh == energy  # the time did not move
    meter.advance(200.0)
    assert meter.energy_wh == energy
    meter.set_limit(10, "A")
    meter.gate(True, True)
    assert meter.current_a == [10.0, 10.0, 10.0]
    meter.advance(300.0)
    assert meter.energy_wh == pytest.approx(energy + 3 * 230 * 10 * 100 / 3600)


LIMITS: list[tuple[float | None, LimitUnit]] = [
    (None, "A"),
    (6.0, "A"),
    (16.0, "A"),
    (4000.0, "W"),
    (0.0, "A"),
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=120.0),  # time to the next tick
            st.booleans(),  # the cable
            st.booleans(),  # the EVSE offer the core decided in the tick
            st.none() | st.sampled_from(LIMITS),  # a limit the core set in the tick, if any
        ),
        max_size=30,
    )
)
def test_one_advance_and_a_gate_per_tick_read_as_two_advances_did(
    ticks: list[tuple[float, bool, bool, tuple[float | None, LimitUnit] | None]],
) -> None:
    """A station tick advanced the meter, let the core poll, then gated and advanced it again at
    the same moment; one advance and a gate give the same energy and readings, bit for bit."""
    once, twice = (
        MeterModel(EvModel(capacity_kwh=20.0, soc_percent=95.0), seed=9),
        MeterModel(EvModel(capacity_kwh=20.0, soc_percent=95.0), seed=9),
    )
    now = 0.0
    for step, plugged, ready, limit in ticks:
        now += step
        once.advance(now)
        twice.advance(now)
        if limit is not None:
            once.set_limit(*limit)
            twice.set_limit(*limit)
        once.gate(plugged, ready)
        twice.plugged, twice.evse_ready = plugged, ready
        twice.advance(now)
        assert once.energy_wh == twice.energy_wh
        assert (once.power_w, once.current_a, once.voltage_v) == (
            twice.power_w,
            twice.current_a,
            twice.voltage_v,
        )
        assert once.soc_percent == twice.soc_percent
