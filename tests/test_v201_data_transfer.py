"""OCPP 2.0.1 DataTransfer in both directions (P01, P02) and customData (TC_P_03), through the
same station API as 1.6 (on_data_transfer / send_data_transfer)."""

from __future__ import annotations

import pytest
from fake_csms import SILENT, Error
from fake_csms201 import booted201, station201

from ocpp_core import DataTransferResult

OCTT = "org.openchargealliance.octt"


@pytest.mark.parametrize("message_id", [None, "TestMessage"])
def test_TC_P_01_CS_data_transfer_to_the_station_unknown_vendor(message_id: str | None) -> None:
    _cp, csms = booted201()
    payload = {"vendorId": OCTT}
    if message_id is not None:
        payload["messageId"] = message_id
    assert csms.result("DataTransfer", payload) == {"status": "UnknownVendorId"}


def test_P01_known_vendor_unknown_message_is_UnknownMessageId() -> None:
    cp, csms = booted201()
    cp.on_data_transfer("com.example", lambda message_id, data: "Accepted", "Known")
    answer = csms.result("DataTransfer", {"vendorId": "com.example", "messageId": "Other"})
    assert answer == {"status": "UnknownMessageId"}
    answer = csms.result("DataTransfer", {"vendorId": "COM.EXAMPLE", "messageId": "known"})
    assert answer == {"status": "Accepted"}


@pytest.mark.parametrize(
    ("data", "received"),
    [
        ("text", "text"),
        ({"a": [1, 2.5, None]}, '{"a":[1,2.5,null]}'),
        ([1, "x"], '[1,"x"]'),
        (42, "42"),
        (True, "true"),
        ("ünïcode \ud800", "ünïcode \ud800"),
    ],
)
def test_P01_any_json_data_reaches_the_handler_as_text(data: object, received: str) -> None:
    """2.0.1 data is anyType: the handler gets a non-string value as its JSON text."""
    cp, csms = booted201()
    seen: list[tuple[str | None, str | None]] = []

    def handler(message_id: str | None, data: str | None) -> tuple[str, str]:
        seen.append((message_id, data))
        return "Accepted", "reply"

    cp.on_data_transfer("com.example", handler)
    answer = csms.result("DataTransfer", {"vendorId": "com.example", "data": data})
    assert answer == {"status": "Accepted", "data": "reply"}
    assert seen == [(None, received)]


def test_P01_rejected_by_the_handler() -> None:
    cp, csms = booted201()
    cp.on_data_transfer("com.example", lambda message_id, data: "Rejected")
    assert csms.result("DataTransfer", {"vendorId": "com.example"}) == {"status": "Rejected"}


def test_P01_a_handler_that_raises_is_an_internal_error_and_the_station_goes_on() -> None:
    cp, csms = booted201()

    def handler(message_id: str | None, data: str | None) -> str:
        raise RuntimeError("boom")

    cp.on_data_transfer("com.example", handler)
    reply = csms.call("DataTransfer", {"vendorId": "com.example"})
    assert reply[0] == 4 and reply[2] == "InternalError"
    assert csms.result("DataTransfer", {"vendorId": "other"}) == {"status": "UnknownVendorId"}


def test_P02_data_transfer_to_the_csms_reports_its_answer() -> None:
    cp, csms = booted201()
    csms.handlers["DataTransfer"] = lambda payload: {"status": "Accepted", "data": {"k": 1}}
    results: list[DataTransferResult] = []
    cp.send_data_transfer("com.example", "Hello", "payload", callback=results.append, now=csms.now)
    csms.pump()
    assert csms.payloads("DataTransfer") == [
        {"vendorId": "com.example", "messageId": "Hello", "data": "payload"}
    ]
    assert results == [DataTransferResult("Accepted", '{"k":1}')]


@pytest.mark.parametrize("status", ["Rejected", "UnknownMessageId", "UnknownVendorId"])
def test_P02_the_csms_refusal_reaches_the_callback(status: str) -> None:
    cp, csms = booted201()
    csms.handlers["DataTransfer"] = lambda payload: {"status": status}
    results: list[DataTransferResult] = []
    cp.send_data_transfer("com.example", callback=results.append, now=csms.now)
    csms.pump()
    assert results == [DataTransferResult(status, None)]


def test_P02_a_callerror_or_no_answer_is_a_failure() -> None:
    cp, csms = booted201()
    csms.handlers["DataTransfer"] = lambda payload: Error("NotImplemented")
    results: list[DataTransferResult] = []
    cp.send_data_transfer("com.example", callback=results.append, now=csms.now)
    csms.pump()
    assert results[0].status is None and results[0].failure is not None
    csms.handlers["DataTransfer"] = lambda payload: SILENT
    cp.send_data_transfer("com.example", callback=results.append, now=csms.now)
    csms.advance(60)
    assert len(results) == 2 and results[1].status is None and results[1].failure is not None


def test_P02_sent_only_once_the_boot_is_accepted() -> None:
    cp, csms = station201()
    cp.send_data_transfer("com.example", now=csms.now)
    csms.connect()
    actions = csms.actions()
    assert actions.index("BootNotification") < actions.index("DataTransfer")


@pytest.mark.parametrize(
    ("vendor_id", "message_id", "data"),
    [("v" * 256, None, None), ("v", "m" * 51, None), ("v", None, 5), (7, None, None)],
)
def test_P02_fields_the_schema_would_refuse_are_a_value_error(
    vendor_id: object, message_id: object, data: object
) -> None:
    cp, csms = booted201()
    with pytest.raises(ValueError):
        cp.send_data_transfer(vendor_id, message_id, data, now=csms.now)  # type: ignore[arg-type]
    assert csms.pump() == []


def test_TC_P_03_CS_custom_data_is_accepted() -> None:
    _cp, csms = booted201()
    custom = {"vendorId": "com.example", "extra": {"anything": [1, 2]}}
    result = csms.result(
        "SetVariables",
        {
            "customData": custom,
            "setVariableData": [
                {
                    "customData": custom,
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "OfflineThreshold"},
                    "attributeType": "Actual",
                    "attributeValue": "200",
                }
            ],
        },
    )
    assert result["setVariableResult"][0]["attributeStatus"] == "Accepted"
    result = csms.result(
        "GetVariables",
        {
            "customData": custom,
            "getVariableData": [
                {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "OfflineThreshold"},
                    "attributeType": "Actual",
                }
            ],
        },
    )
    item = result["getVariableResult"][0]
    assert item["attributeStatus"] == "Accepted"
    assert item.get("attributeType", "Actual") == "Actual" and item["attributeValue"] == "200"
    answer = csms.result("DataTransfer", {"vendorId": "x", "customData": custom})
    assert answer == {"status": "UnknownVendorId"}
