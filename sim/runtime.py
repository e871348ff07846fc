"""Drives stations on a clock: real time, fast-forward (``speed``) or virtual time for tests.

The same code runs on CPython and in Pyodide: ``run`` only uses asyncio futures and
``loop.call_later``, which Pyodide's browser event loop maps to ``setTimeout``.

Simulated time (what stations see as ``now``) starts at 0 when the Runtime is created and runs
``speed`` times as fast as ``clock``. A station is ticked when the time it asked for has come, or
at once after ``wake`` (a frame arrived, a control was used); nothing polls in between, so an idle
station costs nothing and thousands fit in one process.

For tests, ``VirtualClock`` replaces the wall clock and ``run_for(seconds)`` steps the stations
deterministically, jumping from one wake-up time to the next without sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import time
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from sim.station import Station

__all__ = ["MAX_IDLE_S", "SPIN_LIMIT", "STEP_BUDGET", "Runtime", "VirtualClock"]

logger = logging.getLogger("sim.runtime")

MAX_IDLE_S = 1.0
"""The longest the loop sleeps (real seconds) before looking again, even with nothing due."""

ERROR_RETRY_S = 1.0
"""After a station's tick raised (a bug, logged), it is ticked again this much later."""

_EARLY_S = 1e-9
"""A station due this little later counts as due now (float rounding of clock arithmetic)."""

_SETTLE_ROUNDS = 10_000
"""run_for: how many rounds of immediate wake-ups at one instant count as a livelock."""

STEP_BUDGET = 64
"""At most this many stations are ticked before the loop lets the sockets run again: when many
are due at once (a fleet booting, timers that fell together), frames keep flowing meanwhile."""

SPIN_LIMIT = 100
"""A station asking this many times in a row to be ticked again at once, with nothing new in
between, has a bug: it is logged and ticked ERROR_RETRY_S later instead (no 100 % CPU)."""


class VirtualClock:
    """A clock that only moves when told: ``clock()`` reads it, ``advance`` moves it forward."""

    __slots__ = ("_now",)

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if not seconds >= 0:
            raise ValueError("a virtual clock only moves forward")
        self._now += seconds

    def set(self, now: float) -> None:
        if now < self._now:
            raise ValueError("a virtual clock only moves forward")
        self._now = float(now)


class _Entry:
    __slots__ = ("due", "queued", "spins", "station")

    def __init__(self, station: Station) -> None:
        self.station = station
        self.due: float | None = -math.inf  # tick at once when added
        self.queued = False  # in the runtime's ready queue
        self.spins = 0  # ticks in a row that asked for another at once, unprompted


class Runtime:
    """Ticks stations when they are due; ``speed`` > 1 fast-forwards simulated time.

    One timer structure for every station: a heap of (due time, entry) for the times stations
    asked for, and a queue of the stations woken (a frame arrived, a control was used). A step
    costs what is due, not the number of stations: ten thousand idle stations cost nothing, and
    a woken station is ticked before the timers due at the same moment (a CSMS waits for it).
    A heap item whose time an entry no longer has (woken, re-armed, removed) is skipped.
    """

    def __init__(
        self,
        stations: Iterable[Station] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
        speed: float = 1.0,
    ) -> None:
        _check_speed(speed)
        self._clock = clock
        self._speed = float(speed)
        self._base_clock = clock()
        self._base_now = 0.0
        self._entries: dict[int, _Entry] = {}
        self._heap: list[tuple[float, int, _Entry]] = []
        self._ready: deque[_Entry] = deque()
        self._order = itertools.count()  # ties in the heap: first armed, first ticked
        self.step_budget: int | None = STEP_BUDGET
        """The most stations one step ticks (None: every one due)."""
        self._waiter: asyncio.Future[None] | None = None
        self._woken = False
        self._stopping = False
        self._running = False
        for station in stations:
            self.add(station)

    # ------------------------------------------------------------------ time

    def now(self) -> float:
        """Simulated seconds since the runtime was created."""
        return self._base_now + (self._clock() - self._base_clock) * self._speed

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, speed: float) -> None:
        """Change the pace from now on (simulated time does not jump)."""
        _check_speed(speed)
        self._base_now, self._base_clock = self.now(), self._clock()
        self._speed = float(speed)
        self.wake()

    # ------------------------------------------------------------------ stations

    @property
    def stations(self) -> tuple[Station, ...]:
        return tuple(entry.station for entry in self._entries.values())

    def add(self, station: Station) -> None:
        """Drive ``station`` too (it is ticked at once)."""
        key = id(station)
        if key in self._entries:
            return
        self._entries[key] = entry = _Entry(station)

        def wake() -> None:
            self._wake_entry(entry)
            self._poke()

        station.waker = wake
        self._enqueue(entry)
        self._poke()

    def remove(self, station: Station) -> None:
        """Stop driving ``station`` (it is not disconnected)."""
        entry = self._entries.pop(id(station), None)
        if entry is not None:
            entry.due = None  # its heap item and queue place are skipped from now on
            station.waker = None

    def wake(self, station: Station | None = None) -> None:
        """Tick ``station`` (every station when None) as soon as possible."""
        if station is None:
            for entry in self._entries.values():
                self._wake_entry(entry)
        else:
            found = self._entries.get(id(station))
            if found is not None:
                self._wake_entry(found)
        self._poke()

    def _wake_entry(self, entry: _Entry) -> None:
        entry.due = -math.inf
        entry.spins = 0
        self._enqueue(entry)

    def _enqueue(self, entry: _Entry) -> None:
        if not entry.queued:
            entry.queued = True
            self._ready.append(entry)

    def _arm(self, entry: _Entry, due: float | None) -> None:
        """Set the entry's next due time (None: only when woken)."""
        entry.due = due
        if due is None:
            return
        if due == -math.inf:
            self._enqueue(entry)
        else:
            heapq.heappush(self._heap, (due, next(self._order), entry))

    def _poke(self) -> None:
        self._woken = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def stop(self) -> None:
        """Make ``run`` return after the current round."""
        self._stopping = True
        self._poke()

    # ------------------------------------------------------------------ stepping

    def step(self) -> float | None:
        """Tick the stations due now (the woken first, at most ``step_budget`` of them); return
        the earliest next due time (or None: nothing armed), ``-inf`` when some are waiting."""
        now = self.now()
        self._woken = False
        limit = now + _EARLY_S
        due = self._take_due(limit, self.step_budget)
        for entry in due:
            if self._entries.get(id(entry.station)) is not entry:
                continue  # removed meanwhile
            entry.due = None
            try:
                wake = entry.station.tick(now)
            except Exception:
                logger.exception("station %r failed to tick", entry.station)
                wake = now + ERROR_RETRY_S
            # A wake() during the tick (due = -inf, queued again) wins over the time returned.
            if entry.due is None:
                self._arm(entry, self._unspun(entry, wake, now))
            elif wake is not None and entry.due != -math.inf:
                self._arm(entry, min(entry.due, wake))
        return self._earliest()

    def _take_due(self, limit: float, budget: int | None) -> list[_Entry]:
        """The entries to tick now: the queue of woken ones as it stands, then the timers due."""
        taken: list[_Entry] = []
        ready = self._ready
        for _ in range(len(ready)):
            if budget is not None and len(taken) >= budget:
                break
            entry = ready.popleft()
            entry.queued = False
            if entry.due == -math.inf:
                taken.append(entry)
        heap = self._heap
        while heap and heap[0][0] <= limit and (budget is None or len(taken) < budget):
            due, _, entry = heapq.heappop(heap)
            if entry.due == due:
                entry.due = -math.inf  # taken: a second item for the same time is stale now
                taken.append(entry)
        return taken

    @staticmethod
    def _unspun(entry: _Entry, wake: float | None, now: float) -> float | None:
        """``wake``, unless the station keeps asking for an immediate tick with nothing new."""
        if wake is None or wake > now + _EARLY_S:
            entry.spins = 0
            return wake
        entry.spins += 1
        if entry.spins < SPIN_LIMIT:
            return wake
        if entry.spins == SPIN_LIMIT:
            logger.warning(
                "station %r keeps asking to be ticked at once; ticking it every %.0f s",
                entry.station,
                ERROR_RETRY_S,
            )
        return now + ERROR_RETRY_S

    def _earliest(self) -> float | None:
        if self._ready:
            return -math.inf
        heap = self._heap
        while heap and heap[0][2].due != heap[0][0]:
            heapq.heappop(heap)  # stale
        return heap[0][0] if heap else None

    async def run(self, until: float | None = None) -> None:
        """Tick stations as they come due until ``stop`` or until simulated time ``until``."""
        if self._running:
            raise RuntimeError("the runtime is already running")
        loop = asyncio.get_running_loop()
        self._running = True
        try:
            while not self._stopping:
                earliest = self.step()
                now = self.now()
                if until is not None and now >= until:
                    return
                target = earliest if until is None else min(until, earliest or math.inf)
                if self._woken:
                    delay = 0.0
                elif target is None or target == math.inf:
                    delay = MAX_IDLE_S
                else:
                    delay = min(max(target - now, 0.0) / self._speed, MAX_IDLE_S)
                await self._sleep(loop, delay)
        finally:
            # Reset here, not at the start: a stop() before the task first ran still counts.
            self._running = False
            self._stopping = False
            self._waiter = None

    async def _sleep(self, loop: asyncio.AbstractEventLoop, delay: float) -> None:
        if delay <= 0:
            await asyncio.sleep(0)  # let transports run
            return
        waiter = self._waiter = loop.create_future()
        handle = loop.call_later(delay, _settle, waiter)
        try:
            await waiter
        finally:
            handle.cancel()
            self._waiter = None

    def run_for(self, seconds: float) -> None:
        """Virtual time only: move the clock ``seconds`` (simulated) forward, ticking every
        station at each time it asked for, without sleeping (deterministic)."""
        clock = self._clock
        if not isinstance(clock, VirtualClock):
            raise RuntimeError("run_for needs a Runtime on a VirtualClock")
        if self._running:
            raise RuntimeError("run_for cannot be used while run() is running")
        end = self.now() + seconds
        while True:
            earliest = self._settle()
            if earliest is None or earliest > end:
                break
            self._move_clock_to(clock, earliest)
        self._move_clock_to(clock, end)
        self._settle()

    def _move_clock_to(self, clock: VirtualClock, now: float) -> None:
        target = self._base_clock + (now - self._base_now) / self._speed
        if target > clock():
            clock.set(target)

    def _settle(self) -> float | None:
        """Tick until no station is due at the current instant; the next due time after it."""
        for _ in range(_SETTLE_ROUNDS):
            earliest = self.step()
            if earliest is None or earliest > self.now() + _EARLY_S:
                return earliest
        raise RuntimeError("stations keep asking to be ticked at the same instant")


def _settle(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _check_speed(speed: float) -> None:
    if isinstance(speed, bool) or not isinstance(speed, (int, float)):
        raise ValueError("speed must be a number")
    if not (math.isfinite(speed) and speed > 0):
        raise ValueError("speed must be a positive number")
