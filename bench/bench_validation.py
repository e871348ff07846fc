"""Print µs per payload validation: ocpp_core.validation vs jsonschema on the same schemas.

Run: ``.venv/bin/python bench/bench_validation.py``. jsonschema (a dev dependency) gets the
Draft4/Draft6 validator the schema declares and no format checker (without extra packages it
has no date-time checker), so it does slightly less work than ocpp_core, which checks formats.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable

from ocpp_core.validation import _standalone_schema, validate

TIMESTAMP = "2025-01-31T12:00:00.123Z"


def boot_notification() -> dict[str, object]:
    return {
        "chargePointVendor": "Simulator",
        "chargePointModel": "SIM-22",
        "chargePointSerialNumber": "SN-000123",
        "firmwareVersion": "1.4.2",
        "meterType": "Virtual",
    }


def get_configuration_response() -> dict[str, object]:
    keys = [{"key": f"Key{i}", "readonly": i % 3 == 0, "value": str(i * 10)} for i in range(50)]
    return {"configurationKey": keys, "unknownKey": ["Nope"]}


def transaction_event() -> dict[str, object]:
    measurands = ["Energy.Active.Import.Register", "Power.Active.Import", "Current.Import"]
    samples = [
        {"value": 1234.5 + i, "measurand": m, "phase": "L1", "unitOfMeasure": {"unit": "Wh"}}
        for i, m in enumerate(measurands)
    ]
    return {
        "eventType": "Updated",
        "timestamp": TIMESTAMP,
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 7,
        "transactionInfo": {"transactionId": "tx-42", "chargingState": "Charging"},
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [
            {"timestamp": TIMESTAMP, "sampledValue": samples},
            {"timestamp": TIMESTAMP, "sampledValue": samples[:1]},
        ],
    }


CASES: list[tuple[str, str, str, dict[str, object]]] = [
    ("Heartbeat (1.6)", "1.6", "Heartbeat", {}),
    ("BootNotification (1.6)", "1.6", "BootNotification", boot_notification()),
    (
        "GetConfigurationResponse, 50 keys (1.6)",
        "1.6",
        "GetConfigurationResponse",
        get_configuration_response(),
    ),
    (
        "TransactionEventRequest + meter values (2.0.1)",
        "2.0.1",
        "TransactionEventRequest",
        transaction_event(),
    ),
]


def per_call_us(func: Callable[[], object]) -> float:
    """Best of 5 runs of timeit's auto-ranged loop, in µs per call."""
    timer = timeit.Timer(func)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=5, number=number)) / number * 1e6


def jsonschema_validator(version: str, name: str) -> Callable[[object], object] | None:
    """The first-error function of jsonschema for the same schema, or None if not installed."""
    try:
        import jsonschema
    except ImportError:
        return None
    schema = _standalone_schema(version, name)
    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema)
    return lambda payload: next(validator.iter_errors(payload), None)


def main() -> None:
    print(f"{'message':50} {'ocpp_core µs':>13} {'jsonschema µs':>14} {'speed-up':>9}")
    for label, version, name, payload in CASES:
        assert validate(version, name, payload) is None, label
        ours = per_call_us(lambda v=version, n=name, p=payload: validate(v, n, p))
        other = jsonschema_validator(version, name)
        if other is None:
            print(f"{label:50} {ours:13.2f} {'n/a':>14}")
            continue
        assert other(payload) is None, label
        theirs = per_call_us(lambda p=payload, f=other: f(p))
        print(f"{label:50} {ours:13.2f} {theirs:14.1f} {theirs / ours:8.0f}x")


if __name__ == "__main__":
    main()
