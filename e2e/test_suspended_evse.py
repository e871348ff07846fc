"""SuspendedEVSE under a 0 A limit (OCPP 1.6 §7.7, errata 3.19; issue 17): the CSMS sets a TxProfile
of 0 A on a charging connector, the Control Center card shows SuspendedEVSE and no power, and
a higher limit brings it back to Charging — on the card and in the StatusNotifications the CSMS
receives. Driven by the demo CSMS in real Chromium."""

from __future__ import annotations

import re

from ocpp.v16 import call
from pagekit import open_app
from playwright.sync_api import Page, expect


def tx_profile(transaction_id: int, limit: float) -> dict:
    """A TxProfile for the running transaction (the same id each time: it replaces the last)."""
    return {
        "chargingProfileId": 21,
        "transactionId": transaction_id,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }


def test_a_0_amp_tx_profile_shows_suspended_evse_and_a_higher_one_charging(
    page: Page, csms, console
) -> None:
    cb_id = "E2E-SUSPENDED-EVSE"
    open_app(page, csms.page, url=csms.csms, id=cb_id, autoconnect="1")
    status = page.get_by_test_id("connector-1-status")
    expect(status).to_have_text("Available")
    page.get_by_test_id("connector-1-plug").click()
    page.get_by_test_id("connector-1-present-card").click()
    expect(status).to_have_text("Charging")

    def transaction_id() -> int | None:
        state = csms.server.csms.registry.get(cb_id)
        active = [] if state is None else state.active_transactions()
        return active[0].transaction_id if active else None

    def statuses_now() -> list[str]:
        return [
            p["status"]
            for _, p in csms.calls_now(cb_id, "StatusNotification")
            if p["connectorId"] == 1
        ]

    csms.wait_for(lambda: transaction_id() is not None and statuses_now()[-1:] == ["Charging"])
    tx = csms.loop.call(transaction_id)
    set_profile = call.SetChargingProfile(connector_id=1, cs_charging_profiles=tx_profile(tx, 0))
    assert csms.call(cb_id, set_profile).status == "Accepted"
    expect(status).to_have_text("SuspendedEVSE")
    expect(page.get_by_test_id("connector-1-limit")).to_have_text("0.0 A per phase")
    expect(page.get_by_test_id("connector-1-power")).to_have_text(re.compile(r"^0\.00 kW$"))
    csms.wait_for(lambda: statuses_now()[-1:] == ["SuspendedEVSE"])

    set_profile = call.SetChargingProfile(connector_id=1, cs_charging_profiles=tx_profile(tx, 16))
    assert csms.call(cb_id, set_profile).status == "Accepted"
    expect(status).to_have_text("Charging")
    expect(page.get_by_test_id("connector-1-limit")).to_have_text("16.0 A per phase")
    expect(page.get_by_test_id("connector-1-power")).to_have_text(re.compile(r"^1\d\.\d\d kW$"))
    csms.wait_for(lambda: statuses_now()[-1:] == ["Charging"])
    charging_statuses = csms.loop.call(statuses_now)
    assert charging_statuses[-3:] == ["Charging", "SuspendedEVSE", "Charging"]
    assert console.errors == []
