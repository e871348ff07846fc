"""ExtendedTriggerMessage (OCPP 1.6 security whitepaper §5.5): the 2.0.1 TriggerMessage under
another name. BootNotification, Heartbeat, MeterValues and StatusNotification are sent by the same
senders as TriggerMessage's; what no block of this station sends yet is NotImplemented."""

from __future__ import annotations

import pytest
from tx_rig import Rig


def trigger(rig: Rig, message: str, connector: int | None = None) -> str:
    payload: dict[str, object] = {"requestedMessage": message}
    if connector is not None:
        payload["connectorId"] = connector
    return rig.csms.result("ExtendedTriggerMessage", payload)["status"]


@pytest.mark.parametrize(
    ("message", "connector", "sent"),
    [
        ("BootNotification", None, "BootNotification"),
        ("Heartbeat", None, "Heartbeat"),
        ("StatusNotification", 2, "StatusNotification"),
        ("MeterValues", 1, "MeterValues"),
    ],
)
def test_the_triggered_message_is_sent_after_the_answer(
    message: str, connector: int | None, sent: str
) -> None:
    rig = Rig(connectors=2)
    rig.csms.clear()
    assert trigger(rig, message, connector) == "Accepted"
    rig.pump()
    assert sent in rig.actions()
    if message == "StatusNotification":
        assert [p["connectorId"] for p in rig.payloads("StatusNotification")] == [2]


def test_an_unknown_connector_is_rejected() -> None:
    rig = Rig(connectors=2)
    assert trigger(rig, "StatusNotification", 7) == "Rejected"


def test_what_no_block_sends_is_not_implemented() -> None:
    """Without signed firmware updates, its trigger is NotImplemented (L01.FR.28/29 need
    SignedFirmwareStatusNotification). SignChargePointCertificate has its sender
    (tests/test_certificate_renewal_16.py)."""
    rig = Rig(connectors=2)
    rig.csms.clear()
    for message in ("FirmwareStatusNotification",):
        assert trigger(rig, message) == "NotImplemented", message
    rig.pump()
    assert rig.actions() == []


def test_a_message_outside_the_enum_is_a_property_violation() -> None:
    rig = Rig(connectors=2)
    reply = rig.csms.call("ExtendedTriggerMessage", {"requestedMessage": "StartTransaction"})
    assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation"
