"""A Station with the websockets transport against the demo CSMS over real loopback sockets:
a session step by step, the CSMS going away mid-session, the offline switch and a Reset."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ocpp.v16 import call as v16_call

from devtools.server import DevServer
from ocpp_core import MemoryStore
from sim.runtime import Runtime
from sim.settings import StationSettings
from sim.station import Station
from sim.transport.base import ConnectionState, TransportConfig, TransportListener
from sim.transport.cpython import WebsocketsTransport


def fast_transport(config: TransportConfig, listener: TransportListener) -> WebsocketsTransport:
    """Reconnect within a fraction of a second, so the tests do not wait for the backoff."""
    quick = dataclasses.replace(
        config, backoff_initial_s=0.05, backoff_max_s=0.2, backoff_jitter=0.0
    )
    return WebsocketsTransport(quick, listener)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


@asynccontextmanager
async def running(
    server: DevServer, station_id: str, *, speed: float = 20.0, **settings: Any
) -> AsyncIterator[tuple[Station, Runtime]]:
    station = Station(
        StationSettings(server.csms_url, charge_box_id=station_id, **settings),
        store=MemoryStore(),
        transport_factory=fast_transport,
    )
    runtime = Runtime([station], speed=speed)
    task = asyncio.ensure_future(runtime.run())
    try:
        station.connect()
        yield station, runtime
    finally:
        station.disconnect()
        transport = station.transport
        if isinstance(transport, WebsocketsTransport):
            await asyncio.wait_for(transport.wait_closed(), 5)
        runtime.stop()
        await task


def run(tmp_path: Path, scenario: Callable[[Path], Awaitable[None]]) -> None:
    asyncio.run(scenario(tmp_path))


def received(server: DevServer, station_id: str, action: str) -> list[dict]:
    state = server.csms.station(station_id)
    found = []
    for direction, text in [] if state is None else state.frames:
        frame = json.loads(text)
        if direction == "recv" and frame[0] == 2 and frame[2] == action:
            found.append(frame[3])
    return found


async def booted(server: DevServer, station_id: str, connectors: int = 2) -> None:
    await server.csms.wait_for(
        lambda: (
            (s := server.csms.station(station_id)) is not None
            and len(s.connector_status) == connectors + 1
        ),
        timeout=10,
    )


def test_plug_card_charging_meter_values_card_again(tmp_path: Path) -> None:
    """Step by step through the Station API, because the CLI has no interactive commands (plug,
    card, unplug); the CLI's own session is test_cli.py::test_a_whole_session_runs_unattended."""

    async def scenario(tmp: Path) -> None:
        async with DevServer(tmp, port=0) as server, running(server, "STEP") as (station, _):
            csms = server.csms
            await booted(server, "STEP")
            state = csms.station("STEP")
            answer = await csms.call(
                "STEP", v16_call.ChangeConfiguration(key="MeterValueSampleInterval", value="10")
            )
            assert answer.status == "Accepted"
            station.plug(1)
            await csms.wait_for(lambda: state.connector_status[(0, 1)] == "Preparing")
            station.present_card(1, "STEP-CARD")
            await csms.wait_for(lambda: state.connector_status[(0, 1)] == "Charging")
            await csms.wait_for(lambda: len(state.transactions) == 1)
            (transaction,) = state.transactions.values()
            assert transaction.id_token == "STEP-CARD"
            await csms.wait_for(lambda: len(received(server, "STEP", "MeterValues")) >= 3)
            registers = [
                float(p["meterValue"][0]["sampledValue"][0]["value"])
                for p in received(server, "STEP", "MeterValues")
            ]
            assert registers == sorted(registers) and registers[-1] > registers[0] > 0
            station.present_card(1, "STEP-CARD")
            await csms.wait_for(lambda: not transaction.active)
            assert transaction.stop_reason == "Local"
            assert transaction.meter_stop >= math.floor(registers[-1])  # meterStop is in Wh
            await csms.wait_for(lambda: state.connector_status[(0, 1)] == "Finishing")
            station.unplug(1)
            await csms.wait_for(lambda: state.connector_status[(0, 1)] == "Available")

    run(tmp_path, scenario)


async def delivered_once_back(
    tmp: Path, port: int, station: Any, cb_id: str, actions: tuple[str, ...]
) -> tuple[list[tuple[str, dict]], Any]:
    """The CSMS comes back on the same address: once the station's queue is empty, the CALLs
    of ``actions`` it received, in order, as (action, payload), and its record of the station."""
    second = DevServer(tmp, port=port)
    await second.start()
    try:
        await until(lambda: station.engine.queue_length() == 0)
        state = second.csms.station(cb_id)
        delivered = [
            (frame[2], frame[3])
            for direction, text in state.frames
            if direction == "recv" and (frame := json.loads(text))[0] == 2 and frame[2] in actions
        ]
    finally:
        await second.close()
    return delivered, state


def test_the_csms_goes_away_mid_session_and_queued_messages_arrive_in_order(
    tmp_path: Path,
) -> None:
    port = free_port()

    async def scenario(tmp: Path) -> None:
        first = DevServer(tmp, port=port)
        await first.start()
        async with running(first, "AWAY") as (station, _):
            await booted(first, "AWAY")
            await first.csms.call(
                "AWAY", v16_call.ChangeConfiguration(key="MeterValueSampleInterval", value="10")
            )
            station.plug(1)
            station.present_card(1, "AWAY-CARD")
            state = first.csms.station("AWAY")
            await first.csms.wait_for(lambda: len(state.active_transactions()) == 1)
            (transaction,) = state.transactions.values()
            await first.close()  # the CSMS goes away mid-session
            await until(lambda: station.connection_state is not ConnectionState.CONNECTED)
            await until(lambda: station.engine.queue_length() >= 3)  # samples pile up
            station.present_card(1, "AWAY-CARD")  # and the session ends while offline
            await until(lambda: station.snapshot(1).status == "Finishing")
            queued = station.engine.queue_length()
            delivered, _ = await delivered_once_back(
                tmp, port, station, "AWAY", ("MeterValues", "StopTransaction")
            )
        actions = [action for action, _ in delivered]
        assert len(actions) == queued
        assert actions[-1] == "StopTransaction" and set(actions[:-1]) == {"MeterValues"}
        stamps = [p["meterValue"][0]["timestamp"] for _, p in delivered[:-1]]
        stamps.append(delivered[-1][1]["timestamp"])
        assert stamps == sorted(stamps)
        for _, payload in delivered:
            assert payload["transactionId"] == transaction.transaction_id
        assert delivered[-1][1]["reason"] == "Local"

    run(tmp_path, scenario)


def test_a_session_started_while_the_csms_is_away_is_delivered_in_order(
    tmp_path: Path,
) -> None:
    """The whole session happens offline: StartTransaction, its MeterValues and StopTransaction
    wait in the queue, arrive in order once the CSMS is back, and the MeterValues and the Stop
    carry the transactionId the CSMS assigned only then."""
    port = free_port()

    async def scenario(tmp: Path) -> tuple[list[tuple[str, dict]], int, Any]:
        first = DevServer(tmp, port=port)
        await first.start()
        async with running(first, "LATE") as (station, _):
            await booted(first, "LATE")
            for key, value in (("MeterValueSampleInterval", "10"),
                               ("AllowOfflineTxForUnknownId", "true")):  # fmt: skip
                answer = await first.csms.call("LATE", v16_call.ChangeConfiguration(key, value))
                assert answer.status == "Accepted"
            await first.close()  # the CSMS goes away before the session
            await until(lambda: station.connection_state is not ConnectionState.CONNECTED)
            station.plug(1)
            station.present_card(1, "LATE-CARD")  # unknown card, offline: allowed by the key
            await until(lambda: station.snapshot(1).status == "Charging")
            await until(lambda: station.engine.queue_length() >= 4)  # Start + samples
            station.present_card(1, "LATE-CARD")
            await until(lambda: station.snapshot(1).status == "Finishing")
            queued = station.engine.queue_length()
            delivered, state = await delivered_once_back(
                tmp, port, station, "LATE", ("StartTransaction", "MeterValues", "StopTransaction")
            )
            (transaction,) = state.transactions.values()
        return delivered, queued, transaction

    delivered, queued, transaction = asyncio.run(scenario(tmp_path))
    actions = [action for action, _ in delivered]
    assert len(actions) == queued >= 4
    assert actions[0] == "StartTransaction" and actions[-1] == "StopTransaction"
    assert set(actions[1:-1]) == {"MeterValues"}
    start, stop = delivered[0][1], delivered[-1][1]
    stamps = [start["timestamp"]]
    stamps += [p["meterValue"][0]["timestamp"] for _, p in delivered[1:-1]]
    stamps.append(stop["timestamp"])
    assert stamps == sorted(stamps) and stamps[0] < stamps[-1]
    assert start["idTag"] == "LATE-CARD" and transaction.id_token == "LATE-CARD"
    for _, payload in delivered[1:]:
        assert payload["transactionId"] == transaction.transaction_id
    registers = [float(p["meterValue"][0]["sampledValue"][0]["value"]) for _, p in delivered[1:-1]]
    assert start["meterStart"] <= registers[0] and registers == sorted(registers)
    assert stop["meterStop"] >= math.floor(registers[-1])  # meterStop is in Wh
    assert stop["reason"] == "Local" and transaction.stop_reason == "Local"
    assert not transaction.active


def test_the_offline_switch_closes_and_reconnects(tmp_path: Path) -> None:
    async def scenario(tmp: Path) -> None:
        async with DevServer(tmp, port=0) as server, running(server, "CABLE") as (station, _):
            await booted(server, "CABLE")
            state = server.csms.station("CABLE")
            station.set_offline(True)
            await server.csms.wait_for(lambda: not state.connected)
            assert station.connection_state is ConnectionState.OFFLINE
            station.plug(2)
            await asyncio.sleep(0.2)
            assert state.connector_status[(0, 2)] == "Available"
            station.set_offline(False)
            await server.csms.wait_for(lambda: state.connector_status[(0, 2)] == "Preparing")
            assert state.connected and state.boot_count == 1

    run(tmp_path, scenario)


def test_a_reset_from_the_csms_reboots_and_boots_again(tmp_path: Path) -> None:
    async def scenario(tmp: Path) -> None:
        async with DevServer(tmp, port=0) as server, running(server, "BOOT") as (station, _):
            await booted(server, "BOOT")
            first = station.engine
            answer = await server.csms.call("BOOT", v16_call.Reset(type="Hard"))
            assert answer.status == "Accepted"
            state = server.csms.station("BOOT")
            await server.csms.wait_for(lambda: state.boot_count == 2 and state.connected)
            assert station.engine is not first
            await until(lambda: station.engine.registration == "Accepted")

    run(tmp_path, scenario)
