"""OCPP 2.0.1 G05 Lock Failure in the Control Center, in real Chromium (part 6 TC_G_20).

The card's "Lock jams" switch makes the simulated cable lock fail: a session started by clicks
leaves the cable unlocked ("unlocked (jammed)"), the CSMS gets NotifyEvent (component
ConnectorPlugRetentionLock, variable Problem, actualValue "true", trigger Delta,
HardWiredNotification) and the Monitoring panel lists the event. Every frame the page sent is
schema-checked afterwards (conftest).
"""

from __future__ import annotations

from pagekit import open_app, screenshot
from playwright.sync_api import Page, expect


def test_TC_G_20_CS_a_jammed_lock_in_the_gui(page: Page, csms, console) -> None:
    cb_id = "E2E-201-LOCK"
    open_app(page, csms.page, url=csms.csms, id=cb_id, ocpp="2.0.1", autoconnect="1")
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    jam = page.get_by_test_id("connector-1-lock-fails")
    jam.check()
    expect(jam).to_be_checked()
    page.get_by_role("switch", name="Cable plugged (connector 1)").check()
    page.get_by_label("RFID card (idTag) (connector 1)").fill("CARD-JAM")
    page.get_by_role("button", name="Present card (connector 1)").click()
    expect(page.get_by_test_id("connector-1-transaction-id")).not_to_have_text("—")
    expect(page.get_by_test_id("connector-1-locked")).to_have_text("unlocked (jammed)")
    events = page.locator('#monitoring-events [data-testid$="-text"]')
    expect(events.first).to_have_text(
        "ConnectorPlugRetentionLock/1/1 Problem true Delta (hard-wired notification)"
    )
    csms.wait_for(lambda: bool(csms.calls_now(cb_id, "NotifyEvent")))
    sent = [e for _, p in csms.calls(cb_id, "NotifyEvent") for e in p["eventData"]]
    (event,) = [e for e in sent if e["component"]["name"] == "ConnectorPlugRetentionLock"]
    assert event["variable"] == {"name": "Problem"}
    assert (event["actualValue"], event["trigger"]) == ("true", "Delta")
    assert event["eventNotificationType"] == "HardWiredNotification"
    screenshot(page, "v201-lock-failure")
    assert console.errors == []
