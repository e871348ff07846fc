"""The independent frame checker and the suite-wide guard that conftest.py installs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest
from ocpp_schema_check import (
    ERROR_CODES,
    FrameChecker,
    FrameGuard,
    engine_class,
    known_actions,
    schema_validator,
)

HERE = Path(__file__).resolve().parent
TS = "2024-03-10T12:34:56.789Z"


def call(message_id: str, action: str, payload: Any) -> str:
    return json.dumps([2, message_id, action, payload])


def result(message_id: str, payload: Any) -> str:
    return json.dumps([3, message_id, payload])


def error(message_id: str, code: str, description: Any = "", details: Any = None) -> str:
    return json.dumps([4, message_id, code, description, {} if details is None else details])


BOOT = {
    "1.6": {"chargePointVendor": "Sim", "chargePointModel": "One"},
    "2.0.1": {"reason": "PowerUp", "chargingStation": {"model": "One", "vendorName": "Sim"}},
}
STATUS = {
    "1.6": (
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": TS},
    ),
    "2.0.1": (
        "StatusNotification",
        {"timestamp": TS, "connectorStatus": "Available", "evseId": 1, "connectorId": 1},
    ),
}
# A CSMS read request and a valid answer to it, per version.
READ = {
    "1.6": (
        "GetConfiguration",
        {"key": ["HeartbeatInterval"]},
        {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]},
    ),
    "2.0.1": (
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            ]
        },
        {
            "getVariableResult": [
                {
                    "attributeStatus": "Accepted",
                    "attributeValue": "300",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        },
    ),
}
VERSIONS = ["1.6", "2.0.1"]


def rejects(checker: FrameChecker, frame: str, why: str) -> str:
    with pytest.raises(AssertionError, match=why) as info:
        checker.outgoing(frame)
    return str(info.value)


# --- schemas ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_every_shipped_schema_compiles(version: str) -> None:
    actions = known_actions(version)
    assert {"BootNotification", "Heartbeat", "StatusNotification", "Authorize"} <= actions
    for action in actions:
        schema_validator(version, action, False)
        schema_validator(version, action, True)


def test_action_names_strip_file_suffixes() -> None:
    assert "GetConfiguration" in known_actions("1.6")
    assert "TransactionEvent" in known_actions("2.0.1")
    assert not any(a.endswith(("Request", "Response")) for a in known_actions("2.0.1"))
    assert "TransactionEvent" not in known_actions("1.6")


def test_unknown_version_rejected() -> None:
    with pytest.raises(ValueError, match="unknown OCPP version"):
        FrameChecker("1.5")


# --- accepted frames ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_accepts_valid_frames(version: str) -> None:
    checker = FrameChecker(version)
    checker.outgoing(call("b1", "BootNotification", BOOT[version]))
    checker.outgoing(call("s1", *STATUS[version]))
    action, request, response = READ[version]
    checker.incoming(call("csms-1", action, request))
    checker.outgoing(result("csms-1", response))
    checker.incoming(call("csms-2", "Reset", {"type": "Hard"}))
    checker.outgoing(error("csms-2", "NotSupported", "no reset", {"why": "demo"}))
    checker.outgoing(error("not-a-known-id", "GenericError"))  # e.g. answers an unparsable frame
    assert checker.checked == 5
    assert checker.received_calls == {}


def test_accepts_long_frame_with_36_char_id() -> None:
    checker = FrameChecker("2.0.1")
    checker.outgoing(call("x" * 36, "Heartbeat", {}))


def test_accepts_offsets_and_lowercase_in_date_time() -> None:
    checker = FrameChecker("1.6")
    for stamp in ["2024-03-10T12:34:56Z", "2024-03-10t12:34:56.1+05:30", "2016-12-31T23:59:60z"]:
        payload = dict(STATUS["1.6"][1], timestamp=stamp)
        checker.outgoing(call("s", "StatusNotification", payload))


@pytest.mark.parametrize("version", VERSIONS)
def test_incoming_never_raises_and_tracks_sent_calls(version: str) -> None:
    checker = FrameChecker(version)
    for garbage in ["", "{", "[]", "[2]", '[2, 5, "X", {}]', '"text"', "[9, 1]", "NaN"]:
        checker.incoming(garbage)
    checker.incoming(None)  # type: ignore[arg-type]
    assert checker.received_calls == {}
    checker.outgoing(call("m1", "Heartbeat", {}))
    assert checker.sent_calls == {"m1": "Heartbeat"}
    checker.incoming(result("m1", {"currentTime": TS}))
    assert checker.sent_calls == {}


# --- rejected frames ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        ("[2, 'a', 'Heartbeat', {}]", "not valid JSON"),
        ('[2, "a", "Heartbeat", {}', "not valid JSON"),
        ('[2, "a", "Heartbeat", {"x": NaN}]', "not valid JSON"),
        ('{"frame": 2}', "not a non-empty JSON array"),
        ("[]", "not a non-empty JSON array"),
        ('[5, "a", "Heartbeat", {}]', "message type 5"),
        ('["2", "a", "Heartbeat", {}]', "message type '2'"),
        ('[true, "a", {}]', "message type True"),
        ('[2, "a", "Heartbeat"]', "needs 4 elements, has 3"),
        ('[2, "a", "Heartbeat", {}, {}]', "needs 4 elements, has 5"),
        ('[3, "a"]', "needs 3 elements, has 2"),
        ('[4, "a", "GenericError", ""]', "needs 5 elements, has 4"),
        ('[2, 17, "Heartbeat", {}]', "message id 17 is not a string"),
        ('[2, "", "Heartbeat", {}]', "message id must be 1-36"),
        (call("x" * 37, "Heartbeat", {}), "message id must be 1-36"),
        (call("a", "Teleport", {}), "unknown OCPP .* action 'Teleport'"),
        ('[2, "a", 7, {}]', "unknown OCPP .* action 7"),
        (call("a", "Heartbeat", []), "is not of type 'object'"),
        (call("a", "Heartbeat", {"extra": 1}), "Additional properties"),
    ],
)
@pytest.mark.parametrize("version", VERSIONS)
def test_rejects_malformed_frames(version: str, frame: str, why: str) -> None:
    rejects(FrameChecker(version), frame, why)


def test_rejects_non_text_frame() -> None:
    rejects(FrameChecker("1.6"), b"[2]", "not a text frame")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("version", "payload", "why"),
    [
        ("1.6", {"chargePointVendor": "Sim"}, "'chargePointModel' is a required property"),
        ("1.6", {"chargePointVendor": "S" * 21, "chargePointModel": "M"}, "is too long"),
        ("2.0.1", {"reason": "PowerUp"}, "'chargingStation' is a required property"),
        (
            "2.0.1",
            {"reason": "Bored", "chargingStation": BOOT["2.0.1"]["chargingStation"]},
            "Bored",
        ),
        ("2.0.1", {"reason": "PowerUp", "chargingStation": {"model": "M"}}, "vendorName"),
    ],
)
def test_rejects_invalid_boot_payloads(version: str, payload: Any, why: str) -> None:
    rejects(FrameChecker(version), call("b", "BootNotification", payload), why)


@pytest.mark.parametrize("version", VERSIONS)
def test_rejects_bad_enum(version: str) -> None:
    action, payload = STATUS[version]
    field = "status" if version == "1.6" else "connectorStatus"
    bad = dict(payload, **{field: "Sleeping"})
    message = rejects(FrameChecker(version), call("s", action, bad), "'Sleeping' is not one of")
    assert f"$.{field}" in message


@pytest.mark.parametrize(
    "stamp",
    [
        "2024-03-10 12:34:56Z",  # RFC 3339 wants 'T'
        "2024-03-10T12:34:56",  # no offset
        "2024-02-30T12:34:56Z",
        "2024-03-10T25:00:00Z",
        "2024-03-10T12:34:56+01",
        "2024-03-10",
        "yesterday",
        "",
    ],
)
@pytest.mark.parametrize("version", VERSIONS)
def test_rejects_bad_date_time(version: str, stamp: str) -> None:
    action, payload = STATUS[version]
    bad = dict(payload, timestamp=stamp)
    rejects(FrameChecker(version), call("s", action, bad), "is not a 'date-time'")


@pytest.mark.parametrize("version", VERSIONS)
def test_rejects_callresult_to_unknown_id(version: str) -> None:
    checker = FrameChecker(version)
    _, _, response = READ[version]
    rejects(checker, result("never-received", response), "answers no pending received CALL")


@pytest.mark.parametrize("version", VERSIONS)
def test_rejects_second_answer_to_same_call(version: str) -> None:
    checker = FrameChecker(version)
    action, request, response = READ[version]
    checker.incoming(call("c1", action, request))
    checker.outgoing(result("c1", response))
    rejects(checker, result("c1", response), "answers no pending received CALL")


@pytest.mark.parametrize("version", VERSIONS)
def test_rejects_callresult_not_matching_response_schema(version: str) -> None:
    checker = FrameChecker(version)
    action, request, _ = READ[version]
    checker.incoming(call("c1", action, request))
    rejects(checker, result("c1", {"status": "Accepted"}), "Response.json")


def test_rejects_callresult_to_unknown_action() -> None:
    checker = FrameChecker("1.6")
    checker.incoming(call("c1", "Teleport", {}))
    rejects(checker, result("c1", {}), "needs a CALLERROR")


def test_callresult_validated_against_the_answered_action() -> None:
    """A Heartbeat-shaped answer to a GetConfiguration CALL is wrong, though valid JSON."""
    checker = FrameChecker("1.6")
    checker.incoming(call("c1", "GetConfiguration", {}))
    rejects(checker, result("c1", {"currentTime": TS}), "GetConfigurationResponse.json")


def composite_answer(limit: str) -> str:
    """A GetCompositeSchedule.conf with one period, its limit written as given."""
    schedule = '{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":%s}]}'
    return '[3,"c1",{"status":"Accepted","connectorId":1,"chargingSchedule":%s}]' % (
        schedule % limit
    )


@pytest.mark.parametrize(
    ("limit", "why"),
    [
        ("17.7", "limit: 17.7 is not a multiple of 0.1"),  # 17.7 / 0.1 = 176.99999999999997
        ("0.7000000000000001", "(numbers read as decimals)"),  # a float multiple, not a decimal
        ("17.65", "is not a multiple of 0.1"),
    ],
)
def test_multiple_of_is_checked_as_floats_and_as_decimals(limit: str, why: str) -> None:
    # Issue 18 item 8: CSMSs validate numbers as floats (jsonschema, ajv) or as decimals.
    checker = FrameChecker("1.6")
    checker.incoming(call("c1", "GetCompositeSchedule", {"connectorId": 1, "duration": 60}))
    rejects(checker, composite_answer(limit), why)


@pytest.mark.parametrize("limit", ["17.6", "16", "16.0", "0.2", "22080"])
def test_multiple_of_accepts_numbers_both_readings_accept(limit: str) -> None:
    checker = FrameChecker("1.6")
    checker.incoming(call("c1", "GetCompositeSchedule", {"connectorId": 1, "duration": 60}))
    checker.outgoing(composite_answer(limit))


@pytest.mark.parametrize(
    ("version", "code"),
    [
        ("1.6", "FormatViolation"),
        ("1.6", "OccurrenceConstraintViolation"),
        ("1.6", "RpcFrameworkError"),
        ("1.6", "MessageTypeNotSupported"),
        ("2.0.1", "FormationViolation"),
        ("2.0.1", "OccurenceConstraintViolation"),
        ("2.0.1", "Oops"),
        ("1.6", ""),
    ],
)
def test_rejects_error_code_of_other_version(version: str, code: str) -> None:
    checker = FrameChecker(version)
    checker.incoming(call("c1", "Reset", {"type": "Hard"}))
    rejects(checker, error("c1", code), "is not an OCPP-J")


@pytest.mark.parametrize("version", VERSIONS)
def test_every_listed_error_code_accepted(version: str) -> None:
    checker = FrameChecker(version)
    for code in ERROR_CODES[version]:
        checker.outgoing(error("c", code))


@pytest.mark.parametrize(
    ("description", "details", "why"),
    [(None, {}, "description None"), ("", [], "details \\[\\]"), ("", "x", "details 'x'")],
)
def test_rejects_bad_error_description_or_details(description: Any, details: Any, why: str) -> None:
    frame = json.dumps([4, "c", "GenericError", description, details])
    rejects(FrameChecker("2.0.1"), frame, why)


def test_failure_message_truncates_frame_and_names_the_schema_error() -> None:
    payload = {"chargePointVendor": "v" * 1000}
    message = rejects(FrameChecker("1.6"), call("b", "BootNotification", payload), "required")
    assert "truncated" in message
    assert len(message) < 800
    assert "BootNotification.json" in message
    assert message.startswith("invalid OCPP 1.6 frame sent")


# --- the guard (what conftest installs around ChargePoint) ----------------------------------------


class FakeChargePoint:
    """Stands in for ocpp_core.chargepoint.ChargePoint: answers GetConfiguration as told to."""

    def __init__(self, version: str = "1.6") -> None:
        self.version = version
        self.outbox: list[str] = []
        self.answer: dict[str, Any] = {"configurationKey": []}

    def receive(self, text: str, now: float) -> None:
        frame = json.loads(text)
        if frame[0] == 2:
            self.outbox.append(result(frame[1], self.answer))

    def poll(self, now: float) -> list[str]:
        frames, self.outbox = self.outbox, []
        return frames


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> FrameGuard:
    installed = FrameGuard()
    installed.install(monkeypatch, FakeChargePoint)
    return installed


def test_guard_passes_valid_traffic(guard: FrameGuard) -> None:
    engine = FakeChargePoint()
    engine.outbox.append(call("b1", "BootNotification", BOOT["1.6"]))
    assert len(engine.poll(0.0)) == 1
    engine.receive(call("c1", "GetConfiguration", {}), 1.0)
    assert engine.poll(1.0) == [result("c1", {"configurationKey": []})]
    assert guard.failures == []
    assert guard.report() is None


def test_guard_raises_out_of_poll_and_records(guard: FrameGuard) -> None:
    engine = FakeChargePoint()
    engine.answer = {"configurationKey": "not-a-list"}
    engine.receive(call("c1", "GetConfiguration", {}), 0.0)
    with pytest.raises(AssertionError, match="is not of type 'array'"):
        engine.poll(0.0)
    assert len(guard.failures) == 1
    report = guard.report()
    assert report is not None
    assert report.startswith("1 invalid frame(s) sent")


def test_guard_only_knows_calls_the_engine_received(guard: FrameGuard) -> None:
    engine = FakeChargePoint()
    engine.outbox.append(result("c1", {"configurationKey": []}))
    with pytest.raises(AssertionError, match="answers no pending received CALL"):
        engine.poll(0.0)


def test_guard_keeps_one_checker_per_instance(guard: FrameGuard) -> None:
    old, new = FakeChargePoint("1.6"), FakeChargePoint("2.0.1")
    old.receive(call("c1", "GetConfiguration", {}), 0.0)
    old.outbox.clear()
    assert guard.checker_for(old).version == "1.6"
    assert guard.checker_for(new).version == "2.0.1"
    new.outbox.append(result("c1", {"configurationKey": []}))  # answers a CALL only `old` got
    with pytest.raises(AssertionError, match="no pending received CALL"):
        new.poll(0.0)
    new.outbox.append(call("h", "Heartbeat", {}))
    new.poll(0.0)
    assert guard.checker_for(new).checked == 1


def test_guard_accepts_enum_versions(guard: FrameGuard) -> None:
    engine = FakeChargePoint()
    engine.version = types.SimpleNamespace(value="2.0.1")  # type: ignore[assignment]
    assert guard.checker_for(engine).version == "2.0.1"


def test_guard_fails_on_unknown_version(guard: FrameGuard) -> None:
    engine = FakeChargePoint()
    del engine.version
    with pytest.raises(AssertionError, match="cannot check frames of FakeChargePoint"):
        engine.poll(0.0)
    assert guard.failures


def test_guard_requires_a_list_from_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    class Lazy(FakeChargePoint):
        def poll(self, now: float) -> Any:  # type: ignore[override]
            return iter(())

    guard = FrameGuard()
    guard.install(monkeypatch, Lazy)
    with pytest.raises(AssertionError, match="must return a list"):
        Lazy().poll(0.0)


def test_guard_is_undone_with_monkeypatch() -> None:
    original_poll, original_receive = FakeChargePoint.poll, FakeChargePoint.receive
    patch = pytest.MonkeyPatch()
    FrameGuard().install(patch, FakeChargePoint)
    assert FakeChargePoint.poll is not original_poll
    assert FakeChargePoint.poll.__name__ == "poll"
    patch.undo()
    assert FakeChargePoint.poll is original_poll
    assert FakeChargePoint.receive is original_receive


def test_engine_class_absent_or_broken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ocpp_core.chargepoint", None)  # import raises ImportError
    assert engine_class() is None
    monkeypatch.setitem(sys.modules, "ocpp_core.chargepoint", types.ModuleType("empty"))
    assert engine_class() is None
    module = types.ModuleType("fake")
    module.ChargePoint = FakeChargePoint  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ocpp_core.chargepoint", module)
    assert engine_class() is FakeChargePoint


# --- conftest end to end, in a separate pytest run with a fake engine module ---------------------

INNER_TESTS = """
import json
import sys
import types

import pytest


class ChargePoint:
    def __init__(self, version="1.6"):
        self.version = version
        self.outbox = []

    def receive(self, text, now):
        frame = json.loads(text)
        self.outbox.append(json.dumps([3, frame[1], {"configurationKey": []}]))

    def poll(self, now):
        frames, self.outbox = self.outbox, []
        return frames


module = types.ModuleType("ocpp_core.chargepoint")
module.ChargePoint = ChargePoint
sys.modules["ocpp_core.chargepoint"] = module

BAD = json.dumps([2, "1", "BootNotification", {"chargePointVendor": "only"}])


def test_valid():
    cp = ChargePoint()
    cp.receive(json.dumps([2, "c1", "GetConfiguration", {}]), 0.0)
    assert len(cp.poll(0.0)) == 1


def test_raises():
    cp = ChargePoint()
    cp.outbox.append(BAD)
    cp.poll(0.0)


def test_swallowed():
    cp = ChargePoint()
    cp.outbox.append(BAD)
    try:
        cp.poll(0.0)
    except AssertionError:
        pass


def test_unanswerable():
    cp = ChargePoint()
    cp.outbox.append(json.dumps([3, "zz", {}]))
    with pytest.raises(Exception):
        cp.poll(0.0)


@pytest.mark.allow_invalid_frames
def test_allowed():
    cp = ChargePoint()
    cp.outbox.append(BAD)
    assert cp.poll(0.0) == [BAD]
"""


def test_conftest_guard_end_to_end(tmp_path: Path) -> None:
    for name in ("conftest.py", "count_report.py", "ocpp_schema_check.py"):
        shutil.copy(HERE / name, tmp_path / name)
    (tmp_path / "pytest.ini").write_text("[pytest]\n", "utf-8")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS), "utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-rA", "-p", "no:cacheprovider", "test_inner.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    found: dict[str, list[str]] = {}
    for outcome, test in re.findall(
        r"^(PASSED|FAILED|ERROR) test_inner\.py::(\w+)", run.stdout, re.M
    ):
        found.setdefault(test, []).append(outcome)
    assert found == {
        "test_valid": ["PASSED"],
        "test_raises": ["FAILED"],  # once: no second error at teardown
        "test_swallowed": ["PASSED", "ERROR"],  # the call passed, the guard's teardown failed it
        "test_unanswerable": ["PASSED", "ERROR"],
        "test_allowed": ["PASSED"],
    }, run.stdout + run.stderr
    assert "'chargePointModel' is a required property" in run.stdout
