"""Validate OCPP payloads against the official JSON schemas, fast and without dependencies.

Each schema is compiled on first use (``schema_compiler``) into a tree of closures
(``schema_checks``) and cached at module level, so every engine in the process shares one copy
(10,000 engines cost no more than one). This module loads the bundled schemas, caches the
compiled checks and maps what fails to the protocol's error codes.

A failure is reported as a neutral ``Violation.kind``; ``error_code`` turns it into the
CALLERROR code of the protocol version (OCPP-J 1.6 §4.2.3 keeps the published spellings
``FormationViolation`` and ``OccurenceConstraintViolation``, errata §5.1/5.2 "do not fix";
OCPP 2.0.1 part 4 §4.3 spells them ``FormatViolation`` and ``OccurrenceConstraintViolation``).

How JSON-Schema failures map to kinds, following the code descriptions of both tables:

* payload is not a JSON object -> ``format``: the CALL payload must be an object, so the
  payload "does not conform the PDU structure" (1.6) / is not a payload at all.
* property not in the PDU, where ``additionalProperties`` is false -> ``format``: the payload
  does not conform the PDU structure (1.6 wording). Such a field has no occurrence constraint
  to violate, and the ``ocpp`` package answers this case with a Format violation too.
* required property missing, ``minItems``/``maxItems`` -> ``occurrence``: these are the
  cardinalities ([1..1], [1..*], [0..4]) of the PDU tables. (The ``ocpp`` package answers
  ProtocolError for a missing field; the spec's code for cardinality is the occurrence one.)
* JSON type differs (``"somestring": 12``, the spec's own example) -> ``type``.
* ``enum``, ``minLength``/``maxLength``, ``minimum``/``maximum``, ``multipleOf``, ``format``
  -> ``property``: the type is right but the value is not allowed (1.6 errata 3.24/3.25 ask for
  PropertyConstraintViolation on an invalid enumeration value). The ``ocpp`` package reports
  maxLength as a type violation; the value's type is correct, so we do not.

The value rules (booleans, draft-04/06 integers, NaN, ``multipleOf``, formats) are described in
``schema_checks``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from importlib.resources import files

from ocpp_core.schema_checks import (
    FORMAT,
    OCCURRENCE,
    PROPERTY,
    TYPE,
    Check,
    SchemaError,
    Violation,
    describe,
)
from ocpp_core.schema_compiler import Compiler

__all__ = [
    "SchemaError",
    "Violation",
    "actions",
    "error_code",
    "has_schema",
    "request_schema_name",
    "response_schema_name",
    "validate",
    "whole_numbers",
]

_VERSION_FILES = {"1.6": "v16", "2.0.1": "v201"}

# The versions whose schemas are draft-06, where an integer may be written 1.0 (_lenient_integers).
_WHOLE_NUMBERS_AS_INTS = {"1.6": False, "2.0.1": True}

MESSAGE_TYPE = "message_type"  # a frame of an unknown message type, with a readable id

_ERROR_CODES = {
    "1.6": {
        FORMAT: "FormationViolation",
        TYPE: "TypeConstraintViolation",
        PROPERTY: "PropertyConstraintViolation",
        OCCURRENCE: "OccurenceConstraintViolation",
    },
    "2.0.1": {
        FORMAT: "FormatViolation",
        TYPE: "TypeConstraintViolation",
        PROPERTY: "PropertyConstraintViolation",
        OCCURRENCE: "OccurrenceConstraintViolation",
        # OCPP-J 2.0.1 §4.3: an unknown message type SHALL be answered (1.6 ignores it).
        MESSAGE_TYPE: "MessageTypeNotSupported",
    },
}

# --------------------------------------------------------------------------- public API


def validate(version: str, name: str, payload: object) -> Violation | None:
    """Return the first violation of schema ``name`` by ``payload``, or None if it conforms."""
    try:
        check = _CHECKS[version, name]
    except KeyError:
        check = _load(version, name)
    if not isinstance(payload, dict):
        return Violation(FORMAT, "", f"payload must be a JSON object, got {describe(payload)}")
    try:
        fail = check(payload)
    except RecursionError:
        return Violation(FORMAT, "", "payload is nested too deeply")
    return None if fail is None else fail.violation()


def whole_numbers(version: str, payload: object) -> object:
    """``payload`` with every whole float (``1.0``) as an int, for a version whose schemas are
    draft-06; otherwise ``payload`` itself.

    Draft-06 lets an integer field arrive written as ``1.0`` (and so does the schema check); the
    handlers then get the int the field means, in one place, instead of each converting. A
    number field's ``16.0`` becomes ``16`` too, the same JSON number. Containers are copied only
    where something changed.
    """
    if not _WHOLE_NUMBERS_AS_INTS[version]:
        return payload
    return _whole(payload)


def _whole(value: object) -> object:
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        changed = {k: _whole(v) for k, v in value.items()}
        return value if all(changed[k] is value[k] for k in value) else changed
    if isinstance(value, list):
        items = [_whole(v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def has_schema(version: str, name: str) -> bool:
    """True if schema file stem ``name`` exists for ``version`` (LookupError: unknown version)."""
    return name in _bundle(version)[1]


def request_schema_name(version: str, action: str) -> str:
    """The schema file stem of an action's request (1.6: ``X``; 2.0.1: ``XRequest``).

    A pure mapping: whether that schema exists is ``has_schema``'s question.
    """
    _version_file(version)
    return action if version == "1.6" else action + "Request"


def response_schema_name(version: str, action: str) -> str:
    """The schema file stem of an action's response (``XResponse`` in both versions)."""
    _version_file(version)
    return action + "Response"


def actions(version: str) -> frozenset[str]:
    """Every action that has a request schema in ``version``."""
    found = _ACTIONS.get(version)
    if found is None:
        found = _ACTIONS[version] = _actions_of(version, _bundle(version)[1])
    return found


def error_code(version: str, kind: str) -> str:
    """The OCPP-J CALLERROR code for a violation kind, spelled as ``version`` publishes it."""
    try:
        return _ERROR_CODES[version][kind]
    except KeyError:
        raise LookupError(f"no error code for version {version!r}, kind {kind!r}") from None


# --------------------------------------------------------------------------- loading

_CHECKS: dict[tuple[str, str], Check] = {}
_BUNDLES: dict[str, tuple[dict[str, object], dict[str, dict[str, object]]]] = {}
_POOLS: dict[tuple[str, bool], dict[str, Check]] = {}
_ACTIONS: dict[str, frozenset[str]] = {}
_COMPILING = threading.Lock()  # compiling is rare; validating never takes it


def _version_file(version: str) -> str:
    try:
        return _VERSION_FILES[version]
    except (KeyError, TypeError):
        raise LookupError(f"unknown OCPP version {version!r}") from None


def _bundle(version: str) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
    """(shared definitions, schemas by stem) of a version, read once from the package data."""
    found = _BUNDLES.get(version)
    if found is None:
        resource = files("ocpp_core") / "schemas" / f"{_version_file(version)}.json"
        doc = json.loads(resource.read_text(encoding="utf-8"))
        found = _BUNDLES[version] = (doc["definitions"], doc["schemas"])
    return found


def _actions_of(version: str, schemas: Iterable[str]) -> frozenset[str]:
    if version == "1.6":
        return frozenset(s for s in schemas if not s.endswith("Response"))
    return frozenset(s[: -len("Request")] for s in schemas if s.endswith("Request"))


def _load(version: str, name: str) -> Check:
    """Compile schema ``name`` of ``version`` and cache it for every later call."""
    pool, schemas = _bundle(version)
    schema = schemas.get(name) if isinstance(name, str) else None
    if schema is None:
        raise LookupError(f"no OCPP {version} schema named {name!r}")
    if schema.get("type") != "object":
        raise SchemaError(f"{name}: the payload schema must have type object")
    with _COMPILING:  # a definition being compiled is a placeholder other threads must not see
        check = _CHECKS.get((version, name))
        if check is None:
            lenient = _lenient_integers(schema.get("$schema"))
            shared = _POOLS.setdefault((version, lenient), {})
            local = schema.get("definitions", {})
            if not isinstance(local, dict):
                raise SchemaError(f"{name}: definitions must be an object")
            compiler = Compiler(lenient, local, pool, shared)
            check = _CHECKS[(version, name)] = compiler.compile(schema)
    return check


def _standalone_schema(version: str, name: str) -> dict[str, object]:
    """A fresh copy of schema ``name`` with the pooled definitions put back (for tests, tools)."""
    pool, schemas = _bundle(version)
    if name not in schemas:
        raise LookupError(f"no OCPP {version} schema named {name!r}")
    schema: dict[str, object] = json.loads(json.dumps(schemas[name]))
    local: dict[str, object] = json.loads(json.dumps(schema.get("definitions", {})))
    schema["definitions"] = {**json.loads(json.dumps(pool)), **local}
    return schema


def _lenient_integers(draft: object) -> bool:
    """draft-06 counts 5.0 as an integer, draft-04 does not."""
    if draft in ("http://json-schema.org/draft-04/schema#", None):
        return False
    if draft == "http://json-schema.org/draft-06/schema#":
        return True
    raise SchemaError(f"unsupported $schema {draft!r}")
