"""Numbers stay numbers: a sampled value carries its number next to the frame's text.

What the CSMS receives is unchanged (the text); what the station keeps and shows comes from the
numbers: the energy register journaled beside a MeterValues (the PowerLoss stop and the register
floor after a restart), the MeterSampled event (the CLI's meter line), and the simulated meter is
advanced once per station tick.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from fake_csms import IDENTITY
from hypothesis import given, settings
from hypothesis import strategies as st
from station_fakes import Rig as StationRig
from tx_rig import Rig

from ocpp_core import ChargePoint
from ocpp_core.events import MeterSampled, RecordRepaired
from ocpp_core.journal import PREFIX
from ocpp_core.v16.sampling import PERIODIC, Sampler, items_of, register_wh
from sim.meter import MeterModel

CONFIG = {"AllowOfflineTxForUnknownId": "true", "MeterValueSampleInterval": "10"}


def journaled_meter_values(rig: Rig) -> list[tuple[str, dict[str, Any]]]:
    """The stored MeterValues documents (name, document), oldest first."""
    found = []
    for name in rig.store.names(PREFIX):
        document = rig.store.load(name)
        assert isinstance(document, dict)
        if document["action"] == "MeterValues":
            found.append((name, document))
    return found


def offline_transaction(rig: Rig) -> None:
    """A transaction started offline (no transactionId, so no record), metered for 35 s."""
    rig.offline()
    rig.plug(1)
    rig.card("TAG1", 1)
    rig.advance(35, charging_w=3600)


def test_a_journaled_meter_values_keeps_its_register_as_the_number_its_text_shows() -> None:
    rig = Rig(connectors=1, config=CONFIG)
    offline_transaction(rig)
    documents = journaled_meter_values(rig)
    assert len(documents) == 3
    for _, document in documents:
        (sampled,) = document["payload"]["meterValue"][0]["sampledValue"]
        assert sampled["measurand"] == "Energy.Active.Import.Register"
        assert document["data"] == {"registerWh": round(float(sampled["value"]))}


def test_the_power_loss_stop_takes_the_journaled_number_not_the_frame_text() -> None:
    """The text of a stored MeterValues is only what the CSMS gets: changing it (the stored
    frame read back would say 999999 Wh) does not change the register the station keeps."""
    rig = Rig(connectors=1, config=CONFIG)
    offline_transaction(rig)
    documents = journaled_meter_values(rig)
    registers = [document["data"]["registerWh"] for _, document in documents]
    for name, document in documents:
        document["payload"]["meterValue"][0]["sampledValue"][0]["value"] = "999999"
        rig.store.save(name, document)
    rig.meter = False  # no meter after the restart: the stop takes what was kept
    rig.restart()
    rig.advance(5)
    (stop,) = rig.payloads("StopTransaction")
    assert stop["reason"] == "PowerLoss"
    assert stop["meterStop"] == max(registers) < 999999
    assert rig.cp.energy_floor(1) == 0  # settled: nothing stored holds a register any more


def test_a_meter_values_journaled_by_an_older_version_without_the_number_still_loads() -> None:
    rig = Rig(connectors=1, config=CONFIG)
    offline_transaction(rig)
    assert rig.payloads("StartTransaction") == []  # offline all along
    for name, document in journaled_meter_values(rig):
        del document["data"]
        rig.store.save(name, document)
    rig.meter = False
    rig.restart()
    rig.advance(5)
    assert not rig.events_of(RecordRepaired)
    assert len(rig.payloads("MeterValues")) == 3  # every journaled value delivered
    (stop,) = rig.payloads("StopTransaction")
    (started,) = rig.payloads("StartTransaction")
    # Without the number, nothing raises the floor: meterStop is meterStart (never below it).
    assert stop["reason"] == "PowerLoss" and stop["meterStop"] == started["meterStart"]
    assert rig.cp.queue_length() == 0


@pytest.mark.parametrize("bad", ["12", -5, 1.5, True, None, [1]])
def test_an_unusable_journaled_register_is_dropped_reported_and_the_message_still_sent(
    bad: object,
) -> None:
    rig = Rig(connectors=1, config=CONFIG)
    offline_transaction(rig)
    name, document = journaled_meter_values(rig)[0]
    document["data"] = {"registerWh": bad}
    rig.store.save(name, document)
    rig.restart()
    rig.advance(5)
    repaired = [e for e in rig.events_of(RecordRepaired) if e.document == name]
    if bad is None:  # no number kept: as an older version wrote it
        assert repaired == []
    else:
        (event,) = repaired
        assert "registerWh" in event.problem and not event.closed
    assert len(rig.payloads("MeterValues")) == 3
    assert [p["reason"] for p in rig.payloads("StopTransaction")] == ["PowerLoss"]
    assert rig.cp.queue_length() == 0


def test_every_meter_values_taken_is_told_with_the_numbers_of_its_frame() -> None:
    rig = Rig(connectors=1, config={**CONFIG, "ClockAlignedDataInterval": "15"})
    rig.plug(1)
    rig.card("TAG1", 1)
    rig.advance(31, charging_w=7200)
    rig.csms.result("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1})
    frames = rig.payloads("MeterValues")
    told = rig.events_of(MeterSampled)
    contexts = [f["meterValue"][0]["sampledValue"][0]["context"] for f in frames]
    assert {"Sample.Periodic", "Sample.Clock", "Trigger"} <= set(contexts)
    assert len(told) == len(frames)
    for event, frame in zip(told, frames, strict=True):
        assert event.connector == frame["connectorId"]
        sampled = frame["meterValue"][0]["sampledValue"]
        assert [s.text for s in event.samples] == [v["value"] for v in sampled]
        assert [s.context for s in event.samples] == [v["context"] for v in sampled]
        assert [s.value for s in event.samples] == [float(v["value"]) for v in sampled]


def sampled_register(reading: float | int, unit: str | None) -> tuple[str, object, int | None]:
    cp = ChargePoint(identity=IDENTITY, connectors=1)
    io = cp.connector(1)
    io.add_meter_input("Energy.Active.Import.Register", lambda: reading, unit=unit)
    samples = Sampler("2024-01-01T00:00:00Z").samples(
        io, items_of("Energy.Active.Import.Register"), PERIODIC
    )
    (sample,) = samples
    return sample.text, sample.value, register_wh(samples)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.floats(min_value=0, max_value=1e15, allow_nan=False, allow_infinity=False),
        st.integers(min_value=0, max_value=10**30),
    ),
    st.sampled_from([None, "Wh", "kWh"]),
)
def test_a_sample_number_is_what_its_text_says(reading: float | int, unit: str | None) -> None:
    text, value, register = sampled_register(reading, unit)
    assert "e" not in text.lower()
    if isinstance(reading, int):
        assert value == reading and text == str(reading)
    else:
        assert value == float(text)
    assert isinstance(value, int | float)
    wh = value * (1000 if unit == "kWh" else 1)
    assert register == round(wh)


def test_a_register_beyond_the_float_range_in_wh_is_no_register() -> None:
    assert sampled_register(1e306, "kWh")[2] is None  # 1e309 Wh: no finite register
    assert sampled_register(10**400, "kWh")[2] == 10**403  # an integer stays exact


def test_a_station_advances_each_meter_once_per_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    original = MeterModel.advance

    def counted(meter: MeterModel, now: float) -> None:
        calls.append(now)
        original(meter, now)

    rig = StationRig(connectors=2).boot()
    rig.station.plug(1)
    rig.station.present_card(1, "TAG1")
    rig.run(5.0)
    monkeypatch.setattr(MeterModel, "advance", counted)
    ticks: list[float] = []
    tick = rig.station.tick

    def counted_tick(now: float) -> float | None:
        ticks.append(now)
        return tick(now)

    monkeypatch.setattr(rig.station, "tick", counted_tick)
    for step in range(1, 31):
        rig.station.tick(5.0 + step)
    assert len(ticks) == 30
    assert calls == [now for now in ticks for _ in range(2)]
    snapshot = rig.station.snapshot(1)
    assert snapshot.power_w > 0 and snapshot.energy_wh > 0
    assert math.isfinite(snapshot.energy_wh)


def test_the_station_meter_line_numbers_match_the_frames_the_csms_got() -> None:
    rig = StationRig(connectors=1).boot()
    rig.station.plug(1)
    rig.station.present_card(1, "TAG1")
    rig.run(130.0)
    frames = rig.backend.payloads("MeterValues")
    told = rig.of_type("MeterSampled")
    assert len(frames) >= 2 and len(told) == len(frames)
    for event, frame in zip(told, frames, strict=True):
        sampled = frame["meterValue"][0]["sampledValue"]
        assert [str(s.value) for s in event.samples] == [v["value"] for v in sampled]
