"""Print the unsafe window of the browser store: how long a frame's record is not yet durable
after the frame left, and a reply's effect after the reply arrived (issue 11).

Run: ``.venv/bin/python bench/bench_browser_durability.py [--sessions 10]`` after
``python3 build.py build``; Chromium as for the e2e tests. One page charges ``--sessions``
times against the in-process demo CSMS. An init script timestamps (``performance.now()``) every
WebSocket frame sent and received and every write to the store's localStorage log; the page's
``ocppSim.storeStats()`` gives how long each write took to reach IndexedDB.

* before (IndexedDB only, the design up to this change): a record was durable when the IDBFS
  flush carrying it completed; the frame had left in the same tick, so the window is the
  write-to-IndexedDB time. A reply was handled on a later JS task, then flushed the same way.
* after: the record is in localStorage before its frame is handed to the WebSocket (the window
  is 0; the lead is printed), and a reply's effect is in localStorage within its own message
  event's task (printed: time from the event to that write).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "e2e"), str(ROOT)]

from backends import InProcessCsms, LoopThread  # noqa: E402
from conftest import CHROMIUM_ARGS, DIST, chromium_path  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

TIMEOUT_MS = 120_000
TRANSACTION_ACTIONS = ("StartTransaction", "StopTransaction")
PROBE = """(() => {
  const log = (window.__durability = { sent: [], received: [], wal: [] });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    log.sent.push([performance.now(), String(data)]);
    return send.call(this, data);
  };
  const Native = WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener("message", (event) => {
      log.received.push([performance.now(), String(event.data)]);
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    const result = setItem.call(this, key, value);
    if (String(key).startsWith("ocpp-sim:wal:")) {
      // window.event: the event being dispatched now, if any (a write inside onmessage)
      log.wal.push([performance.now(), String(key), String(value), window.event?.type ?? ""]);
    }
    return result;
  };
})();"""


def charge(page: Page, sessions: int) -> None:
    """Plug, card, charge a moment, card, unplug: ``sessions`` times."""
    for n in range(sessions):
        page.evaluate("window.ocppSim.plug(1)")
        page.evaluate(f"window.ocppSim.presentCard(1, 'BENCH-{n}')")
        page.wait_for_function("window.ocppSim.status(1) === 'Charging'", timeout=TIMEOUT_MS)
        page.wait_for_timeout(300)
        page.evaluate(f"window.ocppSim.presentCard(1, 'BENCH-{n}')")
        page.wait_for_function("window.ocppSim.status(1) === 'Finishing'", timeout=TIMEOUT_MS)
        page.evaluate("window.ocppSim.unplug(1)")
    page.wait_for_function(
        "document.getElementById('queue-length').textContent === '0'", timeout=TIMEOUT_MS
    )
    page.wait_for_function("window.ocppSim.storeSettled()", timeout=TIMEOUT_MS)


def windows(log: dict) -> tuple[list[float], list[float], int]:
    """(ms each transaction frame's record was in the log before the frame left; ms from each
    transaction reply's message event to the first log write after it; how many of those writes
    ran while the message event was being dispatched, i.e. in its task)."""
    leads = []
    ids = {}
    for at, text in log["sent"]:
        frame = json.loads(text)
        if frame[0] == 2 and frame[2] in TRANSACTION_ACTIONS:
            ids[frame[1]] = frame[2]
            written = [t for t, _, value, _ in log["wal"] if f'"{frame[1]}"' in value]
            if not written:
                raise AssertionError(f"{frame[2]} {frame[1]} left without a record in the log")
            leads.append(at - written[0])  # > 0: durable before it left
    replies = []
    inside = 0
    for at, text in log["received"]:
        frame = json.loads(text)
        if frame[0] == 3 and frame[1] in ids:
            after = [(t, event) for t, _, _, event in log["wal"] if t >= at]
            if after:
                replies.append(after[0][0] - at)
                inside += after[0][1] == "message"
    return leads, replies, inside


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"p50 {statistics.median(ordered):7.2f}  p95 {p95:7.2f}  max {ordered[-1]:7.2f} ms"
        f"  (n={len(ordered)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    if not (DIST / "index.html").is_file():
        print("dist/ is not built: run `python3 build.py build`", file=sys.stderr)
        return 2
    loop = LoopThread()
    csms = InProcessCsms(loop, DIST)
    try:
        with sync_playwright() as playwright:
            executable = chromium_path()
            browser = playwright.chromium.launch(
                args=CHROMIUM_ARGS, **({"executable_path": executable} if executable else {})
            )
            context = browser.new_context()
            context.add_init_script(PROBE)
            page = context.new_page()
            page.goto(f"{csms.page}?url={csms.csms}&id=BENCH-DURABLE&autoconnect=1")
            page.wait_for_function(
                "document.getElementById('registration')?.textContent === 'Accepted'",
                timeout=TIMEOUT_MS,
            )
            charge(page, args.sessions)
            log = page.evaluate("window.__durability")
            stats = page.evaluate("window.ocppSim.storeStats()")
            browser.close()
    finally:
        csms.close()
        loop.close()
    leads, replies, inside = windows(log)
    idb = stats["indexedDbMs"]
    print(f"Browser store durability, {args.sessions} sessions in Chromium")
    print("  before (IndexedDB only): unsafe window = write until its IndexedDB flush completed")
    print(
        f"    {idb['count']} recent writes: p50 {idb['p50']:7.2f}  p95 {idb['p95']:7.2f}"
        f"  max {idb['max']:7.2f} ms (each frame left in the write's tick)"
    )
    print("  after (localStorage log first): unsafe window 0 ms")
    print(f"    transaction frame's record in the log before the frame left: {summary(leads)}")
    print(f"    transaction reply's message event to its first log write: {summary(replies)}")
    print(f"    of those writes, made inside the message event's dispatch: {inside}/{len(replies)}")
    print(
        f"    log write (setItem) cost: p50 {stats['walWriteMs']['p50']:.3f}"
        f"  max {stats['walWriteMs']['max']:.3f} ms over {stats['writes']} writes"
    )
    return 0 if min(leads) >= 0 and inside == len(replies) else 1


if __name__ == "__main__":
    sys.exit(main())
