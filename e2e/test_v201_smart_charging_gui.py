"""OCPP 2.0.1 Smart Charging in the Control Center, in real Chromium (issue 14).

A TxProfile the CSMS sets lowers the charging power the card shows within one sample interval
(the Control Center samples every CHART_SAMPLE_MS = 1 s); the local energy manager's switch in
the smart-charging panel sends NotifyChargingLimit (K12, source EMS), lowers the power further
while the transaction runs (K11.FR.04: TransactionEvent ChargingRateChanged), and switched off
sends ClearedChargingLimit (K13). Every frame the page sent is schema-checked afterwards
(conftest).
"""

from __future__ import annotations

import re
import time

from ocpp.v201 import call
from pagekit import open_app, screenshot
from playwright.sync_api import Page, expect

SAMPLE_INTERVAL_MS = 1000  # web/control_center/app.py CHART_SAMPLE_MS


def kilowatts(page: Page) -> float:
    text = page.get_by_test_id("connector-1-power").text_content() or ""
    match = re.fullmatch(r"(\d+\.\d\d) kW", text)
    assert match, text
    return float(match.group(1))


def test_a_tx_profile_lowers_the_power_shown_and_the_external_limit_switch_notifies(
    page: Page, csms, console
) -> None:
    cb_id = "E2E-201-SMART"
    open_app(page, csms.page, url=csms.csms, id=cb_id, ocpp="2.0.1", autoconnect="1")
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    page.get_by_role("switch", name="Cable plugged (connector 1)").check()
    page.get_by_role("button", name="Present card (connector 1)").click()
    expect(page.get_by_test_id("connector-1-transaction-id")).not_to_have_text("—")
    expect(page.get_by_test_id("connector-1-power")).not_to_have_text("0.00 kW")
    transaction_id = page.evaluate("window.ocppSim.snapshot(1).transaction_id")
    before = kilowatts(page)
    assert before > 5, before  # more than 6 A x 3 x 230 V: the profile below must lower it

    profile = {
        "id": 31,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "transactionId": transaction_id,
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
            }
        ],
    }
    answer = csms.call(cb_id, call.SetChargingProfile(evse_id=1, charging_profile=profile))
    assert answer.status == "Accepted"
    answered = time.monotonic()
    limit = page.get_by_test_id("connector-1-limit")
    expect(limit).to_have_text("6.0 A per phase", timeout=SAMPLE_INTERVAL_MS)
    page.wait_for_function(
        "Math.max(...window.ocppSim.snapshot(1).current_a) === 6", timeout=SAMPLE_INTERVAL_MS
    )
    expect(page.get_by_test_id("connector-1-power")).not_to_have_text(
        f"{before:.2f} kW", timeout=SAMPLE_INTERVAL_MS
    )
    assert time.monotonic() - answered < SAMPLE_INTERVAL_MS / 1000 + 0.5
    six = kilowatts(page)
    assert 0 < six < before and six <= 6 * 3 * 253 / 1000  # 6 A on at most 3 phases, +10 % V

    smart = page.get_by_test_id("connector-1-smart-charging")
    smart.locator("summary").click()
    expect(page.get_by_test_id("connector-1-profiles")).to_contain_text("#31 TxProfile")
    page.get_by_test_id("connector-1-external-limit-value").fill("4")
    switch = page.get_by_test_id("connector-1-external-limit")
    switch.check()

    def notified() -> list[dict]:
        return [p for _, p in csms.calls_now(cb_id, "NotifyChargingLimit")]

    csms.wait_for(lambda: len(notified()) == 1)
    assert csms.loop.call(notified) == [
        {"chargingLimit": {"chargingLimitSource": "EMS", "isGridCritical": False}, "evseId": 1}
    ]
    expect(limit).to_have_text("4.0 A per phase")
    expect(page.get_by_test_id("connector-1-schedule")).to_contain_text("4.0 A")
    page.wait_for_function("Math.max(...window.ocppSim.snapshot(1).current_a) === 4")

    def rate_changed() -> list[dict]:
        return [
            p
            for _, p in csms.calls_now(cb_id, "TransactionEvent")
            if p["triggerReason"] == "ChargingRateChanged"
        ]

    csms.wait_for(lambda: len(rate_changed()) == 1)
    screenshot(page, "v201-04-external-limit")

    switch.uncheck()
    csms.wait_for(lambda: len(csms.calls_now(cb_id, "ClearedChargingLimit")) == 1)
    assert csms.calls(cb_id, "ClearedChargingLimit")[0][1] == {
        "chargingLimitSource": "EMS",
        "evseId": 1,
    }
    expect(limit).to_have_text("6.0 A per phase")
    expect(switch).not_to_be_checked()
    assert console.errors == []
