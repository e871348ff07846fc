"""The walking skeleton in real Chromium: wheel -> micropip -> Pyodide -> PyScript -> WebSocket."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

READY_TIMEOUT_MS = 90_000


def test_page_reaches_ready_and_echo_round_trips(page: Page, servers) -> None:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.on("websocket", lambda socket: urls.append(socket.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(servers.page)

    expect(page.get_by_test_id("app-state")).to_have_attribute(
        "data-state", "ready", timeout=READY_TIMEOUT_MS
    )
    expect(page.get_by_test_id("core-version")).to_have_text("0.1.0")
    expect(page.get_by_test_id("python-version")).to_have_text(re.compile(r"^3\.1\d\.\d+$"))
    expect(page.get_by_test_id("echo-result")).to_have_attribute("data-state", "received")
    expect(page.get_by_test_id("echo-result")).to_have_text("hello from ocpp_core 0.1.0")
    expect(page.get_by_test_id("csms-url")).to_have_text(f"{servers.csms}")
    assert errors == []

    local = urlsplit(servers.page).netloc
    hosts = {urlsplit(url).netloc for url in urls}
    assert hosts == {local}, f"requests to other hosts: {hosts - {local}}"
    assert any(url.endswith(".whl") for url in urls)
    assert any(url.endswith("pyodide.asm.wasm") for url in urls)
    assert any(url.startswith("ws://") for url in urls)


def test_echo_url_from_deep_link_is_used(page: Page, servers) -> None:
    page.goto(f"{servers.page}?echo={servers.echo}")
    expect(page.get_by_test_id("echo-url")).to_have_text(servers.echo, timeout=READY_TIMEOUT_MS)
    expect(page.get_by_test_id("echo-result")).to_have_attribute("data-state", "received")


def test_bad_echo_url_shows_a_clear_error(page: Page, servers) -> None:
    page.goto(f"{servers.page}?echo=not-a-websocket-url")
    expect(page.get_by_test_id("app-state")).to_have_attribute(
        "data-state", "ready", timeout=READY_TIMEOUT_MS
    )
    result = page.get_by_test_id("echo-result")
    expect(result).to_have_attribute("data-state", "error")
    expect(result).to_contain_text("not a WebSocket URL")
