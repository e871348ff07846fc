"""OCPP 2.0.1 metering (J01 clock-aligned, J02 sampled meter values; part 6 TC_J_*_CS).

The meter is fitted like the simulated station's (sim/connectors.py): the energy register, active
power, current per phase, voltage per phase, the current offered and the EV's state of charge.
Block-level tests drive the metering block against ``Transactions``, a stand-in for the
transaction block behind the ``TransactionEvents`` seam that records what metering hands it; the
part 6 test cases further down run the real transaction block against the fake CSMS.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from block_peers import block_of
from ev201 import Ev, tx_events
from fake_csms import WALL_START
from fake_csms201 import booted201, station201
from station_fakes import FakeBackend, Rig

from ocpp_core import ChargePoint, MemoryStore, SignedReading
from ocpp_core.clock import parse_datetime
from ocpp_core.v201.metering import MAX_ENDED_VALUES, MeteringBlock, meter_value

ENERGY = "Energy.Active.Import.Register"
SAMPLED = "SampledDataCtrlr"
ALIGNED = "AlignedDataCtrlr"
# Every measurand the simulated meter produces, as a MemberList.
SIM_MEASURANDS = (
    "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,Current.Offered,SoC"
)
# 1_700_000_000 is 800 s past a 900 s boundary: the next one is 100 s after the start.
FIRST_BOUNDARY = 100.0


class Meter:
    """One EVSE's simulated meter: three phases at 230 V, 16 A offered, an EV at 40 %."""

    def __init__(self, energy: int = 1000) -> None:
        self.energy = energy
        self.currents = [10.0, 10.0, 10.0]

    @property
    def power(self) -> float:
        return round(sum(self.currents) * 230.0, 1)


def fit(cp: ChargePoint, evse: int, meter: Meter) -> None:
    """Register the simulated meter's inputs on an EVSE, as sim/connectors.py does."""
    io = cp.connector(evse)
    io.energy_wh = lambda: meter.energy
    io.power_w = lambda: meter.power
    for index, phase in enumerate(("L1", "L2", "L3")):
        io.add_meter_input(
            "Current.Import", lambda i=index: meter.currents[i], phase=phase, unit="A"
        )
    for phase in ("L1", "L2", "L3"):
        io.add_meter_input("Voltage", lambda: 230.0, phase=f"{phase}-N", unit="V")
    io.add_meter_input("Current.Offered", lambda: 16.0, unit="A")
    io.add_meter_input("SoC", lambda: 40.0, location="EV", unit="Percent")


class Transactions:
    """A stand-in for the transaction block: transactions run on request; metering's Updated
    events are recorded as (evse, meterValue list, register_wh, triggerReason)."""

    def __init__(self, cp: ChargePoint) -> None:
        self.metering = block_of(cp, MeteringBlock)
        self.metering.sessions = self
        self.running: set[int] = set()
        self.events: list[tuple[int, list[dict[str, Any]], int | None, str]] = []

    def transaction_running(self, evse: int) -> bool:
        return evse in self.running

    def enqueue_transaction_meter_values(
        self,
        evse: int,
        meter_values: list[dict[str, Any]],
        now: float,
        register_wh: int | None = None,
        trigger: str = "MeterValuePeriodic",
    ) -> None:
        self.events.append((evse, meter_values, register_wh, trigger))

    def start(self, evse: int, now: float) -> list[dict[str, Any]]:
        self.running.add(evse)
        return self.metering.transaction_started(evse, now)

    def stop(self, evse: int, now: float) -> list[dict[str, Any]]:
        self.running.discard(evse)
        return self.metering.transaction_stopped(evse, now)


def metered(config: dict[str, str] | None = None, **options: Any) -> tuple[Any, Any, list[Meter]]:
    """A booted 2.0.1 station with two metered EVSEs, its CSMS and the meters."""
    cp, csms = booted201(config_defaults=config or {}, **options)
    meters = [Meter(), Meter(2000)]
    fit(cp, 1, meters[0])
    fit(cp, 2, meters[1])
    return cp, csms, meters


def measurands(value: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(s["measurand"], s.get("phase")) for s in value["sampledValue"]]


def contexts(values: list[dict[str, Any]]) -> set[str]:
    return {s["context"] for value in values for s in value["sampledValue"]}


def wall(value: dict[str, Any]) -> float:
    return parse_datetime(value["timestamp"])


# ---------------------------------------------------------------------- the meter's measurands

SIM_VALUES = [
    (ENERGY, None, "Outlet", "Wh", 1000),
    ("Power.Active.Import", None, "Outlet", "W", 6900.0),
    ("Current.Import", "L1", "Outlet", "A", 10.0),
    ("Current.Import", "L2", "Outlet", "A", 10.0),
    ("Current.Import", "L3", "Outlet", "A", 10.0),
    ("Voltage", "L1-N", "Outlet", "V", 230.0),
    ("Voltage", "L2-N", "Outlet", "V", 230.0),
    ("Voltage", "L3-N", "Outlet", "V", 230.0),
    ("Current.Offered", None, "Outlet", "A", 16.0),
    ("SoC", None, "EV", "Percent", 40.0),
]


def test_J02_every_measurand_of_the_simulated_meter_per_phase_with_numbers_and_units() -> None:
    """Each configured measurand reports every input measuring it, per phase (J01.FR.14)."""
    cp, _, _ = metered({f"{SAMPLED}.TxStartedMeasurands": SIM_MEASURANDS})
    tx = Transactions(cp)
    (begin,) = tx.start(1, 0.0)
    found = [
        (s["measurand"], s.get("phase"), s["location"], s["unitOfMeasure"]["unit"], s["value"])
        for s in begin["sampledValue"]
    ]
    assert found == SIM_VALUES
    assert contexts([begin]) == {"Transaction.Begin"}
    assert all(type(s["value"]) in (int, float) for s in begin["sampledValue"])


def test_register_values_without_phases_reports_only_the_overall_register() -> None:
    cp, _, _ = metered(
        {
            f"{SAMPLED}.TxStartedMeasurands": ENERGY,
            f"{SAMPLED}.RegisterValuesWithoutPhases": "true",
        }
    )
    cp.connector(1).add_meter_input(ENERGY, lambda: 333, phase="L1", unit="Wh")
    tx = Transactions(cp)
    (begin,) = tx.start(1, 0.0)
    assert measurands(begin) == [(ENERGY, None)]
    cp.change_configuration(f"{SAMPLED}.RegisterValuesWithoutPhases", "false")
    (begin,) = tx.start(1, 1.0)
    assert measurands(begin) == [(ENERGY, None), (ENERGY, "L1")]


def test_a_measurand_2_0_1_does_not_have_cannot_be_fitted() -> None:
    cp, _ = station201()
    with pytest.raises(ValueError, match="no measurand 'RPM'"):
        cp.connector(1).add_meter_input("RPM", lambda: 1.0)
    with pytest.raises(ValueError, match="20 characters"):
        cp.connector(1).add_meter_input("Voltage", lambda: 1.0, unit="V" * 21)


def test_a_measurand_list_naming_a_measurand_without_input_is_rejected() -> None:
    cp, _, _ = metered()
    key = f"{SAMPLED}.TxUpdatedMeasurands"
    assert cp.change_configuration(key, "Power.Reactive.Import") == "Rejected"
    assert cp.change_configuration(key, "Voltage,SoC") == "Accepted"
    assert cp.get_configuration(key) == "Voltage,SoC"


def test_a_signed_reading_carries_its_number_and_its_signed_data() -> None:
    cp, _ = station201(config_defaults={f"{SAMPLED}.TxStartedMeasurands": ENERGY})
    cp.connector(1).energy_wh = lambda: SignedReading("b2NtZg==", 1234)
    (begin,) = Transactions(cp).start(1, 0.0)
    (sampled,) = begin["sampledValue"]
    assert sampled["value"] == 1234
    assert sampled["signedMeterValue"]["signedMeterData"] == "b2NtZg=="
    cp.connector(1).energy_wh = lambda: SignedReading("b2NtZg==")
    assert Transactions(cp).start(1, 0.0) == []  # value is required in 2.0.1: nothing to report


def test_meter_value_of_nothing_is_none() -> None:
    assert meter_value("2024-01-01T00:00:00Z", ()) is None


# ---------------------------------------------------------------------- J02 sampled data


def test_J02_sampled_updated_every_interval_with_the_register_as_a_number() -> None:
    cp, csms, meters = metered({f"{SAMPLED}.TxUpdatedInterval": "30"})
    tx = Transactions(cp)
    tx.start(1, csms.now)
    meters[0].energy = 1500
    csms.advance(95)
    assert [(e[0], e[3]) for e in tx.events] == [(1, "MeterValuePeriodic")] * 3
    times = [wall(e[1][0]) - WALL_START for e in tx.events]
    assert times == [30.0, 60.0, 90.0]
    assert [e[2] for e in tx.events] == [1500] * 3
    assert contexts([v for e in tx.events for v in e[1]]) == {"Sample.Periodic"}
    tx.stop(1, csms.now)
    csms.advance(60)
    assert len(tx.events) == 3


def test_J02_interval_0_or_sampled_data_disabled_sends_no_updated_values() -> None:
    cp, csms, _ = metered({f"{SAMPLED}.TxUpdatedInterval": "0"})
    tx = Transactions(cp)
    tx.start(1, csms.now)
    csms.advance(300, step=10)
    assert tx.events == []
    assert cp.next_wakeup(csms.now) is None or cp.next_wakeup(csms.now) > csms.now
    cp, csms, _ = metered({f"{SAMPLED}.TxUpdatedInterval": "10", f"{SAMPLED}.Enabled": "false"})
    tx = Transactions(cp)
    assert tx.start(1, csms.now) == []
    csms.advance(30)
    assert tx.events == []
    assert tx.stop(1, csms.now) == []


def test_J02_ended_holds_tx_ended_samples_then_transaction_end() -> None:
    cp, csms, meters = metered(
        {
            f"{SAMPLED}.TxEndedInterval": "20",
            f"{SAMPLED}.TxEndedMeasurands": f"{ENERGY},Current.Import",
            f"{SAMPLED}.TxUpdatedInterval": "0",
        }
    )
    tx = Transactions(cp)
    tx.start(2, csms.now)
    csms.advance(70)
    meters[1].energy = 2600
    values = tx.stop(2, csms.now)
    assert [wall(v) - WALL_START for v in values] == [20.0, 40.0, 60.0, 70.0]
    assert [v["sampledValue"][0]["context"] for v in values] == ["Sample.Periodic"] * 3 + [
        "Transaction.End"
    ]
    for value in values:
        assert measurands(value) == [(ENERGY, None)] + [
            ("Current.Import", p) for p in ("L1", "L2", "L3")
        ]
    assert values[-1]["sampledValue"][0]["value"] == 2600
    assert tx.events == []  # TxEnded data is only for the Ended event


def test_J02_ended_values_survive_a_restart() -> None:
    store = MemoryStore()
    config = {f"{SAMPLED}.TxEndedInterval": "10"}
    cp, csms, _ = metered(config, store=store)
    tx = Transactions(cp)
    tx.start(1, csms.now)
    csms.advance(25)
    cp2, csms2, _ = metered(config, store=store)
    tx2 = Transactions(cp2)
    tx2.running.add(1)
    csms2.pump()
    values = tx2.stop(1, csms2.now)
    assert [v["sampledValue"][0]["context"] for v in values] == [
        "Sample.Periodic",
        "Sample.Periodic",
        "Transaction.End",
    ]
    assert store.load("txdata/1") is None


def test_J02_ended_values_are_capped_keeping_the_end() -> None:
    cp, csms, _ = metered({f"{SAMPLED}.TxEndedInterval": "1", f"{SAMPLED}.TxUpdatedInterval": "0"})
    tx = Transactions(cp)
    tx.start(1, csms.now)
    csms.advance(MAX_ENDED_VALUES + 20)
    values = tx.stop(1, csms.now)
    assert len(values) == MAX_ENDED_VALUES
    assert values[-1]["sampledValue"][0]["context"] == "Transaction.End"
    assert wall(values[0]) - WALL_START == 1.0


def test_a_transaction_resumed_after_a_restart_is_sampled_from_the_first_poll() -> None:
    cp, csms = station201(config_defaults={f"{SAMPLED}.TxUpdatedInterval": "10"})
    fit(cp, 2, Meter())
    tx = Transactions(cp)
    tx.running.add(2)  # running before the first tick: a resumed transaction
    csms.connect()
    csms.advance(21)
    assert [e[0] for e in tx.events] == [2, 2]
    assert wall(tx.events[1][1][0]) - wall(tx.events[0][1][0]) == 10.0


# ---------------------------------------------------------------------- J01 clock-aligned data


def test_J01_aligned_values_outside_transactions_go_in_meter_values_per_evse() -> None:
    _cp, csms, _ = metered({f"{ALIGNED}.Interval": "900"})
    csms.advance(FIRST_BOUNDARY + 1800 + 1, step=50)
    sent = csms.payloads("MeterValues")
    assert [p["evseId"] for p in sent] == [1, 2] * 3
    times = [wall(p["meterValue"][0]) for p in sent]
    assert [t % 900 for t in times] == [0.0] * 6
    assert times[2] - times[0] == 900.0 and times[4] - times[2] == 900.0
    for payload in sent:
        (value,) = payload["meterValue"]
        assert measurands(value) == [(ENERGY, None)]
        assert contexts([value]) == {"Sample.Clock"}


def test_J01_the_main_meter_reports_as_evse_0() -> None:
    cp, csms, _ = metered({f"{ALIGNED}.Interval": "900"})
    cp.connector(0).energy_wh = lambda: 99999
    csms.advance(FIRST_BOUNDARY + 1, step=50)
    assert [p["evseId"] for p in csms.payloads("MeterValues")] == [0, 1, 2]


def test_J01_aligned_values_of_an_evse_in_a_transaction_go_in_its_updated_event() -> None:
    cp, csms, _ = metered({f"{ALIGNED}.Interval": "900", f"{SAMPLED}.TxUpdatedInterval": "0"})
    tx = Transactions(cp)
    tx.start(1, csms.now)
    csms.advance(FIRST_BOUNDARY + 1, step=50)
    assert [p["evseId"] for p in csms.payloads("MeterValues")] == [2]
    ((evse, values, register, reason),) = tx.events
    assert (evse, register, reason) == (1, 1000, "MeterValueClock")
    assert contexts(values) == {"Sample.Clock"}


def test_J01_aligned_data_waits_for_the_csms_clock_and_stops_when_disabled() -> None:
    cp, csms = station201(config_defaults={f"{ALIGNED}.Interval": "900"})
    fit(cp, 1, Meter())
    csms.handlers["BootNotification"] = lambda payload: {
        "status": "Accepted",
        "currentTime": "2023-11-14T22:13:20Z",
        "interval": 300,
    }
    csms.connect()
    csms.advance(FIRST_BOUNDARY + 1, step=50)
    assert len(csms.payloads("MeterValues")) == 1
    cp.change_configuration(f"{ALIGNED}.Enabled", "false")
    csms.advance(1800, step=100)
    assert len(csms.payloads("MeterValues")) == 1


def test_J01_send_during_idle_sends_nothing_aligned_while_a_transaction_runs() -> None:
    cp, csms, _ = metered(
        {
            f"{ALIGNED}.Interval": "900",
            f"{ALIGNED}.SendDuringIdle": "true",
            f"{SAMPLED}.TxUpdatedInterval": "0",
        }
    )
    tx = Transactions(cp)
    csms.advance(FIRST_BOUNDARY + 1, step=50)
    assert [p["evseId"] for p in csms.payloads("MeterValues")] == [1, 2]
    tx.start(1, csms.now)
    csms.advance(900, step=50)
    assert len(csms.payloads("MeterValues")) == 2 and tx.events == []
    tx.stop(1, csms.now)
    csms.advance(900, step=50)
    assert [p["evseId"] for p in csms.payloads("MeterValues")] == [1, 2, 1, 2]


def test_J01_aligned_tx_ended_values_go_in_the_ended_event() -> None:
    cp, csms, _ = metered(
        {
            f"{ALIGNED}.TxEndedInterval": "900",
            f"{ALIGNED}.TxEndedMeasurands": "Power.Active.Import",
            f"{SAMPLED}.TxEndedMeasurands": ENERGY,
        }
    )
    tx = Transactions(cp)
    tx.start(1, csms.now)
    csms.advance(FIRST_BOUNDARY + 900 + 1, step=50)
    values = tx.stop(1, csms.now)
    assert [(v["sampledValue"][0]["context"], measurands(v)) for v in values] == [
        ("Sample.Clock", [("Power.Active.Import", None)]),
        ("Sample.Clock", [("Power.Active.Import", None)]),
        ("Transaction.End", [(ENERGY, None)]),
    ]
    assert wall(values[1]) - wall(values[0]) == 900.0
    assert csms.payloads("MeterValues") == []  # Interval 0: no MeterValues


# ---------------------------------------------------------------------- F06 triggered


def test_F06_triggered_meter_values_for_one_evse_and_for_all() -> None:
    cp, csms, _ = metered({f"{ALIGNED}.Measurands": f"{ENERGY},Voltage"})
    metering = block_of(cp, MeteringBlock)
    assert metering.send_triggered(2, csms.now) == "Accepted"
    assert metering.send_triggered(3, csms.now) == "Rejected"
    csms.pump()
    (payload,) = csms.payloads("MeterValues")
    assert payload["evseId"] == 2
    assert contexts(payload["meterValue"]) == {"Trigger"}
    assert measurands(payload["meterValue"][0]) == [(ENERGY, None)] + [
        ("Voltage", f"{p}-N") for p in ("L1", "L2", "L3")
    ]
    assert metering.send_triggered(None, csms.now) == "Accepted"
    csms.pump()
    assert [p["evseId"] for p in csms.payloads("MeterValues")] == [2, 1, 2]


def test_phases_used_follow_the_phase_currents() -> None:
    cp, _, meters = metered()
    metering = block_of(cp, MeteringBlock)
    assert metering.phases(1) == 3
    meters[0].currents = [16.0, 0.0, 0.0]
    assert metering.phases(1) == 1
    meters[0].currents = [0.0, 0.0, 0.0]
    assert metering.phases(1) == 3  # nothing flows: the metered phases
    assert metering.phases(0) is None


# ---------------------------------------------------------------------- part 6 test cases


def energy_transfer_started(
    config: dict[str, str], evse: int = 1
) -> tuple[ChargePoint, Any, list[Meter], Ev]:
    """Reusable state EnergyTransferStarted on ``evse``: plugged in, card presented, charging."""
    cp, csms, meters = metered(config)
    ev = Ev(cp, evse)
    ev.plugged = True
    csms.pump()
    cp.present_card(evse, "RFID-1", csms.now)
    csms.pump()
    assert cp.charging(evse, csms.now)
    return cp, csms, meters, ev


def test_TC_J_01_CS_clock_aligned_meter_values_no_transaction_ongoing() -> None:
    """Step 1, three times: a MeterValuesRequest per EVSE, Sample.Clock, an element per
    AlignedDataMeasurands item, timestamps AlignedDataInterval apart and equal per interval."""
    _, csms, _ = metered({f"{ALIGNED}.Interval": "900", f"{ALIGNED}.Measurands": SIM_MEASURANDS})
    csms.advance(FIRST_BOUNDARY + 1800 + 1, step=50)
    sent = csms.payloads("MeterValues")
    assert [p["evseId"] for p in sent] == [1, 2] * 3
    times = [wall(p["meterValue"][0]) for p in sent]
    assert times[0] == times[1] and times[2] == times[3] and times[4] == times[5]
    assert (times[2] - times[0], times[4] - times[2], times[0] % 900) == (900.0, 900.0, 0.0)
    for payload in sent:
        (value,) = payload["meterValue"]
        assert value["sampledValue"][0]["context"] == "Sample.Clock"
        assert {m for m, _ in measurands(value)} == set(SIM_MEASURANDS.split(","))


def test_TC_J_02_CS_clock_aligned_meter_values_transaction_ongoing() -> None:
    """The EVSE with the transaction reports in TransactionEvents (MeterValueClock), the idle one
    in MeterValuesRequests; both at AlignedDataInterval."""
    config = {f"{ALIGNED}.Interval": "900", f"{SAMPLED}.TxUpdatedInterval": "0"}
    cp, csms, _, _ = energy_transfer_started(config)
    info = cp.transaction(1)
    assert info is not None
    csms.clear()
    csms.advance(FIRST_BOUNDARY + 900 + 1, step=50)
    clocked = [e for e in tx_events(csms) if e["triggerReason"] == "MeterValueClock"]
    assert len(clocked) == 2
    for event in clocked:
        assert event["eventType"] == "Updated"
        assert event["transactionInfo"]["transactionId"] == info.transaction_id
        (value,) = event["meterValue"]
        assert value["sampledValue"][0]["context"] == "Sample.Clock"
        assert measurands(value) == [(ENERGY, None)]
    assert wall(clocked[1]["meterValue"][0]) - wall(clocked[0]["meterValue"][0]) == 900.0
    assert [p["evseId"] for p in csms.payloads("MeterValues")] == [2, 2]


def test_TC_J_03_CS_clock_aligned_meter_values_event_type_ended() -> None:
    """The Ended event holds an element per AlignedDataTxEndedInterval moment, Sample.Clock,
    with the AlignedDataTxEndedMeasurands."""
    config = {
        f"{ALIGNED}.TxEndedInterval": "900",
        f"{ALIGNED}.TxEndedMeasurands": f"{ENERGY},Current.Import",
        f"{SAMPLED}.TxUpdatedInterval": "0",
    }
    _, csms, meters, ev = energy_transfer_started(config)
    csms.advance(FIRST_BOUNDARY + 1800 + 1, step=50)
    meters[0].energy = 9000
    ev.plugged = False  # reusable state ParkingBayUnoccupied
    csms.pump()
    (ended,) = tx_events(csms, "Ended")
    clocked = [v for v in ended["meterValue"] if v["sampledValue"][0]["context"] == "Sample.Clock"]
    assert len(clocked) == 3
    assert [wall(v) % 900 for v in clocked] == [0.0] * 3
    assert wall(clocked[2]) - wall(clocked[1]) == wall(clocked[1]) - wall(clocked[0]) == 900.0
    for value in clocked:
        assert measurands(value) == [(ENERGY, None)] + [
            ("Current.Import", p) for p in ("L1", "L2", "L3")
        ]
    assert ended["meterValue"][-1]["sampledValue"][0] == {
        "value": 9000,
        "context": "Transaction.End",
        "measurand": ENERGY,
        "location": "Outlet",
        "unitOfMeasure": {"unit": "Wh"},
    }


def test_TC_J_06_CS_clock_aligned_no_meter_values_during_transaction() -> None:
    """AlignedDataSendDuringIdle: MeterValues before and after the transaction, nothing with
    meter values while it runs (sampled data not configured, as the test case assumes)."""
    config = {
        f"{ALIGNED}.Interval": "900",
        f"{ALIGNED}.SendDuringIdle": "true",
        f"{SAMPLED}.TxStartedMeasurands": "",
        f"{SAMPLED}.TxEndedMeasurands": "",
        f"{SAMPLED}.TxUpdatedInterval": "0",
    }
    cp, csms, _ = metered(config)
    ev = Ev(cp, 1)
    csms.advance(FIRST_BOUNDARY + 1, step=50)  # steps 1-2
    assert [p["evseId"] for p in csms.payloads("MeterValues")] == [1, 2]
    ev.plugged = True  # step 3: EnergyTransferStarted
    csms.pump()
    cp.present_card(1, "RFID-1", csms.now)
    csms.pump()
    assert cp.charging(1, csms.now)
    csms.advance(905, step=50)  # steps 4-5: nothing during the transaction
    ev.plugged = False  # step 6: ParkingBayUnoccupied
    csms.pump()
    assert len(csms.payloads("MeterValues")) == 2
    assert tx_events(csms, "Ended") and not any("meterValue" in e for e in tx_events(csms))
    csms.advance(900, step=50)  # steps 7-8
    assert [p["evseId"] for p in csms.payloads("MeterValues")] == [1, 2, 1, 2]


def test_TC_J_07_CS_sampled_meter_values_event_type_started_evse_known() -> None:
    """TxStartPoint EVConnected: the Started event carries Transaction.Begin values of every
    SampledDataTxStartedMeasurands item."""
    config = {
        "TxCtrlr.TxStartPoint": "EVConnected",
        f"{SAMPLED}.TxStartedMeasurands": f"{ENERGY},Voltage,SoC",
    }
    cp, csms, _ = metered(config)
    ev = Ev(cp, 2)
    ev.plugged = True  # EVConnectedPreSession
    csms.pump()
    (started,) = tx_events(csms, "Started")
    (value,) = started["meterValue"]
    assert value["sampledValue"][0]["context"] == "Transaction.Begin"
    assert measurands(value) == [(ENERGY, None)] + [
        ("Voltage", f"{p}-N") for p in ("L1", "L2", "L3")
    ] + [("SoC", None)]
    assert value["sampledValue"][0]["value"] == 2000
    cp.present_card(2, "RFID-1", csms.now)  # EnergyTransferStarted
    csms.pump()
    assert cp.charging(2, csms.now)


def test_TC_J_09_CS_sampled_meter_values_event_type_updated() -> None:
    """Updated events with triggerReason MeterValuePeriodic, Sample.Periodic values of every
    SampledDataTxUpdatedMeasurands item, SampledDataTxUpdatedInterval apart."""
    config = {
        f"{SAMPLED}.TxUpdatedInterval": "15",
        f"{SAMPLED}.TxUpdatedMeasurands": f"{ENERGY},Power.Active.Import,Current.Import",
    }
    _, csms, meters, _ = energy_transfer_started(config)
    csms.clear()
    meters[0].energy = 1234
    csms.advance(61)
    periodic = [e for e in tx_events(csms) if e["triggerReason"] == "MeterValuePeriodic"]
    assert len(periodic) == 4
    times = [wall(e["meterValue"][0]) for e in periodic]
    assert [b - a for a, b in itertools.pairwise(times)] == [15.0] * 3
    for event in periodic:
        (value,) = event["meterValue"]
        assert event["eventType"] == "Updated"
        assert value["sampledValue"][0]["context"] == "Sample.Periodic"
        assert measurands(value) == [(ENERGY, None), ("Power.Active.Import", None)] + [
            ("Current.Import", p) for p in ("L1", "L2", "L3")
        ]
        assert value["sampledValue"][0]["value"] == 1234


def test_TC_J_10_CS_sampled_meter_values_event_type_ended() -> None:
    """The Ended event: an element per SampledDataTxEndedInterval moment (Sample.Periodic) and
    one Transaction.End, each with the SampledDataTxEndedMeasurands."""
    config = {
        f"{SAMPLED}.TxEndedInterval": "20",
        f"{SAMPLED}.TxEndedMeasurands": f"{ENERGY},Power.Active.Import",
        f"{SAMPLED}.TxUpdatedInterval": "0",
    }
    _, csms, _, ev = energy_transfer_started(config)
    csms.advance(65)
    ev.plugged = False  # ParkingBayUnoccupied
    csms.pump()
    (ended,) = tx_events(csms, "Ended")
    values = ended["meterValue"]
    assert [v["sampledValue"][0]["context"] for v in values] == ["Sample.Periodic"] * 3 + [
        "Transaction.End"
    ]
    times = [wall(v) for v in values[:3]]
    assert [b - a for a, b in itertools.pairwise(times)] == [20.0, 20.0]
    for value in values:
        assert measurands(value) == [(ENERGY, None), ("Power.Active.Import", None)]


def test_F06_triggered_transaction_event_values_are_tx_updated_measurands_now() -> None:
    cp, _, meters = metered({f"{SAMPLED}.TxUpdatedMeasurands": f"{ENERGY},Power.Active.Import"})
    metering = block_of(cp, MeteringBlock)
    meters[0].energy = 4321
    (value,) = metering.triggered_values(1, 0.0)
    assert contexts([value]) == {"Trigger"}
    assert measurands(value) == [(ENERGY, None), ("Power.Active.Import", None)]
    assert value["sampledValue"][0]["value"] == 4321
    cp.change_configuration(f"{SAMPLED}.TxUpdatedMeasurands", "")
    assert metering.triggered_values(1, 0.0) == []


def test_J02_the_sim_station_reports_every_measurand_of_its_meter_per_phase() -> None:
    """sim.Station on 2.0.1: its meter's inputs (sim/connectors.py) in Updated events, per phase,
    as numbers with units, and the energy register rising."""
    rig = Rig(FakeBackend(), ocpp_version="2.0.1", ev_capacity_kwh=50.0).boot()
    station = rig.station
    assert station.set_variable(f"{SAMPLED}.TxUpdatedMeasurands", SIM_MEASURANDS) == "Accepted"
    assert station.set_variable(f"{SAMPLED}.TxUpdatedInterval", "10") == "Accepted"
    station.plug(1)
    station.present_card(1, "CARD-201")
    rig.run(35)
    periodic = [
        e
        for e in rig.backend.payloads("TransactionEvent")
        if e["triggerReason"] == "MeterValuePeriodic"
    ]
    assert len(periodic) == 3
    for event in periodic:
        (value,) = event["meterValue"]
        found = [
            (s["measurand"], s.get("phase"), s["location"], s["unitOfMeasure"]["unit"])
            for s in value["sampledValue"]
        ]
        assert found == [row[:4] for row in SIM_VALUES]
    registers = [e["meterValue"][0]["sampledValue"][0]["value"] for e in periodic]
    assert registers[0] < registers[1] < registers[2]
    power = periodic[-1]["meterValue"][0]["sampledValue"][1]["value"]
    assert power > 0


@pytest.mark.parametrize("seed", range(10))
def test_wakeups_of_the_metering_schedules_always_lie_in_the_future(seed: int) -> None:
    """Seeded station lives with every sampling schedule on: polled at its wake-ups, the
    station never asks for a time already past (no spin), whatever the intervals and cables."""
    rng = random.Random(seed)
    config = {
        f"{SAMPLED}.TxUpdatedInterval": str(rng.choice((0, 7, 30))),
        f"{SAMPLED}.TxEndedInterval": str(rng.choice((0, 5, 13))),
        f"{ALIGNED}.Interval": str(rng.choice((0, 20, 60, 900))),
        f"{ALIGNED}.TxEndedInterval": str(rng.choice((0, 30, 900))),
    }
    cp, csms, _ = metered(config)
    evs = [Ev(cp, 1), Ev(cp, 2)]
    for _ in range(20):
        action = rng.random()
        ev = rng.choice(evs)
        if action < 0.3:
            ev.plugged = not ev.plugged
        elif action < 0.5:
            cp.present_card(evs.index(ev) + 1, "RFID-1", csms.now)
        csms.pump()
        until = csms.now + rng.uniform(0.0, 300.0)
        while True:
            wake = cp.next_wakeup(csms.now)
            assert wake is None or wake > csms.now
            if wake is None or wake > until:
                break
            csms.now = wake
            csms.pump()
        csms.now = until


def test_J02_ended_after_a_power_loss_keeps_the_tx_ended_values_taken_before_it() -> None:
    """A restart that ends the transaction (PowerLoss): its Ended event still carries the
    TxEnded values stored before the power cut, then Transaction.End."""
    store = MemoryStore()
    config = {f"{SAMPLED}.TxEndedInterval": "10", f"{SAMPLED}.TxUpdatedInterval": "0"}
    cp, csms, _ = metered(config, store=store)
    ev = Ev(cp, 1)
    ev.plugged = True
    csms.pump()
    cp.present_card(1, "RFID-1", csms.now)
    csms.pump()
    assert cp.charging(1, csms.now)
    csms.advance(25)  # two TxEnded samples stored; then the power goes
    cp2, csms2 = station201(store=store, config_defaults=config)
    fit(cp2, 1, Meter())
    csms2.connect()
    (ended,) = tx_events(csms2, "Ended")
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss"
    contexts_in_order = [v["sampledValue"][0]["context"] for v in ended["meterValue"]]
    assert contexts_in_order == ["Sample.Periodic", "Sample.Periodic", "Transaction.End"]
    assert store.load("txdata/1") is None
