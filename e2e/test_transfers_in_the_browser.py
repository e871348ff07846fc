"""Firmware Management over real HTTP from the page (issue 7): the browser's ``fetch`` downloads
the image from a file server on another origin and uploads the diagnostics file to it, with
CORS as a real CSMS file server would need it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from conftest import FIRMWARE_IMAGE
from ocpp.v16 import call
from pagekit import open_app, screenshot
from playwright.sync_api import Page, expect


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _statuses(calls: list[tuple[str, dict]]) -> list[str]:
    return [payload["status"] for _action, payload in calls]


def test_a_firmware_image_is_downloaded_and_its_sha256_shown(
    page: Page, csms, file_server, console
) -> None:
    cb_id = "E2E-FW-HTTP"
    open_app(page, csms.page, url=csms.csms, id=cb_id, autoconnect="1")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    expect(page.get_by_test_id("firmware-image")).to_have_text("")
    location = f"{file_server.base}/fw-2.1.0.bin"
    csms.call(cb_id, call.UpdateFirmware(location=location, retrieve_date=_now(), retries=0))
    digest = hashlib.sha256(FIRMWARE_IMAGE).hexdigest()
    expect(page.get_by_test_id("firmware-image")).to_have_text(
        f"image {len(FIRMWARE_IMAGE):,} bytes, SHA-256 {digest}", timeout=30_000
    )
    expect(page.get_by_test_id("firmware-status")).to_have_text("Installed", timeout=60_000)
    expect(page.get_by_test_id("firmware-image")).to_contain_text(digest)  # kept after the reboot
    screenshot(page, "10-firmware-installed")
    firmware = "FirmwareStatusNotification"
    csms.wait_for(lambda: "Installed" in _statuses(csms.calls_now(cb_id, firmware)))
    assert _statuses(csms.calls(cb_id, firmware)) == [
        "Downloading", "Downloaded", "Installing", "Installed"
    ]  # fmt: skip
    _boot, last_boot = csms.calls(cb_id, "BootNotification")[-1]
    assert last_boot["firmwareVersion"] == "2.1.0"  # rebooted into the new image
    assert console.errors == []


def test_a_diagnostics_file_is_uploaded_to_the_file_server(
    page: Page, csms, file_server, console
) -> None:
    cb_id = "E2E-DIAG-HTTP"
    open_app(page, csms.page, url=csms.csms, id=cb_id, autoconnect="1")
    expect(page.get_by_test_id("connector-1-status")).to_have_text("Available")
    result = csms.call(cb_id, call.GetDiagnostics(location=f"{file_server.base}/uploads/"))
    assert result.file_name
    expect(page.get_by_test_id("diagnostics-status")).to_have_text("Uploaded", timeout=30_000)
    assert list(file_server.stored) == [f"/uploads/{result.file_name}"]
    content = file_server.stored[f"/uploads/{result.file_name}"].decode("utf-8")
    assert "BootNotification" in content  # the station's recent frames
    diagnostics = "DiagnosticsStatusNotification"
    # The page shows Uploaded as the notification is queued: wait for the CSMS to have it.
    csms.wait_for(lambda: "Uploaded" in _statuses(csms.calls_now(cb_id, diagnostics)))
    assert _statuses(csms.calls(cb_id, diagnostics)) == ["Uploading", "Uploaded"]
    assert console.errors == []
