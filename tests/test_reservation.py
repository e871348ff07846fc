"""Reservations (OCPP 1.6 §3.11, §5.1, §5.13, §9.3; MicroOcpp tests/Reservation.cpp)."""

from __future__ import annotations

from fake_csms import WALL_START
from tx_rig import Rig, start_session

from ocpp_core import ErrorRecord, ReservationChanged, SessionCancelled
from ocpp_core.clock import format_datetime


def expiry(seconds: float) -> str:
    return format_datetime(WALL_START + seconds)


def reserve(rig: Rig, connector: int, id_tag: str, reservation_id: int, **extra: object) -> str:
    payload = {
        "connectorId": connector,
        "expiryDate": expiry(extra.pop("expires_in", 3600)),
        "idTag": id_tag,
        "reservationId": reservation_id,
        **extra,
    }
    status = rig.csms.result("ReserveNow", payload)["status"]
    rig.pump()
    return status


def cancel(rig: Rig, reservation_id: int) -> str:
    status = rig.csms.result("CancelReservation", {"reservationId": reservation_id})["status"]
    rig.pump()
    return status


# ---------------------------------------------------------------------- Reservation.cpp


def test_basic_reservation() -> None:
    rig = Rig()
    assert reserve(rig, 1, "TAG1", 7) == "Accepted"
    assert rig.statuses(1) == ["Reserved"]
    assert rig.cp.status(1, rig.now) == "Reserved"
    assert rig.cp.reservation(1).reservation_id == 7
    # Another card is refused at once, and says why.
    rig.card("OTHER", 1)
    assert rig.cp.transaction(1) is None
    assert SessionCancelled(1, "OTHER", "ReservationConflict") in rig.events
    assert "Authorize" not in rig.actions()
    # The holder's card starts the transaction and ends the reservation.
    rig.plug(1)
    assert rig.statuses(1) == ["Reserved"]  # a cable does not end it
    rig.card("TAG1", 1)
    [start] = rig.payloads("StartTransaction")
    assert start["reservationId"] == 7
    assert rig.statuses(1)[-1] == "Charging"
    assert rig.cp.reservations() == []
    assert [e.change for e in rig.events_of(ReservationChanged)] == ["made", "used"]


def test_holder_card_first_then_cable() -> None:
    rig = Rig()
    reserve(rig, 1, "TAG1", 7)
    rig.card("tag1", 1)  # idTags are case-insensitive
    assert rig.statuses(1) == ["Reserved", "Preparing"]
    rig.plug(1)
    assert rig.payloads("StartTransaction")[0]["reservationId"] == 7


def test_tx_on_other_connector() -> None:
    """A reservation of connector 1 leaves connector 2 to anybody, the holder included (§3.11:
    it is released only when the idTag is used on the reserved connector)."""
    rig = Rig()
    reserve(rig, 1, "TAG1", 7)
    start_session(rig, "OTHER", 2)
    assert "reservationId" not in rig.payloads("StartTransaction")[0]
    start_session(rig, "TAG1", 1)
    assert rig.payloads("StartTransaction")[1]["reservationId"] == 7
    assert rig.cp.reservations() == []


def test_holder_on_another_connector_keeps_the_reservation() -> None:
    rig = Rig()
    reserve(rig, 1, "TAG1", 7)
    start_session(rig, "TAG1", 2)
    assert "reservationId" not in rig.payloads("StartTransaction")[0]
    assert [r.reservation_id for r in rig.cp.reservations()] == [7]
    assert rig.cp.status(1, rig.now) == "Reserved"


def test_parent_id_tag_known_locally() -> None:
    rig = Rig(config={"LocalPreAuthorize": "true"})
    rig.csms.result(
        "SendLocalList",
        {
            "listVersion": 1,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idTag": "SIBLING", "idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET"}},
                {"idTag": "STRANGER", "idTagInfo": {"status": "Accepted", "parentIdTag": "X"}},
            ],
        },
    )
    reserve(rig, 1, "TAG1", 7, parentIdTag="FLEET")
    rig.plug(1)
    rig.card("STRANGER", 1)
    assert rig.cp.transaction(1) is None
    assert "Authorize" not in rig.actions()  # refused at once: its parent is known
    rig.card("SIBLING", 1)
    assert rig.payloads("StartTransaction")[0]["reservationId"] == 7
    assert rig.payloads("StartTransaction")[0]["idTag"] == "SIBLING"


def test_parent_id_tag_learnt_with_authorize() -> None:
    """An idTag unknown locally is authorized first; its parentIdTag decides (§5.13)."""
    rig = Rig()
    parents = {"MEMBER": "FLEET", "STRANGER": "OTHERS"}
    rig.csms.handlers["Authorize"] = lambda p: {
        "idTagInfo": {"status": "Accepted", "parentIdTag": parents[p["idTag"]]}
    }
    reserve(rig, 1, "TAG1", 7, parentIdTag="FLEET")
    rig.plug(1)
    rig.card("STRANGER", 1)
    assert rig.actions()[-1] == "Authorize"
    assert rig.cp.transaction(1) is None
    assert SessionCancelled(1, "STRANGER", "ReservationConflict") in rig.events
    assert rig.cp.status(1, rig.now) == "Reserved"
    rig.card("MEMBER", 1)
    assert rig.payloads("StartTransaction")[0]["reservationId"] == 7


def test_reservation_by_parent_id_tag_as_the_presented_card() -> None:
    """The incoming idTag may also match the reservation's parentIdTag (§5.13)."""
    rig = Rig()
    reserve(rig, 1, "TAG1", 7, parentIdTag="FLEET")
    start_session(rig, "FLEET", 1)
    assert rig.payloads("StartTransaction")[0]["reservationId"] == 7


def test_connector_zero() -> None:
    rig = Rig()
    assert reserve(rig, 0, "TAG1", 9) == "Accepted"
    # Two free connectors, one reservation: neither is held back yet.
    assert rig.statuses(1) == rig.statuses(2) == []
    start_session(rig, "OTHER", 1)
    # Now connector 2 is the last one: it is kept for the holder.
    assert rig.statuses(2) == ["Reserved"]
    rig.card("STRANGER", 2)
    assert rig.cp.transaction(2) is None
    start_session(rig, "TAG1", 2)
    assert rig.payloads("StartTransaction")[1]["reservationId"] == 9
    assert rig.cp.reservations() == []


def test_connector_zero_holder_takes_any_connector() -> None:
    rig = Rig()
    reserve(rig, 0, "TAG1", 9)
    start_session(rig, "TAG1", 1)
    assert rig.payloads("StartTransaction")[0]["reservationId"] == 9
    assert rig.cp.status(2, rig.now) == "Available"


def test_connector_zero_not_supported_is_rejected() -> None:
    rig = Rig(config={"ReserveConnectorZeroSupported": "false"})
    assert reserve(rig, 0, "TAG1", 9) == "Rejected"
    assert rig.cp.reservations() == []
    key = rig.csms.result("GetConfiguration", {"key": ["ReserveConnectorZeroSupported"]})
    assert key["configurationKey"] == [
        {"key": "ReserveConnectorZeroSupported", "readonly": True, "value": "false"}
    ]


def test_connector_zero_occupied_when_no_connector_is_left() -> None:
    rig = Rig()
    assert reserve(rig, 0, "A", 1) == "Accepted"
    assert reserve(rig, 0, "B", 2) == "Accepted"
    assert rig.statuses(1) == rig.statuses(2) == ["Reserved"]
    assert reserve(rig, 0, "C", 3) == "Occupied"
    rig.plug(1)  # a cable alone does not take a kept connector
    assert rig.statuses(1) == ["Reserved"]


def test_expiry_date() -> None:
    rig = Rig()
    reserve(rig, 1, "TAG1", 7, expires_in=60)
    assert rig.statuses(1) == ["Reserved"]
    rig.csms.advance(59)
    assert rig.statuses(1) == ["Reserved"]
    rig.csms.advance(2)
    assert rig.statuses(1) == ["Reserved", "Available"]
    assert rig.cp.reservations() == []
    assert rig.events_of(ReservationChanged)[-1].change == "expired"
    # The expiry is a timer: the station wakes up for it.
    rig2 = Rig()
    reserve(rig2, 1, "TAG1", 7, expires_in=90)
    assert rig2.cp.next_wakeup(rig2.now) <= rig2.now + 90


def test_expiry_date_in_the_past_is_rejected() -> None:
    rig = Rig()
    assert reserve(rig, 1, "TAG1", 7, expires_in=-1) == "Rejected"
    assert rig.statuses(1) == []


def test_reservation_persistency() -> None:
    rig = Rig()
    reserve(rig, 1, "TAG1", 7, parentIdTag="FLEET")
    reserve(rig, 0, "TAG2", 8)
    rig.restart()
    assert [(r.reservation_id, r.connector, r.parent_id_tag) for r in rig.cp.reservations()] == [
        (7, 1, "FLEET"),
        (8, 0, None),
    ]
    assert rig.statuses(1)[-1] == "Reserved"
    start_session(rig, "TAG1", 1)
    assert rig.payloads("StartTransaction")[-1]["reservationId"] == 7
    rig.restart()
    assert [r.reservation_id for r in rig.cp.reservations()] == [8]


def test_unreadable_stored_reservations_are_ignored() -> None:
    rig = Rig()
    rig.store.save("reservations", [{"reservationId": "seven"}])
    rig.restart()
    assert rig.cp.reservations() == []
    assert rig.statuses(1)[-1] == "Available"


def test_reserve_now_all_statuses() -> None:
    rig = Rig(connectors=3)
    assert reserve(rig, 1, "TAG1", 1) == "Accepted"
    # Reserved for the same or another idTag -> Occupied.
    assert reserve(rig, 1, "TAG1", 2) == "Occupied"
    assert reserve(rig, 1, "TAG2", 2) == "Occupied"
    # Occupied by a session.
    start_session(rig, "TAG3", 2)
    assert reserve(rig, 2, "TAG2", 2) == "Occupied"
    # A cable without a session is Preparing: occupied too.
    rig.plug(3)
    assert reserve(rig, 3, "TAG2", 2) == "Occupied"
    rig.unplug(3)
    # Faulted.
    rig.cp.connector(3).errors = (lambda: ErrorRecord("GroundFailure"),)
    rig.pump()
    assert reserve(rig, 3, "TAG2", 2) == "Faulted"
    rig.cp.connector(3).errors = ()
    rig.pump()
    # Unavailable.
    rig.csms.result("ChangeAvailability", {"connectorId": 3, "type": "Inoperative"})
    rig.pump()
    assert reserve(rig, 3, "TAG2", 2) == "Unavailable"
    # The whole station Faulted.
    rig.csms.result("ChangeAvailability", {"connectorId": 3, "type": "Operative"})
    rig.cp.connector(0).errors = (lambda: "PowerMeterFailure",)
    rig.pump()
    assert reserve(rig, 3, "TAG2", 2) == "Faulted"
    assert reserve(rig, 0, "TAG2", 2) == "Faulted"


def test_reserve_now_connector_zero_statuses() -> None:
    rig = Rig()
    for connector in (1, 2):
        rig.cp.connector(connector).errors = (lambda: "HighTemperature",)
    rig.pump()
    assert reserve(rig, 0, "TAG1", 1) == "Faulted"
    rig.cp.connector(1).errors = ()
    rig.csms.result("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    rig.pump()
    assert reserve(rig, 0, "TAG1", 1) == "Unavailable"
    rig.csms.result("ChangeAvailability", {"connectorId": 1, "type": "Operative"})
    rig.pump()
    start_session(rig, "TAG2", 1)
    assert reserve(rig, 0, "TAG1", 1) == "Occupied"


def test_reserve_now_replaces_a_reservation_with_the_same_id() -> None:
    rig = Rig()
    reserve(rig, 1, "TAG1", 7)
    assert reserve(rig, 2, "TAG2", 7) == "Accepted"
    assert [(r.connector, r.id_tag) for r in rig.cp.reservations()] == [(2, "TAG2")]
    assert rig.statuses(1) == ["Reserved", "Available"]
    assert rig.statuses(2) == ["Reserved"]
    # Moving it onto a busy connector fails and keeps the old one.
    start_session(rig, "X", 1)
    assert reserve(rig, 1, "TAG2", 7) == "Occupied"
    assert [(r.connector, r.id_tag) for r in rig.cp.reservations()] == [(2, "TAG2")]
    assert [e.change for e in rig.events_of(ReservationChanged)] == ["made", "replaced"]


def test_reserve_now_unknown_connector_is_a_property_violation() -> None:
    rig = Rig()
    reply = rig.csms.call(
        "ReserveNow",
        {"connectorId": 3, "expiryDate": expiry(60), "idTag": "T", "reservationId": 1},
    )
    assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation"
    reply = rig.csms.call(
        "ReserveNow", {"connectorId": 1, "expiryDate": "soon", "idTag": "T", "reservationId": 1}
    )
    assert reply[0] == 4
    assert rig.cp.reservations() == []


def test_cancel_reservation() -> None:
    rig = Rig()
    reserve(rig, 1, "TAG1", 7)
    assert cancel(rig, 8) == "Rejected"
    assert cancel(rig, 7) == "Accepted"
    assert rig.statuses(1) == ["Reserved", "Available"]
    assert cancel(rig, 7) == "Rejected"
    assert rig.events_of(ReservationChanged)[-1].change == "cancelled"


# ---------------------------------------------------------------------- spec rules


def test_faulted_or_unavailable_connector_ends_the_reservation() -> None:
    rig = Rig()
    reserve(rig, 1, "TAG1", 7)
    reserve(rig, 2, "TAG2", 8)
    rig.cp.connector(1).errors = (lambda: "ConnectorLockFailure",)
    rig.pump()
    rig.csms.result("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"})
    rig.pump()
    assert rig.cp.reservations() == []
    assert rig.statuses(1) == ["Reserved", "Faulted"]
    assert rig.statuses(2) == ["Reserved", "Unavailable"]
    rig.cp.connector(1).errors = ()
    rig.pump()
    assert rig.statuses(1)[-1] == "Available"
    assert [e.change for e in rig.events_of(ReservationChanged)][-2:] == ["terminated"] * 2


def test_remote_start_respects_the_reservation() -> None:
    rig = Rig()
    reserve(rig, 1, "TAG1", 7)
    refused = rig.csms.result("RemoteStartTransaction", {"connectorId": 1, "idTag": "OTHER"})
    assert refused == {"status": "Rejected"}
    # Without a connector the station picks one the reservation leaves free.
    picked = rig.csms.result("RemoteStartTransaction", {"idTag": "OTHER"})
    assert picked == {"status": "Accepted"}
    assert rig.cp.transaction(2).id_tag == "OTHER"
    assert rig.csms.result("RemoteStartTransaction", {"connectorId": 1, "idTag": "TAG1"}) == {
        "status": "Accepted"
    }
    rig.plug(1)
    assert rig.payloads("StartTransaction")[-1]["reservationId"] == 7


def test_feature_profile_is_announced() -> None:
    rig = Rig()
    [key] = rig.csms.result("GetConfiguration", {"key": ["SupportedFeatureProfiles"]})[
        "configurationKey"
    ]
    assert "Reservation" in key["value"].split(",")
