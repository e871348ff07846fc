"""A failing store is loud and loses nothing of this run: disk full (ENOSPC), permissions
(EACCES). The station reports it (event, log, CLI error line), keeps the writes in memory (reads
see them), sends its frames in order, retries with a bounded backoff and says when it recovered;
then the documents are on disk. A change a CSMS asked for is refused instead (nothing changes)."""

from __future__ import annotations

import errno
import itertools
import logging
import os
from pathlib import Path
from typing import Any

import pytest
import station_fakes
from tx_rig import Rig, start_session

from ocpp_core import store as store_module
from ocpp_core.events import StoreFailed, StoreRecovered
from ocpp_core.store import RETRY_MAX_S, FileStore, MemoryStore, RetryingStore

ERRORS = [errno.ENOSPC, errno.EACCES, errno.EROFS]


class FailingDisk(FileStore):
    """A FileStore whose writes fail with ``error`` (an errno) while it is set."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.error: int | None = None
        self.attempts: list[str] = []

    def save(self, name: str, value: Any) -> None:
        self._check(name)
        super().save(name, value)

    def delete(self, name: str) -> None:
        self._check(name)
        super().delete(name)

    def _check(self, name: str) -> None:
        self.attempts.append(name)
        if self.error is not None:
            raise OSError(self.error, os.strerror(self.error), str(self.directory / name))


def reported(store: RetryingStore) -> list[object]:
    events: list[object] = []
    store.report = events.append
    return events


# ---------------------------------------------------------------------- RetryingStore itself


@pytest.mark.parametrize("code", ERRORS)
def test_kept_writes_are_read_back_and_replayed_in_order(tmp_path: Path, code: int) -> None:
    disk = FailingDisk(tmp_path)
    disk.save("gone", 1)
    store = RetryingStore(disk)
    events = reported(store)
    disk.error = code
    store.save("a", {"n": 1})
    store.save("b", [1])
    store.delete("gone")
    store.save("a", {"n": 2})
    assert store.load("a") == {"n": 2} and store.load("gone") is None
    assert store.names() == ["a", "b"]
    assert store.pending == 4
    (failed,) = events
    assert failed == StoreFailed(
        "a", str(OSError(code, os.strerror(code), str(tmp_path / "a"))), 1, True
    )
    assert disk.names() == ["gone"]  # nothing of it on disk yet

    disk.attempts.clear()
    disk.error = None
    store.retry(0.0)  # the first retry after a failure waits RETRY_FIRST_S
    assert disk.attempts == []
    store.retry(1.0)
    assert disk.attempts == ["a", "b", "gone", "a"]  # in the order they were made
    assert events[1:] == [StoreRecovered(4)]
    reopened = FileStore(tmp_path)
    assert reopened.names() == ["a", "b"] and reopened.load("a") == {"n": 2}
    assert store.pending == 0 and store.next_retry(2.0) is None


def test_retries_back_off_up_to_a_bound(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    disk = FailingDisk(tmp_path)
    store = RetryingStore(disk)
    disk.error = errno.ENOSPC
    store.save("a", 1)
    now, tries = 0.0, []
    for _ in range(12):
        now = store.next_retry(now) or now
        disk.attempts.clear()
        store.retry(now)
        if disk.attempts:
            tries.append(now)
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(tries)]
    assert gaps[:6] == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0] and set(gaps[6:]) == {RETRY_MAX_S}
    assert "store still failing" in caplog.text


def test_a_refusable_change_raises_and_keeps_nothing(tmp_path: Path) -> None:
    disk = FailingDisk(tmp_path)
    store = RetryingStore(disk)
    events = reported(store)
    disk.error = errno.ENOSPC
    with pytest.raises(OSError, match="No space left"):
        store.save_now("config", {"HeartbeatInterval": 60})
    assert store.load("config") is None and store.pending == 0
    assert [(e.name, e.kept) for e in events] == [("config", False)]
    disk.error = None
    store.save("other", 1)  # the next write that works says so
    assert events[-1] == StoreRecovered(0)


def test_a_refusable_change_goes_after_the_kept_writes(tmp_path: Path) -> None:
    disk = FailingDisk(tmp_path)
    store = RetryingStore(disk)
    disk.error = errno.ENOSPC
    store.save("txmsg/1", {"a": 1})
    disk.error = None
    disk.attempts.clear()
    store.save_now("config", {"b": 2})  # the disk works again: the kept write goes first
    assert disk.attempts == ["txmsg/1", "config"] and store.pending == 0


def test_repeated_writes_of_one_document_stay_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "MAX_PENDING", 5)
    disk = FailingDisk(tmp_path)
    store = RetryingStore(disk)
    disk.error = errno.ENOSPC
    for n in range(100):
        store.save("meter", n)  # in place: the same document again
    assert store.pending == 1
    for n in range(20):
        store.save(f"doc{n % 3}", n)
    assert store.pending <= 5
    disk.error = None
    store.retry(store.next_retry(0.0) or 0.0)
    assert store.pending == 0
    assert [FileStore(tmp_path).load(f"doc{n}") for n in range(3)] == [18, 19, 17]
    assert FileStore(tmp_path).load("meter") == 99


def test_flush_replays_at_once_and_counts_what_is_left(tmp_path: Path) -> None:
    disk = FailingDisk(tmp_path)
    store = RetryingStore(disk)
    events = reported(store)
    disk.error = errno.ENOSPC
    store.save("a", 1)
    store.save("b", 2)
    assert store.flush() == 2  # still failing: nothing is lost silently, the count says it
    disk.error = None
    assert store.flush() == 0  # no backoff wait before a process ends
    assert FileStore(tmp_path).load("b") == 2 and events[-1] == StoreRecovered(2)


def test_other_errors_still_raise() -> None:
    store = RetryingStore(MemoryStore())
    with pytest.raises(TypeError):
        store.save("a", {1, 2})
    with pytest.raises(ValueError):
        store.save("../a", 1)


# ---------------------------------------------------------------------- through the engine


def disk_rig(tmp_path: Path) -> tuple[Rig, FailingDisk]:
    disk = FailingDisk(tmp_path / "store")
    return Rig(store=disk), disk


@pytest.mark.parametrize("code", ERRORS)
def test_a_session_on_a_full_disk_completes_and_reaches_the_disk_later(
    tmp_path: Path, code: int, caplog: pytest.LogCaptureFixture
) -> None:
    rig, disk = disk_rig(tmp_path)
    disk.error = code
    transaction_id = start_session(rig)
    rig.advance(5)
    rig.card("TAG1")
    assert [a for a, _ in rig.tx_messages()] == ["StartTransaction", "StopTransaction"]
    (stop,) = rig.payloads("StopTransaction")
    assert stop["transactionId"] == transaction_id and stop["reason"] == "Local"
    (failed,) = rig.events_of(StoreFailed)
    assert failed.kept and os.strerror(code) in failed.error
    assert "kept in memory, retrying" in caplog.text
    assert not FileStore(tmp_path / "store").names("txmsg/")  # nothing could be written

    disk.error = None
    rig.advance(2)
    (recovered,) = rig.events_of(StoreRecovered)
    assert recovered.written > 0
    on_disk = FileStore(tmp_path / "store")
    assert on_disk.load("authcache") == [{"idTag": "TAG1", "idTagInfo": {"status": "Accepted"}}]
    assert on_disk.load("txseq") is not None and not on_disk.names("tx/")


def test_a_transaction_kept_in_memory_is_stopped_after_a_kill_once_the_disk_recovered(
    tmp_path: Path,
) -> None:
    rig, disk = disk_rig(tmp_path)
    disk.error = errno.ENOSPC
    transaction_id = start_session(rig)
    assert rig.cp.next_wakeup(rig.now) is not None  # the station asks to retry
    disk.error = None
    rig.advance(2)
    assert rig.events_of(StoreRecovered)
    rig.store = FileStore(tmp_path / "store")  # a kill: a new process on the same directory
    rig.restart()
    (stop,) = rig.payloads("StopTransaction")
    assert stop["transactionId"] == transaction_id and stop["reason"] == "PowerLoss"


def test_frames_go_out_in_order_while_the_disk_is_full(tmp_path: Path) -> None:
    rig, disk = disk_rig(tmp_path)
    first = start_session(rig)
    disk.error = errno.ENOSPC
    rig.card("TAG1")
    second = start_session(rig, "TAG2", connector=2)
    rig.card("TAG2", connector=2)
    disk.error = None
    rig.advance(2)
    assert [(a, p.get("transactionId")) for a, p in rig.tx_messages()] == [
        ("StartTransaction", None),
        ("StopTransaction", first),
        ("StartTransaction", None),
        ("StopTransaction", second),
    ]
    assert not FileStore(tmp_path / "store").names("txmsg/")


def test_a_csms_change_is_refused_while_the_disk_is_full(tmp_path: Path) -> None:
    rig, disk = disk_rig(tmp_path)
    disk.error = errno.ENOSPC
    reply = rig.csms.call("ChangeConfiguration", {"key": "ConnectionTimeOut", "value": "77"})
    assert reply[2] == "InternalError"
    entry = {"idTag": "A", "idTagInfo": {"status": "Accepted"}}
    payload = {"listVersion": 2, "updateType": "Full", "localAuthorizationList": [entry]}
    assert rig.csms.result("SendLocalList", payload) == {"status": "Failed"}
    assert [(e.name, e.kept) for e in rig.events_of(StoreFailed)] == [
        ("config", False),
        ("localauth", False),
    ]
    disk.error = None
    assert rig.csms.result("SendLocalList", payload) == {"status": "Accepted"}
    assert rig.events_of(StoreRecovered) == [StoreRecovered(0)]


# ---------------------------------------------------------------------- the sim Station


def test_the_station_reports_it_and_kept_writes_survive_a_reboot(tmp_path: Path) -> None:
    disk = FailingDisk(tmp_path / "store")
    rig = station_fakes.Rig(store=disk).boot()
    disk.error = errno.ENOSPC
    rig.station.plug(1)
    rig.station.present_card(1, "CARD")
    rig.run(2)
    (failed,) = rig.of_type("StoreFailed")
    assert failed.kept
    rig.backend.call("Reset", {"type": "Soft"})
    rig.run(70)  # the reset stops the transaction and reboots: a new engine, the same writes
    assert rig.of_type("StationRebooted")
    disk.error = None
    rig.run(120)
    assert rig.of_type("StoreRecovered")
    assert FileStore(tmp_path / "store").load("sim-meters") is not None
    assert rig.backend.actions().count("StopTransaction") == 1


def test_the_log_says_when_it_failed_and_when_it_recovered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "ocpp_core.store")
    rig, disk = disk_rig(tmp_path)
    disk.error = errno.ENOSPC
    start_session(rig)
    disk.error = None
    rig.advance(2)
    messages = [record.getMessage() for record in caplog.records]
    assert any("failed" in m and "No space left on device" in m for m in messages)
    assert any(m.startswith("store writable again") for m in messages)
