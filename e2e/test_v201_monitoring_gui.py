"""OCPP 2.0.1 Advanced Device Management in the Control Center, in real Chromium (issue 14).

The Monitoring panel lists the station's own monitors (hard-wired, preconfigured) and one the
CSMS sets (SetVariableMonitoring, N04); the station temperature typed into the panel trips the
monitors past it: the events show in the panel, the CSMS gets NotifyEvent (N07), and the rows say
tripped; back to normal, cleared events follow. The custom monitor survives a reload (persisted).
Every frame the page sent is schema-checked afterwards (conftest).
"""

from __future__ import annotations

from ocpp.v201 import call
from pagekit import open_app, screenshot, wait_ready
from playwright.sync_api import Page, expect


def set_temperature(page: Page, celsius: str) -> None:
    field = page.get_by_test_id("monitoring-temperature")
    field.fill(celsius)
    field.dispatch_event("change")


def test_N04_N07_monitors_in_the_panel_and_a_temperature_alert(page: Page, csms, console) -> None:
    cb_id = "E2E-201-MONITORING"
    open_app(page, csms.page, url=csms.csms, id=cb_id, ocpp="2.0.1", autoconnect="1")
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    expect(page.get_by_test_id("monitoring-panel")).to_be_visible()
    expect(page.get_by_test_id("monitor-1-kind")).to_have_text("hard-wired")
    expect(page.get_by_test_id("monitor-2-kind")).to_have_text("preconfigured")
    expect(page.get_by_test_id("monitor-2-rule")).to_have_text("UpperThreshold 60")

    item = {
        "component": {"name": "TemperatureSensor"},
        "variable": {"name": "Temperature"},
        "type": "UpperThreshold",
        "value": 40.0,
        "severity": 3,
    }
    answer = csms.call(cb_id, call.SetVariableMonitoring(set_monitoring_data=[item]))
    (result,) = answer.set_monitoring_result
    assert result["status"] == "Accepted"
    custom = result["id"]
    expect(page.get_by_test_id(f"monitor-{custom}-kind")).to_have_text("custom")

    set_temperature(page, "65")
    expect(page.get_by_test_id(f"monitor-{custom}-state")).to_have_text("tripped")
    expect(page.get_by_test_id("monitor-2-state")).to_have_text("tripped")
    events = page.locator('#monitoring-events [data-testid$="-text"]')
    expect(events).to_have_count(2)
    csms.wait_for(lambda: len(csms.calls_now(cb_id, "NotifyEvent")) >= 1)
    sent = [e for _, p in csms.calls(cb_id, "NotifyEvent") for e in p["eventData"]]
    assert {e["variableMonitoringId"] for e in sent} == {2, custom}
    assert all(e["trigger"] == "Alerting" and e["actualValue"] == "65.0" for e in sent)
    screenshot(page, "v201-monitoring")

    set_temperature(page, "20")
    expect(page.get_by_test_id(f"monitor-{custom}-state")).to_have_text("")
    expect(events).to_have_count(4)
    expect(events.first).to_contain_text("cleared")

    page.reload()  # the custom monitor is kept by the station across a restart
    wait_ready(page)
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    expect(page.get_by_test_id(f"monitor-{custom}-rule")).to_have_text("UpperThreshold 40")
    assert console.errors == []
