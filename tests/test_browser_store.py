"""The browser store's pure parts on CPython: a fake IDBFS that copies a directory tree around.

The fake keeps a second directory as "IndexedDB"; ``syncfs`` copies one tree over the other when
the test lets it finish, so overlapping, coalesced and failed syncs can be driven step by step.
A fake ``localStorage`` plays the write-ahead log's side (synchronous, kept across reloads, with a
quota). The real IDBFS and localStorage are proven by the reload end-to-end tests
(e2e/test_control_center.py, e2e/test_reload_storm.py).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fresh_loop import run_async

from ocpp_core.store import Store
from sim.browser_store import (
    WAL_PREFIX,
    BrowserStore,
    FlushScheduler,
    open_browser_storage,
    station_directory_name,
)
from sim.runtime import Runtime, VirtualClock
from sim.settings import StationSettings
from sim.station import Station

WEB = Path(__file__).resolve().parent.parent / "web"
sys.path.insert(0, str(WEB))
from control_center.ticking import PromptRuntime  # noqa: E402


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
    errors: list[str | None] = []

    async def scenario() -> None:
        storage = await drive(
            fs, open_browser_storage(str(tmp_path / "memory"), fs=fs, on_problem=errors.append)
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
    assert len(errors) == 2 and errors[1] is None
    assert errors[0] is not None and "IndexedDB (QuotaExceededError)" in errors[0]
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
        assert storage.scheduler.last_error == "RuntimeError: boom"
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
    errors: list[str | None] = []

    async def scenario() -> None:
        storage = await drive(
            fs, open_browser_storage(str(tmp_path / "memory"), fs=fs, on_problem=errors.append)
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


# ------------------------------------------------------------------ the write-ahead log


class FakeLocalStorage:
    """``window.localStorage``: synchronous, kept by "the browser" across reloads, with a quota
    (counted in characters, as Chromium does) that makes ``setItem`` raise."""

    def __init__(self, quota: int = 1_000_000) -> None:
        self.items: dict[str, str] = {}
        self.quota = quota
        self.sets = 0

    @property
    def length(self) -> int:
        return len(self.items)

    def key(self, index: int) -> str | None:
        keys = list(self.items)
        return keys[index] if 0 <= index < len(keys) else None

    def getItem(self, key: str) -> str | None:
        return self.items.get(key)

    def setItem(self, key: str, value: str) -> None:
        assert value.isascii(), "the log hands JS only ASCII text"
        used = sum(len(k) + len(v) for k, v in self.items.items() if k != key)
        if used + len(key) + len(value) > self.quota:
            raise QuotaExceededError("The quota has been exceeded.")
        self.items[key] = value
        self.sets += 1

    def removeItem(self, key: str) -> None:
        self.items.pop(key, None)

    def log(self) -> dict[str, str]:
        return {k: v for k, v in self.items.items() if k.startswith(WAL_PREFIX)}


class QuotaExceededError(Exception):
    """What Pyodide raises for the DOMException of a full localStorage (a JsException)."""


def reload_tab(fs: FakeIdbfs) -> None:
    """The tab goes away at once: unfinished syncs never complete, memory is lost; IndexedDB
    and localStorage stay."""
    fs.pending.clear()
    shutil.rmtree(fs.memory_root)


def open_with_log(fs: FakeIdbfs, local: FakeLocalStorage, **kwargs):
    return open_browser_storage(str(fs.memory_root), fs=fs, wal_storage=local, **kwargs)


def test_a_write_is_in_the_log_when_save_returns_and_leaves_it_once_synced(fs, tmp_path) -> None:
    local = FakeLocalStorage()

    async def scenario() -> None:
        storage = await drive(fs, open_with_log(fs, local))
        store = storage.station_store("CP.1")
        store.save("tx/5", {"transactionId": 77})
        key = f"{WAL_PREFIX}CP%2E1:tx/5"
        assert local.log() == {key: '{"transactionId":77}'}  # before any sync ran
        await settle()
        assert len(fs.pending) == 1
        store.save("tx/6", {"transactionId": 78})  # during the sync: needs the next one
        fs.finish()
        await settle()
        assert list(local.log()) == [f"{WAL_PREFIX}CP%2E1:tx/6"]
        fs.finish()
        await settle()
        assert local.log() == {}
        stats = storage.stats()
        assert stats["writes"] == 2 and stats["walEntries"] == 0 and stats["settled"]
        assert stats["indexedDbMs"]["count"] == 2 and stats["walWriteMs"]["count"] == 2

    run_async(scenario())


def test_a_reload_before_the_sync_completes_loses_nothing(fs: FakeIdbfs) -> None:
    """The defect of issue 11: the confirmed transaction was written, its sync had not completed
    when the tab went away. The log replays it, deletes included, on top of IndexedDB."""
    local = FakeLocalStorage()

    async def first_session() -> None:
        storage = await drive(fs, open_with_log(fs, local))
        store = storage.station_store("SIM-0001")
        store.save("txmsg/0000000001", {"action": "StartTransaction"})
        store.save("config", {"HeartbeatInterval": "60"})
        await drive(fs, store.flush())  # both in IndexedDB
        store.save("tx/1", {"transactionId": 42})  # the answer ...
        store.delete("txmsg/0000000001")  # ... and the delivered message
        store.save("authcache", {"tag": "\ud800A"})  # a lone surrogate from a CSMS
        await settle()  # the sync started, and the tab goes away before it completes

    run_async(first_session())
    reload_tab(fs)

    async def second_session() -> tuple[list[str], object, object, dict]:
        storage = await drive(fs, open_with_log(fs, local))
        store = storage.station_store("SIM-0001")
        found = (store.names(), store.load("tx/1"), store.load("authcache"))
        assert storage.wal is not None and storage.wal.replayed == 3
        await drive(fs, storage.flush())  # the replayed writes reach IndexedDB ...
        return (*found, local.log())  # ... and leave the log

    names, tx, cache, log = run_async(second_session())
    assert names == ["authcache", "config", "tx/1"]
    assert tx == {"transactionId": 42} and cache == {"tag": "\ud800A"}
    assert log == {}
    assert not (fs.database / "stations" / "SIM-0001" / "txmsg").exists() or not list(
        (fs.database / "stations" / "SIM-0001" / "txmsg").iterdir()
    )


def test_a_failed_sync_keeps_the_log_until_a_sync_succeeds(fs: FakeIdbfs) -> None:
    local = FakeLocalStorage()
    later: list[tuple[float, Callable[[], None]]] = []
    problems: list[str | None] = []

    async def scenario() -> None:
        storage = await drive(
            fs,
            open_with_log(
                fs,
                local,
                later=lambda delay, callback: later.append((delay, callback)),
                on_problem=problems.append,
            ),
        )
        store = storage.station_store("A")
        fs.fail_next = "UnknownError"
        store.save("tx/1", {"transactionId": 1})
        await drive(fs, store.flush())
        assert list(local.log()) == [f"{WAL_PREFIX}A:tx/1"]  # still needed
        assert not storage.settled
        assert problems and problems[-1] is not None and "UnknownError" in problems[-1]
        assert "localStorage holds it" in problems[-1]
        # retried by itself with backoff: no further write needed
        (delay, retry), *_ = later
        assert delay == 1.0
        fs.fail_next = "UnknownError"
        retry()
        await drive(fs, storage.flush())
        assert later[1][0] == 2.0
        later[1][1]()
        await drive(fs, storage.flush())
        assert local.log() == {} and storage.settled and problems[-1] is None
        assert storage.stats()["syncFailures"] == 2

    run_async(scenario())
    assert (fs.database / "stations" / "A" / "tx" / "1.json").is_file()


def test_a_full_local_storage_is_loud_keeps_the_data_and_retries(fs: FakeIdbfs, caplog) -> None:
    local = FakeLocalStorage(quota=400)
    problems: list[str | None] = []

    async def scenario() -> None:
        storage = await drive(fs, open_with_log(fs, local, on_problem=problems.append))
        store = storage.station_store("A")
        local.items["other-app"] = "x" * 300  # somebody else filled the origin's quota
        store.save("localauth", {"list": ["T" * 20] * 10})
        assert problems[-1] is not None and "QuotaExceededError" in problems[-1]
        assert "kept in memory" in problems[-1]
        assert store.load("localauth") == {"list": ["T" * 20] * 10}  # kept in memory
        assert storage.stats()["walRefused"] == 1
        del local.items["other-app"]  # room again: the next write writes the refused one too
        store.save("config", {"a": "1"})
        assert set(local.log()) == {f"{WAL_PREFIX}A:localauth", f"{WAL_PREFIX}A:config"}
        assert problems[-1] is None
        # refused again, then carried by a sync: the problem ends without localStorage
        local.items["other-app"] = "x" * 350
        store.save("config", {"a": "2" * 40})
        assert problems[-1] is not None
        await drive(fs, storage.flush())
        assert problems[-1] is None and storage.stats()["walRefused"] == 0

    with caplog.at_level("WARNING", logger="sim.browser_store"):
        run_async(scenario())
    assert any("QuotaExceededError" in record.getMessage() for record in caplog.records)
    assert (
        fs.database / "stations" / "A" / "config.json"
    ).read_text() == '{"a":"' + "2" * 40 + '"}'


def test_a_reload_during_the_wipe_does_not_bring_the_documents_back(fs: FakeIdbfs) -> None:
    local = FakeLocalStorage()

    async def scenario() -> None:
        storage = await drive(fs, open_with_log(fs, local))
        one, two = storage.station_store("ONE"), storage.station_store("TWO")
        one.save("tx/1", {"a": 1})
        two.save("tx/1", {"b": 2})
        await drive(fs, storage.flush())  # both in IndexedDB
        wipe = asyncio.ensure_future(one.wipe())
        await settle()  # the wipe's sync started; the tab goes away before it completes
        assert local.log() == {f"{WAL_PREFIX}ONE:tx/1": "null"}
        wipe.cancel()

    run_async(scenario())
    reload_tab(fs)

    async def again() -> tuple[list[str], list[str]]:
        storage = await drive(fs, open_with_log(fs, local))
        return storage.station_store("ONE").names(), storage.station_store("TWO").names()

    assert run_async(again()) == ([], ["tx/1"])


def test_unusable_log_entries_are_reported_and_dropped(fs: FakeIdbfs, caplog) -> None:
    local = FakeLocalStorage()
    local.items[f"{WAL_PREFIX}A:config"] = "{not json"
    local.items[f"{WAL_PREFIX}A:../escape"] = "1"
    local.items[f"{WAL_PREFIX}..:config"] = "1"
    local.items[f"{WAL_PREFIX}A:good"] = "[1,2]"
    local.items["ocpp-sim:prefs:v1"] = "{}"  # not the log's

    async def scenario() -> object:
        storage = await drive(fs, open_with_log(fs, local))
        return storage.station_store("A").load("good")

    with caplog.at_level("WARNING", logger="sim.browser_store"):
        assert run_async(scenario()) == [1, 2]
    assert sum("not applied" in r.getMessage() for r in caplog.records) == 3
    assert set(local.items) == {"ocpp-sim:prefs:v1"}  # "good" left once a sync carried it


def test_without_indexeddb_nothing_goes_to_the_log(tmp_path: Path) -> None:
    fs = FakeIdbfs(tmp_path, available=False)
    local = FakeLocalStorage()

    async def scenario() -> None:
        storage = await open_with_log(fs, local)
        assert storage.wal is None
        storage.station_store("A").save("config", {"a": 1})

    run_async(scenario())
    assert local.items == {}


# ------------------------------------------------------------------ a reply stored in its own task

NOW = "2025-06-01T12:00:00.000Z"
REPLIES: dict[str, dict[str, Any]] = {
    "BootNotification": {"status": "Accepted", "currentTime": NOW, "interval": 300},
    "StatusNotification": {},
    "Authorize": {"idTagInfo": {"status": "Accepted"}},
    "MeterValues": {},
    "Heartbeat": {"currentTime": NOW},
    "StopTransaction": {},
    "SecurityEventNotification": {},
}


class FakeWebSocket:
    """The page's WebSocket: the test plays the CSMS and calls the handlers as the browser's
    event loop would, one event per JS task."""

    def __init__(self, url: str, protocols: list[str]) -> None:
        self.protocol = ""
        self.onopen: Any = None
        self.onmessage: Any = None
        self.onclose: Any = None
        self.sent: list[list[Any]] = []
        self.answered: set[str] = set()

    def send(self, text: str) -> None:
        self.sent.append(json.loads(text))

    def close(self, *args: Any) -> None:
        pass

    def accept(self) -> None:
        self.protocol = "ocpp1.6"
        self.onopen(types.SimpleNamespace(type="open"))

    def unanswered(self) -> list[Any] | None:
        return next((f for f in self.sent if f[0] == 2 and f[1] not in self.answered), None)

    def answer(self, payload: dict[str, Any]) -> None:
        """Deliver the CALLRESULT of the oldest unanswered CALL (one message event)."""
        call = self.unanswered()
        assert call is not None
        self.answered.add(call[1])
        self.onmessage(types.SimpleNamespace(data=json.dumps([3, call[1], payload])))


class _Proxy:
    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function

    def __call__(self, *args: Any) -> Any:
        return self.function(*args)

    def destroy(self) -> None:
        pass


@pytest.fixture
def sockets(monkeypatch: pytest.MonkeyPatch) -> list[FakeWebSocket]:
    """A fake ``js`` and ``pyodide.ffi`` for the browser transport; the sockets it opens."""
    opened: list[FakeWebSocket] = []

    def new(url: str, protocols: list[str]) -> FakeWebSocket:
        opened.append(FakeWebSocket(url, protocols))
        return opened[-1]

    js = types.ModuleType("js")
    js.WebSocket = types.SimpleNamespace(new=new)  # type: ignore[attr-defined]
    js.setTimeout = lambda callback, ms: 1  # type: ignore[attr-defined]
    js.clearTimeout = lambda timer: None  # type: ignore[attr-defined]
    ffi = types.ModuleType("pyodide.ffi")
    ffi.create_proxy = _Proxy  # type: ignore[attr-defined]
    ffi.to_js = list  # type: ignore[attr-defined]
    pyodide = types.ModuleType("pyodide")
    pyodide.ffi = ffi  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "js", js)
    monkeypatch.setitem(sys.modules, "pyodide", pyodide)
    monkeypatch.setitem(sys.modules, "pyodide.ffi", ffi)
    return opened


def page_station(store: Store, runtime: Runtime, *, prompt: bool) -> Station:
    """A station wired as the Control Center wires it (web/control_center/app.py)."""
    from sim.transport.browser import BrowserTransport

    after = runtime.step_now if isinstance(runtime, PromptRuntime) and prompt else None
    station = Station(
        StationSettings(csms_url="ws://csms.test/ocpp", charge_box_id="CP-RELOAD"),
        store=store,
        transport_factory=lambda config, listener: BrowserTransport(
            config, listener, after_event=after
        ),
        clock_start_wall=1_750_000_000.0,
    )
    runtime.add(station)
    return station


def pump(
    runtime: Runtime,
    socket: FakeWebSocket,
    until: str | None,
    replies: dict[str, dict[str, Any]] = REPLIES,
) -> list[Any] | None:
    """Answer the station's CALLs as the demo CSMS would, until it sends ``until`` (returned,
    unanswered) or, for None, until it has nothing more to say."""
    quiet = 0
    for _ in range(200):
        runtime.run_for(0.5)
        call = socket.unanswered()
        if call is None:
            quiet += 1
            if until is None and quiet > 3:
                return None
            continue
        quiet = 0
        if call[2] == until:
            return call
        socket.answer(replies[call[2]])
    raise AssertionError(f"the station never sent {until}: {socket.sent}")


def reload_after_the_start_answer(
    fs: FakeIdbfs, local: FakeLocalStorage, sockets: list[FakeWebSocket], *, prompt: bool
) -> tuple[dict[str, str], list[Any]]:
    """Plug, present a card, answer StartTransaction with 4242, and the tab goes away right
    after that message event: the log at that moment, and the StartTransaction frame."""

    async def session() -> tuple[dict[str, str], list[Any]]:
        storage = await drive(fs, open_with_log(fs, local))
        clock = VirtualClock()
        runtime = PromptRuntime(clock=clock) if prompt else Runtime(clock=clock)
        station = page_station(storage.station_store("CP-RELOAD"), runtime, prompt=prompt)
        station.connect()
        runtime.run_for(0.1)
        socket = sockets[-1]
        socket.accept()
        pump(runtime, socket, None)  # booted
        station.plug(1)
        station.present_card(1, "TAG-1")
        start = pump(runtime, socket, "StartTransaction")
        assert start is not None
        socket.answer({"transactionId": 4242, "idTagInfo": {"status": "Accepted"}})
        return dict(local.log()), start

    log, start = run_async(session())
    reload_tab(fs)
    return log, start


def after_the_reload(
    fs: FakeIdbfs, local: FakeLocalStorage, sockets: list[FakeWebSocket]
) -> list[list[Any]]:
    """The page loads again: every CALL the station sends until its StopTransaction."""

    async def session() -> list[list[Any]]:
        storage = await drive(fs, open_with_log(fs, local))
        runtime = PromptRuntime(clock=VirtualClock())
        station = page_station(storage.station_store("CP-RELOAD"), runtime, prompt=True)
        station.connect()
        runtime.run_for(0.1)
        socket = sockets[-1]
        socket.accept()
        started = {"transactionId": 5151, "idTagInfo": {"status": "Accepted"}}
        pump(runtime, socket, None, {**REPLIES, "StartTransaction": started})
        return [f for f in socket.sent if f[0] == 2]

    return run_async(session())


def test_a_start_answer_is_in_the_log_when_its_message_event_returns(fs, sockets) -> None:
    """Issue 11's acceptance, below the browser: the reply is handled and its transactionId
    written to localStorage inside the message event, so a reload right after it still ends
    transaction 4242 (PowerLoss) and sends no second StartTransaction."""
    local = FakeLocalStorage()
    log, _start = reload_after_the_start_answer(fs, local, sockets, prompt=True)
    assert any("4242" in text for text in log.values()), log
    calls = after_the_reload(fs, local, sockets)
    stops = [f[3] for f in calls if f[2] == "StopTransaction"]
    assert [(s["transactionId"], s["reason"]) for s in stops] == [(4242, "PowerLoss")]
    assert not [f for f in calls if f[2] == "StartTransaction"]


def test_without_the_prompt_tick_the_reply_waits_and_the_start_is_sent_again(fs, sockets) -> None:
    """The window the prompt tick closes: handled on a later task, the answer is not stored when
    its event returns. A reload then re-sends the StartTransaction under its message id (a CSMS
    can recognise it) and ends that transaction with PowerLoss: never silence."""
    local = FakeLocalStorage()
    log, start = reload_after_the_start_answer(fs, local, sockets, prompt=False)
    assert not any("4242" in text for text in log.values())
    calls = after_the_reload(fs, local, sockets)
    again = [f for f in calls if f[2] == "StartTransaction"]
    assert [f[1] for f in again] == [start[1]]
    stops = [f[3] for f in calls if f[2] == "StopTransaction"]
    assert [(s["transactionId"], s["reason"]) for s in stops] == [(5151, "PowerLoss")]
