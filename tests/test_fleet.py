"""Issue 16, a fleet in one process: 200 stations on real loopback sockets against an in-process
CSMS boot, charge and stop; a CSMS that drops every connection at once sees them come back
spread over the backoff window, with no transaction message lost; ``--ramp`` spreads the
connections of ``python -m sim --count`` at that rate. Behaviour, not timings (those are
bench/bench_fleet.py's)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fresh_loop import run_async
from test_csms_misbehaviour import Csms as MisbehaviourCsms
from websockets.asyncio.server import ServerConnection, serve

from ocpp_core import MemoryStore
from ocpp_core.events import BootAccepted
from sim.cli import run as cli_run
from sim.runtime import Runtime
from sim.settings import StationSettings
from sim.station import Station
from sim.transport.base import ConnectionState, TransportConfig, TransportListener
from sim.transport.cpython import WebsocketsTransport

FLEET = 200
SPEED = 30.0  # simulated seconds per real second: MeterValues every 60 s come every 2 s


class Csms(MisbehaviourCsms):
    """The misbehaviour tests' OCPP 1.6 CSMS (valid answers: ``answer``), recording every
    connection and each station's CALLs, and able to drop every connection at once."""

    def __init__(self) -> None:
        super().__init__()
        self.open: dict[str, ServerConnection] = {}
        self.connects: list[tuple[float, str]] = []  # (monotonic time, station id)
        self.by_station: dict[str, list[tuple[str, dict[str, Any]]]] = collections.defaultdict(list)

    async def handler(self, ws: ServerConnection) -> None:
        station = ws.request.path.rsplit("/", 1)[-1] if ws.request is not None else "?"
        self.open[station] = ws
        self.connects.append((time.monotonic(), station))
        try:
            async for text in ws:
                frame = json.loads(text)
                if frame[0] != 2:
                    continue
                _, message_id, action, payload = frame
                self.by_station[station].append((action, payload))
                reply = self.answer(message_id, action, payload)
                await ws.send(json.dumps([3, message_id, reply]))
        except Exception:
            pass
        finally:
            if self.open.get(station) is ws:
                del self.open[station]

    def count(self, action: str) -> int:
        return sum(1 for calls in self.by_station.values() for a, _ in calls if a == action)

    def stopped_once(self) -> bool:
        """Every transaction issued has exactly one StopTransaction (its message id)."""
        return len(self.start_ids) == FLEET and all(
            len(self.stop_ids.get(tid, ())) == 1 for tid in self.start_ids.values()
        )

    def drop_all(self) -> None:
        """Every connection cut at once, without a close frame (a CSMS crash, a load balancer)."""
        for ws in list(self.open.values()):
            ws.transport.abort()


async def until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def csms_server() -> AsyncIterator[tuple[Csms, str]]:
    csms = Csms()
    async with serve(
        csms.handler,
        "127.0.0.1",
        0,
        subprotocols=["ocpp1.6"],
        compression=None,  # type: ignore[list-item]
    ) as server:
        port = server.sockets[0].getsockname()[1]
        yield csms, f"ws://127.0.0.1:{port}/ocpp"


def fleet_transport(config: TransportConfig, listener: TransportListener) -> WebsocketsTransport:
    """Reconnect after 1 s shortened by up to 60 % (jitter), so the test waits little and the
    spread is easy to see; every station draws its own delays."""
    quick = dataclasses.replace(
        config, backoff_initial_s=1.0, backoff_max_s=2.0, backoff_jitter=0.6
    )
    return WebsocketsTransport(quick, listener)


@contextlib.asynccontextmanager
async def fleet(url: str, count: int) -> AsyncIterator[tuple[list[Station], Runtime]]:
    stations = [
        Station(
            StationSettings(url, charge_box_id=f"F-{n}", connectors=1),
            store=MemoryStore(),
            transport_factory=fleet_transport,
            meter_refresh_s=None,
        )
        for n in range(1, count + 1)
    ]
    runtime = Runtime(stations, speed=SPEED)
    for station in stations:
        station.set_ev_ready(1, True)
        station.plug(1)

        def present(event: object, station: Station = station) -> None:
            if isinstance(event, BootAccepted) and station.snapshot(1).id_tag is None:
                station.present_card(1, "FLEET")

        station.subscribe(present, snapshots=False)
    task = asyncio.ensure_future(runtime.run())
    try:
        for station in stations:
            station.connect()
        yield stations, runtime
    finally:
        for station in stations:
            station.disconnect()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(s.transport.wait_closed() for s in stations if s.transport)),  # type: ignore[attr-defined]
                10,
            )
        runtime.stop()
        await task


def stop_all(stations: list[Station]) -> None:
    for station in stations:
        station.present_card(1, "FLEET")


def settled(csms: Csms, stations: list[Station]) -> Callable[[], bool]:
    return lambda: (
        len(csms.stop_ids) == len(csms.start_ids)
        and all(s.queue_length == 0 and s.snapshot(1).id_tag is None for s in stations)
    )


def test_200_stations_in_one_process_boot_charge_and_stop() -> None:
    async def scenario() -> None:
        async with csms_server() as (csms, url), fleet(url, FLEET) as (stations, _):
            await until(lambda: csms.count("StartTransaction") >= FLEET)
            assert all(s.connection_state is ConnectionState.CONNECTED for s in stations)
            assert all(s.snapshot(1).status == "Charging" for s in stations)
            # A sample interval later (60 s simulated), every station reported its meter.
            await until(
                lambda: all(
                    any(a == "MeterValues" for a, _ in csms.by_station[s.settings.charge_box_id])
                    for s in stations
                )
            )
            stop_all(stations)
            await until(settled(csms, stations))
            assert csms.stopped_once()
            assert {station for _, station in csms.connects} == {
                f"F-{n}" for n in range(1, FLEET + 1)
            }
            assert len(csms.connects) == FLEET  # one connection each: nothing dropped
            for station in stations:
                actions = [a for a, _ in csms.by_station[station.settings.charge_box_id]]
                assert actions.count("BootNotification") == 1
                assert actions.index("StartTransaction") < actions.index("StopTransaction")
                stop = next(
                    p
                    for a, p in csms.by_station[station.settings.charge_box_id]
                    if a == "StopTransaction"
                )
                assert stop["meterStop"] > 0  # it charged

    run_async(scenario())


def test_a_csms_dropping_every_connection_sees_them_back_spread_and_nothing_lost() -> None:
    """Every station reconnects once, after a backoff of its own: the delays the stations chose
    (their "reconnecting in X s") spread over the jitter window, so the CSMS is not hit by one
    burst; nothing of the transactions is lost. The delays are read from the stations, not from
    arrival times, which a loaded machine bunches up."""
    delays: list[float] = []

    def note_delay(event: object) -> None:
        detail = getattr(event, "detail", "")
        found = re.search(r"reconnecting in ([0-9.]+) s", detail)
        if found:
            delays.append(float(found.group(1)))

    async def scenario() -> list[float]:
        async with csms_server() as (csms, url), fleet(url, FLEET) as (stations, _):
            await until(lambda: csms.count("StartTransaction") >= FLEET)
            await until(lambda: all(s.queue_length == 0 for s in stations))
            for station in stations:
                station.subscribe(note_delay)
            dropped_at = time.monotonic()
            before = len(csms.connects)
            csms.drop_all()
            await until(lambda: len(csms.connects) >= before + FLEET)
            await until(
                lambda: all(s.connection_state is ConnectionState.CONNECTED for s in stations)
            )
            again = [t - dropped_at for t, _ in csms.connects[before:]]
            assert len(again) == FLEET  # each station reconnected once
            assert sorted(s for _, s in csms.connects[before:]) == sorted(
                s.settings.charge_box_id for s in stations
            )
            # Meter values taken while disconnected and the stops all arrive, once each.
            stop_all(stations)
            await until(settled(csms, stations))
            assert csms.stopped_once()
            for station in stations:
                actions = [a for a, _ in csms.by_station[station.settings.charge_box_id]]
                assert actions.count("BootNotification") == 1  # a reconnect is no reboot
            return again

    again = run_async(scenario())
    assert min(again) >= 0.35, min(again)  # none came back before its backoff
    # The backoff is 1 s shortened by up to 60 %: the chosen delays spread over 0.4 .. 1.0 s.
    assert len(delays) == FLEET, len(delays)
    assert min(delays) >= 0.4 and max(delays) <= 1.0, (min(delays), max(delays))
    assert max(delays) - min(delays) >= 0.4, (min(delays), max(delays))
    buckets = collections.Counter(round(d, 1) for d in delays)
    assert max(buckets.values()) <= FLEET // 3, sorted(buckets.items())


def test_ramp_spreads_the_connections_of_a_cli_fleet() -> None:
    count, ramp = 12, 20.0

    async def scenario() -> list[float]:
        async with csms_server() as (csms, url):
            stop = asyncio.Event()
            started = time.monotonic()
            argv = ["--url", url, "--id", "R", "--count", str(count), "--ramp", str(ramp)]
            run = asyncio.ensure_future(cli_run(argv, out=_Null(), err=_Null(), stop=stop))
            await until(lambda: csms.count("BootNotification") >= count)
            stop.set()
            assert await run == 0
            return [t - started for t, _ in csms.connects]

    times = sorted(run_async(scenario()))
    assert len(times) == count
    # The k-th connection opens no earlier than k / ramp after the start (the first at once).
    for k, at in enumerate(times):
        assert at >= k / ramp - 0.02, (k, at)
    assert times[-1] - times[0] >= (count - 1) / ramp * 0.9


def test_ramp_must_be_positive() -> None:
    async def scenario() -> int:
        return await cli_run(["--count", "2", "--ramp", "0"], out=_Null(), err=_Null())

    assert run_async(scenario()) == 2


class _Null:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
