"""OCPP 2.0.1 Advanced User Interface in the Control Center, in real Chromium (issue 14).

A display message the CSMS sets (O01) appears on the simulated display of the Station display
panel, as text (an HTML message shows its raw text: no element is made of it), in priority
order (an AlwaysFront message goes in front, O01); GetDisplayMessages by priority is answered by
a NotifyDisplayMessages with just that message (O04); it survives a reload (the station's store),
and disappears when the CSMS clears it (O05). Every frame the page sent is schema-checked
afterwards (conftest).
"""

from __future__ import annotations

from ocpp.v201 import call
from pagekit import open_app, screenshot, wait_ready
from playwright.sync_api import Page, expect

HTML = "<b>Welcome</b> to the E2E station"


def message(message_id: int, text: str, priority: str, fmt: str = "UTF8") -> dict:
    return {
        "id": message_id,
        "priority": priority,
        "message": {"format": fmt, "language": "en", "content": text},
    }


def test_O01_O05_a_display_message_appears_on_the_display_and_goes_when_cleared(
    page: Page, csms, console
) -> None:
    cb_id = "E2E-201-DISPLAY"
    open_app(page, csms.page, url=csms.csms, id=cb_id, ocpp="2.0.1", autoconnect="1")
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    expect(page.get_by_test_id("station-display-panel")).to_be_visible()
    expect(page.get_by_test_id("display-1-empty")).to_have_text("No message")
    expect(page.get_by_test_id("display-1-state")).to_have_text("Connector 1 · Idle")

    answer = csms.call(cb_id, call.SetDisplayMessage(message=message(11, HTML, "InFront", "HTML")))
    assert answer.status == "Accepted"
    shown = page.get_by_test_id("display-1-message-11-text")
    expect(shown).to_have_text(HTML)  # the raw text, not rendered
    assert page.locator('[data-testid="display-1-message-11-text"] b').count() == 0
    expect(page.get_by_test_id("display-2-message-11-text")).to_have_text(HTML)
    expect(page.get_by_test_id("display-1-empty")).to_have_count(0)

    answer = csms.call(cb_id, call.SetDisplayMessage(message=message(12, "Front", "AlwaysFront")))
    assert answer.status == "Accepted"
    texts = page.locator(
        '#station-display [data-testid^="display-1-message-"][data-testid$="-text"]'
    )
    expect(texts).to_have_text(["Front", HTML])
    screenshot(page, "v201-display-messages")

    answer = csms.call(cb_id, call.GetDisplayMessages(request_id=77, priority="AlwaysFront"))
    assert answer.status == "Accepted"  # O04: then NotifyDisplayMessages with message 12 only
    csms.wait_for(lambda: bool(csms.calls_now(cb_id, "NotifyDisplayMessages")))
    ((_, notify),) = csms.calls(cb_id, "NotifyDisplayMessages")
    assert notify["requestId"] == 77
    assert [info["id"] for info in notify["messageInfo"]] == [12]

    page.reload()  # kept by the station across a restart
    wait_ready(page)
    expect(page.get_by_test_id("registration")).to_have_text("Accepted")
    expect(texts).to_have_text(["Front", HTML])

    answer = csms.call(cb_id, call.ClearDisplayMessage(id=11))
    assert answer.status == "Accepted"
    expect(shown).to_have_count(0)
    expect(texts).to_have_text(["Front"])
    answer = csms.call(cb_id, call.ClearDisplayMessage(id=12))
    assert answer.status == "Accepted"
    expect(page.get_by_test_id("display-1-empty")).to_have_text("No message")
    assert csms.call(cb_id, call.ClearDisplayMessage(id=12)).status == "Unknown"
    assert console.errors == []
