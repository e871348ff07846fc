"""OCPP-J framing (OCPP-J 1.6 §4 and its errata): read received text, write frames, make ids.

``parse`` never raises: every input, however hostile, becomes a Call, CallResult, CallError or
Malformed. Malformed keeps whatever could be recovered (message type and id), because whether it
deserves a CALLERROR is the engine's decision:

* longer than the size limit -> the head of the text is scanned for ``[2,"<id>"`` without
  decoding the rest; the engine answers a CALL with GenericError naming the limit (the frame may
  be perfectly valid OCPP, it merely exceeds what this station accepts).
* not JSON (including NaN/Infinity and numbers that overflow a float), or nested deeper than
  MAX_NESTING (checked before decoding: a C decoder recursing 100,000 levels deep can exhaust the
  small stack of a WebAssembly build) -> the same head scan; a CALL is answered with the version's
  "format" code (1.6 FormationViolation: the message "is syntactically incorrect"). ProtocolError
  ("payload for Action is incomplete") would describe a truncated payload only.
* JSON but not an array, a message type other than the integers 2/3/4, or an id that is not a
  string -> no id to answer to; OCPP-J 1.6 §4.1.3 says to ignore an unknown message type, 2.0.1
  §4.3 to answer it: an unknown integer type with a non-empty string id keeps that id.
* a CALL/CALLRESULT/CALLERROR with the wrong number of elements, a non-string action or error
  code, or a payload that is not an object -> Malformed with its id (a FormationViolation for a
  CALL). A ``null`` payload means ``{}`` (OCPP-J §4.2.1 allows both notations).
* an id longer than 36 characters -> Malformed with its id: §4.2.3 lists "unique identifier too
  long" among the reasons for a CALLERROR, which must carry that same id.
* an empty id ``""`` -> Malformed with that id (a FormationViolation for a CALL, answered with
  the same empty id). OCPP-J §4.1.4 gives the id the job to "identify a request" and §4.2.1 calls
  it "a unique identifier that will be used to match request and result"; an empty string
  identifies nothing (it is what a CSMS sends when it forgot to set one), so the frame does not
  conform to the PDU structure.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "CALL",
    "CALLERROR",
    "CALLRESULT",
    "DEFAULT_MAX_FRAME_BYTES",
    "MAX_MESSAGE_ID_LENGTH",
    "MAX_NESTING",
    "Call",
    "CallError",
    "CallResult",
    "JsonObject",
    "Malformed",
    "call_text",
    "error_text",
    "new_message_id",
    "parse",
    "result_text",
]

CALL = 2
CALLRESULT = 3
CALLERROR = 4
MAX_MESSAGE_ID_LENGTH = 36
DEFAULT_MAX_FRAME_BYTES = 65536
MAX_NESTING = 64  # OCPP payloads nest about 7 levels deep

# A received JSON object. Its values are whatever JSON holds; the schema, not the type system,
# vouches for their shape, and handlers see them through the generated payload types.
JsonObject = dict[str, Any]

_ARITY = {CALL: 4, CALLRESULT: 3, CALLERROR: 5}
_NAMES = {CALL: "CALL", CALLRESULT: "CALLRESULT", CALLERROR: "CALLERROR"}

# The head of a frame, for text that cannot (or must not) be decoded whole. The id literal is
# bounded so a hostile frame cannot make the scan expensive. ``re`` caches the compiled pattern
# on first use: only broken frames need it, so importing the module does not compile it.
_HEAD = r'\s*\[\s*([234])\s*,\s*("(?:[^"\\\x00-\x1f]|\\.){0,256}")'


class Call:
    """A request from the CSMS: ``[2, id, action, payload]``."""

    __slots__ = ("action", "message_id", "payload")

    def __init__(self, message_id: str, action: str, payload: JsonObject) -> None:
        self.message_id = message_id
        self.action = action
        self.payload = payload


class CallResult:
    """The CSMS's answer to one of our CALLs: ``[3, id, payload]``."""

    __slots__ = ("message_id", "payload")

    def __init__(self, message_id: str, payload: JsonObject) -> None:
        self.message_id = message_id
        self.payload = payload


class CallError:
    """The CSMS's refusal of one of our CALLs: ``[4, id, code, description, details]``."""

    __slots__ = ("code", "description", "details", "message_id")

    def __init__(self, message_id: str, code: str, description: str, details: JsonObject) -> None:
        self.message_id = message_id
        self.code = code
        self.description = description
        self.details = details


class Malformed:
    """A frame that breaks OCPP-J, with what could be recovered of its head."""

    __slots__ = ("message_id", "message_type", "reason", "too_large")

    def __init__(
        self,
        message_id: str | None,
        message_type: int | None,
        reason: str,
        *,
        too_large: bool = False,
    ) -> None:
        self.message_id = message_id
        self.message_type = message_type
        self.reason = reason
        self.too_large = too_large


Frame = Call | CallResult | CallError | Malformed


def _reject_constant(token: str) -> float:
    raise ValueError(f"{token} is not JSON")


def _finite_float(text: str) -> float:
    """Reject numbers like 1e999 that Python would read as infinity (not a JSON value)."""
    value = float(text)
    if value - value != 0:
        raise ValueError("number out of range")
    return value


_decode = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float).decode
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_encode_ascii = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def parse(text: str, max_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> Frame:
    """Classify one received text frame (never raises)."""
    if not isinstance(text, str):
        return Malformed(None, None, "not a text frame")
    if _too_large(text, max_bytes):
        message_type, message_id = _recover_head(text)
        return Malformed(
            message_id, message_type, f"Message exceeds {max_bytes} bytes", too_large=True
        )
    if text.count("[") + text.count("{") > MAX_NESTING and _too_deep(text):
        message_type, message_id = _recover_head(text)
        return Malformed(message_id, message_type, "Message is nested too deeply")
    try:
        frame = _decode(text)
    except (ValueError, RecursionError):
        message_type, message_id = _recover_head(text)
        return Malformed(message_id, message_type, "Message is not valid JSON")
    if type(frame) is not list or not frame:
        return Malformed(None, None, "not a non-empty JSON array")
    message_type = frame[0]
    if type(message_type) is not int or message_type not in _ARITY:
        # An integer type with a readable id can be answered (OCPP-J 2.0.1 §4.3).
        readable = type(message_type) is int and len(frame) > 1 and type(frame[1]) is str
        if not readable or not frame[1]:
            return Malformed(None, None, "unknown message type")
        return Malformed(frame[1], message_type, "unknown message type")
    message_id = frame[1] if len(frame) > 1 else None
    if type(message_id) is not str:
        return Malformed(None, message_type, "message id is not a string")
    if len(frame) != _ARITY[message_type]:
        name = _NAMES[message_type]
        return Malformed(
            message_id, message_type, f"{name} must have {_ARITY[message_type]} elements"
        )
    if not message_id:
        return Malformed(message_id, message_type, "Message id is empty")
    if len(message_id) > MAX_MESSAGE_ID_LENGTH:
        return Malformed(
            message_id, message_type, f"Message id longer than {MAX_MESSAGE_ID_LENGTH} characters"
        )
    if message_type == CALL:
        return _call(message_id, frame[2], frame[3])
    if message_type == CALLRESULT:
        payload = _payload(frame[2])
        if payload is None:
            return Malformed(message_id, CALLRESULT, "payload is not a JSON object")
        return CallResult(message_id, payload)
    return _call_error(message_id, frame)


def _call(message_id: str, action: object, payload: object) -> Call | Malformed:
    if type(action) is not str:
        return Malformed(message_id, CALL, "Action is not a string")
    checked = _payload(payload)
    if checked is None:
        return Malformed(message_id, CALL, "Payload is not a JSON object")
    return Call(message_id, action, checked)


def _call_error(message_id: str, frame: list[object]) -> CallError | Malformed:
    code, description, details = frame[2], frame[3], _payload(frame[4])
    if type(code) is not str or type(description) is not str or details is None:
        return Malformed(message_id, CALLERROR, "CALLERROR fields have the wrong types")
    return CallError(message_id, code, description, details)


def _payload(value: object) -> JsonObject | None:
    """The payload as an object; ``null`` is the other notation of ``{}``; anything else is None."""
    if type(value) is dict:
        return value
    return {} if value is None else None


def _too_large(text: str, max_bytes: int) -> bool:
    """UTF-8 size above the limit; encodes only when the character count cannot decide."""
    length = len(text)
    if length > max_bytes:
        return True
    if length * 4 <= max_bytes or text.isascii():
        return False
    return len(text.encode("utf-8", "surrogatepass")) > max_bytes


def _too_deep(text: str) -> bool:
    """Arrays and objects nest deeper than MAX_NESTING (one pass over the special characters)."""
    depth = 0
    in_string = False
    escaped = -1  # index of a character escaped by a backslash
    for match in re.finditer(r'[\[\]{}"\\]', text):
        index = match.start()
        if index == escaped:
            continue
        char = match.group()
        if in_string:
            if char == "\\":
                escaped = index + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _recover_head(text: str) -> tuple[int | None, str | None]:
    """Message type and id from the start of a frame that cannot be decoded."""
    match = re.match(_HEAD, text)
    if match is None:
        return None, None
    try:
        message_id = json.loads(match.group(2))
    except ValueError:
        return int(match.group(1)), None
    return int(match.group(1)), message_id


def _dump(frame: list[object]) -> str:
    """Compact JSON, non-ASCII kept as is (OCPP-J §4.1.2: UTF-8).

    A lone surrogate (legal in a JSON ``\\uD800`` escape, and so possibly echoed back from a
    received frame) cannot be encoded as UTF-8; such a frame is written with ASCII escapes
    instead, which is the same JSON value.
    """
    text = _encode(frame)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return _encode_ascii(frame)
    return text


def call_text(message_id: str, action: str, payload: Mapping[str, object]) -> str:
    """``[2, id, action, payload]``."""
    return _dump([CALL, message_id, action, payload])


def result_text(message_id: str, payload: Mapping[str, object]) -> str:
    """``[3, id, payload]``."""
    return _dump([CALLRESULT, message_id, payload])


def error_text(
    message_id: str,
    code: str,
    description: str = "",
    details: Mapping[str, object] | None = None,
) -> str:
    """``[4, id, code, description, details]`` (details ``{}`` when there are none, §4.2.3)."""
    return _dump([CALLERROR, message_id, code, description, {} if details is None else details])


def new_message_id() -> str:
    """A random (version 4) UUID string: unique per sender, 36 characters (OCPP-J §4.1.4)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    hexed = raw.hex()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"
