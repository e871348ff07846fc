"""The station's Store in a browser tab: a write-ahead log in localStorage, files on IDBFS.

Pyodide's file system lives in memory; IDBFS mirrors a mounted directory to IndexedDB, but only
when asked (``FS.syncfs``), and that flush completes asynchronously, milliseconds after the write.
A reload inside that window used to lose the write although the frame that depended on it had
already left (a confirmed StartTransaction, its transactionId). So every write is made durable
*synchronously* first, then mirrored in the background:

* ``save``/``delete`` update the ``FileStore`` (atomic writes, corruption handling) on the IDBFS
  mount and write the document's JSON text (``ensure_ascii``: any string, lone surrogates too,
  round-trips) to ``window.localStorage`` under ``ocpp-sim:wal:v1:<station dir>:<name>`` (a
  delete writes ``null``) before they return. ``setItem`` is synchronous and the browser process
  keeps what it got, so a reload or a crashed renderer cannot lose a write that returned;
* each write also requests a flush (``FlushScheduler``): the flush starts on the next turn of the
  event loop, so a burst of writes costs one ``syncfs``; two never overlap (Emscripten refuses);
* once a flush that started after a write has completed, that write's log entry is removed: the
  log holds only what IndexedDB may not have yet, a few small documents;
* at start-up ``open_browser_storage()`` mounts the directory, loads it from IndexedDB
  (``syncfs(populate=True)``) and replays the log on top (its entries are newer), *before* any
  Station reads it;
* a write that fails (localStorage full, an IndexedDB error) is loud: ``on_problem`` gets a text
  for the page's notice and a warning is logged; the data stays in memory, a refused log entry is
  written again with the next write, a failed flush is retried with backoff (1 s doubling to
  30 s), and ``on_problem(None)`` says when everything is saved again;
* ``BrowserStore.wipe()`` deletes this station's documents and log entries and flushes.

Each charge box id gets its own sub-directory, so changing the id in the GUI does not replay
another station's transaction journal. Without IndexedDB (private windows of some browsers,
storage blocked) the mount falls back to plain memory and says so in ``persistent``/``problem``.

Everything but ``PyodideFS`` is plain Python and tested on CPython with a fake file system and a
fake ``localStorage``; ``pyodide`` and ``js`` are imported only inside ``PyodideFS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ocpp_core.store import FileStore, validate_name
from sim.browser_wal import (
    TOMBSTONE,
    WAL_PREFIX,
    KeyValueStorage,
    WriteAheadLog,
    error_text,
    wal_text,
)

__all__ = [
    "DEFAULT_MOUNT",
    "WAL_PREFIX",
    "BrowserStorage",
    "BrowserStore",
    "FlushScheduler",
    "KeyValueStorage",
    "PyodideFS",
    "SyncFS",
    "WriteAheadLog",
    "open_browser_storage",
    "station_directory_name",
]

logger = logging.getLogger("sim.browser_store")

DEFAULT_MOUNT = "/ocpp-sim-store"
_STATION_DIRECTORY = re.compile(r"[A-Za-z0-9_%-]+", re.ASCII)  # station_directory_name's output
RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0

Done = Callable[[str | None], None]
"""Completion callback of a sync: None on success, else the error text."""
Later = Callable[[float, Callable[[], None]], object]
"""Run a callback after a delay in seconds (``loop.call_later`` by default)."""


class SyncFS(Protocol):
    """The part of Emscripten's FS the store needs (Pyodide's ``FS`` through ``PyodideFS``)."""

    def mount(self, directory: str) -> bool:
        """Create ``directory`` and mount IndexedDB there; False when only memory is possible."""
        ...

    def syncfs(self, populate: bool, done: Done) -> None:
        """Copy IndexedDB to memory (``populate``) or memory to IndexedDB, then call ``done``."""
        ...


def _default_defer(callback: Callable[[], None]) -> None:
    asyncio.get_running_loop().call_soon(callback)


def _default_later(delay: float, callback: Callable[[], None]) -> object:
    return asyncio.get_running_loop().call_later(delay, callback)


class FlushScheduler:
    """Serialized, coalescing ``syncfs(populate=False)`` after writes.

    ``request()`` is cheap and never blocks; ``flush()`` waits until every write requested before
    it is in IndexedDB (or the sync that carried it failed: see ``last_error``). A failed sync is
    tried again after ``RETRY_FIRST_S``, doubling up to ``RETRY_MAX_S``. Syncs are numbered from
    1; ``next_sync`` is the number of the first one that starts after now, so it carries every
    write made now; ``on_synced(n)`` reports that sync ``n`` (and so every earlier one) is done.
    """

    def __init__(
        self,
        fs: SyncFS,
        *,
        defer: Callable[[Callable[[], None]], None] = _default_defer,
        later: Later = _default_later,
        on_error: Callable[[str], None] | None = None,
        on_synced: Callable[[int], None] | None = None,
    ) -> None:
        self._fs = fs
        self._defer = defer
        self._later = later
        self.on_error = on_error
        self.on_synced = on_synced
        self._scheduled = False  # a start is deferred to the next turn of the loop
        self._running = False  # a syncfs is in progress
        self._dirty = False  # a write arrived after the running sync started
        self._started = 0  # number of syncs started
        self._completed = 0  # number of syncs finished
        self._retry_s = RETRY_FIRST_S
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.last_error: str | None = None
        self.syncs = 0  # how many syncfs calls were made (for tests and diagnostics)
        self.retried = 0  # syncs repeated because a write raced them
        self.failures = 0  # syncs that failed (reported)

    @property
    def idle(self) -> bool:
        """Nothing is waiting to be written and no sync is running."""
        return not (self._scheduled or self._running or self._dirty)

    @property
    def next_sync(self) -> int:
        """The number of the first sync that starts after this moment."""
        return self._started + 1

    def request(self) -> None:
        """A document changed in memory: make sure a sync will carry it."""
        if self._running:
            self._dirty = True
        elif not self._scheduled:
            self._scheduled = True
            self._defer(self._start)

    async def flush(self) -> None:
        """Wait until the writes requested so far have been synced (or the sync failed)."""
        if self.idle:
            return
        target = self._started + 1 if (self._scheduled or self._dirty) else self._started
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((target, future))
        await future

    def _start(self) -> None:
        self._scheduled = False
        if self._running:  # defensive: a deferred start racing a running sync
            self._dirty = True
            return
        self._running = True
        self._dirty = False
        self._started += 1
        self.syncs += 1
        try:
            self._fs.syncfs(False, self._done)
        except Exception as exc:  # a synchronous failure is reported like an asynchronous one
            self._done(error_text(exc))

    def _done(self, error: str | None) -> None:
        self._running = False
        if error is not None and self._dirty:
            # IDBFS lists the files when a sync starts and reads them after an IndexedDB round
            # trip: a document written or deleted in between fails that sync (ENOENT). The
            # write that did it already asked for the next sync, which sees a settled tree.
            logger.debug("IndexedDB sync raced a write (%s); syncing again", error)
            self.retried += 1
            self._dirty = False
            self._scheduled = True
            self._defer(self._start)
            return
        self._completed = self._started
        if error is not None:
            self._failed(error)
        else:
            self.last_error = None
            self._retry_s = RETRY_FIRST_S
            if self.on_synced is not None:
                self.on_synced(self._completed)
        remaining = []
        for target, future in self._waiters:
            if target <= self._completed:
                if not future.done():
                    future.set_result(None)
            else:
                remaining.append((target, future))
        self._waiters = remaining
        if self._dirty:
            self._dirty = False
            self._scheduled = True
            self._defer(self._start)

    def _failed(self, error: str) -> None:
        """Report the failure and try again later: the data is still in memory."""
        self.last_error = error
        self.failures += 1
        logger.warning(
            "could not save the station state in IndexedDB: %s; retrying in %.0f s",
            error,
            self._retry_s,
        )
        self._later(self._retry_s, self._retry)
        self._retry_s = min(self._retry_s * 2, RETRY_MAX_S)
        if self.on_error is not None:
            self.on_error(error)

    def _retry(self) -> None:
        if self.last_error is not None:
            self.request()


def station_directory_name(charge_box_id: str) -> str:
    """A file-system-safe, collision-free directory name for a charge box id.

    Letters, digits, ``-`` and ``_`` stay; every other character (``.`` and ``%`` included)
    becomes ``%XX`` per UTF-8 byte, so distinct ids never share a directory.
    """
    if not charge_box_id:
        raise ValueError("the charge box id is empty")
    out = []
    for char in charge_box_id:
        if char.isascii() and (char.isalnum() or char in "-_"):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
    return "".join(out)


class BrowserStore:
    """A ``Store`` (load / save / delete / names): durable in the log when a write returns,
    flushed to IndexedDB after it."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        scheduler: FlushScheduler,
        wal: WriteAheadLog | None = None,
    ) -> None:
        self._directory = Path(directory)
        self._scheduler = scheduler
        self._wal = wal
        self._touched = False
        self._files = FileStore(self._directory, on_write=self._written)

    @property
    def directory(self) -> Path:
        return self._directory

    def load(self, name: str) -> Any | None:
        return self._files.load(name)

    def save(self, name: str, value: Any) -> None:
        sync = self._scheduler.next_sync
        self._files.save(name, value)  # raises before anything changed if it cannot be stored
        if self._wal is not None:
            self._wal.record(self._key(name), wal_text(value), sync)

    def delete(self, name: str) -> None:
        sync = self._scheduler.next_sync
        self._touched = False
        self._files.delete(name)
        if self._touched and self._wal is not None:
            self._wal.record(self._key(name), TOMBSTONE, sync)

    def names(self, prefix: str = "") -> list[str]:
        return self._files.names(prefix)

    async def flush(self) -> None:
        """Wait until every write so far is in IndexedDB."""
        await self._scheduler.flush()

    async def wipe(self) -> None:
        """Delete every document of this station (corrupt and temporary files too) and flush.

        Each deletion is in the log when this returns to the event loop, so a reload during the
        flush does not bring the documents back.

        The Station that used this store must be discarded first; a new one starts from scratch.
        """
        for name in self.names():  # a tombstone in the log each: durable before the sync
            self.delete(name)
        if self._directory.is_dir():
            for child in list(self._directory.iterdir()):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        child.unlink()
        self._files = FileStore(self._directory, on_write=self._written)
        self._scheduler.request()
        await self._scheduler.flush()

    def _key(self, name: str) -> str:
        return WriteAheadLog.key(self._directory.name, name)

    def _written(self) -> None:
        self._touched = True
        self._scheduler.request()


class BrowserStorage:
    """The mounted directory: one ``BrowserStore`` per charge box id, one shared scheduler and
    log. ``on_problem`` hears a text when a write fails and None once all is saved again."""

    def __init__(
        self,
        mount_point: str | os.PathLike[str],
        scheduler: FlushScheduler,
        *,
        persistent: bool,
        problem: str | None = None,
        wal: WriteAheadLog | None = None,
        on_problem: Callable[[str | None], None] | None = None,
    ) -> None:
        self.mount_point = Path(mount_point)
        self.scheduler = scheduler
        self.persistent = persistent
        self.problem = problem
        self.wal = wal
        self.on_problem = on_problem
        self.write_problem: str | None = None
        scheduler.on_error = lambda _error: self._health_changed()
        scheduler.on_synced = self._synced
        if wal is not None:
            wal.on_change = self._health_changed

    def station_store(self, charge_box_id: str) -> BrowserStore:
        directory = self.mount_point / "stations" / station_directory_name(charge_box_id)
        return BrowserStore(directory, self.scheduler, self.wal)

    @property
    def settled(self) -> bool:
        """Every write so far is in IndexedDB (none waits, no sync runs, none failed)."""
        return self.scheduler.idle and self.scheduler.last_error is None

    async def flush(self) -> None:
        await self.scheduler.flush()

    def stats(self) -> dict[str, Any]:
        """Counters and latencies for diagnostics and ``bench/bench_browser_durability.py``."""
        figures = {} if self.wal is None else self.wal.stats()
        return {
            **figures,
            "syncs": self.scheduler.syncs,
            "syncFailures": self.scheduler.failures,
            "settled": self.settled,
            "problem": self.write_problem,
        }

    def replay(self) -> int:
        """Apply the log on top of what IndexedDB gave back; the entries stay until a sync
        carried them. Returns how many were applied."""
        wal = self.wal
        if wal is None:
            return 0
        sync = self.scheduler.next_sync
        applied = 0
        for key, directory, name in wal.entries():
            text = wal.read(key)
            try:
                validate_name(name)
                if not _STATION_DIRECTORY.fullmatch(directory):
                    raise ValueError(f"bad station directory {directory!r}")
                files = FileStore(self.mount_point / "stations" / directory)
                if text is None or text == TOMBSTONE:
                    files.delete(name)
                else:
                    files.save(name, json.loads(text))
            except Exception as exc:  # an entry that cannot be applied must not block the rest
                logger.warning("write-ahead log entry %s not applied: %s", key, error_text(exc))
                wal.forget(key)
                continue
            wal.pending(key, sync)
            applied += 1
        wal.replayed = applied
        if applied:
            logger.info("replayed %d write(s) IndexedDB did not have yet", applied)
            self.scheduler.request()
        return applied

    def _synced(self, completed: int) -> None:
        if self.wal is not None:
            self.wal.synced(completed)
        self._health_changed()

    def _health_changed(self) -> None:
        problem = self.wal.problem if self.wal is not None else None
        error = self.scheduler.last_error
        if problem is None and error is not None:
            problem = (
                f"could not save the station state in IndexedDB ({error});"
                " it is kept in memory and retried"
            )
            if self.wal is not None:
                problem += ", and localStorage holds it meanwhile"
        if problem == self.write_problem:
            return
        self.write_problem = problem
        if self.on_problem is not None:
            self.on_problem(problem)


async def open_browser_storage(
    mount_point: str = DEFAULT_MOUNT,
    *,
    fs: SyncFS | None = None,
    wal_storage: KeyValueStorage | None = None,
    defer: Callable[[Callable[[], None]], None] = _default_defer,
    later: Later = _default_later,
    on_problem: Callable[[str | None], None] | None = None,
) -> BrowserStorage:
    """Mount ``mount_point`` on IndexedDB, load what the last session left there and replay the
    write-ahead log kept in ``wal_storage`` (``window.localStorage``) on top.

    Call it once, before creating a Station on one of its stores. Failures never raise: the
    storage then lives in memory for this tab and ``problem`` says why.
    """
    fs = PyodideFS() if fs is None else fs
    scheduler = FlushScheduler(fs, defer=defer, later=later)

    def storage(persistent: bool, problem: str | None = None) -> BrowserStorage:
        wal = WriteAheadLog(wal_storage) if persistent and wal_storage is not None else None
        return BrowserStorage(
            mount_point,
            scheduler,
            persistent=persistent,
            problem=problem,
            wal=wal,
            on_problem=on_problem,
        )

    try:
        persistent = fs.mount(mount_point)
    except Exception as exc:
        Path(mount_point).mkdir(parents=True, exist_ok=True)
        problem = f"IndexedDB is not available ({exc}); the station state is kept in memory only"
        logger.warning("%s", problem)
        return storage(False, problem)
    if not persistent:
        return storage(
            False, "IndexedDB is not available; the station state is kept in memory only"
        )
    future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def loaded(error: str | None) -> None:
        if not future.done():
            future.set_result(error)

    try:
        fs.syncfs(True, loaded)
    except Exception as exc:
        loaded(error_text(exc))
    error = await future
    problem = None
    if error is not None:
        problem = f"could not load the saved station state from IndexedDB: {error}"
        logger.warning("%s", problem)
    opened = storage(True, problem)
    opened.replay()
    return opened


class PyodideFS:
    """``SyncFS`` on Pyodide's Emscripten ``FS`` with its IDBFS backend (browser only)."""

    def __init__(self, fs: Any = None) -> None:
        if fs is None:
            import pyodide_js  # provided by Pyodide

            fs = pyodide_js.FS
        self._fs = fs

    def mount(self, directory: str) -> bool:
        Path(directory).mkdir(parents=True, exist_ok=True)
        idbfs = getattr(self._fs.filesystems, "IDBFS", None)
        if idbfs is None:
            return False
        import js
        from pyodide.ffi import to_js

        if not hasattr(js, "indexedDB") or js.indexedDB is None:
            return False
        self._fs.mount(idbfs, to_js({}, dict_converter=js.Object.fromEntries), directory)
        return True

    def syncfs(self, populate: bool, done: Done) -> None:
        from pyodide.ffi import create_once_callable

        try:
            from pyodide.ffi import jsnull  # JS null (Pyodide >= 0.27); None before
        except ImportError:
            jsnull = None

        def finished(error: Any = None) -> None:
            failed = error is not None and error is not jsnull
            done(_jserror_text(error) if failed else None)

        self._fs.syncfs(populate, create_once_callable(finished))


def _jserror_text(error: Any) -> str:
    for attribute in ("message", "name", "code"):
        value = getattr(error, attribute, None)
        if value:
            return str(value)
    return str(error)
