"""The simulated AC meter of one connector and the car plugged into it.

The model is driven by the caller's monotonic clock (``advance(now)``), like the sans-IO core, so
tests run it on a virtual clock and the browser on ``performance.now``. It is cheap enough to be
advanced on every tick for many stations: once per tick, before the core reads it; the gates the
core decides in that tick are applied with ``gate``, which recomputes the readings for the same
moment without accounting energy again.

Physics kept deliberately simple:

* Current per phase is the smallest of the car's maximum, the station's maximum and the charging
  limit of the core (A, or W converted with the present voltages); no minimum current (IEC 61851's
  6 A) is enforced, so a limit of 2 A really charges at 2 A.
* Power flows whenever the cable is plugged, the EVSE offers energy and the car asks for it: there
  is no further hidden switch (the C++ simulator's undocumented ``evsePlugged`` gate is not copied).
* The grid voltage is always shown (also while idle) and drifts slowly by at most
  ``voltage_variation`` around the nominal value, as a pure function of (seed, phase, time) so it
  is reproducible, independent of the tick rate and well-defined if time jumps backwards.
* Energy integrates the power held since the previous ``advance`` (rectangle rule), so it is exact
  for inputs that change between calls; a battery stops accepting energy the moment it is full
  (no losses between meter and battery, no taper: constant current up to 100 % SoC).
* The register the meter reports (``register_wh``) counts whole Wh, as a register with a 1 Wh
  resolution does (and as OCPP's meterStart/meterStop are): the same number in every frame, so
  a sampled value, meterStart and meterStop of one moment agree and never go down.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

__all__ = ["NOMINAL_VOLTAGE_V", "EvModel", "LimitUnit", "MeterModel"]

NOMINAL_VOLTAGE_V = 230.0  # phase to neutral, as in Europe

LimitUnit = Literal["A", "W"]

_DRIFT_PERIOD_S = 30.0
_FULL_MARGIN_S = 1e-3


@dataclass(slots=True)
class EvModel:
    """The car: how much current it can draw on how many phases, and optionally its battery.

    ``soc_percent`` only matters with a battery (``capacity_kwh``); without one the car charges
    for as long as it is ``ready``.
    """

    max_current_a: float = 32.0
    phases: int = 3
    capacity_kwh: float | None = None
    soc_percent: float = 20.0
    ready: bool = True

    def __post_init__(self) -> None:
        if self.phases not in (1, 3):
            raise ValueError("an EV uses 1 or 3 phases")
        if not self.max_current_a >= 0:
            raise ValueError("the EV maximum current must be >= 0 A")
        if self.capacity_kwh is not None and not self.capacity_kwh > 0:
            raise ValueError("the battery capacity must be > 0 kWh")
        if not 0 <= self.soc_percent <= 100:
            raise ValueError("the state of charge must be within 0..100 %")

    @property
    def requesting(self) -> bool:
        """The car asks for energy: it is ready and its battery (if any) is not full."""
        return self.ready and (self.capacity_kwh is None or self.soc_percent < 100.0)

    def charge(self, energy_wh: float) -> float:
        """Store up to ``energy_wh`` in the battery; return what it took (less once it is full)."""
        if self.capacity_kwh is None:
            return energy_wh
        room_wh = (100.0 - self.soc_percent) / 100.0 * self.capacity_kwh * 1000.0
        if energy_wh >= room_wh:
            self.soc_percent = 100.0
            return max(room_wh, 0.0)
        self.soc_percent += energy_wh / (self.capacity_kwh * 1000.0) * 100.0
        return energy_wh


class MeterModel:
    """One connector's meter: inputs are plain attributes, readings are refreshed by ``advance``.

    Inputs: ``plugged`` (cable connected), ``evse_ready`` (the EVSE offers energy; the station
    runtime ties it to what the core permits), ``ev`` (the car) and ``set_limit``. Readings:
    ``energy_wh`` (the energy counted, Wh; ``register_wh`` is what Energy.Active.Import.Register
    reports), ``power_w`` (Power.Active.Import),
    ``current_a`` and ``voltage_v`` (one entry per station phase, L1 first) and ``soc_percent``.
    A changed input shows in the readings after the next ``advance``; new gates set with
    ``gate`` show at once.
    """

    __slots__ = (
        "_basis",
        "_last",
        "_limit",
        "_seed",
        "_variation",
        "_voltage_knots",
        "current_a",
        "energy_wh",
        "ev",
        "evse_ready",
        "max_current_a",
        "nominal_voltage_v",
        "phases",
        "plugged",
        "power_w",
        "voltage_v",
    )

    def __init__(
        self,
        ev: EvModel | None = None,
        *,
        phases: int = 3,
        max_current_a: float = 16.0,
        nominal_voltage_v: float = NOMINAL_VOLTAGE_V,
        voltage_variation: float = 0.02,
        seed: int = 0,
        energy_wh: float = 0.0,
    ) -> None:
        if phases not in (1, 3):
            raise ValueError("a station has 1 or 3 phases")
        if not max_current_a >= 0:
            raise ValueError("the station maximum current must be >= 0 A")
        if not nominal_voltage_v > 0:
            raise ValueError("the nominal voltage must be > 0 V")
        if not 0 <= voltage_variation < 1:
            raise ValueError("the voltage variation must be within 0..1 (a fraction)")
        if not (math.isfinite(energy_wh) and energy_wh >= 0):
            raise ValueError("the initial energy register must be >= 0 Wh")
        self.ev = ev if ev is not None else EvModel()
        self.phases = phases
        self.max_current_a = max_current_a
        self.nominal_voltage_v = nominal_voltage_v
        self.plugged = False
        self.evse_ready = True
        self.energy_wh = float(energy_wh)
        self.power_w = 0.0
        self.current_a = [0.0] * phases
        self.voltage_v = [nominal_voltage_v] * phases
        self._variation = voltage_variation
        self._seed = seed
        self._limit: tuple[float, LimitUnit] | None = None
        self._last: float | None = None
        self._basis: tuple[bool, bool, tuple[float, LimitUnit] | None] | None = None
        # Per phase: (knot index, voltage at that knot, voltage at the next knot).
        self._voltage_knots: list[tuple[int, float, float] | None] = [None] * phases

    def read_power_w(self) -> float:
        return self.power_w

    # One reader per phase (bound methods: a fleet wires tens of thousands of these inputs).
    def current_l1(self) -> float:
        return self.current_a[0]

    def current_l2(self) -> float:
        return self.current_a[1]

    def current_l3(self) -> float:
        return self.current_a[2]

    def voltage_l1(self) -> float:
        return self.voltage_v[0]

    def voltage_l2(self) -> float:
        return self.voltage_v[1]

    def voltage_l3(self) -> float:
        return self.voltage_v[2]

    @property
    def soc_percent(self) -> float | None:
        """The car's state of charge, or None when it has no battery."""
        return None if self.ev.capacity_kwh is None else self.ev.soc_percent

    @property
    def register_wh(self) -> int:
        """The register as the meter reports it: ``energy_wh`` in whole Wh, rounded down."""
        return math.floor(self.energy_wh)

    @property
    def limit(self) -> tuple[float, LimitUnit] | None:
        """The charging limit last set (value, unit), or None for no limit."""
        return self._limit

    @property
    def limit_w(self) -> float | None:
        """The charging limit as the power it allows now (None: no limit): a W limit as is, an A
        limit per phase times the voltages of the phases the car uses."""
        if self._limit is None:
            return None
        value, unit = self._limit
        if unit == "W":
            return value
        return value * sum(self.voltage_v[: min(self.phases, self.ev.phases)])

    def set_limit(self, value: float | None, unit: LimitUnit = "A") -> None:
        """Apply the core's charging-limit output; None lifts the limit, negatives count as 0."""
        if unit not in ("A", "W"):
            raise ValueError("the limit unit is 'A' or 'W'")
        if value is None:
            self._limit = None
        elif math.isnan(value):
            raise ValueError("the limit must be a number or None")
        else:
            self._limit = (max(float(value), 0.0), unit)

    def advance(self, now: float) -> None:
        """Account the energy since the previous call, then recompute the readings for ``now``.

        A step back in time (a restarted clock) adds nothing and rebases; a non-finite ``now`` is
        ignored, so the register never decreases and never becomes inf/NaN.
        """
        if not math.isfinite(now):
            return
        if self._last is not None:
            elapsed = now - self._last
            if elapsed > 0 and self.power_w > 0 and math.isfinite(elapsed):
                self.energy_wh += self.ev.charge(self.power_w * elapsed / 3600.0)
        self._last = now
        self._refresh(now)

    def full_in_s(self) -> float | None:
        """Seconds until the car's battery is full at the present power (None: no battery,
        or no power): the moment the readings change without any input changing."""
        capacity = self.ev.capacity_kwh
        if capacity is None or self.power_w <= 0:
            return None
        room_wh = (100.0 - self.ev.soc_percent) / 100.0 * capacity * 1000.0
        # Never "at once": float rounding may leave a hair of room at the computed moment.
        return max(room_wh / self.power_w * 3600.0, _FULL_MARGIN_S)

    def gate(self, plugged: bool, evse_ready: bool) -> None:
        """Set the cable and EVSE gates. When they or the limit changed since the readings were
        last computed, the readings follow at once, for the moment of the last ``advance`` (no
        energy is accounted: the time did not move)."""
        self.plugged = plugged
        self.evse_ready = evse_ready
        if self._last is not None and self._basis != (plugged, evse_ready, self._limit):
            self._refresh(self._last)

    def _refresh(self, now: float) -> None:
        self._basis = (self.plugged, self.evse_ready, self._limit)
        voltages = [self._voltage(phase, now) for phase in range(self.phases)]
        used = min(self.phases, self.ev.phases)
        amps = 0.0
        if self.plugged and self.evse_ready and self.ev.requesting:
            amps = min(self.ev.max_current_a, self.max_current_a, self._limit_a(voltages[:used]))
        self.voltage_v = voltages
        self.current_a = [amps] * used + [0.0] * (self.phases - used)
        self.power_w = sum(v * i for v, i in zip(voltages, self.current_a, strict=True))

    def _limit_a(self, used_voltages: list[float]) -> float:
        if self._limit is None:
            return math.inf
        value, unit = self._limit
        # A power limit is shared by the phases in use: P = I * sum(V) gives exactly P watts.
        return value if unit == "A" else value / sum(used_voltages)

    def _voltage(self, phase: int, now: float) -> float:
        if self._variation == 0:
            return self.nominal_voltage_v
        position = now / _DRIFT_PERIOD_S
        knot = math.floor(position)
        cached = self._voltage_knots[phase]
        if cached is None or cached[0] != knot:
            cached = (knot, self._knot_voltage(phase, knot), self._knot_voltage(phase, knot + 1))
            self._voltage_knots[phase] = cached
        _, start, end = cached
        return start + (end - start) * (position - knot)

    def _knot_voltage(self, phase: int, knot: int) -> float:
        # A fresh generator per knot, seeded from (seed, phase, knot): reproducible without
        # replaying every earlier knot, whatever the tick rate or a jump of the clock.
        draw = random.Random(f"{self._seed}:{phase}:{knot}").uniform(-1.0, 1.0)
        return self.nominal_voltage_v * (1.0 + self._variation * draw)
