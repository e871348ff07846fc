"""WebSocket transports: URLs, backoff, the shared lifecycle, the websockets client against real
loopback servers (subprotocol, Basic auth, TLS, reconnect, offline) and the browser transport on a
fake ``js`` module.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import ssl
import subprocess
import sys
import types
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fresh_loop import run_async
from tls_certs import make_pki, openssl, server_tls
from websockets.asyncio.server import ServerConnection, basic_auth, serve
from websockets.datastructures import Headers
from websockets.http11 import Response

from sim.transport.base import (
    Backoff,
    ConnectionState,
    TransportConfig,
    basic_auth_header,
    build_station_url,
    credentials_url,
    describe_close,
    redact,
    validate_url,
)
from sim.transport.cpython import WebsocketsTransport, ssl_context

KEY = "s3cr3t:p@ss/w?rd"  # characters that need percent-encoding in a URL
FAST = {"backoff_initial_s": 0.05, "backoff_factor": 2.0, "backoff_max_s": 0.2}


# --- URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("ws://csms.example/ocpp", "ws://csms.example/ocpp/CP1"),
        ("ws://csms.example/ocpp/", "ws://csms.example/ocpp/CP1"),
        ("ws://csms.example/ocpp//", "ws://csms.example/ocpp/CP1"),
        ("ws://csms.example", "ws://csms.example/CP1"),
        ("wss://csms.example:8443/", "wss://csms.example:8443/CP1"),
        ("ws://[::1]:9000/a/b", "ws://[::1]:9000/a/b/CP1"),
    ],
)
def test_station_url_appends_the_id_as_last_segment(base: str, expected: str) -> None:
    assert build_station_url(TransportConfig(base, "CP1")) == expected


def test_station_url_encodes_the_id() -> None:
    config = TransportConfig("ws://h/ocpp", "CP 1/ä?#")
    assert build_station_url(config) == "ws://h/ocpp/CP%201%2F%C3%A4%3F%23"


def test_station_url_refuses_a_bad_base_url() -> None:
    with pytest.raises(ValueError, match="ws:// or wss://"):
        build_station_url(TransportConfig("ftp://h", "CP1"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "enter the CSMS URL"),
        ("   ", "enter the CSMS URL"),
        (" ws://h", "spaces"),
        ("ws://h/a b", "spaces"),
        ("http://h/ocpp", "must start with ws:// (not http://)"),
        ("https://h/ocpp", "must start with wss:// (not https://)"),
        ("csms.example/ocpp", "must start with ws:// or wss://"),
        ("ws:///ocpp", "no host name"),
        ("ws://h:99999/ocpp", "malformed"),
        ("ws://h:abc/ocpp", "malformed"),
        ("ws://h:0/ocpp", "port 0"),
        ("ws://h/ocpp?x=1", "query"),
        ("ws://h/ocpp?", "query"),
        ("ws://h/ocpp#top", "fragment"),
        ("ws://CP1:hunter2@h/ocpp", "authorization key instead"),
        ("ws://CP1@h/ocpp", "authorization key instead"),
    ],
)
def test_validate_url_explains_what_is_wrong(url: str, message: str) -> None:
    problem = validate_url(url)
    assert problem is not None and message in problem
    assert "hunter2" not in problem


@pytest.mark.parametrize(
    "url",
    ["ws://h", "wss://csms.example:443/ocpp/v16/", "WS://H:8180/steve/websocket/CentralSystem"],
)
def test_validate_url_accepts_good_urls(url: str) -> None:
    assert validate_url(url) is None


def test_credentials_url_percent_encodes_id_and_key() -> None:
    config = TransportConfig("wss://h:8443/ocpp", "CP@1", auth_key=KEY)
    assert credentials_url(config) == "wss://CP%401:s3cr3t%3Ap%40ss%2Fw%3Frd@h:8443/ocpp/CP%401"
    assert credentials_url(TransportConfig("ws://h", "CP1")) == "ws://h/CP1"


def test_basic_auth_header_and_redaction_cover_every_form_of_the_key() -> None:
    config = TransportConfig("ws://h", "CP1", auth_key=KEY)
    header = basic_auth_header(config)
    assert header is not None and header.startswith("Basic ")
    text = f"{KEY} {credentials_url(config)} {header}"
    masked = redact(text, config)
    assert "s3cr3t" not in masked and header[6:] not in masked
    assert masked.count("***") == 3
    assert basic_auth_header(TransportConfig("ws://h", "CP1")) is None
    assert redact(text, TransportConfig("ws://h", "CP1")) == text


def test_config_repr_masks_the_key_and_validates() -> None:
    config = TransportConfig("ws://h", "CP1", auth_key=KEY)
    assert KEY not in repr(config) and KEY not in str(config)
    assert "auth_key='***'" in repr(config)
    assert "auth_key=None" in repr(TransportConfig("ws://h", "CP1"))
    assert config.subprotocol == "ocpp1.6"
    assert TransportConfig("ws://h", "CP1", ocpp_version="2.0.1").subprotocol == "ocpp2.0.1"
    for kwargs, message in (
        ({"ocpp_version": "2.1"}, "unknown OCPP version"),
        ({"charge_box_id": ""}, "empty"),
        ({"charge_box_id": "a:b", "auth_key": "k"}, "must not contain ':'"),
        ({"client_key_file": "k.pem"}, "client certificate file"),
        ({"backoff_initial_s": 0}, "initial reconnect delay"),
        ({"backoff_factor": 0.5}, "factor"),
        ({"backoff_max_s": 0.1}, "maximum reconnect delay"),
        ({"backoff_jitter": 1.0}, "jitter"),
        ({"ping_interval_s": 0}, "ping interval"),
        ({"open_timeout_s": 0}, "open timeout"),
    ):
        arguments: dict[str, Any] = {"url": "ws://h", "charge_box_id": "CP1", **kwargs}
        with pytest.raises(ValueError, match=message):
            TransportConfig(**arguments)


def test_describe_close_names_the_code() -> None:
    assert describe_close(1001, "bye") == "closed by the server: code 1001 (going away): bye"
    assert describe_close(1000) == "closed by the server: code 1000 (normal closure)"
    assert "application-defined" in describe_close(4001)
    assert "connection lost" in describe_close(1006)
    assert "connection lost" in describe_close(None)


# --- Backoff ----------------------------------------------------------------------------------


def test_backoff_grows_caps_and_resets_without_jitter() -> None:
    backoff = Backoff(1.0, 2.0, 10.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    backoff.reset()
    assert backoff.next_delay() == 1.0


def test_backoff_jitter_stays_in_its_band_and_is_reproducible() -> None:
    first = Backoff(1.0, 2.0, 60.0, jitter=0.25, rng=random.Random(9))
    second = Backoff(1.0, 2.0, 60.0, jitter=0.25, rng=random.Random(9))
    delays = [first.next_delay() for _ in range(500)]
    assert delays == [second.next_delay() for _ in range(500)]
    for step, delay in enumerate(delays):
        base = min(60.0, 2.0**step)
        assert 0.75 * base <= delay <= base
    assert len(set(delays[-100:])) > 1  # jitter really varies once capped


def test_backoff_survives_thousands_of_failures() -> None:
    backoff = Backoff(0.5, 10.0, 30.0)
    for _ in range(5000):
        assert backoff.next_delay() <= 30.0


# --- The websockets transport against loopback servers -----------------------------------------


class Recorder:
    """A listener that records every callback, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.on_open_hook: Callable[[], None] | None = None

    def on_open(self, subprotocol: str) -> None:
        self.events.append(("open", subprotocol))
        if self.on_open_hook is not None:
            self.on_open_hook()

    def on_message(self, text: str) -> None:
        self.events.append(("message", text))

    def on_close(self, reason: str) -> None:
        self.events.append(("close", reason))

    def on_state(self, state: ConnectionState, detail: str) -> None:
        self.events.append(("state", (state, detail)))

    def of(self, kind: str) -> list[Any]:
        return [value for name, value in self.events if name == kind]


def run(main: Coroutine[Any, Any, None]) -> None:
    run_async(asyncio.wait_for(main, 8))


async def until(condition: Callable[[], object], timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


Handler = Callable[[ServerConnection], Awaitable[None]]


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


@asynccontextmanager
async def server(handler: Handler = echo, **kwargs: Any):  # type: ignore[no-untyped-def]
    kwargs.setdefault("subprotocols", ["ocpp1.6", "ocpp2.0.1"])
    async with serve(handler, "127.0.0.1", 0, **kwargs) as srv:
        yield srv.sockets[0].getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def config(port: int, scheme: str = "ws", **kwargs: Any) -> TransportConfig:
    return TransportConfig(f"{scheme}://127.0.0.1:{port}/ocpp/", "CP1", **{**FAST, **kwargs})


def test_connects_exchanges_frames_and_stops_cleanly() -> None:
    seen: list[tuple[str, str | None]] = []

    async def record(ws: ServerConnection) -> None:
        seen.append((ws.request.path, ws.subprotocol))  # type: ignore[union-attr]
        await echo(ws)
        seen.append(("closed", str(ws.close_code)))

    async def main() -> None:
        async with server(record) as port:
            events = Recorder()
            transport = WebsocketsTransport(config(port, ocpp_version="2.0.1"), events)
            assert not transport.send("too early")
            transport.start()
            assert await transport.first_attempt() is None
            await until(lambda: transport.state is ConnectionState.CONNECTED)
            assert events.of("open") == ["ocpp2.0.1"]
            for number in range(30):
                assert transport.send(f'[2,"{number}","Heartbeat",{{}}]')
            await until(lambda: len(events.of("message")) == 30)
            assert events.of("message") == [f'[2,"{n}","Heartbeat",{{}}]' for n in range(30)]
            transport.stop()
            await transport.wait_closed()
            await until(lambda: len(seen) == 2)
            assert transport.state is ConnectionState.CLOSED
            assert events.of("close") == ["closed by the station (stopped)"]
            assert not transport.send("late")
        assert seen == [("/ocpp/CP1", "ocpp2.0.1"), ("closed", "1000")]
        states = [state for state, _ in events.of("state")]
        assert states == [
            ConnectionState.CONNECTING,
            ConnectionState.CONNECTED,
            ConnectionState.CLOSED,
        ]

    run(main())


def test_on_open_can_send_at_once() -> None:
    received: list[str] = []

    async def collect(ws: ServerConnection) -> None:
        async for message in ws:
            received.append(str(message))

    async def main() -> None:
        async with server(collect) as port:
            events = Recorder()
            transport = WebsocketsTransport(config(port), events)
            events.on_open_hook = lambda: received.append(str(transport.send("boot")))
            transport.start()
            await until(lambda: "boot" in received)
            transport.stop()
            await transport.wait_closed()
        assert received[:2] == ["True", "boot"]

    run(main())


def test_a_server_without_our_subprotocol_fails_the_handshake() -> None:
    async def main() -> None:
        async with server(subprotocols=None) as port:
            events = Recorder()
            transport = WebsocketsTransport(config(port), events)
            transport.start()
            reason = await transport.first_attempt()
            assert reason == "server did not accept subprotocol ocpp1.6 (it picked none)"
            await until(lambda: transport.state is ConnectionState.RECONNECT_WAIT)
            assert events.of("open") == []
            assert events.of("close")[0] == reason
            assert reason in transport.detail
            transport.stop()
            await transport.wait_closed()

    run(main())


def test_a_server_picking_another_subprotocol_fails_the_handshake() -> None:
    def pick_other(_ws: ServerConnection, _offered: object) -> str:
        return "ocpp2.0.1"

    async def main() -> None:
        async with server(select_subprotocol=pick_other) as port:
            transport = WebsocketsTransport(config(port), Recorder())
            transport.start()
            reason = await transport.first_attempt()
            assert reason is not None and "did not accept subprotocol ocpp1.6" in reason
            transport.stop()
            await transport.wait_closed()

    run(main())


def test_basic_auth_accepts_the_right_key_and_never_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    right = config(0, auth_key=KEY)
    token = (basic_auth_header(right) or "")[6:]

    async def main() -> None:
        # The test server's own debug log shows the header it received: keep it out of caplog.
        quiet = logging.getLogger("test.csms")
        quiet.setLevel(logging.WARNING)
        check = basic_auth("ocpp", credentials=("CP1", KEY))
        async with server(process_request=check, logger=quiet) as port:
            good = WebsocketsTransport(config(port, auth_key=KEY), Recorder())
            good.start()
            assert await good.first_attempt() is None
            good.stop()
            await good.wait_closed()

            events = Recorder()
            bad = WebsocketsTransport(config(port, auth_key="wrong-key"), events)
            bad.start()
            reason = await bad.first_attempt()
            assert reason is not None
            assert reason.startswith("handshake failed: HTTP 401: check the authorization key")
            bad.stop()
            await bad.wait_closed()
            assert events.of("close")[0] == reason
            assert "wrong-key" not in repr(bad.config)

    run(main())
    assert "Authorization: Basic ***" in caplog.text  # the debug handshake log was masked
    for secret in (KEY, token, "wrong-key", "s3cr3t"):
        assert secret not in caplog.text


def test_an_http_error_status_is_reported() -> None:
    def not_found(_ws: ServerConnection, _request: object) -> Response:
        return Response(404, "Not Found", Headers(), b"no such station\n")

    async def main() -> None:
        async with server(process_request=not_found) as port:
            transport = WebsocketsTransport(config(port), Recorder())
            transport.start()
            reason = await transport.first_attempt()
            assert (
                reason
                == "handshake failed: HTTP 404: not found: check the URL path and the charge box id"
            )
            transport.stop()
            await transport.wait_closed()

    run(main())


def test_a_refused_connection_is_reported_and_retried_until_stop() -> None:
    port = free_port()

    async def main() -> None:
        events = Recorder()
        transport = WebsocketsTransport(config(port), events)
        transport.start()
        reason = await transport.first_attempt()
        assert (
            reason == f"connection refused by 127.0.0.1:{port}: is the CSMS running on that port?"
        )
        await until(lambda: len(events.of("close")) >= 3)  # it keeps retrying with backoff
        transport.stop()
        await transport.wait_closed()
        assert transport.state is ConnectionState.CLOSED
        waits = [d for s, d in events.of("state") if s is ConnectionState.RECONNECT_WAIT]
        assert all("reconnecting in" in detail for detail in waits)

    run(main())


def test_reconnects_after_the_server_drops_and_messages_flow_again() -> None:
    connections: list[ServerConnection] = []

    async def flaky(ws: ServerConnection) -> None:
        connections.append(ws)
        if len(connections) == 1:
            await ws.close(1012, "restarting")
        elif len(connections) == 2:
            ws.transport.abort()  # the network dies: no close frame at all
        else:
            await echo(ws)

    async def main() -> None:
        async with server(flaky) as port:
            events = Recorder()
            transport = WebsocketsTransport(config(port), events, rng=random.Random(1))
            transport.start()
            await until(lambda: len(events.of("open")) == 3)
            assert transport.send("again")
            await until(lambda: events.of("message") == ["again"])
            transport.stop()
            await transport.wait_closed()
        closes = events.of("close")
        assert closes[0] == "closed by the server: code 1012 (service restart): restarting"
        assert closes[1].startswith("connection lost")

    run(main())


def test_offline_switch_closes_and_reconnects_only_when_switched_back() -> None:
    codes: list[int | None] = []

    async def record(ws: ServerConnection) -> None:
        await echo(ws)
        codes.append(ws.close_code)

    async def main() -> None:
        async with server(record) as port:
            events = Recorder()
            transport = WebsocketsTransport(config(port), events)
            transport.start()
            await until(lambda: transport.state is ConnectionState.CONNECTED)
            transport.set_offline(True)
            await until(lambda: transport.state is ConnectionState.OFFLINE)
            assert events.of("close") == ["network switched off"]
            assert not transport.send("while offline")
            await asyncio.sleep(0.5)  # several backoff periods: no reconnect
            assert len(events.of("open")) == 1
            assert codes == [1000]
            transport.set_offline(False)
            await until(lambda: transport.state is ConnectionState.CONNECTED)
            assert len(events.of("open")) == 2
            transport.stop()
            await transport.wait_closed()

    run(main())


def test_offline_before_start_and_while_retrying() -> None:
    port = free_port()

    async def main() -> None:
        events = Recorder()
        transport = WebsocketsTransport(config(port), events)
        transport.set_offline(True)
        transport.start()
        assert transport.state is ConnectionState.OFFLINE
        await asyncio.sleep(0.1)
        assert events.of("close") == []  # not even an attempt
        transport.set_offline(False)
        await until(lambda: transport.state is ConnectionState.RECONNECT_WAIT)
        transport.set_offline(True)  # cancels the pending retry
        assert transport.state is ConnectionState.OFFLINE
        attempts = len(events.of("close"))
        await asyncio.sleep(0.4)
        assert len(events.of("close")) == attempts
        transport.set_offline(False)
        transport.set_offline(True)
        transport.set_offline(False)  # toggling quickly still ends with one running attempt loop
        await until(lambda: len(events.of("close")) > attempts)
        transport.stop()
        await transport.wait_closed()
        assert transport.state is ConnectionState.CLOSED

    run(main())


def test_a_failing_listener_does_not_kill_the_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(Recorder):
        def on_message(self, text: str) -> None:
            super().on_message(text)
            raise RuntimeError("station bug")

    async def main() -> None:
        async with server() as port:
            events = Broken()
            transport = WebsocketsTransport(config(port), events)
            transport.start()
            await transport.first_attempt()
            transport.send("one")
            transport.send("two")
            await until(lambda: events.of("message") == ["one", "two"])
            assert transport.state is ConnectionState.CONNECTED
            transport.stop()
            await transport.wait_closed()

    run(main())
    assert "the listener failed in on_message" in caplog.text


def test_first_attempt_needs_start() -> None:
    async def main() -> None:
        transport = WebsocketsTransport(config(free_port()), Recorder())
        with pytest.raises(RuntimeError):
            await transport.first_attempt()

    run(main())


# --- TLS (security profile 3) ------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throw-away CA with a server certificate for 127.0.0.1 and a client certificate CP1."""
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_tls_with_a_private_ca_and_a_client_certificate(pki: Path) -> None:
    peers: list[Any] = []

    async def record(ws: ServerConnection) -> None:
        peers.append(ws.transport.get_extra_info("peercert"))
        await echo(ws)

    async def main() -> None:
        async with server(record, ssl=server_tls(pki)) as port:
            tls = config(
                port,
                "wss",
                ca_file=str(pki / "ca.pem"),
                client_cert_file=str(pki / "client.pem"),
                client_key_file=str(pki / "client.key"),
            )
            transport = WebsocketsTransport(tls, Recorder())
            transport.start()
            assert await transport.first_attempt() is None
            transport.stop()
            await transport.wait_closed()

            untrusted = WebsocketsTransport(config(port, "wss"), Recorder())
            untrusted.start()
            reason = await untrusted.first_attempt()
            assert reason is not None and reason.startswith("TLS certificate check failed")
            untrusted.stop()
            await untrusted.wait_closed()

            anonymous = WebsocketsTransport(
                config(port, "wss", ca_file=str(pki / "ca.pem")), Recorder()
            )
            anonymous.start()
            assert await anonymous.first_attempt() is not None  # the server wants a certificate
            anonymous.stop()
            await anonymous.wait_closed()
        subject = dict(item for rdn in peers[0]["subject"] for item in rdn)
        assert subject["commonName"] == "CP1"

    run(main())


def test_ssl_context_reports_unusable_tls_settings(pki: Path, tmp_path: Path) -> None:
    assert ssl_context(TransportConfig("ws://h", "CP1")) is None
    assert isinstance(ssl_context(TransportConfig("wss://h", "CP1")), ssl.SSLContext)
    with pytest.raises(ValueError, match="need a wss:// URL"):
        ssl_context(TransportConfig("ws://h", "CP1", ca_file=str(pki / "ca.pem")))
    with pytest.raises(ValueError, match=r"cannot load the CA file .*No such file"):
        ssl_context(TransportConfig("wss://h", "CP1", ca_file=str(tmp_path / "missing.pem")))
    with pytest.raises(ValueError, match="cannot load the client certificate"):
        ssl_context(
            TransportConfig(
                "wss://h",
                "CP1",
                client_cert_file=str(pki / "client.pem"),
                client_key_file=str(pki / "server.key"),  # not the certificate's key
            )
        )
    encrypted = tmp_path / "encrypted.key"
    openssl("pkcs8", "-topk8", "-in", str(pki / "client.key"), "-out", str(encrypted),
            "-passout", "pass:abc", cwd=tmp_path)  # fmt: skip
    with pytest.raises(ValueError, match="encrypted"):
        ssl_context(
            TransportConfig(
                "wss://h",
                "CP1",
                client_cert_file=str(pki / "client.pem"),
                client_key_file=str(encrypted),
            )
        )
    with pytest.raises(ValueError, match="need a wss:// URL"):
        WebsocketsTransport(
            TransportConfig("ws://h", "CP1", ca_file=str(pki / "ca.pem")), Recorder()
        )


# --- The browser transport on a fake js ---------------------------------------------------------


class FakeProxy:
    def __init__(self, function: Callable[..., Any], registry: list[FakeProxy]) -> None:
        self.function = function
        self.destroyed = False
        registry.append(self)

    def __call__(self, *args: Any) -> Any:
        assert not self.destroyed, "JS called a destroyed proxy"
        return self.function(*args)

    def destroy(self) -> None:
        assert not self.destroyed, "proxy destroyed twice"
        self.destroyed = True


class FakeSocket:
    """Emulates the events of a browser WebSocket; the test plays the server."""

    def __init__(self, url: str, protocols: list[str]) -> None:
        self.url = url
        self.protocols = protocols
        self.protocol = ""
        self.onopen: Any = None
        self.onmessage: Any = None
        self.onclose: Any = None
        self.sent: list[str] = []
        self.closed: tuple[Any, ...] | None = None

    def send(self, text: str) -> None:
        self.sent.append(text)

    def close(self, *args: Any) -> None:
        self.closed = args

    def accept(self, protocol: str = "ocpp1.6") -> None:
        self.protocol = protocol
        self.onopen(types.SimpleNamespace(type="open"))

    def deliver(self, data: Any) -> None:
        self.onmessage(types.SimpleNamespace(data=data))

    def drop(self, code: int = 1006, reason: str = "") -> None:
        self.onclose(types.SimpleNamespace(code=code, reason=reason))


class FakeBrowser:
    """The ``js`` and ``pyodide.ffi`` modules the browser transport imports."""

    def __init__(self) -> None:
        self.sockets: list[FakeSocket] = []
        self.proxies: list[FakeProxy] = []
        self.timers: dict[int, tuple[Any, int]] = {}
        self.next_timer = 0
        self.refuse_urls = False

    def new_socket(self, url: str, protocols: list[str]) -> FakeSocket:
        if self.refuse_urls:
            raise SyntaxError(f"Failed to construct 'WebSocket': The URL '{url}' is invalid.")
        self.sockets.append(FakeSocket(url, protocols))
        return self.sockets[-1]

    def set_timeout(self, callback: Any, delay_ms: int) -> int:
        self.next_timer += 1
        self.timers[self.next_timer] = (callback, delay_ms)
        return self.next_timer

    def clear_timeout(self, timer: int) -> None:
        self.timers.pop(timer, None)

    def fire_timer(self) -> int:
        _, (callback, delay_ms) = self.timers.popitem()
        callback()
        return delay_ms

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        js = types.ModuleType("js")
        js.WebSocket = types.SimpleNamespace(new=self.new_socket)  # type: ignore[attr-defined]
        js.setTimeout = self.set_timeout  # type: ignore[attr-defined]
        js.clearTimeout = self.clear_timeout  # type: ignore[attr-defined]
        ffi = types.ModuleType("pyodide.ffi")
        ffi.create_proxy = lambda function: FakeProxy(function, self.proxies)  # type: ignore[attr-defined]
        ffi.to_js = list  # type: ignore[attr-defined]
        pyodide = types.ModuleType("pyodide")
        pyodide.ffi = ffi  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "js", js)
        monkeypatch.setitem(sys.modules, "pyodide", pyodide)
        monkeypatch.setitem(sys.modules, "pyodide.ffi", ffi)

    def live_proxies(self) -> list[FakeProxy]:
        return [proxy for proxy in self.proxies if not proxy.destroyed]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> FakeBrowser:
    fake = FakeBrowser()
    fake.install(monkeypatch)
    return fake


def browser_transport(**kwargs: Any) -> tuple[Any, Recorder]:
    from sim.transport.browser import BrowserTransport

    events = Recorder()
    settings = {"backoff_jitter": 0.0, "auth_key": KEY, **kwargs}
    transport = BrowserTransport(
        TransportConfig("wss://csms.example/ocpp", "CP1", **settings), events
    )
    return transport, events


def test_browser_opens_with_credentials_subprotocol_and_exchanges_frames(
    browser: FakeBrowser,
) -> None:
    transport, events = browser_transport()
    assert not transport.send("early")
    transport.start()
    socket = browser.sockets[0]
    assert socket.url == "wss://CP1:s3cr3t%3Ap%40ss%2Fw%3Frd@csms.example/ocpp/CP1"
    assert socket.protocols == ["ocpp1.6"]
    assert transport.state is ConnectionState.CONNECTING
    socket.accept()
    assert transport.state is ConnectionState.CONNECTED
    assert events.of("open") == ["ocpp1.6"]
    assert transport.send('[2,"1","Heartbeat",{}]')
    assert socket.sent == ['[2,"1","Heartbeat",{}]']
    socket.deliver('[3,"1",{}]')
    socket.deliver(object())  # a binary frame (ArrayBuffer) is ignored
    assert events.of("message") == ['[3,"1",{}]']
    transport.stop()
    assert socket.closed == (1000, "stopped")
    assert transport.state is ConnectionState.CLOSED
    assert events.of("close") == ["closed by the station (stopped)"]
    assert socket.onopen is None and socket.onclose is None
    assert browser.live_proxies() == []
    for _, detail in events.of("state"):
        assert "s3cr3t" not in detail and "CP1:" not in detail


def test_browser_without_key_has_no_credentials_in_the_url(browser: FakeBrowser) -> None:
    transport, _ = browser_transport(auth_key=None, ocpp_version="2.0.1")
    transport.start()
    assert browser.sockets[0].url == "wss://csms.example/ocpp/CP1"
    assert browser.sockets[0].protocols == ["ocpp2.0.1"]


def test_browser_subprotocol_mismatch_closes_and_retries(browser: FakeBrowser) -> None:
    transport, events = browser_transport(backoff_initial_s=2.0)
    transport.start()
    first = browser.sockets[0]
    first.accept(protocol="")
    assert first.closed == (1000, "subprotocol not accepted")
    assert events.of("open") == []
    assert events.of("close") == ["server did not accept subprotocol ocpp1.6 (it picked none)"]
    assert transport.state is ConnectionState.RECONNECT_WAIT
    assert browser.live_proxies() == [
        proxy for proxy in browser.proxies if proxy.function == transport._on_timer
    ]
    assert browser.fire_timer() == 2000
    assert len(browser.sockets) == 2
    browser.sockets[1].accept()
    assert transport.state is ConnectionState.CONNECTED


def test_browser_close_before_open_names_what_to_check_and_backs_off(
    browser: FakeBrowser,
) -> None:
    transport, events = browser_transport(backoff_initial_s=1.0, backoff_max_s=4.0)
    transport.start()
    delays = []
    for _ in range(4):
        browser.sockets[-1].drop(1006)
        delays.append(browser.fire_timer())
    assert delays == [1000, 2000, 4000, 4000]
    reason = events.of("close")[0]
    assert "could not connect to wss://csms.example/ocpp/CP1" in reason
    for hint in ("URL", "reachable", "authorization key", "subprotocol ocpp1.6"):
        assert hint in reason
    assert KEY not in reason and "s3cr3t" not in reason


def test_browser_reconnects_after_a_drop_and_resets_the_backoff(browser: FakeBrowser) -> None:
    transport, events = browser_transport(backoff_initial_s=1.0)
    transport.start()
    browser.sockets[0].drop()
    assert browser.fire_timer() == 1000
    browser.sockets[1].drop()
    assert browser.fire_timer() == 2000
    browser.sockets[2].accept()
    browser.sockets[2].drop(1001, "maintenance")
    assert events.of("close")[-1] == "closed by the server: code 1001 (going away): maintenance"
    assert browser.fire_timer() == 1000  # an open connection reset the backoff
    browser.sockets[3].accept()
    assert transport.send("again")
    assert browser.sockets[3].sent == ["again"]


def test_browser_offline_switch(browser: FakeBrowser) -> None:
    transport, events = browser_transport()
    transport.start()
    browser.sockets[0].accept()
    transport.set_offline(True)
    assert browser.sockets[0].closed == (1000, "offline")
    assert transport.state is ConnectionState.OFFLINE
    assert events.of("close") == ["network switched off"]
    assert browser.timers == {}
    assert not transport.send("while offline")
    transport.set_offline(False)
    assert len(browser.sockets) == 2
    browser.sockets[1].accept()
    assert transport.state is ConnectionState.CONNECTED
    # Offline while waiting to retry cancels the timer; while connecting abandons the socket.
    browser.sockets[1].drop()
    assert len(browser.timers) == 1
    transport.set_offline(True)
    assert browser.timers == {}
    transport.set_offline(False)
    connecting = browser.sockets[2]
    transport.set_offline(True)
    assert connecting.closed == () and connecting.onopen is None
    transport.stop()
    assert transport.state is ConnectionState.CLOSED
    assert browser.live_proxies() == []


def test_browser_stop_while_waiting_frees_the_timer(browser: FakeBrowser) -> None:
    transport, _ = browser_transport()
    transport.start()
    browser.sockets[0].drop()
    assert len(browser.timers) == 1
    transport.stop()
    assert browser.timers == {}
    assert browser.live_proxies() == []
    assert transport.state is ConnectionState.CLOSED


def test_browser_masks_the_key_when_the_browser_refuses_the_url(
    browser: FakeBrowser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    browser.refuse_urls = True
    transport, events = browser_transport()
    transport.start()
    reason = events.of("close")[0]
    assert reason.startswith("the browser refused the URL")
    assert "***" in reason
    everything = repr(events.events) + caplog.text
    assert "s3cr3t" not in everything and "p%40ss" not in everything
    transport.stop()


def test_browser_listener_may_stop_from_on_close(browser: FakeBrowser) -> None:
    transport, events = browser_transport()
    events.on_close = lambda reason: transport.stop()  # type: ignore[method-assign]
    transport.start()
    browser.sockets[0].drop()
    assert transport.state is ConnectionState.CLOSED
    assert browser.timers == {}


def test_pure_modules_import_without_websockets_or_js() -> None:
    code = (
        "import sys, sim, sim.meter, sim.transport, sim.transport.browser\n"
        "assert 'websockets' not in sys.modules, 'websockets imported'\n"
        "assert 'js' not in sys.modules and 'pyodide' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
