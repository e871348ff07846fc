"""A small OCPP 1.6 CSMS on a real loopback port, in a thread of the test process, for Locust.

It answers every CALL a station sends with a valid reply, except the actions named in
``callerror`` (a CALLERROR) and ``invalid`` (a CALLRESULT its response schema rejects); it
counts the CALLs per action and remembers each charge box id that connected (the last path
segment). The Locust runs are subprocesses: gevent never enters the test process.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import ssl
import threading
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

INVALID_REPLY = {"unexpected": True}  # every 1.6 response schema refuses additional properties


class LocustCsms:
    """``with LocustCsms(callerror={"Heartbeat"}) as csms: ... csms.url ...``"""

    def __init__(
        self,
        *,
        heartbeat_interval: int = 2,
        callerror: frozenset[str] | set[str] = frozenset(),
        invalid: frozenset[str] | set[str] = frozenset(),
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.heartbeat_interval = heartbeat_interval
        self.callerror = frozenset(callerror)
        self.invalid = frozenset(invalid)
        self.tls = tls
        self.url = ""
        self.stations: set[str] = set()
        self.connections = 0  # WebSocket connections accepted
        self.calls: collections.Counter[str] = collections.Counter()
        self._transaction_ids = itertools.count(1)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="locust-csms", daemon=True)
        self._connections: set[ServerConnection] = set()

    def __enter__(self) -> LocustCsms:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the test CSMS did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def drop_all(self) -> None:
        """Close every station's connection (1001, going away), as a restarting CSMS does."""
        assert self._loop is not None

        async def drop() -> None:
            for connection in list(self._connections):
                await connection.close(1001, "restarting")

        asyncio.run_coroutine_threadsafe(drop(), self._loop).result(10)

    def snapshot(self) -> tuple[set[str], dict[str, int]]:
        with self._lock:
            return set(self.stations), dict(self.calls)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with serve(
            self._handle, "127.0.0.1", 0, subprotocols=["ocpp1.6"], ssl=self.tls
        ) as server:
            scheme = "ws" if self.tls is None else "wss"
            self.url = f"{scheme}://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
            self._ready.set()
            await self._stop.wait()

    async def _handle(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        station = unquote(urlsplit(connection.request.path).path.rsplit("/", 1)[-1])
        with self._lock:
            self.stations.add(station)
            self.connections += 1
        self._connections.add(connection)
        try:
            async for message in connection:
                frame = json.loads(message)
                if frame[0] != 2:
                    continue
                action = frame[2]
                with self._lock:
                    self.calls[action] += 1
                await connection.send(json.dumps(self._reply(frame[1], action)))
        except ConnectionClosed:
            pass
        finally:
            self._connections.discard(connection)

    def _reply(self, message_id: str, action: str) -> list[Any]:
        if action in self.callerror:
            return [4, message_id, "InternalError", "injected by the test CSMS", {}]
        if action in self.invalid:
            return [3, message_id, INVALID_REPLY]
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        accepted = {"status": "Accepted"}
        payload: dict[str, Any] = {}
        if action == "BootNotification":
            payload = {
                "status": "Accepted",
                "currentTime": now,
                "interval": self.heartbeat_interval,
            }
        elif action == "Heartbeat":
            payload = {"currentTime": now}
        elif action == "Authorize":
            payload = {"idTagInfo": accepted}
        elif action == "StartTransaction":
            payload = {"transactionId": next(self._transaction_ids), "idTagInfo": accepted}
        elif action == "StopTransaction":
            payload = {"idTagInfo": accepted}
        elif action == "DataTransfer":
            payload = accepted
        return [3, message_id, payload]
