"""The automatic transaction generator (sim/atg.py, ``--atg PROFILE.toml``): seeded scripts,
the profile file and its errors, and a Station driven by it on a virtual clock."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from station_fakes import Rig

from sim.atg import (
    CARD,
    CLEAR,
    FAULT,
    PLUG,
    STOP_CARD,
    UNPLUG,
    AtgDriver,
    AtgProfile,
    load_profile,
    parse_profile,
    script,
)

QUICK = AtgProfile(
    seed=7,
    id_tags=("TAG-A", "TAG-B", "TAG-C"),
    first_plug_s=(1.0, 5.0),
    card_after_s=(1.0, 3.0),
    charge_s=(60.0, 120.0),
    unplug_after_s=(1.0, 2.0),
    pause_s=(10.0, 30.0),
)


def first(profile: AtgProfile, cb_id: str = "CP-1", connector: int = 1, n: int = 40) -> list:
    return list(itertools.islice(script(profile, cb_id, connector), n))


def test_the_same_seed_gives_the_same_sequence_and_another_seed_another() -> None:
    assert first(QUICK) == first(QUICK)
    assert first(QUICK) != first(AtgProfile(**{**QUICK.__dict__, "seed": 8}))
    # connectors and stations draw from their own streams
    assert first(QUICK, connector=1) != first(QUICK, connector=2)
    assert first(QUICK, cb_id="CP-1") != first(QUICK, cb_id="CP-2")


def test_a_session_is_plug_card_charge_stop_unplug_within_the_profile_ranges() -> None:
    actions = first(QUICK, n=5 * 4)
    kinds = [a.kind for a in actions]
    assert kinds == [PLUG, CARD, STOP_CARD, UNPLUG] * 5
    times = [a.at for a in actions]
    assert times == sorted(times)
    assert 1.0 <= times[0] <= 5.0
    for plug, card, stop, unplug in zip(*[iter(actions)] * 4, strict=True):
        assert 1.0 <= card.at - plug.at <= 3.0
        assert 60.0 <= stop.at - card.at <= 120.0
        assert 1.0 <= unplug.at - stop.at <= 2.0
        assert card.value == stop.value and card.value in QUICK.id_tags
    assert len({a.value for a in actions if a.kind == CARD}) > 1  # tags drawn from the list


def test_sessions_limits_the_script_and_faults_come_and_go_while_charging() -> None:
    profile = AtgProfile(
        **{
            **QUICK.__dict__,
            "sessions": 3,
            "fault_probability": 1.0,
            "fault_codes": ("GroundFailure", "HighTemperature"),
            "fault_s": (5.0, 10.0),
            "unplug_to_stop": 1.0,
        }
    )
    actions = list(script(profile, "CP-1", 1))
    assert [a.kind for a in actions].count(PLUG) == 3
    for plug, card, fault, clear, unplug in zip(*[iter(actions)] * 5, strict=True):
        assert (plug.kind, card.kind, fault.kind, clear.kind, unplug.kind) == (
            PLUG,
            CARD,
            FAULT,
            CLEAR,
            UNPLUG,
        )
        assert card.at <= fault.at and 5.0 <= clear.at - fault.at <= 10.0
        assert unplug.at >= clear.at
        assert fault.value in profile.fault_codes


def test_a_profile_file_loads_and_its_mistakes_are_named(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(
        'seed = 3\nid_tags = ["A", "B"]\ncharge_s = [60, 90]\nfault_probability = 0.1\n'
    )
    profile = load_profile(path)
    assert profile.seed == 3 and profile.id_tags == ("A", "B") and profile.charge_s == (60.0, 90.0)
    assert profile.fault_probability == 0.1 and profile.pause_s == AtgProfile().pause_s
    for data, message in (
        ({"sead": 1}, "unknown keys ['sead']"),
        ({"charge_s": [90, 60]}, "charge_s must be [min, max]"),
        ({"charge_s": [-1, 60]}, "charge_s must be [min, max]"),
        ({"fault_probability": 2}, "from 0 to 1"),
        ({"id_tags": []}, "non-empty list"),
        ({"seed": True}, "whole number"),
        ({"fault_codes": ["Melted"]}, "fault_codes ['Melted'] unknown"),
    ):
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_profile(data)
    (tmp_path / "bad.toml").write_text("seed = = 1")
    with pytest.raises(ValueError, match=r"bad\.toml: not TOML"):
        load_profile(tmp_path / "bad.toml")
    with pytest.raises(ValueError, match=r"missing\.toml"):
        load_profile(tmp_path / "missing.toml")


def test_an_id_tag_too_long_for_the_stations_version_is_refused_at_once() -> None:
    rig = Rig()
    with pytest.raises(ValueError, match="id_tags"):
        AtgDriver(AtgProfile(id_tags=("X" * 21,)), rig.station)  # 1.6: 20 characters
    with pytest.raises(ValueError, match="connectors"):
        AtgDriver(AtgProfile(connectors=(3,)), rig.station)


def test_a_station_driven_by_a_faulty_profile_charges_faults_and_recovers() -> None:
    """Both connectors run their scripts after the boot; a session with a fault reports
    Charging, Faulted, Charging again, then ends with the driver's card (StopTransaction
    Local) and the unplug (Available)."""
    profile = AtgProfile(
        **{
            **QUICK.__dict__,
            "sessions": 2,
            "fault_probability": 1.0,
            "fault_codes": ("GroundFailure",),
            "fault_s": (5.0, 10.0),
        }
    )
    rig = Rig()
    rig.station.add_driver(AtgDriver(profile, rig.station).tick)
    rig.run(1.0)
    assert not rig.backend.payloads("StatusNotification")  # nothing before the boot
    rig.boot()
    rig.run(2 * (5 + 3 + 120 + 10 + 2 + 30) + 60)
    for n in (1, 2):
        seen = [
            p["status"] for p in rig.backend.payloads("StatusNotification") if p["connectorId"] == n
        ]
        assert (
            seen
            == ["Available"]
            + ["Preparing", "Charging", "Faulted", "Charging", "Finishing", "Available"] * 2
        ), seen
        faults = [
            p["errorCode"]
            for p in rig.backend.payloads("StatusNotification")
            if p["connectorId"] == n and p["status"] == "Faulted"
        ]
        assert faults == ["GroundFailure"] * 2
    starts = rig.backend.payloads("StartTransaction")
    stops = rig.backend.payloads("StopTransaction")
    assert len(starts) == len(stops) == 4
    assert {p["idTag"] for p in starts} <= set(QUICK.id_tags)
    assert {p.get("reason", "Local") for p in stops} == {"Local"}
    # the same seed drives the same sequence on a second station
    again = Rig()
    again.station.add_driver(AtgDriver(profile, again.station).tick)
    again.boot()
    again.run(2 * (5 + 3 + 120 + 10 + 2 + 30) + 60)
    assert [p["idTag"] for p in again.backend.payloads("StartTransaction")] == [
        p["idTag"] for p in starts
    ]


def test_the_example_profile_loads_and_sets_every_key() -> None:
    """examples/atg.toml (the README's) is valid and documents every key of the profile."""
    example = Path(__file__).resolve().parent.parent / "examples" / "atg.toml"
    assert load_profile(example).fault_probability == 0.05
    text = example.read_text()
    for key in AtgProfile.__dataclass_fields__:
        assert f"{key} = " in text, key
