"""The station's Store in a browser tab: files on Pyodide's IDBFS, flushed to IndexedDB.

Pyodide's file system lives in memory; IDBFS mirrors a mounted directory to IndexedDB, but only
when asked (``FS.syncfs``). So the browser store is a ``FileStore`` (atomic writes, corruption
handling) on an IDBFS mount whose every write requests a flush:

* at start-up ``open_browser_storage()`` mounts the directory and loads it back from IndexedDB
  (``syncfs(populate=True)``) *before* any Station reads it;
* each save or delete calls ``FlushScheduler.request()``: the flush starts on the next turn of the
  event loop, so a burst of writes in one tick costs one ``syncfs``; a write that happens while a
  flush runs schedules exactly one more; two ``syncfs`` never overlap (Emscripten refuses that);
* ``BrowserStore.wipe()`` deletes this station's documents and flushes ("Reset station").

Each charge box id gets its own sub-directory, so changing the id in the GUI does not replay
another station's transaction journal. Without IndexedDB (private windows of some browsers,
storage blocked) the mount falls back to plain memory and says so in ``persistent``/``problem``.

Everything but ``PyodideFS`` is plain Python and tested on CPython with a fake file system;
``pyodide`` and ``js`` are imported only inside ``PyodideFS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ocpp_core.store import FileStore

__all__ = [
    "DEFAULT_MOUNT",
    "BrowserStorage",
    "BrowserStore",
    "FlushScheduler",
    "PyodideFS",
    "SyncFS",
    "open_browser_storage",
    "station_directory_name",
]

logger = logging.getLogger("sim.browser_store")

DEFAULT_MOUNT = "/ocpp-sim-store"

Done = Callable[[str | None], None]
"""Completion callback of a sync: None on success, else the error text."""


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


class FlushScheduler:
    """Serialized, coalescing ``syncfs(populate=False)`` after writes.

    ``request()`` is cheap and never blocks; ``flush()`` waits until every write requested before
    it is in IndexedDB (or the sync that carried it failed: see ``last_error``).
    """

    def __init__(
        self,
        fs: SyncFS,
        *,
        defer: Callable[[Callable[[], None]], None] = _default_defer,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._fs = fs
        self._defer = defer
        self._on_error = on_error
        self._scheduled = False  # a start is deferred to the next turn of the loop
        self._running = False  # a syncfs is in progress
        self._dirty = False  # a write arrived after the running sync started
        self._started = 0  # number of syncs started
        self._completed = 0  # number of syncs finished
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.last_error: str | None = None
        self.syncs = 0  # how many syncfs calls were made (for tests and diagnostics)
        self.retried = 0  # syncs repeated because a write raced them

    @property
    def idle(self) -> bool:
        """Nothing is waiting to be written and no sync is running."""
        return not (self._scheduled or self._running or self._dirty)

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
            self._done(str(exc) or type(exc).__name__)

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
            self.last_error = error
            logger.warning("could not save the station state in IndexedDB: %s", error)
            if self._on_error is not None:
                self._on_error(error)
        else:
            self.last_error = None
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
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out)


class BrowserStore:
    """A ``Store`` (load / save / delete / names) that is flushed to IndexedDB after each write."""

    def __init__(self, directory: str | os.PathLike[str], scheduler: FlushScheduler) -> None:
        self._directory = Path(directory)
        self._scheduler = scheduler
        self._files = FileStore(self._directory, on_write=scheduler.request)

    @property
    def directory(self) -> Path:
        return self._directory

    def load(self, name: str) -> Any | None:
        return self._files.load(name)

    def save(self, name: str, value: Any) -> None:
        self._files.save(name, value)

    def delete(self, name: str) -> None:
        self._files.delete(name)

    def names(self, prefix: str = "") -> list[str]:
        return self._files.names(prefix)

    async def flush(self) -> None:
        """Wait until every write so far is in IndexedDB."""
        await self._scheduler.flush()

    async def wipe(self) -> None:
        """Delete every document of this station (corrupt and temporary files too) and flush.

        The Station that used this store must be discarded first; a new one starts from scratch.
        """
        if self._directory.is_dir():
            for child in list(self._directory.iterdir()):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        child.unlink()
        self._files = FileStore(self._directory, on_write=self._scheduler.request)
        self._scheduler.request()
        await self._scheduler.flush()


class BrowserStorage:
    """The mounted directory: one ``BrowserStore`` per charge box id, one shared scheduler."""

    def __init__(
        self,
        mount_point: str | os.PathLike[str],
        scheduler: FlushScheduler,
        *,
        persistent: bool,
        problem: str | None = None,
    ) -> None:
        self.mount_point = Path(mount_point)
        self.scheduler = scheduler
        self.persistent = persistent
        self.problem = problem

    def station_store(self, charge_box_id: str) -> BrowserStore:
        directory = self.mount_point / "stations" / station_directory_name(charge_box_id)
        return BrowserStore(directory, self.scheduler)

    @property
    def settled(self) -> bool:
        """Every write so far is in IndexedDB (none waits, no sync runs)."""
        return self.scheduler.idle

    async def flush(self) -> None:
        await self.scheduler.flush()


async def open_browser_storage(
    mount_point: str = DEFAULT_MOUNT,
    *,
    fs: SyncFS | None = None,
    defer: Callable[[Callable[[], None]], None] = _default_defer,
    on_error: Callable[[str], None] | None = None,
) -> BrowserStorage:
    """Mount ``mount_point`` on IndexedDB and load what the last session left there.

    Call it once, before creating a Station on one of its stores. Failures never raise: the
    storage then lives in memory for this tab and ``problem`` says why.
    """
    fs = PyodideFS() if fs is None else fs
    scheduler = FlushScheduler(fs, defer=defer, on_error=on_error)
    try:
        persistent = fs.mount(mount_point)
    except Exception as exc:
        Path(mount_point).mkdir(parents=True, exist_ok=True)
        problem = f"IndexedDB is not available ({exc}); the station state is kept in memory only"
        logger.warning("%s", problem)
        return BrowserStorage(mount_point, scheduler, persistent=False, problem=problem)
    if not persistent:
        problem = "IndexedDB is not available; the station state is kept in memory only"
        return BrowserStorage(mount_point, scheduler, persistent=False, problem=problem)
    future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def loaded(error: str | None) -> None:
        if not future.done():
            future.set_result(error)

    try:
        fs.syncfs(True, loaded)
    except Exception as exc:
        loaded(str(exc) or type(exc).__name__)
    error = await future
    if error is not None:
        problem = f"could not load the saved station state from IndexedDB: {error}"
        logger.warning("%s", problem)
        return BrowserStorage(mount_point, scheduler, persistent=True, problem=problem)
    return BrowserStorage(mount_point, scheduler, persistent=True)


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
            done(_js_error_text(error) if failed else None)

        self._fs.syncfs(populate, create_once_callable(finished))


def _js_error_text(error: Any) -> str:
    for attribute in ("message", "name", "code"):
        value = getattr(error, attribute, None)
        if value:
            return str(value)
    return str(error)
