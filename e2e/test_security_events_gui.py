"""Security events in real Chromium (issue 15: A04, N01 SecurityLog; the 1.6 security whitepaper).

The page's station logs StartupOfTheDevice and sends it to the demo CSMS; the Security panel's
Tamper button raises TamperDetectionActivated, shown in the list and received by the CSMS as
SecurityEventNotification; GetLog(SecurityLog) makes the browser upload the security log to a
file server on another origin, reported with LogStatusNotification (its requestId). Every
frame the page sent is schema-checked afterwards (conftest).
"""

from __future__ import annotations

from ocpp.v16 import call
from ocpp.v201 import call as call201
from pagekit import open_app, screenshot
from playwright.sync_api import Page, expect


def _types(calls: list[tuple[str, dict]]) -> list[str]:
    return [payload["type"] for _action, payload in calls]


def _log_statuses(calls: list[tuple[str, dict]]) -> list[tuple[str, int | None]]:
    return [(payload["status"], payload.get("requestId")) for _action, payload in calls]


def test_A04_tamper_button_and_N01_security_log_upload_in_1_6(
    page: Page, csms, file_server, console
) -> None:
    cb_id = "E2E-SECURITY-16"
    open_app(page, csms.page, url=csms.csms, id=cb_id, ocpp="1.6", autoconnect="1")
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    events = page.get_by_test_id("security-events")
    expect(events).to_contain_text("StartupOfTheDevice")
    expect(events).to_contain_text("sent to the CSMS")
    page.get_by_test_id("security-tamper").click()
    expect(events.locator("li").first).to_contain_text("TamperDetectionActivated")
    notification = "SecurityEventNotification"
    csms.wait_for(lambda: "TamperDetectionActivated" in _types(csms.calls_now(cb_id, notification)))
    assert _types(csms.calls(cb_id, notification)) == [
        "StartupOfTheDevice",
        "TamperDetectionActivated",
    ]
    screenshot(page, "security-events")

    result = csms.call(
        cb_id,
        call.GetLog(
            log={"remoteLocation": f"{file_server.base}/logs"},
            log_type="SecurityLog",
            request_id=35,
        ),
    )
    assert result.status == "Accepted" and result.filename.startswith("security-")
    statuses = "LogStatusNotification"
    csms.wait_for(lambda: ("Uploaded", 35) in _log_statuses(csms.calls_now(cb_id, statuses)))
    assert _log_statuses(csms.calls(cb_id, statuses)) == [("Uploading", 35), ("Uploaded", 35)]
    content = file_server.stored[f"/logs/{result.filename}"].decode("utf-8")
    assert content.startswith("OCPP 1.6 security log")
    assert "TamperDetectionActivated\tcritical" in content
    assert console.errors == []


def test_TC_N_35_CS_security_log_uploaded_from_the_browser_in_2_0_1(
    page: Page, csms, file_server, console
) -> None:
    cb_id = "E2E-SECURITY-201"
    open_app(page, csms.page, url=csms.csms, id=cb_id, ocpp="2.0.1", autoconnect="1")
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    page.get_by_test_id("security-tamper").click()
    expect(page.get_by_test_id("security-events")).to_contain_text("TamperDetectionActivated")
    result = csms.call(
        cb_id,
        call201.GetLog(
            log={"remote_location": f"{file_server.base}/logs201"},
            log_type="SecurityLog",
            request_id=7,
        ),
    )
    assert result.status == "Accepted"
    statuses = "LogStatusNotification"
    csms.wait_for(lambda: ("Uploaded", 7) in _log_statuses(csms.calls_now(cb_id, statuses)))
    assert _log_statuses(csms.calls(cb_id, statuses)) == [("Uploading", 7), ("Uploaded", 7)]
    content = file_server.stored[f"/logs201/{result.filename}"].decode("utf-8")
    assert content.startswith("OCPP 2.0.1 security log")
    assert "TamperDetectionActivated\tcritical" in content
    assert console.errors == []
