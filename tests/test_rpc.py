"""OCPP-J framing and the request machinery: hostile frames, matching, ordering, timeouts."""

from __future__ import annotations

import json
import logging

import pytest
from fake_csms import SILENT, Error, Raw, booted, station
from fake_csms201 import booted201

from ocpp_core import CallFailure, DataTransferResult, FrameLogged, rpc

BIG = 65536

# (name, received text, expected reply): None = no reply at all (logged, never silent);
# (id, code, description) = exactly one CALLERROR, with empty details unless said otherwise.
HOSTILE_FRAMES: list[tuple[str, str, tuple[str, str, str] | None]] = [
    ("not JSON at all", "hello", None),
    ("empty text", "", None),
    ("whitespace only", "   \n", None),
    (
        "truncated CALL",
        '[2,"t1","Heartbeat",{',
        ("t1", "FormationViolation", "Message is not valid JSON"),
    ),
    (
        "trailing garbage",
        '[2,"t2","Reset",{"type":"Soft"}]x',
        ("t2", "FormationViolation", "Message is not valid JSON"),
    ),
    ("JSON object", '{"a":1}', None),
    ("JSON string", '"[2,\\"x\\",\\"Reset\\",{}]"', None),
    ("JSON number", "42", None),
    ("JSON null", "null", None),
    ("empty array", "[]", None),
    ("type only", "[2]", None),
    ("unknown message type 5", '[5,"t3","Reset",{"type":"Soft"}]', None),
    ("message type as string", '["2","t4","Reset",{"type":"Soft"}]', None),
    ("message type as float", '[2.0,"t5","Reset",{"type":"Soft"}]', None),
    ("message type as boolean", '[true,"t6","Reset",{"type":"Soft"}]', None),
    ("id is a number", '[2,123,"Reset",{"type":"Soft"}]', None),
    ("id is null", '[2,null,"Reset",{"type":"Soft"}]', None),
    (
        "id of 37 characters",
        f'[2,"{"i" * 37}","Heartbeat",{{}}]',
        ("i" * 37, "FormationViolation", "Message id longer than 36 characters"),
    ),
    # OCPP-J §4.1.4/§4.2.1: the id serves to identify the request; "" identifies nothing.
    (
        "empty id",
        '[2,"","Reset",{"type":"Soft"}]',
        ("", "FormationViolation", "Message id is empty"),
    ),
    (
        "empty id, unknown action",
        '[2,"","FooBar",{}]',
        ("", "FormationViolation", "Message id is empty"),
    ),
    ("CALLRESULT with an empty id", '[3,"",{}]', None),
    ("CALLERROR with an empty id", '[4,"","GenericError","",{}]', None),
    (
        "CALL with 3 elements",
        '[2,"t7","Reset"]',
        ("t7", "FormationViolation", "CALL must have 4 elements"),
    ),
    (
        "CALL with 5 elements",
        '[2,"t8","Reset",{"type":"Soft"},{}]',
        ("t8", "FormationViolation", "CALL must have 4 elements"),
    ),
    ("action is a number", '[2,"t9",7,{}]', ("t9", "FormationViolation", "Action is not a string")),
    (
        "action is null",
        '[2,"t10",null,{}]',
        ("t10", "FormationViolation", "Action is not a string"),
    ),
    (
        "payload is an array",
        '[2,"t11","Reset",[]]',
        ("t11", "FormationViolation", "Payload is not a JSON object"),
    ),
    (
        "payload is a string",
        '[2,"t12","Reset","Soft"]',
        ("t12", "FormationViolation", "Payload is not a JSON object"),
    ),
    (
        "payload null means {}",
        '[2,"t13","Reset",null]',
        ("t13", "OccurenceConstraintViolation", "/type: required property 'type' is missing"),
    ),
    ("unknown action", '[2,"t14","FooBar",{}]', ("t14", "NotImplemented", "Unknown action")),
    ("empty action", '[2,"t15","",{}]', ("t15", "NotImplemented", "Unknown action")),
    (
        "action in the wrong case",
        '[2,"t16","reset",{"type":"Soft"}]',
        ("t16", "NotImplemented", "Unknown action"),
    ),
    (
        "2.0.1-only action",
        '[2,"t17","TransactionEvent",{}]',
        ("t17", "NotImplemented", "Unknown action"),
    ),
    (
        "known action not handled",
        '[2,"t18","SignedUpdateFirmware",{"requestId":1}]',
        ("t18", "NotSupported", "SignedUpdateFirmware is not supported"),
    ),
    (
        "CP-initiated action sent to the CP",
        '[2,"t19","Heartbeat",{}]',
        ("t19", "NotSupported", "Heartbeat is not supported"),
    ),
    (
        "required field missing",
        '[2,"t20","Reset",{}]',
        ("t20", "OccurenceConstraintViolation", "/type: required property 'type' is missing"),
    ),
    (
        "field of the wrong type",
        '[2,"t21","Reset",{"type":1}]',
        ("t21", "TypeConstraintViolation", "/type: expected string, got integer 1"),
    ),
    (
        "value not in enum",
        '[2,"t22","Reset",{"type":"Medium"}]',
        ("t22", "PropertyConstraintViolation", "/type: 'Medium' is not one of 'Hard', 'Soft'"),
    ),
    (
        "unknown field",
        '[2,"t23","Reset",{"type":"Soft","now":true}]',
        ("t23", "FormationViolation", "/now: property 'now' is not allowed"),
    ),
    (
        "string over maxLength",
        f'[2,"t24","DataTransfer",{{"vendorId":"{"v" * 300}"}}]',
        (
            "t24",
            "PropertyConstraintViolation",
            "/vendorId: string longer than 255 characters (300)",
        ),
    ),
    (
        "integer given as 1.0",
        '[2,"t25","ChangeAvailability",{"connectorId":1.0,"type":"Operative"}]',
        ("t25", "TypeConstraintViolation", "/connectorId: expected integer, got number 1.0"),
    ),
    (
        "boolean for an integer",
        '[2,"t26","ChangeAvailability",{"connectorId":true,"type":"Operative"}]',
        ("t26", "TypeConstraintViolation", "/connectorId: expected integer, got boolean true"),
    ),
    (
        "number overflowing a float",
        '[2,"t27","ChangeAvailability",{"connectorId":1e999,"type":"Operative"}]',
        ("t27", "FormationViolation", "Message is not valid JSON"),
    ),
    (
        "NaN literal",
        '[2,"t28","Reset",{"type":NaN}]',
        ("t28", "FormationViolation", "Message is not valid JSON"),
    ),
    (
        "Infinity literal",
        '[2,"t29","Reset",{"type":-Infinity}]',
        ("t29", "FormationViolation", "Message is not valid JSON"),
    ),
    (
        "integer of 5000 digits",
        f'[2,"t30","ChangeAvailability",{{"connectorId":{"9" * 5000},"type":"Operative"}}]',
        ("t30", "FormationViolation", "Message is not valid JSON"),
    ),
    (
        "raw NUL in a string",
        '[2,"t31","Reset",{"type":"So\x00ft"}]',
        ("t31", "FormationViolation", "Message is not valid JSON"),
    ),
    (
        "escaped NUL in a string",
        '[2,"t32","Reset",{"type":"So\\u0000ft"}]',
        ("t32", "PropertyConstraintViolation", "/type: 'So\\x00ft' is not one of 'Hard', 'Soft'"),
    ),
    (
        "lone surrogate as the id",
        '[2,"\\ud800","FooBar",{}]',
        ("\ud800", "NotImplemented", "Unknown action"),
    ),
    (
        "frame over the size limit",
        f'[2,"t33","DataTransfer",{{"vendorId":"v","data":"{"a" * BIG}"}}]',
        ("t33", "GenericError", "Message exceeds 65536 bytes"),
    ),
    ("oversize garbage", "x" * (BIG + 1), None),
    (
        "oversize by UTF-8 bytes only",
        f'[2,"t34","DataTransfer",{{"vendorId":"v","data":"{"é" * (BIG // 2)}"}}]',
        ("t34", "GenericError", "Message exceeds 65536 bytes"),
    ),
    (
        "30,000 nested arrays in a payload",
        '[2,"t35","DataTransfer",{"vendorId":"v","data":' + "[" * 30000 + "]" * 30000 + "}]",
        ("t35", "FormationViolation", "Message is nested too deeply"),
    ),
    ("30,000 nested arrays alone", "[" * 30000 + "]" * 30000, None),
    # RFC 8259 §8.1: a sender must not add a BOM; the frame is not JSON and no id can be read.
    ("byte order mark", '\ufeff[2,"t36","Reset",{"type":"Soft"}]', None),
    ("CALLERROR with 2 elements", '[4,"t37"]', None),
    ("CALLRESULT for no request", '[3,"t38",{}]', None),
    ("CALLERROR for no request", '[4,"t39","GenericError","",{}]', None),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=name) for name, text, expected in HOSTILE_FRAMES],
)
def test_hostile_frame_gets_exactly_the_expected_reply(
    text: str, expected: tuple[str, str, str] | None, caplog: pytest.LogCaptureFixture
) -> None:
    cp, csms = booted()
    with caplog.at_level(logging.WARNING, logger="ocpp_core"):
        cp.receive(text, csms.now)
        frames = cp.poll(csms.now)
    if expected is None:
        assert frames == []
        assert any(word in caplog.text for word in ("ignored", "dropped")), caplog.text
        return
    assert len(frames) == 1
    frames[0].encode("utf-8")  # always sendable as UTF-8, even when echoing a lone surrogate
    message_id, code, description = expected
    details = {"limit": BIG} if code == "GenericError" else {}
    assert json.loads(frames[0]) == [rpc.CALLERROR, message_id, code, description, details]


# The same hostility against a 2.0.1 station, on 2.0.1 actions, with 2.0.1's spellings of the
# codes (FormatViolation, OccurrenceConstraintViolation) and its MessageTypeNotSupported.
HOSTILE_FRAMES_201: list[tuple[str, str, tuple[str, str, str] | None]] = [
    ("not JSON at all", "hello", None),
    ("JSON object", '{"a":1}', None),
    ("empty array", "[]", None),
    (
        "truncated CALL",
        '[2,"u1","Heartbeat",{',
        ("u1", "FormatViolation", "Message is not valid JSON"),
    ),
    (
        "trailing garbage",
        '[2,"u2","Reset",{"type":"OnIdle"}]x',
        ("u2", "FormatViolation", "Message is not valid JSON"),
    ),
    (
        "unknown message type 5",
        '[5,"u3","Reset",{"type":"OnIdle"}]',
        ("u3", "MessageTypeNotSupported", "Message type 5 is not supported"),
    ),
    (
        "unknown message type 0, nothing else",
        '[0,"u4"]',
        ("u4", "MessageTypeNotSupported", "Message type 0 is not supported"),
    ),
    ("unknown message type without an id", "[6]", None),
    ("unknown message type with a numeric id", '[5,7,"Reset",{}]', None),
    ("message type as string", '["2","u5","Reset",{"type":"OnIdle"}]', None),
    ("message type as boolean", '[true,"u6","Reset",{"type":"OnIdle"}]', None),
    (
        "id of 37 characters",
        f'[2,"{"i" * 37}","Heartbeat",{{}}]',
        ("i" * 37, "FormatViolation", "Message id longer than 36 characters"),
    ),
    (
        "empty id",
        '[2,"","Reset",{"type":"OnIdle"}]',
        ("", "FormatViolation", "Message id is empty"),
    ),
    (
        "CALL with 3 elements",
        '[2,"u7","Reset"]',
        ("u7", "FormatViolation", "CALL must have 4 elements"),
    ),
    ("action is a number", '[2,"u8",7,{}]', ("u8", "FormatViolation", "Action is not a string")),
    (
        "payload is an array",
        '[2,"u9","Reset",[]]',
        ("u9", "FormatViolation", "Payload is not a JSON object"),
    ),
    (
        "payload null means {}",
        '[2,"u10","Reset",null]',
        ("u10", "OccurrenceConstraintViolation", "/type: required property 'type' is missing"),
    ),
    ("unknown action", '[2,"u11","FooBar",{}]', ("u11", "NotImplemented", "Unknown action")),
    (
        "1.6-only action",
        '[2,"u12","RemoteStartTransaction",{"connectorId":1,"idTag":"A"}]',
        ("u12", "NotImplemented", "Unknown action"),
    ),
    (
        "known action not handled",
        '[2,"u13","SetNetworkProfile",{"configurationSlot":1}]',
        ("u13", "NotSupported", "SetNetworkProfile is not supported"),
    ),
    (
        "CS-initiated action sent to the CS",
        '[2,"u14","StatusNotification",{}]',
        ("u14", "NotSupported", "StatusNotification is not supported"),
    ),
    (
        "1.6 enum value",
        '[2,"u15","Reset",{"type":"Soft"}]',
        ("u15", "PropertyConstraintViolation", "/type: 'Soft' is not one of 'Immediate', 'OnIdle'"),
    ),
    (
        "field of the wrong type",
        '[2,"u16","Reset",{"type":"OnIdle","evseId":"1"}]',
        ("u16", "TypeConstraintViolation", "/evseId: expected integer, got string '1'"),
    ),
    (
        "boolean for an integer",
        '[2,"u17","Reset",{"type":"OnIdle","evseId":true}]',
        ("u17", "TypeConstraintViolation", "/evseId: expected integer, got boolean true"),
    ),
    (
        "integer with a fraction",
        '[2,"u18","ChangeAvailability",{"operationalStatus":"Operative","evse":{"id":1.5}}]',
        ("u18", "TypeConstraintViolation", "/evse/id: expected integer, got number 1.5"),
    ),
    (
        "unknown field",
        '[2,"u19","ChangeAvailability",{"operationalStatus":"Operative","now":1}]',
        ("u19", "FormatViolation", "/now: property 'now' is not allowed"),
    ),
    (
        "unknown nested field",
        '[2,"u20","TriggerMessage",{"requestedMessage":"Heartbeat","evse":{"id":1,"x":1}}]',
        ("u20", "FormatViolation", "/evse/x: property 'x' is not allowed"),
    ),
    (
        "nested required field missing",
        '[2,"u21","TriggerMessage",{"requestedMessage":"Heartbeat","evse":{}}]',
        ("u21", "OccurrenceConstraintViolation", "/evse/id: required property 'id' is missing"),
    ),
    (
        "customData without vendorId",
        '[2,"u22","ChangeAvailability",{"operationalStatus":"Operative","customData":{}}]',
        (
            "u22",
            "OccurrenceConstraintViolation",
            "/customData/vendorId: required property 'vendorId' is missing",
        ),
    ),
    (
        "empty array below minItems",
        '[2,"u23","SetVariables",{"setVariableData":[]}]',
        (
            "u23",
            "OccurrenceConstraintViolation",
            "/setVariableData: array has 0 items, at least 1 required",
        ),
    ),
    (
        "identifier over maxLength",
        f'[2,"u24","RequestStopTransaction",{{"transactionId":"{"x" * 37}"}}]',
        (
            "u24",
            "PropertyConstraintViolation",
            "/transactionId: string longer than 36 characters (37)",
        ),
    ),
    (
        "trigger of a message outside the enum",
        '[2,"u25","TriggerMessage",{"requestedMessage":"StartTransaction"}]',
        None,  # checked below: a PropertyConstraintViolation naming the enum
    ),
    (
        "number overflowing a float",
        '[2,"u26","Reset",{"type":"OnIdle","evseId":1e999}]',
        ("u26", "FormatViolation", "Message is not valid JSON"),
    ),
    (
        "NaN literal",
        '[2,"u27","Reset",{"type":NaN}]',
        ("u27", "FormatViolation", "Message is not valid JSON"),
    ),
    (
        "escaped NUL in an enum",
        '[2,"u28","Reset",{"type":"On\\u0000Idle"}]',
        (
            "u28",
            "PropertyConstraintViolation",
            "/type: 'On\\x00Idle' is not one of 'Immediate', 'OnIdle'",
        ),
    ),
    (
        "lone surrogate as the id",
        '[2,"\\ud800","FooBar",{}]',
        ("\ud800", "NotImplemented", "Unknown action"),
    ),
    (
        "frame over the size limit",
        f'[2,"u29","DataTransfer",{{"vendorId":"v","data":"{"a" * BIG}"}}]',
        ("u29", "GenericError", "Message exceeds 65536 bytes"),
    ),
    (
        "30,000 nested arrays as DataTransfer data",
        '[2,"u30","DataTransfer",{"vendorId":"v","data":' + "[" * 30000 + "]" * 30000 + "}]",
        ("u30", "FormatViolation", "Message is nested too deeply"),
    ),
    ("byte order mark", '\ufeff[2,"u31","Reset",{"type":"OnIdle"}]', None),
    ("CALLRESULT for no request", '[3,"u32",{}]', None),
    ("CALLERROR for no request", '[4,"u33","GenericError","",{}]', None),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=name) for name, text, expected in HOSTILE_FRAMES_201],
)
def test_hostile_201_frame_gets_exactly_the_expected_reply(
    text: str, expected: tuple[str, str, str] | None, caplog: pytest.LogCaptureFixture
) -> None:
    cp, csms = booted201()
    with caplog.at_level(logging.WARNING, logger="ocpp_core"):
        cp.receive(text, csms.now)
        frames = cp.poll(csms.now)
    if '"u25"' in text:  # the enum violation's description lists the whole enum
        [frame] = frames
        assert json.loads(frame)[:3] == [rpc.CALLERROR, "u25", "PropertyConstraintViolation"]
        return
    if expected is None:
        assert frames == []
        assert any(word in caplog.text for word in ("ignored", "dropped")), caplog.text
        return
    assert len(frames) == 1
    frames[0].encode("utf-8")
    message_id, code, description = expected
    details = {"limit": BIG} if code == "GenericError" else {}
    assert json.loads(frames[0]) == [rpc.CALLERROR, message_id, code, description, details]
    # The station goes on: a valid CALL is still answered.
    assert csms.result("DataTransfer", {"vendorId": "v"}) == {"status": "UnknownVendorId"}


def test_a_valid_integer_written_as_1_0_is_taken_as_1_in_2_0_1() -> None:
    """draft-06: 1.0 is an integer; the 2.0.1 station acts on it as 1 (1.6, draft-04, refuses)."""
    cp, csms = booted201()
    change = {"operationalStatus": "Inoperative", "evse": {"id": 1.0}}
    assert csms.result("ChangeAvailability", change) == {"status": "Accepted"}
    assert cp.status(1, csms.now) == "Unavailable"
    trigger = {"requestedMessage": "StatusNotification", "evse": {"id": 2.0, "connectorId": 1.0}}
    assert csms.result("TriggerMessage", trigger) == {"status": "Accepted"}
    assert csms.result("Reset", {"type": "OnIdle", "evseId": 2.0}) == {"status": "Accepted"}


def test_empty_message_id_is_malformed_but_keeps_the_id_to_answer() -> None:
    for text in ('[2,"","Reset",{}]', '[3,"",{}]', '[4,"","GenericError","",{}]'):
        frame = rpc.parse(text)
        assert isinstance(frame, rpc.Malformed)
        assert frame.message_id == ""
        assert frame.reason == "Message id is empty"
    assert isinstance(rpc.parse('[2,"x","Reset",{}]'), rpc.Call)  # one character is enough


def test_hostile_table_is_large_enough() -> None:
    assert len(HOSTILE_FRAMES) >= 30
    assert len(HOSTILE_FRAMES_201) >= 30


def test_oversize_callerror_names_the_limit() -> None:
    cp, csms = booted()
    cp.receive(f'[2,"big","DataTransfer",{{"vendorId":"v","data":"{"a" * BIG}"}}]', csms.now)
    [frame] = cp.poll(csms.now)
    reply = json.loads(frame)
    assert reply[2] == "GenericError"
    assert "65536" in reply[3]
    assert reply[4] == {"limit": BIG}


def test_size_limit_is_configurable() -> None:
    _cp, csms = booted(max_frame_bytes=160)
    reply = csms.call("DataTransfer", {"vendorId": "v", "data": "a" * 160})
    assert reply[2:] == ["GenericError", "Message exceeds 160 bytes", {"limit": 160}]
    assert csms.result("DataTransfer", {"vendorId": "v"}) == {"status": "UnknownVendorId"}


def test_100000_nested_arrays_do_not_crash_the_engine() -> None:
    cp, csms = booted(max_frame_bytes=10_000_000)
    deep = "[" * 100_000 + "]" * 100_000
    cp.receive(deep, csms.now)
    cp.receive('[2,"deep","DataTransfer",{"vendorId":"v","data":' + deep + "}]", csms.now)
    [frame] = cp.poll(csms.now)
    assert json.loads(frame)[:3] == [4, "deep", "FormationViolation"]
    assert csms.result("DataTransfer", {"vendorId": "v"}) == {"status": "UnknownVendorId"}


def test_duplicate_id_while_the_first_reply_is_pending_is_refused() -> None:
    cp, csms = booted()
    csms.send("GetConfiguration", {"key": ["HeartbeatInterval"]}, message_id="dup")
    csms.send("GetConfiguration", {"key": ["HeartbeatInterval"]}, message_id="dup")
    first, second = (json.loads(frame) for frame in cp.poll(csms.now))
    assert first[:2] == [3, "dup"]
    assert second[:3] == [4, "dup", "GenericError"]


def test_same_id_after_the_reply_was_sent_is_a_new_call() -> None:
    cp, csms = booted()
    csms.send("GetConfiguration", {"key": ["HeartbeatInterval"]}, message_id="again")
    assert json.loads(cp.poll(csms.now)[0])[0] == 3
    csms.send("GetConfiguration", {"key": ["HeartbeatInterval"]}, message_id="again")
    assert json.loads(cp.poll(csms.now)[0])[0] == 3


def test_unknown_id_callresult_is_dropped_and_does_not_complete_the_outstanding_call() -> None:
    cp, csms = booted()
    results: list[DataTransferResult] = []
    cp.send_data_transfer("v", data="x", callback=results.append, now=csms.now)
    [frame] = cp.poll(csms.now)
    message_id = json.loads(frame)[1]
    cp.receive(json.dumps([3, "not-" + message_id, {"status": "Accepted"}]), csms.now)
    cp.receive(json.dumps([4, "other", "GenericError", "", {}]), csms.now)
    assert results == []
    assert cp.poll(csms.now) == []  # still waiting: no second CALL
    cp.receive(json.dumps([3, message_id, {"status": "Accepted", "data": "y"}]), csms.now)
    assert results == [DataTransferResult("Accepted", "y")]


def test_only_one_call_is_outstanding() -> None:
    cp, csms = booted()
    for n in range(3):
        cp.send_data_transfer("v", data=str(n), now=csms.now)
    [first] = cp.poll(csms.now)
    assert cp.poll(csms.now + 5) == []
    message_id = json.loads(first)[1]
    cp.receive(json.dumps([3, message_id, {"status": "Accepted"}]), csms.now)
    [second] = cp.poll(csms.now)
    assert json.loads(second)[3] == {"vendorId": "v", "data": "1"}


def test_timeout_counts_from_sending_not_from_queueing() -> None:
    cp, csms = station()
    csms.handlers["DataTransfer"] = lambda payload: SILENT
    csms.connect()
    results: list[DataTransferResult] = []
    csms.disconnect()
    cp.send_data_transfer("v", callback=results.append, now=csms.now)
    csms.advance(100)  # queued while offline: no timer runs
    csms.connect()
    assert csms.actions()[-1] == "DataTransfer"
    sent_at = csms.now
    csms.advance(29)
    assert results == []
    csms.advance(1)
    assert results == [DataTransferResult(None, None, CallFailure("timeout"))]
    assert csms.now == sent_at + 30


def test_message_timeout_key_sets_the_default_timeout() -> None:
    cp, csms = booted()
    assert cp.change_configuration("MessageTimeout", "5") == "Accepted"
    csms.handlers["DataTransfer"] = lambda payload: SILENT
    results: list[DataTransferResult] = []
    cp.send_data_transfer("v", callback=results.append, now=csms.now)
    csms.pump()
    csms.advance(4)
    assert results == []
    csms.advance(1)
    assert [r.failure.kind for r in results] == ["timeout"]


def test_after_a_timeout_the_next_request_goes_out() -> None:
    cp, csms = booted()
    csms.handlers["DataTransfer"] = lambda payload: (
        SILENT if payload["data"] == "0" else {"status": "Accepted"}
    )
    results: list[DataTransferResult] = []
    for n in range(2):
        cp.send_data_transfer("v", data=str(n), callback=results.append, now=csms.now)
    csms.advance(31)
    assert [r.failure.kind if r.failure else r.status for r in results] == ["timeout", "Accepted"]


def test_replies_leave_in_the_order_the_calls_arrived_and_before_new_calls() -> None:
    cp, csms = booted()
    csms.send("TriggerMessage", {"requestedMessage": "Heartbeat"}, message_id="a")
    csms.send("GetConfiguration", {"key": ["NumberOfConnectors"]}, message_id="b")
    csms.send("FooBar", {}, message_id="c")
    frames = [json.loads(frame) for frame in cp.poll(csms.now)]
    assert [frame[:2] for frame in frames] == [[3, "a"], [3, "b"], [4, "c"], [2, frames[3][1]]]
    assert frames[3][2] == "Heartbeat"


def test_invalid_response_payload_fails_the_request() -> None:
    cp, csms = booted()
    csms.handlers["DataTransfer"] = lambda payload: {"status": "Maybe"}
    results: list[DataTransferResult] = []
    cp.send_data_transfer("v", callback=results.append, now=csms.now)
    csms.pump()
    [result] = results
    assert result.status is None
    assert result.failure.kind == "invalid"
    assert "/status" in result.failure.description


def test_callerror_response_fails_the_request_with_its_code() -> None:
    cp, csms = booted()
    csms.handlers["DataTransfer"] = lambda payload: Error("NotSupported", "no vendor data")
    results: list[DataTransferResult] = []
    cp.send_data_transfer("v", callback=results.append, now=csms.now)
    csms.pump()
    assert results == [
        DataTransferResult(None, None, CallFailure("error", "NotSupported", "no vendor data"))
    ]


@pytest.mark.parametrize(
    "answer", ['[3,"{id}"]', '[3,"{id}",[]]', '[4,"{id}",1,"",{{}}]', '[3,"{id}",{{}}'], ids=str
)
def test_malformed_response_with_the_outstanding_id_fails_the_request(answer: str) -> None:
    cp, csms = booted()
    results: list[DataTransferResult] = []
    cp.send_data_transfer("v", callback=results.append, now=csms.now)
    [frame] = cp.poll(csms.now)
    cp.receive(answer.format(id=json.loads(frame)[1]), csms.now)
    assert [r.failure.kind for r in results] == ["invalid"]


def test_callback_that_raises_does_not_break_the_engine() -> None:
    cp, csms = booted()

    def explode(result: DataTransferResult) -> None:
        raise RuntimeError("app bug")

    cp.send_data_transfer("v", callback=explode, now=csms.now)
    csms.pump()
    assert csms.result("GetConfiguration", {"key": ["NumberOfConnectors"]})


def test_disconnect_re_sends_the_outstanding_call_with_the_same_id() -> None:
    cp, csms = booted()
    results: list[DataTransferResult] = []
    cp.send_data_transfer("v", data="x", callback=results.append, now=csms.now)
    [first] = cp.poll(csms.now)
    csms.disconnect()
    assert cp.poll(csms.now) == []
    csms.advance(60)
    cp.connected(csms.now)
    [again] = cp.poll(csms.now)
    assert again == first
    cp.receive(json.dumps([3, json.loads(again)[1], {"status": "Accepted"}]), csms.now)
    assert results == [DataTransferResult("Accepted")]


def test_disconnect_drops_replies_to_the_old_connection() -> None:
    cp, csms = booted()
    csms.send("GetConfiguration", {})
    csms.disconnect()
    cp.connected(csms.now)
    assert cp.poll(csms.now) == []


def test_frames_received_while_disconnected_are_ignored() -> None:
    cp, csms = booted()
    csms.disconnect()
    cp.receive('[2,"x","GetConfiguration",{}]', csms.now)
    cp.connected(csms.now)
    assert cp.poll(csms.now) == []


def test_nothing_is_sent_while_disconnected() -> None:
    cp, csms = booted()
    csms.disconnect()
    cp.send_data_transfer("v", now=csms.now)
    assert csms.advance(86400 * 2, step=3600) == []
    csms.connect()
    assert csms.actions() == ["DataTransfer"]  # which also counts as a sign of life


def test_message_ids_come_from_the_injected_factory() -> None:
    ids = iter(f"id-{n}" for n in range(100))
    _cp, csms = station(message_ids=lambda: next(ids))
    csms.connect()
    assert [call[0] for call in csms.calls[:2]] == ["id-0", "id-1"]


def test_default_message_ids_are_unique_uuids() -> None:
    ids = {rpc.new_message_id() for _ in range(1000)}
    assert len(ids) == 1000
    for message_id in ids:
        assert len(message_id) == 36
        assert message_id[14] == "4"
        assert message_id[19] in "89ab"


def test_frames_are_compact_json_with_unicode_kept() -> None:
    assert rpc.call_text("1", "DataTransfer", {"vendorId": "é", "data": "€"}) == (
        '[2,"1","DataTransfer",{"vendorId":"é","data":"€"}]'
    )
    assert rpc.result_text("1", {}) == '[3,"1",{}]'
    assert rpc.error_text("1", "GenericError") == '[4,"1","GenericError","",{}]'


def test_lone_surrogates_are_written_as_json_escapes() -> None:
    text = rpc.result_text("\ud800", {"data": "é\udfff"})
    assert text == '[3,"\\ud800",{"data":"\\u00e9\\udfff"}]'
    assert json.loads(text) == [3, "\ud800", {"data": "é\udfff"}]


def test_parse_classifies_frames() -> None:
    call = rpc.parse('[2,"a","Reset",{"type":"Soft"}]')
    assert isinstance(call, rpc.Call)
    assert (call.message_id, call.action, call.payload) == ("a", "Reset", {"type": "Soft"})
    result = rpc.parse('[3,"a",null]')
    assert isinstance(result, rpc.CallResult)
    assert result.payload == {}
    error = rpc.parse('[4,"a","NotSupported","why",{"x":1}]')
    assert isinstance(error, rpc.CallError)
    assert (error.code, error.description, error.details) == ("NotSupported", "why", {"x": 1})
    broken = rpc.parse('[2, "b", "Reset", {')
    assert isinstance(broken, rpc.Malformed)
    assert (broken.message_type, broken.message_id) == (2, "b")
    assert isinstance(rpc.parse(b'[2,"a","Reset",{}]'), rpc.Malformed)  # type: ignore[arg-type]


def test_frame_log_reports_both_directions_with_actions() -> None:
    cp, csms = station()
    events: list[object] = []
    cp.subscribe(events.append)
    csms.connect()
    logged = [(e.direction, e.action) for e in events if isinstance(e, FrameLogged)]
    assert logged[:4] == [
        ("out", "BootNotification"),
        ("in", "BootNotification"),
        ("out", "StatusNotification"),
        ("in", "StatusNotification"),
    ]


def test_unsubscribe_stops_events() -> None:
    cp, csms = station()
    events: list[object] = []
    unsubscribe = cp.subscribe(events.append)
    unsubscribe()
    csms.connect()
    assert events == []


def test_raising_subscriber_is_skipped() -> None:
    cp, csms = station()

    def explode(event: object) -> None:
        raise RuntimeError("ui bug")

    cp.subscribe(explode)
    csms.connect()
    assert cp.registration == "Accepted"


def test_raw_reply_helper_feeds_hostile_responses() -> None:
    cp, csms = station()
    csms.handlers["BootNotification"] = lambda payload: Raw("not json")
    csms.connect()
    assert cp.registration is None


def test_nesting_limit_is_checked_before_decoding() -> None:
    cp, csms = booted()
    frame = '[2,"{id}","DataTransfer",{{"vendorId":"v","data":{nested}}}]'
    within = "[" * (rpc.MAX_NESTING - 2) + "]" * (rpc.MAX_NESTING - 2)
    beyond = "[" * (rpc.MAX_NESTING - 1) + "]" * (rpc.MAX_NESTING - 1)
    cp.receive(frame.format(id="within", nested=within), csms.now)
    cp.receive(frame.format(id="beyond", nested=beyond), csms.now)
    replies = [json.loads(text) for text in cp.poll(csms.now)]
    assert [reply[:3] for reply in replies] == [
        [4, "within", "TypeConstraintViolation"],
        [4, "beyond", "FormationViolation"],
    ]
    assert replies[1][3] == "Message is nested too deeply"


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    _cp, csms = booted()
    data = '[{"\\"[' * 100
    assert csms.result("DataTransfer", {"vendorId": "v", "data": data}) == {
        "status": "UnknownVendorId"
    }
