"""DataTransfer in both directions (OCPP 1.6 §4.3, §5.6)."""

from __future__ import annotations

import pytest
from fake_csms import booted, station

from ocpp_core import CallFailure, DataTransferResult


def test_unknown_vendor_is_unknown_vendor_id() -> None:
    _cp, csms = booted()
    assert csms.result("DataTransfer", {"vendorId": "com.nobody", "data": "x"}) == {
        "status": "UnknownVendorId"
    }


def test_known_vendor_unknown_message_is_unknown_message_id() -> None:
    cp, csms = booted()
    cp.on_data_transfer("com.acme", lambda message_id, data: "Accepted", message_id="Ping")
    assert csms.result("DataTransfer", {"vendorId": "com.acme", "messageId": "Pong"}) == {
        "status": "UnknownMessageId"
    }
    assert csms.result("DataTransfer", {"vendorId": "com.acme"}) == {"status": "UnknownMessageId"}


def test_message_handler_returns_status_and_data() -> None:
    cp, csms = booted()
    seen: list[tuple[str | None, str | None]] = []

    def ping(message_id: str | None, data: str | None) -> tuple[str, str]:
        seen.append((message_id, data))
        return "Accepted", "pong"

    cp.on_data_transfer("com.acme", ping, message_id="Ping")
    response = csms.result(
        "DataTransfer", {"vendorId": "com.acme", "messageId": "Ping", "data": "1"}
    )
    assert response == {"status": "Accepted", "data": "pong"}
    assert seen == [("Ping", "1")]


def test_vendor_wide_handler_answers_any_message() -> None:
    cp, csms = booted()
    cp.on_data_transfer("com.acme", lambda message_id, data: ("Rejected", f"no {message_id}"))
    response = csms.result("DataTransfer", {"vendorId": "com.acme", "messageId": "Anything"})
    assert response == {"status": "Rejected", "data": "no Anything"}
    assert csms.result("DataTransfer", {"vendorId": "com.acme"}) == {
        "status": "Rejected",
        "data": "no None",
    }


def test_vendor_and_message_ids_match_ignoring_case() -> None:
    cp, csms = booted()
    cp.on_data_transfer("com.Acme", lambda message_id, data: "Accepted", message_id="PING")
    response = csms.result("DataTransfer", {"vendorId": "COM.ACME", "messageId": "ping"})
    assert response == {"status": "Accepted"}


def test_unknown_vendor_answer_never_carries_data() -> None:
    cp, csms = booted()
    cp.on_data_transfer("com.acme", lambda message_id, data: ("UnknownVendorId", "secret"))
    assert csms.result("DataTransfer", {"vendorId": "com.acme"}) == {"status": "UnknownVendorId"}


@pytest.mark.parametrize("outcome", [("Maybe", None), ("Accepted", 5), 42])
def test_handler_with_an_invalid_answer_is_an_internal_error(outcome: object) -> None:
    cp, csms = booted()
    cp.on_data_transfer("com.acme", lambda message_id, data: outcome)
    reply = csms.call("DataTransfer", {"vendorId": "com.acme"})
    assert reply[2] == "InternalError"


def test_raising_handler_is_an_internal_error_and_the_engine_goes_on() -> None:
    cp, csms = booted()

    def explode(message_id: str | None, data: str | None) -> str:
        raise RuntimeError("vendor bug")

    cp.on_data_transfer("com.acme", explode)
    reply = csms.call("DataTransfer", {"vendorId": "com.acme"})
    assert reply[2:4] == ["InternalError", "Handler failed"]
    assert csms.result("DataTransfer", {"vendorId": "other"}) == {"status": "UnknownVendorId"}


def test_send_data_transfer_reports_the_response() -> None:
    cp, csms = booted()
    csms.handlers["DataTransfer"] = lambda payload: {
        "status": "Accepted",
        "data": payload["data"][::-1],
    }
    results: list[DataTransferResult] = []
    cp.send_data_transfer("com.acme", "Echo", "abc", callback=results.append, now=csms.now)
    csms.pump()
    assert csms.payloads("DataTransfer") == [
        {"vendorId": "com.acme", "messageId": "Echo", "data": "abc"}
    ]
    assert results == [DataTransferResult("Accepted", "cba")]


def test_send_data_transfer_waits_for_the_boot() -> None:
    cp, csms = station()
    cp.send_data_transfer("com.acme", now=csms.now)
    csms.connect()
    assert csms.actions()[:2] == ["BootNotification", "DataTransfer"]


@pytest.mark.parametrize(
    ("vendor_id", "message_id", "data"),
    [("v" * 256, None, None), ("v", "m" * 51, None), ("v", None, 5), (None, None, None)],
)
def test_send_data_transfer_checks_its_fields(vendor_id, message_id, data) -> None:
    cp, _csms = booted()
    with pytest.raises(ValueError):
        cp.send_data_transfer(vendor_id, message_id, data, now=0.0)


def test_full_queue_drops_the_oldest_request() -> None:
    cp, csms = station()
    results: list[DataTransferResult] = []
    for n in range(33):
        cp.send_data_transfer("v", data=str(n), callback=results.append, now=csms.now)
    assert results == [DataTransferResult(None, None, CallFailure("dropped"))]
    csms.connect()
    assert [p["data"] for p in csms.payloads("DataTransfer")] == [str(n) for n in range(1, 33)]


@pytest.mark.parametrize(
    ("vendor_id", "handler", "message_id", "match"),
    [
        (None, lambda m, d: "Accepted", None, "vendor_id must be a string"),
        (5, lambda m, d: "Accepted", None, "vendor_id must be a string"),
        ("com.acme", lambda m, d: "Accepted", 7, "message_id must be a string"),
        ("com.acme", "Accepted", None, "handler must be callable"),
    ],
)
def test_registering_with_wrong_types_is_a_type_error(vendor_id, handler, message_id, match):
    cp, csms = booted()
    with pytest.raises(TypeError, match=match):
        cp.on_data_transfer(vendor_id, handler, message_id)
    assert csms.result("DataTransfer", {"vendorId": "com.acme"}) == {"status": "UnknownVendorId"}


@pytest.mark.parametrize("now", [float("nan"), float("inf"), float("-inf")])
def test_send_with_a_non_finite_now_is_refused(now: float) -> None:
    cp, csms = booted()
    with pytest.raises(ValueError, match="finite"):
        cp.send_data_transfer("com.acme", data="x", now=now)
    with pytest.raises(TypeError, match="callback must be callable"):
        cp.send_data_transfer("com.acme", data="x", callback="nope", now=csms.now)
    csms.advance(1)
    assert csms.payloads("DataTransfer") == []
