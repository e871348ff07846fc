"""Signed meter values in OCPP 2.0.1 (calibration law): SampledDataCtrlr.SignReadings and
AlignedDataCtrlr.SignReadings sign the register readings of a transaction with the simulated
meter's key (sim/meter_signer.py), as OCMF in signedMeterValue; the public key goes along as
OCPPCommCtrlr.PublicKeyWithSignedMeterValue says. Every record is parsed and verified by an
independent verifier (pyocmf); a corrupted one fails verification."""

from __future__ import annotations

import base64

import pyocmf
from tx_rig201 import Rig201

from ocpp_core import MemoryStore
from sim.meter_signer import ConnectorMeterSigner, MeterSigner
from sim.ocmf import MeterIdentity

METERS = {
    n: MeterIdentity("SimMeter", "SM-1", f"MS-{n:04d}", "1.0", "CP-1", "SN-1", "0.1")
    for n in (1, 2)
}


def signing_rig(**config: str) -> tuple[Rig201, MeterSigner]:
    rig = Rig201(connectors=2)
    signer = MeterSigner(MemoryStore(), METERS)
    for n in (1, 2):
        rig.cp.connector(n).meter_signer = ConnectorMeterSigner(signer, n)
    for address, value in config.items():
        component, variable = address.split(".")
        result = rig.csms.result(
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "component": {"name": component},
                        "variable": {"name": variable},
                        "attributeValue": value,
                    }
                ]
            },
        )
        assert result["setVariableResult"][0]["attributeStatus"] == "Accepted", result
    return rig, signer


def signed_values(rig: Rig201) -> list[tuple[str, str, dict]]:
    """(eventType, context, signedMeterValue) of every signed value the CSMS received."""
    found = []
    for event in rig.events_tx():
        for value in event.get("meterValue", []):
            for sampled in value["sampledValue"]:
                if "signedMeterValue" in sampled:
                    found.append(
                        (event["eventType"], sampled["context"], sampled["signedMeterValue"])
                    )
    return found


def record_of(signed: dict) -> pyocmf.OCMF:
    return pyocmf.OCMF.from_string(
        base64.b64decode(signed["signedMeterData"]).decode(), strict=True
    )


def run_session(rig: Rig201, token: str = "04A1B2C3", seconds: float = 130.0) -> None:
    rig.plug(1)
    rig.card(token, 1)
    rig.advance(seconds, charging_w=7400.0)
    rig.card(token, 1)
    rig.unplug(1)
    rig.pump()


def test_sign_readings_signs_begin_periodic_and_end_and_each_record_verifies() -> None:
    rig, signer = signing_rig(
        **{"SampledDataCtrlr.SignReadings": "true", "SampledDataCtrlr.TxUpdatedInterval": "60"}
    )
    run_session(rig)
    found = signed_values(rig)
    contexts = [(event, context) for event, context, _ in found]
    assert contexts[0] == ("Started", "Transaction.Begin")
    assert ("Updated", "Sample.Periodic") in contexts
    assert contexts[-1] == ("Ended", "Transaction.End")
    pages = []
    for _event, context, signed in found:
        assert signed["encodingMethod"] == "OCMF" and signed["signingMethod"] == ""
        record = record_of(signed)
        assert record.verify_signature(signer.public_key_hex(1)) is True
        (reading,) = record.payload.RD
        assert str(reading.TX) == {"Transaction.Begin": "B", "Transaction.End": "E"}.get(
            context, "C"
        )
        assert (record.payload.IT, record.payload.ID) == ("ISO14443", "04A1B2C3")
        pages.append(record.payload.PG)
    assert pages == [f"T{n}" for n in range(1, len(pages) + 1)]
    begin, end = record_of(found[0][2]), record_of(found[-1][2])
    assert float(end.payload.RD[0].RV) > float(begin.payload.RD[0].RV)


def test_without_sign_readings_nothing_is_signed() -> None:
    rig, _ = signing_rig()
    run_session(rig)
    assert signed_values(rig) == []


def test_public_key_never_once_per_transaction_or_every_value() -> None:
    for mode, expected in (("Never", 0), ("OncePerTransaction", 1), ("EveryMeterValue", None)):
        rig, signer = signing_rig(
            **{
                "SampledDataCtrlr.SignReadings": "true",
                "SampledDataCtrlr.TxUpdatedInterval": "60",
                "OCPPCommCtrlr.PublicKeyWithSignedMeterValue": mode,
            }
        )
        run_session(rig)
        run_session(rig)  # a second transaction: OncePerTransaction sends the key again
        keys = [signed["publicKey"] for _, _, signed in signed_values(rig)]
        sent = [key for key in keys if key]
        per_transaction = len(keys) // 2
        if expected is None:
            assert len(sent) == len(keys)
        else:
            assert len(sent) == 2 * expected, (mode, keys)
        for key in sent:
            assert base64.b64decode(key).decode() == "oca:base16:asn1:" + signer.public_key_hex(1)
        if mode == "OncePerTransaction":
            assert keys[0] and keys[per_transaction]


def test_sign_readings_is_rejected_where_no_meter_signs() -> None:
    rig = Rig201(connectors=2)
    result = rig.csms.result(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "SampledDataCtrlr"},
                    "variable": {"name": "SignReadings"},
                    "attributeValue": "true",
                }
            ]
        },
    )
    assert result["setVariableResult"][0]["attributeStatus"] == "Rejected"


def test_a_corrupted_signature_is_sent_and_fails_verification() -> None:
    rig, signer = signing_rig(**{"SampledDataCtrlr.SignReadings": "true"})
    signer.corrupt = True
    run_session(rig)
    found = signed_values(rig)
    assert found
    assert all(record_of(s).verify_signature(signer.public_key_hex(1)) is False for *_, s in found)


def test_a_station_with_signed_meter_values_fits_each_connector_with_its_persisted_meter() -> None:
    """``--signed-meter-values`` (StationSettings.signed_meter_values): every connector of the
    engine gets a signing meter, also after the engine is rebuilt; the keys live in the station's
    store, so a restart on the same store signs with the same keys."""
    from station_fakes import Rig as StationRig

    store = MemoryStore()
    first = StationRig(store=store, ocpp_version="2.0.1", signed_meter_values=True)
    assert first.station.meter_signer is not None
    keys = [first.station.meter_signer.public_key_hex(n) for n in (1, 2)]
    for n in (1, 2):
        assert first.station.engine.connector(n).meter_signer is not None
    again = StationRig(store=store, ocpp_version="2.0.1", signed_meter_values=True)
    assert again.station.meter_signer is not None
    assert [again.station.meter_signer.public_key_hex(n) for n in (1, 2)] == keys
    plain = StationRig(ocpp_version="2.0.1")
    assert plain.station.meter_signer is None
    assert plain.station.engine.connector(1).meter_signer is None
