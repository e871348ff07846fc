"""Metering (OCPP 1.6 §3.16, §4.7, §5.17, §9.1; errata 3.13-3.16, 3.46, 3.89; MicroOcpp §5 and
the scenarios of tests/Metering.cpp).

The transaction block is replaced by ``Transactions``, a stand-in behind the SessionView seam whose
"journal" is the engine's FIFO queue, so its StartTransaction, journaled MeterValues and
StopTransaction come out as frames the CSMS sees (and the suite checks against the schemas).
Metering.cpp's "TxMsg retry behavior" is the journal's behaviour, tested with the transaction
block in test_transaction_safety.py (test_tx_meter_values_retry_behavior), where "Preserve order
of tx-related msgs" also runs on the real journal. "Drop MeterValues for silent tx" does not
apply: MicroOcpp makes a transaction silent (charges without reporting it) when its fixed-size
transaction journal is full; this journal has no size limit, so every transaction is journaled
and reported and none is silent.
"""

from __future__ import annotations

import itertools
import logging
import math

import pytest
from block_peers import block_of, rewire
from fake_csms import IDENTITY, WALL_START, booted, station

from ocpp_core import ChargePoint, MemoryStore, SignedReading
from ocpp_core.clock import format_datetime, parse_datetime
from ocpp_core.outbox import Request
from ocpp_core.sessions import RUNNING, SessionView, TransactionInfo
from ocpp_core.v16.metering import MeteringBlock
from ocpp_core.v16.transaction_data import MAX_METER_VALUES

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"


class Transactions(SessionView):
    """A stand-in for the transaction block: runs transactions on request and journals through
    the engine's FIFO, filling in the transactionId once StartTransaction is answered."""

    def __init__(self, cp: ChargePoint, running: dict[int, int] | None = None) -> None:
        self.engine = cp._engine.ctx
        self.metering = block_of(cp, MeteringBlock)
        rewire(cp, sessions=self)
        self.ids: dict[int, int | None] = dict(running or {})  # connector -> transactionId
        self.journal: list[tuple[int, list[dict]]] = []  # what metering handed over
        self._waiting: dict[int, list[dict]] = {}  # payloads that still need the transactionId

    def transaction_running(self, connector: int) -> bool:
        return connector in self.ids

    def current(self, connector: int) -> TransactionInfo | None:
        if connector not in self.ids:
            return None
        return TransactionInfo(connector, RUNNING, "TAG", transaction_id=self.ids[connector])

    def enqueue_transaction_meter_values(
        self, connector: int, meter_values: list[dict], now: float, register_wh: int | None = None
    ) -> None:
        self.journal.append((connector, meter_values))
        payload = {"connectorId": connector, "meterValue": meter_values}
        self._push("MeterValues", payload, connector, now)

    def start(self, connector: int, now: float) -> None:
        metering = self.metering
        payload = {
            "connectorId": connector,
            "idTag": "TAG",
            "meterStart": metering.energy_wh(connector) or 0,
            "timestamp": self.engine.clock.timestamp(now),
        }
        self.ids[connector] = None
        self._waiting[connector] = []
        metering.transaction_started(connector, now)

        def started(response: dict, now: float) -> None:
            transaction_id = self.ids[connector] = response["transactionId"]
            for waiting in self._waiting.pop(connector, []):
                waiting["transactionId"] = transaction_id

        self.engine.queue.push(Request("StartTransaction", payload, started), now)

    def stop(self, connector: int, now: float) -> None:
        metering = self.metering
        data = metering.transaction_stopped(connector, now)
        payload: dict = {
            "meterStop": metering.energy_wh(connector) or 0,
            "timestamp": self.engine.clock.timestamp(now),
            "reason": "Local",
        }
        if data:
            payload["transactionData"] = data
        self._push("StopTransaction", payload, connector, now)
        del self.ids[connector]

    def _push(self, action: str, payload: dict, connector: int, now: float) -> None:
        transaction_id = self.ids[connector]
        if transaction_id is None:
            self._waiting.setdefault(connector, []).append(payload)
        else:
            payload["transactionId"] = transaction_id
        self.engine.queue.push(Request(action, payload), now)


def answer_transactions(csms) -> None:
    ids = iter(range(1000, 2000))
    csms.handlers["StartTransaction"] = lambda payload: {
        "transactionId": next(ids),
        "idTagInfo": {"status": "Accepted"},
    }


def metered(connectors: int = 2, **options):
    """A booted station whose connector 1 has an energy register worth the seconds elapsed
    (3600 W) and whose transactions are run by the stand-in."""
    cp, csms = booted(connectors=connectors, **options)
    cp.connector(1).energy_wh = lambda: csms.now
    answer_transactions(csms)
    return cp, csms, Transactions(cp)


def configure(csms, **values: str) -> None:
    for key, value in values.items():
        assert csms.result("ChangeConfiguration", {"key": key, "value": value}) == {
            "status": "Accepted"
        }, key


def wall(at: float) -> str:
    return format_datetime(WALL_START + at)


def actions(csms) -> list[str]:
    """The station's CALLs that matter here (not the timer- and status-driven ones)."""
    return [a for a in csms.actions() if a not in ("Heartbeat", "StatusNotification")]


def readings(meter_value: dict) -> list[tuple]:
    """(measurand, value, context) of each sampledValue."""
    return [(s["measurand"], s["value"], s["context"]) for s in meter_value["sampledValue"]]


def next_boundary(interval: int, after: float = 0.0) -> float:
    """The monotonic time of the first clock-aligned boundary after ``after``."""
    return math.floor((WALL_START + after) / interval + 1) * interval - WALL_START


# ---------------------------------------------------------------------- Metering.cpp scenarios


def test_configure_metering_service_validator_rejects_unknown_measurand() -> None:
    cp, csms = booted()
    cp.connector(1).add_meter_input(ENERGY, lambda: 0)
    cp.connector(1).add_meter_input("Voltage", lambda: 0)
    configure(csms, MeterValuesSampledData=ENERGY)
    reply = csms.result(
        "ChangeConfiguration",
        {"key": "MeterValuesSampledData", "value": f"{ENERGY},INVALID,Voltage"},
    )
    assert reply == {"status": "Rejected"}
    assert cp.get_configuration("MeterValuesSampledData") == ENERGY
    configure(csms, MeterValuesSampledData=f"Voltage,{ENERGY}")
    assert cp.get_configuration("MeterValuesSampledData") == f"Voltage,{ENERGY}"


def test_capture_periodic_data() -> None:
    _cp, csms, tx = metered()
    configure(csms, MeterValuesSampledData=ENERGY, MeterValueSampleInterval="10")
    csms.clear()
    tx.start(1, csms.now)
    csms.advance(25)
    tx.stop(1, csms.now)
    csms.advance(30)
    assert actions(csms) == ["StartTransaction", "MeterValues", "MeterValues", "StopTransaction"]
    first, second = csms.payloads("MeterValues")
    for payload, at in ((first, 10), (second, 20)):
        assert payload == {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": wall(at),
                    "sampledValue": [
                        {
                            "value": str(at),
                            "context": "Sample.Periodic",
                            "measurand": ENERGY,
                            "location": "Outlet",
                            "unit": "Wh",
                        }
                    ],
                }
            ],
            "transactionId": 1000,
        }
    assert "transactionData" not in csms.payloads("StopTransaction")[0]  # §3.16.5


def test_capture_clock_aligned_data() -> None:
    cp, csms, tx = metered()
    configure(
        csms,
        MeterValueSampleInterval="0",
        ClockAlignedDataInterval="900",
        MeterValuesAlignedData=ENERGY,
    )
    cp.connector(2).energy_wh = lambda: 7
    csms.clear()
    tx.start(1, csms.now)
    first = next_boundary(900)
    csms.advance(first + 900 + 10)
    tx.stop(1, csms.now)
    csms.pump()
    sent = csms.payloads("MeterValues")
    # Both boundaries on both connectors: connector 1 through the journal, connector 2 (idle)
    # as plain MeterValues without a transactionId.
    assert [(p["connectorId"], p.get("transactionId")) for p in sent] == [
        (1, 1000),
        (2, None),
        (1, 1000),
        (2, None),
    ]
    assert [p["meterValue"][0]["timestamp"] for p in sent] == [
        wall(first),
        wall(first),
        wall(first + 900),
        wall(first + 900),
    ]
    assert readings(sent[0]["meterValue"][0]) == [(ENERGY, str(int(first)), "Sample.Clock")]
    assert readings(sent[1]["meterValue"][0]) == [(ENERGY, "7", "Sample.Clock")]
    assert tx.journal == [(1, sent[0]["meterValue"]), (1, sent[2]["meterValue"])]


def test_capture_transaction_aligned_data_survives_a_restart() -> None:
    store = MemoryStore()
    _cp, csms, tx = metered(store=store)
    configure(csms, MeterValueSampleInterval="10", StopTxnSampledData=ENERGY)
    tx.start(1, csms.now)
    csms.pump()
    assert store.load("txdata/1") is not None

    rebooted, csms = station(store=store)  # the same Store: a reboot mid-transaction
    rebooted.connector(1).energy_wh = lambda: csms.now
    tx = Transactions(rebooted, running={1: 1000})  # the transaction block resumes it
    csms.now = 3590.0
    csms.connect()
    csms.clear()
    csms.advance(10)
    tx.stop(1, csms.now)
    csms.pump()
    # The resumed transaction is sampled again from the restart (monotonic time starts over).
    assert [p["meterValue"][0]["timestamp"] for p in csms.payloads("MeterValues")] == [wall(3600)]
    [stop] = csms.payloads("StopTransaction")
    assert stop["transactionId"] == 1000
    data = stop["transactionData"]
    assert [(v["timestamp"], readings(v)) for v in data] == [
        (wall(0), [(ENERGY, "0", "Transaction.Begin")]),
        (wall(3600), [(ENERGY, "3600", "Sample.Periodic")]),
        (wall(3600), [(ENERGY, "3600", "Transaction.End")]),
    ]
    assert store.load("txdata/1") is None


def test_capture_measurements_at_connector_id_0() -> None:
    cp, csms = booted()
    cp.connector(0).add_meter_input(POWER, lambda: 3600, location="Inlet", unit="W")
    configure(csms, MeterValuesSampledData=POWER, MeterValueSampleInterval="10")
    csms.clear()
    csms.advance(20)
    assert csms.actions() == ["MeterValues", "MeterValues"]
    assert csms.payloads("MeterValues")[0] == {
        "connectorId": 0,
        "meterValue": [
            {
                "timestamp": wall(10),
                "sampledValue": [
                    {
                        "value": "3600",
                        "context": "Sample.Periodic",
                        "measurand": POWER,
                        "location": "Inlet",
                        "unit": "W",
                    }
                ],
            }
        ],
    }


def test_change_measurands_live() -> None:
    cp, csms, tx = metered()
    cp.connector(1).power_w = lambda: 3600
    configure(csms, MeterValuesSampledData=ENERGY, MeterValueSampleInterval="10")
    tx.start(1, csms.now)
    csms.advance(10)
    configure(csms, MeterValuesSampledData=POWER)
    csms.advance(10)
    first, second = csms.payloads("MeterValues")
    assert readings(first["meterValue"][0]) == [(ENERGY, "10", "Sample.Periodic")]
    assert readings(second["meterValue"][0]) == [(POWER, "3600", "Sample.Periodic")]
    assert second["meterValue"][0]["timestamp"] == wall(20)


def test_each_connector_samples_from_the_start_of_its_own_transaction() -> None:
    cp, csms, tx = metered()
    cp.connector(2).energy_wh = lambda: 500
    configure(csms, MeterValueSampleInterval="10")
    tx.start(1, csms.now)
    csms.advance(4)
    tx.start(2, csms.now)
    csms.advance(20)
    assert [
        (p["connectorId"], p["transactionId"], p["meterValue"][0]["timestamp"])
        for p in csms.payloads("MeterValues")
    ] == [(1, 1000, wall(10)), (2, 1001, wall(14)), (1, 1000, wall(20)), (2, 1001, wall(24))]


def test_preserve_order_of_tx_related_msgs() -> None:
    _cp, csms, tx = metered()
    configure(csms, MeterValueSampleInterval="10")
    csms.clear()
    csms.disconnect()
    tx.start(1, csms.now)
    csms.advance(35)
    tx.stop(1, csms.now)
    csms.advance(5)
    # Offline, every sample went to the journal, in time order, between start and stop.
    assert [mv[0]["timestamp"] for _, mv in tx.journal] == [wall(10), wall(20), wall(30)]
    csms.connect()
    assert actions(csms) == [
        "StartTransaction",
        "MeterValues",
        "MeterValues",
        "MeterValues",
        "StopTransaction",
    ]
    assert {p["transactionId"] for p in csms.payloads("MeterValues")} == {1000}


def test_queue_multiple_meter_values() -> None:
    cp, csms = booted()
    cp.connector(0).energy_wh = lambda: 100 + csms.now
    configure(csms, MeterValueSampleInterval="0", ClockAlignedDataInterval="60")
    csms.clear()
    csms.disconnect()
    csms.advance(300, step=5)
    csms.connect()
    sent = csms.payloads("MeterValues")
    boundaries = [next_boundary(60) + 60 * n for n in range(5)]
    assert [p["meterValue"][0]["timestamp"] for p in sent] == [wall(t) for t in boundaries]
    assert [p["meterValue"][0]["sampledValue"][0]["value"] for p in sent] == [
        str(int(100 + t)) for t in boundaries
    ]
    assert all(p["connectorId"] == 0 and "transactionId" not in p for p in sent)


def test_trigger_message_meter_values_for_one_connector_in_a_transaction() -> None:
    cp, csms, tx = metered()
    cp.connector(1).power_w = lambda: 11000
    configure(csms, MeterValuesSampledData=f"{ENERGY},{POWER}", MeterValueSampleInterval="0")
    tx.start(1, csms.now)
    csms.advance(5)
    csms.clear()
    assert csms.result("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1}) == {
        "status": "Accepted"
    }
    [payload] = csms.payloads("MeterValues")
    assert payload["connectorId"] == 1
    assert payload["transactionId"] == 1000
    assert readings(payload["meterValue"][0]) == [
        (ENERGY, "5", "Trigger"),
        (POWER, "11000", "Trigger"),
    ]
    assert tx.journal == []  # current data, not a transaction-related message


# ---------------------------------------------------------------------- TriggerMessage variants


def test_trigger_message_without_connector_covers_every_metered_connector_including_0() -> None:
    cp, csms = booted(connectors=3)
    cp.connector(0).energy_wh = lambda: 5000
    cp.connector(2).energy_wh = lambda: 20
    csms.clear()
    assert csms.result("TriggerMessage", {"requestedMessage": "MeterValues"}) == {
        "status": "Accepted"
    }
    sent = csms.payloads("MeterValues")
    assert [(p["connectorId"], readings(p["meterValue"][0])) for p in sent] == [
        (0, [(ENERGY, "5000", "Trigger")]),
        (2, [(ENERGY, "20", "Trigger")]),
    ]
    assert all("transactionId" not in p for p in sent)


@pytest.mark.parametrize("connector", [3, -1])
def test_trigger_message_for_an_unknown_connector_is_rejected(connector: int) -> None:
    cp, csms = booted()
    cp.connector(1).energy_wh = lambda: 1
    reply = csms.result(
        "TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": connector}
    )
    assert reply == {"status": "Rejected"}
    assert csms.actions() == []


def test_trigger_message_with_nothing_to_report_is_rejected() -> None:
    _cp, csms = booted()
    reply = csms.result("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1})
    assert reply == {"status": "Rejected"}
    assert csms.actions() == []


def test_triggered_meter_values_go_out_while_the_boot_is_pending() -> None:
    cp, csms = station()
    cp.connector(1).energy_wh = lambda: 42
    csms.handlers["BootNotification"] = lambda payload: {
        "status": "Pending",
        "currentTime": csms.wall_text(),
        "interval": 300,
    }
    csms.connect()
    csms.clear()
    reply = csms.result("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1})
    assert reply == {"status": "Accepted"}
    assert csms.actions() == ["MeterValues"]


# ---------------------------------------------------------------------- clock alignment


def test_clock_aligned_sample_taken_when_a_sync_jumps_just_past_the_boundary() -> None:
    cp, csms = booted()
    cp.connector(0).energy_wh = lambda: 1
    configure(csms, MeterValueSampleInterval="0", ClockAlignedDataInterval="900")
    boundary = next_boundary(900)
    csms.advance(boundary - 5)
    csms.clear()
    # A Heartbeat answer moves the clock 20 s ahead: the boundary is 15 s behind the new time.
    csms.handlers["Heartbeat"] = lambda payload: {"currentTime": wall(csms.now + 20)}
    csms.result("TriggerMessage", {"requestedMessage": "Heartbeat"})
    assert csms.actions() == ["Heartbeat", "MeterValues"]
    [sent] = csms.payloads("MeterValues")
    assert sent["meterValue"][0]["timestamp"] == wall(boundary + 15)
    csms.advance(900)  # the next boundary comes 900 s after the first, on the new clock
    later = csms.payloads("MeterValues")
    assert len(later) == 2
    assert later[1]["meterValue"][0]["timestamp"] == wall(boundary + 900)


def test_clock_aligned_boundary_far_behind_a_forward_jump_is_skipped() -> None:
    cp, csms = booted()
    cp.connector(0).energy_wh = lambda: 1
    configure(csms, MeterValueSampleInterval="0", ClockAlignedDataInterval="900")
    boundary = next_boundary(900)
    csms.advance(boundary - 100)
    csms.clear()
    jump = 400.0  # lands 300 s after the boundary: a reading now would not describe it
    csms.handlers["Heartbeat"] = lambda payload: {"currentTime": wall(csms.now + jump)}
    csms.result("TriggerMessage", {"requestedMessage": "Heartbeat"})
    csms.advance(599)
    assert csms.payloads("MeterValues") == []
    csms.advance(1)
    [sent] = csms.payloads("MeterValues")
    assert sent["meterValue"][0]["timestamp"] == wall(boundary + 900)
    assert cp.clock.wall(csms.now) == WALL_START + boundary + 900


def test_clock_aligned_after_a_backward_jump_waits_for_the_next_boundary_of_the_new_time() -> None:
    cp, csms = booted()
    cp.connector(0).energy_wh = lambda: 1
    configure(csms, MeterValueSampleInterval="0", ClockAlignedDataInterval="900")
    boundary = next_boundary(900)
    csms.advance(boundary + 100)
    assert len(csms.payloads("MeterValues")) == 1
    csms.clear()
    back = 2000.0  # the clock goes back before the boundary just sampled, and one more
    csms.handlers["Heartbeat"] = lambda payload: {"currentTime": wall(csms.now - back)}
    csms.result("TriggerMessage", {"requestedMessage": "Heartbeat"})
    new_wall = WALL_START + csms.now - back
    due = math.floor(new_wall / 900 + 1) * 900 - new_wall
    csms.advance(due - 1)
    assert csms.payloads("MeterValues") == []
    csms.advance(1)
    [sent] = csms.payloads("MeterValues")
    assert parse_datetime(sent["meterValue"][0]["timestamp"]) % 900 == 0


def test_no_clock_aligned_data_before_the_csms_set_the_clock() -> None:
    cp, csms = station()
    cp.connector(0).energy_wh = lambda: 1
    cp.change_configuration("MeterValueSampleInterval", "0")
    cp.change_configuration("ClockAlignedDataInterval", "60")
    cp.poll(0.0)
    assert cp.next_wakeup(0.0) is None  # nothing to wait for: the time is not known yet
    csms.connect()
    assert cp.next_wakeup(csms.now) == next_boundary(60)


# ---------------------------------------------------------------------- configuration rules


@pytest.mark.parametrize(
    "key",
    [
        "MeterValuesSampledData",
        "MeterValuesAlignedData",
        "StopTxnSampledData",
        "StopTxnAlignedData",
    ],
)
def test_unsupported_measurand_is_rejected_with_no_change(key: str) -> None:
    cp, csms = booted()
    cp.connector(1).energy_wh = lambda: 0
    before = cp.get_configuration(key)
    reply = csms.result("ChangeConfiguration", {"key": key, "value": f"{ENERGY},SoC"})
    assert reply == {"status": "Rejected"}  # no input measures SoC (§3.16.4)
    assert cp.get_configuration(key) == before
    cp.connector(2).add_meter_input("SoC", lambda: 50, location="EV", unit="Percent")
    configure(csms, **{key: f"{ENERGY},SoC"})


def test_a_phase_item_needs_an_input_on_that_phase() -> None:
    cp, csms = booted()
    cp.connector(1).add_meter_input("Voltage", lambda: 230, phase="L1-N", unit="V")
    reply = csms.result(
        "ChangeConfiguration", {"key": "MeterValuesSampledData", "value": "Voltage.L2-N"}
    )
    assert reply == {"status": "Rejected"}
    configure(csms, MeterValuesSampledData="Voltage.L1-N,Voltage")


def test_defaults_stay_valid_without_inputs_and_report_nothing() -> None:
    store = MemoryStore()
    cp, csms = booted(store=store)
    assert cp.get_configuration("MeterValuesSampledData") == ENERGY
    configure(csms, MeterValueSampleInterval="10", ClockAlignedDataInterval="60")
    csms.clear()
    csms.advance(120)
    assert csms.actions() == []
    # Stored values are not judged against inputs either: none exist while the engine is built.
    cp.connector(1).add_meter_input("Voltage", lambda: 230)
    configure(csms, MeterValuesAlignedData="Voltage")
    rebooted = ChargePoint(identity=IDENTITY, store=store)
    assert rebooted.get_configuration("MeterValuesAlignedData") == "Voltage"


@pytest.mark.parametrize(
    "key",
    [
        "MeterValuesSampledData",
        "MeterValuesAlignedData",
        "StopTxnSampledData",
        "StopTxnAlignedData",
    ],
)
def test_max_length_is_enforced(key: str) -> None:
    cp, csms = booted()
    measurands = [
        "Current.Import",
        "Current.Offered",
        ENERGY,
        "Frequency",
        POWER,
        "Power.Offered",
        "SoC",
        "Temperature",
        "Voltage",
    ]
    for measurand in measurands:
        cp.connector(1).add_meter_input(measurand, lambda: 1)
    assert cp.get_configuration(f"{key}MaxLength") == "8"
    before = cp.get_configuration(key)
    reply = csms.result("ChangeConfiguration", {"key": key, "value": ",".join(measurands)})
    assert reply == {"status": "Rejected"}
    assert cp.get_configuration(key) == before
    configure(csms, **{key: ",".join(measurands[:8])})


def test_max_length_follows_a_factory_default() -> None:
    cp = ChargePoint(identity=IDENTITY, config_defaults={"StopTxnAlignedDataMaxLength": "1"})
    cp.connector(1).energy_wh = lambda: 0
    cp.connector(1).power_w = lambda: 0
    assert cp.change_configuration("StopTxnAlignedData", f"{ENERGY},{POWER}") == "Rejected"
    assert cp.change_configuration("StopTxnAlignedData", POWER) == "Accepted"


def test_stop_transaction_max_meter_values_is_announced() -> None:
    _cp, csms = booted()
    reply = csms.result("GetConfiguration", {"key": ["StopTransactionMaxMeterValues"]})
    assert reply["configurationKey"] == [
        {"key": "StopTransactionMaxMeterValues", "readonly": True, "value": str(MAX_METER_VALUES)}
    ]


# ---------------------------------------------------------------------- inputs and values


def test_phases_and_locations() -> None:
    cp, csms = booted()
    for phase, amps in (("L1", 16), ("L2", 15.5), ("L3", 14.25)):
        cp.connector(0).add_meter_input(
            "Current.Import", lambda a=amps: a * 2, phase=phase, location="Inlet", unit="A"
        )
        cp.connector(1).add_meter_input(
            "Current.Import", lambda a=amps: a, phase=phase, location="Outlet", unit="A"
        )
    cp.connector(1).add_meter_input("Temperature", lambda: 41.5, location="Body", unit="Celsius")
    configure(csms, MeterValuesSampledData="Current.Import,Temperature")
    csms.clear()
    csms.result("TriggerMessage", {"requestedMessage": "MeterValues"})
    main, outlet = csms.payloads("MeterValues")
    assert main["connectorId"] == 0
    assert [
        (s["phase"], s["location"], s["value"]) for s in main["meterValue"][0]["sampledValue"]
    ] == [
        ("L1", "Inlet", "32"),
        ("L2", "Inlet", "31"),
        ("L3", "Inlet", "28.5"),
    ]
    assert outlet["meterValue"][0]["sampledValue"] == [
        {
            "value": "16",
            "context": "Trigger",
            "measurand": "Current.Import",
            "phase": "L1",
            "location": "Outlet",
            "unit": "A",
        },
        {
            "value": "15.5",
            "context": "Trigger",
            "measurand": "Current.Import",
            "phase": "L2",
            "location": "Outlet",
            "unit": "A",
        },
        {
            "value": "14.25",
            "context": "Trigger",
            "measurand": "Current.Import",
            "phase": "L3",
            "location": "Outlet",
            "unit": "A",
        },
        {
            "value": "41.5",
            "context": "Trigger",
            "measurand": "Temperature",
            "location": "Body",
            "unit": "Celsius",
        },
    ]
    configure(csms, MeterValuesSampledData="Current.Import.L2")
    csms.clear()
    csms.result("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1})
    [only] = csms.payloads("MeterValues")
    assert [s["phase"] for s in only["meterValue"][0]["sampledValue"]] == ["L2"]


def test_signed_data_is_passed_through_unchanged() -> None:
    cp, csms, tx = metered()
    signed = "0A1B2C3D4E5F60718293A4B5C6D7E8F9"
    reading = {"now": SignedReading(signed, 1234.6)}
    cp.connector(1).energy_wh = lambda: reading["now"]
    configure(csms, StopTxnSampledData=ENERGY, MeterValueSampleInterval="0")
    csms.clear()
    tx.start(1, csms.now)
    csms.advance(5)
    reading["now"] = SignedReading("FFEE", None)
    tx.stop(1, csms.now)
    csms.pump()
    [start] = csms.payloads("StartTransaction")
    assert start["meterStart"] == 1235  # the plain reading beside the signature
    [stop] = csms.payloads("StopTransaction")
    assert stop["meterStop"] == 0  # the stand-in's fallback: this reading has no plain value
    begin, end = stop["transactionData"]
    assert begin["sampledValue"] == [
        {
            "value": signed,
            "context": "Transaction.Begin",
            "format": "SignedData",
            "measurand": ENERGY,
            "location": "Outlet",
            "unit": "Wh",
        }
    ]
    assert end["sampledValue"][0]["value"] == "FFEE"
    assert end["sampledValue"][0]["format"] == "SignedData"


def test_values_are_decimal_strings_and_unusable_readings_are_left_out() -> None:
    cp, csms = booted()
    io = cp.connector(1)

    def broken() -> float:
        raise RuntimeError("meter bus timeout")

    io.add_meter_input("Voltage", lambda: 229.98765, phase="L1", unit="V")
    io.add_meter_input("Voltage", lambda: None, phase="L2", unit="V")  # no reading now
    io.add_meter_input("Voltage", broken, phase="L3", unit="V")
    io.add_meter_input("Frequency", lambda: float("nan"), unit="Hertz")
    io.add_meter_input("Power.Factor", lambda: -0.0001)
    io.add_meter_input("RPM", lambda: 1e22)
    io.add_meter_input("SoC", lambda: True)
    configure(csms, MeterValuesSampledData="Voltage,Frequency,Power.Factor,RPM,SoC")
    csms.clear()
    csms.result("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1})
    [payload] = csms.payloads("MeterValues")
    assert [(s["measurand"], s["value"]) for s in payload["meterValue"][0]["sampledValue"]] == [
        ("Voltage", "229.988"),
        ("Power.Factor", "0"),
        ("RPM", "10000000000000000000000"),
    ]


@pytest.mark.parametrize(
    ("measurand", "options", "problem"),
    [
        ("Colour", {}, "measurand"),
        ("Energy.Active.Net", {}, "measurand"),
        ("", {}, "measurand"),
        ("Voltage", {"phase": "L4"}, "phase"),
        ("Voltage", {"location": "Roof"}, "location"),
        ("Voltage", {"unit": "mV"}, "unit"),
    ],
)
def test_meter_inputs_that_cannot_be_reported_are_refused_at_once(
    measurand: str, options: dict, problem: str
) -> None:
    cp = ChargePoint(identity=IDENTITY)
    with pytest.raises(ValueError, match=problem):
        cp.connector(1).add_meter_input(measurand, lambda: 1, **options)
    assert cp.connector(1).meter_inputs == ()


def test_energy_and_power_shorthands_are_meter_inputs() -> None:
    cp = ChargePoint(identity=IDENTITY)
    io = cp.connector(1)
    io.add_meter_input("Voltage", lambda: 230)
    io.power_w = lambda: 7000
    io.energy_wh = lambda: 12.5
    assert [(e.measurand, e.unit) for e in io.meter_inputs] == [
        (ENERGY, "Wh"),
        (POWER, "W"),
        ("Voltage", None),
    ]
    assert io.energy_wh() == 12.5
    io.energy_wh = None
    assert io.energy_wh is None
    assert [e.measurand for e in io.meter_inputs] == [POWER, "Voltage"]
    assert block_of(cp, MeteringBlock).energy_wh(1) is None


def test_meter_start_comes_from_the_energy_register_in_whole_wh() -> None:
    cp = ChargePoint(identity=IDENTITY)
    cp.connector(1).add_meter_input(ENERGY, lambda: 1.2346, unit="kWh")
    cp.connector(2).add_meter_input(ENERGY, lambda: 99, phase="L1")  # not the overall register
    metering = block_of(cp, MeteringBlock)
    assert metering.energy_wh(1) == 1235
    assert metering.energy_wh(2) is None


# ---------------------------------------------------------------------- transaction data


def test_transaction_data_holds_begin_periodic_aligned_and_end() -> None:
    cp, csms, tx = metered()
    cp.connector(1).power_w = lambda: 3600
    configure(
        csms,
        MeterValueSampleInterval="30",
        ClockAlignedDataInterval="60",
        StopTxnSampledData=ENERGY,
        StopTxnAlignedData=POWER,
    )
    csms.clear()
    tx.start(1, csms.now)
    aligned = next_boundary(60)
    csms.advance(max(aligned, 30) + 1)
    tx.stop(1, csms.now)
    csms.pump()
    [stop] = csms.payloads("StopTransaction")
    contexts = [[s["context"] for s in v["sampledValue"]] for v in stop["transactionData"]]
    measurands = [[s["measurand"] for s in v["sampledValue"]] for v in stop["transactionData"]]
    expected = sorted([(aligned, "Sample.Clock", [POWER]), (30.0, "Sample.Periodic", [ENERGY])])
    assert contexts == [["Transaction.Begin"] * 2] + [[c] * len(m) for _, c, m in expected] + [
        ["Transaction.End"] * 2
    ]
    assert measurands == [[ENERGY, POWER]] + [m for _, _, m in expected] + [[ENERGY, POWER]]


def test_transaction_data_is_capped_keeping_begin_and_end_and_a_spread_between() -> None:
    _cp, csms, tx = metered()
    configure(csms, MeterValueSampleInterval="10", StopTxnSampledData=ENERGY)
    tx.start(1, csms.now)
    csms.advance(300, step=5)
    tx.stop(1, csms.now)
    csms.pump()
    data = csms.payloads("StopTransaction")[0]["transactionData"]
    assert len(data) == MAX_METER_VALUES
    times = [parse_datetime(v["timestamp"]) - WALL_START for v in data]
    assert times[0] == 0 and times[-1] == 300
    assert data[0]["sampledValue"][0]["context"] == "Transaction.Begin"
    assert data[-1]["sampledValue"][0]["context"] == "Transaction.End"
    assert times == sorted(times)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) <= 80  # spread over the whole transaction, not only its end


def test_no_store_writes_while_stop_transaction_data_is_not_configured() -> None:
    writes = []
    store = MemoryStore(on_write=lambda: writes.append(1))
    _cp, csms, tx = metered(store=store)
    configure(csms, MeterValueSampleInterval="10")
    writes.clear()
    tx.start(1, csms.now)
    csms.advance(100)
    assert writes == []
    assert store.names("txdata") == []


def test_one_store_write_per_sample_kept_for_the_transaction() -> None:
    writes = []
    store = MemoryStore(on_write=lambda: writes.append(1))
    _cp, csms, tx = metered(store=store)
    configure(csms, MeterValueSampleInterval="10", StopTxnSampledData=ENERGY)
    writes.clear()
    tx.start(1, csms.now)
    csms.advance(30)
    assert len(writes) == 1 + 3  # Begin, then one per periodic sample
    assert len(store.load("txdata/1")) == 4


def test_periodic_sampling_stops_with_a_transaction_that_ended_unannounced() -> None:
    cp, csms, tx = metered()
    configure(csms, MeterValueSampleInterval="10")
    tx.start(1, csms.now)
    csms.advance(10)
    del tx.ids[1]  # gone without transaction_stopped (e.g. discarded by the journal)
    csms.advance(30)
    assert len(tx.journal) == 1
    assert cp.next_wakeup(csms.now) != csms.now + 10


# ---------------------------------------------------------------------- scheduling costs


def test_an_idle_engine_with_default_metering_has_no_timer() -> None:
    cp, csms = booted()
    cp.connector(1).energy_wh = lambda: 0  # no transaction: nothing periodic on connector 1
    csms.pump()
    assert cp.next_wakeup(csms.now) == 300  # only the heartbeat


def test_next_wakeup_is_the_next_sample_of_a_running_transaction() -> None:
    cp, csms, tx = metered()
    configure(csms, MeterValueSampleInterval="25")
    tx.start(1, csms.now)
    csms.pump()
    assert cp.next_wakeup(csms.now) == 25


def test_a_bad_meter_input_is_logged_once_and_again_when_it_recovers(caplog) -> None:
    cp, csms = booted()
    io = cp.connector(1)
    state = {"value": "not a number"}
    io.add_meter_input("Voltage", lambda: state["value"], phase="L1", unit="V")
    configure(csms, MeterValuesSampledData="Voltage")
    with caplog.at_level(logging.WARNING, logger="ocpp_core"):
        for _ in range(3):
            csms.result("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1})
        assert caplog.text.count("unusable value") == 1
        assert "connector 1 meter (Voltage.L1, Outlet)" in caplog.text
        state["value"] = 231.5
        csms.clear()
        csms.result("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1})
        assert caplog.text.count("input works again") == 1
    [payload] = csms.payloads("MeterValues")
    assert payload["meterValue"][0]["sampledValue"][0]["value"] == "231.5"
