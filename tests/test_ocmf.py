"""Signed meter values (Eichrecht): OCMF records made by the simulated meters (sim/ocmf.py,
sim/meter_signer.py), parsed and verified by an independent verifier (``pyocmf``, whose
signature check uses ``cryptography``, not the ``ecdsa`` package that signs)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pyocmf
import pytest

from ocpp_core import FileStore, MemoryStore
from ocpp_core.validation import validate
from sim.meter_signer import KEYS_DOCUMENT, MeterSigner
from sim.ocmf import MeterIdentity, OcmfReading, signed_meter_value

METER = MeterIdentity("SimMeter", "SM-1", "MS-0001", "1.0", "CP-1", "SN-1", "0.1")
T0 = 1_765_000_000.5


def begin_end(start_wh: float = 1234.5, end_wh: float = 5678.9) -> list[OcmfReading]:
    return [OcmfReading(T0, True, "B", start_wh), OcmfReading(T0 + 3600, True, "E", end_wh)]


def verified(signer: MeterSigner, text: str, connector: int = 1) -> pyocmf.OCMF:
    record = pyocmf.OCMF.from_string(text, strict=True)
    assert record.verify_signature(signer.public_key_hex(connector)) is True
    return record


def test_a_record_parses_strictly_verifies_and_says_what_was_measured() -> None:
    signer = MeterSigner(MemoryStore(), {1: METER})
    record = verified(signer, signer.sign(1, begin_end(), "04A1B2C3", "ISO14443"))
    payload = record.payload
    assert (payload.MV, payload.MS, payload.GI, payload.PG) == ("SimMeter", "MS-0001", "CP-1", "T1")
    assert (payload.IT, payload.ID, payload.IS) == ("ISO14443", "04A1B2C3", True)
    assert [(str(r.TX), float(r.RV), str(r.RU)) for r in payload.RD] == [
        ("B", 1.2345, "kWh"),
        ("E", 5.6789, "kWh"),
    ]
    assert record.check_eichrecht() == []
    assert record.signature.SA == "ECDSA-secp256r1-SHA256"


@pytest.mark.parametrize("tag", ["CARD|1", "Ünïcödé", '"quoted"', "x" * 36])
def test_any_id_token_keeps_the_record_valid(tag: str) -> None:
    """Free-text cards are typed CENTRAL; '|' and non-ASCII are escaped in the payload, so the
    line still has three sections and the ID reads back unchanged."""
    signer = MeterSigner(MemoryStore(), {1: METER})
    text = signer.sign(1, begin_end(), tag, "ISO14443")
    assert text.isascii() and text.count("|") == 2
    record = verified(signer, text)
    assert ("CENTRAL", tag) == (record.payload.IT, record.payload.ID)


def test_a_corrupted_record_is_detected_by_the_verifier() -> None:
    signer = MeterSigner(MemoryStore(), {1: METER})
    signer.corrupt = True
    record = pyocmf.OCMF.from_string(signer.sign(1, begin_end(), "04A1B2C3"), strict=True)
    assert record.verify_signature(signer.public_key_hex(1)) is False


def test_keys_and_pagination_survive_a_restart_and_each_meter_has_its_own(tmp_path: Path) -> None:
    meters = {
        1: METER,
        2: MeterIdentity("SimMeter", "SM-1", "MS-0002", "1.0", "CP-1", "SN-1", "0.1"),
    }
    first = MeterSigner(FileStore(tmp_path), meters)
    assert first.public_key_hex(1) != first.public_key_hex(2)
    pages = [pyocmf.OCMF.from_string(first.sign(1, begin_end(), None)).payload.PG for _ in range(3)]
    assert pages == ["T1", "T2", "T3"]
    again = MeterSigner(FileStore(tmp_path), meters)  # a new process on the same store
    assert again.public_key_hex(1) == first.public_key_hex(1)
    record = verified(again, again.sign(1, begin_end(), None))
    assert record.payload.PG == "T4"
    assert verified(again, again.sign(2, begin_end(), None), 2).payload.PG == "T1"


def test_a_damaged_stored_key_is_replaced_not_fatal(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save(KEYS_DOCUMENT, {"1": "not hex"})
    signer = MeterSigner(store, {1: METER})
    verified(signer, signer.sign(1, begin_end(), None))
    assert store.load(KEYS_DOCUMENT)["1"] != "not hex"


def test_the_signed_meter_value_object_carries_the_record_and_the_oca_key() -> None:
    """SignedMeterValueType (2.0.1 schema): Base64 record, empty signingMethod (SA says it),
    OCMF, the key as Base64 of oca:base16:asn1:<DER hex>; a verifier gets both back."""
    signer = MeterSigner(MemoryStore(), {1: METER})
    text = signer.sign(1, begin_end(), "04A1B2C3")
    value = signed_meter_value(text, signer.public_key(1))
    sampled = {"value": 5678.9, "context": "Transaction.End", "signedMeterValue": value}
    meter_value = {"timestamp": "2026-12-06T00:00:00Z", "sampledValue": [sampled]}
    assert (
        validate("2.0.1", "MeterValuesRequest", {"evseId": 1, "meterValue": [meter_value]}) is None
    )
    assert value["signingMethod"] == "" and value["encodingMethod"] == "OCMF"
    key = base64.b64decode(value["publicKey"]).decode()
    assert key == "oca:base16:asn1:" + signer.public_key_hex(1)
    back = base64.b64decode(value["signedMeterData"]).decode()
    verified(signer, back)
    json.dumps(value)  # what 1.6 sends as the SignedData value
