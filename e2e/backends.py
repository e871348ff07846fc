"""Servers the end-to-end tests run in-process, on one asyncio loop in a background thread.

The subprocess dev server (conftest ``servers``) proves `python -m devtools.server`; tests that
must look inside the CSMS (transactions it recorded) or need a special backend (Basic auth, an
echo server that accepts any path, a hostile CSMS) use these instead. Everything listens on
127.0.0.1 with a free port.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from websockets.asyncio.server import Server, ServerConnection, serve

from devtools.demo_csms import CsmsOptions
from devtools.registry import StationState
from devtools.server import DevServer

T = TypeVar("T")


class LoopThread:
    """An asyncio loop in a daemon thread; ``run`` executes a coroutine there and waits."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name="e2e-servers", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def call(self, function: Callable[[], T], timeout: float = 30.0) -> T:
        """Run a plain function on the loop (safe access to server state)."""

        async def wrapper() -> T:
            return function()

        return self.run(wrapper(), timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


class InProcessCsms:
    """A DevServer (page + demo CSMS + echo) whose registry the test can read."""

    def __init__(self, loop: LoopThread, dist: Path, options: CsmsOptions | None = None) -> None:
        self.loop = loop
        self.server = DevServer(dist, "127.0.0.1", 0, csms_options=options)
        loop.run(self.server.start())

    @property
    def page(self) -> str:
        return self.server.page_url

    @property
    def csms(self) -> str:
        return self.server.csms_url

    def station(self, charge_box_id: str) -> StationState | None:
        return self.loop.call(lambda: self.server.csms.registry.get(charge_box_id))

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        """Wait (in the CSMS loop) until ``predicate()`` holds; it sees the live registry."""
        self.loop.run(self.server.csms.wait_for(predicate, timeout), timeout + 5)

    def call(self, charge_box_id: str, request: Any) -> Any:
        """Send a CSMS-initiated request (an ``ocpp.v16.call`` dataclass); its result."""
        return self.loop.run(self.server.csms.call(charge_box_id, request))

    def calls(self, charge_box_id: str, *actions: str) -> list[tuple[str, dict]]:
        """(action, payload) of every CALL the station sent, in order; only ``actions`` if named."""
        return self.loop.call(lambda: self.calls_now(charge_box_id, *actions))

    def calls_now(self, charge_box_id: str, *actions: str) -> list[tuple[str, dict]]:
        """``calls``, read inside the CSMS loop: for ``wait_for`` predicates."""
        state = self.server.csms.registry.get(charge_box_id)
        found = []
        for direction, text in [] if state is None else state.frames:
            if direction == "recv":
                frame = json.loads(text)
                if frame[0] == 2 and (not actions or frame[2] in actions):
                    found.append((frame[2], frame[3]))
        return found

    def close(self) -> None:
        self.loop.run(self.server.close())


Handler = Callable[[ServerConnection], Awaitable[None]]


class WebSocketBackend:
    """A bare WebSocket server on any path that offers the OCPP 1.6 subprotocol back."""

    def __init__(self, loop: LoopThread, handler: Handler) -> None:
        self.loop = loop

        def pick(_connection: ServerConnection, offered: Any) -> str | None:
            return offered[0] if offered else None

        async def start() -> Server:
            return await serve(handler, "127.0.0.1", 0, select_subprotocol=pick)

        self.server = loop.run(start())
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ocpp"

    def close(self) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        self.loop.run(stop())


HOSTILE = "<img src=x onerror=window.__pwned=1>"
HOSTILE_SCRIPT = "<script>window.__pwned=2</script>"
HOSTILE_TAG = "<img src=x>"  # fits an IdToken (20 characters)


async def hostile_handler(connection: ServerConnection) -> None:
    """A CSMS that answers correctly in shape but puts markup in every string it can.

    BootNotification is accepted (so the station goes on); Authorize gets an idTagInfo whose
    strings are markup; it reserves connector 2 for an idTag that is markup; every other CALL
    gets a CALLERROR with markup in its description and
    details; once booted it sends a DataTransfer full of markup; after the Authorize answer it
    closes the connection with a markup close reason.
    """
    booted = False
    async for message in connection:
        frame = json.loads(message)
        if frame[0] != 2:
            continue
        message_id, action = frame[1], frame[2]
        if action == "BootNotification":
            await connection.send(
                json.dumps(
                    [
                        3,
                        message_id,
                        {
                            "status": "Accepted",
                            "currentTime": "2025-01-01T00:00:00.000Z",
                            "interval": 300,
                        },
                    ]
                )
            )
            if not booted:
                booted = True
                await connection.send(
                    json.dumps(
                        [
                            2,
                            "hostile-dt-1",
                            "DataTransfer",
                            {"vendorId": HOSTILE, "messageId": HOSTILE_SCRIPT, "data": HOSTILE},
                        ]
                    )
                )
                # Schema-valid markup that the connector card shows: a reservation's idTag.
                await connection.send(
                    json.dumps(
                        [
                            2,
                            "hostile-rn-1",
                            "ReserveNow",
                            {
                                "connectorId": 2,
                                "expiryDate": "2099-01-01T00:00:00.000Z",
                                "idTag": HOSTILE_TAG,
                                "reservationId": 7,
                            },
                        ]
                    )
                )
        elif action == "Authorize":
            await connection.send(
                json.dumps(
                    [
                        3,
                        message_id,
                        {"idTagInfo": {"status": HOSTILE, "parentIdTag": HOSTILE_SCRIPT}},
                    ]
                )
            )
            await connection.close(4000, HOSTILE)
        elif action == "DataTransfer":
            await connection.send(json.dumps([3, message_id, {"status": "Accepted"}]))
        else:
            await connection.send(
                json.dumps([4, message_id, "GenericError", HOSTILE, {"note": HOSTILE_SCRIPT}])
            )
