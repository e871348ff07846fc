"""Security events and the security log in both versions (OCPP 2.0.1 A04, N01, Appendix 1; OCPP
1.6 security whitepaper edition 2: A04, N01, §8), and GetLog(SecurityLog) uploads.

Events the station observes itself (start, reset, firmware version, clock, security keys,
refused CALLs) are raised by the engine; those that come from the transport, the certificate
store or signature checks are raised here through the host API (``ChargePoint.security_event``)
as those blocks will. Every frame the station sends is schema-checked (tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import errno
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_csms import IDENTITY, SILENT, WALL_START, Error, FakeCsms, booted, station
from fake_csms201 import FakeCsms201, booted201, station201
from file_server import Server, serving
from test_store_failures import FailingDisk
from test_transfer import settle

from ocpp_core import ChargePoint, DiagnosticsSimulation, StationIdentity
from ocpp_core.clock import format_datetime
from ocpp_core.security_events import ATTEMPTS, LOG, LOG_LIMIT, RETRY_INTERVAL, V16, V201
from ocpp_core.store import MemoryStore
from sim.transfer import CPythonTransferHost

QUICK = DiagnosticsSimulation(upload_s=2)
KEY = "0123456789abcdef0123456789ABCDEF"  # a 1.6 AuthorizationKey (write-only)
PASSWORD = "s3cret-Passw0rd-0123"  # a 2.0.1 BasicAuthPassword (write-only)

Csms = FakeCsms | FakeCsms201


def both(**options: Any) -> list[tuple[ChargePoint, Csms]]:
    return [booted(**options), booted201(**options)]


def notified(csms: Csms) -> list[tuple[str, str | None]]:
    return [(p["type"], p.get("techInfo")) for p in csms.payloads("SecurityEventNotification")]


def types(cp: ChargePoint) -> list[str]:
    return [record.type for record in cp.security_events()]


def fresh(version: str, store: MemoryStore, **options: Any) -> tuple[ChargePoint, Csms]:
    if version == "1.6":
        return station(store=store, **options)
    return station201(store=store, **options)


# --------------------------------------------------------------------------- A04: raised, sent


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_A04_FR_01_startup_of_the_device_is_notified_after_the_boot(version: str) -> None:
    """2.0.1 reusable state Booted step 7 (TC_B_*): StartupOfTheDevice or ResetOrReboot."""
    cp, csms = fresh(version, MemoryStore())
    csms.connect()
    actions = csms.actions()
    assert actions[0] == "BootNotification"
    assert actions[-1] == "SecurityEventNotification"
    [payload] = csms.payloads("SecurityEventNotification")
    assert payload["type"] == "StartupOfTheDevice"
    # Taken before the CSMS set the clock, told at the time the CSMS's clock gives it.
    assert payload["timestamp"] == format_datetime(WALL_START)
    [record] = cp.security_events()
    assert record.type == "StartupOfTheDevice" and record.critical
    assert record.timestamp == payload["timestamp"]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_A04_FR_01_tamper_detection_is_critical_and_sent(version: str) -> None:
    cp, csms = booted() if version == "1.6" else booted201()
    cp.security_event("TamperDetectionActivated", "enclosure opened", now=csms.now)
    csms.pump()
    assert notified(csms) == [("TamperDetectionActivated", "enclosure opened")]
    assert types(cp)[-1] == "TamperDetectionActivated"


def test_A04_FR_04_non_critical_events_are_logged_not_sent() -> None:
    for cp, csms in both():
        cp.security_event("FailedToAuthenticateAtCsms", "HTTP 401 at connect", now=csms.now)
        csms.pump()
        assert notified(csms) == []
        record = cp.security_events()[-1]
        assert not record.critical and record.tech_info == "HTTP 401 at connect"
    assert types(booted()[0])[0] == "StartupOfTheDevice"


def test_appendix_1_names_and_criticality_per_version() -> None:
    """The whitepaper's names differ where 2.0.1 says CSMS/Charging Station; certificate and
    TLS failures are critical in 2.0.1 only."""
    cp16, csms16 = booted()
    cp201, csms201 = booted201()
    for name in (
        "InvalidCsmsCertificate",
        "InvalidChargingStationCertificate",
        "InvalidTLSVersion",
    ):
        cp16.security_event(name, now=csms16.now)
        cp201.security_event(name, now=csms201.now)
    csms16.pump()
    csms201.pump()
    assert types(cp16)[-3:] == [
        "InvalidCentralSystemCertificate",
        "InvalidChargePointCertificate",
        "InvalidTLSVersion",
    ]
    assert notified(csms16) == []
    assert [t for t, _ in notified(csms201)] == [
        "InvalidCsmsCertificate",
        "InvalidChargingStationCertificate",
        "InvalidTLSVersion",
    ]
    assert "MaintenanceLoginFailed" in V201.critical and "MaintenanceLoginFailed" not in V16.names
    with pytest.raises(ValueError, match="not a security event"):
        cp16.security_event("MaintenanceLoginFailed", now=csms16.now)
    with pytest.raises(ValueError, match="not a security event"):
        cp201.security_event("SomethingElse", now=csms201.now)


def test_tech_info_is_cut_to_255_characters() -> None:
    cp, csms = booted201()
    cp.security_event("TamperDetectionActivated", "x" * 300, now=csms.now)
    csms.pump()
    assert notified(csms) == [("TamperDetectionActivated", "x" * 255)]


# --------------------------------------------------------------------------- observed events


def test_A04_reset_or_reboot_before_the_reset_then_startup_after_it() -> None:
    store = MemoryStore()
    resets: list[str] = []
    cp, csms = station201(store=store, reset_handler=lambda kind: resets.append(kind))
    csms.connect()
    csms.handlers["SecurityEventNotification"] = lambda payload: SILENT  # lost in the reboot
    assert csms.result("Reset", {"type": "Immediate"}) == {"status": "Accepted"}
    csms.advance(5)
    assert resets
    assert types(cp)[-1] == "ResetOrReboot"
    # The station reboots: a new engine on the same store delivers what the old one queued.
    _cp2, csms2 = station201(store=store)
    csms2.now = csms.now + 1
    csms2.connect()
    assert [t for t, _ in notified(csms2)] == ["ResetOrReboot", "StartupOfTheDevice"]
    assert notified(csms2)[0][1] is not None and "reset" in notified(csms2)[0][1]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_A04_firmware_updated_when_the_station_starts_with_another_version(version: str) -> None:
    store = MemoryStore()
    _cp, csms = fresh(version, store)
    csms.connect()
    newer = StationIdentity(vendor=IDENTITY.vendor, model=IDENTITY.model, firmware_version="2.0.0")
    cp = ChargePoint(identity=newer, store=store, version=version)
    csms2 = FakeCsms(cp) if version == "1.6" else FakeCsms201(cp)
    csms2.connect()
    assert ("FirmwareUpdated", "from 1.0.0 to 2.0.0") in notified(csms2)
    # The next start with the same version reports none.
    cp3 = ChargePoint(identity=newer, store=store, version=version)
    csms3 = FakeCsms(cp3) if version == "1.6" else FakeCsms201(cp3)
    csms3.connect()
    assert [t for t, _ in notified(csms3)] == ["StartupOfTheDevice"]


def test_A04_setting_system_time_when_the_csms_moves_a_set_clock() -> None:
    for _cp, csms in both():
        heartbeat_time = format_datetime(WALL_START + csms.now + 3600)
        csms.handlers["Heartbeat"] = lambda payload, t=heartbeat_time: {"currentTime": t}
        csms.call("TriggerMessage", {"requestedMessage": "Heartbeat"})
        csms.pump()
        [(kind, info)] = notified(csms)
        assert kind == "SettingSystemTime" and info is not None and "clock set from" in info
        # A drift below the threshold (20 s) is no event.
        csms.clear()
        close = format_datetime(WALL_START + csms.now + 3605)
        csms.handlers["Heartbeat"] = lambda payload, t=close: {"currentTime": t}
        csms.call("TriggerMessage", {"requestedMessage": "Heartbeat"})
        csms.pump()
        assert notified(csms) == []


def test_A04_reconfiguration_of_security_parameters_without_the_values() -> None:
    cp, csms = booted(diagnostics_simulation=QUICK)
    reply = csms.result("ChangeConfiguration", {"key": "AuthorizationKey", "value": KEY})
    assert reply == {"status": "Accepted"}
    csms.pump()
    record = cp.security_events()[-1]
    assert (record.type, record.tech_info) == (
        "ReconfigurationOfSecurityParameters",
        "AuthorizationKey changed",
    )
    assert notified(csms) == []  # not critical
    cp201, csms201 = booted201()
    status = cp201.set_variable("SecurityCtrlr.BasicAuthPassword", PASSWORD, csms201.now)
    assert status == "Accepted"
    csms201.pump()
    record = cp201.security_events()[-1]
    assert record.tech_info == "SecurityCtrlr.BasicAuthPassword changed"
    for r in cp201.security_events() + cp.security_events():
        assert PASSWORD not in r.tech_info and KEY.lower() not in r.tech_info.lower()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_A04_invalid_messages_a_call_refused_for_its_schema_or_framing(version: str) -> None:
    cp, csms = booted() if version == "1.6" else booted201()
    reply = csms.call("Reset", {"type": "Sideways"})
    assert reply[0] == 4
    cp.receive('[2, "bad-1", "Reset", {', csms.now)
    csms.pump()
    invalid = [r for r in cp.security_events() if r.type == "InvalidMessages"]
    assert len(invalid) == 2
    assert invalid[0].tech_info.startswith("Reset: ")
    assert notified(csms) == []


# --------------------------------------------------------------------------- A04.FR.02: queued


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_A04_FR_02_queued_offline_and_delivered_in_order_after_reconnect(version: str) -> None:
    cp, csms = booted() if version == "1.6" else booted201()
    csms.disconnect()
    for info in ("first", "second", "third"):
        cp.security_event("TamperDetectionActivated", info, now=csms.now)
        csms.advance(10)
    assert csms.actions() == []
    csms.connect()
    assert [info for _, info in notified(csms)] == ["first", "second", "third"]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_A04_FR_02_not_lost_across_a_restart(version: str) -> None:
    store = MemoryStore()
    cp, csms = fresh(version, store)
    csms.connect()
    csms.disconnect()
    cp.security_event("TamperDetectionActivated", "while offline", now=csms.now)
    cp.security_event("SecurityLogWasCleared", now=csms.now)  # any critical one
    # Power cut: a new engine on the same store.
    cp2, csms2 = fresh(version, store)
    csms2.connect()
    sent = [t for t, _ in notified(csms2)]
    assert sent[:2] == ["TamperDetectionActivated", "SecurityLogWasCleared"]
    assert sent[2:] == ["StartupOfTheDevice"]
    assert store.names("secmsg/") == []  # delivered and deleted
    assert "TamperDetectionActivated" in types(cp2)  # the log survived too


def test_A04_FR_02_a_timeout_resends_the_same_message_id() -> None:
    store = MemoryStore()
    cp, csms = booted201(store=store)
    csms.handlers["SecurityEventNotification"] = lambda payload: SILENT
    cp.security_event("TamperDetectionActivated", now=csms.now)
    csms.advance(200, step=5)
    ids = [mid for mid, action, _, _ in csms.calls if action == "SecurityEventNotification"]
    assert len(ids) >= 2 and len(set(ids)) == 1 and ids[0].startswith("sec-")
    assert len(store.names("secmsg/")) == 1
    csms.handlers["SecurityEventNotification"] = lambda payload: {}
    csms.advance(200, step=5)
    assert store.names("secmsg/") == []


def test_A04_FR_02_callerrors_are_retried_then_given_up() -> None:
    store = MemoryStore()
    cp, csms = booted(store=store)
    csms.handlers["SecurityEventNotification"] = lambda payload: Error("InternalError")
    cp.security_event("TamperDetectionActivated", now=csms.now)
    csms.advance(RETRY_INTERVAL * ATTEMPTS * ATTEMPTS, step=5)
    sent = [at for _, action, _, at in csms.calls if action == "SecurityEventNotification"]
    assert len(sent) == ATTEMPTS
    assert sent[1] - sent[0] == pytest.approx(RETRY_INTERVAL, abs=5)
    assert store.names("secmsg/") == []


# --------------------------------------------------------------------------- the log


def test_A04_FR_04_the_log_is_bounded_and_persisted() -> None:
    store = MemoryStore()
    cp, csms = station(store=store)
    csms.connect()
    for n in range(LOG_LIMIT + 10):
        cp.security_event("InvalidMessages", f"event {n}", now=csms.now)
    events = cp.security_events()
    assert len(events) == LOG_LIMIT
    assert events[-1].tech_info == f"event {LOG_LIMIT + 9}"
    assert events[0].tech_info == "event 10"  # StartupOfTheDevice and the oldest 10 dropped
    assert len(store.names(LOG)) == LOG_LIMIT
    cp2, _ = station(store=store)
    assert cp2.security_events() == events


def test_security_log_was_cleared_is_its_first_new_event() -> None:
    for cp, csms in both():
        cp.security_event("InvalidMessages", "x", now=csms.now)
        cp.clear_security_log(now=csms.now)
        csms.pump()
        assert types(cp) == ["SecurityLogWasCleared"]
        assert notified(csms) == [("SecurityLogWasCleared", None)]


# --------------------------------------------------------------------------- N01: GetLog


def get_log(csms: Csms, log_type: str, request_id: int, location: str, **log: str) -> dict:
    payload = {
        "logType": log_type,
        "requestId": request_id,
        "log": {"remoteLocation": location, **log},
    }
    return csms.result("GetLog", payload)


def log_notices(csms: Csms) -> list[tuple[str, int | None]]:
    return [(p["status"], p.get("requestId")) for p in csms.payloads("LogStatusNotification")]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_N01_FR_03_security_log_uploaded_simulated(version: str) -> None:
    cp, csms = (
        booted(diagnostics_simulation=QUICK)
        if version == "1.6"
        else booted201(diagnostics_simulation=QUICK)
    )
    cp.security_event("TamperDetectionActivated", "lid", now=csms.now)
    answer = get_log(csms, "SecurityLog", 77, "ftp://logs.example.com/up")
    assert answer["status"] == "Accepted"
    assert answer["filename"].startswith("security-") and answer["filename"].endswith(".log")
    csms.advance(3)
    assert log_notices(csms) == [("Uploading", 77), ("Uploaded", 77)]
    name, content = cp.last_diagnostics
    assert name == answer["filename"]
    text = content.decode()
    assert text.startswith(f"OCPP {version} security log: {name}")
    assert "StartupOfTheDevice" in text and "TamperDetectionActivated\tcritical\tlid" in text


def test_N01_FR_04_whitepaper_get_log_diagnostics_log_in_1_6() -> None:
    cp, csms = booted(diagnostics_simulation=QUICK)
    answer = get_log(csms, "DiagnosticsLog", 5, "ftp://logs.example.com/up")
    assert answer["status"] == "Accepted" and answer["filename"].startswith("diagnostics-")
    csms.advance(3)
    assert log_notices(csms) == [("Uploading", 5), ("Uploaded", 5)]
    assert cp.last_diagnostics[1].startswith(b"OCPP 1.6 diagnostics: ")
    assert csms.payloads("DiagnosticsStatusNotification") == []  # GetDiagnostics' notices


def test_N01_FR_11_a_second_get_log_cancels_the_first_in_1_6() -> None:
    _cp, csms = booted(diagnostics_simulation=DiagnosticsSimulation(upload_s=30))
    get_log(csms, "SecurityLog", 1, "ftp://x/y")
    csms.advance(2)
    assert get_log(csms, "DiagnosticsLog", 2, "ftp://x/y")["status"] == "AcceptedCanceled"
    csms.advance(31)
    # 1.6's UploadLogStatusEnumType has no AcceptedCanceled: the cancelled upload just ends.
    assert log_notices(csms) == [("Uploading", 1), ("Uploading", 2), ("Uploaded", 2)]


def test_N01_FR_12_extended_trigger_reports_the_log_status_in_1_6() -> None:
    _cp, csms = booted(diagnostics_simulation=DiagnosticsSimulation(upload_s=10))
    trigger = {"requestedMessage": "LogStatusNotification"}
    assert csms.result("ExtendedTriggerMessage", trigger) == {"status": "Accepted"}
    assert csms.payloads("LogStatusNotification")[-1] == {"status": "Idle"}
    get_log(csms, "SecurityLog", 9, "ftp://x/y")
    csms.result("ExtendedTriggerMessage", trigger)
    assert csms.payloads("LogStatusNotification")[-1] == {"status": "Uploading", "requestId": 9}


def test_N01_security_log_window_selects_events() -> None:
    cp, csms = booted201(diagnostics_simulation=QUICK)
    csms.advance(100)
    cp.security_event("TamperDetectionActivated", "late one", now=csms.now)
    oldest = format_datetime(WALL_START + 50)
    get_log(csms, "SecurityLog", 3, "ftp://x/y", oldestTimestamp=oldest)
    csms.advance(3)
    text = cp.last_diagnostics[1].decode()
    assert "late one" in text and "StartupOfTheDevice" not in text


def test_N01_the_security_log_file_holds_no_secret() -> None:
    cp, csms = booted(diagnostics_simulation=QUICK)
    csms.result("ChangeConfiguration", {"key": "AuthorizationKey", "value": KEY})
    csms.pump()
    get_log(csms, "SecurityLog", 4, "ftp://x/y")
    csms.advance(3)
    content = cp.last_diagnostics[1]
    assert b"AuthorizationKey changed" in content
    assert KEY.lower().encode() not in content.lower()


@pytest.fixture
def server() -> Iterator[Server]:
    with serving() as running:
        yield running


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_TC_N_35_CS_security_log_reaches_a_real_http_server(server: Server, version: str) -> None:
    """TC_N_35_CS (2.0.1) and the whitepaper's N01 for 1.6: GetLog(SecurityLog) Accepted,
    LogStatusNotification Uploading then Uploaded with the request's id, the file on the server."""

    async def scenario() -> tuple[ChargePoint, dict, list[tuple[str, int | None]]]:
        cp, csms = booted() if version == "1.6" else booted201()
        cp.set_transfer_host(CPythonTransferHost(cp, clock=lambda: csms.now))
        cp.security_event("TamperDetectionActivated", "door", now=csms.now)
        answer = get_log(csms, "SecurityLog", 35, f"{server.base}/logs")
        await settle(csms, lambda: cp.diagnostics_status == "Idle")
        return cp, answer, log_notices(csms)

    _cp, answer, sent = asyncio.run(scenario())
    assert answer["status"] == "Accepted"
    assert sent == [("Uploading", 35), ("Uploaded", 35)]
    stored = server.stored[f"/logs/{answer['filename']}"]
    assert stored.startswith(f"OCPP {version} security log".encode())
    assert b"TamperDetectionActivated\tcritical\tdoor" in stored


def test_the_station_api_rows_are_json_friendly() -> None:
    cp, _csms = booted201()
    row = cp.security_events()[0]
    assert json.loads(json.dumps(row._asdict()))["type"] == "StartupOfTheDevice"


def test_A04_memory_exhaustion_when_the_store_refuses_writes(tmp_path: Path) -> None:
    disk = FailingDisk(tmp_path)
    cp, csms = station201(store=disk)
    csms.connect()
    csms.clear()
    disk.error = errno.ENOSPC
    cp.security_event("InvalidMessages", "a write to fail", now=csms.now)
    csms.advance(2)
    assert notified(csms) == [("MemoryExhaustion", "storage refuses writes: 1 kept in memory")]
    csms.advance(2)
    assert len(notified(csms)) == 1  # once per episode
    disk.error = None
    csms.advance(120)
    csms.clear()
    disk.error = errno.ENOSPC
    cp.security_event("InvalidMessages", "again", now=csms.now)
    csms.advance(2)
    assert [t for t, _ in notified(csms)] == ["MemoryExhaustion"]


def test_L01_firmware_updated_after_the_reboot_into_the_new_firmware() -> None:
    """TC_L_01_CS step 20: after the installation's reboot the station sends
    SecurityEventNotification FirmwareUpdated (and ResetOrReboot, StartupOfTheDevice)."""
    from test_v201_firmware import station as firmware_station
    from test_v201_firmware import update

    r = firmware_station()
    assert update(r.csms, request_id=5) == {"status": "Accepted"}
    r.run(10)
    assert r.cp.firmware_version == "2.1.0"
    sent = [p for p in r.payloads("SecurityEventNotification")]
    kinds = [p["type"] for p in sent]
    assert "ResetOrReboot" in kinds and "FirmwareUpdated" in kinds
    [updated] = [p for p in sent if p["type"] == "FirmwareUpdated"]
    assert updated["techInfo"].endswith("to 2.1.0")
    r.clear()
    r.restart()  # a power cut later: the version is the same, no FirmwareUpdated again
    assert [p["type"] for p in r.payloads("SecurityEventNotification")] == ["StartupOfTheDevice"]


def test_subscribers_and_the_cli_see_each_security_event() -> None:
    from ocpp_core.events import SecurityEventRaised
    from sim.cli_output import describe

    cp, csms = booted()
    seen: list[object] = []
    cp.subscribe(seen.append)
    cp.security_event("TamperDetectionActivated", "lid", now=csms.now)
    [event] = [e for e in seen if isinstance(e, SecurityEventRaised)]
    assert (event.type, event.tech_info, event.critical) == (
        "TamperDetectionActivated",
        "lid",
        True,
    )
    line = describe(event)
    assert line == "security event TamperDetectionActivated (sent to the CSMS): lid"
