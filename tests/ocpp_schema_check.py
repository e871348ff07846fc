"""An independent check of OCPP-J frames for the test suite.

It shares nothing with ``ocpp_core``: the schemas come from the mobilityhouse ``ocpp`` package and
are checked with ``jsonschema``, so a bug in the engine's own framing or validation cannot hide
itself. ``conftest.py`` installs a FrameGuard in every test, which feeds a FrameChecker every frame
any ChargePoint emits or receives.

Numbers under a ``multipleOf`` are checked both ways a CSMS may read them: as binary floats, as
jsonschema and ajv do by default (there 17.7 is not a multiple of 0.1, since 17.7 / 0.1 is
176.99999999999997), and as decimals, as the ``ocpp`` package does for such actions.
"""

from __future__ import annotations

import functools
import importlib
import importlib.resources
import json
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from importlib.resources.abc import Traversable
from typing import Any, NoReturn

import pytest
from jsonschema import FormatChecker, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

__all__ = [
    "ERROR_CODES",
    "FrameChecker",
    "FrameGuard",
    "engine_class",
    "known_actions",
    "schema_validator",
]

CALL, CALLRESULT, CALLERROR = 2, 3, 4
_ARITY = {CALL: 4, CALLRESULT: 3, CALLERROR: 5}
_MAX_ID = 36
_SHOWN = 300

_SCHEMA_DIRS = {"1.6": "v16", "2.0.1": "v201"}

ERROR_CODES: dict[str, frozenset[str]] = {
    "1.6": frozenset(
        {
            "NotImplemented",
            "NotSupported",
            "InternalError",
            "ProtocolError",
            "SecurityError",
            "FormationViolation",
            "PropertyConstraintViolation",
            "OccurenceConstraintViolation",
            "TypeConstraintViolation",
            "GenericError",
        }
    ),
    "2.0.1": frozenset(
        {
            "FormatViolation",
            "GenericError",
            "InternalError",
            "MessageTypeNotSupported",
            "NotImplemented",
            "NotSupported",
            "OccurrenceConstraintViolation",
            "PropertyConstraintViolation",
            "ProtocolError",
            "RpcFrameworkError",
            "SecurityError",
            "TypeConstraintViolation",
        }
    ),
}

# RFC 3339 §5.6 date-time, strictly: 'T' separator and an offset are required. Written here rather
# than taken from ocpp_core.clock so the check stays independent of the code under test (and
# because jsonschema checks "date-time" only when the optional rfc3339-validator is installed).
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-]([0-9]{2}):([0-9]{2}))",
    re.ASCII,
)

_FORMATS = FormatChecker()


@_FORMATS.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    """Return whether a string is an RFC 3339 date-time; non-strings are the schema type's job."""
    if not isinstance(value, str):
        return True
    match = _RFC3339.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    datetime(year, month, day)  # raises ValueError on e.g. February 30
    if hour > 23 or minute > 59 or second > 60:
        return False
    if match.group(9) is not None:
        return int(match.group(9)) <= 23 and int(match.group(10)) <= 59
    return True


def _schema_dir(version: str) -> Traversable:
    if version not in _SCHEMA_DIRS:
        raise ValueError(f"unknown OCPP version {version!r}; expected one of {list(_SCHEMA_DIRS)}")
    return importlib.resources.files("ocpp") / _SCHEMA_DIRS[version] / "schemas"


def _schema_file(version: str, action: str, response: bool) -> str:
    """The file name of a schema: 1.6 names requests ``X.json``, 2.0.1 ``XRequest.json``."""
    if response:
        return f"{action}Response.json"
    return f"{action}.json" if version == "1.6" else f"{action}Request.json"


@functools.cache
def known_actions(version: str) -> frozenset[str]:
    """The actions that have a request schema in this version."""
    actions = set()
    for entry in _schema_dir(version).iterdir():
        stem = entry.name.removesuffix(".json")
        if stem == entry.name or stem.endswith("Response"):
            continue
        actions.add(stem if version == "1.6" else stem.removesuffix("Request"))
    return frozenset(actions)


@functools.cache
def schema_validator(
    version: str, action: str, response: bool, *, decimal: bool = False
) -> Validator:
    """A compiled validator for one schema, cached for the whole test session; ``decimal``:
    the schema's numbers read as Decimal, for instances read that way too."""
    if action not in known_actions(version):
        raise KeyError(f"unknown OCPP {version} action {action!r}")
    schema = json.loads(_schema_text(version, action, response))
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    if decimal:
        schema = json.loads(_schema_text(version, action, response), parse_float=Decimal)
    return cls(schema, format_checker=_FORMATS)


@functools.cache
def _schema_text(version: str, action: str, response: bool) -> str:
    path = _schema_dir(version) / _schema_file(version, action, response)
    return path.read_text("utf-8-sig")


def _has_multiple_of(version: str, action: str, response: bool) -> bool:
    return '"multipleOf"' in _schema_text(version, action, response)


class FrameChecker:
    """Validates the frames one charge point sends, knowing the CALLs it has received.

    ``incoming`` only records (tests feed the engine deliberately broken frames); ``outgoing``
    raises AssertionError on anything a conforming OCPP-J charge point must not send.
    """

    def __init__(self, version: str) -> None:
        _schema_dir(version)  # fail fast on an unknown version
        self.version = version
        self.received_calls: dict[str, str] = {}  # CSMS CALL id -> action, awaiting our answer
        self.sent_calls: dict[str, str] = {}  # our CALL id -> action, awaiting the CSMS answer
        self.checked = 0

    def incoming(self, text: str) -> None:
        """Record a frame the charge point received; never raises."""
        try:
            frame = json.loads(text)
        except (TypeError, ValueError, RecursionError):
            return
        if not isinstance(frame, list) or len(frame) < 2 or not isinstance(frame[1], str):
            return
        if frame[0] == CALL and len(frame) >= 3 and isinstance(frame[2], str):
            self.received_calls[frame[1]] = frame[2]
        elif frame[0] in (CALLRESULT, CALLERROR):
            self.sent_calls.pop(frame[1], None)

    def outgoing(self, text: str) -> None:
        """Validate a frame the charge point sends; AssertionError says what is wrong."""
        frame = self._parse(text)
        kind = frame[0]
        if kind == CALL:
            self._check_call(text, frame)
        elif kind == CALLRESULT:
            self._check_result(text, frame)
        else:
            self._check_error(text, frame)
        self.checked += 1

    def _parse(self, text: str) -> list[Any]:
        if not isinstance(text, str):
            self._fail(repr(text), f"frame is a {type(text).__name__}, not a text frame")
        try:
            frame = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            self._fail(text, f"not valid JSON: {exc}")
        if not isinstance(frame, list) or not frame:
            self._fail(text, "not a non-empty JSON array")
        kind = frame[0]
        if type(kind) is not int or kind not in _ARITY:
            self._fail(text, f"message type {kind!r} is not 2, 3 or 4")
        if len(frame) != _ARITY[kind]:
            self._fail(text, f"message type {kind} needs {_ARITY[kind]} elements, has {len(frame)}")
        if not isinstance(frame[1], str):
            self._fail(text, f"message id {frame[1]!r} is not a string")
        return frame

    def _check_call(self, text: str, frame: list[Any]) -> None:
        _, message_id, action, payload = frame
        if not message_id or len(message_id) > _MAX_ID:
            self._fail(text, f"message id must be 1-{_MAX_ID} characters, is {len(message_id)}")
        if not isinstance(action, str) or action not in known_actions(self.version):
            self._fail(text, f"unknown OCPP {self.version} action {action!r}")
        self._validate(text, action, payload, response=False)
        self.sent_calls[message_id] = action

    def _check_result(self, text: str, frame: list[Any]) -> None:
        _, message_id, payload = frame
        action = self.received_calls.pop(message_id, None)
        if action is None:
            self._fail(text, f"CALLRESULT id {message_id!r} answers no pending received CALL")
        if action not in known_actions(self.version):
            self._fail(text, f"CALLRESULT answers unknown action {action!r}: needs a CALLERROR")
        self._validate(text, action, payload, response=True)

    def _check_error(self, text: str, frame: list[Any]) -> None:
        # The id need not match a recorded CALL: a CALLERROR may answer a frame too broken to count.
        _, message_id, code, description, details = frame
        self.received_calls.pop(message_id, None)
        if code not in ERROR_CODES[self.version]:
            self._fail(text, f"error code {code!r} is not an OCPP-J {self.version} error code")
        if not isinstance(description, str):
            self._fail(text, f"error description {description!r} is not a string")
        if not isinstance(details, dict):
            self._fail(text, f"error details {details!r} is not a JSON object")

    def _validate(self, text: str, action: str, payload: Any, *, response: bool) -> None:
        checks = [(schema_validator(self.version, action, response), payload, "")]
        if _has_multiple_of(self.version, action, response):
            exact = json.loads(text, parse_float=Decimal)[-1]
            decimal = schema_validator(self.version, action, response, decimal=True)
            checks.append((decimal, exact, " (numbers read as decimals)"))
        for validator, instance, how in checks:
            error = best_match(validator.iter_errors(instance))
            if error is not None:
                schema = _schema_file(self.version, action, response)
                self._fail(text, f"{schema} at {error.json_path}{how}: {error.message}")

    def _fail(self, text: str, reason: str) -> NoReturn:
        shown = text if len(text) <= _SHOWN else text[:_SHOWN] + "...(truncated)"
        raise AssertionError(f"invalid OCPP {self.version} frame sent: {reason}\n  frame: {shown}")


def _reject_constant(token: str) -> Any:
    """NaN and Infinity are not JSON, though Python's json module reads them."""
    raise ValueError(f"{token} is not valid JSON")


def engine_class() -> type | None:
    """The engine's ChargePoint class, or None while it does not exist or does not import."""
    try:
        module = importlib.import_module("ocpp_core.chargepoint")
    except Exception:
        # A missing or half-written engine must not break unrelated tests; its own tests will fail.
        return None
    cls = getattr(module, "ChargePoint", None)
    return cls if isinstance(cls, type) else None


class FrameGuard:
    """Wraps an engine class so every frame out of ``poll`` and into ``receive`` is checked.

    One FrameChecker per engine instance, created on first use from the instance's ``version``.
    Failures are raised out of ``poll`` and also kept in ``failures``, so a test that swallows the
    AssertionError still fails at teardown.
    """

    def __init__(self) -> None:
        self.failures: list[str] = []
        # Keyed by id(); the engine is kept alive beside its checker so an id is never reused.
        self._checkers: dict[int, tuple[object, FrameChecker]] = {}

    def install(self, monkeypatch: pytest.MonkeyPatch, cls: type) -> None:
        """Patch ``cls.poll`` and ``cls.receive`` for the duration of one test."""
        original_poll = getattr(cls, "poll", None)
        original_receive = getattr(cls, "receive", None)
        if callable(original_poll):
            monkeypatch.setattr(cls, "poll", self._wrap_poll(original_poll))
        if callable(original_receive):
            monkeypatch.setattr(cls, "receive", self._wrap_receive(original_receive))

    def checker_for(self, engine: object) -> FrameChecker:
        """The checker of one engine instance."""
        entry = self._checkers.get(id(engine))
        if entry is None:
            entry = (engine, self._new_checker(engine))
            self._checkers[id(engine)] = entry
        return entry[1]

    def check_sent(self, engine: object, frames: object) -> None:
        """Validate everything one ``poll`` returned; raise (and record) the first problem."""
        if not isinstance(frames, list):
            self._record(f"poll() must return a list of frames, returned {type(frames).__name__}")
        checker = self.checker_for(engine)
        for frame in frames:
            try:
                checker.outgoing(frame)
            except AssertionError as exc:
                self._record(str(exc))

    def record_received(self, engine: object, text: object) -> None:
        """Note a received frame so later answers can be matched to it."""
        self.checker_for(engine).incoming(text)  # type: ignore[arg-type]

    def report(self) -> str | None:
        """All failures as one message, or None."""
        if not self.failures:
            return None
        return f"{len(self.failures)} invalid frame(s) sent:\n" + "\n".join(self.failures)

    def _new_checker(self, engine: object) -> FrameChecker:
        version = getattr(engine, "version", None)
        version = getattr(version, "value", version)  # tolerate an Enum of versions
        try:
            return FrameChecker(str(version))
        except ValueError as exc:
            self._record(f"cannot check frames of {type(engine).__name__}: {exc}")

    def _record(self, message: str) -> NoReturn:
        self.failures.append(message)
        raise AssertionError(message)

    def _wrap_poll(self, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def poll(engine: object, *args: Any, **kwargs: Any) -> Any:
            frames = original(engine, *args, **kwargs)
            self.check_sent(engine, frames)
            return frames

        return poll

    def _wrap_receive(self, original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def receive(engine: object, text: Any, *args: Any, **kwargs: Any) -> Any:
            self.record_received(engine, text)
            return original(engine, text, *args, **kwargs)

        return receive
