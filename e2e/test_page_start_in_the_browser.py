"""The page's start in Chromium (issue 16, "faster page start"): every file the start needs is
requested with the page through index.html's preload links and used once, the Control Center
comes as a wheel (no module fetched one by one), micropip installs it, and the start's phases
are marked for bench/bench_browser.py --phases."""

from __future__ import annotations

from urllib.parse import urlsplit

from pagekit import open_app
from playwright.sync_api import Page, expect

PRELOADS = """() => [...document.querySelectorAll('link[rel=preload], link[rel=modulepreload]')]
  .map((link) => link.href)"""
MARKS = "['ocpp-sim:main', 'ocpp-sim:imported', 'ocpp-sim:interactive'].map((name) =>"
MARKS += " performance.getEntriesByName(name, 'mark')[0]?.startTime ?? null)"


def test_preloaded_files_are_fetched_once_and_the_start_is_marked(
    page: Page, servers, console
) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_app(page, servers.page, url=servers.csms, id="E2E-START", autoconnect="1")
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")

    preloaded = page.evaluate(PRELOADS)
    assert any(url.endswith("pyodide.asm.wasm") for url in preloaded)
    wheels = [url for url in preloaded if url.endswith(".whl")]
    assert len(wheels) == 3, wheels  # micropip, the simulator, the Control Center
    for url in preloaded:
        # a preload the page's own request did not match would be fetched a second time
        assert requests.count(url) == 1, (url, requests.count(url))
    assert not [m for m in console.messages if "preload" in m.lower()], console.messages
    paths = [urlsplit(url).path for url in requests]
    assert not [path for path in paths if "/control_center/" in path]
    main, imported, interactive = page.evaluate(MARKS)
    assert main is not None and imported is not None and interactive is not None
    assert main <= imported <= interactive
