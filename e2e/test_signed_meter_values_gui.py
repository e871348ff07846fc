"""Signed meter values (issue 15) in the Control Center, in real Chromium: the user chooses
signing meters, the page installs the signing library offline, shows each meter's public key;
the CSMS switches signing on and verifies every signed value of a session with that key (an
independent verifier, pyocmf); the corrupt switch makes the next records fail verification."""

from __future__ import annotations

import base64

import pyocmf
from ocpp.v201 import call
from pagekit import open_app, screenshot
from playwright.sync_api import Page, expect

CARD = "04A1B2C3"


def signed_values(csms, cb_id: str, *, in_loop: bool = False) -> list[dict]:
    """Every signedMeterValue the CSMS received (``in_loop``: read inside its loop, for
    ``wait_for`` predicates)."""
    read = csms.calls_now if in_loop else csms.calls
    found = []
    for _, event in read(cb_id, "TransactionEvent"):
        for value in event.get("meterValue", []):
            for sampled in value["sampledValue"]:
                if "signedMeterValue" in sampled:
                    found.append(sampled["signedMeterValue"])
    return found


def verifies(signed: dict, key_hex: str) -> bool:
    data = base64.b64decode(signed["signedMeterData"]).decode()
    record = pyocmf.OCMF.from_string(data, strict=True)
    return bool(record.verify_signature(key_hex))


def session(page: Page) -> None:
    page.get_by_role("switch", name="Cable plugged (connector 1)").check()
    page.get_by_label("RFID card (idTag) (connector 1)").fill(CARD)
    page.get_by_role("button", name="Present card (connector 1)").click()
    expect(page.get_by_test_id("connector-1-power")).not_to_have_text("0.00 kW")
    page.get_by_role("button", name="Present card (connector 1)").click()
    expect(page.get_by_test_id("connector-1-transaction-id")).to_have_text("—")
    page.get_by_role("switch", name="Cable plugged (connector 1)").uncheck()


def test_signing_meters_by_clicks_and_the_csms_verifies_every_value(
    page: Page, csms, console
) -> None:
    cb_id = "E2E-SIGNING"
    open_app(page, csms.page, url=csms.csms, id=cb_id, ocpp="2.0.1")
    expect(page.get_by_test_id("signing-panel")).to_be_hidden()
    page.get_by_label("Meters", exact=True).select_option("true")
    page.get_by_role("button", name="Connect", exact=True).click()  # changes apply on connect
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    expect(page.get_by_test_id("signing-panel")).to_be_visible()
    expect(page.get_by_test_id("signing-state")).to_contain_text("Ready", timeout=60_000)
    key_hex = page.get_by_test_id("meter-1-public-key").text_content() or ""
    assert len(key_hex) > 100 and key_hex == key_hex.strip()

    result = csms.call(
        cb_id,
        call.SetVariables(
            set_variable_data=[
                {
                    "component": {"name": "SampledDataCtrlr"},
                    "variable": {"name": "SignReadings"},
                    "attribute_value": "true",
                }
            ]
        ),
    )
    assert result.set_variable_result[0]["attribute_status"] == "Accepted"
    session(page)
    csms.wait_for(lambda: len(signed_values(csms, cb_id, in_loop=True)) >= 2)
    good = signed_values(csms, cb_id)
    assert all(verifies(signed, key_hex) for signed in good)
    screenshot(page, "signing-01-keys")

    page.get_by_test_id("signing-corrupt").check()
    session(page)
    csms.wait_for(lambda: len(signed_values(csms, cb_id, in_loop=True)) >= len(good) + 2)
    bad = signed_values(csms, cb_id)[len(good) :]
    assert bad and not any(verifies(signed, key_hex) for signed in bad)
    assert console.errors == []
