"""OCPP 2.0.1 Reservation (H01-H04): ReserveNow, CancelReservation, ReservationStatusUpdate, the
Reserved status and the transaction that uses a reservation.

Part 6 (edition 2023-06) has no TC_H_*_CS test cases ("2.9 H Reservation: intentionally blank")
except the reusable state "Reserved" (Table 233), so the tests are named after the use-case
requirements (H01.FR.xx ...) and follow the use cases' scenarios, against the fake CSMS.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from ev201 import Ev, tx_events
from fake_csms import WALL_START
from fake_csms201 import FakeCsms201, booted201, station201

from ocpp_core import ChargePoint
from ocpp_core.clock import format_datetime
from ocpp_core.connector import ErrorRecord
from ocpp_core.events import ReservationChanged, SessionCancelled
from ocpp_core.store import MemoryStore

HOLDER = {"idToken": "HOLDER-1", "type": "ISO14443"}
GROUP = {"idToken": "FLEET-7", "type": "Central"}


def expiry(csms: FakeCsms201, seconds: float = 3600) -> str:
    return format_datetime(WALL_START + csms.now + seconds)


def reserve(
    csms: FakeCsms201,
    reservation_id: int,
    evse: int | None = None,
    token: dict[str, Any] = HOLDER,
    seconds: float = 3600,
    **extra: Any,
) -> str:
    """ReserveNow; the status answered."""
    payload: dict[str, Any] = {
        "id": reservation_id,
        "expiryDateTime": expiry(csms, seconds),
        "idToken": token,
        **extra,
    }
    if evse is not None:
        payload["evseId"] = evse
    response = csms.result("ReserveNow", payload)
    return str(response["status"])


def statuses(csms: FakeCsms201, evse: int) -> list[str]:
    """The connector statuses StatusNotification reported for ``evse``, in order."""
    return [
        p["connectorStatus"] for p in csms.payloads("StatusNotification") if p["evseId"] == evse
    ]


def updates(csms: FakeCsms201) -> list[tuple[int, str]]:
    return [
        (p["reservationId"], p["reservationUpdateStatus"])
        for p in csms.payloads("ReservationStatusUpdate")
    ]


def cancelled(cp: ChargePoint) -> list[SessionCancelled]:
    seen: list[SessionCancelled] = []
    cp.subscribe(lambda event: seen.append(event) if isinstance(event, SessionCancelled) else None)
    return seen


def present(cp: ChargePoint, csms: FakeCsms201, evse: int, token: dict[str, Any]) -> None:
    cp.present_card(evse, token["idToken"], csms.now, token_type=token["type"])
    csms.pump()


# ---------------------------------------------------------------------- H01: ReserveNow


def test_part6_reusable_state_Reserved_specific_evse_H01_FR_23() -> None:
    """Part 6 Table 233: ReserveNow for an EVSE -> Accepted, its connector reported Reserved."""
    cp, csms = booted201()
    assert reserve(csms, 1, evse=1) == "Accepted"
    sent = csms.payloads("StatusNotification")
    assert [(p["evseId"], p["connectorId"], p["connectorStatus"]) for p in sent] == [
        (1, 1, "Reserved")
    ]
    assert cp.status(1, csms.now) == "Reserved"
    assert cp.status(2, csms.now) == "Available"
    shown = cp.reservation(1)
    assert shown is not None
    assert (shown.reservation_id, shown.connector, shown.id_tag) == (1, 1, "HOLDER-1")
    assert cp.reservation(2) is None
    assert [r.reservation_id for r in cp.reservations()] == [1]


def test_H01_FR_12_faulted_evse_answers_Faulted() -> None:
    cp, csms = booted201()
    cp.connector(1).errors = [lambda: ErrorRecord("GroundFailure")]
    csms.pump()
    assert reserve(csms, 1, evse=1) == "Faulted"
    assert cp.reservations() == []


def test_H01_FR_11_occupied_evse_answers_Occupied() -> None:
    cp, csms = booted201()
    ev = Ev(cp, 1)
    ev.plugged = True
    csms.pump()
    assert reserve(csms, 1, evse=1) == "Occupied"
    # A reserved EVSE is not free for another reservation either.
    assert reserve(csms, 2, evse=2) == "Accepted"
    assert reserve(csms, 3, evse=2, token={"idToken": "OTHER", "type": "ISO14443"}) == "Occupied"
    assert [r.reservation_id for r in cp.reservations()] == [2]


def test_H01_unavailable_evse_or_station_answers_Unavailable() -> None:
    cp, csms = booted201()
    change = {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    assert csms.result("ChangeAvailability", change)["status"] == "Accepted"
    assert reserve(csms, 1, evse=1) == "Unavailable"
    assert reserve(csms, 2) == "Accepted"  # EVSE 2 is still free for any EVSE
    assert cp.status(2, csms.now) == "Reserved"  # the only free one (H01.FR.20)
    station = {"operationalStatus": "Inoperative"}
    assert csms.result("ChangeAvailability", station)["status"] == "Accepted"
    assert reserve(csms, 3, evse=2) == "Unavailable"
    assert reserve(csms, 4) == "Unavailable"


def test_H01_rejected_unknown_evse_past_expiry_disabled_and_unknown_connector_type() -> None:
    cp, csms = booted201()
    assert reserve(csms, 1, evse=3) == "Rejected"
    assert reserve(csms, 2, evse=1, seconds=-1) == "Rejected"
    assert reserve(csms, 3, connectorType="cCCS2") == "Rejected"
    assert reserve(csms, 4, evse=1, connectorType="cCCS2") == "Rejected"
    assert cp.set_variable("ReservationCtrlr.Enabled", "false", csms.now) == "Accepted"
    assert reserve(csms, 5, evse=1) == "Rejected"
    assert cp.reservations() == []
    assert csms.payloads("StatusNotification") == []


def test_H01_the_same_id_replaces_the_reservation() -> None:
    cp, csms = booted201()
    assert reserve(csms, 1, evse=1) == "Accepted"
    assert reserve(csms, 1, evse=2) == "Accepted"
    assert [(r.reservation_id, r.connector) for r in cp.reservations()] == [(1, 2)]
    assert cp.status(1, csms.now) == "Available"
    assert statuses(csms, 1) == ["Reserved", "Available"]
    assert statuses(csms, 2) == ["Reserved"]
    # A replacement the new target cannot take leaves the old reservation as it was.
    Ev(cp, 1).plugged = True
    csms.pump()
    assert reserve(csms, 1, evse=1) == "Occupied"
    assert [(r.reservation_id, r.connector) for r in cp.reservations()] == [(1, 2)]


def test_H01_FR_20_reservations_for_any_evse_keep_one_free_each() -> None:
    """Without evseId: Accepted while more EVSEs are free than such reservations; once as many
    reservations as free EVSEs are held, those EVSEs are reported Reserved (H01.FR.20)."""
    cp, csms = booted201()
    assert reserve(csms, 1) == "Accepted"
    assert csms.payloads("StatusNotification") == []  # two free EVSEs for one reservation
    assert cp.status(1, csms.now) == cp.status(2, csms.now) == "Available"
    assert reserve(csms, 2, token={"idToken": "SECOND", "type": "ISO14443"}) == "Accepted"
    assert statuses(csms, 1) == ["Reserved"]
    assert statuses(csms, 2) == ["Reserved"]
    assert reserve(csms, 3, token={"idToken": "THIRD", "type": "ISO14443"}) == "Occupied"
    shown = cp.reservation(1)
    assert shown is not None and shown.connector == 0
    # A cancel frees one EVSE again: both show Available.
    assert csms.result("CancelReservation", {"reservationId": 2}) == {"status": "Accepted"}
    assert cp.status(1, csms.now) == cp.status(2, csms.now) == "Available"


def test_H01_FR_24_a_connector_type_reservation() -> None:
    cp, csms = booted201(connectors=1)
    assert reserve(csms, 1, connectorType="cType2") == "Accepted"
    assert statuses(csms, 1) == ["Reserved"]
    (held,) = cp.reservations()
    assert held.connector_type == "cType2"


def test_H01_NonEvseSpecific_false_rejects_a_reservation_without_evse() -> None:
    _cp, csms = booted201(config_defaults={"ReservationCtrlr.NonEvseSpecific": "false"})
    assert reserve(csms, 1) == "Rejected"
    assert reserve(csms, 2, evse=1) == "Accepted"


def test_H01_ReservationCtrlr_variables() -> None:
    _cp, csms = booted201()
    wanted = [
        {"component": {"name": "ReservationCtrlr"}, "variable": {"name": name}}
        for name in ("Available", "Enabled", "NonEvseSpecific")
    ]
    response = csms.result("GetVariables", {"getVariableData": wanted})
    values = {r["variable"]["name"]: r.get("attributeValue") for r in response["getVariableResult"]}
    assert values == {"Available": "true", "Enabled": "true", "NonEvseSpecific": "true"}


def test_H01_integers_written_as_decimals() -> None:
    """Draft-06 integers: an id and evseId sent as 5.0 and 1.0 are 5 and 1."""
    cp, csms = booted201()
    assert reserve(csms, 5.0, evse=1.0) == "Accepted"  # type: ignore[arg-type]
    assert [(r.reservation_id, r.connector) for r in cp.reservations()] == [(5, 1)]
    assert csms.result("CancelReservation", {"reservationId": 5.0}) == {"status": "Accepted"}


# ---------------------------------------------------------------------- H02: CancelReservation


def test_H02_FR_02_cancel_a_reservation_makes_the_evse_available() -> None:
    cp, csms = booted201()
    events: list[ReservationChanged] = []
    cp.subscribe(lambda e: events.append(e) if isinstance(e, ReservationChanged) else None)
    assert reserve(csms, 7, evse=2) == "Accepted"
    assert csms.result("CancelReservation", {"reservationId": 7}) == {"status": "Accepted"}
    assert statuses(csms, 2) == ["Reserved", "Available"]
    assert cp.reservations() == []
    assert [e.change for e in events] == ["made", "cancelled"]
    assert updates(csms) == []  # a cancel is answered, not notified


def test_H02_FR_01_cancel_an_unknown_reservation_is_rejected() -> None:
    _cp, csms = booted201()
    assert reserve(csms, 7, evse=2) == "Accepted"
    assert csms.result("CancelReservation", {"reservationId": 8}) == {"status": "Rejected"}


# ---------------------------------------------------------------------- H03: use a reservation


def test_H03_FR_09_FR_10_the_holder_uses_the_reservation_reservationId_in_the_event() -> None:
    cp, csms = booted201()
    assert reserve(csms, 11, evse=1) == "Accepted"
    present(cp, csms, 1, HOLDER)
    assert cp.reservations() == []  # consumed when presented (H03.FR.09)
    assert statuses(csms, 1)[-1] == "Available"  # H03.FR.10: no cable yet
    Ev(cp, 1).plugged = True
    csms.pump()
    assert statuses(csms, 1)[-1] == "Occupied"  # H03.FR.10 / G01: the cable
    (started,) = tx_events(csms, "Started")
    assert started["reservationId"] == 11
    assert started["idToken"]["idToken"] == "HOLDER-1"
    assert all("reservationId" not in p for p in tx_events(csms)[1:])


def test_H03_another_idToken_is_refused_on_a_reserved_evse() -> None:
    cp, csms = booted201()
    seen = cancelled(cp)
    assert reserve(csms, 11, evse=1) == "Accepted"
    present(cp, csms, 1, {"idToken": "STRANGER", "type": "ISO14443"})
    Ev(cp, 1).plugged = True
    csms.pump()
    assert tx_events(csms) == []
    assert [e.reason for e in seen] == ["ReservationConflict"]
    assert cp.status(1, csms.now) == "Reserved"
    # EVSE 2 is not reserved: the stranger charges there.
    present(cp, csms, 2, {"idToken": "STRANGER", "type": "ISO14443"})
    Ev(cp, 2).plugged = True
    csms.pump()
    (started,) = tx_events(csms, "Started")
    assert started["evse"]["id"] == 2 and "reservationId" not in started


def test_G03_FR_09_an_EV_plugged_into_a_reserved_evse_leaves_it_Reserved() -> None:
    cp, csms = booted201()
    assert reserve(csms, 12, evse=1) == "Accepted"
    Ev(cp, 1).plugged = True
    csms.pump()
    assert statuses(csms, 1) == ["Reserved"]
    present(cp, csms, 1, HOLDER)
    assert statuses(csms, 1) == ["Reserved", "Occupied"]  # H03.FR.10: with a cable, Occupied
    (started,) = tx_events(csms, "Started")
    assert started["reservationId"] == 12


def test_H03_FR_07_08_an_idToken_of_the_reservations_group_uses_it() -> None:
    """The reservation has a groupIdToken: an idToken whose Authorize answer gives that group
    may use it; one of another group may not."""
    cp, csms = booted201()
    groups = {"FRIEND": GROUP, "RIVAL": {"idToken": "OTHER-GROUP", "type": "Central"}}
    csms.handlers["Authorize"] = lambda p: {
        "idTokenInfo": {"status": "Accepted", "groupIdToken": groups[p["idToken"]["idToken"]]}
    }
    assert reserve(csms, 21, evse=1, groupIdToken=GROUP) == "Accepted"
    present(cp, csms, 1, {"idToken": "RIVAL", "type": "ISO14443"})
    assert [r.reservation_id for r in cp.reservations()] == [21]
    present(cp, csms, 1, {"idToken": "FRIEND", "type": "ISO14443"})
    assert csms.payloads("Authorize")[-1]["idToken"]["idToken"] == "FRIEND"  # H03.FR.08
    assert cp.reservations() == []
    Ev(cp, 1).plugged = True
    csms.pump()
    (started,) = tx_events(csms, "Started")
    assert started["reservationId"] == 21
    assert started["idToken"]["idToken"] == "FRIEND"


def test_H03_a_reservation_for_any_evse_is_used_on_the_last_free_one() -> None:
    cp, csms = booted201(connectors=1)
    seen = cancelled(cp)
    assert reserve(csms, 31) == "Accepted"
    assert cp.status(1, csms.now) == "Reserved"
    present(cp, csms, 1, {"idToken": "STRANGER", "type": "ISO14443"})
    assert [e.reason for e in seen] == ["ReservationConflict"]
    present(cp, csms, 1, HOLDER)
    Ev(cp, 1).plugged = True
    csms.pump()
    (started,) = tx_events(csms, "Started")
    assert started["reservationId"] == 31


def test_H03_RequestStartTransaction_on_a_reserved_evse() -> None:
    cp, csms = booted201()
    assert reserve(csms, 41, evse=1) == "Accepted"
    other = {"idToken": "STRANGER", "type": "ISO14443"}
    start = {"evseId": 1, "remoteStartId": 1, "idToken": other}
    assert csms.result("RequestStartTransaction", start)["status"] == "Rejected"
    # Without evseId the station picks an EVSE the stranger may use.
    start = {"remoteStartId": 2, "idToken": other}
    assert csms.result("RequestStartTransaction", start)["status"] == "Accepted"
    start = {"evseId": 1, "remoteStartId": 3, "idToken": HOLDER}
    assert csms.result("RequestStartTransaction", start)["status"] == "Accepted"
    Ev(cp, 1).plugged = True
    csms.pump()
    started = [p for p in tx_events(csms, "Started") if p["evse"]["id"] == 1]
    assert started[0]["reservationId"] == 41
    assert started[0]["transactionInfo"]["remoteStartId"] == 3


# ---------------------------------------------------------------------- H04: ended, not used


def test_H04_FR_01_an_expired_reservation_is_reported_Expired() -> None:
    cp, csms = booted201()
    events: list[ReservationChanged] = []
    cp.subscribe(lambda e: events.append(e) if isinstance(e, ReservationChanged) else None)
    assert reserve(csms, 51, evse=1, seconds=60) == "Accepted"
    wake = cp.next_wakeup(csms.now)
    assert wake is not None and wake <= csms.now + 60
    csms.advance(59)
    assert updates(csms) == []
    csms.advance(2)
    assert updates(csms) == [(51, "Expired")]
    assert statuses(csms, 1) == ["Reserved", "Available"]
    assert cp.reservations() == []
    assert [e.change for e in events] == ["made", "expired"]


@pytest.mark.parametrize("how", ["inoperative", "faulted"])
def test_H04_a_reservation_whose_evse_becomes_unusable_is_Removed(how: str) -> None:
    cp, csms = booted201()
    assert reserve(csms, 61, evse=1) == "Accepted"
    assert reserve(csms, 62, evse=2) == "Accepted"
    if how == "inoperative":
        change = {"operationalStatus": "Inoperative", "evse": {"id": 1}}
        assert csms.result("ChangeAvailability", change)["status"] == "Accepted"
    else:
        cp.connector(1).errors = [lambda: ErrorRecord("GroundFailure")]
        csms.pump()
    assert updates(csms) == [(61, "Removed")]
    assert [r.reservation_id for r in cp.reservations()] == [62]


# ---------------------------------------------------------------------- persistence


def test_H01_reservations_survive_a_restart_and_still_expire() -> None:
    store = MemoryStore()
    _cp, csms = booted201(store=store)
    assert reserve(csms, 71, evse=2, seconds=120, groupIdToken=GROUP) == "Accepted"
    assert reserve(csms, 72, seconds=3600) == "Accepted"
    cp2, csms2 = station201(store=store)
    csms2.now = csms.now
    csms2.connect()
    assert [(r.reservation_id, r.connector) for r in cp2.reservations()] == [(71, 2), (72, 0)]
    (kept,) = [r for r in cp2.reservations() if r.reservation_id == 71]
    assert (kept.parent_id_tag, kept.parent_id_token_type) == ("FLEET-7", "Central")
    assert cp2.status(2, csms2.now) == "Reserved"
    csms2.advance(121)
    assert updates(csms2) == [(71, "Expired")]


def test_H01_an_unreadable_reservations_document_starts_empty(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore()
    store.save("reservations", [{"id": "x"}])
    with caplog.at_level(logging.ERROR):
        cp, _csms = booted201(store=store)
    assert cp.reservations() == []
    assert "unreadable" in caplog.text
