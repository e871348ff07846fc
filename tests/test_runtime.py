"""The runtime: simulated time, ticking stations when due, wake-ups, speed, virtual time."""

from __future__ import annotations

import asyncio
import time

import pytest
from station_fakes import Rig

from ocpp_core.v16.reset import SETTLE_LIMIT
from sim.runtime import SPIN_LIMIT, Runtime, VirtualClock


class Ticker:
    """A stand-in station that asks to be ticked every ``period`` seconds."""

    def __init__(self, period: float | None = 10.0) -> None:
        self.period = period
        self.ticks: list[float] = []
        self.waker = None
        self.fail = False

    def tick(self, now: float) -> float | None:
        self.ticks.append(now)
        if self.fail:
            raise RuntimeError("boom")
        return None if self.period is None else now + self.period


def test_virtual_clock_only_moves_forward() -> None:
    clock = VirtualClock(5.0)
    assert clock() == 5.0
    clock.advance(2.5)
    assert clock() == 7.5
    clock.set(10.0)
    assert clock() == 10.0
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set(9.0)


def test_simulated_time_starts_at_zero_and_runs_at_speed() -> None:
    clock = VirtualClock(1000.0)
    runtime = Runtime(clock=clock, speed=10.0)
    assert runtime.now() == 0.0
    clock.advance(1.5)
    assert runtime.now() == pytest.approx(15.0)
    runtime.speed = 1.0  # no jump when the pace changes
    assert runtime.now() == pytest.approx(15.0)
    clock.advance(1.0)
    assert runtime.now() == pytest.approx(16.0)
    for bad in (0, -1, float("inf"), float("nan"), True):
        with pytest.raises(ValueError):
            runtime.speed = bad


def test_run_for_ticks_each_station_at_the_times_it_asked_for() -> None:
    clock = VirtualClock()
    fast, slow, idle = Ticker(2.0), Ticker(5.0), Ticker(None)
    runtime = Runtime([fast, slow, idle], clock=clock)
    runtime.run_for(10.0)
    assert fast.ticks == pytest.approx([0, 2, 4, 6, 8, 10])
    assert slow.ticks == pytest.approx([0, 5, 10])
    assert idle.ticks == [0.0]
    assert runtime.now() == pytest.approx(10.0)


def test_run_for_at_speed_counts_simulated_seconds() -> None:
    clock = VirtualClock()
    ticker = Ticker(30.0)
    runtime = Runtime([ticker], clock=clock, speed=60.0)
    runtime.run_for(120.0)
    assert ticker.ticks == pytest.approx([0, 30, 60, 90, 120])
    assert clock() == pytest.approx(2.0)


def test_a_wake_ticks_the_station_at_once() -> None:
    clock = VirtualClock()
    ticker = Ticker(None)
    runtime = Runtime([ticker], clock=clock)
    runtime.run_for(5.0)
    assert ticker.ticks == [0.0]
    ticker.waker()  # what a transport or a control does
    runtime.run_for(1.0)
    assert ticker.ticks == pytest.approx([0.0, 5.0])
    runtime.wake(ticker)
    runtime.wake()
    runtime.run_for(0.0)
    assert len(ticker.ticks) == 3


def test_a_failing_station_is_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    clock = VirtualClock()
    broken, healthy = Ticker(), Ticker(1.0)
    broken.fail = True
    runtime = Runtime([broken, healthy], clock=clock)
    runtime.run_for(3.0)
    assert broken.ticks == pytest.approx([0, 1, 2, 3])
    assert healthy.ticks == pytest.approx([0, 1, 2, 3])
    assert "failed to tick" in caplog.text


def test_add_and_remove_stations() -> None:
    clock = VirtualClock()
    runtime = Runtime(clock=clock)
    ticker = Ticker(1.0)
    runtime.add(ticker)
    runtime.add(ticker)
    assert runtime.stations == (ticker,)
    runtime.run_for(1.0)
    runtime.remove(ticker)
    assert ticker.waker is None and runtime.stations == ()
    runtime.run_for(5.0)
    assert ticker.ticks == pytest.approx([0, 1])


def test_run_for_needs_a_virtual_clock() -> None:
    with pytest.raises(RuntimeError, match="VirtualClock"):
        Runtime().run_for(1.0)


def test_run_until_a_simulated_time_at_high_speed() -> None:
    ticker = Ticker(10.0)
    runtime = Runtime([ticker], speed=1000.0)
    started = time.monotonic()
    asyncio.run(runtime.run(until=100.0))
    assert time.monotonic() - started < 2.0
    assert runtime.now() >= 100.0
    gaps = [b - a for a, b in zip(ticker.ticks, ticker.ticks[1:], strict=False)]
    assert all(gap >= 10.0 - 1e-6 for gap in gaps)  # never early (timers may be a bit late)
    assert 5 <= len(ticker.ticks) <= 11


def test_stop_and_wake_while_running() -> None:
    ticker = Ticker(None)
    runtime = Runtime([ticker])

    async def scenario() -> None:
        task = asyncio.ensure_future(runtime.run())
        await asyncio.sleep(0.05)
        assert len(ticker.ticks) == 1
        ticker.waker()
        await asyncio.sleep(0.05)
        assert len(ticker.ticks) == 2  # at once, not after MAX_IDLE_S
        runtime.stop()
        await asyncio.wait_for(task, 1.0)
        with pytest.raises(RuntimeError, match="already running"):
            second = asyncio.ensure_future(runtime.run())
            third = asyncio.ensure_future(runtime.run())
            await asyncio.sleep(0)
            runtime.stop()
            await second
            await third

    asyncio.run(scenario())


def test_a_stop_before_the_run_starts_is_not_lost() -> None:
    runtime = Runtime([Ticker(None)])

    async def scenario() -> None:
        task = asyncio.ensure_future(runtime.run())
        runtime.stop()  # before the task ran at all
        await asyncio.wait_for(task, 1.0)
        # and the runtime can run again afterwards
        again = asyncio.ensure_future(runtime.run())
        await asyncio.sleep(0.01)
        assert not again.done()
        runtime.stop()
        await asyncio.wait_for(again, 1.0)

    asyncio.run(scenario())


def test_a_station_boots_under_the_async_loop() -> None:
    rig = Rig()
    runtime = Runtime([rig.station], speed=100.0)

    async def scenario() -> None:
        rig.station.connect()
        await runtime.run(until=5.0)

    asyncio.run(scenario())
    assert rig.station.engine.registration == "Accepted"
    assert rig.backend.actions()[0] == "BootNotification"


def test_a_soft_reset_with_an_unanswered_stop_transaction_does_not_spin() -> None:
    """Issue 18.1: while a Soft Reset waits (up to SETTLE_LIMIT) for a StopTransaction the CSMS
    never answers, the station asks to be ticked only when something is due, not at once forever."""
    rig = Rig().boot()
    rig.station.plug(1)
    rig.station.present_card(1, "TAG-1")
    rig.run(1.0)
    assert rig.station.snapshot(1).status == "Charging"
    rig.backend.handlers["StopTransaction"] = lambda payload: None  # never answered
    ticks: list[float] = []
    tick = rig.station.tick

    def counted(now: float) -> float | None:
        ticks.append(now)
        return tick(now)

    rig.station.tick = counted  # type: ignore[method-assign]
    rig.backend.call("Reset", {"type": "Soft"})
    rig.run(SETTLE_LIMIT - 1.0)
    assert rig.backend.actions().count("StopTransaction") >= 1
    assert not rig.of_type("StationRebooted")  # still waiting for the StopTransaction's answer
    # The Reset, its reply, the 30 s message timeout, the retry: a handful of ticks, not a spin.
    assert len(ticks) < 20, ticks
    assert max(ticks.count(t) for t in ticks) <= 2  # the Reset's arrival, then its reply
    rig.run(5.0)
    assert rig.of_type("StationRebooted")  # the wait ended at SETTLE_LIMIT: rebooted anyway


def test_a_station_that_keeps_asking_for_an_immediate_tick_is_slowed_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug like issue 18.1's costs one tick per ERROR_RETRY_S, not a core, and is logged."""

    class Spinner(Ticker):
        def tick(self, now: float) -> float | None:
            self.ticks.append(now)
            return now

    clock = VirtualClock()
    spinner, healthy = Spinner(), Ticker(1.0)
    runtime = Runtime([spinner, healthy], clock=clock)
    runtime.run_for(5.0)
    assert len(spinner.ticks) <= SPIN_LIMIT + 6
    assert spinner.ticks[-1] == pytest.approx(5.0)
    assert healthy.ticks == pytest.approx([0, 1, 2, 3, 4, 5])
    assert caplog.text.count("keeps asking to be ticked at once") == 1
    spinner.waker()  # new input: the count starts again
    runtime.run_for(0.0)
    assert spinner.ticks.count(5.0) >= SPIN_LIMIT
