"""Print how long the Control Center takes from page load to an accepted BootNotification,
against a bare page that only runs ``loadPyodide()`` in the same Chromium (target: 1.3 times).

Run: ``.venv/bin/python bench/bench_browser.py [--runs 5]`` after ``python3 build.py build``;
Chromium as for the e2e tests. Both pages come from the same local server and dist/, each run in
a fresh browser context (nothing cached), interleaved so machine noise hits both alike. Times are
``performance.now()`` at the moment, i.e. milliseconds since navigation start.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "e2e"), str(ROOT)]

from backends import InProcessCsms, LoopThread  # noqa: E402
from conftest import CHROMIUM_ARGS, DIST, chromium_path  # noqa: E402
from playwright.sync_api import Browser, sync_playwright  # noqa: E402

TARGET_RATIO = 1.3
TIMEOUT_MS = 120_000
BARE_PAGE = """<!doctype html><meta charset="utf-8"><title>bare Pyodide</title>
<script type="module">
const { loadPyodide } = await import("./pyodide/pyodide.mjs");
await loadPyodide({ indexURL: "./pyodide/" });
window.bareReadyAt = performance.now();
</script>"""


def bare_load_ms(browser: Browser, origin: str) -> float:
    """loadPyodide() alone, from a page served at the same origin as the simulator."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.route(
            f"{origin}/__bare.html",
            lambda route: route.fulfill(body=BARE_PAGE, content_type="text/html"),
        )
        page.goto(f"{origin}/__bare.html")
        page.wait_for_function("window.bareReadyAt !== undefined", timeout=TIMEOUT_MS)
        return float(page.evaluate("window.bareReadyAt"))
    finally:
        context.close()


def boot_accepted_ms(browser: Browser, csms: InProcessCsms, run: int) -> float:
    """The Control Center with a deep link: load, install the wheel, connect, boot Accepted."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{csms.page}?url={csms.csms}&id=BENCH-{run}&autoconnect=1")
        page.wait_for_function(
            "document.querySelector('[data-testid=registration]')?.textContent === 'Accepted'",
            timeout=TIMEOUT_MS,
        )
        return float(page.evaluate("performance.now()"))
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not (DIST / "index.html").is_file():
        print("dist/ is not built: run `python3 build.py build`", file=sys.stderr)
        return 2
    loop = LoopThread()
    csms = InProcessCsms(loop, DIST)
    bare: list[float] = []
    simulator: list[float] = []
    try:
        with sync_playwright() as playwright:
            executable = chromium_path()
            browser = playwright.chromium.launch(
                args=CHROMIUM_ARGS, **({"executable_path": executable} if executable else {})
            )
            origin = csms.page.rstrip("/")
            bare_load_ms(browser, origin)  # warm-up: the OS file cache, Chromium's first start
            for run in range(args.runs):
                bare.append(bare_load_ms(browser, origin))
                simulator.append(boot_accepted_ms(browser, csms, run))
            browser.close()
    finally:
        csms.close()
        loop.close()
    bare_ms, sim_ms = statistics.median(bare), statistics.median(simulator)
    ratio = sim_ms / bare_ms
    print(f"Browser start-up, median of {args.runs} interleaved runs (ms since navigation)")
    print(f"  bare page: loadPyodide() resolved               {bare_ms:9,.0f} ms")
    print(f"  Control Center: BootNotification Accepted       {sim_ms:9,.0f} ms")
    print(f"  ratio{ratio:52.2f}    target <= {TARGET_RATIO}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
