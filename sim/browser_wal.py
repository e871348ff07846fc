"""The browser store's write-ahead log: the synchronous half of every write, in localStorage.

IDBFS carries a write to IndexedDB asynchronously, milliseconds after it; ``localStorage.setItem``
returns only once the browser holds the value, and the browser process keeps it across a reload or
a crashed renderer. So each write of ``sim.browser_store.BrowserStore`` is recorded here first,
and removed once a sync that started after it has completed (see ``WriteAheadLog``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

__all__ = [
    "TOMBSTONE",
    "WAL_PREFIX",
    "KeyValueStorage",
    "WriteAheadLog",
    "error_text",
    "wal_text",
]

logger = logging.getLogger("sim.browser_store")

WAL_PREFIX = "ocpp-sim:wal:v1:"
"""localStorage key prefix of the write-ahead log: ``<prefix><station dir>:<document name>``."""
TOMBSTONE = "null"
"""The log value of a deleted document (a stored document is never JSON null)."""
STATS_WINDOW = 1000
"""How many recent latencies ``stats()`` summarises."""


class KeyValueStorage(Protocol):
    """The synchronous part of the Web Storage API (``window.localStorage``) the log uses."""

    @property
    def length(self) -> int: ...

    def key(self, index: int) -> Any: ...

    def getItem(self, key: str) -> Any: ...

    def setItem(self, key: str, value: str) -> None: ...

    def removeItem(self, key: str) -> None: ...


def error_text(exc: BaseException) -> str:
    """``Name: message`` of a Python exception or of a JS error raised through Pyodide (whose
    ``name``, e.g. QuotaExceededError, says more than its type, JsException)."""
    name = getattr(exc, "name", None)
    name = name if isinstance(name, str) and name else type(exc).__name__
    text = str(exc)
    return text if name in text else f"{name}: {text}" if text else name


def _percentiles(values: deque[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 3)

    return {"count": len(ordered), "p50": at(0.5), "p95": at(0.95), "max": round(ordered[-1], 3)}


class WriteAheadLog:
    """The synchronous half of every write: one ``localStorage`` entry per changed document.

    An entry is removed once a sync that started after its latest write has completed. Entries
    ``localStorage`` refused (quota) are kept in memory and written again with the next write;
    they no longer matter once such a sync completed. ``problem`` is set while any is refused.
    """

    def __init__(
        self,
        storage: KeyValueStorage,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self.on_change = on_change
        self._covered: dict[str, tuple[int, float]] = {}  # key -> (sync carrying it, written at)
        self._refused: dict[str, str] = {}  # key -> text localStorage did not take yet
        self.problem: str | None = None
        self.replayed = 0  # entries applied at start-up (what IndexedDB did not have yet)
        self.writes = 0
        self.refusals = 0
        self._write_ms: deque[float] = deque(maxlen=STATS_WINDOW)
        self._flush_ms: deque[float] = deque(maxlen=STATS_WINDOW)

    @staticmethod
    def key(directory: str, name: str) -> str:
        return f"{WAL_PREFIX}{directory}:{name}"

    def record(self, key: str, text: str, sync: int) -> None:
        """Make ``text`` (a document's JSON, or ``TOMBSTONE``) durable now, before returning."""
        started = self._clock()
        self._covered[key] = (sync, started)
        self._refused.pop(key, None)
        self.writes += 1
        if self._refused:
            self._write_refused()
        try:
            self._storage.setItem(key, text)
        except Exception as exc:
            self.refusals += 1
            self._refused[key] = text
            self._set_problem(
                "could not write the station state to localStorage"
                f" ({error_text(exc)}); it is kept in memory and saved to IndexedDB in the"
                " background, but a reload before that completes would lose it"
            )
            return
        self._write_ms.append((self._clock() - started) * 1000)
        if not self._refused:
            self._set_problem(None)

    def synced(self, completed: int) -> None:
        """Sync ``completed`` is done: drop the entries it (or an earlier one) carried."""
        now = self._clock()
        done = [key for key, (sync, _) in self._covered.items() if sync <= completed]
        for key in done:
            _, written = self._covered.pop(key)
            self._flush_ms.append((now - written) * 1000)
            self._refused.pop(key, None)
            try:
                self._storage.removeItem(key)
            except Exception as exc:  # the entry is replayed once more: harmless
                logger.warning("could not remove a write-ahead log entry: %s", error_text(exc))
        if done and not self._refused:
            self._set_problem(None)

    def entries(self, directory: str | None = None) -> list[tuple[str, str, str]]:
        """(key, station directory, document name) of the stored entries, sorted by key."""
        found = []
        for index in range(int(self._storage.length)):
            key = self._storage.key(index)
            if not isinstance(key, str) or not key.startswith(WAL_PREFIX):
                continue
            station, sep, name = key[len(WAL_PREFIX) :].partition(":")
            if sep and (directory is None or station == directory):
                found.append((key, station, name))
        return sorted(found)

    def read(self, key: str) -> str | None:
        value = self._storage.getItem(key)
        return value if isinstance(value, str) else None

    def forget(self, key: str) -> None:
        """Remove an entry now (a wiped station, an unusable entry)."""
        self._covered.pop(key, None)
        self._refused.pop(key, None)
        with contextlib.suppress(Exception):
            self._storage.removeItem(key)

    def pending(self, key: str, sync: int) -> None:
        """Track an entry found at start-up: removed once sync ``sync`` is done."""
        self._covered[key] = (sync, self._clock())

    def stats(self) -> dict[str, Any]:
        return {
            "walEntries": len(self._covered),
            "walRefused": len(self._refused),
            "replayed": self.replayed,
            "writes": self.writes,
            "refusals": self.refusals,
            "walWriteMs": _percentiles(self._write_ms),
            "indexedDbMs": _percentiles(self._flush_ms),
        }

    def _write_refused(self) -> None:
        for key, text in list(self._refused.items()):
            try:
                self._storage.setItem(key, text)
            except Exception:
                return
            del self._refused[key]

    def _set_problem(self, problem: str | None) -> None:
        if problem == self.problem:
            return
        self.problem = problem
        if problem is not None:
            logger.warning("%s", problem)
        if self.on_change is not None:
            self.on_change()


def wal_text(value: Any) -> str:
    """A document as log text: ASCII JSON, so every Python string survives a JS string."""
    return json.dumps(value, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
