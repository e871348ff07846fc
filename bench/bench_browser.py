"""Print how long the Control Center takes from page load to an accepted BootNotification,
against a bare page that only runs ``loadPyodide()`` in the same Chromium (target: 1.15 times).

Run: ``.venv/bin/python bench/bench_browser.py [--runs 5] [--phases] [--baseline DIR]`` after
``python3 build.py build``; Chromium as for the e2e tests. Both pages come from the same local
server and dist/, each run in a fresh browser context (nothing cached), interleaved so machine
noise hits both alike. Times are ``performance.now()`` at the moment, i.e. milliseconds since
navigation start.

``--phases`` prints where the time went (medians): the page's ``py:progress`` events, its resource
timing and the ``ocpp-sim:*`` performance marks of web/interpreter.mjs, main.py and boot.js.
``--baseline DIR``
also runs another built site (say a copy of dist/ from before a change), its bare page and its
Control Center, interleaved with the others, for a before/after comparison in one run; each
ratio is against the bare page of the same site (the same Pyodide files).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "e2e"), str(ROOT)]

from backends import InProcessCsms, LoopThread  # noqa: E402
from conftest import CHROMIUM_ARGS, DIST, chromium_path  # noqa: E402
from playwright.sync_api import Browser, sync_playwright  # noqa: E402

TARGET_RATIO = 1.15
TIMEOUT_MS = 120_000
BARE_PAGE = """<!doctype html><meta charset="utf-8"><title>bare Pyodide</title>
<script type="module">
const { loadPyodide } = await import("./pyodide/pyodide.mjs");
await loadPyodide({ indexURL: "./pyodide/" });
window.bareReadyAt = performance.now();
</script>"""
# Recorded in every page before its own scripts run: PyScript's progress events, and the
# "Loaded micropip" line Pyodide logs once micropip's wheel is unpacked (before its import).
RECORD_PROGRESS = """window.__benchProgress = {};
addEventListener("py:progress", (event) => {
  window.__benchProgress[event.detail] ??= performance.now();
});
const benchLog = console.log;
console.log = (...args) => {
  if (String(args[0]).startsWith("Loaded micropip")) {
    window.__benchProgress["Loaded micropip"] ??= performance.now();
  }
  return benchLog.apply(console, args);
};"""
# Moments of one start (ms since navigation), read after BootNotification was accepted.
MOMENTS = """() => {
  const resources = performance.getEntriesByType("resource");
  const requested = (part) => resources.find((entry) => entry.name.includes(part))?.startTime;
  const mark = (name) => performance.getEntriesByName(name, "mark")[0]?.startTime;
  const progress = window.__benchProgress || {};
  return {
    "Pyodide requested": requested("pyodide.asm.wasm"),
    "interpreter loaded":
      mark("ocpp-sim:pyodide") ?? progress["Loaded interpreter"] ?? window.bareReadyAt,
    "micropip unpacked": progress["Loaded micropip"],
    "wheels installed": mark("ocpp-sim:wheels") ?? progress["Loaded Pyodide"],
    "main.py running": mark("ocpp-sim:main"),
    "Control Center imported": mark("ocpp-sim:imported"),
    "interactive": mark("ocpp-sim:interactive"),
  };
}"""
PHASES = (
    ("Pyodide requested", "page load until Pyodide's files are requested"),
    ("interpreter loaded", "Pyodide's interpreter started"),
    ("micropip unpacked", "micropip's wheel fetched and unpacked"),
    ("wheels installed", "micropip imported, our wheels installed"),
    ("main.py running", "PyScript ready, main.py running"),
    ("Control Center imported", "imports of ocpp_core, sim, control_center"),
    ("interactive", "ControlCenter built and started"),
    ("BootNotification accepted", "connect, BootNotification, Accepted shown"),
)


@dataclass
class Series:
    """The runs of one page: its end times and the moments of each run."""

    name: str
    ends: list[float] = field(default_factory=list)
    moments: list[dict[str, float | None]] = field(default_factory=list)

    def add(self, end: float, moments: dict[str, float | None]) -> None:
        self.ends.append(end)
        self.moments.append({**moments, "BootNotification accepted": end})

    @property
    def median(self) -> float:
        return statistics.median(self.ends)

    def phase(self, index: int) -> float | None:
        """Median duration of phase ``index``: from the moment before it (0 = navigation)."""
        name = PHASES[index][0]
        durations = []
        for moments in self.moments:
            end = moments.get(name)
            earlier = [moments.get(previous) for previous, _ in PHASES[:index]]
            known = [value for value in earlier if value is not None]
            if end is not None:
                durations.append(end - (known[-1] if known else 0.0))
        return statistics.median(durations) if durations else None


def bare_load(browser: Browser, origin: str) -> tuple[float, dict[str, float | None]]:
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
        return float(page.evaluate("window.bareReadyAt")), page.evaluate(MOMENTS)
    finally:
        context.close()


def boot_accepted(
    browser: Browser, csms: InProcessCsms, run: int
) -> tuple[float, dict[str, float | None]]:
    """The Control Center with a deep link: load, install the wheels, connect, boot Accepted."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.add_init_script(RECORD_PROGRESS)
        page.goto(f"{csms.page}?url={csms.csms}&id=BENCH-{run}&autoconnect=1")
        page.wait_for_function(
            "document.querySelector('[data-testid=registration]')?.textContent === 'Accepted'",
            timeout=TIMEOUT_MS,
        )
        return float(page.evaluate("performance.now()")), page.evaluate(MOMENTS)
    finally:
        context.close()


def print_phases(series: list[Series]) -> None:
    print("\nWhere the time went (median ms of each phase; '-': not marked by that page)")
    print(f"  {'phase':<58}" + "".join(f"{s.name:>17}" for s in series))
    for index, (_, what) in enumerate(PHASES):
        cells = [s.phase(index) for s in series]
        if all(cell is None for cell in cells):
            continue
        row = "".join(f"{'-':>17}" if cell is None else f"{cell:17,.0f}" for cell in cells)
        print(f"  {what:<58}{row}")
    print(f"  {'total (median of the totals)':<58}" + "".join(f"{s.median:17,.0f}" for s in series))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--phases", action="store_true", help="print where the time went")
    parser.add_argument(
        "--baseline", type=Path, metavar="DIR", help="another built dist/ to compare against"
    )
    args = parser.parse_args()
    for site in (DIST, args.baseline):
        if site is not None and not (site / "index.html").is_file():
            print(f"{site} is not built: run `python3 build.py build`", file=sys.stderr)
            return 2
    loop = LoopThread()
    servers = [InProcessCsms(loop, DIST)]
    if args.baseline is not None:
        servers.append(InProcessCsms(loop, args.baseline))
    bares = [Series("bare"), Series("bare (baseline)")][: len(servers)]
    pages = [Series("this build"), Series("baseline")][: len(servers)]
    try:
        with sync_playwright() as playwright:
            executable = chromium_path()
            browser = playwright.chromium.launch(
                args=CHROMIUM_ARGS, **({"executable_path": executable} if executable else {})
            )
            origins = [server.page.rstrip("/") for server in servers]
            bare_load(browser, origins[0])  # warm-up: the OS file cache, Chromium's first start
            for run in range(args.runs):
                for server, origin, bare, page in zip(servers, origins, bares, pages, strict=True):
                    bare.add(*bare_load(browser, origin))
                    page.add(*boot_accepted(browser, server, run))
            browser.close()
    finally:
        for server in servers:
            server.close()
        loop.close()
    print(f"Browser start-up, median of {args.runs} interleaved runs (ms since navigation)")
    for bare, page in zip(bares, pages, strict=True):
        ratio = page.median / bare.median
        print(f"  {bare.name}: loadPyodide() resolved".ljust(50) + f"{bare.median:9,.0f} ms")
        print(
            f"  Control Center ({page.name}): Accepted".ljust(50)
            + f"{page.median:9,.0f} ms   ratio {ratio:.2f} (target <= {TARGET_RATIO})"
        )
    if args.phases:
        print_phases([series for pair in zip(bares, pages, strict=True) for series in pair])
    return 0


if __name__ == "__main__":
    sys.exit(main())
