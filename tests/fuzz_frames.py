"""Seeded OCPP 1.6 and 2.0.1 frame generators for the fuzz tests: valid CSMS-initiated CALLs
mutated one defect at a time, each with the OCPP-J CALLERROR code that defect deserves (spelled
as the version spells it).

The mutation sites come from the official schemas bundled with the package (read here as data),
so every field of every CSMS-initiated action gets its turn. 2.0.1's schemas are draft-06, where
an integer may be written 5.0: its "float-int" mutation sends one and expects a result.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

T0 = "2023-11-14T22:13:20Z"
T1 = "2023-11-15T22:13:20Z"
SURROGATES = ["\ud800", "\udfff", "\ud800A", "A\udc00", "\udbff\ud800"]  # lone, reversed pairs
HUGE_TEXT = "1e400"  # valid JSON grammar, overflows a float
HUGE_INT = 10**400  # a JSON integer of 401 digits
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
HASH_DATA = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "a" * 64,
    "issuerKeyHash": "b" * 64,
    "serialNumber": "1f",
}

VALID: dict[str, dict[str, Any]] = {
    "CancelReservation": {"reservationId": 5},
    "ChangeAvailability": {"connectorId": 2, "type": "Inoperative"},
    "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "120"},
    "ClearCache": {},
    "ClearChargingProfile": {
        "id": 8,
        "connectorId": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "stackLevel": 1,
    },
    "DataTransfer": {"vendorId": "com.example", "messageId": "Ping", "data": "hello"},
    "GetCompositeSchedule": {"connectorId": 1, "duration": 600, "chargingRateUnit": "A"},
    "GetConfiguration": {"key": ["HeartbeatInterval", "MeterValueSampleInterval"]},
    "GetDiagnostics": {
        "location": "ftp://diag.example/up",
        "retries": 0,
        "retryInterval": 1,
        "startTime": T0,
        "stopTime": T1,
    },
    "GetLocalListVersion": {},
    "GetLog": {
        "logType": "SecurityLog",
        "requestId": 7,
        "retries": 0,
        "retryInterval": 1,
        "log": {"remoteLocation": "ftp://logs.example.com/up", "oldestTimestamp": T0},
    },
    "RemoteStartTransaction": {
        "connectorId": 1,
        "idTag": "REMOTE-1",
        "chargingProfile": {
            "chargingProfileId": 11,
            "stackLevel": 2,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            },
        },
    },
    "RemoteStopTransaction": {"transactionId": 1001},
    "ReserveNow": {
        "connectorId": 2,
        "expiryDate": T1,
        "idTag": "RES-1",
        "parentIdTag": "PARENT-1",
        "reservationId": 5,
    },
    "Reset": {"type": "Soft"},
    "SendLocalList": {
        "listVersion": 3,
        "updateType": "Full",
        "localAuthorizationList": [
            {
                "idTag": "LOCAL-1",
                "idTagInfo": {"status": "Accepted", "expiryDate": T1, "parentIdTag": "PARENT-1"},
            },
            {"idTag": "LOCAL-2"},
        ],
    },
    "SetChargingProfile": {
        "connectorId": 0,
        "csChargingProfiles": {
            "chargingProfileId": 8,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "validFrom": T0,
            "validTo": T1,
            "chargingSchedule": {
                "duration": 86400,
                "startSchedule": T0,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                    {"startPeriod": 600, "limit": 10.0},
                ],
                "minChargingRate": 6.0,
            },
        },
    },
    "TriggerMessage": {"requestedMessage": "StatusNotification", "connectorId": 1},
    "ExtendedTriggerMessage": {"requestedMessage": "StatusNotification", "connectorId": 1},
    "UnlockConnector": {"connectorId": 1},
    "InstallCertificate": {"certificateType": "CentralSystemRootCertificate", "certificate": PEM},
    "GetInstalledCertificateIds": {"certificateType": "ManufacturerRootCertificate"},
    "DeleteCertificate": {"certificateHashData": HASH_DATA},
    "CertificateSigned": {"certificateChain": PEM},
    "UpdateFirmware": {
        "location": "http://fw.example/fw.bin",
        "retrieveDate": T0,
        "retries": 0,
        "retryInterval": 1,
    },
}
"""A valid request of every CSMS-initiated OCPP 1.6 action the station implements."""

NOT_SUPPORTED = {
    "SignedUpdateFirmware": {
        "requestId": 1,
        "firmware": {
            "location": "http://fw.example/fw.bin",
            "retrieveDateTime": T0,
            "signingCertificate": "-----BEGIN CERTIFICATE-----",
            "signature": "c2ln",
        },
    }
}
"""Actions of the bundled schemas the station does not implement: NotSupported, whatever the
payload (the route is decided before the payload is validated)."""

TOKEN = {"idToken": "FUZZ-1", "type": "ISO14443"}
COMPONENT = {"name": "OCPPCommCtrlr"}

VALID_201: dict[str, dict[str, Any]] = {
    "ChangeAvailability": {"operationalStatus": "Inoperative", "evse": {"id": 2, "connectorId": 1}},
    "CancelReservation": {"reservationId": 1},
    "ReserveNow": {"id": 1, "expiryDateTime": T1, "idToken": TOKEN, "evseId": 2},
    "ClearCache": {},
    "SetDisplayMessage": {
        "message": {
            "id": 3,
            "priority": "InFront",
            "state": "Idle",
            "startDateTime": "2023-11-14T00:00:00Z",
            "endDateTime": T1,
            "message": {"format": "HTML", "language": "en", "content": "<b>0.30 EUR/kWh</b>"},
        }
    },
    "GetDisplayMessages": {"requestId": 1, "id": [3, 4], "priority": "InFront", "state": "Idle"},
    "ClearDisplayMessage": {"id": 3},
    "CostUpdated": {"totalCost": 12.34, "transactionId": "TX-1"},
    "ClearChargingProfile": {
        "chargingProfileCriteria": {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile"}
    },
    "DataTransfer": {"vendorId": "com.example", "messageId": "Ping", "data": {"k": [1, "v"]}},
    "GetBaseReport": {"requestId": 4, "reportBase": "ConfigurationInventory"},
    "GetChargingProfiles": {
        "requestId": 6,
        "evseId": 1,
        "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile", "chargingProfileId": [3]},
    },
    "GetCompositeSchedule": {"duration": 600, "evseId": 1, "chargingRateUnit": "W"},
    "GetLocalListVersion": {},
    "GetLog": {
        "logType": "DiagnosticsLog",
        "requestId": 7,
        "retries": 1,
        "retryInterval": 30,
        "log": {
            "remoteLocation": "ftp://logs.example.com/upload",
            "oldestTimestamp": "2023-11-14T00:00:00Z",
            "latestTimestamp": T1,
        },
    },
    "UpdateFirmware": {
        "requestId": 8,
        "retries": 0,
        "retryInterval": 60,
        "firmware": {
            "location": "ftp://fw.example.com/fw-2.1.bin",
            "retrieveDateTime": T1,
            "installDateTime": T1,
        },
    },
    "CustomerInformation": {
        "requestId": 9,
        "report": True,
        "clear": False,
        "idToken": TOKEN,
    },
    "GetReport": {
        "requestId": 5,
        "componentCriteria": ["Available"],
        "componentVariable": [
            {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}
        ],
    },
    "GetTransactionStatus": {"transactionId": "TX-1"},
    "GetVariables": {
        "getVariableData": [
            {"component": COMPONENT, "variable": {"name": "HeartbeatInterval"}},
            {
                "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                "variable": {"name": "AvailabilityState"},
                "attributeType": "Actual",
            },
        ]
    },
    "RequestStartTransaction": {
        "evseId": 1,
        "remoteStartId": 12,
        "idToken": TOKEN,
        "groupIdToken": {"idToken": "GROUP-1", "type": "Central"},
        "chargingProfile": {
            "id": 9,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": [
                {
                    "id": 1,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                }
            ],
        },
    },
    "RequestStopTransaction": {"transactionId": "TX-1"},
    "Reset": {"type": "OnIdle", "evseId": 1},
    "SendLocalList": {
        "versionNumber": 3,
        "updateType": "Full",
        "localAuthorizationList": [
            {
                "idToken": {"idToken": "LOCAL-1", "type": "ISO14443"},
                "idTokenInfo": {"status": "Accepted", "cacheExpiryDateTime": T1},
            },
            {"idToken": {"idToken": "LOCAL-2", "type": "KeyCode"}},
        ],
    },
    "SetChargingProfile": {
        "evseId": 1,
        "chargingProfile": {
            "id": 3,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "validTo": T1,
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2023-11-14T00:00:00Z",
                    "duration": 86400,
                    "chargingRateUnit": "A",
                    "minChargingRate": 6.0,
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                        {"startPeriod": 3600, "limit": 10.0},
                    ],
                }
            ],
        },
    },
    "SetVariables": {
        "setVariableData": [
            {
                "component": COMPONENT,
                "variable": {"name": "HeartbeatInterval"},
                "attributeValue": "120",
                "attributeType": "Actual",
            }
        ]
    },
    "TriggerMessage": {
        "requestedMessage": "StatusNotification",
        "evse": {"id": 1, "connectorId": 1},
    },
    "UnlockConnector": {"evseId": 1, "connectorId": 1},
    "SetVariableMonitoring": {
        "setMonitoringData": [
            {
                "value": 40.5,
                "type": "UpperThreshold",
                "severity": 3,
                "transaction": False,
                "component": {"name": "TemperatureSensor"},
                "variable": {"name": "Temperature"},
            },
            {
                "id": 2,
                "value": 1,
                "type": "Delta",
                "severity": 8,
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "Power"},
            },
        ]
    },
    "ClearVariableMonitoring": {"id": [1, 2, 100]},
    "SetMonitoringBase": {"monitoringBase": "FactoryDefault"},
    "SetMonitoringLevel": {"severity": 5},
    "InstallCertificate": {"certificateType": "V2GRootCertificate", "certificate": PEM},
    "GetInstalledCertificateIds": {"certificateType": ["CSMSRootCertificate", "MORootCertificate"]},
    "DeleteCertificate": {"certificateHashData": HASH_DATA},
    "CertificateSigned": {"certificateChain": PEM, "certificateType": "ChargingStationCertificate"},
    "GetMonitoringReport": {
        "requestId": 7,
        "monitoringCriteria": ["ThresholdMonitoring", "PeriodicMonitoring"],
        "componentVariable": [{"component": {"name": "TemperatureSensor"}}],
    },
}
"""A valid request of every CSMS-initiated OCPP 2.0.1 action the station implements."""

NOT_SUPPORTED_201 = {"UnpublishFirmware": {"checksum": "0123456789abcdef0123456789abcdef"}}
"""2.0.1 actions of the bundled schemas the station does not implement (yet: issue 14)."""

# The codes OCPP-J 1.6 §4.2.3 gives each kind of defect (its published spellings).
FORMATION = "FormationViolation"
TYPE = "TypeConstraintViolation"
PROPERTY = "PropertyConstraintViolation"
OCCURRENCE = "OccurenceConstraintViolation"
RESULT = "result"  # a CALLRESULT
SCHEMA_CODES = {FORMATION, TYPE, PROPERTY, OCCURRENCE}


@dataclass(frozen=True)
class Flavour:
    """What differs between the versions' fuzzing: the actions, their schemas, the codes."""

    version: str
    schemas: str  # the bundled schema file
    valid: dict[str, dict[str, Any]]
    not_supported: dict[str, dict[str, Any]]
    format_code: str
    occurrence_code: str
    lenient_integers: bool  # draft-06: 5.0 is an integer
    request_suffix: str = ""  # an action's request schema is named action + this


V16 = Flavour("1.6", "v16.json", VALID, NOT_SUPPORTED, FORMATION, OCCURRENCE, False)
V201 = Flavour(
    "2.0.1",
    "v201.json",
    VALID_201,
    NOT_SUPPORTED_201,
    "FormatViolation",
    "OccurrenceConstraintViolation",
    True,
    "Request",
)


@dataclass(frozen=True)
class Fuzzed:
    """One frame to send and what must come back: ``expected`` is a set of codes (RESULT for a
    CALLRESULT); None means no reply at all (no usable message id)."""

    kind: str
    message_id: str | None
    text: str
    expected: frozenset[str] | None


@cache
def _bundle(schemas: str = "v16.json") -> tuple[dict[str, Any], dict[str, Any]]:
    doc = json.loads((files("ocpp_core") / "schemas" / schemas).read_text(encoding="utf-8"))
    return doc["definitions"], doc["schemas"]


def _resolve(node: dict[str, Any], schemas: str) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str):
        return _bundle(schemas)[0][ref.rsplit("/", 1)[-1]]
    return node


def _sites(
    value: Any, schema: dict[str, Any], schemas: str, path: tuple[Any, ...] = ()
) -> list[Any]:
    """(path, schema, value) of every node of a valid payload."""
    schema = _resolve(schema, schemas)
    found = [(path, schema, value)]
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                found += _sites(item, props[key], schemas, (*path, key))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += _sites(item, schema["items"], schemas, (*path, index))
    return found


def _set(payload: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    target = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return payload


def _wrong_type(schema: dict[str, Any], rng: random.Random) -> Any:
    kind = schema.get("type")
    choices: list[Any] = ["text", 7, 2.5, True, None, [], {}]
    allowed = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: type(v) is int,
        "number": lambda v: type(v) in (int, float),
        "boolean": lambda v: type(v) is bool,
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
    }[kind]
    return rng.choice([v for v in choices if not allowed(v)])


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for n in range(depth):
        value = [value] if n % 2 else {"k": value}
    return value


def mutate(
    action: str, rng: random.Random, message_id: str, flavour: Flavour = V16
) -> tuple[str, dict[str, Any] | str, frozenset[str]]:
    """(kind, payload or raw payload text, expected codes) of one single-defect mutation."""
    payload = copy.deepcopy(flavour.valid[action])
    schema = _bundle(flavour.schemas)[1][action + flavour.request_suffix]
    sites = _sites(payload, schema, flavour.schemas)
    formation = flavour.format_code
    kinds = ["type", "surrogate", "deep", "huge-text", "huge-int", "enum", "length", "date"]
    kinds += ["missing", "unknown", "valid"]
    if flavour.lenient_integers:
        kinds.append("float-int")
    rng.shuffle(kinds)
    for kind in kinds:
        if kind == "valid":
            return kind, payload, frozenset({RESULT})
        if kind == "missing":
            objects = [s for s in sites if isinstance(s[2], dict) and s[1].get("required")]
            if objects:
                path, node, value = rng.choice(objects)
                del value[rng.choice(node["required"])]
                return kind, payload, frozenset({flavour.occurrence_code})
        elif kind == "unknown":
            objects = [s for s in sites if isinstance(s[2], dict)]
            objects = [s for s in objects if s[1].get("additionalProperties") is False]
            if objects:
                _, _, value = rng.choice(objects)
                value["fuzzExtra"] = 1
                return kind, payload, frozenset({formation})
        elif kind == "float-int":
            integers = [s for s in sites if s[1].get("type") == "integer" and type(s[2]) is int]
            if integers:
                path, _, value = rng.choice(integers)
                return kind, _set(payload, path, float(value)), frozenset({RESULT})
        else:
            leaves = [s for s in sites if s[0] and "type" in s[1]]
            if kind == "type" and leaves:
                path, node, _ = rng.choice(leaves)
                return kind, _set(payload, path, _wrong_type(node, rng)), frozenset({TYPE})
            if kind == "deep" and leaves:
                path, node, _ = rng.choice(leaves)
                depth = rng.choice([3, 20, 40, 100, 3000])
                # Deeper than the frame limit (64 levels with the frame's own): refused unread.
                if depth > 64:
                    marker = "@@DEEP@@"
                    deep = "[" * depth + "]" * depth
                    text = json.dumps(_set(payload, path, marker)).replace(f'"{marker}"', deep)
                    return kind, text, frozenset({formation})
                if node.get("type") not in ("object", "array"):
                    return kind, _set(payload, path, _nested(depth)), frozenset({TYPE})
            strings = [s for s in leaves if isinstance(s[2], str)]
            free = [s for s in strings if "enum" not in s[1] and "format" not in s[1]]
            if kind == "surrogate" and free:
                path, node, value = rng.choice(free)
                text = rng.choice(SURROGATES)
                text = (text + value)[: node.get("maxLength", 500)]
                return kind, _set(payload, path, text), frozenset({RESULT})
            if kind == "enum":
                enums = [s for s in strings if "enum" in s[1]]
                if enums:
                    path, _, value = rng.choice(enums)
                    return kind, _set(payload, path, value + "X"), frozenset({PROPERTY})
            if kind == "length":
                bounded = [s for s in free if "maxLength" in s[1]]
                if bounded:
                    path, node, _ = rng.choice(bounded)
                    return (
                        kind,
                        _set(payload, path, "L" * (node["maxLength"] + 1)),
                        frozenset({PROPERTY}),
                    )
            if kind == "date":
                dates = [s for s in strings if s[1].get("format") == "date-time"]
                if dates:
                    path, _, _ = rng.choice(dates)
                    bad = rng.choice(["yesterday", "2023-13-01T00:00:00Z", "2023-11-14"])
                    return kind, _set(payload, path, bad), frozenset({PROPERTY})
            numbers = [s for s in leaves if s[1].get("type") in ("integer", "number")]
            if kind == "huge-text" and numbers:
                path, _, _ = rng.choice(numbers)
                marker = "@@HUGE@@"
                text = json.dumps(_set(payload, path, marker)).replace(f'"{marker}"', HUGE_TEXT)
                return kind, text, frozenset({formation})
            if kind == "huge-int" and numbers:
                path, _, _ = rng.choice(numbers)
                # Valid JSON and schema-valid (no bound in 1.6): a result, or refused as a value
                # the station cannot hold; never an internal error.
                return kind, _set(payload, path, HUGE_INT), frozenset({RESULT, PROPERTY})
    raise AssertionError(f"no mutation for {action}")


def fuzzed_call(rng: random.Random, message_id: str, flavour: Flavour = V16) -> Fuzzed:
    """A CSMS-initiated CALL: mutated, valid, hostile in framing or an unsupported action."""
    roll = rng.random()
    if roll < 0.04:
        action = rng.choice(sorted(flavour.not_supported))
        text = json.dumps([2, message_id, action, flavour.not_supported[action]])
        return Fuzzed("not-supported", message_id, text, frozenset({"NotSupported"}))
    if roll < 0.07:
        text = json.dumps([2, message_id, "FuzzAction", {}])
        return Fuzzed("unknown-action", message_id, text, frozenset({"NotImplemented"}))
    if roll < 0.10:
        garbage = ["[2,", "{}", "null", "[]", '"\\ud800"', "\ufeff[]"]
        return Fuzzed("garbage", None, rng.choice(garbage), None)
    if roll < 0.13:
        text = "[" * 5000 + "]" * 5000
        return Fuzzed("deep-frame", None, text, None)
    action = rng.choice(sorted(flavour.valid))
    kind, payload, expected = mutate(action, rng, message_id, flavour)
    if isinstance(payload, str):
        text = f'[2,{json.dumps(message_id)},"{action}",{payload}]'
    else:
        text = json.dumps([2, message_id, action, payload])
    return Fuzzed(f"{action}:{kind}", message_id, text, expected)


def hostile_id_tag_info(rng: random.Random) -> dict[str, Any]:
    """A valid idTagInfo a buggy CSMS may send: lone surrogates in parentIdTag."""
    info: dict[str, Any] = {"status": "Accepted"}
    if rng.random() < 0.5:
        info["parentIdTag"] = rng.choice(SURROGATES)
    if rng.random() < 0.3:
        info["expiryDate"] = T1
    return info
