"""Where the Control Center keeps the station's Store: IndexedDB with a localStorage log, or
memory when another tab holds the storage (browser only)."""

from __future__ import annotations

import logging
from typing import Any

import js

from ocpp_core import MemoryStore
from sim.browser_store import open_browser_storage

__all__ = ["MemoryStorage", "describe_storage", "open_storage"]

logger = logging.getLogger("control_center")

STORE_LOCK = "ocpp-sim-store"
STORE_LOCK_WAIT_MS = 4000


class MemoryStorage:
    """Fallback when IndexedDB cannot be used by this tab: nothing survives a reload."""

    persistent = False
    settled = True  # nothing is ever waiting to be written
    wal = None
    on_problem = None

    def __init__(self, problem: str) -> None:
        self.problem = problem
        self._stores: dict[str, MemoryStore] = {}

    def stats(self) -> dict[str, Any]:
        return {"settled": True, "problem": None}

    def station_store(self, charge_box_id: str) -> MemoryStore:
        return self._stores.setdefault(charge_box_id, MemoryStore())

    async def flush(self) -> None:
        return None


async def open_storage() -> Any:
    """The browser storage of this tab, once it holds the storage lock (else memory)."""
    held = await js.ocppSimInternals.storeLock(STORE_LOCK, STORE_LOCK_WAIT_MS)
    if not held:
        return MemoryStorage(
            "another tab of the simulator uses the browser storage; this tab keeps its station"
            " state in memory only"
        )
    try:
        wal_storage = js.localStorage
        int(wal_storage.length)  # raises when storage is blocked: IndexedDB alone
    except Exception as exc:
        logger.warning("localStorage is not available for the write-ahead log: %s", exc)
        wal_storage = None
    return await open_browser_storage(wal_storage=wal_storage)


def describe_storage(storage: Any) -> str:
    """The line the page shows about its storage."""
    if storage.persistent and storage.problem is None and storage.wal is not None:
        return "Browser storage: localStorage log + IndexedDB (every change survives a reload)"
    if storage.persistent and storage.problem is None:
        return (
            "Browser storage: IndexedDB only (localStorage is blocked: a reload within"
            " milliseconds of a change can lose it)"
        )
    return f"Browser storage: {storage.problem}"
