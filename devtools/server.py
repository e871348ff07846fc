"""The `build.py serve` server: page, demo CSMS and echo on ONE port in ONE asyncio loop.

    python -m devtools.server --dist dist --host 127.0.0.1 --port 8000

Requests that are not WebSocket upgrades are answered from `dist` by `process_request`;
upgrades go to `/echo` or `/ocpp/<chargeBoxId>` (the CSMS URL users type is `.../ocpp`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from devtools.basic_auth import unauthorized
from devtools.demo_csms import CsmsOptions, DemoCsms, choose_subprotocol
from devtools.logging_setup import WS_LOG, configure_logging
from devtools.static import StaticFiles, text_response

SHUTDOWN_GRACE = 1.0
"""Seconds to let clients finish closing before idle sockets (browser preconnects) are cut."""

TRANSFER_TIMEOUT = 60.0
"""websockets cuts a plain HTTP response that is not fully delivered within its open and close
timeouts (10 s by default): too short for a ~10 MB wasm under DevTools network throttling."""


@dataclass(frozen=True)
class Route:
    """Where a request path leads: the echo endpoint, the CSMS, or neither."""

    kind: Literal["echo", "ocpp", "other"]
    charge_box_id: str = ""


def route_for(request_path: str) -> Route:
    path = urlsplit(request_path).path
    if path.rstrip("/") == "/echo" or path.startswith("/echo/"):
        return Route("echo")  # a station appends its id: /echo/<chargeBoxId> echoes too
    if path == "/ocpp":
        return Route("ocpp")
    if path.startswith("/ocpp/"):
        return Route("ocpp", unquote(path.rsplit("/", 1)[1]))
    return Route("other")


def is_websocket_upgrade(request: Request) -> bool:
    return any("websocket" in value.lower() for value in request.headers.get_all("Upgrade"))


async def echo(connection: ServerConnection) -> None:
    """Send every text or binary message straight back."""
    with contextlib.suppress(ConnectionClosed):
        async for message in connection:
            await connection.send(message)


class _TrackedConnection(ServerConnection):
    """Registers itself while its socket is open, so shutdown can cut idle ones."""

    def __init__(self, *args: Any, live: set[ServerConnection], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._live = live

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._live.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._live.discard(self)
        super().connection_lost(exc)


def display_host(host: str) -> str:
    """A host to put in printed URLs: wildcards become loopback, IPv6 gets brackets."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class DevServer:
    """Static files, `/echo` and `/ocpp/<id>` behind one `websockets` server."""

    def __init__(
        self,
        dist_dir: str | os.PathLike[str],
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        csms_options: CsmsOptions | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.static = StaticFiles(dist_dir)
        self.csms = DemoCsms(csms_options)
        self._server: Server | None = None
        self._live: set[ServerConnection] = set()

    @property
    def port(self) -> int:
        """The bound port: the real one when 0 was asked for.

        With port 0 and a host that resolves to several addresses (e.g. `localhost` with IPv4
        and IPv6), each socket gets its own free port; this is the first one's.
        """
        if self._server is None:
            return self.requested_port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def page_url(self) -> str:
        return f"http://{display_host(self.host)}:{self.port}/"

    @property
    def csms_url(self) -> str:
        return f"ws://{display_host(self.host)}:{self.port}/ocpp"

    @property
    def echo_url(self) -> str:
        return f"ws://{display_host(self.host)}:{self.port}/echo"

    async def start(self) -> None:
        """Bind and start serving; a busy or invalid address raises OSError naming it."""
        try:
            self._server = await serve(
                self._handle,
                self.host,
                self.requested_port,
                process_request=self._process_request,
                select_subprotocol=self._select_subprotocol,
                logger=WS_LOG,
                open_timeout=TRANSFER_TIMEOUT,
                close_timeout=TRANSFER_TIMEOUT,
                create_connection=lambda *args, **kwargs: _TrackedConnection(
                    *args, live=self._live, **kwargs
                ),
            )
        except OSError as exc:
            address = f"{display_host(self.host)}:{self.requested_port}"
            reason = exc.strerror or str(exc)
            raise OSError(exc.errno, f"cannot listen on {address}: {reason}") from exc

    async def close(self) -> None:
        """Close WebSockets with 1001, then cut whatever is still open after a short grace."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        closed = asyncio.ensure_future(server.wait_closed())
        _, pending = await asyncio.wait({closed}, timeout=SHUTDOWN_GRACE)
        if pending:
            for connection in list(self._live):
                connection.transport.abort()
            await closed

    async def __aenter__(self) -> DevServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        route = route_for(request.path)
        if not is_websocket_upgrade(request):
            if route.kind != "other":
                return text_response(
                    http.HTTPStatus.UPGRADE_REQUIRED, "This is a WebSocket endpoint.\n"
                )
            return await self.static.respond(request)
        if route.kind == "echo":
            return None
        if route.kind == "ocpp":
            if not route.charge_box_id:
                return connection.respond(
                    http.HTTPStatus.NOT_FOUND, "Missing charge box id: use /ocpp/<chargeBoxId>\n"
                )
            failure = self.csms.auth_failure(route.charge_box_id, request.headers)
            return None if failure is None else unauthorized(connection, failure)
        return connection.respond(
            http.HTTPStatus.NOT_FOUND, "No WebSocket endpoint here: use /ocpp/<id> or /echo\n"
        )

    def _select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[str]
    ) -> str | None:
        if route_for(connection.request.path).kind == "ocpp":  # type: ignore[union-attr]
            return choose_subprotocol(offered, self.csms.options.subprotocols)
        return offered[0] if offered else None

    async def _handle(self, connection: ServerConnection) -> None:
        route = route_for(connection.request.path)  # type: ignore[union-attr]
        if route.kind == "echo":
            await echo(connection)
        elif route.kind == "ocpp":
            await self.csms.handle(connection, route.charge_box_id)


async def run_server(
    host: str,
    port: int,
    dist_dir: str | os.PathLike[str],
    *,
    ready: asyncio.Event | None = None,
    csms_options: CsmsOptions | None = None,
    on_start: Callable[[DevServer], object] | None = None,
) -> None:
    """Serve until cancelled; `on_start` sees the bound server (real port), then `ready` is set."""
    async with DevServer(dist_dir, host, port, csms_options=csms_options) as server:
        if on_start is not None:
            on_start(server)
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()


def print_urls(server: DevServer) -> None:
    print(f"Page:  {server.page_url}", flush=True)
    print(f"CSMS:  {server.csms_url}", flush=True)
    print(f"Echo:  {server.echo_url}", flush=True)


async def main_serve(
    host: str,
    port: int,
    dist_dir: str | os.PathLike[str],
    *,
    csms_options: CsmsOptions | None = None,
    verbose: bool = False,
) -> None:
    """Print the three URLs and serve until cancelled (asyncio.run turns Ctrl-C into that)."""
    configure_logging(verbose)
    await run_server(host, port, dist_dir, csms_options=csms_options, on_start=print_urls)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.server",
        description="Serve dist/, the demo CSMS (/ocpp/<id>) and /echo on one port.",
    )
    parser.add_argument("--dist", type=Path, default=Path("dist"), help="directory to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--heartbeat-interval", type=int, default=300, metavar="SECONDS")
    parser.add_argument("--password", help="require Basic auth (user = charge box id)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log HTTP and frames")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    options = CsmsOptions(heartbeat_interval=args.heartbeat_interval, password=args.password)
    try:
        asyncio.run(
            main_serve(args.host, args.port, args.dist, csms_options=options, verbose=args.verbose)
        )
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        print(f"error: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
