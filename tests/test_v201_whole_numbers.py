"""Draft-06 integers written as ``1.0``: the 2.0.1 schemas let them through, and the engine hands
every handler the int they mean (validation.whole_numbers), so no handler converts on its own.

Each case is a request whose integer fields are all written with ``.0``; the answer must be the
one the same request with ints gets (a handler comparing 1.0 with a stored 1 or indexing a list
with it would answer differently or fail with InternalError).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fake_csms201 import booted201

from ocpp_core import validation

EXPIRY = (datetime(2030, 1, 1, tzinfo=UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
TOKEN = {"idToken": "HOLDER", "type": "ISO14443"}


def test_whole_numbers_turns_whole_floats_into_ints_for_draft_06_only() -> None:
    payload = {"a": [1.0, 2.5, {"b": 3.0}], "c": "1.0", "d": True}
    assert validation.whole_numbers("2.0.1", payload) == {
        "a": [1, 2.5, {"b": 3}],
        "c": "1.0",
        "d": True,
    }
    assert type(validation.whole_numbers("2.0.1", payload)["a"][0]) is int  # type: ignore[index]
    assert validation.whole_numbers("1.6", payload) is payload  # draft-04 refuses 1.0 anyway
    untouched = {"a": [1, 2.5], "b": {"c": "x"}}
    assert validation.whole_numbers("2.0.1", untouched) is untouched


def test_every_simplified_handler_takes_an_integer_written_as_1_0() -> None:
    _cp, csms = booted201()
    assert csms.result(
        "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 2.0}}
    ) == {"status": "Accepted"}
    assert csms.result(
        "ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 2.0}}
    ) == {"status": "Accepted"}
    reserve = {"id": 5.0, "expiryDateTime": EXPIRY, "idToken": TOKEN, "evseId": 1.0}
    assert csms.result("ReserveNow", reserve)["status"] == "Accepted"
    assert csms.result("CancelReservation", {"reservationId": 5.0}) == {"status": "Accepted"}
    assert csms.result("UnlockConnector", {"evseId": 1.0, "connectorId": 1.0})["status"] == (
        "Unlocked"
    )
    assert csms.result("Reset", {"type": "OnIdle", "evseId": 3.0})["status"] == "Rejected"
    assert csms.result("SendLocalList", {"versionNumber": 4.0, "updateType": "Full"}) == {
        "status": "Accepted"
    }
    assert csms.result("GetLocalListVersion", {}) == {"versionNumber": 4}
    started = csms.result(
        "RequestStartTransaction", {"evseId": 1.0, "remoteStartId": 3.0, "idToken": TOKEN}
    )
    assert started["status"] == "Accepted"
