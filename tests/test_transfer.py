"""Host-side transfers (sim/transfer.py): CPython against a local HTTP server, the browser host
against a fake ``js``. The engines are real; the runtime is a small asyncio loop here."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sys
import types
from collections.abc import Callable, Iterator

import pytest
from fake_csms import WALL_START, FakeCsms, booted
from file_server import IMAGE, PASSWORD, USER, Server, serving
from fresh_loop import run_async

from ocpp_core import ChargePoint, DiagnosticsProgress, FirmwareProgress, FirmwareSimulation
from ocpp_core.clock import format_datetime
from sim.transfer import (
    BrowserTransferHost,
    CPythonTransferHost,
    TransferPolicy,
    prepare,
    upload_url,
)

INSTANT = FirmwareSimulation(download_s=0, install_s=0)


@pytest.fixture
def server() -> Iterator[Server]:
    with serving() as running:
        yield running


def update(csms: FakeCsms, location: str) -> None:
    payload = {"location": location, "retrieveDate": format_datetime(WALL_START), "retries": 0}
    assert csms.result("UpdateFirmware", payload) == {}


async def settle(csms: FakeCsms, done: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the loop run the transfer, pumping the engine, until ``done()``."""
    async with asyncio.timeout(timeout):
        while True:
            csms.pump()
            if done():
                return
            await asyncio.sleep(0.01)


def firmware_events(events: list[object]) -> list[FirmwareProgress]:
    return [e for e in events if isinstance(e, FirmwareProgress)]


def run_firmware(
    location: str, host_type: type = CPythonTransferHost, policy: TransferPolicy | None = None
) -> tuple[list, list]:
    """Update from ``location`` through a real host; (statuses sent, FirmwareProgress events)."""
    events: list[object] = []

    async def scenario() -> list[str]:
        cp, csms = booted(firmware_simulation=INSTANT)
        cp.subscribe(events.append)
        woken: list[bool] = []
        host = host_type(cp, clock=lambda: csms.now, wake=lambda: woken.append(1), policy=policy)
        cp.set_transfer_host(host)
        update(csms, location)
        await settle(csms, lambda: cp.firmware_status == "Idle")
        assert woken
        return [p["status"] for p in csms.payloads("FirmwareStatusNotification")]

    return run_async(scenario()), firmware_events(events)


def run_diagnostics(
    location: str,
    host_type: type = CPythonTransferHost,
    policy: TransferPolicy | None = None,
    events: list[object] | None = None,
) -> tuple[ChargePoint, list]:
    """GetDiagnostics to ``location`` through a real host; (the station, statuses sent)."""

    async def scenario() -> tuple[ChargePoint, list[str]]:
        cp, csms = booted()
        if events is not None:
            cp.subscribe(events.append)
        cp.set_transfer_host(host_type(cp, clock=lambda: csms.now, policy=policy))
        csms.result("GetDiagnostics", {"location": location, "retries": 0})
        await settle(csms, lambda: cp.diagnostics_status == "Idle")
        return cp, [p["status"] for p in csms.payloads("DiagnosticsStatusNotification")]

    return run_async(scenario())


# --------------------------------------------------------------------------- CPython


def test_a_real_firmware_download_reports_size_and_sha256(server: Server) -> None:
    statuses, events = run_firmware(f"{server.base}/fw-2.0.0.bin")
    assert statuses == ["Downloading", "Downloaded", "Installing", "Installed"]
    [downloaded] = [e for e in events if e.status == "Downloaded" and e.size is not None]
    assert downloaded.size == len(IMAGE)
    assert downloaded.sha256 == hashlib.sha256(IMAGE).hexdigest()
    percents = [e.percent for e in events if e.status == "Downloading" and e.percent]
    assert percents == sorted(percents)
    assert percents[-1] == 100


def test_a_missing_image_fails_with_a_clear_detail(server: Server) -> None:
    statuses, events = run_firmware(f"{server.base}/nothing-here.bin")
    assert statuses == ["Downloading", "DownloadFailed"]
    assert events[-1].detail == (
        f"download failed: HTTP 404 Not Found from {server.base}/nothing-here.bin; no attempts left"
    )


def test_credentials_in_the_location_become_basic_auth(server: Server) -> None:
    location = f"http://{USER}:{PASSWORD}@{server.base[7:]}/private/fw-3.0.bin"
    statuses, events = run_firmware(location)
    assert statuses[-1] == "Installed"
    assert all(PASSWORD not in e.detail for e in events)


def test_an_unreachable_server_fails_with_a_clear_detail(server: Server) -> None:
    location = f"{server.base}/fw-2.0.0.bin"
    server.httpd.shutdown()
    server.httpd.server_close()
    statuses, events = run_firmware(location)
    assert statuses == ["Downloading", "DownloadFailed"]
    assert events[-1].detail.startswith(f"download failed: cannot reach {location}: ")


def test_a_diagnostics_upload_is_stored_by_the_server(server: Server) -> None:
    cp, statuses = run_diagnostics(f"{server.base}/uploads/")
    assert statuses == ["Uploading", "Uploaded"]
    name, content = cp.last_diagnostics
    assert server.stored == {f"/uploads/{name}": content}
    assert server.headers[f"/uploads/{name}"]["Content-Type"] == "text/plain; charset=utf-8"


def test_a_server_refusing_put_gets_a_multipart_post(server: Server) -> None:
    cp, statuses = run_diagnostics(f"{server.base}/post-only/")
    assert statuses == ["Uploading", "Uploaded"]
    name, content = cp.last_diagnostics
    assert server.stored == {f"POST /post-only/ {name}": content}


def test_a_refused_upload_fails(server: Server) -> None:
    _cp, statuses = run_diagnostics(f"{server.base}/forbidden/")
    assert statuses == ["Uploading", "UploadFailed"]
    assert server.stored == {}


def test_timeouts_are_checked() -> None:
    cp, _csms = booted()
    with pytest.raises(ValueError):
        CPythonTransferHost(cp, clock=lambda: 0.0, timeout_s=10, limit_s=5)


@pytest.mark.parametrize(
    ("location", "url"),
    [
        ("https://h.example/up", "https://h.example/up/d.log"),
        ("https://h.example/up/", "https://h.example/up/d.log"),
        ("https://h.example", "https://h.example/d.log"),
        ("https://h.example/up?sig=1", "https://h.example/up/d.log?sig=1"),
    ],
)
def test_the_file_goes_into_the_location(location: str, url: str) -> None:
    assert upload_url(location, "d.log") == url


def test_credentials_are_moved_into_a_header() -> None:
    target = prepare("https://us%40er:p%3Ass@h.example/x")
    assert target.url == target.shown == "https://h.example/x"
    token = base64.b64decode(target.headers["Authorization"].removeprefix("Basic "))
    assert token == b"us@er:p:ss"
    assert prepare("https://h.example/x").headers == {}


# --------------------------------------------------------------------------- browser


class FakeBuffer:
    """What Pyodide gives for an ArrayBuffer or a Uint8Array."""

    def __init__(self, data: bytes = b"") -> None:
        self.data = data

    def to_bytes(self) -> bytes:
        return self.data

    def assign(self, data: bytes) -> None:
        self.data = bytes(data)


class FakeResponse:
    def __init__(self, status: int, text: str, body: bytes = b"") -> None:
        self.status, self.statusText, self.ok = status, text, 200 <= status < 300
        self._body = body

    async def arrayBuffer(self) -> FakeBuffer:
        return FakeBuffer(self._body)


class FakeJs(types.ModuleType):
    """``js`` with ``fetch`` answered by a table of URL -> response (absent: a network error)."""

    def __init__(self, responses: dict[str, FakeResponse], page: str = "http:") -> None:
        super().__init__("js")
        self.responses = responses
        self.requests: list[tuple[str, dict]] = []
        self.location = types.SimpleNamespace(protocol=page)
        self.Object = types.SimpleNamespace(fromEntries=dict)
        self.Uint8Array = types.SimpleNamespace(new=lambda size: FakeBuffer(bytes(size)))

    async def fetch(self, url: str, options: dict) -> FakeResponse:
        self.requests.append((url, options))
        method = options.get("method", "GET")
        response = self.responses.get((method, url)) or self.responses.get(url)
        if response is None:
            raise TypeError("Failed to fetch")
        return response


@pytest.fixture
def fake_js(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeJs]:
    def install(responses: dict[str, FakeResponse], page: str = "http:") -> FakeJs:
        js = FakeJs(responses, page)
        pyodide = types.ModuleType("pyodide")
        ffi = types.ModuleType("pyodide.ffi")
        ffi.to_js = lambda value, dict_converter=None: value
        pyodide.ffi = ffi
        monkeypatch.setitem(sys.modules, "js", js)
        monkeypatch.setitem(sys.modules, "pyodide", pyodide)
        monkeypatch.setitem(sys.modules, "pyodide.ffi", ffi)
        return js

    return install


def test_browser_download_reports_size_and_sha256(fake_js: Callable[..., FakeJs]) -> None:
    js = fake_js({"https://fw.example/fw-2.0.0.bin": FakeResponse(200, "OK", IMAGE)})
    statuses, events = run_firmware("https://fw.example/fw-2.0.0.bin", BrowserTransferHost)
    assert statuses == ["Downloading", "Downloaded", "Installing", "Installed"]
    [downloaded] = [e for e in events if e.size is not None]
    assert (downloaded.size, downloaded.sha256) == (len(IMAGE), hashlib.sha256(IMAGE).hexdigest())
    assert js.requests == [("https://fw.example/fw-2.0.0.bin", {"headers": {}})]


def test_browser_http_error(fake_js: Callable[..., FakeJs]) -> None:
    fake_js({"https://fw.example/x.bin": FakeResponse(404, "Not Found")})
    statuses, events = run_firmware("https://fw.example/x.bin", BrowserTransferHost)
    assert statuses == ["Downloading", "DownloadFailed"]
    assert events[-1].detail.startswith("download failed: HTTP 404 Not Found from https://")


def test_browser_fetch_failure_names_cors(fake_js: Callable[..., FakeJs]) -> None:
    fake_js({})
    _statuses, events = run_firmware("https://fw.example/x.bin", BrowserTransferHost)
    assert "the server does not allow cross-origin requests (CORS)" in events[-1].detail


def test_browser_mixed_content_is_named(fake_js: Callable[..., FakeJs]) -> None:
    fake_js({}, page="https:")
    _statuses, events = run_firmware("http://fw.example/x.bin", BrowserTransferHost)
    assert "mixed content" in events[-1].detail


def test_browser_credentials_become_a_header(fake_js: Callable[..., FakeJs]) -> None:
    js = fake_js({"https://fw.example/p/fw-1.1.bin": FakeResponse(200, "OK", b"image")})
    statuses, events = run_firmware(
        f"https://{USER}:{PASSWORD}@fw.example/p/fw-1.1.bin", BrowserTransferHost
    )
    assert statuses[-1] == "Installed"
    [(url, options)] = js.requests
    assert url == "https://fw.example/p/fw-1.1.bin"
    assert options["headers"]["Authorization"].startswith("Basic ")
    assert all(PASSWORD not in e.detail for e in events)


def test_browser_upload_puts_the_file(fake_js: Callable[..., FakeJs]) -> None:
    js = fake_js({})
    js.responses = _AnyUrl(FakeResponse(201, "Created"))
    cp, statuses = run_diagnostics("https://logs.example/up/", BrowserTransferHost)
    assert statuses == ["Uploading", "Uploaded"]
    name, content = cp.last_diagnostics
    [(url, options)] = js.requests
    assert url == f"https://logs.example/up/{name}"
    assert options["method"] == "PUT"
    assert options["body"].data == content


def test_browser_upload_falls_back_to_post(fake_js: Callable[..., FakeJs]) -> None:
    js = fake_js({"https://logs.example/up/": FakeResponse(200, "OK")})
    js.responses = _ByMethod(
        {"PUT": FakeResponse(405, "Method Not Allowed"), "POST": FakeResponse(200, "OK")}
    )
    cp, statuses = run_diagnostics("https://logs.example/up/", BrowserTransferHost)
    assert statuses == ["Uploading", "Uploaded"]
    name, content = cp.last_diagnostics
    (put_url, put), (post_url, post) = js.requests
    assert put["method"] == "PUT" and put_url == f"https://logs.example/up/{name}"
    assert post["method"] == "POST" and post_url == "https://logs.example/up/"
    assert post["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert content in post["body"].data and f'filename="{name}"'.encode() in post["body"].data


def test_browser_upload_failure(fake_js: Callable[..., FakeJs]) -> None:
    fake_js({})
    events: list[object] = []

    async def scenario() -> None:
        cp, csms = booted()
        cp.subscribe(events.append)
        cp.set_transfer_host(BrowserTransferHost(cp, clock=lambda: csms.now))
        csms.result("GetDiagnostics", {"location": "https://logs.example/", "retries": 0})
        await settle(csms, lambda: cp.diagnostics_status == "Idle")

    run_async(scenario())
    last = [e for e in events if isinstance(e, DiagnosticsProgress)][-1]
    assert last.status == "UploadFailed"
    assert "CORS" in last.detail


class _ByMethod(dict):
    """A response table that answers by HTTP method, whatever the URL."""

    def __init__(self, responses: dict[str, FakeResponse]) -> None:
        super().__init__()
        self.responses = responses

    def get(self, key: object, default: object = None) -> FakeResponse | None:
        return self.responses.get(key[0]) if isinstance(key, tuple) else None


class _AnyUrl(dict):
    """A response table that answers every URL the same way."""

    def __init__(self, response: FakeResponse) -> None:
        super().__init__()
        self.response = response

    def get(self, key: str, default: object = None) -> FakeResponse:
        return self.response
