"""Issue 11: a misbehaving CSMS over real sockets (the websockets transport, a websockets server in
the test): one that never answers, answers after the timeout, closes mid-frame and mid-session,
floods 10,000 CALLs or sends a 10 MB frame. The station stays responsive (answers a later CALL),
its memory stays bounded and its transaction queue intact: once the CSMS behaves, every
transaction it was given ends with exactly one StopTransaction and nothing is left queued.

The CSMS recognises a repeated StartTransaction by its message id (the journal re-sends under
the original id) and answers the transactionId it gave the first time.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from ocpp_core import FileStore, FrameLogged
from sim.events import ConnectionChanged
from sim.runtime import Runtime
from sim.settings import StationSettings
from sim.station import Station
from sim.transport.base import ConnectionState
from sim.transport.cpython import WebsocketsTransport

TX_ACTIONS = ("StartTransaction", "StopTransaction", "MeterValues")
KEYS = [
    "AuthorizeRemoteTxRequests", "ClockAlignedDataInterval", "ConnectionTimeOut",
    "HeartbeatInterval", "LocalAuthorizeOffline", "LocalPreAuthorize", "MessageTimeout",
    "MeterValueSampleInterval", "MeterValuesSampledData", "NumberOfConnectors",
    "StopTransactionOnEVSideDisconnect", "TransactionMessageAttempts",
]  # fmt: skip
"""GetConfiguration for these is answered with about 900 bytes."""
TIMEOUT_S = 1  # MessageTimeout for these tests (the key's minimum)
Policy = Callable[[ServerConnection, str, str, dict[str, Any]], Awaitable[bool]]


class Csms:
    """A websockets OCPP 1.6 CSMS: valid answers by default; ``policy`` may take a CALL over
    (return True: it answered or chose not to)."""

    def __init__(self) -> None:
        self.policy: Policy | None = None
        self.connections: list[ServerConnection] = []
        self.calls: list[tuple[str, str, dict[str, Any]]] = []  # (message id, action, payload)
        self.replies: dict[str, list[Any]] = {}
        self.reply_counts: collections.Counter[str] = collections.Counter()
        self.tids = itertools.count(1)
        self.start_ids: dict[str, int] = {}
        self.stop_ids: dict[int, set[str]] = collections.defaultdict(set)
        self.changed = asyncio.Event()

    @property
    def live(self) -> ServerConnection | None:
        return self.connections[-1] if self.connections else None

    async def handler(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        self._poke()
        try:
            async for text in ws:
                frame = json.loads(text)
                if frame[0] != 2:
                    self.replies[frame[1]] = frame
                    self.reply_counts[frame[1]] += 1
                    self._poke()
                    continue
                _, message_id, action, payload = frame
                self.calls.append((message_id, action, payload))
                self._poke()
                if self.policy is not None and await self.policy(ws, message_id, action, payload):
                    continue
                await ws.send(json.dumps([3, message_id, self.answer(message_id, action, payload)]))
        except ConnectionClosed:
            pass
        finally:
            self._poke()

    def answer(self, message_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        if action == "BootNotification":
            return {"status": "Accepted", "currentTime": _now(), "interval": 300}
        if action == "Heartbeat":
            return {"currentTime": _now()}
        if action == "Authorize":
            return {"idTagInfo": {"status": "Accepted"}}
        if action == "StartTransaction":
            tid = self.start_ids.get(message_id)
            if tid is None:
                tid = self.start_ids[message_id] = next(self.tids)
            return {"transactionId": tid, "idTagInfo": {"status": "Accepted"}}
        if action == "StopTransaction":
            self.stop_ids[payload["transactionId"]].add(message_id)
        return {}

    def _poke(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), 0.05)

    async def call(self, action: str, payload: dict[str, Any], timeout: float = 5.0) -> list[Any]:
        """Send a CALL on the live connection; the station's reply."""
        message_id = f"csms-{time.monotonic_ns()}"
        ws = self.live
        assert ws is not None
        await ws.send(json.dumps([2, message_id, action, payload]))
        await self.wait_for(lambda: message_id in self.replies, timeout)
        return self.replies[message_id]

    def seen(self, action: str) -> list[tuple[str, dict[str, Any]]]:
        return [(mid, p) for mid, a, p in self.calls if a == action]

    def transaction_problems(self) -> list[str]:
        """Every transactionId issued ends with exactly one StopTransaction."""
        problems = []
        for tid in sorted(set(self.start_ids.values())):
            stops = self.stop_ids.get(tid, set())
            if len(stops) != 1:
                problems.append(f"transaction {tid}: {len(stops)} StopTransactions")
        return problems


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Harness:
    def __init__(self, csms: Csms, station: Station, runtime: Runtime) -> None:
        self.csms, self.station, self.runtime = csms, station, runtime
        self.ticks = 0
        self.largest_inbox = 0  # frames received, not yet taken in by a tick
        self.largest_outbox = 0  # frames handed to the transport, not yet written

    def sample(self) -> None:
        transport = self.station.transport
        outbox = getattr(transport, "_outbox", None)
        self.largest_inbox = max(self.largest_inbox, len(self.station._link.inbox))
        if outbox is not None:
            self.largest_outbox = max(self.largest_outbox, outbox.qsize())

    async def booted(self) -> None:
        await self.csms.wait_for(lambda: self.station.engine.registration == "Accepted")
        await self.csms.wait_for(lambda: len(self.csms.seen("StatusNotification")) >= 2)

    async def session(self) -> None:
        """Plug in and present a card: a StartTransaction is on its way."""
        station = self.station
        station.set_ev_ready(1, True)
        station.plug(1)
        station.present_card(1, "CARD-1")
        await self.csms.wait_for(lambda: bool(self.csms.seen("StartTransaction")))

    async def responsive(self) -> None:
        """The station answers a CALL at once and its runtime still ticks."""
        before = self.ticks
        reply = await self.csms.call("GetConfiguration", {"key": ["HeartbeatInterval"]})
        assert reply[0] == 3 and reply[2]["configurationKey"][0]["key"] == "HeartbeatInterval"
        assert self.ticks > before

    async def settled(self, timeout: float = 20.0) -> None:
        """Every transaction stopped, answered, nothing queued."""
        station = self.station
        station.unplug(1)
        await self.csms.wait_for(
            lambda: (
                station.engine.queue_length() == 0
                and station.engine.transaction(1) is None
                and bool(self.csms.stop_ids)
            ),
            timeout,
        )
        assert self.csms.transaction_problems() == []


@contextlib.asynccontextmanager
async def running(tmp_path: Path, csms: Csms, *, speed: float = 1.0) -> AsyncIterator[Harness]:
    async with serve(csms.handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
        port = server.sockets[0].getsockname()[1]
        settings = StationSettings(
            f"ws://127.0.0.1:{port}/ocpp", charge_box_id="MISBEHAVE-1", connectors=1
        )
        station = Station(
            settings,
            store=FileStore(tmp_path / "store"),
            transport_factory=WebsocketsTransport,
            config_defaults={
                "MessageTimeout": str(TIMEOUT_S),
                "TransactionMessageRetryInterval": "2",
                "MeterValueSampleInterval": "0",
            },
        )
        runtime = Runtime([station], speed=speed)
        harness = Harness(csms, station, runtime)
        tick = station.tick

        def counted(now: float) -> float | None:
            harness.ticks += 1
            harness.sample()
            wake = tick(now)
            harness.sample()
            return wake

        station.tick = counted  # type: ignore[method-assign]
        task = asyncio.ensure_future(runtime.run())
        station.connect()
        try:
            yield harness
            assert not task.done(), task  # the runtime never died
        finally:
            station.disconnect()
            transport = station.transport
            if transport is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(transport.wait_closed(), 5)  # type: ignore[attr-defined]
            runtime.stop()
            await task


def test_a_csms_that_never_answers_transaction_messages(tmp_path: Path) -> None:
    csms = Csms()
    silent = True

    async def policy(ws: ServerConnection, mid: str, action: str, payload: Any) -> bool:
        return silent and action in TX_ACTIONS

    csms.policy = policy

    async def scenario() -> None:
        nonlocal silent
        async with running(tmp_path, csms) as h:
            await h.booted()
            await h.session()
            # Unanswered for several MessageTimeouts: retried, and the station still answers.
            await asyncio.sleep(TIMEOUT_S * 3.5)
            await h.responsive()
            assert h.station.engine.queue_length() >= 1
            silent = False
            await csms.wait_for(lambda: bool(csms.start_ids), 10)
            await h.responsive()
            await h.settled()
            starts = csms.seen("StartTransaction")
            assert len({mid for mid, _ in starts}) == 1, "the Start was re-sent under new ids"

    asyncio.run(scenario())


def test_a_csms_that_answers_after_the_timeout(tmp_path: Path) -> None:
    """Each transaction message is answered 1.5 MessageTimeouts late: the late answer completes
    it (or the re-send under the same id is recognised); no transaction is orphaned."""
    csms = Csms()
    answering: set[asyncio.Task[None]] = set()

    async def policy(ws: ServerConnection, mid: str, action: str, payload: Any) -> bool:
        if action not in TX_ACTIONS:
            return False

        async def late() -> None:
            await asyncio.sleep(TIMEOUT_S * 1.5)
            with contextlib.suppress(ConnectionClosed):
                await ws.send(json.dumps([3, mid, csms.answer(mid, action, payload)]))

        task = asyncio.ensure_future(late())
        answering.add(task)
        task.add_done_callback(answering.discard)
        return True

    csms.policy = policy

    async def scenario() -> None:
        async with running(tmp_path, csms) as h:
            await h.booted()
            await h.session()
            await csms.wait_for(lambda: h.station.engine.transaction(1) is not None
                                and h.station.engine.transaction(1).transaction_id is not None,
                                15)  # fmt: skip
            await h.responsive()
            await h.settled(30)
            starts = csms.seen("StartTransaction")
            assert len(set(csms.start_ids.values())) == 1, (
                f"{len(starts)} StartTransactions opened {len(csms.start_ids)} transactions"
            )

    asyncio.run(scenario())


def test_a_csms_that_closes_mid_frame_and_mid_session(tmp_path: Path) -> None:
    """1st connection: at the StartTransaction the CSMS writes half a WebSocket frame and drops
    the TCP connection; 2nd: it closes with 1011 at the (re-sent) StartTransaction; 3rd: fine."""
    csms = Csms()
    cuts = 0

    async def policy(ws: ServerConnection, mid: str, action: str, payload: Any) -> bool:
        nonlocal cuts
        if action != "StartTransaction" or cuts >= 2:
            return False
        cuts += 1
        if cuts == 1:
            assert ws.transport is not None
            ws.transport.write(b"\x81\x7e\x01\x00" + b'[3,"' + mid.encode()[:10])  # 256 announced
            ws.transport.abort()
        else:
            await ws.close(1011, "internal error")
        return True

    csms.policy = policy

    async def scenario() -> None:
        async with running(tmp_path, csms, speed=1.0) as h:
            await h.booted()
            await h.session()
            await csms.wait_for(lambda: len(csms.connections) >= 3 and bool(csms.start_ids), 20)
            await h.responsive()
            await h.settled()
            assert len({mid for mid, _ in csms.seen("StartTransaction")}) == 1
            assert len(csms.start_ids) == 1

    asyncio.run(scenario())


@pytest.mark.parametrize("reading", [True, False], ids=["csms-reads", "csms-stops-reading"])
def test_a_flood_of_10000_calls_is_answered_with_bounded_memory(
    tmp_path: Path, report_counts: Callable[[str], None], reading: bool
) -> None:
    """10,000 GetConfiguration CALLs (each answer about 900 bytes) as fast as the socket takes them;
    the CSMS reads the answers meanwhile, or stops reading until the flood is over. The
    station's queues stay short (it stops reading while its answers cannot leave) and every
    CALL gets exactly one answer."""
    csms = Csms()
    count = 10_000
    release = asyncio.Event()
    if reading:
        release.set()

    async def policy(ws: ServerConnection, mid: str, action: str, payload: Any) -> bool:
        if action == "Heartbeat":
            await release.wait()  # this connection's handler reads nothing meanwhile
        return False

    csms.policy = policy

    async def scenario() -> Harness:
        async with running(tmp_path, csms) as h:
            await h.booted()
            await h.session()
            await csms.wait_for(lambda: bool(csms.start_ids))
            ws = csms.live
            assert ws is not None
            if not reading:
                # Small socket buffers, so that the answers fill them within 10,000 CALLs.
                _shrink(ws.transport, socket.SO_RCVBUF)
                client = h.station.transport._ws  # type: ignore[union-attr]
                _shrink(client.transport, socket.SO_SNDBUF)
            trigger = {"requestedMessage": "Heartbeat"}
            await ws.send(json.dumps([2, "stall", "TriggerMessage", trigger]))
            for n in range(count):
                await ws.send(json.dumps([2, f"f{n}", "GetConfiguration", {"key": KEYS}]))
            if not reading:
                await _until_idle(h, count)  # all answered, or the station stopped reading
            if not reading:
                assert csms.seen("Heartbeat") and "f0" not in csms.replies  # not read yet
            release.set()
            await csms.wait_for(lambda: f"f{count - 1}" in csms.replies, 90)  # answered in order
            assert all(csms.reply_counts[f"f{n}"] == 1 for n in range(count))
            assert all(csms.replies[f"f{n}"][0] == 3 for n in range(count))
            await h.responsive()
            await h.settled()
            return h

    started = time.monotonic()
    h = asyncio.run(scenario())
    report_counts(
        f"flood ({'read' if reading else 'not read'}): {count} CALLs answered once each;"
        f" largest station inbox {h.largest_inbox}, largest transport queue {h.largest_outbox};"
        f" {h.ticks} ticks, {time.monotonic() - started:.1f} s"
    )
    assert h.largest_inbox < count // 10  # read as fast as it is processed, not all buffered
    assert h.largest_outbox < count // 10  # answers that cannot leave stop the reading


async def _until_idle(h: Harness, count: int) -> None:
    """Until the station has taken in ``count`` frames or its ticks stop for half a second."""
    last = -1
    async with asyncio.timeout(30):
        while h.ticks != last and h.ticks < count:
            last = h.ticks
            await asyncio.sleep(0.5)


def _shrink(transport: Any, option: int) -> None:
    sock = transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, option, 16384)


def test_a_10_mb_frame_closes_with_a_clear_error_and_the_station_reconnects(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, report_counts: Callable[[str], None]
) -> None:
    csms = Csms()

    async def scenario() -> tuple[int, list[str]]:
        async with running(tmp_path, csms) as h:
            details: list[str] = []
            largest = 0

            def watch(event: object) -> None:
                nonlocal largest
                if isinstance(event, ConnectionChanged):
                    details.append(event.detail)
                elif isinstance(event, FrameLogged):
                    largest = max(largest, len(event.text))

            h.station.subscribe(watch)
            await h.booted()
            await h.session()
            await csms.wait_for(lambda: bool(csms.start_ids))
            ws = csms.live
            assert ws is not None
            text = json.dumps([2, "huge", "DataTransfer", {"vendorId": "big", "data": "x" * 10**7}])
            with contextlib.suppress(ConnectionClosed):
                await ws.send(text)
            del text
            await csms.wait_for(lambda: len(csms.connections) >= 2, 15)
            await csms.wait_for(lambda: h.station.connection_state is ConnectionState.CONNECTED, 15)
            assert "huge" not in csms.replies  # never processed: no reply at all
            await h.responsive()
            await h.settled()
            return largest, details

    with caplog.at_level(logging.WARNING, logger="sim.transport"):
        largest, details = asyncio.run(scenario())
    closing = [d for d in details if "1009" in d and "too big" in d]
    report_counts(f"10 MB frame: largest frame the station took in {largest} B; {closing}")
    assert closing, details
    assert "message too big" in caplog.text, caplog.text  # a warning, not only a state line
    assert largest < 2**20  # the frame never reached the engine (nor memory held for it)
