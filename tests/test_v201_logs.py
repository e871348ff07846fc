"""OCPP 2.0.1 GetLog and LogStatusNotification (N01), after part 6's TC_N_25/26/36_CS steps.

Simulated uploads run on the virtual clock (DiagnosticsSimulation, the failure injection 1.6's
GetDiagnostics has); real ones go through the CPython TransferHost to tests/file_server.py.
Every frame the station sends is schema-checked (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_csms201 import FakeCsms201, booted201
from file_server import Server, serving
from fresh_loop import run_async
from test_transfer import settle

from ocpp_core import DiagnosticsProgress, DiagnosticsSimulation
from ocpp_core.clock import format_datetime
from sim.transfer import CPythonTransferHost

WALL = 1_700_000_000.0
QUICK = DiagnosticsSimulation(upload_s=2)


def get_log(
    csms: FakeCsms201,
    request_id: int = 1,
    location: str = "ftp://logs.example.com/up",
    **extra: object,
) -> dict:
    payload = {
        "logType": "DiagnosticsLog",
        "requestId": request_id,
        "log": {"remoteLocation": location},
        **extra,
    }
    return csms.result("GetLog", payload)


def notices(csms: FakeCsms201) -> list[tuple[str, int | None]]:
    return [(p["status"], p.get("requestId")) for p in csms.payloads("LogStatusNotification")]


def test_TC_N_25_CS_diagnostics_log_uploaded() -> None:
    cp, csms = booted201(diagnostics_simulation=QUICK)
    answer = get_log(csms, request_id=42)
    assert answer["status"] == "Accepted"
    assert answer["filename"].startswith("diagnostics-") and answer["filename"].endswith(".log")
    assert notices(csms) == [("Uploading", 42)]
    csms.advance(3)
    assert notices(csms) == [("Uploading", 42), ("Uploaded", 42)]
    assert cp.diagnostics_status == "Idle"
    name, content = cp.last_diagnostics
    assert name == answer["filename"]
    assert content.startswith(b"OCPP 2.0.1 diagnostics: " + name.encode())


def test_TC_N_26_CS_upload_failed_three_retries_retry_interval_apart() -> None:
    cp, csms = booted201(diagnostics_simulation=DiagnosticsSimulation(upload_s=0, fail_upload=True))
    assert get_log(csms, request_id=7, retries=3, retryInterval=20)["status"] == "Accepted"
    csms.advance(100)
    sent = [
        (p["status"], p["requestId"], now)
        for _, a, p, now in csms.calls
        if a == "LogStatusNotification"
    ]
    assert [s for s, _, _ in sent] == ["Uploading", "UploadFailure"] * 4
    assert {r for _, r, _ in sent} == {7}
    first, last = sent[0][2], sent[-1][2]
    assert last - first == pytest.approx(3 * 20, abs=1)
    assert cp.diagnostics_status == "Idle"


def test_TC_N_36_CS_a_second_request_cancels_the_running_upload() -> None:
    _cp, csms = booted201(diagnostics_simulation=DiagnosticsSimulation(upload_s=30))
    assert get_log(csms, request_id=1)["status"] == "Accepted"
    csms.advance(2)
    assert notices(csms) == [("Uploading", 1)]
    second = get_log(csms, request_id=2)
    assert second["status"] == "AcceptedCanceled" and second["filename"]
    csms.advance(31)
    assert notices(csms) == [
        ("Uploading", 1),
        ("AcceptedCanceled", 1),
        ("Uploading", 2),
        ("Uploaded", 2),
    ]


def test_a_request_while_a_retry_waits_cancels_it_too() -> None:
    cp, csms = booted201(diagnostics_simulation=DiagnosticsSimulation(upload_s=0, fail_upload=True))
    get_log(csms, request_id=1, retries=1, retryInterval=600)
    csms.advance(2)
    cp.set_diagnostics_simulation(QUICK)
    assert get_log(csms, request_id=2)["status"] == "AcceptedCanceled"
    csms.advance(700)
    assert notices(csms) == [
        ("Uploading", 1),
        ("UploadFailure", 1),
        ("AcceptedCanceled", 1),
        ("Uploading", 2),
        ("Uploaded", 2),
    ]


def test_N01_log_window_selects_the_host_log_lines() -> None:
    cp, csms = booted201(diagnostics_simulation=QUICK)
    asked: list[tuple[float | None, float | None]] = []

    def log(start: float | None, stop: float | None) -> str:
        asked.append((start, stop))
        return "line one\nline two"

    cp.set_diagnostics_log(log)
    oldest, latest = format_datetime(WALL - 3600), format_datetime(WALL)
    log_params = {
        "remoteLocation": "ftp://l/u",
        "oldestTimestamp": oldest,
        "latestTimestamp": latest,
    }
    payload = {"logType": "DiagnosticsLog", "requestId": 5, "log": log_params}
    assert csms.result("GetLog", payload)["status"] == "Accepted"
    csms.advance(3)
    assert asked == [(WALL - 3600, WALL)]
    assert b"line two" in cp.last_diagnostics[1]


def test_F06_FR_15_trigger_reports_idle_or_the_upload_in_progress() -> None:
    _cp, csms = booted201(diagnostics_simulation=DiagnosticsSimulation(upload_s=10))
    trigger = {"requestedMessage": "LogStatusNotification"}
    assert csms.result("TriggerMessage", trigger) == {"status": "Accepted"}
    assert csms.payloads("LogStatusNotification")[-1] == {"status": "Idle"}
    get_log(csms, request_id=9)
    assert csms.result("TriggerMessage", trigger) == {"status": "Accepted"}
    assert csms.payloads("LogStatusNotification")[-1] == {"status": "Uploading", "requestId": 9}
    csms.advance(11)
    csms.result("TriggerMessage", trigger)
    assert csms.payloads("LogStatusNotification")[-1] == {"status": "Idle"}


def test_N01_progress_events_for_the_control_center() -> None:
    cp, csms = booted201(diagnostics_simulation=QUICK)
    events: list[object] = []
    cp.subscribe(events.append)
    get_log(csms)
    csms.advance(3)
    progress = [e for e in events if isinstance(e, DiagnosticsProgress)]
    assert progress[0].status == "Idle" and "requested" in progress[0].detail
    assert progress[-1].status == "Uploaded" and progress[-1].percent == 100


def test_N01_write_only_values_never_leave_in_the_log() -> None:
    cp, csms = booted201(diagnostics_simulation=QUICK)
    secret = "sup3r-s3cret-passw0rd"
    cp.set_diagnostics_log(lambda start, stop: f"connecting with {secret}")
    rows = [row for row in cp.variables(csms.now) if row.mutability == "WriteOnly"]
    assert rows, "a write-only variable to test with"
    assert cp.set_variable(rows[0].address, secret, csms.now) == "Accepted"
    get_log(csms)
    csms.advance(3)
    content = cp.last_diagnostics[1]
    assert secret.encode() not in content
    assert b"********" in content


def test_N01_retries_beyond_32_bits_are_a_property_violation() -> None:
    _cp, csms = booted201()
    payload = {
        "logType": "DiagnosticsLog",
        "requestId": 1,
        "retries": 2**31,
        "log": {"remoteLocation": "ftp://x/y"},
    }
    reply = csms.call("GetLog", payload)
    assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation"


# --------------------------------------------------------------------------- real HTTP


@pytest.fixture
def server() -> Iterator[Server]:
    with serving() as running:
        yield running


def test_TC_N_25_CS_a_real_upload_reaches_the_server(server: Server) -> None:
    async def scenario() -> tuple[dict, list]:
        cp, csms = booted201()
        cp.set_transfer_host(CPythonTransferHost(cp, clock=lambda: csms.now))
        answer = get_log(csms, request_id=11, location=f"{server.base}/logs")
        await settle(csms, lambda: cp.diagnostics_status == "Idle")
        return answer, notices(csms)

    answer, sent = run_async(scenario())
    assert sent == [("Uploading", 11), ("Uploaded", 11)]
    stored = server.stored[f"/logs/{answer['filename']}"]
    assert stored.startswith(b"OCPP 2.0.1 diagnostics")


def test_TC_N_26_CS_a_refused_real_upload_is_an_upload_failure(server: Server) -> None:
    async def scenario() -> list:
        cp, csms = booted201()
        cp.set_transfer_host(CPythonTransferHost(cp, clock=lambda: csms.now))
        get_log(csms, request_id=12, location=f"{server.base}/forbidden/", retries=0)
        await settle(csms, lambda: cp.diagnostics_status == "Idle")
        return notices(csms)

    assert run_async(scenario()) == [("Uploading", 12), ("UploadFailure", 12)]


def test_TC_F_16_CS_trigger_log_status_notification_while_uploading() -> None:
    _cp, csms = booted201(diagnostics_simulation=DiagnosticsSimulation(upload_s=30))
    assert get_log(csms, request_id=16)["status"] == "Accepted"
    assert notices(csms) == [("Uploading", 16)]
    trigger = {"requestedMessage": "LogStatusNotification"}
    assert csms.result("TriggerMessage", trigger) == {"status": "Accepted"}
    assert notices(csms) == [("Uploading", 16), ("Uploading", 16)]
