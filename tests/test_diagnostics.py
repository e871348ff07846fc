"""GetDiagnostics and DiagnosticsStatusNotification (OCPP 1.6 §5.9, §4.4, errata 3.31, 3.50)."""

from __future__ import annotations

import pytest
from fake_csms import WALL_START, FakeCsms, booted
from test_status import Hardware

from ocpp_core import DiagnosticsProgress, DiagnosticsSimulation
from ocpp_core.clock import format_datetime
from ocpp_core.transfer import HOST_TRANSFER_LIMIT
from ocpp_core.v16.diagnostics_file import MASK

LOCATION = "https://logs.example.com/uploads/"
KEY = "0123456789abcdef0123456789ABCDEF"  # an AuthorizationKey (write-only)


def request(csms: FakeCsms, location: str = LOCATION, **extra: object) -> dict:
    return csms.result("GetDiagnostics", {"location": location, **extra})


def statuses(csms: FakeCsms) -> list[str]:
    return [p["status"] for p in csms.payloads("DiagnosticsStatusNotification")]


def timeline(csms: FakeCsms) -> list[tuple[str, float]]:
    return [
        (payload["status"], at)
        for _, action, payload, at in csms.calls
        if action == "DiagnosticsStatusNotification"
    ]


def trigger_status(csms: FakeCsms, connector: int | None = None) -> str:
    payload: dict = {"requestedMessage": "DiagnosticsStatusNotification"}
    if connector is not None:
        payload["connectorId"] = connector
    before = len(statuses(csms))
    assert csms.result("TriggerMessage", payload) == {"status": "Accepted"}
    [status] = statuses(csms)[before:]
    return status


class FakeHost:
    def __init__(self) -> None:
        self.uploads: list[tuple[str, str, bytes, float]] = []

    def start_download(self, location: str, now: float) -> None:
        raise AssertionError("no download expected")

    def start_upload(self, location: str, file_name: str, content: bytes, now: float) -> None:
        self.uploads.append((location, file_name, content, now))


def test_the_reply_names_the_file_and_the_upload_is_simulated() -> None:
    cp, csms = booted(diagnostics_simulation=DiagnosticsSimulation(upload_s=3))
    reply = request(csms)
    assert reply == {"fileName": "diagnostics-20231114T221320Z.log"}
    csms.advance(5)
    assert timeline(csms) == [("Uploading", 0), ("Uploaded", 3)]
    name, content = cp.last_diagnostics
    assert name == reply["fileName"]
    assert content.decode().startswith(f"OCPP 1.6 diagnostics: {name}\n")
    assert cp.diagnostics_status == "Idle"


def test_the_file_describes_the_station() -> None:
    cp, csms = booted()
    Hardware(cp, 2).plugged = True
    cp.change_configuration("HeartbeatInterval", "120")
    request(csms)
    text = cp.last_diagnostics[1].decode()
    assert "station: TestVendor TestModel" in text
    assert "firmware version: 1.0.0" in text
    assert "registration: Accepted" in text
    assert "2: Preparing, operative" in text
    assert "HeartbeatInterval = 120" in text
    assert "(the station keeps no log)" in text


def test_no_write_only_value_ever_leaves() -> None:
    cp, csms = booted()
    assert cp.change_configuration("AuthorizationKey", KEY) == "Accepted"
    cp.set_diagnostics_log(lambda start, stop: f"key {KEY} and {KEY.lower()} and {KEY.upper()}\n")
    host = FakeHost()
    cp.set_transfer_host(host)
    request(csms)
    [(_, _, content, _)] = host.uploads
    text = content.decode()
    assert KEY.lower() not in text.lower()
    assert "AuthorizationKey =" not in text
    assert text.count(MASK) == 3


def test_start_and_stop_time_select_the_log() -> None:
    cp, csms = booted()
    windows: list[tuple[float | None, float | None]] = []

    def log(start: float | None, stop: float | None) -> str:
        windows.append((start, stop))
        return "12:00 something happened"

    cp.set_diagnostics_log(log)
    start, stop = format_datetime(WALL_START - 3600), format_datetime(WALL_START)
    request(csms, startTime=start, stopTime=stop)
    csms.advance(5)
    request(csms)  # the first upload is over: a new file without a window
    assert windows == [(WALL_START - 3600, WALL_START), (None, None)]
    assert "12:00 something happened" in cp.last_diagnostics[1].decode()


def test_a_failing_log_source_is_noted_in_the_file() -> None:
    cp, csms = booted()

    def broken(start: float | None, stop: float | None) -> str:
        raise OSError("disk gone")

    cp.set_diagnostics_log(broken)
    request(csms)
    assert "(the log could not be read: OSError)" in cp.last_diagnostics[1].decode()


def test_a_log_line_with_a_lone_surrogate_is_escaped_and_the_upload_finishes() -> None:
    # Python text may hold a lone surrogate (e.g. a hostile frame logged by the host); building the
    # file raised UnicodeEncodeError at every poll and the block asked to be polled at once again.
    cp, csms = booted()
    cp.set_diagnostics_log(lambda start, stop: "frame \ud800 received")
    request(csms, location="ftp://logs.example.com/")
    csms.advance(10)
    assert statuses(csms) == ["Uploading", "Uploaded"]
    assert b"frame \\ud800 received" in cp.last_diagnostics[1]
    assert cp.next_wakeup(csms.now) is None or cp.next_wakeup(csms.now) > csms.now


def test_upload_through_the_host() -> None:
    cp, csms = booted()
    host = FakeHost()
    cp.set_transfer_host(host)
    events: list[object] = []
    cp.subscribe(events.append)
    name = request(csms)["fileName"]
    [(location, file_name, content, _)] = host.uploads
    assert (location, file_name) == (LOCATION, name)
    assert content == cp.last_diagnostics[1]
    assert statuses(csms) == ["Uploading"]
    cp.diagnostics_upload_finished(True, "stored (HTTP 201)", now=csms.now)
    csms.pump()
    assert statuses(csms) == ["Uploading", "Uploaded"]
    assert DiagnosticsProgress("Uploaded", 100, "stored (HTTP 201)", name) in events


def test_upload_failure_is_retried_with_the_same_file() -> None:
    cp, csms = booted()
    host = FakeHost()
    cp.set_transfer_host(host)
    request(csms, retries=1, retryInterval=30)
    cp.diagnostics_upload_finished(False, "HTTP 403 Forbidden", now=csms.now)
    csms.pump()
    csms.advance(30)
    assert len(host.uploads) == 2
    assert host.uploads[0][2] == host.uploads[1][2]
    cp.diagnostics_upload_finished(False, "HTTP 403 Forbidden", now=csms.now)
    csms.pump()
    csms.advance(100)
    assert timeline(csms) == [
        ("Uploading", 0),
        ("UploadFailed", 0),
        ("Uploading", 30),
        ("UploadFailed", 30),
    ]
    assert len(host.uploads) == 2


def test_simulated_upload_failure_tries_2_times() -> None:
    sim = DiagnosticsSimulation(upload_s=2, fail_upload=True)
    _cp, csms = booted(diagnostics_simulation=sim)
    request(csms, retries=1, retryInterval=10)
    csms.advance(60)
    assert timeline(csms) == [
        ("Uploading", 0),
        ("UploadFailed", 2),
        ("Uploading", 12),
        ("UploadFailed", 14),
    ]


def test_ftp_is_simulated_and_says_why() -> None:
    cp, csms = booted()
    cp.set_transfer_host(FakeHost())  # not asked: not http(s)
    events: list[object] = []
    cp.subscribe(events.append)
    request(csms, "ftp://user:pw@ftp.example.com/logs/")
    csms.advance(5)
    assert statuses(csms) == ["Uploading", "Uploaded"]
    uploading = [e for e in events if isinstance(e, DiagnosticsProgress) and e.percent == 0]
    assert "ftp:// is not possible in a browser" in uploading[0].detail


def test_a_request_during_an_upload_gets_no_file_name() -> None:
    cp, csms = booted()
    cp.set_transfer_host(FakeHost())
    request(csms)
    assert request(csms, "https://other.example.com/") == {}
    cp.diagnostics_upload_finished(True, now=csms.now)
    csms.pump()
    assert statuses(csms) == ["Uploading", "Uploaded"]


def test_a_request_while_a_retry_waits_replaces_it() -> None:
    cp, csms = booted()
    host = FakeHost()
    cp.set_transfer_host(host)
    request(csms, retries=3, retryInterval=600)
    cp.diagnostics_upload_finished(False, "refused", now=csms.now)
    csms.pump()
    request(csms, "https://other.example.com/")
    assert [location for location, *_ in host.uploads] == [LOCATION, "https://other.example.com/"]


def test_trigger_reports_the_upload_status() -> None:
    _cp, csms = booted(diagnostics_simulation=DiagnosticsSimulation(upload_s=10))
    assert trigger_status(csms) == "Idle"
    request(csms)
    csms.advance(2)
    assert trigger_status(csms, connector=5) == "Uploading"
    csms.advance(20)
    assert trigger_status(csms) == "Idle"


def test_a_host_that_never_answers_fails_the_upload() -> None:
    cp, csms = booted()
    cp.set_transfer_host(FakeHost())
    request(csms, retries=0)
    csms.advance(HOST_TRANSFER_LIMIT, step=100)
    assert statuses(csms) == ["Uploading", "UploadFailed"]


def test_a_result_without_an_upload_is_ignored() -> None:
    cp, csms = booted()
    cp.diagnostics_upload_finished(True, now=csms.now)
    csms.pump()
    assert statuses(csms) == []


@pytest.mark.parametrize("value", [-5, 2**31, 10**400])
@pytest.mark.parametrize("field", ["retries", "retryInterval"])
def test_retry_settings_beyond_32_bits_are_a_property_violation(field: str, value: int) -> None:
    _cp, csms = booted()
    reply = csms.call("GetDiagnostics", {"location": LOCATION, field: value})
    assert reply[2] == "PropertyConstraintViolation"
    assert csms.cp.poll(csms.now) == []  # and nothing is left to fail on every poll


@pytest.mark.parametrize("field", ["startTime", "stopTime"])
def test_an_absurd_log_window_is_a_property_violation(field: str) -> None:
    _cp, csms = booted()
    payload = {"location": LOCATION, field: "0001-01-01T00:00:00+01:00"}
    assert csms.call("GetDiagnostics", payload)[2] == "PropertyConstraintViolation"
    payload = {"location": LOCATION, field: "9999-12-31T23:59:59Z"}
    assert csms.call("GetDiagnostics", payload)[2] == "PropertyConstraintViolation"


def test_an_invalid_simulation_is_refused() -> None:
    cp, _csms = booted()
    with pytest.raises(ValueError, match="upload_s"):
        cp.set_diagnostics_simulation(DiagnosticsSimulation(upload_s=-1))
    assert cp.diagnostics_simulation == DiagnosticsSimulation()
