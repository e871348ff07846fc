"""OCPP 2.0.1 UpdateFirmware and FirmwareStatusNotification (L02, and L01's state machine without
signatures), after part 6's TC_L_xx_CS steps.

Part 6 tests firmware updates as "Secure Firmware Update" only; these tests follow each TC's
steps for the paths that need no signature check: the SignatureVerified step comes with signed
firmware; the SecurityEventNotification FirmwareUpdated after the reboot is tested in
tests/test_security_events.py (TC_L_01_CS step 20). The simulated station
downloads during transactions but installs only once they have ended (TC_L_14/15's station).
Every frame the station sends is schema-checked (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_csms import SILENT, WALL_START
from fake_csms201 import FakeCsms201, booted201
from file_server import Server, serving
from fresh_loop import run_async
from test_transfer import settle
from test_v201_reset import Station, start

from ocpp_core import FirmwareSimulation
from ocpp_core.clock import format_datetime
from ocpp_core.firmware_update import REBOOT_WAIT
from ocpp_core.v201.firmware import DOCUMENT
from sim.transfer import CPythonTransferHost

QUICK = FirmwareSimulation(download_s=2, install_s=2)
PAST = format_datetime(WALL_START - 7200)  # <Current DateTime - 2 hours>
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def at(offset: float) -> str:
    """A date-time ``offset`` seconds after the CSMS's start."""
    return format_datetime(WALL_START + offset)


def update(
    csms: FakeCsms201,
    request_id: int = 1,
    location: str = "ftp://fw.example.com/fw-2.1.0.bin",
    retrieve: str = PAST,
    install: str | None = PAST,
    **extra: object,
) -> dict:
    firmware: dict[str, object] = {"location": location, "retrieveDateTime": retrieve}
    if install is not None:
        firmware["installDateTime"] = install
    firmware.update(extra.pop("firmware", {}))  # type: ignore[call-overload]
    payload = {"requestId": request_id, "firmware": firmware, "retries": 0, **extra}
    return csms.result("UpdateFirmware", payload)


def statuses(csms: FakeCsms201) -> list[str]:
    return [p["status"] for p in csms.payloads("FirmwareStatusNotification")]


def request_ids(csms: FakeCsms201) -> set[int | None]:
    return {p.get("requestId") for p in csms.payloads("FirmwareStatusNotification")}


def boots(r: Station) -> list[tuple[str, str | None]]:
    return [
        (p["reason"], p["chargingStation"].get("firmwareVersion"))
        for p in r.payloads("BootNotification")
    ]


def station(**options: object) -> Station:
    options.setdefault("firmware_simulation", QUICK)
    r = Station(**options)
    r.clear()
    return r


# --------------------------------------------------------------------------- installation


def test_TC_L_01_CS_installation_successful_reboots_into_the_new_version() -> None:
    r = station()
    old = r.cp.firmware_version
    assert update(r.csms, request_id=5) == {"status": "Accepted"}
    r.run(10)
    assert statuses(r.csms) == [
        "Downloading",
        "Downloaded",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]
    assert request_ids(r.csms) == {5}
    assert r.resets == ["Immediate"]
    assert boots(r) == [("FirmwareUpdate", "2.1.0")]
    assert old != "2.1.0" and r.cp.firmware_version == "2.1.0"
    # Step 17: the connectors' state after the reboot, before Installed (step 19).
    actions = r.actions()
    assert actions.index("StatusNotification") < actions.index("FirmwareStatusNotification", 4)
    assert {p["connectorStatus"] for p in r.payloads("StatusNotification")} == {"Available"}
    # The Installed status was confirmed: Idle from now on; the version stays after power cuts.
    r.clear()
    r.restart()
    assert statuses(r.csms) == []
    assert boots(r) == [("PowerUp", "2.1.0")]
    assert r.cp.firmware_status == "Idle"


def test_TC_L_02_CS_install_scheduled_until_installDateTime() -> None:
    r = station()
    assert update(r.csms, request_id=2, install=at(600))["status"] == "Accepted"
    r.run(10)
    assert statuses(r.csms) == ["Downloading", "Downloaded", "InstallScheduled"]
    assert r.resets == []
    r.run(600)
    assert statuses(r.csms)[3:] == ["Installing", "InstallRebooting", "Installed"]
    assert boots(r)[-1] == ("FirmwareUpdate", "2.1.0")
    assert request_ids(r.csms) == {2}


def test_TC_L_03_CS_download_scheduled_until_retrieveDateTime() -> None:
    r = station()
    assert update(r.csms, request_id=3, retrieve=at(300))["status"] == "Accepted"
    r.run(5)
    assert statuses(r.csms) == ["DownloadScheduled"]
    r.run(300)
    assert statuses(r.csms) == [
        "DownloadScheduled",
        "Downloading",
        "Downloaded",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]
    assert request_ids(r.csms) == {3}


def test_TC_L_07_CS_download_failed() -> None:
    r = station(firmware_simulation=QUICK._replace(fail_download=True))
    assert (
        update(r.csms, location="ftp://fw.example.com/fw-2.1.0.bin_does_not_exist")["status"]
        == "Accepted"
    )
    r.run(10)
    assert statuses(r.csms) == ["Downloading", "DownloadFailed"]
    assert r.cp.firmware_status == "Idle"
    assert r.resets == []


def test_L01_a_failed_download_is_retried_retryInterval_later() -> None:
    r = station(firmware_simulation=QUICK._replace(fail_download=True))
    update(r.csms, retries=2, retryInterval=30)
    r.run(100)
    assert statuses(r.csms) == ["Downloading", "DownloadFailed"] * 3
    times = [t for _, a, _, t in r.csms.calls if a == "FirmwareStatusNotification"]
    assert times[2] - times[1] == pytest.approx(30, abs=1)


def test_TC_L_08_CS_installation_failed() -> None:
    r = station(firmware_simulation=QUICK._replace(fail_install=True))
    old = r.cp.firmware_version
    update(r.csms, request_id=8)
    r.run(10)
    assert statuses(r.csms) == ["Downloading", "Downloaded", "Installing", "InstallationFailed"]
    assert request_ids(r.csms) == {8}
    assert r.resets == [] and r.cp.firmware_version == old
    assert r.store.load(DOCUMENT) is None


# --------------------------------------------------------------------------- a second request


def test_TC_L_10_CS_a_new_request_cancels_the_running_download() -> None:
    r = station(firmware_simulation=FirmwareSimulation(download_s=30, install_s=2))
    update(r.csms, request_id=1)
    r.run(3)
    assert statuses(r.csms) == ["Downloading"]
    assert update(r.csms, request_id=2, location="ftp://fw/fw-3.0.bin") == {
        "status": "AcceptedCanceled"
    }
    r.run(40)
    sent = [(p["status"], p.get("requestId")) for p in r.payloads("FirmwareStatusNotification")]
    assert sent == [
        ("Downloading", 1),
        ("Downloading", 2),
        ("Downloaded", 2),
        ("Installing", 2),
        ("InstallRebooting", 2),
        ("Installed", 2),
    ]
    assert r.cp.firmware_version == "3.0"


def test_TC_L_11_CS_unable_to_cancel_while_installing() -> None:
    """Part 6 sends the second request while downloading; this station can cancel a download
    (TC_L_10), so it is unable to cancel only once the installation has begun."""
    r = station(firmware_simulation=FirmwareSimulation(download_s=1, install_s=20))
    update(r.csms, request_id=1)
    r.run(4)
    assert statuses(r.csms)[-1] == "Installing"
    answer = update(r.csms, request_id=2, location="ftp://fw/fw-9.9.bin")
    assert answer["status"] == "Rejected"
    r.run(30)
    assert statuses(r.csms)[-2:] == ["InstallRebooting", "Installed"]
    assert request_ids(r.csms) == {1}
    assert r.cp.firmware_version == "2.1.0"


def test_L01_InvalidCertificate_for_a_signing_certificate_that_is_no_certificate() -> None:
    r = station()
    answer = update(r.csms, firmware={"signingCertificate": "garbage", "signature": "c2ln"})
    assert answer["status"] == "InvalidCertificate"
    r.run(5)
    assert statuses(r.csms) == []


def test_L02_a_pem_signing_certificate_is_taken_without_signature_check() -> None:
    """L01's signature verification comes with the security issue (no SignatureVerified)."""
    r = station()
    answer = update(r.csms, firmware={"signingCertificate": PEM, "signature": "c2ln"})
    assert answer["status"] == "Accepted"
    r.run(10)
    assert "SignatureVerified" not in statuses(r.csms)
    assert statuses(r.csms)[-1] == "Installed"


# --------------------------------------------------------------------------- transactions


def test_TC_L_14_CS_installation_waits_for_the_ongoing_transaction() -> None:
    r = station()
    start(r, evse=1)
    r.clear()
    update(r.csms, request_id=14)
    r.run(10)
    assert statuses(r.csms) == ["Downloading", "Downloaded", "InstallScheduled"]
    assert r.resets == []
    # L01.FR.07: the idle EVSE is Unavailable meanwhile, and refuses a new transaction.
    evse2 = [p["connectorStatus"] for p in r.payloads("StatusNotification") if p["evseId"] == 2]
    assert evse2 == ["Unavailable"]
    r.card("OTHER", evse=2)
    r.plug(2)
    assert r.cp.transaction(2) is None
    r.unplug(2)
    # The transaction ends: EVSE 1 becomes Unavailable, the installation begins.
    r.unplug(1)
    r.run(10)
    evse1 = [p["connectorStatus"] for p in r.payloads("StatusNotification") if p["evseId"] == 1]
    assert evse1[0] == "Unavailable"
    assert statuses(r.csms)[3:] == ["Installing", "InstallRebooting", "Installed"]
    assert boots(r)[-1] == ("FirmwareUpdate", "2.1.0")
    # After the reboot the EVSEs are Available again.
    after = [p["connectorStatus"] for p in r.payloads("StatusNotification")][-2:]
    assert after == ["Available", "Available"]


def test_TC_L_15_CS_one_transaction_station_waits_and_is_unavailable() -> None:
    r = station(connectors=1)
    start(r, evse=1)
    r.clear()
    update(r.csms, request_id=15)
    r.run(10)
    assert statuses(r.csms) == ["Downloading", "Downloaded", "InstallScheduled"]
    r.unplug(1)
    r.run(10)
    assert "Unavailable" in [p["connectorStatus"] for p in r.payloads("StatusNotification")]
    assert statuses(r.csms)[3:] == ["Installing", "InstallRebooting", "Installed"]


def test_L01_a_cancelled_waiting_update_makes_the_evses_available_again() -> None:
    r = station()
    start(r, evse=1)
    update(r.csms, request_id=1)
    r.run(10)
    r.clear()
    r.cp.set_firmware_simulation(QUICK._replace(fail_download=True))
    assert update(r.csms, request_id=2)["status"] == "AcceptedCanceled"
    r.run(10)
    assert statuses(r.csms) == ["Downloading", "DownloadFailed"]
    evse2 = [p["connectorStatus"] for p in r.payloads("StatusNotification") if p["evseId"] == 2]
    assert evse2 == ["Available"]


# --------------------------------------------------------------------------- persistence


def test_L01_a_scheduled_update_survives_a_restart() -> None:
    r = station()
    update(r.csms, request_id=21, retrieve=at(300))
    r.run(5)
    r.restart()
    r.run(310)
    assert statuses(r.csms)[0] == "DownloadScheduled"
    assert statuses(r.csms)[1:] == [
        "Downloading",
        "Downloaded",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]
    assert request_ids(r.csms) == {21}


def test_L01_an_interrupted_download_starts_again_after_a_restart() -> None:
    r = station(firmware_simulation=FirmwareSimulation(download_s=30, install_s=1))
    update(r.csms, request_id=22)
    r.run(5)
    r.restart()
    r.run(40)
    assert statuses(r.csms) == [
        "Downloading",
        "Downloading",
        "Downloaded",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]


def test_L01_installed_is_reported_again_after_a_power_cut_before_it_was_confirmed() -> None:
    r = station()
    r.csms.handlers["FirmwareStatusNotification"] = lambda payload: (
        SILENT if payload["status"] == "Installed" else {}
    )
    update(r.csms, request_id=23)
    r.run(10)
    assert statuses(r.csms)[-1] == "Installed"
    stored = r.store.load(DOCUMENT)
    assert stored["report"] is True and stored["installed"]["version"] == "2.1.0"
    r.csms.handlers["FirmwareStatusNotification"] = lambda payload: {}
    r.clear()
    r.restart()
    assert [(p["status"], p["requestId"]) for p in r.payloads("FirmwareStatusNotification")] == [
        ("Installed", 23)
    ]
    assert "report" not in r.store.load(DOCUMENT)
    assert boots(r) == [("PowerUp", "2.1.0")]


def test_L01_the_reboot_waits_for_the_notices_within_a_limit() -> None:
    r = station()
    update(r.csms, request_id=30)
    r.run(3)
    assert statuses(r.csms)[-1] == "Installing"
    r.offline()
    r.run(REBOOT_WAIT - 5)
    assert r.resets == []
    r.run(10)
    assert r.resets == ["Immediate"]
    # InstallRebooting never left (offline until the reboot); the new engine reports Installed.
    assert statuses(r.csms)[-2:] == ["Installing", "Installed"]


def test_L02_without_a_reset_hook_installed_is_reported_at_once() -> None:
    cp, csms = booted201(firmware_simulation=QUICK)
    update(csms, request_id=31)
    csms.advance(10)
    assert statuses(csms)[-2:] == ["InstallRebooting", "Installed"]
    assert cp.firmware_status == "Idle"


def test_F06_FR_16_trigger_reports_idle_or_the_update_in_progress() -> None:
    _cp, csms = booted201(firmware_simulation=FirmwareSimulation(download_s=20))
    trigger = {"requestedMessage": "FirmwareStatusNotification"}
    assert csms.result("TriggerMessage", trigger) == {"status": "Accepted"}
    assert csms.payloads("FirmwareStatusNotification")[-1] == {"status": "Idle"}
    update(csms, request_id=40)
    csms.advance(2)
    csms.result("TriggerMessage", trigger)
    assert csms.payloads("FirmwareStatusNotification")[-1] == {
        "status": "Downloading",
        "requestId": 40,
    }


def test_L01_an_absurd_date_is_a_property_violation() -> None:
    _cp, csms = booted201()
    payload = {
        "requestId": 1,
        "firmware": {"location": "ftp://f/fw.bin", "retrieveDateTime": "0001-01-01T00:00:00Z"},
    }
    reply = csms.call("UpdateFirmware", payload)
    assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation"


# --------------------------------------------------------------------------- real HTTP


@pytest.fixture
def server() -> Iterator[Server]:
    with serving() as running:
        yield running


def real_update(location: str) -> list[str]:
    async def scenario() -> list[str]:
        cp, csms = booted201(firmware_simulation=FirmwareSimulation(install_s=0))
        cp.set_transfer_host(CPythonTransferHost(cp, clock=lambda: csms.now))
        update(csms, request_id=50, location=location)
        await settle(csms, lambda: cp.firmware_status == "Idle")
        assert request_ids(csms) == {50}
        return statuses(csms)

    return run_async(scenario())


def test_TC_L_01_CS_a_real_http_download(server: Server) -> None:
    assert real_update(f"{server.base}/fw-2.0.0.bin") == [
        "Downloading",
        "Downloaded",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]


def test_TC_L_07_CS_a_missing_image_is_download_failed(server: Server) -> None:
    assert real_update(f"{server.base}/fw-2.0.0.bin_does_not_exist") == [
        "Downloading",
        "DownloadFailed",
    ]


# --------------------------------------------------------------------------- the sim Station


def test_the_control_center_sees_2_0_1_progress_and_its_failure_switches() -> None:
    """The version-neutral Station API the Control Center's transfer panel and the CLI read."""
    from station_fakes import FakeBackend, Rig

    from sim.events import TransferFailures

    rig = Rig(FakeBackend(), ocpp_version="2.0.1").boot()
    rig.station.set_transfer_failures(TransferFailures(firmware_install=True))
    firmware = {"location": "ftp://fw.test/fw-9.9.bin", "retrieveDateTime": PAST}
    rig.backend.call("UpdateFirmware", {"requestId": 3, "firmware": firmware, "retries": 0})
    rig.backend.call(
        "GetLog",
        {"logType": "DiagnosticsLog", "requestId": 4, "log": {"remoteLocation": "ftp://d.test/u"}},
    )
    rig.run(30.0)
    sent = [p["status"] for a, p in rig.backend.calls if a == "FirmwareStatusNotification"]
    assert sent == ["Downloading", "Downloaded", "Installing", "InstallationFailed"]
    assert rig.station.firmware_progress.status == "InstallationFailed"
    assert rig.station.diagnostics_progress.status == "Uploaded"
    assert rig.station.engine.last_diagnostics[1].startswith(b"OCPP 2.0.1 diagnostics")


def test_TC_F_19_CS_trigger_firmware_status_notification_while_downloading() -> None:
    _cp, csms = booted201(firmware_simulation=FirmwareSimulation(download_s=30))
    assert update(csms, request_id=19)["status"] == "Accepted"
    assert statuses(csms) == ["Downloading"]
    trigger = {"requestedMessage": "FirmwareStatusNotification"}
    assert csms.result("TriggerMessage", trigger) == {"status": "Accepted"}
    assert [(p["status"], p["requestId"]) for p in csms.payloads("FirmwareStatusNotification")] == [
        ("Downloading", 19),
        ("Downloading", 19),
    ]
