"""The browser store's pure parts on CPython: a fake IDBFS that copies a directory tree around.

The fake keeps a second directory as "IndexedDB"; ``syncfs`` copies one tree over the other when
the test lets it finish, so overlapping, coalesced and failed syncs can be driven step by step.
The real IDBFS is proven by the reload end-to-end test (e2e/test_control_center.py).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ocpp_core.store import Store
from sim.browser_store import (
    BrowserStore,
    FlushScheduler,
    open_browser_storage,
    station_directory_name,
)


class FakeIdbfs:
    """Memory = ``memory`` directory, IndexedDB = ``database`` directory; syncs finish on demand."""

    def __init__(self, root: Path, *, available: bool = True) -> None:
        self.memory_root = root / "memory"
        self.database = root / "indexeddb"
        self.database.mkdir(parents=True)
        self.available = available
        self.pending: list[tuple[bool, Callable[[str | None], None]]] = []
        self.max_in_flight = 0
        self.fail_next: str | None = None
        self.mounted: Path | None = None

    def mount(self, directory: str) -> bool:
        self.mounted = Path(directory)
        self.mounted.mkdir(parents=True, exist_ok=True)
        return self.available

    def syncfs(self, populate: bool, done: Callable[[str | None], None]) -> None:
        self.pending.append((populate, done))
        self.max_in_flight = max(self.max_in_flight, len(self.pending))

    def finish(self) -> None:
        """Complete the oldest sync: copy the tree in its direction (unless told to fail)."""
        populate, done = self.pending.pop(0)
        error, self.fail_next = self.fail_next, None
        if error is None:
            assert self.mounted is not None
            source, target = (
                (self.database, self.mounted) if populate else (self.mounted, self.database)
            )
            shutil.rmtree(target)
            shutil.copytree(source, target)
        done(error)


def run_async(coroutine):
    """asyncio.run in a fresh thread: safe even when this thread already runs a loop (the
    Playwright fixtures of the e2e tests keep one running in the main thread)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def settle() -> None:
    """Let call_soon callbacks (deferred sync starts) run."""
    for _ in range(3):
        await asyncio.sleep(0)


async def drive(fs: FakeIdbfs, awaitable, *, rounds: int = 20):
    """Await ``awaitable`` while finishing every sync the fake receives."""
    task = asyncio.ensure_future(awaitable)
    for _ in range(rounds):
        await settle()
        if task.done():
            break
        while fs.pending:
            fs.finish()
            await settle()
    assert task.done(), "the awaitable never finished"
    return task.result()


@pytest.fixture
def fs(tmp_path: Path) -> FakeIdbfs:
    return FakeIdbfs(tmp_path)


def test_documents_survive_a_reload(fs: FakeIdbfs, tmp_path: Path) -> None:
    mount = str(tmp_path / "memory")

    async def first_session() -> None:
        storage = await drive(fs, open_browser_storage(mount, fs=fs))
        assert storage.persistent and storage.problem is None
        store = storage.station_store("SIM-0001")
        assert isinstance(store, Store)
        store.save("config", {"HeartbeatInterval": "60"})
        store.save("tx/1/000001", {"action": "StartTransaction"})
        await drive(fs, store.flush())

    run_async(first_session())
    shutil.rmtree(tmp_path / "memory")  # the tab is gone: memory is lost, IndexedDB stays

    async def second_session() -> list[str]:
        storage = await drive(fs, open_browser_storage(mount, fs=fs))
        store = storage.station_store("SIM-0001")
        assert store.load("config") == {"HeartbeatInterval": "60"}
        return store.names()

    assert run_async(second_session()) == ["config", "tx/1/000001"]


def test_a_burst_of_writes_is_one_sync_and_syncs_never_overlap(fs: FakeIdbfs, tmp_path) -> None:
    async def scenario() -> None:
        storage = await drive(fs, open_browser_storage(str(tmp_path / "memory"), fs=fs))
        store = storage.station_store("A")
        scheduler = storage.scheduler
        for index in range(10):
            store.save(f"doc{index}", index)
        await settle()
        assert len(fs.pending) == 1 and scheduler.syncs == 1
        # writes while that sync runs: exactly one more sync, started only after it finished
        store.save("late1", 1)
        store.save("late2", 2)
        store.delete("doc0")
        await settle()
        assert len(fs.pending) == 1
        fs.finish()
        await settle()
        assert len(fs.pending) == 1 and scheduler.syncs == 2
        fs.finish()
        await settle()
        assert scheduler.idle and not fs.pending

    run_async(scenario())
    assert fs.max_in_flight == 1
    database = fs.database / "stations" / "A"
    names = sorted(path.name for path in database.iterdir())
    assert "doc0.json" not in names and {"late1.json", "late2.json"} <= set(names)


def test_flush_waits_for_the_sync_that_carries_the_last_write(fs: FakeIdbfs, tmp_path) -> None:
    async def scenario() -> None:
        storage = await drive(fs, open_browser_storage(str(tmp_path / "memory"), fs=fs))
        store = storage.station_store("A")
        assert storage.settled
        store.save("one", 1)
        assert not storage.settled  # the sync is only scheduled
        await settle()  # sync 1 running
        store.save("two", 2)  # needs sync 2
        waiter = asyncio.ensure_future(store.flush())
        await settle()
        fs.finish()  # sync 1 done: not enough
        await settle()
        assert not waiter.done() and not storage.settled
        fs.finish()  # sync 2 done
        await settle()
        assert waiter.done() and storage.settled
        await storage.flush()  # idle: returns at once

    run_async(scenario())


def test_a_failed_sync_is_reported_and_the_next_write_retries(fs: FakeIdbfs, tmp_path) -> None:
    errors: list[str] = []

    async def scenario() -> None:
        storage = await drive(
            fs, open_browser_storage(str(tmp_path / "memory"), fs=fs, on_error=errors.append)
        )
        store = storage.station_store("A")
        fs.fail_next = "QuotaExceededError"
        store.save("one", 1)
        await drive(fs, store.flush())
        assert storage.scheduler.last_error == "QuotaExceededError"
        store.save("two", 2)
        await drive(fs, store.flush())
        assert storage.scheduler.last_error is None

    run_async(scenario())
    assert errors == ["QuotaExceededError"]
    assert (fs.database / "stations" / "A" / "two.json").is_file()


def test_a_sync_that_raises_is_a_failed_sync(tmp_path: Path) -> None:
    class Broken(FakeIdbfs):
        def syncfs(self, populate, done):
            if not populate:
                raise RuntimeError("boom")
            done(None)

    broken = Broken(tmp_path)

    async def scenario() -> None:
        storage = await open_browser_storage(str(tmp_path / "memory"), fs=broken)
        store = storage.station_store("A")
        store.save("one", 1)
        await store.flush()
        assert storage.scheduler.last_error == "boom"
        assert storage.scheduler.idle

    run_async(scenario())


def test_wipe_removes_only_that_station(fs: FakeIdbfs, tmp_path: Path) -> None:
    async def scenario() -> None:
        storage = await drive(fs, open_browser_storage(str(tmp_path / "memory"), fs=fs))
        one, two = storage.station_store("ONE"), storage.station_store("TWO")
        one.save("config", {"a": 1})
        one.save("tx/1/000001", {"b": 2})
        (one.directory / "config.json.corrupt-1").write_text("x")
        two.save("config", {"c": 3})
        await drive(fs, storage.flush())
        await drive(fs, one.wipe())
        assert one.names() == [] and list(one.directory.iterdir()) == []
        assert two.load("config") == {"c": 3}
        one.save("config", {"fresh": True})  # still usable after the wipe
        await drive(fs, one.flush())

    run_async(scenario())
    assert sorted(p.name for p in (fs.database / "stations" / "ONE").iterdir()) == ["config.json"]
    assert (fs.database / "stations" / "TWO" / "config.json").is_file()


def test_without_indexeddb_the_store_lives_in_memory(tmp_path: Path) -> None:
    fs = FakeIdbfs(tmp_path, available=False)

    async def scenario() -> None:
        storage = await open_browser_storage(str(tmp_path / "memory"), fs=fs)
        assert not storage.persistent
        assert storage.problem is not None and "memory only" in storage.problem
        store = storage.station_store("A")
        store.save("config", {"a": 1})
        assert store.load("config") == {"a": 1}

    run_async(scenario())


def test_a_failed_populate_is_reported_not_raised(fs: FakeIdbfs, tmp_path: Path) -> None:
    fs.fail_next = "InvalidStateError"

    async def scenario() -> None:
        storage = await drive(fs, open_browser_storage(str(tmp_path / "memory"), fs=fs))
        assert storage.problem is not None and "InvalidStateError" in storage.problem

    run_async(scenario())


@pytest.mark.parametrize(
    ("charge_box_id", "expected"),
    [
        ("SIM-0001", "SIM-0001"),
        ("cp_1", "cp_1"),
        ("a.b", "a%2Eb"),
        ("a%2Eb", "a%252Eb"),
        ("..", "%2E%2E"),
        ("x/y", "x%2Fy"),
        ("Zähler", "Z%C3%A4hler"),
    ],
)
def test_station_directory_names_are_safe_and_distinct(charge_box_id: str, expected: str) -> None:
    assert station_directory_name(charge_box_id) == expected


def test_empty_charge_box_id_is_refused() -> None:
    with pytest.raises(ValueError):
        station_directory_name("")


def test_scheduler_request_without_a_loop_uses_the_given_defer(tmp_path: Path) -> None:
    calls: list[Callable[[], None]] = []
    fs = FakeIdbfs(tmp_path)
    fs.mount(str(tmp_path / "memory"))
    scheduler = FlushScheduler(fs, defer=calls.append)
    scheduler.request()
    scheduler.request()
    assert len(calls) == 1 and not scheduler.idle
    calls.pop()()
    assert len(fs.pending) == 1
    fs.finish()
    assert scheduler.idle


def test_browser_store_is_a_store(tmp_path: Path) -> None:
    fs = FakeIdbfs(tmp_path)
    fs.mount(str(tmp_path / "memory"))
    store = BrowserStore(tmp_path / "memory" / "s", FlushScheduler(fs, defer=lambda cb: None))
    assert isinstance(store, Store)
    store.save("a/b", [1, 2])
    assert store.names("a/") == ["a/b"]
    store.delete("a/b")
    assert store.load("a/b") is None


def test_a_sync_failed_by_a_racing_write_is_repeated_quietly(fs: FakeIdbfs, tmp_path) -> None:
    errors: list[str] = []

    async def scenario() -> None:
        storage = await drive(
            fs, open_browser_storage(str(tmp_path / "memory"), fs=fs, on_error=errors.append)
        )
        store = storage.station_store("A")
        store.save("tx/1/000001", {"a": 1})
        await settle()  # the sync listed the file ...
        store.delete("tx/1/000001")  # ... which is gone before IDBFS reads it
        fs.fail_next = "ErrnoError"
        waiter = asyncio.ensure_future(store.flush())
        fs.finish()
        await settle()
        assert len(fs.pending) == 1  # repeated at once
        fs.finish()
        await settle()
        assert waiter.done()
        assert storage.scheduler.last_error is None and storage.scheduler.retried == 1

    run_async(scenario())
    assert errors == []
    assert not (fs.database / "stations" / "A" / "tx" / "1" / "000001.json").exists()
