"""Tests of ocpp_core.validation: every schema, differential against jsonschema, edge cases.

The reference is jsonschema's Draft4/Draft6 validator (whichever the schema declares), run on
the published schema file when ../shared is present (so the stripping and pooling of
tools/copy_schemas.py is checked too), with two deliberate alignments: formats are checked by
the small reference checkers below (jsonschema has no date-time checker without extra
packages), and multipleOf is judged exactly on the decimal the JSON text spelled.
"""

from __future__ import annotations

import copy
import enum
import functools
import importlib.util
import json
import random
import re
import string
from collections.abc import Iterator, Sequence
from dataclasses import FrozenInstanceError
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol, TypeVar

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema.exceptions import ValidationError

from ocpp_core import schema_checks, schema_compiler, validation
from ocpp_core.validation import (
    Violation,
    actions,
    error_code,
    has_schema,
    request_schema_name,
    response_schema_name,
    validate,
)

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
SHARED = {
    "1.6": ROOT.parent / "shared" / "spec" / "ocpp16" / "schemas",
    "2.0.1": ROOT.parent / "shared" / "spec" / "ocpp201" / "schemas",
}
VERSIONS = ("1.6", "2.0.1")
ALL_SCHEMAS = [(v, n) for v in VERSIONS for n in sorted(validation._bundle(v)[1])]

# --------------------------------------------------------------------------- reference validator

_REF_DATE_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:[Zz]|[+-](\d\d):(\d\d))\Z", re.ASCII
)
_URI_CHARS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=")


def ref_date_time(text: object) -> bool:
    """RFC 3339 date-time, written independently of the module (datetime checks the ranges)."""
    if not isinstance(text, str):
        return True
    match = _REF_DATE_TIME.match(text)
    if match is None:
        return False
    y, mo, d, h, mi, sec, oh, om = (int(g) if g else 0 for g in match.groups())
    try:
        datetime(y or 2000, mo, d, h, mi, min(sec, 59))  # year 0000 is a leap year, like 2000
    except ValueError:
        return False
    return sec <= 60 and oh <= 23 and om <= 59


def ref_uri(text: object) -> bool:
    """Scheme ':' then RFC 3986 characters or %XX, checked character by character."""
    if not isinstance(text, str):
        return True
    scheme, colon, rest = text.partition(":")
    if not colon or not scheme or scheme[0] not in string.ascii_letters:
        return False
    if any(c not in string.ascii_letters + string.digits + "+-." for c in scheme):
        return False
    i = 0
    while i < len(rest):
        if rest[i] == "%":
            escape = rest[i + 1 : i + 3]
            if len(escape) != 2 or any(c not in string.hexdigits for c in escape):
                return False
            i += 3
        elif rest[i] in _URI_CHARS:
            i += 1
        else:
            return False
    return True


def _exact_multiple_of(validator: Any, step: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "number"):
        return
    if (Fraction(str(instance)) / Fraction(str(step))).denominator != 1:
        yield ValidationError(f"{instance!r} is not a multiple of {step}")


FORMAT_CHECKER = jsonschema.FormatChecker(formats=())
FORMAT_CHECKER.checks("date-time")(ref_date_time)
FORMAT_CHECKER.checks("uri")(ref_uri)


def reference_schema(version: str, name: str) -> dict[str, Any]:
    """The published schema file when available, else the packaged one made standalone."""
    path = SHARED[version] / f"{name}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8-sig"))
    return validation._standalone_schema(version, name)


@functools.cache
def reference(version: str, name: str) -> Any:
    schema = reference_schema(version, name)
    base = jsonschema.validators.validator_for(schema)
    assert base in (jsonschema.Draft4Validator, jsonschema.Draft6Validator)
    cls = jsonschema.validators.extend(base, {"multipleOf": _exact_multiple_of})
    return cls(schema, format_checker=FORMAT_CHECKER)


def _token(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


_KIND_OF = {
    "type": "type",
    "required": "occurrence",
    "additionalProperties": "format",
    "minItems": "occurrence",
    "maxItems": "occurrence",
}


def acceptable(error: ValidationError) -> Iterator[tuple[str, str]]:
    """The (kind, path) pairs our first violation may have for one jsonschema error."""
    path = "".join("/" + _token(p) for p in error.absolute_path)
    if error.validator == "required":
        for name in error.validator_value:
            if name not in error.instance:
                yield "occurrence", f"{path}/{_token(name)}"
    elif error.validator == "additionalProperties":
        known = error.schema.get("properties", {})
        for key in error.instance:
            if key not in known:
                yield "format", f"{path}/{_token(key)}"
    elif error.validator == "type" and path == "":
        yield "format", ""
    else:
        yield _KIND_OF.get(error.validator, "property"), path


def assert_agrees(version: str, name: str, instance: object) -> Violation | None:
    """Our verdict equals jsonschema's, and our violation is one of jsonschema's errors."""
    ours = validate(version, name, instance)
    errors = list(reference(version, name).iter_errors(instance))
    if not errors:
        assert ours is None, (name, instance, ours)
        return None
    assert ours is not None, (name, instance, [e.message for e in errors])
    allowed = {pair for e in errors for pair in acceptable(e)}
    assert (ours.kind, ours.path) in allowed, (name, instance, ours, allowed)
    return ours


# --------------------------------------------------------------------------- instance generator


class Draw(Protocol):
    def integer(self, lo: int, hi: int) -> int: ...
    def choice(self, options: Sequence[T]) -> T: ...
    def text(self, max_size: int) -> str: ...


_TEXT_POOL = string.ascii_letters + string.digits + " -_.:/é€\U0001d11e"


class RandomDraw:
    """Draws from a seeded random.Random: a cheap deterministic sweep over every schema."""

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    def text(self, max_size: int) -> str:
        size = self.rng.randint(0, max_size)
        return "".join(self.rng.choice(_TEXT_POOL) for _ in range(size))


class HypothesisDraw:
    """Draws from hypothesis, so failures shrink to a minimal instance."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def integer(self, lo: int, hi: int) -> int:
        return self.data.draw(st.integers(lo, hi))

    def choice(self, options: Sequence[T]) -> T:
        return self.data.draw(st.sampled_from(options))

    def text(self, max_size: int) -> str:
        return self.data.draw(st.text(max_size=max_size))


Site = tuple[Any, Any, dict[str, Any]]  # (container, key, schema) of one generated value

VALID_DATE_TIMES = [
    "2025-01-31T12:00:00Z",
    "2024-02-29T23:59:59.123456789+05:30",
    "1999-12-31t00:00:00z",
    "2016-12-31T23:59:60Z",
    "0000-01-01T00:00:00-23:59",
]
VALID_URIS = ["ftp://user:pw@example.com/diag", "https://x.test/a%20b?q=1#f", "urn:isbn:1"]


class Generator:
    """Builds a valid instance of a schema and remembers where every value sits."""

    def __init__(self, schema: dict[str, Any], draw: Draw) -> None:
        self.definitions = schema.get("definitions", {})
        self.draw = draw
        self.sites: list[Site] = []

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.definitions[node["$ref"].rsplit("/", 1)[1]]
        return node

    def value(self, node: dict[str, Any]) -> Any:
        node = self.resolve(node)
        if "enum" in node:
            return self.draw.choice(node["enum"])
        kind = node.get("type")
        if kind == "object":
            return self.object(node)
        if kind == "array":
            return self.array(node)
        if kind == "string":
            return self.string(node)
        if kind in ("integer", "number"):
            return self.number(node)
        if kind == "boolean":
            return self.draw.choice([True, False])
        return self.draw.choice([None, 1, "any", [1, {"a": []}]])  # no type: anything

    def object(self, node: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        required = set(node.get("required", ()))
        for key, sub in node.get("properties", {}).items():
            if key in required or self.draw.integer(0, 1):
                result[key] = self.value(sub)
                self.sites.append((result, key, self.resolve(sub)))
        if node.get("additionalProperties", True) is not False and self.draw.integer(0, 3) == 0:
            result["vendorSpecific"] = self.draw.choice([1, "x", [None], {"deep": {}}])
        return result

    def array(self, node: dict[str, Any]) -> list[Any]:
        low = node.get("minItems", 0)
        high = min(node.get("maxItems", low + 3), low + 3)
        result: list[Any] = []
        for index in range(self.draw.integer(low, high)):
            result.append(self.value(node["items"]))
            self.sites.append((result, index, self.resolve(node["items"])))
        return result

    def string(self, node: dict[str, Any]) -> str:
        fmt = node.get("format")
        if fmt == "date-time":
            return self.draw.choice(VALID_DATE_TIMES)
        if fmt == "uri":
            return self.draw.choice(VALID_URIS)
        limit = node.get("maxLength", 30)
        if limit <= 60 and self.draw.integer(0, 4) == 0:
            return "x" * limit  # the boundary itself
        return self.draw.text(min(limit, 30))

    def number(self, node: dict[str, Any]) -> int | float:
        low, high = node.get("minimum", -(10**6)), node.get("maximum", 10**6)
        if node["type"] == "integer":
            return self.draw.integer(int(low), int(high))
        if "multipleOf" in node:
            return self.draw.integer(-1000, 1000) / 10
        whole = self.draw.integer(int(low), int(high))
        return self.draw.choice([whole, min(float(high), whole + 0.25)])


def generate(version: str, name: str, draw: Draw) -> tuple[dict[str, Any], list[Site]]:
    schema = reference_schema(version, name)
    gen = Generator(schema, draw)
    instance = gen.object(schema)
    return instance, gen.sites


ODD_VALUES: list[Any] = [None, True, False, 0, -1, 5.0, 1.5, "", "x", [], {}, [[1]], {"a": 1}]
BAD_DATE_TIMES = [
    "2025-01-31T12:00:00",
    "2025-02-29T00:00:00Z",
    "2025-01-31 12:00:00Z",
    "2025-13-01T00:00:00Z",
    "2025-01-31T24:00:00Z",
    "2025-01-31T12:00:00.Z",
    "2025-01-31T12:00:00+24:00",
    "2025-01-31T12:00:00Z\n",
    "\uff12025-01-31T12:00:00Z",
]
BAD_URIS = ["no-scheme", "http://a b", "1http://x", "http://x/%zz", "http://\u00e9.test", ""]


def mutate(instance: dict[str, Any], sites: list[Site], draw: Draw) -> Any:
    """Change one generated value in a way that is likely, but not certain, to be invalid."""
    if not sites or draw.integer(0, 30) == 0:
        return draw.choice([[instance], "payload", None, 3])
    container, key, node = draw.choice(sites)
    value = container[key]
    options = ["odd", "delete"] if isinstance(container, dict) else ["odd"]
    if isinstance(value, dict):
        options.append("unknown")
    if isinstance(value, str):
        options += ["long", "enum", "format"]
    if isinstance(value, int | float) and not isinstance(value, bool):
        options += ["range", "fraction"]
    if isinstance(value, list):
        options += ["empty", "many"]
    action = draw.choice(options)
    if action == "odd":
        container[key] = copy.deepcopy(draw.choice(ODD_VALUES))
    elif action == "delete":
        del container[key]
    elif action == "unknown":
        value["zzUnknown"] = 1
    elif action == "long":
        container[key] = "y" * (node.get("maxLength", 10) + draw.integer(0, 1))
    elif action == "enum":
        container[key] = value + "X" if value else "X"
    elif action == "format":
        container[key] = draw.choice(BAD_DATE_TIMES + BAD_URIS + VALID_DATE_TIMES + VALID_URIS)
    elif action == "range":
        container[key] = draw.choice([-1, -0.5, 100.5, 101, 10**30, 1e300, -(2**63)])
    elif action == "fraction":
        container[key] = draw.choice([21.45, 0.30000000000000004, 0.05, 2.5, 7.0])
    elif action == "empty":
        container[key] = []
    else:
        container[key] = value * (node.get("maxItems", 2) + 1) if value else [None]
    return instance


# --------------------------------------------------------------------------- every schema


@pytest.mark.parametrize(("version", "name"), ALL_SCHEMAS)
def test_schema_compiles_and_agrees_with_jsonschema(version: str, name: str) -> None:
    """Every schema compiles; generated instances pass; mutants get jsonschema's verdict."""
    validation._load(version, name)
    draw = RandomDraw(f"{version}/{name}")
    for _ in range(4):
        instance, _ = generate(version, name, draw)
        assert reference(version, name).is_valid(instance), instance  # the generator is right
        assert validate(version, name, instance) is None, instance
    for _ in range(12):
        instance, sites = generate(version, name, draw)
        assert_agrees(version, name, mutate(instance, sites, draw))


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_differential_property(data: st.DataObject) -> None:
    """Random schema, random valid instance, random mutation: same verdict as jsonschema."""
    draw = HypothesisDraw(data)
    version, name = draw.choice(ALL_SCHEMAS)
    instance, sites = generate(version, name, draw)
    assert validate(version, name, instance) is None
    assert_agrees(version, name, mutate(instance, sites, draw))


def test_schema_counts_and_actions() -> None:
    assert len([s for s in ALL_SCHEMAS if s[0] == "1.6"]) == 78
    assert len([s for s in ALL_SCHEMAS if s[0] == "2.0.1"]) == 128
    assert len(actions("1.6")) == 39
    assert len(actions("2.0.1")) == 64
    for version in VERSIONS:
        for action in actions(version):
            assert has_schema(version, request_schema_name(version, action))
            assert has_schema(version, response_schema_name(version, action))
    assert {"BootNotification", "Heartbeat", "SignedUpdateFirmware"} <= actions("1.6")
    assert {"TransactionEvent", "GetVariables"} <= actions("2.0.1")
    assert "BootNotificationResponse" not in actions("1.6")


def test_schema_names() -> None:
    assert request_schema_name("1.6", "BootNotification") == "BootNotification"
    assert response_schema_name("1.6", "BootNotification") == "BootNotificationResponse"
    assert request_schema_name("2.0.1", "BootNotification") == "BootNotificationRequest"
    assert response_schema_name("2.0.1", "BootNotification") == "BootNotificationResponse"
    assert has_schema("1.6", "BootNotification")
    assert not has_schema("1.6", "BootNotificationRequest")
    assert not has_schema("2.0.1", "BootNotification")


def test_compiled_once_and_shared() -> None:
    validate("2.0.1", "AuthorizeRequest", {"idToken": {"idToken": "a", "type": "Local"}})
    first = validation._CHECKS["2.0.1", "AuthorizeRequest"]
    validate("2.0.1", "AuthorizeRequest", {})
    assert validation._CHECKS["2.0.1", "AuthorizeRequest"] is first
    validation._load("2.0.1", "AuthorizeResponse")
    validation._load("2.0.1", "TransactionEventRequest")
    assert "IdTokenType" in validation._POOLS["2.0.1", True]  # one definition, many schemas


# --------------------------------------------------------------------------- kinds and codes

BOOT_16 = {"chargePointVendor": "V", "chargePointModel": "M"}
BOOT_201 = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}

CODES = {
    "1.6": {
        "format": "FormationViolation",
        "type": "TypeConstraintViolation",
        "property": "PropertyConstraintViolation",
        "occurrence": "OccurenceConstraintViolation",
    },
    "2.0.1": {
        "format": "FormatViolation",
        "type": "TypeConstraintViolation",
        "property": "PropertyConstraintViolation",
        "occurrence": "OccurrenceConstraintViolation",
    },
}


@pytest.mark.parametrize("version", VERSIONS)
def test_error_codes(version: str) -> None:
    for kind, code in CODES[version].items():
        assert error_code(version, kind) == code
    with pytest.raises(LookupError):
        error_code(version, "bogus")
    with pytest.raises(LookupError):
        error_code("1.5", "format")


CASES_16 = [
    ([], "format", ""),
    ("text", "format", ""),
    ({**BOOT_16, "extra": 1}, "format", "/extra"),
    ({"chargePointVendor": "V"}, "occurrence", "/chargePointModel"),
    ({**BOOT_16, "chargePointModel": 12}, "type", "/chargePointModel"),
    ({**BOOT_16, "chargePointModel": "M" * 21}, "property", "/chargePointModel"),
]


@pytest.mark.parametrize(("payload", "kind", "path"), CASES_16)
def test_kinds_16(payload: object, kind: str, path: str) -> None:
    violation = validate("1.6", "BootNotification", payload)
    assert violation is not None
    assert (violation.kind, violation.path) == (kind, path)
    assert error_code("1.6", violation.kind) == CODES["1.6"][kind]


def station(**fields: object) -> dict[str, object]:
    return {**BOOT_201, "chargingStation": {**BOOT_201["chargingStation"], **fields}}


CASES_201 = [
    (None, "format", ""),
    ({**BOOT_201, "unknown": {}}, "format", "/unknown"),
    (station(modem={"iccid": "1", "x": 1}), "format", "/chargingStation/modem/x"),
    ({"reason": "PowerUp"}, "occurrence", "/chargingStation"),
    (
        {"reason": "PowerUp", "chargingStation": {"model": "M"}},
        "occurrence",
        "/chargingStation/vendorName",
    ),
    (station(modem={"imsi": 5}), "type", "/chargingStation/modem/imsi"),
    ({**BOOT_201, "reason": "Bored"}, "property", "/reason"),
    ({**BOOT_201, "reason": 1}, "type", "/reason"),
    ({**BOOT_201, "customData": {}}, "occurrence", "/customData/vendorId"),
]


@pytest.mark.parametrize(("payload", "kind", "path"), CASES_201)
def test_kinds_201(payload: object, kind: str, path: str) -> None:
    violation = validate("2.0.1", "BootNotificationRequest", payload)
    assert violation is not None
    assert (violation.kind, violation.path) == (kind, path)
    assert error_code("2.0.1", violation.kind) == CODES["2.0.1"][kind]


def test_custom_data_is_open_but_checked() -> None:
    payload = {**BOOT_201, "customData": {"vendorId": "com.example", "anything": [1, {"x": None}]}}
    assert validate("2.0.1", "BootNotificationRequest", payload) is None
    payload["customData"]["vendorId"] = 7
    assert validate("2.0.1", "BootNotificationRequest", payload).path == "/customData/vendorId"


def test_array_cardinality_is_occurrence() -> None:
    violation = validate("1.6", "MeterValues", {"connectorId": 1, "meterValue": []})
    assert (violation.kind, violation.path) == ("occurrence", "/meterValue")
    violation = validate("2.0.1", "GetReportRequest", {"requestId": 1, "componentCriteria": []})
    assert (violation.kind, violation.path) == ("occurrence", "/componentCriteria")
    criteria = ["Active", "Available", "Enabled", "Problem"]
    assert (
        validate("2.0.1", "GetReportRequest", {"requestId": 1, "componentCriteria": criteria})
        is None
    )
    too_many = {"requestId": 1, "componentCriteria": [*criteria, "Active"]}
    violation = assert_agrees("2.0.1", "GetReportRequest", too_many)
    assert (violation.kind, violation.path) == ("occurrence", "/componentCriteria")
    assert error_code("2.0.1", violation.kind) == "OccurrenceConstraintViolation"


# --------------------------------------------------------------------------- value rules


@pytest.mark.parametrize("version", VERSIONS)
def test_booleans_are_not_integers(version: str) -> None:
    name = "ChangeAvailability" if version == "1.6" else "ChangeAvailabilityRequest"
    payload = (
        {"connectorId": True, "type": "Operative"}
        if version == "1.6"
        else {"operationalStatus": "Operative", "evse": {"id": True}}
    )
    violation = assert_agrees(version, name, payload)
    assert violation is not None and violation.kind == "type"
    assert "boolean" in violation.message


def test_integral_float_follows_the_declared_draft() -> None:
    draft04 = validate("1.6", "ChangeAvailability", {"connectorId": 1.0, "type": "Operative"})
    assert draft04 is not None and draft04.kind == "type"  # 1.6 core: draft-04
    log = {"logType": "DiagnosticsLog", "requestId": 5.0, "log": {"remoteLocation": "ftp://x/"}}
    assert assert_agrees("1.6", "GetLog", log) is None  # 1.6 security schema: draft-06
    evse = {"operationalStatus": "Operative", "evse": {"id": 2.0}}
    assert assert_agrees("2.0.1", "ChangeAvailabilityRequest", evse) is None
    evse["evse"]["id"] = 2.5
    assert assert_agrees("2.0.1", "ChangeAvailabilityRequest", evse).kind == "type"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), Decimal("NaN")])
def test_non_finite_numbers_are_not_json_numbers(bad: object) -> None:
    payload = {"evseId": 1, "meterValue": [{"timestamp": "2025-01-01T00:00:00Z"}]}
    payload["meterValue"][0]["sampledValue"] = [{"value": bad}]
    violation = validate("2.0.1", "MeterValuesRequest", payload)
    assert violation is not None and violation.kind == "type"
    assert violation.path == "/meterValue/0/sampledValue/0/value"


def charging_profile(limit: object) -> dict[str, object]:
    period = {"startPeriod": 0, "limit": limit}
    schedule = {"chargingRateUnit": "A", "chargingSchedulePeriod": [period]}
    profile = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": schedule,
    }
    return {"connectorId": 0, "csChargingProfiles": profile}


@pytest.mark.parametrize(
    ("limit", "ok"),
    [
        (21.4, True),
        (16, True),
        (0.3, True),
        (1e300, True),
        (10**40, True),
        (Decimal("32.1"), True),
        (21.45, False),
        (0.30000000000000004, False),
        (Decimal("32.15"), False),
        (1e-9, False),
    ],
)
def test_multiple_of_is_exact(limit: object, ok: bool) -> None:
    violation = validate("1.6", "SetChargingProfile", charging_profile(limit))
    assert (violation is None) is ok, violation
    if not ok:
        assert violation.kind == "property"
        assert violation.path.endswith("/chargingSchedulePeriod/0/limit")


def test_minimum_and_maximum() -> None:
    dc = {"evMaxCurrent": 1, "evMaxVoltage": 1, "stateOfCharge": 101}
    needs = {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "DC"}}
    needs["chargingNeeds"]["dcChargingParameters"] = dc
    violation = assert_agrees("2.0.1", "NotifyEVChargingNeedsRequest", needs)
    assert violation is not None and violation.kind == "property"
    assert violation.path == "/chargingNeeds/dcChargingParameters/stateOfCharge"
    dc["stateOfCharge"] = 100
    assert assert_agrees("2.0.1", "NotifyEVChargingNeedsRequest", needs) is None
    dc["stateOfCharge"] = -1
    assert assert_agrees("2.0.1", "NotifyEVChargingNeedsRequest", needs).kind == "property"


@pytest.mark.parametrize("text", VALID_DATE_TIMES)
def test_valid_date_times(text: str) -> None:
    assert schema_checks.is_date_time(text)
    assert ref_date_time(text)


@pytest.mark.parametrize(
    "text",
    [
        *BAD_DATE_TIMES,
        "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2025-04-31T00:00:00Z",
        "2025-01-31T12:60:00Z",
        "2025-01-31T12:00:61Z",
        "2025-1-31T12:00:00Z",
        "2025-01-31T12:00Z",
        "2025-01-31T12:00:00+0100",
        "20250131T120000Z",
        "",
    ],
)
def test_invalid_date_times(text: str) -> None:
    assert not schema_checks.is_date_time(text)
    assert not ref_date_time(text)
    violation = validate("1.6", "Heartbeat" + "Response", {"currentTime": text})
    assert violation is not None and violation.kind == "property"
    assert violation.path == "/currentTime"


def test_leap_year_day() -> None:
    assert schema_checks.is_date_time("2000-02-29T00:00:00Z")
    assert schema_checks.is_date_time("2024-02-29T00:00:00Z")
    assert not schema_checks.is_date_time("2100-02-29T00:00:00Z")


@pytest.mark.parametrize("text", VALID_URIS)
def test_valid_uris(text: str) -> None:
    payload = {"location": text, "retrieveDate": "2025-01-01T00:00:00Z"}
    assert assert_agrees("1.6", "UpdateFirmware", payload) is None


@pytest.mark.parametrize("text", BAD_URIS)
def test_invalid_uris(text: str) -> None:
    payload = {"location": text, "retrieveDate": "2025-01-01T00:00:00Z"}
    violation = assert_agrees("1.6", "UpdateFirmware", payload)
    assert violation is not None and violation.kind == "property"


def test_python_values_judged_as_json_dumps_writes_them() -> None:
    class Status(enum.StrEnum):
        ACCEPTED = "Accepted"

    class Interval(enum.IntEnum):
        DEFAULT = 300

    payload = {"status": Status.ACCEPTED, "currentTime": "2025-01-01T00:00:00Z"}
    payload["interval"] = Interval.DEFAULT
    assert validate("1.6", "BootNotificationResponse", payload) is None
    keys = {"configurationKey": ({"key": "K", "readonly": True},), "unknownKey": ("A",)}
    assert validate("1.6", "GetConfigurationResponse", keys) is None


def test_violation_is_frozen() -> None:
    violation = Violation("type", "/a", "m")
    with pytest.raises(FrozenInstanceError):
        violation.kind = "format"  # type: ignore[misc]
    assert not hasattr(violation, "__dict__")


# --------------------------------------------------------------------------- robustness


def nested_list(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


def nested_dict(depth: int) -> dict[str, object]:
    value: dict[str, object] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def test_deep_nesting_in_a_typed_field_is_a_type_violation() -> None:
    violation = validate("1.6", "DataTransfer", {"vendorId": "v", "data": nested_list(10_000)})
    assert violation == Violation("type", "/data", "expected string, got array of 1 items")
    deep = {"unknownKey": nested_list(10_000)}
    violation = validate("1.6", "GetConfigurationResponse", deep)
    assert (violation.kind, violation.path) == ("type", "/unknownKey/0")


def test_deep_nesting_where_anything_goes_is_not_walked() -> None:
    payload = {"vendorId": "v", "data": nested_dict(10_000)}
    assert validate("2.0.1", "DataTransferRequest", payload) is None
    payload = {**BOOT_201, "customData": {"vendorId": "v", "x": nested_list(10_000)}}
    assert validate("2.0.1", "BootNotificationRequest", payload) is None
    violation = validate("1.6", "Heartbeat", {"x": nested_dict(10_000)})
    assert (violation.kind, violation.path) == ("format", "/x")


def test_huge_values_are_not_echoed() -> None:
    huge = "Z" * 10_000_000
    cases = [
        ("1.6", "BootNotification", {**BOOT_16, "chargePointModel": huge}),
        ("1.6", "BootNotification", {**BOOT_16, huge: 1}),
        ("1.6", "BootNotification", {**BOOT_16, "chargePointModel": 10**5000}),
        ("2.0.1", "BootNotificationRequest", {**BOOT_201, "reason": huge}),
        ("1.6", "HeartbeatResponse", {"currentTime": huge}),
        ("1.6", "Heartbeat", {"x/~" * 1000: 1}),
        ("1.6", "DataTransfer", {"vendorId": "v", "data": 1.5e300}),
    ]
    for version, name, payload in cases:
        violation = validate(version, name, payload)
        assert violation is not None
        assert len(violation.message) < 120, violation.message
        assert len(violation.path) < 120, violation.path
    long_key = validate("1.6", "Heartbeat", {"x/~" * 1000: 1})
    assert long_key.path.startswith("/x~1~0x~1~0")


def test_huge_valid_string_passes_where_unbounded() -> None:
    assert validate("1.6", "DataTransfer", {"vendorId": "v", "data": "d" * 10_000_000}) is None


@pytest.mark.parametrize(
    ("version", "name"),
    [("1.6", "NoSuchAction"), ("2.0.1", "BootNotification"), ("3.0", "Heartbeat"), ("1.6", "")],
)
def test_unknown_schema_raises_lookup_error(version: str, name: str) -> None:
    with pytest.raises(LookupError) as raised:
        validate(version, name, {})
    assert not isinstance(raised.value, KeyError)


def test_unknown_version_raises_lookup_error() -> None:
    for call in (
        lambda: has_schema("1.5", "Heartbeat"),
        lambda: actions("2.1"),
        lambda: request_schema_name("2.0", "Heartbeat"),
        lambda: response_schema_name("", "Heartbeat"),
    ):
        with pytest.raises(LookupError):
            call()


# --------------------------------------------------------------------------- the generic path


def compile_standalone(schema: dict[str, Any], lenient: bool = True) -> Any:
    compiler = schema_compiler.Compiler(lenient, schema.get("definitions", {}), {}, {})
    check = compiler.compile(schema)
    return lambda value: None if (fail := check(value)) is None else fail.violation()


GENERIC_SCHEMA = {
    "$schema": "http://json-schema.org/draft-06/schema#",
    "type": "object",
    "properties": {
        "multi": {"type": ["string", "integer", "null"], "maxLength": 3, "minimum": 0},
        "loose": {"minLength": 2, "maximum": 5, "items": {"type": "boolean"}, "required": ["k"]},
        "choice": {"enum": [1, "one", True, None, [1], {"a": 1}]},
        "typed_enum": {"type": "integer", "enum": [1, 2]},
        "num": {"type": "number", "minimum": 1, "maximum": 2},
    },
}


@settings(max_examples=100, deadline=None, database=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-10, 10) | st.floats(-10, 10) | st.text(max_size=4),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("ka"), inner),
        max_leaves=6,
    ),
    st.sampled_from(sorted(GENERIC_SCHEMA["properties"])),
)
def test_generic_nodes_agree_with_jsonschema(value: object, field: str) -> None:
    """Type lists, typeless nodes and non-string enums (unused by OCPP, kept correct)."""
    check = compile_standalone(GENERIC_SCHEMA)
    reference_validator = jsonschema.Draft6Validator(GENERIC_SCHEMA)
    payload = {field: value}
    ours = check(payload)
    assert (ours is None) == reference_validator.is_valid(payload), (payload, ours)


def test_unsupported_schemas_fail_loudly() -> None:
    for schema in (
        {"type": "object", "properties": {"a": {"pattern": "x"}}},
        {"type": "string", "format": "email"},
        {"type": "object", "properties": {"a": {"$ref": "#/definitions/Missing"}}},
        {"type": "object", "properties": {"a": {"$ref": "other.json#/x"}}},
        {"type": "array", "items": [{"type": "string"}]},
        {"type": "strange"},
    ):
        with pytest.raises(validation.SchemaError):
            compile_standalone(schema)
    with pytest.raises(validation.SchemaError):
        validation._lenient_integers("http://json-schema.org/draft-07/schema#")


def test_recursive_definitions_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OCPP schema is recursive; one that is still compiles, and validate() stays safe."""
    schema = {
        "type": "object",
        "properties": {"node": {"$ref": "#/definitions/Node"}},
        "definitions": {
            "Node": {
                "type": "object",
                "properties": {"next": {"$ref": "#/definitions/Node"}, "v": {"type": "integer"}},
                "additionalProperties": False,
            }
        },
    }
    compiler = schema_compiler.Compiler(True, schema["definitions"], {}, {})
    check = compiler.compile(schema)
    monkeypatch.setitem(validation._CHECKS, ("2.0.1", "Recursive"), check)
    assert validate("2.0.1", "Recursive", {"node": {"next": {"next": {"v": 1}}}}) is None
    assert validate("2.0.1", "Recursive", {"node": {"next": {"v": "x"}}}).path == "/node/next/v"
    payload: dict[str, object] = {}
    for _ in range(100_000):
        payload = {"next": payload}
    violation = validate("2.0.1", "Recursive", {"node": payload})
    assert violation == Violation("format", "", "payload is nested too deeply")


# --------------------------------------------------------------------------- the copied data


def load_copy_schemas() -> Any:
    spec = importlib.util.spec_from_file_location(
        "copy_schemas", ROOT / "tools" / "copy_schemas.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_strip_keeps_properties_named_like_annotations(tmp_path: Path) -> None:
    tool = load_copy_schemas()
    schema = {
        "title": "T",
        "description": "d",
        "type": "object",
        "properties": {
            "description": {"type": "string", "description": "x", "javaType": "J"},
            "title": {"$ref": "#/definitions/comment"},
        },
        "definitions": {"comment": {"type": "string", "comment": "c", "enum": ["description"]}},
        "required": ["description", "title"],
    }
    assert tool.strip_schema(schema) == {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "title": {"$ref": "#/definitions/comment"},
        },
        "definitions": {"comment": {"type": "string", "enum": ["description"]}},
        "required": ["description", "title"],
    }
    with_bom = tmp_path / "Bom.json"
    with_bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(schema).encode())
    assert tool.read_source(with_bom) == schema


@pytest.mark.skipif(not SHARED["1.6"].is_dir(), reason="../shared/spec not present")
def test_packaged_schemas_are_up_to_date() -> None:
    tool = load_copy_schemas()
    for path, text in tool.planned().items():
        assert path.read_text(encoding="utf-8") == text, f"run tools/copy_schemas.py ({path.name})"
