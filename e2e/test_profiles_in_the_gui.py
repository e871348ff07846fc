"""Smart charging, reservations and firmware management as the Control Center shows them
(issue 7), driven by the demo CSMS in real Chromium."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ocpp.v16 import call
from pagekit import open_app, screenshot
from playwright.sync_api import Page, expect


def kilowatts(page: Page, n: int) -> float:
    text = page.get_by_test_id(f"connector-{n}-power").text_content() or ""
    return float(re.search(r"[\d.]+", text).group())


METER_INTERVAL_S = 5


def reported_power(calls: list[tuple[str, dict]]) -> list[float]:
    """Power.Active.Import values (W) in these MeterValues."""
    watts = []
    for _action, payload in calls:
        for meter_value in payload["meterValue"]:
            for sampled in meter_value["sampledValue"]:
                if sampled.get("measurand") == "Power.Active.Import" and "phase" not in sampled:
                    factor = 1000 if sampled.get("unit") == "kW" else 1
                    watts.append(float(sampled["value"]) * factor)
    return watts


def test_a_tx_profile_from_the_csms_lowers_the_power_shown(page: Page, csms, console) -> None:
    cb_id = "E2E-PROFILE"
    open_app(page, csms.page, url=csms.csms, id=cb_id, autoconnect="1")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    for key, value in (
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Power.Active.Import"),
        ("MeterValueSampleInterval", str(METER_INTERVAL_S)),
    ):
        assert csms.call(cb_id, call.ChangeConfiguration(key=key, value=value)).status == "Accepted"
    page.get_by_test_id("connector-1-plug").click()
    page.get_by_test_id("connector-1-present-card").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Charging")
    expect(page.get_by_test_id("connector-1-power")).to_have_text(re.compile(r"^2\d\.\d\d kW$"))

    def transaction_id() -> int | None:
        state = csms.server.csms.registry.get(cb_id)
        active = [] if state is None else state.active_transactions()
        return active[0].transaction_id if active else None

    csms.wait_for(lambda: transaction_id() is not None)
    profile = {
        "chargingProfileId": 11,
        "transactionId": csms.loop.call(transaction_id),
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
        },
    }
    seen = len(csms.calls(cb_id, "MeterValues"))
    result = csms.call(cb_id, call.SetChargingProfile(connector_id=1, cs_charging_profiles=profile))
    assert result.status == "Accepted"
    # The CSMS sees it too: a MeterValues within about one sample interval reports the lower
    # power (a sample may fall between the profile and the meter's next refresh: 1 s).
    csms.wait_for(
        lambda: any(w < 4300 for w in reported_power(csms.calls_now(cb_id, "MeterValues")[seen:])),
        timeout=METER_INTERVAL_S * 2 + 2,
    )
    # 6 A on 3 phases at about 230 V: about 4.1 kW, shown within a meter refresh.
    expect(page.get_by_test_id("connector-1-limit")).to_have_text("6.0 A per phase")
    expect(page.get_by_test_id("connector-1-power")).to_have_text(re.compile(r"^4\.\d\d kW$"))
    assert 3.9 < kilowatts(page, 1) < 4.3
    page.get_by_test_id("connector-1-smart-charging").locator("summary").click()
    expect(page.get_by_test_id("connector-1-profiles")).to_contain_text("#11 TxProfile")
    expect(page.get_by_test_id("connector-1-schedule")).to_contain_text("+0:00  6.0 A")
    chart = page.get_by_test_id("connector-1-chart")
    expect(chart.locator("path.limit")).to_have_attribute("d", re.compile(r"^M"))
    screenshot(page, "08-tx-profile")
    # The profile ends with the transaction.
    page.get_by_test_id("connector-1-present-card").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Finishing")
    expect(page.get_by_test_id("connector-1-profiles")).to_have_text("none installed")
    expect(page.get_by_test_id("connector-1-limit")).to_have_text("none")
    assert console.errors == []


def test_a_reservation_and_a_failing_firmware_update_are_shown(page: Page, csms, console) -> None:
    cb_id = "E2E-OPERATIONS"
    open_app(page, csms.page, url=csms.csms, id=cb_id, autoconnect="1")
    expect(page.get_by_test_id("connector-2-status")).to_have_text("Available")

    expiry = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reserved = csms.call(
        cb_id,
        call.ReserveNow(connector_id=2, expiry_date=expiry, id_tag="HOLDER", reservation_id=5),
    )
    assert reserved.status == "Accepted"
    expect(page.get_by_test_id("connector-2-status")).to_have_text("Reserved")
    expect(page.get_by_test_id("connector-2-reservation")).to_have_text(
        f"#5 · HOLDER until {expiry[11:16]} UTC"
    )
    page.get_by_test_id("connector-2-idtag").fill("SOMEONE-ELSE")
    page.get_by_test_id("connector-2-present-card").click()
    expect(page.get_by_test_id("connector-2-auth")).to_have_text(
        "ReservationConflict · SOMEONE-ELSE"
    )
    assert csms.call(cb_id, call.CancelReservation(reservation_id=5)).status == "Accepted"
    expect(page.get_by_test_id("connector-2-status")).to_have_text("Available")
    expect(page.get_by_test_id("connector-2-reservation")).to_have_text("—")

    page.get_by_role("switch", name="Fail firmware download").check()
    csms.call(
        cb_id,
        call.UpdateFirmware(
            location="ftp://firmware.example/fw-2.0.0.bin",
            retrieve_date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            retries=0,
        ),
    )
    expect(page.get_by_test_id("firmware-status")).to_have_text("Downloading")
    screenshot(page, "09-firmware-downloading")
    expect(page.get_by_test_id("firmware-status")).to_have_text("DownloadFailed", timeout=30_000)
    expect(page.get_by_test_id("firmware-detail")).not_to_be_empty()
    statuses = [p["status"] for _, p in csms.calls(cb_id, "FirmwareStatusNotification")]
    assert statuses == ["Downloading", "DownloadFailed"]
    assert console.errors == []
