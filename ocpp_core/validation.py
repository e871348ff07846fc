"""Validate OCPP payloads against the official JSON schemas, fast and without dependencies.

Each schema is compiled on first use into a tree of closures and cached at module level, so
every engine in the process shares one copy (10,000 engines cost no more than one). Only the
JSON-Schema subset the OCPP 1.6 and 2.0.1 schemas use is supported: ``type`` (also a list),
``properties``, ``required``, ``additionalProperties``, ``enum``, ``minLength``/``maxLength``,
``minimum``/``maximum``, ``multipleOf``, ``format`` (``date-time``, ``uri``), ``items``,
``minItems``/``maxItems``, ``$ref`` to ``#/definitions/...``. Any other keyword makes compiling
fail loudly instead of being silently ignored.

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

Value rules, decided once:

* JSON booleans are never integers or numbers (Python's ``True`` is an ``int``).
* ``5.0`` as an ``integer`` follows the draft the schema declares: draft-04 ("a JSON number
  without a fraction or exponent part") rejects it -- the OCPP 1.6 core schemas; draft-06
  ("any number with a zero fractional part") accepts it -- OCPP 2.0.1 and the 1.6 security
  schemas. This is what jsonschema's Draft4Validator/Draft6Validator do. The ``ocpp`` package
  validates everything as draft-04. Handlers of 2.0.1 may therefore see a float such as 5.0.
* NaN and Infinity (Python's json accepts them; JSON has no such numbers) are not numbers.
* ``multipleOf`` is judged on the decimal the JSON text spelled (the shortest repr of the
  float), so 21.4 is a multiple of 0.1 even though 21.4 / 0.1 == 213.99999999999997.
* ``date-time`` is RFC 3339 ``date-time`` (JSON Schema's definition): a time zone (``Z`` or
  ``+hh:mm``) is required, fractional seconds of any length, leap second ``:60`` accepted,
  calendar-checked days. ``uri`` requires a scheme and only RFC 3986 characters.
* Python values are judged as ``json.dumps`` would write them: ``str``/``int`` subclasses
  (StrEnum, IntEnum) and tuples pass as strings/integers/arrays, ``decimal.Decimal`` as a number.

Validation never recurses into data the schema does not describe and messages never ``repr``
containers, so a 10,000-deep nested list is a plain type violation, not a RecursionError.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from importlib.resources import files

__all__ = [
    "Violation",
    "actions",
    "error_code",
    "has_schema",
    "request_schema_name",
    "response_schema_name",
    "validate",
]

FORMAT = "format"
TYPE = "type"
PROPERTY = "property"
OCCURRENCE = "occurrence"

_VERSION_FILES = {"1.6": "v16", "2.0.1": "v201"}

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
    },
}

_SHOWN = 40  # longest excerpt of a value or key quoted in a message


@dataclass(frozen=True, slots=True)
class Violation:
    """The first way a payload breaks its schema, neutral of the protocol version."""

    kind: str  # "format" | "type" | "property" | "occurrence"
    path: str  # JSON pointer of the offending value ("" is the payload itself)
    message: str  # short; quoted values are truncated


class SchemaError(ValueError):
    """A schema uses JSON-Schema beyond the subset this module implements."""


class _Fail:
    """A violation on its way up: parents append their key, so success allocates nothing."""

    __slots__ = ("kind", "message", "rpath")

    def __init__(self, kind: str, message: str, rpath: list[object] | None = None) -> None:
        self.kind = kind
        self.message = message
        self.rpath: list[object] = rpath if rpath is not None else []

    def violation(self) -> Violation:
        path = "".join("/" + _pointer_token(p) for p in reversed(self.rpath))
        return Violation(self.kind, path, self.message)


Check = Callable[[object], "_Fail | None"]

# --------------------------------------------------------------------------- public API


def validate(version: str, name: str, payload: object) -> Violation | None:
    """Return the first violation of schema ``name`` by ``payload``, or None if it conforms."""
    try:
        check = _CHECKS[version, name]
    except KeyError:
        check = _load(version, name)
    if not isinstance(payload, dict):
        return Violation(FORMAT, "", f"payload must be a JSON object, got {_describe(payload)}")
    try:
        fail = check(payload)
    except RecursionError:
        return Violation(FORMAT, "", "payload is nested too deeply")
    return None if fail is None else fail.violation()


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
            compiler = _Compiler(lenient, schema.get("definitions", {}), pool, shared)
            check = _CHECKS[(version, name)] = compiler.compile(schema)
    return check


def _standalone_schema(version: str, name: str) -> dict[str, object]:
    """A fresh copy of schema ``name`` with the pooled definitions put back (for tests, tools)."""
    pool, schemas = _bundle(version)
    if name not in schemas:
        raise LookupError(f"no OCPP {version} schema named {name!r}")
    schema = json.loads(json.dumps(schemas[name]))
    schema["definitions"] = {**json.loads(json.dumps(pool)), **schema.get("definitions", {})}
    return schema


def _lenient_integers(draft: object) -> bool:
    """draft-06 counts 5.0 as an integer, draft-04 does not."""
    if draft in ("http://json-schema.org/draft-04/schema#", None):
        return False
    if draft == "http://json-schema.org/draft-06/schema#":
        return True
    raise SchemaError(f"unsupported $schema {draft!r}")


# --------------------------------------------------------------------------- compiling

_IGNORED = frozenset(
    {"$schema", "$id", "id", "title", "description", "default", "examples", "javaType", "comment"}
    | {"$comment", "definitions", "additionalItems"}
)
_STRING_KEYS = frozenset({"maxLength", "minLength", "format"})
_NUMBER_KEYS = frozenset({"minimum", "maximum", "multipleOf"})
_OBJECT_KEYS = frozenset({"properties", "required", "additionalProperties"})
_ARRAY_KEYS = frozenset({"items", "minItems", "maxItems"})
_KNOWN = _IGNORED | _STRING_KEYS | _NUMBER_KEYS | _OBJECT_KEYS | _ARRAY_KEYS | {"type", "enum"}
_JSON_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})


def _accept(value: object) -> _Fail | None:
    return None


class _Compiler:
    """Turns one schema (plus its definitions) into checks; lives only while compiling."""

    def __init__(
        self,
        lenient: bool,
        local: dict[str, object],
        pool: dict[str, object],
        shared: dict[str, Check],
    ) -> None:
        self.lenient = lenient
        self.local = local
        self.pool = pool
        self.shared = shared  # compiled pool definitions, reused by every schema of the version
        self.local_checks: dict[str, Check] = {}

    def compile(self, node: object) -> Check:
        """Compile a schema node; the type-specific builders avoid dispatch at run time."""
        if node is True or node == {}:
            return _accept
        if not isinstance(node, dict):
            raise SchemaError(f"unsupported schema {node!r:.60}")
        unknown = node.keys() - _KNOWN - {"$ref"}
        if unknown:
            raise SchemaError(f"unsupported keywords {sorted(unknown)}")
        if "$ref" in node:
            return self.ref(node["$ref"])
        types = node.get("type")
        if types == "string" or (isinstance(types, str) and "enum" not in node):
            return self.typed(types, node)
        return self.generic(types, node)

    def ref(self, ref: object) -> Check:
        """Resolve ``#/definitions/X`` (local definitions first, then the version's pool)."""
        prefix = "#/definitions/"
        if not isinstance(ref, str) or not ref.startswith(prefix):
            raise SchemaError(f"unsupported $ref {ref!r}")
        name = ref[len(prefix) :]
        if name in self.local:
            return self._definition(name, self.local, self.local_checks)
        if name in self.pool:
            return self._definition(name, self.pool, self.shared)
        raise SchemaError(f"unresolved $ref {ref!r}")

    def _definition(self, name: str, raw: dict[str, object], cache: dict[str, Check]) -> Check:
        check = cache.get(name)
        if check is None:
            slot: list[Check] = []
            cache[name] = lambda value: slot[0](value)  # stands in while a cycle compiles
            try:
                check = self.compile(raw[name])
            except BaseException:
                del cache[name]  # never leave a placeholder that has nothing behind it
                raise
            slot.append(check)
            cache[name] = check
        return check

    def typed(self, kind: str, node: dict[str, object]) -> Check:
        """A check for a node with exactly one type (every node of the OCPP schemas)."""
        if kind == "string":
            return _string_check(node)
        if kind in ("integer", "number"):
            return _number_check(node, integer=kind == "integer", lenient=self.lenient)
        if kind == "boolean":
            return _boolean_check
        if kind == "object":
            return self.object_check(node)
        if kind == "array":
            return self.array_check(node)
        if kind == "null":
            return _null_check
        raise SchemaError(f"unknown type {kind!r}")

    def generic(self, types: object, node: dict[str, object]) -> Check:
        """A node with a list of types, no type, or an enum of non-strings."""
        allowed = _type_set(types)
        per_kind: dict[str, Check] = {}
        if node.keys() & _STRING_KEYS:
            per_kind["string"] = _string_check({k: node[k] for k in _STRING_KEYS & node.keys()})
        if node.keys() & _NUMBER_KEYS:
            numeric = {k: node[k] for k in _NUMBER_KEYS & node.keys()}
            per_kind["number"] = per_kind["integer"] = _number_check(numeric, False, self.lenient)
        if node.keys() & _OBJECT_KEYS:
            per_kind["object"] = self.object_check(node)
        if node.keys() & _ARRAY_KEYS:
            per_kind["array"] = self.array_check(node)
        enum = node.get("enum")
        return _generic_check(allowed, per_kind, enum, self.lenient)

    def object_check(self, node: dict[str, object]) -> Check:
        props = {k: self.compile(s) for k, s in _mapping(node.get("properties", {})).items()}
        required = tuple(node.get("required", ()))
        extra = node.get("additionalProperties", True)
        extra_check = None if extra is False else self.compile(extra)
        return _object_check(props, required, extra_check)

    def array_check(self, node: dict[str, object]) -> Check:
        items = node.get("items", True)
        if isinstance(items, list):
            raise SchemaError("tuple-form items are not supported")
        item_check = self.compile(items)
        return _array_check(
            None if item_check is _accept else item_check,
            _int_keyword(node, "minItems", 0),
            _int_keyword(node, "maxItems", None),
        )


def _mapping(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise SchemaError(f"expected an object in the schema, got {value!r:.60}")
    return value


def _int_keyword(node: dict[str, object], key: str, default: int | None) -> int | None:
    value = node.get(key, default)
    if value is not None and (type(value) is not int or value < 0):
        raise SchemaError(f"{key} must be a non-negative integer")
    return value


def _type_set(types: object) -> frozenset[str] | None:
    if types is None:
        return None
    names = [types] if isinstance(types, str) else types
    if not isinstance(names, list) or not set(names) <= _JSON_TYPES:
        raise SchemaError(f"unsupported type {types!r}")
    return frozenset(names)


# --------------------------------------------------------------------------- checks


def _string_check(node: dict[str, object]) -> Check:
    """Type, then enum, length and format; the common shapes get a closure of their own."""
    enum = node.get("enum")
    allowed = frozenset(enum) if enum is not None else None
    if allowed is not None and not all(type(v) is str for v in allowed):
        raise SchemaError("a string enum must list strings")
    max_len = _int_keyword(node, "maxLength", None)
    min_len = _int_keyword(node, "minLength", 0)
    fmt = node.get("format")
    valid_format = _FORMATS.get(fmt) if fmt is not None else None
    if fmt is not None and valid_format is None:
        raise SchemaError(f"unsupported format {fmt!r}")

    if allowed is None and not min_len and fmt is None:
        if max_len is None:
            return _plain_string_check
        return _max_length_check(max_len)
    if allowed is not None and max_len is None and not min_len and fmt is None:
        return _enum_check(allowed)

    def check(value: object) -> _Fail | None:
        if not isinstance(value, str):
            return _type_fail("string", value)
        if allowed is not None and value not in allowed:
            return _enum_fail(value, allowed)
        if max_len is not None and len(value) > max_len:
            return _Fail(PROPERTY, f"string longer than {max_len} characters ({len(value)})")
        if len(value) < min_len:
            return _Fail(PROPERTY, f"string shorter than {min_len} characters ({len(value)})")
        if valid_format is not None and not valid_format(value):
            return _Fail(PROPERTY, f"{_show(value)} is not a valid {fmt}")
        return None

    return check


def _plain_string_check(value: object) -> _Fail | None:
    return None if isinstance(value, str) else _type_fail("string", value)


def _max_length_check(max_len: int) -> Check:
    def check(value: object) -> _Fail | None:
        if not isinstance(value, str):
            return _type_fail("string", value)
        if len(value) > max_len:
            return _Fail(PROPERTY, f"string longer than {max_len} characters ({len(value)})")
        return None

    return check


def _enum_check(allowed: frozenset[str]) -> Check:
    def check(value: object) -> _Fail | None:
        if not isinstance(value, str):
            return _type_fail("string", value)
        if value not in allowed:
            return _enum_fail(value, allowed)
        return None

    return check


def _number_check(node: dict[str, object], integer: bool, lenient: bool) -> Check:
    """Type (integer per draft, or number), then minimum, maximum and multipleOf."""
    is_valid = (_is_integer_06 if lenient else _is_integer_04) if integer else _is_number
    expected = "integer" if integer else "number"
    minimum = _limit(node, "minimum")
    maximum = _limit(node, "maximum")
    multiple = _multiple_test(node["multipleOf"]) if "multipleOf" in node else None

    if minimum is None and maximum is None and multiple is None:

        def plain(value: object) -> _Fail | None:
            if type(value) is int or is_valid(value):
                return None
            return _type_fail(expected, value)

        return plain

    def check(value: object) -> _Fail | None:
        if type(value) is not int and not is_valid(value):
            return _type_fail(expected, value)
        if minimum is not None and value < minimum:
            return _Fail(PROPERTY, f"{_show(value)} is less than the minimum {minimum}")
        if maximum is not None and value > maximum:
            return _Fail(PROPERTY, f"{_show(value)} is greater than the maximum {maximum}")
        if multiple is not None and not multiple(value):
            return _Fail(PROPERTY, f"{_show(value)} is not a multiple of {node['multipleOf']}")
        return None

    return check


def _limit(node: dict[str, object], key: str) -> int | float | None:
    value = node.get(key)
    if value is not None and not _is_number(value):
        raise SchemaError(f"{key} must be a number")
    return value


def _multiple_test(step: object) -> Callable[[object], bool]:
    """Exact multipleOf on the decimal the JSON text spelled, not on binary floats."""
    if not _is_number(step) or not step > 0:
        raise SchemaError("multipleOf must be a positive number")
    exact_step = _exact(step)
    ints_always = (1 / exact_step).denominator == 1

    def test(value: object) -> bool:
        if ints_always and isinstance(value, int):
            return True
        return (_exact(value) / exact_step).denominator == 1

    return test


def _exact(value: object) -> Fraction:
    """The rational a JSON number denotes: floats via their shortest repr (the JSON text)."""
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def _is_number(value: object) -> bool:
    """JSON numbers: ints (not bools), finite floats and Decimals."""
    kind = type(value)
    if kind is int or kind is float:
        return value - value == 0  # false for NaN and +-Infinity
    if kind is bool:
        return False
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, int | float) and value - value == 0


def _is_integer_04(value: object) -> bool:
    """draft-04 integers: no fraction part in the text, so never a float."""
    return type(value) is not bool and isinstance(value, int)


def _is_integer_06(value: object) -> bool:
    """draft-06 integers: any number whose fractional part is zero."""
    if isinstance(value, int):
        return type(value) is not bool
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return False


def _boolean_check(value: object) -> _Fail | None:
    return None if type(value) is bool else _type_fail("boolean", value)


def _null_check(value: object) -> _Fail | None:
    return None if value is None else _type_fail("null", value)


def _object_check(props: dict[str, Check], required: tuple[str, ...], extra: Check | None) -> Check:
    """Type, required (occurrence), then each member: unknown ones, then by its schema."""
    if extra is None:
        return _closed_object_check(props, required)

    def check(value: object) -> _Fail | None:
        if not isinstance(value, dict):
            return _type_fail("object", value)
        for name in required:
            if name not in value:
                return _missing_fail(name)
        for key, member in value.items():
            fail = props.get(key, extra)(member)
            if fail is not None:
                fail.rpath.append(key)
                return fail
        return None

    return check


def _closed_object_check(props: dict[str, Check], required: tuple[str, ...]) -> Check:
    """additionalProperties false: an unknown key is the KeyError of the lookup (no .get call)."""

    def check(value: object) -> _Fail | None:
        if not isinstance(value, dict):
            return _type_fail("object", value)
        for name in required:
            if name not in value:
                return _missing_fail(name)
        key = None
        try:
            for key, member in value.items():  # the handler reports the last key
                fail = props[key](member)
                if fail is not None:
                    fail.rpath.append(key)
                    return fail
        except KeyError:
            return _Fail(FORMAT, f"property {_show(key)} is not allowed", [key])
        return None

    return check


def _missing_fail(name: str) -> _Fail:
    return _Fail(OCCURRENCE, f"required property {_show(name)} is missing", [name])


def _array_check(item: Check | None, min_items: int, max_items: int | None) -> Check:
    """Type, item count (occurrence), then every item."""

    def check(value: object) -> _Fail | None:
        if not isinstance(value, (list, tuple)):
            return _type_fail("array", value)
        count = len(value)
        if count < min_items:
            return _Fail(OCCURRENCE, f"array has {count} items, at least {min_items} required")
        if max_items is not None and count > max_items:
            return _Fail(OCCURRENCE, f"array has {count} items, at most {max_items} allowed")
        if item is not None:
            for index, member in enumerate(value):
                fail = item(member)
                if fail is not None:
                    fail.rpath.append(index)
                    return fail
        return None

    return check


def _generic_check(
    allowed: frozenset[str] | None, per_kind: dict[str, Check], enum: object, lenient: bool
) -> Check:
    """Dispatch on the JSON type of the value; only nodes outside the OCPP schemas get here."""
    if enum is not None and not isinstance(enum, list):
        raise SchemaError("enum must be a list")

    def check(value: object) -> _Fail | None:
        kind = _json_type(value)
        if allowed is not None and not _type_allowed(kind, value, allowed, lenient):
            return _type_fail(" or ".join(sorted(allowed)), value)
        if enum is not None and not any(_json_equal(value, e) for e in enum):
            return _Fail(PROPERTY, f"{_show(value)} is not one of the allowed values")
        sub = per_kind.get(kind)
        return None if sub is None else sub(value)

    return check


def _type_allowed(kind: str, value: object, allowed: frozenset[str], lenient: bool) -> bool:
    if kind in allowed:
        return True
    if kind == "integer":
        return "number" in allowed
    if kind == "number" and "integer" in allowed:
        return _is_integer_06(value) if lenient else False
    return False


def _json_type(value: object) -> str:
    """The JSON type name of a Python value ("invalid" for what JSON cannot hold)."""
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if type(value) is bool:
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number" if _is_number(value) else "invalid"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return "invalid"


def _json_equal(a: object, b: object) -> bool:
    """JSON equality: true is not 1, 1 equals 1.0; depth is bounded by the enum value."""
    kind_a, kind_b = _json_type(a), _json_type(b)
    if {kind_a, kind_b} <= {"integer", "number"}:
        return a == b
    if kind_a != kind_b:
        return False
    if kind_a == "array":
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if kind_a == "object":
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return a == b


# --------------------------------------------------------------------------- formats

_DATE_TIME = re.compile(
    r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
    r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

_URI = re.compile(
    r"[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=-]|%[0-9A-Fa-f]{2})*"
)


def _is_date_time(text: str) -> bool:
    """RFC 3339 date-time with a calendar check of the day (leap years included)."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return False
    day = int(match[2])
    if day <= 28:
        return True
    month = int(match[1])
    if day > _DAYS_IN_MONTH[month]:
        return False
    if month == 2 and day == 29:
        year = int(text[:4])
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return True


def _is_uri(text: str) -> bool:
    """An absolute URI: a scheme, then only characters RFC 3986 allows (or %XX escapes)."""
    return _URI.fullmatch(text) is not None


_FORMATS: dict[object, Callable[[str], bool]] = {"date-time": _is_date_time, "uri": _is_uri}

# --------------------------------------------------------------------------- messages


def _type_fail(expected: str, value: object) -> _Fail:
    return _Fail(TYPE, f"expected {expected}, got {_describe(value)}")


def _enum_fail(value: str, allowed: frozenset[str]) -> _Fail:
    if len(allowed) <= 5:
        choices = ", ".join(repr(v) for v in sorted(allowed))
        return _Fail(PROPERTY, f"{_show(value)} is not one of {choices}")
    return _Fail(PROPERTY, f"{_show(value)} is not one of the {len(allowed)} allowed values")


def _describe(value: object) -> str:
    """The JSON type of a value and, for scalars, a short excerpt of it."""
    kind = _json_type(value)
    if kind == "object":
        return f"object with {len(value)} properties"
    if kind == "array":
        return f"array of {len(value)} items"
    if kind == "invalid":
        return f"{type(value).__name__} {_show(value)}" if isinstance(value, float) else "non-JSON"
    return f"{kind} {_show(value)}"


def _show(value: object) -> str:
    """A short rendering of a scalar; never the whole of a huge string or number."""
    if isinstance(value, str):
        if len(value) > _SHOWN:
            return repr(value[:_SHOWN]) + f"... ({len(value)} characters)"
        return repr(value)
    if value is None or type(value) is bool:
        return json.dumps(value)
    if isinstance(value, int):
        if value.bit_length() > 128:
            return f"<integer of {value.bit_length()} bits>"
        return str(int(value))
    if isinstance(value, float | Decimal):
        return str(value)[:_SHOWN]
    return f"<{type(value).__name__}>"


def _pointer_token(key: object) -> str:
    """One JSON-pointer segment (~ and / escaped), truncated like every quoted value."""
    text = str(key) if isinstance(key, str | int) else f"<{type(key).__name__}>"
    if len(text) > _SHOWN:
        text = text[:_SHOWN] + "..."
    return text.replace("~", "~0").replace("/", "~1")
