"""The whole TriggerMessage matrix (OCPP 1.6 §5.17, errata 3.35/3.40/3.46; MicroOcpp §1.6 and
§11.1 item 3, where an unsupported name is answered Accepted and a broken CALL follows).

Every requestedMessage of the MessageTrigger enum, with and without connectorId, against a
station with two connectors, each with an energy meter.
"""

from __future__ import annotations

import json

import pytest
from fake_csms import FakeCsms, booted, station
from test_boot import pending, rejected

from ocpp_core import ChargePoint
from ocpp_core.assembly import for_version

CONNECTORS = 2
ALL = [0, 1, 2]
# requestedMessage -> whether connectorId selects what is sent
MESSAGES = {
    "BootNotification": False,
    "DiagnosticsStatusNotification": False,
    "FirmwareStatusNotification": False,
    "Heartbeat": False,
    "MeterValues": True,
    "StatusNotification": True,
}
CONNECTOR_IDS = [None, 0, 1, 2, 3, -1, 1000]


def metered() -> tuple[ChargePoint, FakeCsms]:
    cp, csms = booted(connectors=CONNECTORS)
    for connector in ALL:
        cp.connector(connector).energy_wh = lambda: 1234.0
    return cp, csms


def trigger(csms: FakeCsms, message: str, connector: int | None) -> list:
    payload: dict = {"requestedMessage": message}
    if connector is not None:
        payload["connectorId"] = connector
    return csms.call("TriggerMessage", payload)


def expected(message: str, connector: int | None) -> tuple[str, list[int | None]]:
    """(status, the connectorIds of the messages sent; None for a message without one)."""
    if not MESSAGES[message]:
        return "Accepted", [None]
    if connector is None:
        return "Accepted", ALL
    if 0 <= connector <= CONNECTORS:
        return "Accepted", [connector]
    return "Rejected", []


# Triggered only by ExtendedTriggerMessage (security whitepaper): not in TriggerMessage's enum.
EXTENDED_ONLY = {"LogStatusNotification", "SignCertificate"}


def test_the_matrix_covers_the_whole_enum() -> None:
    assert set(for_version("1.6").triggers) - EXTENDED_ONLY == set(MESSAGES)


@pytest.mark.parametrize("connector", CONNECTOR_IDS)
@pytest.mark.parametrize("message", sorted(MESSAGES))
def test_trigger(message: str, connector: int | None) -> None:
    _cp, csms = metered()
    reply = trigger(csms, message, connector)
    status, targets = expected(message, connector)
    assert reply[0] == 3
    assert reply[2] == {"status": status}
    assert set(csms.actions()) <= {message}
    sent = [payload.get("connectorId") for payload in csms.payloads(message)]
    assert sent == targets


@pytest.mark.parametrize("message", sorted(MESSAGES))
def test_the_reply_leaves_before_the_triggered_message(message: str) -> None:
    cp, csms = metered()
    message_id = csms.send("TriggerMessage", {"requestedMessage": message, "connectorId": 1})
    reply, first = (json.loads(frame) for frame in cp.poll(csms.now))
    assert reply == [3, message_id, {"status": "Accepted"}]
    assert first[:1] == [2]
    assert first[2] == message


def test_meter_values_without_a_reading_are_rejected() -> None:
    _cp, csms = booted(connectors=CONNECTORS)
    assert trigger(csms, "MeterValues", 1)[2] == {"status": "Rejected"}
    assert csms.actions() == []


@pytest.mark.parametrize(
    "message", ["StartTransaction", "StopTransaction", "Authorize", "Unknown", ""]
)
def test_a_name_outside_the_enum_is_a_property_violation(message: str) -> None:
    _cp, csms = metered()
    reply = trigger(csms, message, None)
    assert reply[0] == 4
    assert reply[2] == "PropertyConstraintViolation"
    assert csms.actions() == []


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"requestedMessage": "StatusNotification", "connectorId": "1"}, "TypeConstraintViolation"),
        ({"requestedMessage": "StatusNotification", "connectorId": 1.5}, "TypeConstraintViolation"),
        ({"requestedMessage": 7}, "TypeConstraintViolation"),
        ({"connectorId": 1}, "OccurenceConstraintViolation"),
        ({"requestedMessage": "Heartbeat", "evseId": 1}, "FormationViolation"),
    ],
)
def test_malformed_requests(payload: dict, code: str) -> None:
    _cp, csms = metered()
    reply = csms.call("TriggerMessage", payload)
    assert reply[2] == code
    assert csms.actions() == []


@pytest.mark.parametrize("message", sorted(MESSAGES))
def test_a_known_message_without_a_sender_is_not_implemented(
    message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cp, csms = metered()
    monkeypatch.delitem(for_version("1.6").triggers, message)
    assert trigger(csms, message, None)[2] == {"status": "NotImplemented"}
    assert csms.actions() == []


@pytest.mark.parametrize(
    "message", ["FirmwareStatusNotification", "DiagnosticsStatusNotification", "Heartbeat"]
)
def test_triggered_messages_leave_while_the_boot_is_pending(message: str) -> None:
    _cp, csms = station(connectors=CONNECTORS)
    csms.handlers["BootNotification"] = pending(300)
    csms.connect()
    csms.clear()
    assert trigger(csms, message, None)[2] == {"status": "Accepted"}
    assert csms.actions() == [message]


def test_no_answer_while_the_boot_is_rejected() -> None:
    cp, csms = station(connectors=CONNECTORS)
    csms.handlers["BootNotification"] = rejected(300)
    csms.connect()
    csms.clear()
    message_id = csms.send("TriggerMessage", {"requestedMessage": "Heartbeat"})
    csms.pump()
    assert message_id not in csms.replies
    assert csms.actions() == []
    assert cp.registration == "Rejected"
