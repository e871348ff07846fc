"""The energy register never falls (OCPP 1.6 §7.31: register values of a transaction do not
decrease), whatever moment a power cut (a kill, a page reload) hits the station.

Seen as the CSMS sees it: the registers in MeterValues (Energy.Active.Import.Register), meterStart
and meterStop. A "kill" here drops the Station without any clean-up and builds a new one on the
same Store, as `python -m sim` restarted on the same --store or a reloaded page does (the real
process is killed in test_meter_register_kill.py).
"""

from __future__ import annotations

import json
from typing import Any

from station_fakes import FakeBackend, Rig

from ocpp_core import MemoryStore
from sim.connectors import METER_DOCUMENT, METER_SAVE_WH
from sim.station import METER_REFRESH_S

SAMPLED = {"MeterValueSampleInterval": "60"}


def registers_reported(calls: list[tuple[str, dict]], connector: int = 1) -> list[float]:
    """Every register value the CSMS received for ``connector``, in arrival order: meterStart,
    the sampled Energy.Active.Import.Register (no phase), meterStop."""
    values: list[float] = []
    for action, payload in calls:
        if action == "StartTransaction" and payload["connectorId"] == connector:
            values.append(payload["meterStart"])
        elif action == "MeterValues" and payload["connectorId"] == connector:
            values.extend(energy_values(payload["meterValue"]))
        elif action == "StopTransaction":  # these tests charge on one connector only
            values.append(payload["meterStop"])
    return values


def energy_values(meter_values: list[dict]) -> list[float]:
    return [
        float(sampled["value"])
        for meter_value in meter_values
        for sampled in meter_value["sampledValue"]
        if sampled.get("measurand", "Energy.Active.Import.Register")
        == "Energy.Active.Import.Register"
        and "phase" not in sampled
    ]


def charging_rig(store: Any, backend: FakeBackend | None = None, **settings: Any) -> Rig:
    rig = Rig(backend, store=store, **settings).boot()
    for key, value in SAMPLED.items():
        rig.station.engine.change_configuration(key, value)
    rig.station.plug(1)
    rig.station.present_card(1, "TAG-1")
    rig.run(1.0)
    assert rig.station.snapshot(1).status == "Charging"
    return rig


def kill_and_restart(rig: Rig, *, resume: bool) -> Rig:
    """Drop the station as a power cut would (no flush, no disconnect); a new one, on the same
    Store and CSMS, with the car still plugged in."""
    rig.backend.go_down()  # the cut connection; the old station never runs again
    rig.backend.go_up()
    again = Rig(rig.backend, store=rig.store, resume_transactions_after_restart=resume)
    again.station.plug(1)
    again.station.connect()
    again.run(1.0)
    return again


def test_7_31_every_register_reported_is_saved_before_its_frame_leaves() -> None:
    store = MemoryStore()
    backend = FakeBackend()
    unsaved: list[tuple[str, float, float]] = []
    received = backend.received

    def check(transport: Any, text: str) -> None:
        # The moment the frame reaches the CSMS: the saved register must already cover it.
        saved = (store.load(METER_DOCUMENT) or {}).get("1", 0.0)
        frame = backend_frame(text)
        if frame is not None:
            for value in registers_reported([frame]):
                if value > saved:
                    unsaved.append((frame[0], value, saved))
        received(transport, text)

    backend.received = check  # type: ignore[method-assign]
    rig = charging_rig(store, backend)
    rig.run(600.0)
    rig.station.present_card(1, "TAG-1")  # stop
    rig.run(1.0)
    assert len(rig.backend.payloads("MeterValues")) >= 9
    assert rig.backend.payloads("StopTransaction")
    assert unsaved == []


def backend_frame(text: str) -> tuple[str, dict] | None:
    frame = json.loads(text)
    return (frame[2], frame[3]) if frame[0] == 2 else None


def test_7_31_a_kill_loses_at_most_meter_save_wh_of_energy() -> None:
    store = MemoryStore()
    rig = charging_rig(store)
    rig.station.engine.change_configuration("MeterValueSampleInterval", "0")  # no samples
    power_w = rig.station.snapshot(1).power_w
    worst = 0.0
    for _ in range(120):
        rig.run(5.0)
        saved = (store.load(METER_DOCUMENT) or {"1": 0.0})["1"]
        worst = max(worst, rig.station.snapshot(1).energy_wh - saved)
    assert rig.station.snapshot(1).energy_wh > 3000  # 10 min at 22 kW
    assert worst <= METER_SAVE_WH + power_w * METER_REFRESH_S / 3600


def test_7_31_a_resumed_transaction_never_reports_a_lower_register() -> None:
    rig = charging_rig(MemoryStore())
    rig.run(185.0)  # three samples
    before = registers_reported(rig.backend.calls)
    assert len(before) >= 4 and before[-1] > 1000
    again = kill_and_restart(rig, resume=True)
    again.run(200.0)
    again.station.present_card(1, "TAG-1")
    again.run(1.0)
    reported = registers_reported(again.backend.calls)
    assert again.backend.actions().count("StartTransaction") == 1
    assert again.backend.payloads("StopTransaction")[0]["reason"] == "Local"
    assert len(reported) > len(before) + 2
    assert reported == sorted(reported), reported


def test_7_31_the_power_loss_stop_and_the_next_start_never_fall_below_what_was_reported() -> None:
    rig = charging_rig(MemoryStore())
    rig.run(185.0)
    last = registers_reported(rig.backend.calls)[-1]
    again = kill_and_restart(rig, resume=False)
    [stop] = again.backend.payloads("StopTransaction")
    assert stop["reason"] == "PowerLoss" and stop["meterStop"] >= last
    again.station.present_card(1, "TAG-1")
    again.run(120.0)
    reported = registers_reported(again.backend.calls)
    assert again.backend.actions().count("StartTransaction") == 2
    assert reported == sorted(reported), reported


def test_7_31_a_register_saved_too_low_is_raised_to_what_the_transactions_reported() -> None:
    # The saved register lost (a corrupt or older document): the transactions in the Store
    # still say how far the register had come; the meter continues from there.
    rig = charging_rig(MemoryStore())
    rig.run(185.0)
    last = registers_reported(rig.backend.calls)[-1]
    rig.store.save(METER_DOCUMENT, {"1": 0.0})
    again = kill_and_restart(rig, resume=True)
    assert again.station.snapshot(1).energy_wh >= last
    again.run(130.0)
    reported = registers_reported(again.backend.calls)
    assert reported == sorted(reported), reported
