"""Open Charge Metering Format (OCMF) records, as a calibration-law (Eichrecht) meter signs them.

A record is one line, ``OCMF|<payload JSON>|<signature JSON>``; the signature covers the payload
section's bytes exactly as they stand in the line (OCMF, "Signature"), so the payload is
serialised once, compactly, and never re-encoded. The payload names the meter (MV, MM, MS, MF),
the station as gateway (GI, GS, GV), a pagination counter (PG ``T<n>``: transaction readings,
counting up and never reused), the user's identification (IS, IL, IF, IT, ID) and the readings
(RD): time with its synchronisation status, reason (TX: B begin, C while charging, E end), the
energy register in kWh under its OBIS code, and the meter status.

How a record travels in OCPP follows the OCA application note on signed meter values: the
``SignedMeterValueType`` object (``signedMeterData`` = Base64 of the record, ``signingMethod``
empty because SA in the record says it, ``encodingMethod`` "OCMF", ``publicKey`` = Base64 of
``oca:base16:asn1:<DER public key in hex>`` or empty); 2.0.1 sends it as a sampledValue's
``signedMeterValue``, 1.6 as a sampledValue whose value is that object as JSON, format
SignedData. This module only formats; signing is sim/meter_signer.py's.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "ALGORITHM",
    "Identification",
    "MeterIdentity",
    "OcmfReading",
    "identification",
    "oca_public_key",
    "payload_text",
    "record",
    "signed_meter_value",
]

ALGORITHM = "ECDSA-secp256r1-SHA256"
FORMAT_VERSION = "1.0"
ENERGY_OBIS = "1-b:1.8.0"  # active energy import, total

# OCPP 2.0.1 IdTokenEnumType -> OCMF identification type (IT); a 1.6 idTag is an RFID card.
_TOKEN_TYPES = {
    "ISO14443": "ISO14443",
    "ISO15693": "ISO15693",
    "eMAID": "EMAID",
    "KeyCode": "KEY_CODE",
    "Local": "LOCAL",
    "Central": "CENTRAL",
    "MacAddress": "UNDEFINED",
    "NoAuthorization": "NONE",
}
# The identifier formats OCMF prescribes for some types; an idTag not written that way (the
# simulator's cards are free text) is reported as CENTRAL: an identifier the backend manages.
_ID_FORMATS = {
    "ISO14443": re.compile(r"[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}"),
    "ISO15693": re.compile(r"[0-9A-Fa-f]{16}"),
    "EMAID": re.compile(r"[A-Za-z0-9]{14,15}"),
}


@dataclass(frozen=True)
class MeterIdentity:
    """The meter (MV, MM, MS, MF) and the station it reports through (GI, GS, GV)."""

    vendor: str
    model: str
    serial: str
    firmware: str
    gateway_id: str
    gateway_serial: str
    gateway_version: str


@dataclass(frozen=True)
class Identification:
    """Who the readings belong to (OCMF "User Identification")."""

    assigned: bool  # IS
    level: str  # IL: NONE, HEARSAY, TRUSTED, VERIFIED, ...
    flags: tuple[str, ...]  # IF: how the assignment was made
    kind: str  # IT: ISO14443, KEY_CODE, ...
    data: str | None  # ID


@dataclass(frozen=True)
class OcmfReading:
    """One reading of the energy register."""

    wall_time: float  # seconds since the epoch
    synchronised: bool  # the station's clock was set by the CSMS (TM status S, else I)
    reason: str  # TX: B, C, E, ...
    energy_wh: float
    status: str = "G"  # ST: G good


def identification(
    id_token: str | None, token_type: str | None, *, remote: bool = False
) -> Identification:
    """The identification of a session's idTag (1.6) or idToken (2.0.1; ``token_type``).

    A token the CSMS accepted is VERIFIED; RFID_PLAIN says it came from the station's reader,
    OCPP_RS from a remote start, OCPP_AUTH that the CSMS authorised it. A token whose type has a
    prescribed format it does not follow is typed CENTRAL.
    """
    if id_token is None:
        return Identification(False, "NONE", ("RFID_NONE", "OCPP_NONE"), "NONE", None)
    reader = "RFID_NONE" if remote else "RFID_PLAIN"
    ocpp = "OCPP_RS" if remote else "OCPP_AUTH"
    kind = "ISO14443" if token_type is None else _TOKEN_TYPES.get(token_type, "UNDEFINED")
    pattern = _ID_FORMATS.get(kind)
    if pattern is not None and pattern.fullmatch(id_token) is None:
        kind = "CENTRAL"
    return Identification(True, "VERIFIED", (reader, ocpp), kind, id_token)


def payload_text(
    meter: MeterIdentity,
    pagination: int,
    who: Identification,
    readings: list[OcmfReading],
) -> str:
    """The payload section: compact JSON, the bytes the signature covers."""
    payload: dict[str, object] = {
        "FV": FORMAT_VERSION,
        "GI": meter.gateway_id,
        "GS": meter.gateway_serial,
        "GV": meter.gateway_version,
        "PG": f"T{pagination}",
        "MV": meter.vendor,
        "MM": meter.model,
        "MS": meter.serial,
        "MF": meter.firmware,
        "IS": who.assigned,
        "IL": who.level,
        "IF": list(who.flags),
        "IT": who.kind,
    }
    if who.data is not None:
        payload["ID"] = who.data
    payload["RD"] = [_reading(r) for r in readings]
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True)
    # "|" separates the record's sections: inside a string (the only place JSON allows it) it is
    # written as its escape, so a reader splitting the line finds three sections.
    return text.replace("|", "\\u007c")


def _reading(reading: OcmfReading) -> dict[str, object]:
    return {
        "TM": _time(reading.wall_time, reading.synchronised),
        "TX": reading.reason,
        "RV": round(reading.energy_wh / 1000.0, 4),
        "RI": ENERGY_OBIS,
        "RU": "kWh",
        "RT": "AC",
        "EF": "",
        "ST": reading.status,
    }


def _time(wall_time: float, synchronised: bool) -> str:
    """``2026-12-06T02:30:00,123+0000 S``: milliseconds after a comma, offset without a colon,
    then the time status (S synchronised, I informative)."""
    moment = datetime.fromtimestamp(wall_time, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + f",{moment.microsecond // 1000:03d}+0000"
    return f"{text} {'S' if synchronised else 'I'}"


def record(payload: str, signature_der: bytes) -> str:
    """The whole OCMF line for a payload section and its DER-encoded signature."""
    signature = json.dumps(
        {
            "SA": ALGORITHM,
            "SE": "hex",
            "SM": "application/x-der",
            "SD": signature_der.hex().upper(),
        },
        separators=(",", ":"),
    )
    return f"OCMF|{payload}|{signature}"


def oca_public_key(public_key_der: bytes) -> str:
    """The public key as the OCA application note composes it, Base64-encoded."""
    text = f"oca:base16:asn1:{public_key_der.hex().upper()}"
    return base64.b64encode(text.encode("ascii")).decode("ascii")


def signed_meter_value(ocmf: str, public_key: str) -> dict[str, str]:
    """The SignedMeterValueType object of a record (``public_key`` "" when not sent)."""
    return {
        "signedMeterData": base64.b64encode(ocmf.encode("ascii")).decode("ascii"),
        "signingMethod": "",
        "encodingMethod": "OCMF",
        "publicKey": public_key,
    }
