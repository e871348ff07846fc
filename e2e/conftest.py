"""End-to-end fixtures: the built dist/ served by the dev server, and Chromium from the system.

``build.py test`` builds dist/ first and tells us which Chromium to launch through
``OCPP_SIM_CHROMIUM``; run by hand, we fall back to Playwright's own browser.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from backends import InProcessCsms, LoopThread
from pagekit import AUTH_PASSWORD, ConsoleRecord
from playwright.sync_api import ConsoleMessage, Page, expect

from devtools.demo_csms import CsmsOptions

ROOT = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("OCPP_SIM_DIST", ROOT / "dist"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 30.0

# Pyodide starts in seconds, but a loaded CI machine can stretch anything: be generous.
expect.set_options(timeout=20_000)


@dataclass(frozen=True)
class Servers:
    """Where the dev server listens: the page, the demo CSMS and the echo endpoint."""

    page: str
    csms: str
    echo: str

    @property
    def origin(self) -> str:
        return self.page.rstrip("/")


def chromium_path() -> str | None:
    """What ``build.py test`` chose; run by hand, the same search (None = Playwright's own)."""
    chosen = os.environ.get("OCPP_SIM_CHROMIUM")
    if chosen:
        return chosen
    spec = importlib.util.spec_from_file_location("ocpp_sim_build_script", ROOT / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    found = build.find_chromium()
    return None if found is None else str(found)


BROWSER_CRASHED = "Target crashed"
"""What Playwright raises when Chromium's renderer dies. It happened once in about ten runs of
the suite here, at random, while Pyodide loaded: a browser fault, not an assertion. Such a test
runs once more (pytest-rerunfailures, reported as a rerun); any other failure fails at once, and
a page that crashes the renderer every time still fails."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.flaky(reruns=1, only_rerun=[BROWSER_CRASHED]))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    chromium = chromium_path()
    args = {**browser_type_launch_args, "args": CHROMIUM_ARGS}
    if chromium:
        args["executable_path"] = chromium
    return args


def read_announced_urls(process: subprocess.Popen[str]) -> Servers:
    """The server prints 'Page: …', 'CSMS: …', 'Echo: …' once it listens."""
    urls: dict[str, str] = {}
    assert process.stdout is not None
    while len(urls) < 3:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"dev server exited early (code {process.poll()})")
        label, _, value = line.partition(":")
        if label in ("Page", "CSMS", "Echo"):
            urls[label] = value.strip()
    return Servers(page=urls["Page"], csms=urls["CSMS"], echo=urls["Echo"])


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    if not (DIST / "index.html").is_file():
        pytest.fail(f"{DIST} is not built: run `python3 build.py build` (or `build.py test`)")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools.server",
            "--dist",
            str(DIST),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield read_announced_urls(process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def csms(loop_thread: LoopThread) -> Iterator[InProcessCsms]:
    """Page + demo CSMS (no auth) in-process, so tests can read what the CSMS recorded."""
    server = InProcessCsms(loop_thread, DIST)
    yield server
    server.close()


@pytest.fixture(scope="session")
def auth_csms(loop_thread: LoopThread) -> Iterator[InProcessCsms]:
    """Page + demo CSMS that challenges with 401 + WWW-Authenticate: Basic."""
    server = InProcessCsms(loop_thread, DIST, CsmsOptions(password=AUTH_PASSWORD))
    yield server
    server.close()


@pytest.fixture(scope="session")
def csms16_only(loop_thread: LoopThread) -> Iterator[InProcessCsms]:
    """Page + demo CSMS that speaks OCPP 1.6 only (selects no other subprotocol)."""
    server = InProcessCsms(loop_thread, DIST, CsmsOptions(subprotocols=("ocpp1.6",)))
    yield server
    server.close()


@pytest.fixture(scope="session")
def csms201_only(loop_thread: LoopThread) -> Iterator[InProcessCsms]:
    """Page + demo CSMS that speaks OCPP 2.0.1 only."""
    server = InProcessCsms(loop_thread, DIST, CsmsOptions(subprotocols=("ocpp2.0.1",)))
    yield server
    server.close()


def _tests_module(name: str) -> ModuleType:
    """A helper module of the unit tests (tests/<name>.py), loaded by path so that e2e also
    runs on its own."""
    spec = importlib.util.spec_from_file_location(f"ocpp_sim_{name}", ROOT / "tests" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The suite's independent OCPP frame checker (jsonschema and the `ocpp` package's schemas), and
# its HTTP file server (CORS included) for real firmware downloads and diagnostics uploads.
FrameChecker = _tests_module("ocpp_schema_check").FrameChecker
_files = _tests_module("file_server")
FIRMWARE_IMAGE: bytes = _files.IMAGE


def invalid_frames_sent(server: InProcessCsms) -> list[str]:
    """Every frame a station sent to this CSMS that breaks the official schemas.

    The page's engine runs in Chromium, out of reach of the unit tests' FrameGuard: here its
    frames are replayed, as the CSMS recorded them, through the same independent checker. A
    CALLRESULT whose CALL fell out of the bounded history is passed over.
    """

    def read() -> list[tuple[str, str, list[tuple[str, str]]]]:
        return [
            (state.charge_box_id, state.protocol or "ocpp1.6", list(state.frames))
            for state in server.server.csms.registry
        ]

    problems: list[str] = []
    for charge_box_id, protocol, frames in server.loop.call(read):
        checker = FrameChecker("2.0.1" if protocol == "ocpp2.0.1" else "1.6")
        for direction, text in frames:
            if direction != "recv":
                checker.incoming(text)
                continue
            frame = json.loads(text)
            if frame[0] == 3 and frame[1] not in checker.received_calls:
                continue
            try:
                checker.outgoing(text)
            except AssertionError as error:
                problems.append(f"{charge_box_id}: {error}")
    return problems


@pytest.fixture(autouse=True)
def _frames_the_page_sent_are_valid(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that used an in-process CSMS: every frame the page sent it was valid."""
    yield
    for name in ("csms", "auth_csms", "csms16_only", "csms201_only"):
        if name in request.fixturenames:
            problems = invalid_frames_sent(request.getfixturevalue(name))
            assert not problems, "\n".join(problems)


@pytest.fixture
def file_server() -> Iterator[Any]:
    """Firmware images and diagnostics uploads over real HTTP, on their own port (CORS)."""
    with _files.serving() as server:
        yield server


# The storms' counts, in the summary (the unit suite's fixture and hook, one module).
_counts = _tests_module("count_report")
report_counts = _counts.report_counts
pytest_terminal_summary = _counts.pytest_terminal_summary


@pytest.fixture
def console(page: Page) -> ConsoleRecord:
    record = ConsoleRecord([], [])

    def on_console(message: ConsoleMessage) -> None:
        record.messages.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: record.errors.append(str(error)))
    return record
