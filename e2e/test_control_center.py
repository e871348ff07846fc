"""The Control Center in real Chromium against real local servers (issue 6).

Each test loads the page in a fresh browser context (empty localStorage and IndexedDB) and
waits for ``window.ocppSim.ready``; expects auto-wait, so nothing sleeps.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from backends import HOSTILE, HOSTILE_SCRIPT, HOSTILE_TAG, WebSocketBackend, hostile_handler
from ocpp.v16 import call
from pagekit import (
    AUTH_PASSWORD,
    ConsoleRecord,
    energy_kwh,
    log_records,
    open_app,
    screenshot,
    wait_ready,
)
from playwright.sync_api import Page, expect

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def connected(page: Page) -> None:
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "connected")


def test_deep_link_autoconnects_to_the_demo_csms(page: Page, servers, console) -> None:
    """Deep link + autoconnect: Connected, Accepted, both connectors Available; every request
    stays on the local server; time to interactive is reported; the log tools work."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("websocket", lambda socket: requests.append(socket.url))

    open_app(page, servers.page, url=servers.csms, id="E2E-DEEPLINK", ocpp="1.6", autoconnect="1")

    expect(page.get_by_test_id("ws-url")).to_have_value(servers.csms)
    expect(page.get_by_test_id("charge-box-id")).to_have_value("E2E-DEEPLINK")
    expect(page.get_by_test_id("ocpp-version")).to_have_value("1.6")
    connected(page)
    expect(page.get_by_test_id("connection-state")).to_have_text("Connected")
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    expect(page.get_by_test_id("connector-2-status")).to_have_text("Available")
    assert page.evaluate("window.ocppSim.status(1)") == "Available"
    assert page.evaluate("window.ocppSim.connectionState()") == "connected"
    assert any(re.search(r"ocpp-sim: interactive after \d+ ms", m) for m in console.messages)
    expect(page.get_by_test_id("loader")).to_be_hidden()
    versions = page.get_by_test_id("versions")
    expect(versions).to_have_text(re.compile(r"ocpp_core \d+\.\d+\.\d+ · sim \d+\.\d+\.\d+"))
    screenshot(page, "01-connected")

    local = urlsplit(servers.page).netloc
    hosts = {urlsplit(url).netloc for url in requests}
    assert hosts == {local}, f"requests to other hosts: {hosts - {local}}"
    assert any(url.endswith(".whl") for url in requests)
    assert any(url.endswith("pyodide.asm.wasm") for url in requests)
    assert any(url.startswith("ws://") and url.endswith("/ocpp/E2E-DEEPLINK") for url in requests)

    # the message log: filter by action and direction, pause, clear
    rows = page.get_by_test_id("message-log").locator("details")
    expect(rows.filter(has_text="BootNotification")).to_have_count(2)
    page.get_by_test_id("log-filter-action").fill("status")
    expect(rows).to_have_count(6)  # 3 StatusNotification CALLs and their results
    page.get_by_role("radio", name="Received").check()
    expect(rows).to_have_count(3)
    for direction in rows.evaluate_all("rows => rows.map(r => r.dataset.direction)"):
        assert direction == "in"
    page.get_by_role("radio", name="All").check()
    page.get_by_test_id("log-filter-action").fill("")
    count = len(log_records(page))
    expect(rows).to_have_count(count)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("switch", name="Cable plugged (connector 1)").check()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Preparing")
    expect(page.get_by_test_id("log-note")).to_contain_text("Paused")
    assert rows.count() == count
    page.get_by_role("button", name="Resume").click()
    expect(rows).to_have_count(count + 2)
    preparing = rows.nth(count)  # the StatusNotification CALL sent while paused
    preparing.locator("summary").click()
    expect(preparing.locator("pre")).to_contain_text('"status": "Preparing"')
    page.get_by_role("button", name="Clear").click()
    expect(page.get_by_test_id("log-count")).to_have_text("0 frames")
    assert console.errors == []


def test_a_full_session_by_clicking(page: Page, csms, console) -> None:
    """Plug, present card -> Charging with rising energy, card -> Finishing, unplug ->
    Available; the demo CSMS saw Start and Stop with sane meter values."""
    cb_id = "E2E-SESSION"
    open_app(page, csms.page, url=csms.csms, id=cb_id, autoconnect="1")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")

    page.get_by_test_id("connector-1-plug").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Preparing")
    page.get_by_test_id("connector-1-idtag").fill("E2E-CARD-1")
    page.get_by_test_id("connector-1-present-card").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Charging")
    expect(page.get_by_test_id("connector-1-transaction-id")).to_have_text(re.compile(r"^#\d+"))
    expect(page.get_by_test_id("connector-1-auth")).to_have_text("Accepted · E2E-CARD-1")
    expect(page.get_by_test_id("connector-1-power")).not_to_have_text("0.00 kW")
    first = energy_kwh(page, 1)
    expect(page.get_by_test_id("connector-1-energy")).not_to_have_text(
        page.get_by_test_id("connector-1-energy").text_content() or ""
    )
    assert energy_kwh(page, 1) > first
    expect(page.get_by_test_id("connector-1-chart").locator("path.power")).to_have_attribute(
        "d", re.compile(r"^M")
    )
    screenshot(page, "02-charging")

    page.get_by_test_id("connector-1-present-card").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Finishing")
    expect(page.get_by_test_id("connector-1-power")).to_have_text("0.00 kW")
    page.get_by_test_id("connector-1-plug").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    expect(page.get_by_test_id("connector-2-status")).to_have_text("Available")

    def stopped() -> bool:
        state = csms.server.csms.registry.get(cb_id)
        return state is not None and any(
            tx.stop_reason is not None for tx in state.transactions.values()
        )

    csms.wait_for(stopped)
    state = csms.station(cb_id)
    assert state is not None
    (tx,) = state.transactions.values()
    assert tx.id_token == "E2E-CARD-1" and tx.evse_id == 1
    assert tx.meter_start is not None and tx.meter_stop is not None
    delivered = tx.meter_stop - tx.meter_start
    assert 0 < delivered < 10_000, (tx.meter_start, tx.meter_stop)  # a few seconds at <= 22 kW
    assert tx.stop_reason == "Local"
    actions = [action for action, _ in csms.calls(cb_id)]
    assert "StartTransaction" in actions and "StopTransaction" in actions
    shown = {r["action"] for r in log_records(page) if r["direction"] == "out"}
    assert {"StartTransaction", "StopTransaction"} <= shown

    # Reset station (two clicks) wipes the store: the meter register saved there starts over
    assert energy_kwh(page, 1) > 0
    reset = page.get_by_test_id("reset-station")
    reset.click()
    expect(reset).to_have_text("Click again to wipe")
    reset.click()
    expect(page.get_by_test_id("notice")).to_contain_text("Station reset")
    expect(page.get_by_test_id("connector-1-energy")).to_have_text("0.000 kWh")
    csms.wait_for(lambda: csms.server.csms.registry[cb_id].boot_count == 2)
    connected(page)
    assert console.errors == []


def test_an_echo_server_is_reported_as_not_a_csms(page: Page, servers, console) -> None:
    """Against ``build.py serve``'s echo endpoint: the page's Python WebSocket gets its frames
    back, the echoed frames and the CALLERRORs the station answered are shown, the page says
    the backend is not a CSMS, and it stays responsive."""
    open_app(page, servers.page, url=servers.echo, autoconnect="1")
    expect(page.get_by_test_id("notice")).to_contain_text("echo server, not an OCPP CSMS")
    expect(page.get_by_test_id("connection-detail")).to_contain_text("not a CSMS")
    rows = page.get_by_test_id("message-log").locator("details")
    boot_in = rows.and_(page.locator('[data-direction="in"][data-kind="CALL"]'))
    expect(boot_in.filter(has_text="BootNotification").first).to_be_visible()
    errors_out = page.locator('#message-log details[data-direction="out"][data-kind="ERROR"]')
    expect(errors_out.first).to_be_visible()
    expect(
        page.locator('#message-log details[data-direction="in"][data-kind="ERROR"]').first
    ).to_be_visible()
    # responsive: the controls still work while the backend talks nonsense
    page.get_by_test_id("connector-2-plug").click()
    expect(page.get_by_test_id("connector-2-plug")).to_be_checked()
    expect(page.get_by_test_id("connector-2-status-note")).to_contain_text("Cable plugged in")
    screenshot(page, "03-echo")
    assert console.errors == []


def test_reload_right_after_the_start_is_confirmed_stops_that_transaction(
    page: Page, csms, console
) -> None:
    """Issue 11's acceptance: plug and present a card by clicks, and reload the page the moment
    the CSMS has confirmed the StartTransaction (transactionId N), without waiting for anything
    in the page. Every write is in localStorage before its frame leaves and the answer is
    stored in the task that received it, so the station comes back and stops N (PowerLoss),
    once; had the answer been lost on the way, the StartTransaction goes out again under its
    message id and the CSMS, which recognises the repeat, answers N again."""
    cb_id = "E2E-RELOAD"
    open_app(page, csms.page, url=csms.csms, id=cb_id, autoconnect="1")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    page.get_by_test_id("connector-1-plug").click()
    page.get_by_test_id("connector-1-idtag").fill("E2E-RELOAD-TAG")
    page.get_by_test_id("connector-1-present-card").click()

    def confirmed() -> bool:
        state = csms.server.csms.registry.get(cb_id)
        return state is not None and bool(state.transactions)

    csms.wait_for(confirmed)
    page.reload()  # at once: no flush, no waiting for the store
    wait_ready(page)
    connected(page)
    state = csms.station(cb_id)
    assert state is not None
    (transaction_id,) = state.transactions

    def stopped() -> bool:
        return transaction_id in csms.server.csms.registry[cb_id].stop_message_ids

    csms.wait_for(stopped)
    state = csms.station(cb_id)
    assert state is not None and state.boot_count == 2
    assert list(state.transactions) == [transaction_id]  # no second transaction
    assert len(set(state.stop_message_ids[transaction_id])) == 1
    tx = state.transactions[transaction_id]
    assert tx.stop_reason == "PowerLoss"
    assert tx.meter_stop is not None and tx.meter_start is not None
    assert tx.meter_stop >= tx.meter_start
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    assert console.errors == []


def test_a_full_local_storage_is_reported_and_the_session_still_ends(
    page: Page, csms, console: ConsoleRecord
) -> None:
    """Another script fills the origin's localStorage: the store's log write of the
    StartTransaction fails with QuotaExceededError. The page says so (notice, console), keeps the
    data, saves it to IndexedDB anyway and says when all is saved again; the session goes on."""
    cb_id = "E2E-QUOTA"
    open_app(page, csms.page, url=csms.csms, id=cb_id, autoconnect="1")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    page.evaluate(
        """() => {
            let size = 1 << 20;
            for (let n = 0; size > 16; n++) {
                try { localStorage.setItem(`filler-${n}`, "x".repeat(size)); }
                catch (error) { size >>= 1; }
            }
        }"""
    )
    page.get_by_test_id("connector-1-plug").click()
    page.get_by_test_id("connector-1-present-card").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Charging")
    expect(page.get_by_test_id("notice")).to_contain_text("Browser storage works again")
    assert "QuotaExceededError" in console.text
    assert page.evaluate("window.ocppSim.storeStats().refusals") > 0
    page.get_by_test_id("connector-1-present-card").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Finishing")
    expect(page.get_by_test_id("queue-length")).to_have_text("0")
    state = csms.station(cb_id)
    assert state is not None and len(state.stop_message_ids) == 1
    assert console.errors == []


def charge_offline_with_a_cached_card(page: Page) -> None:
    """A first session online puts the card in the authorization cache, so a second one,
    offline, authorizes locally (LocalAuthorizeOffline), charges and is journaled."""
    page.get_by_test_id("connector-1-plug").click()
    page.get_by_test_id("connector-1-present-card").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Charging")
    page.get_by_test_id("connector-1-present-card").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Finishing")
    page.get_by_test_id("connector-1-plug").click()
    expect(page.get_by_test_id("queue-length")).to_have_text("0")
    page.get_by_role("switch", name="Offline").check()
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "offline")
    page.get_by_test_id("connector-1-plug").click()
    page.get_by_test_id("connector-1-present-card").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Charging")
    expect(page.get_by_test_id("queue-length")).not_to_have_text("0")


def test_messages_queued_offline_are_delivered_after_a_reload(page: Page, csms, console) -> None:
    """Offline, a session is journaled; the page is reloaded (a power cut) and connects again:
    the queued StartTransaction goes first, then the PowerLoss stop, in order."""
    cb_id = "E2E-QUEUE"
    open_app(page, csms.page, url=csms.csms, id=cb_id, autoconnect="1")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    charge_offline_with_a_cached_card(page)
    queued = int(page.get_by_test_id("queue-length").text_content() or "0")

    page.reload()
    wait_ready(page)
    connected(page)

    def delivered() -> bool:
        state = csms.server.csms.registry.get(cb_id)
        return state is not None and any(
            tx.stop_reason == "PowerLoss" for tx in state.transactions.values()
        )

    csms.wait_for(delivered)
    tx_calls = csms.calls(cb_id, "StartTransaction", "StopTransaction")
    assert [action for action, _ in tx_calls] == ["StartTransaction", "StopTransaction"] * 2, queued
    assert tx_calls[1][1]["reason"] == "Local"
    (_, start), (_, stop) = tx_calls[2:]
    assert stop["reason"] == "PowerLoss" and stop["meterStop"] >= start["meterStart"]
    assert stop["timestamp"] >= start["timestamp"]
    expect(page.get_by_test_id("queue-length")).to_have_text("0")
    assert console.errors == []


def test_reset_station_wipes_queued_messages_and_configuration(page: Page, csms, console) -> None:
    """ "Reset station" forgets everything the store held: a session journaled offline is never
    delivered, a key the CSMS changed is back to its default, also after a reload."""
    cb_id = "E2E-WIPE"
    open_app(page, csms.page, url=csms.csms, id=cb_id, autoconnect="1")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    changed = csms.call(cb_id, call.ChangeConfiguration(key="MeterValueSampleInterval", value="17"))
    assert changed.status == "Accepted"
    charge_offline_with_a_cached_card(page)
    sent_before = len(csms.calls(cb_id))

    reset = page.get_by_test_id("reset-station")
    reset.click()
    reset.click()
    expect(page.get_by_test_id("notice")).to_contain_text("Station reset")
    page.get_by_role("switch", name="Offline").uncheck()
    connected(page)
    page.reload()  # at once: the wipe is in the store's log before the notice shows
    wait_ready(page)
    connected(page)
    expect(page.get_by_test_id("queue-length")).to_have_text("0")
    result = csms.call(cb_id, call.GetConfiguration(key=["MeterValueSampleInterval"]))
    assert result.configuration_key[0]["value"] != "17"
    actions = [action for action, _ in csms.calls(cb_id)[sent_before:]]
    assert "BootNotification" in actions
    assert "StartTransaction" not in actions and "StopTransaction" not in actions
    assert console.errors == []


def test_basic_auth_with_the_key_and_a_clear_failure_without_it(
    page: Page, auth_csms, console: ConsoleRecord
) -> None:
    """URL credentials answer the 401 Basic challenge; a wrong key fails with a message that
    says what to check; the key never shows up in the page, the log, the export or console."""
    cb_id = "E2E-AUTH"
    open_app(page, auth_csms.page)
    page.get_by_label("CSMS URL").fill(auth_csms.csms)
    page.get_by_label("Charge box id").fill(cb_id)
    page.get_by_label("Authorization key").fill(AUTH_PASSWORD)
    page.get_by_role("button", name="Connect", exact=True).click()
    connected(page)
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    state = auth_csms.station(cb_id)
    assert state is not None and state.boot_count == 1
    export = page.evaluate("window.ocppSim.exportJsonl()")

    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_test_id("connection-state")).to_have_text("Disconnected")
    page.get_by_label("Authorization key").fill("wrong-key-123")
    page.get_by_role("button", name="Connect", exact=True).click()
    detail = page.get_by_test_id("connection-detail")
    expect(detail).to_contain_text("could not connect")
    expect(detail).to_contain_text("authorization key")
    expect(page.get_by_test_id("connection-state")).to_have_attribute(
        "data-state", re.compile("reconnect-wait|connecting")
    )
    screenshot(page, "04-auth-failed")

    # Chromium's own network error line for a failed WebSocket quotes the URL it was given,
    # id:key@ included ("WebSocket connection to 'ws://…' failed: …"); the page cannot redact
    # the browser's messages (README: use a test key). Everything the page writes is checked.
    page_console = "\n".join(
        m for m in console.messages if not m.startswith("error: WebSocket connection to ")
    )
    for secret in (AUTH_PASSWORD, "wrong-key-123"):
        assert secret not in (page.inner_text("body") or "")
        assert secret not in page.content()
        assert secret not in export
        assert secret not in json.dumps(log_records(page))
        assert secret not in page_console
        assert secret not in page.url
    assert console.errors == []


def test_hostile_csms_strings_are_shown_as_text(page: Page, servers, loop_thread, console) -> None:
    """Markup in DataTransfer, idTagInfo, CALLERROR descriptions and the close reason is shown
    literally; no script runs."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    backend = WebSocketBackend(loop_thread, hostile_handler)
    try:
        open_app(page, servers.page, url=backend.url, id="E2E-HOSTILE", autoconnect="1")
        log = page.get_by_test_id("message-log")
        data_transfer = log.locator('details[data-action="DataTransfer"]').first
        expect(data_transfer).to_contain_text(HOSTILE)
        expect(log).to_contain_text(f"GenericError: {HOSTILE}")  # CALLERROR description
        reservation = page.get_by_test_id("connector-2-reservation")
        expect(reservation).to_contain_text(f"#7 · {HOSTILE_TAG} until")  # on the card, as text
        expect(page.get_by_test_id("connector-2-status")).to_have_text("Reserved")
        page.evaluate("window.ocppSim.plug(1)")
        page.evaluate("window.ocppSim.presentCard(1, 'HOSTILE-TAG')")
        expect(log.locator('details[data-action="Authorize"][data-kind="RESULT"]')).to_contain_text(
            HOSTILE_SCRIPT
        )
        expect(page.get_by_test_id("connection-detail")).to_contain_text(HOSTILE)
        data_transfer.locator("summary").click()
        expect(data_transfer.locator("pre")).to_contain_text(HOSTILE_SCRIPT)
        screenshot(page, "05-hostile")

        assert page.evaluate("window.__pwned") is None
        assert page.locator("#message-log img, #message-log script").count() == 0
        assert page.locator("header img, #notice img, .connectors img").count() == 0
        assert dialogs == []
        assert console.errors == []
    finally:
        backend.close()


def test_jsonl_export_downloads_valid_json_lines(page: Page, servers, console) -> None:
    open_app(page, servers.page, url=servers.csms, id="E2E-EXPORT", autoconnect="1")
    expect(page.get_by_test_id("connector-2-status")).to_have_text("Available")
    with page.expect_download() as info:
        page.get_by_role("button", name="Export JSONL").click()
    download = info.value
    assert re.fullmatch(r"ocpp-sim-E2E-EXPORT-\d{8}T\d{6}Z\.jsonl", download.suggested_filename)
    text = open(download.path(), encoding="utf-8").read()  # noqa: SIM115
    lines = text.splitlines()
    assert text.endswith("\n") and len(lines) >= 8
    records = [json.loads(line) for line in lines]
    for record in records:
        assert ISO_UTC.match(record["timestamp"]), record
        assert record["direction"] in ("in", "out")
        assert isinstance(record["frame"], list) and record["frame"][0] in (2, 3, 4)
    assert records[0]["direction"] == "out" and records[0]["action"] == "BootNotification"
    assert [r["seq"] for r in records] == sorted(r["seq"] for r in records)
    assert len(records) <= len(log_records(page))
    assert console.errors == []


def test_a_malformed_url_shows_an_error_and_nothing_crashes(page: Page, servers, console) -> None:
    open_app(page, servers.page, url="ws://bad host/ocpp", autoconnect="1")
    state = page.get_by_test_id("connection-state")
    expect(state).to_have_attribute("data-state", "error")
    expect(state).to_have_text("Not connected")
    expect(page.get_by_test_id("connection-detail")).to_contain_text("must not contain spaces")
    expect(page.get_by_test_id("ws-url")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("CSMS URL").fill("http://127.0.0.1:1/ocpp")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_test_id("connection-detail")).to_contain_text("must start with ws://")
    page.get_by_label("CSMS URL").fill("ws://[::1/ocpp")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_test_id("connection-detail")).to_contain_text("malformed")
    screenshot(page, "06-bad-url")

    # still alive: local controls work and a good URL connects
    page.get_by_role("switch", name="Cable plugged (connector 2)").check()
    expect(page.get_by_test_id("connector-2-status-note")).to_contain_text("Cable plugged in")
    page.get_by_label("CSMS URL").fill(servers.csms)
    page.get_by_role("button", name="Connect", exact=True).click()
    connected(page)
    assert console.errors == []


def test_settings_persist_and_controls_have_accessible_names(page: Page, servers) -> None:
    open_app(page, servers.page)
    page.get_by_label("CSMS URL").fill("ws://127.0.0.1:9/somewhere")
    page.get_by_label("Charge box id").fill("E2E-PERSIST")
    page.get_by_label("Authorization key").fill("persisted-key-42")
    page.get_by_label("OCPP version").select_option("2.0.1")
    page.get_by_label("Vendor").fill("E2E Vendor")
    page.get_by_label("Model").fill("E2E Model")
    page.get_by_label("Serial number").fill("SN-77")
    page.get_by_label("Firmware", exact=True).fill("9.9.9")
    page.reload()
    wait_ready(page)
    expect(page.get_by_label("CSMS URL")).to_have_value("ws://127.0.0.1:9/somewhere")
    expect(page.get_by_label("Charge box id")).to_have_value("E2E-PERSIST")
    expect(page.get_by_label("Authorization key")).to_have_value("persisted-key-42")
    expect(page.get_by_label("Authorization key")).to_have_attribute("type", "password")
    expect(page.get_by_label("OCPP version")).to_have_value("2.0.1")
    expect(page.get_by_label("Vendor")).to_have_value("E2E Vendor")
    expect(page.get_by_label("Firmware", exact=True)).to_have_value("9.9.9")

    # OCPP 2.0.1 runs: it offers ocpp2.0.1 to the (absent) CSMS and says so when it fails
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_test_id("connection-detail")).to_contain_text(
        "accepts subprotocol ocpp2.0.1"
    )

    for n in (1, 2):
        for name in ("Cable plugged", "EV ready", "EVSE ready"):
            expect(page.get_by_role("switch", name=f"{name} (connector {n})")).to_be_visible()
        expect(page.get_by_role("button", name=f"Present card (connector {n})")).to_be_visible()
        expect(page.get_by_label(f"RFID card (idTag) (connector {n})")).to_be_visible()
        expect(page.get_by_role("region", name=f"Connector {n}")).to_be_visible()
    for name in ("Disconnect", "Export JSONL", "Pause", "Clear", "Reset station"):
        expect(page.get_by_role("button", name=name)).to_be_visible()
    expect(page.get_by_role("switch", name="Offline")).to_be_visible()
    expect(page.get_by_role("log", name="OCPP frames")).to_be_visible()


def test_the_readme_example_works(page: Page, servers) -> None:
    """The Playwright example of README.md, against the test server (keep them in sync)."""
    page.goto(f"{servers.page}?url={servers.csms}&id=CI-1&autoconnect=1")
    page.evaluate("window.ocppSim.ready.then(() => true)")
    expect(page.get_by_test_id("connection-state")).to_have_text("Connected", timeout=60_000)
    page.get_by_test_id("connector-1-plug").check()
    page.get_by_test_id("connector-1-idtag").fill("MY-TAG")
    page.get_by_test_id("connector-1-present-card").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Charging")
    assert page.evaluate("window.ocppSim.status(1)") == "Charging"
    page.evaluate("window.ocppSim.presentCard(1, 'MY-TAG')")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Finishing")


def test_offline_switch_queues_and_faults_show(page: Page, csms, console) -> None:
    """Pull the cable mid-session: the stop is queued and delivered once back online; an
    injected fault shows as Faulted with its error code and clears."""
    cb_id = "E2E-OFFLINE"
    open_app(page, csms.page, url=csms.csms, id=cb_id, autoconnect="1")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    page.evaluate("window.ocppSim.plug(1)")
    page.evaluate("window.ocppSim.presentCard(1, 'OFFLINE-TAG')")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Charging")
    expect(page.get_by_test_id("connector-1-transaction-id")).to_have_text(re.compile(r"^#\d+"))

    page.get_by_role("switch", name="Offline").check()
    expect(page.get_by_test_id("connection-state")).to_have_text("Offline")
    page.get_by_test_id("connector-1-idtag").fill("OFFLINE-TAG")
    page.get_by_test_id("connector-1-present-card").click()
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Finishing")
    expect(page.get_by_test_id("queue-length")).not_to_have_text("0")
    state = csms.station(cb_id)
    assert state is not None and all(tx.stop_reason is None for tx in state.transactions.values())

    page.get_by_role("switch", name="Offline").uncheck()
    connected(page)
    expect(page.get_by_test_id("queue-length")).to_have_text("0")
    csms.wait_for(
        lambda: all(
            tx.stop_reason == "Local"
            for tx in csms.server.csms.registry[cb_id].transactions.values()
        )
    )

    card = page.get_by_role("region", name="Connector 2")
    card.get_by_text("Fault injection").click()
    card.get_by_label("Error code").select_option("GroundFailure")
    card.get_by_label("Info (optional)").fill("<b>leak</b>")
    card.get_by_role("button", name="Inject fault").click()
    expect(page.get_by_test_id("connector-2-status")).to_have_text("Faulted")
    expect(page.get_by_test_id("connector-2-status-note")).to_have_text(
        "Error: GroundFailure — <b>leak</b>"
    )
    screenshot(page, "07-offline-fault")
    card.get_by_role("button", name="Clear fault").click()
    expect(page.get_by_test_id("connector-2-status")).to_have_text("Available")
    assert console.errors == []


def test_a_deep_link_chooses_the_ocpp_version(page: Page, servers, console) -> None:
    open_app(page, servers.page, url=servers.csms, id="E2E-DEEP-201", ocpp="2.0.1")
    expect(page.get_by_test_id("ocpp-version")).to_have_value("2.0.1")
    expect(page.get_by_test_id("charge-box-id")).to_have_value("E2E-DEEP-201")
    assert console.errors == []
