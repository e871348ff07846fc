"""Transfers a CSMS can steer (issue 18.5): credentials stay with their origin across redirects,
an allow-list of destinations (also for redirects) and size limits, on the CPython host against
local HTTP servers and on the browser host against a fake ``fetch``. A refused transfer fails
with its reason (DownloadFailed / UploadFailed), never a crash."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
from file_server import IMAGE, PASSWORD, USER, Server, serving
from test_transfer import (
    FakeBuffer,
    FakeJs,
    FakeResponse,
    fake_js,  # noqa: F401 - the fixture
    run_diagnostics,
    run_firmware,
)

from ocpp_core import DiagnosticsProgress
from sim.transfer import (
    DEFAULT_MAX_BYTES,
    BrowserTransferHost,
    CPythonTransferHost,
    TransferPolicy,
    origin,
)

BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@pytest.fixture
def two() -> Iterator[tuple[Server, Server]]:
    """Two servers: two origins (same address, other ports)."""
    with serving() as first, serving() as second:
        yield first, second


def with_credentials(base: str, path: str) -> str:
    return f"http://{USER}:{PASSWORD}@{base.removeprefix('http://')}{path}"


def redirect(to: str, code: int = 302) -> str:
    return f"/redirect?to={quote(to, safe='')}&code={code}"


def localhost(server: Server) -> str:
    """The server's base URL under another host name (localhost instead of 127.0.0.1)."""
    return server.base.replace("127.0.0.1", "localhost")


# --------------------------------------------------------------------------- credentials


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_credentials_are_never_sent_to_another_origin_after_a_redirect(
    two: tuple[Server, Server], code: int
) -> None:
    first, second = two
    location = with_credentials(first.base, redirect(f"{second.base}/fw-2.0.0.bin", code))
    statuses, events = run_firmware(location)
    assert statuses[-1] == "Installed"  # the image came from the second server
    assert first.requests[0][2] == BASIC  # the location's own origin got the credentials
    assert [r[2] for r in second.requests] == [None]
    assert all(PASSWORD not in e.detail for e in events)


def test_credentials_follow_a_redirect_within_their_origin(server: Server) -> None:
    location = with_credentials(server.base, redirect("/private/fw-3.0.bin"))
    statuses, _events = run_firmware(location)
    assert statuses[-1] == "Installed"
    assert [r[2] for r in server.requests] == [BASIC, BASIC]


def test_a_diagnostics_post_redirected_elsewhere_loses_the_credentials(
    two: tuple[Server, Server],
) -> None:
    """PUT refused (405), the multipart POST is redirected (303 → GET) to another origin."""
    first, second = two
    target = f"{second.base}/fw-2.0.0.bin"
    location = with_credentials(first.base, f"/post-only{redirect(target, 303)}")
    run_diagnostics(location)
    assert [r[:2] for r in second.requests] == [("GET", "/fw-2.0.0.bin")]
    assert [r[2] for r in second.requests] == [None]
    assert {r[2] for r in first.requests} == {BASIC}


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://h.example/x", "http://H.EXAMPLE:80/y", True),
        ("https://h.example/x", "https://h.example:443/", True),
        ("http://h.example/x", "https://h.example/x", False),
        ("http://h.example/x", "http://h.example:8080/x", False),
        ("http://h.example/x", "http://g.example/x", False),
    ],
)
def test_an_origin_is_scheme_host_and_port(a: str, b: str, same: bool) -> None:
    assert (origin(a) == origin(b)) is same


# --------------------------------------------------------------------------- allow-list


def test_a_destination_outside_the_allow_list_fails_the_download(server: Server) -> None:
    policy = TransferPolicy.parse("127.0.0.1, fw.example")
    statuses, events = run_firmware(f"{localhost(server)}/fw-2.0.0.bin", policy=policy)
    assert statuses == ["Downloading", "DownloadFailed"]
    assert events[-1].detail == (
        "download refused: localhost is not an allowed transfer destination"
        " (allowed: 127.0.0.1, fw.example); no attempts left"
    )
    assert server.requests == []  # nothing was sent


def test_an_allowed_destination_downloads(server: Server) -> None:
    statuses, _ = run_firmware(
        f"{server.base}/fw-2.0.0.bin", policy=TransferPolicy.parse("127.0.0.1")
    )
    assert statuses[-1] == "Installed"


def test_the_allow_list_applies_to_redirects(two: tuple[Server, Server]) -> None:
    first, second = two
    policy = TransferPolicy.parse("127.0.0.1")
    location = f"{first.base}{redirect(localhost(second) + '/fw-2.0.0.bin')}"
    statuses, events = run_firmware(location, policy=policy)
    assert statuses == ["Downloading", "DownloadFailed"]
    assert "redirected (HTTP 302) but localhost is not an allowed transfer destination" in (
        events[-1].detail
    )
    assert second.requests == []


def test_same_csms_allows_the_csms_host_only(server: Server) -> None:
    policy = TransferPolicy.parse("same-csms", csms_url="ws://127.0.0.1:9000/ocpp")
    assert policy.hosts == frozenset({"127.0.0.1"})
    assert run_firmware(f"{server.base}/fw-2.0.0.bin", policy=policy)[0][-1] == "Installed"
    statuses, _ = run_firmware(f"{localhost(server)}/fw-2.0.0.bin", policy=policy)
    assert statuses[-1] == "DownloadFailed"


def test_an_upload_outside_the_allow_list_fails(server: Server) -> None:
    events: list[object] = []
    policy = TransferPolicy.parse("csms.example")
    _cp, statuses = run_diagnostics(f"{server.base}/uploads/", policy=policy, events=events)
    assert statuses == ["Uploading", "UploadFailed"]
    last = [e for e in events if isinstance(e, DiagnosticsProgress)][-1]
    assert last.detail.startswith("upload refused: 127.0.0.1 is not an allowed transfer dest")
    assert server.requests == [] and server.stored == {}


@pytest.mark.parametrize(
    ("allow", "message"),
    [
        ("http://h.example", "is not a host name"),
        ("h.example/path", "is not a host name"),
        ("user@h.example", "is not a host name"),
        (" , ", "names no host"),
        ("", None),  # blank: any host
        ("same-csms", "needs a CSMS URL"),
    ],
)
def test_allow_list_text_is_checked(allow: str, message: str | None) -> None:
    if message is None:
        assert TransferPolicy.parse(allow).hosts is None
        return
    with pytest.raises(ValueError, match=message):
        TransferPolicy.parse(allow)


def test_allow_list_hosts_are_case_insensitive_and_ipv6_unbracketed() -> None:
    policy = TransferPolicy.parse("FW.Example,[::1]")
    assert policy.refusal("https://fw.EXAMPLE:8443/a") is None
    assert policy.refusal("http://[::1]:8080/a") is None
    assert policy.refusal("http://169.254.169.254/latest") is not None
    assert TransferPolicy().refusal("http://169.254.169.254/latest") is None  # off by default


@pytest.mark.parametrize("limit", [0, -1, True, 1.5])
def test_the_size_limit_is_checked(limit: object) -> None:
    with pytest.raises(ValueError, match="size limit"):
        TransferPolicy.parse(None, max_bytes=limit)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- size limits


def test_the_default_size_limit_is_64_mib() -> None:
    assert TransferPolicy().max_bytes == DEFAULT_MAX_BYTES == 64 * 1024 * 1024


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/big-200000.bin", "the image announced is too large: 200000 bytes exceed"),
        ("/big-stream-200000.bin", "the image is too large: "),
    ],
)
def test_a_download_over_the_limit_fails(server: Server, path: str, reason: str) -> None:
    policy = TransferPolicy(max_bytes=100_000)
    statuses, events = run_firmware(f"{server.base}{path}", policy=policy)
    assert statuses == ["Downloading", "DownloadFailed"]
    assert events[-1].detail.startswith(f"download refused: {reason}")
    assert "the transfer limit of 100000 bytes" in events[-1].detail


def test_a_download_at_the_limit_succeeds(server: Server) -> None:
    policy = TransferPolicy(max_bytes=len(IMAGE))
    statuses, _ = run_firmware(f"{server.base}/fw-2.0.0.bin", policy=policy)
    assert statuses[-1] == "Installed"


def test_an_upload_over_the_limit_fails_before_sending(server: Server) -> None:
    events: list[object] = []
    policy = TransferPolicy(max_bytes=100)  # a diagnostics file is a few kB
    _cp, statuses = run_diagnostics(f"{server.base}/uploads/", policy=policy, events=events)
    assert statuses == ["Uploading", "UploadFailed"]
    last = [e for e in events if isinstance(e, DiagnosticsProgress)][-1]
    assert last.detail.startswith("upload refused: the diagnostics file is too large: ")
    assert server.requests == []


@pytest.fixture
def server() -> Iterator[Server]:
    with serving() as running:
        yield running


# --------------------------------------------------------------------------- browser


class FakeChunk:
    def __init__(self, value: bytes | None) -> None:
        self.done = value is None
        self.value = None if value is None else FakeBuffer(value)


class FakeReader:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.cancelled = False

    async def read(self) -> FakeChunk:
        return FakeChunk(self.chunks.pop(0) if self.chunks else None)

    async def cancel(self) -> None:
        self.cancelled = True


class StreamingResponse(FakeResponse):
    """A fetch response with a body stream and headers, as browsers give."""

    def __init__(self, chunks: list[bytes], length: int | None = None) -> None:
        super().__init__(200, "OK")
        self.reader = FakeReader(chunks)
        self.body = self
        self.headers = {} if length is None else {"Content-Length": str(length)}

    def getReader(self) -> FakeReader:
        return self.reader


def test_browser_does_not_follow_redirects_with_credentials(
    fake_js: Callable[..., FakeJs],  # noqa: F811
) -> None:
    js = fake_js({"https://fw.example/p/fw-1.1.bin": FakeResponse(200, "OK", b"image")})
    statuses, _ = run_firmware(
        f"https://{USER}:{PASSWORD}@fw.example/p/fw-1.1.bin", BrowserTransferHost
    )
    assert statuses[-1] == "Installed"
    [(_url, options)] = js.requests
    assert options["redirect"] == "error"


def test_browser_without_credentials_or_allow_list_follows_redirects(
    fake_js: Callable[..., FakeJs],  # noqa: F811
) -> None:
    js = fake_js({"https://fw.example/fw-1.1.bin": FakeResponse(200, "OK", b"image")})
    run_firmware("https://fw.example/fw-1.1.bin", BrowserTransferHost)
    [(_url, options)] = js.requests
    assert "redirect" not in options


def test_browser_refuses_a_destination_outside_the_allow_list(
    fake_js: Callable[..., FakeJs],  # noqa: F811
) -> None:
    js = fake_js({"https://evil.example/fw-1.1.bin": FakeResponse(200, "OK", b"image")})
    policy = TransferPolicy.parse("fw.example")
    statuses, events = run_firmware(
        "https://evil.example/fw-1.1.bin", BrowserTransferHost, policy=policy
    )
    assert statuses == ["Downloading", "DownloadFailed"]
    assert events[-1].detail.startswith("download refused: evil.example is not an allowed")
    assert js.requests == []
    ok_js = fake_js({"https://fw.example/fw-1.1.bin": FakeResponse(200, "OK", b"image")})
    statuses, _ = run_firmware("https://fw.example/fw-1.1.bin", BrowserTransferHost, policy)
    assert statuses[-1] == "Installed"
    [(_url, options)] = ok_js.requests
    assert options["redirect"] == "error"  # a redirect could lead anywhere


def test_browser_upload_outside_the_allow_list_is_not_sent(
    fake_js: Callable[..., FakeJs],  # noqa: F811
) -> None:
    js = fake_js({})
    events: list[object] = []
    policy = TransferPolicy.parse("csms.example")
    _cp, statuses = run_diagnostics(
        "https://logs.example/up/", BrowserTransferHost, policy=policy, events=events
    )
    assert statuses == ["Uploading", "UploadFailed"]
    last = [e for e in events if isinstance(e, DiagnosticsProgress)][-1]
    assert last.detail.startswith("upload refused: logs.example is not an allowed")
    assert js.requests == []


@pytest.mark.parametrize("announced", [None, 3 * 40_000])
def test_browser_download_over_the_limit_fails(
    fake_js: Callable[..., FakeJs],  # noqa: F811
    announced: int | None,
) -> None:
    response = StreamingResponse([bytes(40_000)] * 3, announced)
    fake_js({"https://fw.example/big.bin": response})
    policy = TransferPolicy(max_bytes=100_000)
    statuses, events = run_firmware("https://fw.example/big.bin", BrowserTransferHost, policy)
    assert statuses == ["Downloading", "DownloadFailed"]
    assert events[-1].detail.startswith("download refused: the image")
    assert "the transfer limit of 100000 bytes" in events[-1].detail
    assert response.reader.cancelled is (announced is None)


def test_browser_streams_the_image_through_sha256(
    fake_js: Callable[..., FakeJs],  # noqa: F811
) -> None:
    fake_js({"https://fw.example/fw.bin": StreamingResponse([IMAGE[:1000], IMAGE[1000:]])})
    statuses, events = run_firmware("https://fw.example/fw.bin", BrowserTransferHost)
    assert statuses[-1] == "Installed"
    [downloaded] = [e for e in events if e.size is not None]
    assert downloaded.size == len(IMAGE)


def test_browser_upload_over_the_limit_fails(fake_js: Callable[..., FakeJs]) -> None:  # noqa: F811
    js = fake_js({})
    events: list[object] = []
    policy = TransferPolicy(max_bytes=100)
    _cp, statuses = run_diagnostics(
        "https://logs.example/up/", BrowserTransferHost, policy=policy, events=events
    )
    assert statuses == ["Uploading", "UploadFailed"]
    assert js.requests == []


def test_hosts_take_the_default_policy() -> None:
    from fake_csms import booted

    cp, _csms = booted()
    assert CPythonTransferHost(cp, clock=lambda: 0.0).policy == TransferPolicy()
    assert BrowserTransferHost(cp, clock=lambda: 0.0).policy == TransferPolicy()
