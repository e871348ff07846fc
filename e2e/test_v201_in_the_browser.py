"""OCPP 2.0.1 in the Control Center, in real Chromium (issue 13).

A new user's 2.0.1 session by clicks, the Device model panel, a reload in the middle of a
transaction, and auto negotiation against demo CSMSs that speak one version only. Each test
starts from a fresh browser context; every frame the page sent is checked against the official
schemas afterwards (conftest).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ocpp.v201 import call
from pagekit import energy_kwh, open_app, screenshot, wait_ready
from playwright.sync_api import Page, expect

CARD = "E2E-CARD-201"


def connected(page: Page) -> None:
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "connected")


def registered(page: Page, protocol: str) -> None:
    connected(page)
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    expect(page.get_by_test_id("protocol")).to_have_text(f"OCPP {protocol}")


def events(csms, cb_id: str) -> list[dict]:
    return [payload for _, payload in csms.calls(cb_id, "TransactionEvent")]


def assert_seq_nos_run_from_0(payloads: list[dict]) -> None:
    """E01: seqNo counts 0, 1, 2, ... per transaction (a re-sent event repeats its own)."""
    seq = [p["seqNo"] for p in payloads]
    assert sorted(set(seq)) == list(range(len(set(seq)))), seq
    assert seq == sorted(seq), seq


def test_a_201_session_by_a_new_users_clicks(page: Page, csms, console) -> None:
    """Choose OCPP 2.0.1, connect, plug, present a card (KeyCode), charge, present it again,
    unplug: the card shows the station's transactionId and seqNo, the CSMS gets Started,
    Updated and Ended with seqNo 0..n and the idToken with its type."""
    cb_id = "E2E-201-CLICKS"
    open_app(page, csms.page)
    page.get_by_label("CSMS URL").fill(csms.csms)
    page.get_by_label("Charge box id").fill(cb_id)
    page.get_by_label("OCPP version").select_option("2.0.1")
    page.get_by_role("button", name="Connect", exact=True).click()
    registered(page, "2.0.1")
    status = page.get_by_test_id("connector-1-status")
    expect(status).to_have_text("Available")
    expect(page.get_by_test_id("connector-2-status")).to_have_text("Available")

    page.get_by_role("switch", name="Cable plugged (connector 1)").check()
    expect(status).to_have_text("Occupied")
    page.get_by_label("RFID card (idTag) (connector 1)").fill(CARD)
    kind = page.get_by_test_id("connector-1-idtoken-type")
    expect(kind).to_be_visible()
    kind.select_option("KeyCode")
    page.get_by_role("button", name="Present card (connector 1)").click()

    transaction = page.get_by_test_id("connector-1-transaction-id")
    expect(transaction).to_have_text(re.compile(rf"^#\S+ · {CARD} \(KeyCode\)$"))
    expect(page.get_by_test_id("connector-1-power")).not_to_have_text("0.00 kW")
    expect(page.get_by_test_id("connector-1-seq-no")).to_have_text(re.compile(r"^\d+$"))
    page.wait_for_function("window.ocppSim.snapshot(1).energy_wh > 5")
    shown_id = (transaction.text_content() or "").split(" ")[0].removeprefix("#")
    assert shown_id == page.evaluate("window.ocppSim.snapshot(1).transaction_id")
    screenshot(page, "v201-01-charging")

    page.get_by_role("button", name="Present card (connector 1)").click()
    expect(page.get_by_test_id("connector-1-power")).to_have_text("0.00 kW")
    expect(transaction).to_have_text("—")
    page.get_by_role("switch", name="Cable plugged (connector 1)").uncheck()
    expect(status).to_have_text("Available")
    assert energy_kwh(page, 1) > 0

    csms.wait_for(lambda: not csms.server.csms.registry[cb_id].active_transactions())
    state = csms.station(cb_id)
    assert state is not None and state.protocol == "ocpp2.0.1"
    assert list(state.transactions) == [shown_id]
    record = state.transactions[shown_id]
    assert record.id_token == CARD and record.stop_reason == "Local"
    sent = events(csms, cb_id)
    assert sent[0]["eventType"] == "Started" and sent[-1]["eventType"] == "Ended"
    assert {p["transactionInfo"]["transactionId"] for p in sent} == {shown_id}
    assert_seq_nos_run_from_0(sent)
    started = sent[0]
    assert started["idToken"] == {"idToken": CARD, "type": "KeyCode"}
    assert started["evse"]["id"] == 1
    assert console.errors == []


def test_the_device_model_panel_lists_and_edits_variables(page: Page, csms, console) -> None:
    """Components and variables with values and mutability; a writable one is edited and the
    CSMS's GetVariables then reads it; the write-only password is never shown."""
    cb_id = "E2E-201-DM"
    open_app(page, csms.page, url=csms.csms, id=cb_id, ocpp="2.0.1", autoconnect="1")
    registered(page, "2.0.1")
    page.get_by_text("Device model").click()
    panel = page.get_by_test_id("device-model")
    expect(page.get_by_test_id("device-model-count")).to_contain_text("OCPP 2.0.1")
    for component in ("OCPPCommCtrlr", "TxCtrlr", "AuthCtrlr", "EVSE/1", "Connector/1/1"):
        expect(panel.locator(f'details[data-component="{component}"]')).to_have_count(1)
    expect(panel.get_by_text("BasicAuthPassword")).to_have_count(0)
    page.get_by_test_id("device-model-filter").fill("HeartbeatInterval")
    address = "OCPPCommCtrlr.HeartbeatInterval"
    # the filter leaves one component, shown open
    expect(panel.locator('details[data-component="OCPPCommCtrlr"]')).to_have_attribute("open", "")
    field = page.get_by_test_id(f"variable-input-{address}")
    field.fill("123")
    field.press("Enter")
    expect(page.get_by_test_id(f"variable-status-{address}")).to_have_text("Accepted")
    field.fill("not a number")
    field.press("Enter")
    expect(page.get_by_test_id(f"variable-status-{address}")).to_have_text("Rejected")
    field.blur()
    expect(field).to_have_value("123")

    result = csms.call(
        cb_id,
        call.GetVariables(
            get_variable_data=[
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            ]
        ),
    )
    assert result.get_variable_result[0]["attribute_value"] == "123"
    page.get_by_test_id("device-model-filter").fill("")
    expect(panel.get_by_text("BasicAuthPassword")).to_have_count(0)
    screenshot(page, "v201-02-device-model")
    assert console.errors == []


def test_a_reload_mid_transaction_ends_it_with_the_same_transaction_id(
    page: Page, csms, console
) -> None:
    """A page reload is a power cut: the transaction the CSMS knows ends with a TransactionEvent
    Ended under the same transactionId (stoppedReason PowerLoss), seqNo still counting on."""
    cb_id = "E2E-201-RELOAD"
    open_app(page, csms.page, url=csms.csms, id=cb_id, ocpp="2.0.1", autoconnect="1")
    registered(page, "2.0.1")
    page.get_by_role("switch", name="Cable plugged (connector 1)").check()
    page.get_by_label("RFID card (idTag) (connector 1)").fill(CARD)
    page.get_by_role("button", name="Present card (connector 1)").click()
    expect(page.get_by_test_id("connector-1-power")).not_to_have_text("0.00 kW")
    transaction_id = page.evaluate("window.ocppSim.snapshot(1).transaction_id")
    assert isinstance(transaction_id, str) and transaction_id
    csms.wait_for(lambda: transaction_id in csms.server.csms.registry[cb_id].transactions)

    page.reload()
    wait_ready(page)
    registered(page, "2.0.1")
    csms.wait_for(lambda: not csms.server.csms.registry[cb_id].transactions[transaction_id].active)
    record = csms.station(cb_id).transactions[transaction_id]
    assert record.stop_reason == "PowerLoss"
    sent = events(csms, cb_id)
    assert {p["transactionInfo"]["transactionId"] for p in sent} == {transaction_id}
    assert [p["eventType"] for p in sent].count("Ended") >= 1
    assert sent[-1]["eventType"] == "Ended"
    assert_seq_nos_run_from_0(sent)
    expect(page.get_by_test_id("connector-1-transaction-id")).to_have_text("—")
    assert console.errors == []


def test_H01_a_reservation_shows_on_the_card_and_refuses_another_id_token(
    page: Page, csms, console
) -> None:
    """H01: ReserveNow for EVSE 2 shows Reserved and the reservation on the card; another idToken
    presented there is refused (H01.FR.09 reserved for HOLDER), CancelReservation frees the EVSE
    (H02) and the card shows no reservation."""
    cb_id = "E2E-201-RESERVE"
    open_app(page, csms.page, url=csms.csms, id=cb_id, ocpp="2.0.1", autoconnect="1")
    registered(page, "2.0.1")
    expect(page.get_by_test_id("connector-2-status")).to_have_text("Available")
    expiry = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reserved = csms.call(
        cb_id,
        call.ReserveNow(
            id=7,
            expiry_date_time=expiry,
            id_token={"idToken": "HOLDER", "type": "ISO14443"},
            evse_id=2,
        ),
    )
    assert reserved.status == "Accepted"
    expect(page.get_by_test_id("connector-2-status")).to_have_text("Reserved")
    expect(page.get_by_test_id("connector-2-reservation")).to_have_text(
        f"#7 · HOLDER until {expiry[11:16]} UTC"
    )
    page.get_by_role("switch", name="Cable plugged (connector 2)").check()
    page.get_by_label("RFID card (idTag) (connector 2)").fill("SOMEONE-ELSE")
    page.get_by_role("button", name="Present card (connector 2)").click()
    expect(page.get_by_test_id("connector-2-auth")).to_have_text(
        "ReservationConflict · SOMEONE-ELSE"
    )
    expect(page.get_by_test_id("connector-2-power")).to_have_text("0.00 kW")
    expect(page.get_by_test_id("connector-2-transaction-id")).to_have_text("—")
    assert not [p for p in events(csms, cb_id) if p.get("evse", {}).get("id") == 2]
    screenshot(page, "v201-03-reserved")

    assert csms.call(cb_id, call.CancelReservation(reservation_id=7)).status == "Accepted"
    expect(page.get_by_test_id("connector-2-reservation")).to_have_text("—")
    page.get_by_role("switch", name="Cable plugged (connector 2)").uncheck()
    expect(page.get_by_test_id("connector-2-status")).to_have_text("Available")
    assert console.errors == []


def test_auto_runs_201_against_a_csms_that_only_speaks_201(
    page: Page, csms201_only, console
) -> None:
    cb_id = "E2E-AUTO-201"
    open_app(page, csms201_only.page, url=csms201_only.csms, id=cb_id, ocpp="auto", autoconnect="1")
    expect(page.get_by_test_id("ocpp-version")).to_have_value("auto")
    registered(page, "2.0.1")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    expect(page.get_by_test_id("connector-1-idtoken-type")).to_be_visible()
    state = csms201_only.station(cb_id)
    assert state is not None and state.protocol == "ocpp2.0.1"
    boot = csms201_only.calls(cb_id, "BootNotification")[0][1]
    assert boot["reason"] == "PowerUp" and "chargingStation" in boot
    assert page.evaluate("window.ocppSim.ocppVersion()") == "2.0.1"
    assert console.errors == []


def test_auto_runs_16_against_a_csms_that_only_speaks_16(page: Page, csms16_only, console) -> None:
    """Auto falls back to 1.6 (and the card has no idToken type); choosing 2.0.1 against this
    CSMS fails with a notice that says why."""
    cb_id = "E2E-AUTO-16"
    open_app(page, csms16_only.page, url=csms16_only.csms, id=cb_id, ocpp="auto", autoconnect="1")
    registered(page, "1.6")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    expect(page.get_by_test_id("connector-1-idtoken-type")).to_be_hidden()
    state = csms16_only.station(cb_id)
    assert state is not None and state.protocol == "ocpp1.6"
    boot = csms16_only.calls(cb_id, "BootNotification")[0][1]
    assert "chargePointVendor" in boot and "reason" not in boot
    assert page.evaluate("window.ocppSim.ocppVersion()") == "1.6"

    page.get_by_label("OCPP version").select_option("2.0.1")
    page.get_by_role("button", name="Reconnect", exact=True).click()
    expect(page.get_by_test_id("notice")).to_contain_text(
        "The CSMS speaks none of the OCPP versions offered"
    )
    expect(page.get_by_test_id("connection-detail")).to_contain_text("ocpp2.0.1")
    expect(page.get_by_test_id("connection-state")).not_to_have_attribute("data-state", "connected")
    boots = csms16_only.calls(cb_id, "BootNotification")
    assert len(boots) == 1  # nothing of 2.0.1 was ever sent to it
    screenshot(page, "v201-03-no-common-version")
    assert console.errors == []
