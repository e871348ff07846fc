"""Signed meter values in OCPP 1.6 (calibration law), keys as the OCA note on signed meter
values in 1.6 names them: SampledDataSignReadings signs the Transaction.Begin and
Transaction.End register readings (in StopTransaction's transactionData),
SampledDataSignUpdatedReadings the periodic ones (MeterValues); each is a SignedData
sampledValue whose value is the SignedMeterValueType object as JSON; PublicKeyWithSignedMeterValue
says when the key goes along; MeterPublicKey[n] lets the CSMS read each signing meter's key.
Every record is verified by an independent verifier (pyocmf)."""

from __future__ import annotations

import base64
import json

from test_v201_signed_meter_values import METERS, record_of
from tx_rig import Rig

from ocpp_core import MemoryStore
from sim.meter_signer import MeterSigner


def signing_rig(**config: str) -> tuple[Rig, MeterSigner]:
    rig = Rig(connectors=2)
    signer = MeterSigner(MemoryStore(), METERS)
    signer.fit(rig.cp)
    for key, value in config.items():
        assert rig.csms.result("ChangeConfiguration", {"key": key, "value": value}) == {
            "status": "Accepted"
        }, key
    return rig, signer


def session(rig: Rig, tag: str = "04A1B2C3", seconds: float = 130.0) -> None:
    rig.plug(1)
    rig.card(tag, 1)
    rig.advance(seconds, charging_w=7400.0)
    rig.card(tag, 1)
    rig.unplug(1)
    rig.pump()


def signed(values: list[dict]) -> list[tuple[str, dict]]:
    """(context, SignedMeterValueType) of every SignedData sampledValue in these MeterValues."""
    return [
        (sampled["context"], json.loads(sampled["value"]))
        for value in values
        for sampled in value["sampledValue"]
        if sampled.get("format") == "SignedData"
    ]


def test_begin_and_end_are_signed_in_the_transaction_data_and_verify() -> None:
    rig, signer = signing_rig(SampledDataSignReadings="true")
    session(rig)
    (stop,) = rig.payloads("StopTransaction")
    found = signed(stop["transactionData"])
    assert [context for context, _ in found] == ["Transaction.Begin", "Transaction.End"]
    begin, end = (record_of(value) for _, value in found)
    for record in (begin, end):
        assert record.verify_signature(signer.public_key_hex(1)) is True
        assert (record.payload.IT, record.payload.ID) == ("ISO14443", "04A1B2C3")
    assert [str(begin.payload.RD[0].TX), str(end.payload.RD[0].TX)] == ["B", "E"]
    assert float(end.payload.RD[0].RV) * 1000 == stop["meterStop"]
    assert [begin.payload.PG, end.payload.PG] == ["T1", "T2"]
    assert all(value["encodingMethod"] == "OCMF" for _, value in found)


def test_updated_readings_sign_the_periodic_meter_values_too() -> None:
    rig, signer = signing_rig(
        SampledDataSignReadings="true",
        SampledDataSignUpdatedReadings="true",
        MeterValueSampleInterval="60",
    )
    session(rig)
    periodic = signed([v for p in rig.payloads("MeterValues") for v in p["meterValue"]])
    assert periodic and {context for context, _ in periodic} == {"Sample.Periodic"}
    for _, value in periodic:
        record = record_of(value)
        assert record.verify_signature(signer.public_key_hex(1)) is True
        assert str(record.payload.RD[0].TX) == "C"


def test_the_public_key_goes_along_once_per_transaction() -> None:
    rig, signer = signing_rig(
        SampledDataSignReadings="true", PublicKeyWithSignedMeterValue="OncePerTransaction"
    )
    session(rig)
    session(rig)
    for stop in rig.payloads("StopTransaction"):
        keys = [value["publicKey"] for _, value in signed(stop["transactionData"])]
        assert keys[0] and not keys[1], keys
        assert base64.b64decode(keys[0]).decode() == "oca:base16:asn1:" + signer.public_key_hex(1)


def test_meter_public_key_n_is_readable_for_signing_meters_only() -> None:
    rig, signer = signing_rig()
    listed = {k["key"]: k for k in rig.csms.result("GetConfiguration", {})["configurationKey"]}
    assert listed["MeterPublicKey[1]"]["readonly"] is True
    assert listed["MeterPublicKey[1]"]["value"] == signer.public_key(1)
    assert "MeterPublicKey[2]" in listed and "MeterPublicKey[3]" not in listed
    answer = rig.csms.result(
        "GetConfiguration", {"key": ["MeterPublicKey[2]", "MeterPublicKey[3]"]}
    )
    assert [k["key"] for k in answer["configurationKey"]] == ["MeterPublicKey[2]"]
    assert answer["unknownKey"] == ["MeterPublicKey[3]"]
    assert rig.csms.result("ChangeConfiguration", {"key": "MeterPublicKey[1]", "value": "x"}) == {
        "status": "Rejected"
    }
    assert rig.csms.result("ChangeConfiguration", {"key": "MeterPublicKey[3]", "value": "x"}) == {
        "status": "NotSupported"
    }


def test_without_a_signing_meter_signing_cannot_be_switched_on_and_no_key_is_listed() -> None:
    rig = Rig(connectors=2)
    result = rig.csms.result(
        "ChangeConfiguration", {"key": "SampledDataSignReadings", "value": "true"}
    )
    assert result == {"status": "Rejected"}
    listed = [k["key"] for k in rig.csms.result("GetConfiguration", {})["configurationKey"]]
    assert not [key for key in listed if key.startswith("MeterPublicKey")]


def test_a_corrupted_record_fails_verification() -> None:
    rig, signer = signing_rig(SampledDataSignReadings="true")
    signer.corrupt = True
    session(rig)
    (stop,) = rig.payloads("StopTransaction")
    found = signed(stop["transactionData"])
    assert found and all(
        record_of(value).verify_signature(signer.public_key_hex(1)) is False for _, value in found
    )
