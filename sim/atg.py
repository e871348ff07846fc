"""The automatic transaction generator (ATG): drivers who come, charge and leave, per connector.

A profile (TOML, ``--atg PROFILE.toml``; the Locust users take the same file) says how long
things take, as ``[min, max]`` seconds drawn uniformly, which cards the drivers hold and how
often a fault happens. Each connector of each station gets its own script from
``random.Random(f"{seed}/{charge box id}/{connector}")``: the same seed gives the same sequence
of actions on every run, and connectors and stations do not share one stream (adding a station
does not change the others' scripts).

One session of a script: the EV plugs in, the driver presents a card, charging runs, possibly
a fault comes and goes, then the driver stops with the card and unplugs (or, with
``unplug_to_stop``, just unplugs), and the connector stays free for a pause. What the CSMS
answers does not change the script: a refused card is a driver who gives up after the
charging time, which keeps runs comparable.

The scripts start when the CSMS first accepts the station's BootNotification. The generator is
sans-IO like the station: ``AtgDriver.tick(now)`` performs what is due on the
Station and returns when it wants to be called again.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeGuard

from ocpp_core.connector import ERROR_CODES
from sim.connectors import check_id_tag
from sim.versions import id_tag_length

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sim.station import Station

__all__ = ["Action", "AtgDriver", "AtgProfile", "load_profile", "parse_profile", "script"]

Range = tuple[float, float]

PLUG, CARD, FAULT, CLEAR, STOP_CARD, UNPLUG = "plug", "card", "fault", "clear", "stop", "unplug"


@dataclass(frozen=True)
class AtgProfile:
    """What the simulated drivers do; every duration a ``[min, max]`` range in seconds."""

    seed: int = 1
    id_tags: tuple[str, ...] = ("ATG-TAG-1",)
    token_type: str | None = None  # 2.0.1 idToken type (None: ISO14443); 1.6 has none
    connectors: tuple[int, ...] = ()  # the connectors driven (empty: all)
    sessions: int = 0  # sessions per connector (0: no end)
    first_plug_s: Range = (0.0, 60.0)  # from the start to the first EV
    card_after_s: Range = (2.0, 15.0)  # from plug-in to the card
    charge_s: Range = (600.0, 3600.0)  # from the card to the stop
    unplug_after_s: Range = (2.0, 20.0)  # from the stop card to unplugging
    pause_s: Range = (60.0, 900.0)  # the connector free between two sessions
    unplug_to_stop: float = 0.0  # share of drivers who stop by unplugging, 0..1
    fault_probability: float = 0.0  # share of sessions with a fault while charging, 0..1
    fault_codes: tuple[str, ...] = ("GroundFailure",)
    fault_s: Range = (30.0, 300.0)  # how long a fault lasts


@dataclass(frozen=True)
class Action:
    """One step of a connector's script, ``at`` seconds after the driver started."""

    at: float
    kind: str  # PLUG, CARD, FAULT, CLEAR, STOP_CARD, UNPLUG
    value: str | None = None  # the card (CARD, STOP_CARD) or the fault code (FAULT)


def script(profile: AtgProfile, charge_box_id: str, connector: int) -> Iterator[Action]:
    """The actions of one connector, in time order (endless when ``sessions`` is 0)."""
    rng = random.Random(f"{profile.seed}/{charge_box_id}/{connector}")

    def draw(bounds: Range) -> float:
        return round(rng.uniform(*bounds), 3)

    t = draw(profile.first_plug_s)
    count = 0
    while profile.sessions == 0 or count < profile.sessions:
        count += 1
        tag = rng.choice(profile.id_tags)
        yield Action(t, PLUG)
        t += draw(profile.card_after_s)
        yield Action(t, CARD, tag)
        charge = draw(profile.charge_s)
        if rng.random() < profile.fault_probability:
            start = t + round(rng.uniform(0.0, charge), 3)
            code = rng.choice(profile.fault_codes)
            end = start + draw(profile.fault_s)
            yield Action(start, FAULT, code)
            yield Action(end, CLEAR)
            t = max(t + charge, end)
        else:
            t += charge
        if rng.random() < profile.unplug_to_stop:
            yield Action(t, UNPLUG)
        else:
            yield Action(t, STOP_CARD, tag)
            t += draw(profile.unplug_after_s)
            yield Action(t, UNPLUG)
        t += draw(profile.pause_s)


class AtgDriver:
    """Plays the profile's scripts on one Station's connectors, on the station's clock
    (``station.add_driver(driver.tick)``)."""

    __slots__ = ("_next", "_scripts", "_start", "profile", "station")

    def __init__(self, profile: AtgProfile, station: Station) -> None:
        self.profile = profile
        self.station = station
        wanted = profile.connectors or tuple(range(1, station.connectors + 1))
        if any(not 1 <= n <= station.connectors for n in wanted):
            raise ValueError(
                f"atg: connectors {list(wanted)}: the station has {station.connectors}"
            )
        longest = id_tag_length(station.settings.ocpp_version)
        for tag in profile.id_tags:
            try:
                check_id_tag(tag, longest)
            except ValueError as exc:
                raise ValueError(f"atg: id_tags: {tag!r}: {exc}") from None
        name = station.settings.charge_box_id
        self._scripts = {n: script(profile, name, n) for n in wanted}
        self._next: dict[int, Action | None] = {n: next(s, None) for n, s in self._scripts.items()}
        self._start: float | None = None

    def tick(self, now: float) -> float | None:
        """Perform every action due by ``now``; the time of the next one (None: all done)."""
        if self._start is None:
            if self.station.engine.registration != "Accepted":
                return None  # the station ticks again when the BootNotification is answered
            self._start = now
        elapsed = now - self._start
        for n, action in self._next.items():
            while action is not None and action.at <= elapsed:
                self._perform(n, action)
                action = next(self._scripts[n], None)
            self._next[n] = action
        due = [a.at for a in self._next.values() if a is not None]
        return None if not due else self._start + min(due)

    def _perform(self, n: int, action: Action) -> None:
        station = self.station
        match action.kind:
            case "plug":
                station.set_ev_ready(n, True)
                station.plug(n)
            case "card" | "stop":
                assert action.value is not None
                station.present_card(n, action.value, self.profile.token_type)
            case "fault":
                assert action.value is not None
                station.inject_fault(n, action.value, "ATG fault")
            case "clear":
                station.clear_fault(n)
            case "unplug":
                station.unplug(n)


def load_profile(path: Path) -> AtgProfile:
    """The profile in a TOML file (ValueError naming the file and what is wrong)."""
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not TOML: {exc}") from None
    try:
        return parse_profile(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def parse_profile(data: dict[str, Any]) -> AtgProfile:
    """A profile from a TOML table; unknown keys and values out of range are ValueErrors."""
    known = {f.name: f for f in fields(AtgProfile)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"unknown keys {unknown} (known: {sorted(known)})")
    values: dict[str, Any] = {}
    for key, value in data.items():
        values[key] = _checked(key, value)
    profile = AtgProfile(**values)
    bad = sorted(set(profile.fault_codes) - ERROR_CODES)
    if bad:
        raise ValueError(f"fault_codes {bad} unknown (use some of {sorted(ERROR_CODES)})")
    return profile


def _checked(key: str, value: object) -> object:
    """One profile value in the type the profile keeps (ValueError when it is not one)."""
    if key.endswith("_s"):
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(_is_number(v) and v >= 0 for v in value)
            or value[0] > value[1]
        ):
            raise ValueError(f"{key} must be [min, max] seconds, 0 <= min <= max, got {value!r}")
        return (float(value[0]), float(value[1]))
    if key in ("unplug_to_stop", "fault_probability"):
        if not _is_number(value) or not 0 <= value <= 1:
            raise ValueError(f"{key} must be a number from 0 to 1, got {value!r}")
        return float(value)
    if key in ("seed", "sessions"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{key} must be a whole number >= 0, got {value!r}")
        return value
    if key == "connectors":
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
        ):
            raise ValueError(f"connectors must be a list of connector numbers, got {value!r}")
        return tuple(value)
    if key == "token_type":
        if not isinstance(value, str):
            raise ValueError(f"token_type must be a string, got {value!r}")
        return value
    # id_tags, fault_codes: non-empty lists of strings
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{key} must be a non-empty list of strings, got {value!r}")
    return tuple(value)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
