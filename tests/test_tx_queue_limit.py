"""The transaction journal is bounded (TransactionMessageQueueLimit; OCPP 1.6 §3.7: transaction
messages are queued while offline and delivered; §4.7: periodic MeterValues are samples at an
interval of the station's choosing). A hostile review left the CSMS away for 7 days with two
connectors sampling every 60 s: 20,160 journal entries, 30.6 MB. Now the periodic MeterValues
are thinned once the limit is reached — every drop reported — while StartTransaction,
StopTransaction and the Transaction.Begin/End values are always kept."""

from __future__ import annotations

import itertools
import logging

import pytest
from tx_rig import Rig, start_session

from ocpp_core.clock import parse_datetime
from ocpp_core.events import MessageDiscarded, QueueLengthChanged
from ocpp_core.journal import PREFIX
from ocpp_core.store import MemoryStore

DAY = 86_400.0


def run_offline(rig: Rig, seconds: float, charging_w: float) -> None:
    """Time passes offline; the station is polled whenever it asks to be (virtual clock)."""
    end = rig.now + seconds
    while True:
        wake = rig.cp.next_wakeup(rig.now)
        if wake is None or wake > end:
            break
        step = max(wake - rig.now, 0.001)
        for connector in (1, 2):
            rig.energy[connector] += charging_w * step / 3600
        rig.csms.now += step
        assert rig.cp.poll(rig.now) == []
    rig.csms.now = end


@pytest.mark.parametrize("limit", [300])
def test_seven_days_offline_stay_within_the_limit_and_keep_start_stop_begin_end(
    limit: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ocpp_core")
    config = {
        "MeterValueSampleInterval": "60",
        "StopTxnSampledData": "Energy.Active.Import.Register",
        "TransactionMessageQueueLimit": str(limit),
    }
    rig = Rig(config=config)
    start_session(rig, "TAG1", 1)
    start_session(rig, "TAG2", 2)
    rig.offline()
    run_offline(rig, 7 * DAY, charging_w=7000)
    assert len(rig.store.names(PREFIX)) <= limit
    rig.card("TAG1", 1)
    rig.card("TAG2", 2)
    lengths = [e.length for e in rig.events_of(QueueLengthChanged)]
    assert max(lengths) <= limit
    assert len(rig.store.names(PREFIX)) <= limit
    rig.online()
    rig.advance(5)
    assert rig.cp.queue_length() == 0

    # Every StopTransaction, with its Begin and End values; both Starts went out before.
    stops = rig.payloads("StopTransaction")
    assert sorted(p["transactionId"] for p in stops) == [1001, 1002]
    for stop in stops:
        contexts = [s.get("context") for mv in stop["transactionData"] for s in mv["sampledValue"]]
        assert "Transaction.Begin" in contexts and "Transaction.End" in contexts
    assert len(rig.payloads("StartTransaction")) == 2

    # Every MeterValues sampled was either delivered or reported dropped, never silently lost.
    sampled = 2 * int(7 * DAY / 60)
    delivered = rig.payloads("MeterValues")
    dropped = [e for e in rig.events_of(MessageDiscarded) if e.action == "MeterValues"]
    assert abs(len(delivered) + len(dropped) - sampled) <= 2
    assert all("journal full" in e.reason for e in dropped)
    assert len(rig.events_of(MessageDiscarded)) == len(dropped)
    assert "thinned out" in caplog.text

    # Thinned, not truncated: the delivered values still span the week, in order, per connector.
    for connector in (1, 2):
        times = [
            parse_datetime(p["meterValue"][0]["timestamp"])
            for p in delivered
            if p["connectorId"] == connector
        ]
        assert times == sorted(times)
        begin = parse_datetime(stops[0]["transactionData"][0]["timestamp"])
        assert times[0] - begin <= 60 and times[-1] > begin + 7 * DAY - 3600
        assert len(times) > limit // 4
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert max(gaps) <= 4 * (times[-1] - times[0]) / len(times)  # evenly thinned


def test_the_limit_is_a_documented_configuration_key() -> None:
    rig = Rig()
    reply = rig.csms.result("GetConfiguration", {"key": ["TransactionMessageQueueLimit"]})
    assert reply["configurationKey"] == [
        {"key": "TransactionMessageQueueLimit", "readonly": False, "value": "1000"}
    ]
    assert rig.csms.result(
        "ChangeConfiguration", {"key": "TransactionMessageQueueLimit", "value": "50"}
    ) == {"status": "Accepted"}
    assert rig.csms.result(
        "ChangeConfiguration", {"key": "TransactionMessageQueueLimit", "value": "1"}
    ) == {"status": "Rejected"}


def test_start_and_stop_are_kept_beyond_the_limit() -> None:
    """With nothing droppable left, StartTransaction and StopTransaction still go in."""
    rig = Rig(config={"TransactionMessageQueueLimit": "10", "AllowOfflineTxForUnknownId": "true"})
    rig.offline()
    for _ in range(6):
        rig.plug(1)
        rig.card("TAG1", 1)
        rig.card("TAG1", 1)
        rig.unplug(1)
    assert rig.cp.queue_length() == 12
    assert not rig.events_of(MessageDiscarded)
    rig.online()
    rig.advance(5)
    assert [a for a, _ in rig.tx_messages()] == ["StartTransaction", "StopTransaction"] * 6


class CutAfterVerdict(MemoryStore):
    """Loses power right after the first dropped message was saved with its verdict."""

    def __init__(self) -> None:
        super().__init__()
        self.frozen = False
        self.armed = True

    def save(self, name: str, value: object) -> None:
        if self.frozen:
            return
        super().save(name, value)
        if self.armed and isinstance(value, dict) and "journal full" in value.get("discarded", ""):
            self.frozen, self.armed = True, False

    def delete(self, name: str) -> None:
        if not self.frozen:
            super().delete(name)


def test_a_drop_cut_short_by_a_power_cut_is_finished_never_sent() -> None:
    store = CutAfterVerdict()
    config = {"TransactionMessageQueueLimit": "10", "MeterValueSampleInterval": "60"}
    rig = Rig(store=store, config=config)
    start_session(rig, "TAG1", 1)
    rig.offline()
    run_offline(rig, 15 * 60, charging_w=7000)
    assert store.frozen
    (name,) = [n for n in store.names(PREFIX) if "discarded" in store.load(n)]
    doomed = store.load(name)["id"]
    store.frozen = False
    rig.restart()  # online again
    rig.advance(5)
    assert rig.cp.queue_length() == 0
    assert doomed not in [mid for mid, *_ in rig.csms.calls]
    records = [r for r in store.load("txdiscarded") if "journal full" in r["reason"]]
    assert [r["seq"] for r in records].count(int(name[len(PREFIX) :])) == 1
    assert rig.events_of(MessageDiscarded)
