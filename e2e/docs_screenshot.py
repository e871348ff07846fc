"""Take the README's screenshot, docs/control-center.png, from a real session (about 90 s).

    .venv/bin/python e2e/docs_screenshot.py [--out docs/control-center.png] [--seconds 80]

Needs a built dist/ (``python3 build.py build``) and Chromium (as for the e2e tests). Connector 1
charges freely; connector 2 gets a 16 A TxDefaultProfile from the demo CSMS, so the chart shows
the limit line too. Not a test: run it by hand when the page's look changes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from backends import InProcessCsms, LoopThread  # noqa: E402
from conftest import CHROMIUM_ARGS, DIST, chromium_path  # noqa: E402
from ocpp.v16 import call  # noqa: E402
from pagekit import open_app  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

CB_ID = "DEMO-0042"


def limit_profile(connector: int, amps: float) -> call.SetChargingProfile:
    return call.SetChargingProfile(
        connector_id=connector,
        cs_charging_profiles={
            "chargingProfileId": 7,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}],
            },
        },
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "control-center.png")
    parser.add_argument("--seconds", type=float, default=80.0, help="charging time before the shot")
    args = parser.parse_args()
    loop = LoopThread()
    csms = InProcessCsms(loop, DIST)
    try:
        with sync_playwright() as playwright:
            executable = chromium_path()
            browser = playwright.chromium.launch(
                args=CHROMIUM_ARGS, **({"executable_path": executable} if executable else {})
            )
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            open_app(page, csms.page, url=csms.csms, id=CB_ID, autoconnect="1")
            expect(page.get_by_test_id("connector-2-status")).to_have_text("Available")
            loop.run(csms.server.csms.call(CB_ID, limit_profile(2, 16.0)))
            for n, tag in ((1, "04E91C5A2B3F80"), (2, "DEMO-FLEET-7")):
                page.get_by_test_id(f"connector-{n}-plug").click()
                page.get_by_test_id(f"connector-{n}-idtag").fill(tag)
                page.get_by_test_id(f"connector-{n}-present-card").click()
                expect(page.get_by_test_id(f"connector-{n}-status")).to_have_text("Charging")
            time.sleep(args.seconds / 2)
            page.get_by_test_id("connector-1-ev-ready").click()  # the car pauses a while
            time.sleep(8)
            page.get_by_test_id("connector-1-ev-ready").click()
            time.sleep(args.seconds / 2)
            page.evaluate("window.scrollTo(0, 0)")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
    finally:
        csms.close()
        loop.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
