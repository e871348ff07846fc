"""The Control Center's "Security events" list and Tamper button (issue 15, security events): its
plain-Python model (control_center/security_log_model.py), the Station API it reads and uses
(Station.security_events, Station.raise_security_event) on a simulated station (1.6 and 2.0.1)
against a fake backend, and the failed connection attempts the sim logs as security events
(sim/security_failures.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from station_fakes import FakeBackend, Rig

from ocpp_core.security_events import SecurityEventRecord
from sim.security_failures import security_event_of

WEB = Path(__file__).resolve().parent.parent / "web"
sys.path.insert(0, str(WEB))

from control_center.security_log_model import (  # noqa: E402
    TAMPER,
    security_event_lines,
)


def record(seq: int, kind: str, critical: bool, info: str = "") -> SecurityEventRecord:
    return SecurityEventRecord(seq, kind, "2023-11-14T22:13:20.000Z", info, critical, 0.0)


def test_security_event_lines_newest_first_with_their_cells() -> None:
    records = [
        record(1, "StartupOfTheDevice", True),
        record(2, "InvalidMessages", False, "Reset: enum violation at /type"),
    ]
    newest, oldest = security_event_lines(records)
    assert newest.key == "security-event-2"
    assert (newest.time, newest.type, newest.sent) == (
        "2023-11-14 22:13:20",
        "InvalidMessages",
        "logged",
    )
    assert newest.tech_info == "Reset: enum violation at /type"
    assert (oldest.key, oldest.sent) == ("security-event-1", "sent to the CSMS")
    many = [record(n, "InvalidMessages", False) for n in range(1, 81)]
    shown = security_event_lines(many, shown=50)
    assert len(shown) == 50 and shown[0].key == "security-event-80"


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_the_tamper_button_sends_tamper_detection_activated(version: str) -> None:
    backend = FakeBackend()
    rig = Rig(backend, ocpp_version=version).boot()
    rig.run(1.0)
    assert [r.type for r in rig.station.security_events()] == ["StartupOfTheDevice"]
    rig.station.raise_security_event(*TAMPER)  # what the button's click does
    rig.run(1.0)
    (line, _startup) = security_event_lines(rig.station.security_events())
    assert (line.type, line.sent) == ("TamperDetectionActivated", "sent to the CSMS")
    sent = backend.payloads("SecurityEventNotification")
    assert [p["type"] for p in sent] == ["StartupOfTheDevice", "TamperDetectionActivated"]
    assert sent[-1]["techInfo"] == TAMPER[1]


def test_a_refused_password_is_failed_to_authenticate_at_csms() -> None:
    backend = FakeBackend(password="the-right-password-0123")
    rig = Rig(backend, auth_key="a-wrong-password-456789")
    rig.station.connect()
    rig.run(1.0)
    events = rig.station.security_events()
    [failed, *_] = [e for e in events if e.type == "FailedToAuthenticateAtCentralSystem"]
    assert "HTTP 401" in failed.tech_info and not failed.critical
    assert all("password" not in e.tech_info for e in events)


@pytest.mark.parametrize(
    ("reason", "event"),
    [
        ("handshake failed: HTTP 401: check the authorization key", "FailedToAuthenticateAtCsms"),
        (
            "TLS certificate check failed (unable to get local issuer certificate): check the CA",
            "InvalidCsmsCertificate",
        ),
        ("TLS handshake failed (UNSUPPORTED_PROTOCOL)", "InvalidTLSVersion"),
        ("TLS handshake failed (TLSV1_ALERT_PROTOCOL_VERSION)", "InvalidTLSVersion"),
        ("TLS handshake failed (NO_SHARED_CIPHER)", "InvalidTLSCipherSuite"),
        ("TLS handshake failed (SSLV3_ALERT_HANDSHAKE_FAILURE)", "InvalidTLSCipherSuite"),
        ("connection refused by csms.test:80: is the CSMS running on that port?", None),
        ("connection lost (no close frame from the server)", None),
    ],
)
def test_failed_attempts_that_are_security_events(reason: str, event: str | None) -> None:
    found = security_event_of(reason)
    assert (found[0] if found else None) == event
    if found:
        assert found[1] == reason


class RefusingOnce(FakeBackend):
    """A backend whose first connection attempt fails with ``reason`` (as the CPython
    transport words a TLS failure), then accepts."""

    def __init__(self, reason: str) -> None:
        super().__init__(subprotocols=("ocpp2.0.1",))
        self.reason: str | None = reason

    def refusal(self, config: object) -> str | None:  # type: ignore[override]
        reason, self.reason = self.reason, None
        return reason


@pytest.mark.parametrize(
    ("test_case", "reason", "event"),
    [
        (
            "TC_A_05_CS",
            "TLS certificate check failed (certificate has expired): check the CA file and host",
            "InvalidCsmsCertificate",
        ),
        ("TC_A_06_CS", "TLS handshake failed (TLSV1_ALERT_PROTOCOL_VERSION)", "InvalidTLSVersion"),
    ],
)
def test_TC_A_05_06_CS_the_refused_tls_connection_is_reported_once_connected(
    test_case: str, reason: str, event: str
) -> None:
    """The station's side of TC_A_05_CS / TC_A_06_CS: the failed TLS attempt (the transport's
    verdict, sim/transport/cpython.py) becomes a critical security event, sent as
    SecurityEventNotification after the BootNotification and the statuses of the connection
    that succeeds (step 14), with StartupOfTheDevice (TC_A_06 step 14)."""
    backend = RefusingOnce(reason)
    rig = Rig(backend, ocpp_version="2.0.1")
    rig.station.connect()
    rig.run(1.0)
    assert backend.connections == []
    backend.go_up()  # the next attempt succeeds
    rig.run(5.0)
    actions = backend.actions()
    assert actions[0] == "BootNotification"
    sent = backend.payloads("SecurityEventNotification")
    assert {p["type"] for p in sent} == {"StartupOfTheDevice", event}, test_case
    assert [p["techInfo"] for p in sent if p["type"] == event] == [reason]
    first_event = actions.index("SecurityEventNotification")
    assert "StatusNotification" in actions[:first_event]
