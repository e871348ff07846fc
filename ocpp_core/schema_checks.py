"""The checks a compiled schema is made of: one closure per schema node, and the value rules.

A check takes a value and returns None, or a ``Fail`` naming the neutral kind of the first
violation (``format``, ``type``, ``property``, ``occurrence``; ``validation`` maps kinds to the
CALLERROR codes of a protocol version). The common shapes of the OCPP schemas get closures of
their own, so validating dispatches on nothing at run time.

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

Checks never recurse into data the schema does not describe and messages never ``repr``
containers, so a 10,000-deep nested list is a plain type violation, not a RecursionError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TypeGuard

FORMAT = "format"
TYPE = "type"
PROPERTY = "property"
OCCURRENCE = "occurrence"

_SHOWN = 40  # longest excerpt of a value or key quoted in a message


@dataclass(frozen=True, slots=True)
class Violation:
    """The first way a payload breaks its schema, neutral of the protocol version."""

    kind: str  # "format" | "type" | "property" | "occurrence"
    path: str  # JSON pointer of the offending value ("" is the payload itself)
    message: str  # short; quoted values are truncated


class SchemaError(ValueError):
    """A schema uses JSON-Schema beyond the subset the validator implements."""


class Fail:
    """A violation on its way up: parents append their key, so success allocates nothing."""

    __slots__ = ("kind", "message", "rpath")

    def __init__(self, kind: str, message: str, rpath: list[object] | None = None) -> None:
        self.kind = kind
        self.message = message
        self.rpath: list[object] = rpath if rpath is not None else []

    def violation(self) -> Violation:
        path = "".join("/" + _pointer_token(p) for p in reversed(self.rpath))
        return Violation(self.kind, path, self.message)


Check = Callable[[object], "Fail | None"]
Number = int | float | Decimal  # what a JSON number is once parsed (Decimal: parse_float)


def accept(value: object) -> Fail | None:
    return None


def int_keyword(node: dict[str, object], key: str, default: int | None) -> int | None:
    value = node.get(key, default)
    if value is not None and (type(value) is not int or value < 0):
        raise SchemaError(f"{key} must be a non-negative integer")
    return value


# --------------------------------------------------------------------------- checks


def string_check(node: dict[str, object]) -> Check:
    """Type, then enum, length and format; the common shapes get a closure of their own."""
    enum = node.get("enum")
    allowed: frozenset[str] | None = None
    if enum is not None:
        if not isinstance(enum, list) or not all(type(v) is str for v in enum):
            raise SchemaError("a string enum must list strings")
        allowed = frozenset(v for v in enum if type(v) is str)
    max_len = int_keyword(node, "maxLength", None)
    min_len = int_keyword(node, "minLength", 0) or 0
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

    def check(value: object) -> Fail | None:
        if not isinstance(value, str):
            return _type_fail("string", value)
        if allowed is not None and value not in allowed:
            return _enum_fail(value, allowed)
        if max_len is not None and len(value) > max_len:
            return Fail(PROPERTY, f"string longer than {max_len} characters ({len(value)})")
        if len(value) < min_len:
            return Fail(PROPERTY, f"string shorter than {min_len} characters ({len(value)})")
        if valid_format is not None and not valid_format(value):
            return Fail(PROPERTY, f"{_show(value)} is not a valid {fmt}")
        return None

    return check


def _plain_string_check(value: object) -> Fail | None:
    return None if isinstance(value, str) else _type_fail("string", value)


def _max_length_check(max_len: int) -> Check:
    def check(value: object) -> Fail | None:
        if not isinstance(value, str):
            return _type_fail("string", value)
        if len(value) > max_len:
            return Fail(PROPERTY, f"string longer than {max_len} characters ({len(value)})")
        return None

    return check


def _enum_check(allowed: frozenset[str]) -> Check:
    def check(value: object) -> Fail | None:
        if not isinstance(value, str):
            return _type_fail("string", value)
        if value not in allowed:
            return _enum_fail(value, allowed)
        return None

    return check


def number_check(node: dict[str, object], integer: bool, lenient: bool) -> Check:
    """Type (integer per draft, or number), then minimum, maximum and multipleOf."""
    is_valid = (_is_integer_06 if lenient else _is_integer_04) if integer else _is_number
    expected = "integer" if integer else "number"
    minimum = _limit(node, "minimum")
    maximum = _limit(node, "maximum")
    multiple = _multiple_test(node["multipleOf"]) if "multipleOf" in node else None

    if minimum is None and maximum is None and multiple is None:

        def plain(value: object) -> Fail | None:
            if type(value) is int or is_valid(value):
                return None
            return _type_fail(expected, value)

        return plain

    def check(value: object) -> Fail | None:
        if type(value) is not int and not is_valid(value):
            return _type_fail(expected, value)
        if minimum is not None and value < minimum:
            return Fail(PROPERTY, f"{_show(value)} is less than the minimum {minimum}")
        if maximum is not None and value > maximum:
            return Fail(PROPERTY, f"{_show(value)} is greater than the maximum {maximum}")
        if multiple is not None and not multiple(value):
            return Fail(PROPERTY, f"{_show(value)} is not a multiple of {node['multipleOf']}")
        return None

    return check


def _limit(node: dict[str, object], key: str) -> Number | None:
    value = node.get(key)
    if value is not None and not _is_number(value):
        raise SchemaError(f"{key} must be a number")
    return value


def _multiple_test(step: object) -> Callable[[Number], bool]:
    """Exact multipleOf on the decimal the JSON text spelled, not on binary floats."""
    if not _is_number(step) or not step > 0:
        raise SchemaError("multipleOf must be a positive number")
    exact_step = _exact(step)
    ints_always = (1 / exact_step).denominator == 1

    def test(value: Number) -> bool:
        if ints_always and isinstance(value, int):
            return True
        return (_exact(value) / exact_step).denominator == 1

    return test


def _exact(value: Number) -> Fraction:
    """The rational a JSON number denotes: floats via their shortest repr (the JSON text)."""
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def _is_number(value: object) -> TypeGuard[Number]:
    """JSON numbers: ints (not bools), finite floats and Decimals."""
    if type(value) is float:
        return value - value == 0  # false for NaN and +-Infinity
    if type(value) is int:
        return True
    if type(value) is bool:
        return False
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, int | float) and value - value == 0


def _is_integer_04(value: object) -> TypeGuard[int]:
    """draft-04 integers: no fraction part in the text, so never a float."""
    return type(value) is not bool and isinstance(value, int)


def _is_integer_06(value: object) -> TypeGuard[Number]:
    """draft-06 integers: any number whose fractional part is zero."""
    if isinstance(value, int):
        return type(value) is not bool
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return False


def boolean_check(value: object) -> Fail | None:
    return None if type(value) is bool else _type_fail("boolean", value)


def null_check(value: object) -> Fail | None:
    return None if value is None else _type_fail("null", value)


def object_check(props: dict[str, Check], required: tuple[str, ...], extra: Check | None) -> Check:
    """Type, required (occurrence), then each member: unknown ones, then by its schema."""
    if extra is None:
        return _closed_object_check(props, required)

    def check(value: object) -> Fail | None:
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

    def check(value: object) -> Fail | None:
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
            return Fail(FORMAT, f"property {_show(key)} is not allowed", [key])
        return None

    return check


def _missing_fail(name: str) -> Fail:
    return Fail(OCCURRENCE, f"required property {_show(name)} is missing", [name])


def array_check(item: Check | None, min_items: int, max_items: int | None) -> Check:
    """Type, item count (occurrence), then every item."""

    def check(value: object) -> Fail | None:
        if not isinstance(value, (list, tuple)):
            return _type_fail("array", value)
        count = len(value)
        if count < min_items:
            return Fail(OCCURRENCE, f"array has {count} items, at least {min_items} required")
        if max_items is not None and count > max_items:
            return Fail(OCCURRENCE, f"array has {count} items, at most {max_items} allowed")
        if item is not None:
            for index, member in enumerate(value):
                fail = item(member)
                if fail is not None:
                    fail.rpath.append(index)
                    return fail
        return None

    return check


def generic_check(
    allowed: frozenset[str] | None, per_kind: dict[str, Check], enum: object, lenient: bool
) -> Check:
    """Dispatch on the JSON type of the value; only nodes outside the OCPP schemas get here."""
    if enum is not None and not isinstance(enum, list):
        raise SchemaError("enum must be a list")

    def check(value: object) -> Fail | None:
        kind = _json_type(value)
        if allowed is not None and not _type_allowed(kind, value, allowed, lenient):
            return _type_fail(" or ".join(sorted(allowed)), value)
        if enum is not None and not any(_json_equal(value, e) for e in enum):
            return Fail(PROPERTY, f"{_show(value)} is not one of the allowed values")
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
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):  # both "array"
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):  # both "object"
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


def is_date_time(text: str) -> bool:
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


_FORMATS: dict[object, Callable[[str], bool]] = {"date-time": is_date_time, "uri": _is_uri}

# --------------------------------------------------------------------------- messages


def _type_fail(expected: str, value: object) -> Fail:
    return Fail(TYPE, f"expected {expected}, got {describe(value)}")


def _enum_fail(value: str, allowed: frozenset[str]) -> Fail:
    if len(allowed) <= 5:
        choices = ", ".join(repr(v) for v in sorted(allowed))
        return Fail(PROPERTY, f"{_show(value)} is not one of {choices}")
    return Fail(PROPERTY, f"{_show(value)} is not one of the {len(allowed)} allowed values")


def describe(value: object) -> str:
    """The JSON type of a value and, for scalars, a short excerpt of it."""
    kind = _json_type(value)
    if isinstance(value, dict):  # "object"
        return f"object with {len(value)} properties"
    if isinstance(value, list | tuple):  # "array"
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
