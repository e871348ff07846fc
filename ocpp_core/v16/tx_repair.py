"""Stored transaction records and journal payloads checked field by field at load (OCPP 1.6).

A Store file can be damaged (a bug of an older version, a disk fault, a hand edit) while still
being JSON. What was stored about a transaction must not cost the transaction, nor block the
messages behind it, so each field is checked on its own and:

* repaired when its meaning survives: a whole number written as ``1.0`` or ``"42"``, a
  fraction of a Wh rounded (``meterStart: 1.5``), an optional field that is wrong dropped;
* given a stand-in when it does not, and the transaction is then *closed*: a transaction
  record without a usable transactionId (taken from its journaled messages), connector or
  idTag is not resumed after a restart but stopped at once, so its StopTransaction still goes
  out; a StartTransaction without a usable connectorId or idTag is sent with 0 or ``""`` (the
  CSMS answers it like any other) and its transaction stopped;
* a record that keeps no transactionId, nor any message of its transaction, cannot reach the
  CSMS's transaction: it is reported unreadable (MessageDiscarded) and deleted;
* a MeterValues whose readings are unusable, or a message of no 1.6 transaction action, cannot
  be repaired: the journal discards it with a record (MessageDiscarded), never blocking the
  queue.

The caller reports every problem (log and RecordRepaired event). Payloads are finally checked
against the official request schema, so nothing repaired here leaves as an invalid frame.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ocpp_core import validation
from ocpp_core.clock import format_datetime, parse_datetime

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.rpc import JsonObject

__all__ = ["EPOCH", "RecordHints", "repair_payload", "repair_record"]

START, STOP, METER_VALUES = "StartTransaction", "StopTransaction", "MeterValues"
EPOCH = format_datetime(0.0)  # the stand-in for a start time nobody kept
_MAX_TAG = 20  # IdToken, CiString20Type
_LIMIT = 2**31  # OCPP 1.6 integers are 32-bit in every CSMS we know


def as_int(value: object) -> int | None:
    """``value`` as a whole number if it means one (``7``, ``7.0``, ``7.4`` rounded, ``"7"``)."""
    if type(value) is int:
        number: float = value
    elif type(value) is float and value == value and abs(value) < _LIMIT:
        number = round(value)
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value) < 12:
        number = int(value)
    else:
        return None
    return int(number) if -_LIMIT <= number < _LIMIT else None


def as_count(value: object) -> int | None:
    """``value`` as a whole number >= 0 (a meter register, a connector), if it means one."""
    number = as_int(value)
    return number if number is not None and number >= 0 else None


def as_tag(value: object) -> str | None:
    """``value`` as an idTag (a string of at most 20 characters)."""
    return value if isinstance(value, str) and len(value) <= _MAX_TAG else None


def as_time(value: object) -> str | None:
    """``value`` as an RFC 3339 timestamp."""
    if not isinstance(value, str):
        return None
    try:
        parse_datetime(value)
    except (TypeError, ValueError):
        return None
    return value


class RecordHints(NamedTuple):
    """What the journaled messages of a transaction tell about it (None: nothing)."""

    transaction_id: int | None
    connector: int | None


def repair_record(
    stored: object, hints: RecordHints, connectors: int
) -> tuple[JsonObject | None, list[str], bool]:
    """The fields of a ``tx/<id>`` record, repaired (None: not even the CSMS's transactionId
    is known, from the record or its messages, so no StopTransaction could reach it); the
    problems found; whether the transaction must be closed (a field that identifies it could
    not be repaired)."""
    fields = stored if isinstance(stored, dict) else {}
    problems = [] if fields is stored else [f"record {str(stored)[:80]!r} is not an object"]
    closed = fields is not stored

    def bad(name: str, remedy: str) -> None:
        if name in fields:
            problems.append(f"{name} {fields[name]!r} unusable; {remedy}")
        else:
            problems.append(f"{name} missing; {remedy}")

    repaired: JsonObject = {}
    transaction_id = as_int(fields.get("transactionId"))
    if transaction_id is None:
        transaction_id = hints.transaction_id
        if transaction_id is None:
            bad("transactionId", "not in its messages either")
            return None, problems, True
        bad("transactionId", f"{transaction_id} taken from its messages")
        closed = True
    elif transaction_id != fields["transactionId"]:
        bad("transactionId", f"read as {transaction_id}")
    repaired["transactionId"] = transaction_id
    connector = as_count(fields.get("connector"))
    if connector is None or not 0 < connector <= connectors:
        hint = hints.connector
        connector = hint if hint is not None and 0 < hint <= connectors else 0
        bad("connector", f"{connector} used" + (" (from its messages)" if connector else ""))
        closed = True
    elif connector != fields["connector"]:
        bad("connector", f"read as {connector}")
    repaired["connector"] = connector
    id_tag = as_tag(fields.get("idTag"))
    if id_tag is None:
        bad("idTag", '"" used')
        id_tag, closed = "", True
    repaired["idTag"] = id_tag
    last = fields.get("lastMeter")
    last_meter = as_count(last)
    if last is not None and last_meter is None:
        bad("lastMeter", "dropped")
    meter_start = as_count(fields.get("meterStart"))
    if meter_start is None:
        meter_start = 0 if last_meter is None else last_meter
        bad("meterStart", f"{meter_start} used")
    elif meter_start != fields["meterStart"]:
        bad("meterStart", f"read as {meter_start}")
    repaired["meterStart"] = meter_start
    if last_meter is not None:
        repaired["lastMeter"] = last_meter
    timestamp = as_time(fields.get("timestamp"))
    if timestamp is None:
        bad("timestamp", f"{EPOCH} used")
        timestamp = EPOCH
    repaired["timestamp"] = timestamp
    for name, check in (("reservationId", as_int), ("parentIdTag", as_tag)):
        value = fields.get(name)
        if value is not None:
            usable = check(value)
            if usable is None:
                bad(name, "dropped")
            else:
                repaired[name] = usable
    invalid = fields.get("invalid", False)
    if type(invalid) is not bool:
        bad("invalid", "taken as false")
        invalid = False
    repaired["invalid"] = invalid
    return repaired, problems, closed


# Per action: field -> (how to read it, what stands in when it cannot be read). A stand-in of
# None drops the field (optional, or filled in from the transaction: ``_FILLED``).
_FIELDS: dict[str, dict[str, tuple[Callable[[object], object], object]]] = {
    START: {
        "connectorId": (as_count, 0),
        "idTag": (as_tag, ""),
        "meterStart": (as_count, 0),
        "timestamp": (as_time, EPOCH),
        "reservationId": (as_int, None),
    },
    STOP: {
        "meterStop": (as_count, None),
        "timestamp": (as_time, None),
        "transactionId": (as_int, None),
        "reason": (lambda value: value, None),
        "idTag": (as_tag, None),
        "transactionData": (lambda value: value, None),
    },
    METER_VALUES: {
        "connectorId": (as_count, None),
        "transactionId": (as_int, None),
        "meterValue": (lambda value: value, None),
    },
}
_CLOSING = frozenset({(START, "connectorId"), (START, "idTag")})  # stand-ins that close it
_REQUIRED = {METER_VALUES: ("connectorId", "meterValue")}  # no stand-in: the entry is unusable
# Filled in from the transaction (``tx_journal``) when dropped here, for the schema check.
_FILLED = {STOP: {"meterStop": 0, "timestamp": EPOCH, "transactionId": 0}, METER_VALUES: {}}


def repair_payload(action: str, payload: JsonObject) -> tuple[JsonObject | None, list[str], bool]:
    """The payload of a journaled message, repaired (None: unusable); the problems found;
    whether its transaction must be closed. A StopTransaction may come back without
    ``meterStop``/``timestamp``/``transactionId``: the caller fills them from the transaction."""
    fields = _FIELDS.get(action)
    if fields is None:
        return None, [f"{action!r} is not a transaction message"], False
    problems: list[str] = []
    closed = False
    repaired: JsonObject = {}
    for name, value in payload.items():
        if name not in fields:
            problems.append(f"{name} not a field of {action}; dropped")
            continue
        read, stand_in = fields[name]
        usable = read(value)
        if usable is None:
            if stand_in is None:
                problems.append(f"{name} {value!r} unusable; dropped")
                continue
            problems.append(f"{name} {value!r} unusable; {stand_in!r} used")
            usable = stand_in
            closed = closed or (action, name) in _CLOSING
        elif usable != value:
            problems.append(f"{name} {value!r} read as {usable!r}")
        repaired[name] = usable
    for name, (_, stand_in) in fields.items():
        if name not in repaired and stand_in is not None:
            problems.append(f"{name} missing; {stand_in!r} used")
            repaired[name] = stand_in
            closed = closed or (action, name) in _CLOSING
    # What the field readers cannot judge (reason, readings), against the schema.
    for _ in range(len(fields)):
        candidate = {**_FILLED.get(action, {}), **repaired}
        violation = validation.validate("1.6", action, candidate)
        if violation is None:
            return repaired, problems, closed
        name = violation.path.split("/")[1] if violation.path.count("/") else ""
        if name not in repaired or name in _REQUIRED.get(action, ()) or name in _FIELDS[START]:
            problems.append(f"{violation.path or '/'}: {violation.message}")
            return None, problems, closed
        problems.append(f"{name} {violation.message}; dropped")
        del repaired[name]
    return None, problems, closed
