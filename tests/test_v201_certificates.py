"""OCPP 2.0.1 certificate management (M03 GetInstalledCertificateIds, M04 DeleteCertificate, M05
InstallCertificate), after part 6's TC_M_*_CS and the M0x.FR requirements.

Certificates are made with the independent ``cryptography`` library (tests/cert_factory.py); the
hash data the station reports are compared with cryptography's OCSP CertID of the same
certificate. Every frame the station sends is schema-checked (tests/conftest.py).

Requirement ids in names are the ones part 6 ties to the test case (M03.FR.04 hash data, M05.FR.02
success, M05.FR.03 Failed (TC_M_05_CSMS), M05.FR.10/11 AdditionalRootCertificateCheck); part 2's
body is not in ../shared, so other checks are named after their use case only.
"""

from __future__ import annotations

import pytest
from cert_factory import Made, RefusingStore, Verifying, expired, make
from cryptography.hazmat.primitives import hashes
from tx_rig201 import Rig201

from ocpp_core.certificate_store import DOCUMENT, MAX_CERTIFICATES
from sim.cert_verifier import CertificateVerifier

ROOT_CHECK = {"SecurityCtrlr.AdditionalRootCertificateCheck": "true"}


class CertRig(Verifying, Rig201):
    """A 2.0.1 station whose certificate store checks signatures as the sim's does."""


@pytest.fixture(scope="module")
def csms_root() -> Made:
    return make("CSMS Root")


@pytest.fixture(scope="module")
def manufacturer_root() -> Made:
    return make("Manufacturer Root", key_type="rsa")


def install(rig: Rig201, kind: str, certificate: Made | str) -> dict:
    pem = certificate if isinstance(certificate, str) else certificate.pem
    return rig.csms.result("InstallCertificate", {"certificateType": kind, "certificate": pem})


def installed(rig: Rig201, *kinds: str) -> dict:
    payload = {"certificateType": list(kinds)} if kinds else {}
    return rig.csms.result("GetInstalledCertificateIds", payload)


def hashes_of(answer: dict, kind: str | None = None) -> list[dict]:
    return [
        item["certificateHashData"]
        for item in answer.get("certificateHashDataChain", [])
        if kind is None or item["certificateType"] == kind
    ]


def delete(rig: Rig201, hash_data: dict) -> str:
    return rig.csms.result("DeleteCertificate", {"certificateHashData": hash_data})["status"]


# ---------------------------------------------------------------- M05 InstallCertificate


def test_TC_M_01_CS_install_csms_root(csms_root: Made) -> None:
    rig = CertRig()
    assert install(rig, "CSMSRootCertificate", csms_root) == {"status": "Accepted"}
    answer = installed(rig, "CSMSRootCertificate")
    assert answer["status"] == "Accepted"
    assert hashes_of(answer, "CSMSRootCertificate") == [csms_root.hash_data()]


def test_TC_M_02_CS_install_manufacturer_root(manufacturer_root: Made) -> None:
    rig = CertRig()
    assert install(rig, "ManufacturerRootCertificate", manufacturer_root)["status"] == "Accepted"
    answer = installed(rig, "ManufacturerRootCertificate")
    assert hashes_of(answer) == [manufacturer_root.hash_data()]


@pytest.mark.parametrize("kind", ["V2GRootCertificate", "MORootCertificate"])
def test_M05_FR_02_install_v2g_and_mo_roots(kind: str) -> None:
    rig = CertRig()
    root = make(kind, key_type="p384")
    assert install(rig, kind, root)["status"] == "Accepted"
    assert hashes_of(installed(rig, kind), kind) == [root.hash_data()]


def test_TC_M_07_CS_expired_certificate_rejected(csms_root: Made) -> None:
    rig = CertRig()
    install(rig, "CSMSRootCertificate", csms_root)
    old = expired()
    answer = install(rig, "CSMSRootCertificate", old)
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "InvalidCertificate"
    assert "expired" in answer["statusInfo"]["additionalInfo"]
    listed = installed(rig, "CSMSRootCertificate")
    assert listed["status"] == "Accepted"
    assert old.hash_data() not in hashes_of(listed)


@pytest.mark.parametrize(
    "text",
    [
        "garbage",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----",
        "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----",
    ],
)
def test_M05_not_a_certificate_rejected(text: str) -> None:
    rig = CertRig()
    answer = install(rig, "CSMSRootCertificate", text)
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "InvalidCertificate"
    assert installed(rig)["status"] == "NotFound"


def test_M05_not_yet_valid_leaf_and_bad_signature_rejected(csms_root: Made) -> None:
    import datetime as dt

    rig = CertRig()
    future = make("Future", not_before=dt.datetime(2035, 1, 1, tzinfo=dt.UTC))
    leaf = make("Leaf", csms_root, ca=False)
    assert install(rig, "CSMSRootCertificate", future)["statusInfo"]["additionalInfo"] == (
        "not yet valid"
    )
    assert install(rig, "CSMSRootCertificate", leaf)["statusInfo"]["additionalInfo"] == (
        "not a CA certificate"
    )
    # A self-signed root whose signature was damaged in transit.
    der = bytearray(csms_root.der)
    der[-5] ^= 0x01
    from ocpp_core.x509 import der_to_pem

    answer = install(rig, "CSMSRootCertificate", der_to_pem(bytes(der)))
    assert answer["status"] == "Rejected"
    assert installed(rig)["status"] == "NotFound"


def test_M05_two_certificates_in_one_request_rejected(csms_root: Made) -> None:
    rig = CertRig()
    answer = install(rig, "CSMSRootCertificate", csms_root.pem + make("Other").pem)
    assert answer["status"] == "Rejected"


def test_M05_FR_02_same_certificate_twice_is_one_entry(csms_root: Made) -> None:
    rig = CertRig()
    assert install(rig, "CSMSRootCertificate", csms_root)["status"] == "Accepted"
    assert install(rig, "CSMSRootCertificate", csms_root)["status"] == "Accepted"
    assert len(hashes_of(installed(rig))) == 1


def test_M05_store_full_rejected_and_certificate_entries() -> None:
    rig = CertRig()
    roots = [make(f"Root {n}") for n in range(MAX_CERTIFICATES + 1)]
    for root in roots[:-1]:
        assert install(rig, "MORootCertificate", root)["status"] == "Accepted"
    answer = install(rig, "MORootCertificate", roots[-1])
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "OutOfStorage"
    reply = rig.csms.result(
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "CertificateEntries"}}
            ]
        },
    )
    assert reply["getVariableResult"][0]["attributeValue"] == str(MAX_CERTIFICATES)


def test_M05_FR_03_store_refusing_the_write_is_failed(csms_root: Made) -> None:
    rig = CertRig(store=RefusingStore())
    answer = install(rig, "CSMSRootCertificate", csms_root)
    assert answer["status"] == "Failed"
    assert installed(rig)["status"] == "NotFound"


def test_M05_persisted_before_the_answer_and_across_restart(
    csms_root: Made, manufacturer_root: Made
) -> None:
    rig = CertRig()
    install(rig, "CSMSRootCertificate", csms_root)
    install(rig, "ManufacturerRootCertificate", manufacturer_root)
    assert rig.store.load(DOCUMENT) is not None  # stored when the answer was received
    rig.restart()
    answer = installed(rig)
    assert sorted(map(str, hashes_of(answer))) == sorted(
        map(str, [csms_root.hash_data(), manufacturer_root.hash_data()])
    )
    assert [row.kind for row in rig.cp.certificates()] == [
        "CSMSRootCertificate",
        "ManufacturerRootCertificate",
    ]


# ---------------------------------------------------------------- AdditionalRootCertificateCheck


def test_TC_M_09_CS_new_root_not_signed_by_old_rejected(csms_root: Made) -> None:
    rig = CertRig(config=ROOT_CHECK)
    assert install(rig, "CSMSRootCertificate", csms_root)["status"] == "Accepted"
    stranger = make("Other CSMS Root")
    answer = install(rig, "CSMSRootCertificate", stranger)
    assert answer["status"] == "Rejected"
    listed = installed(rig, "CSMSRootCertificate")
    assert hashes_of(listed) == [csms_root.hash_data()]


def test_M05_FR_11_signed_by_old_root_replaces_it_old_kept_as_fallback(csms_root: Made) -> None:
    rig = CertRig(config=ROOT_CHECK)
    install(rig, "CSMSRootCertificate", csms_root)
    new = make("CSMS Root 2", csms_root)  # the new root, signed by the old (M05.FR.09)
    assert install(rig, "CSMSRootCertificate", new)["status"] == "Accepted"
    store = rig.cp.certificate_store
    assert [e.fallback for e in store.entries] == [True, False]
    # The new root first, the fallback after it (M05.FR.13: tried when the new one fails).
    assert store.trust_anchors() == [new.pem.replace("\r", ""), csms_root.pem]
    # A third root must be signed by the one in force (the new), not by the fallback.
    assert install(rig, "CSMSRootCertificate", make("Third", csms_root))["status"] == "Rejected"
    third = make("Third", new)
    assert install(rig, "CSMSRootCertificate", third)["status"] == "Accepted"
    listed = hashes_of(installed(rig, "CSMSRootCertificate"))
    assert csms_root.hash_data() not in listed  # only one root plus one fallback (M05.FR.08)
    assert len(listed) == 2


def test_TC_M_30_CS_fallback_removed_after_connecting_with_new_root(csms_root: Made) -> None:
    rig = CertRig(config=ROOT_CHECK)
    install(rig, "CSMSRootCertificate", csms_root)
    new = make("CSMS Root 2", csms_root)
    install(rig, "CSMSRootCertificate", new)
    rig.restart()  # the reset of the test case; TLS verified the server with the new root
    rig.cp.certificate_store.connected_with(new.der)
    listed = hashes_of(installed(rig, "CSMSRootCertificate"))
    assert listed == [make_hash(new, csms_root)]
    rig.restart()
    assert hashes_of(installed(rig, "CSMSRootCertificate")) == [make_hash(new, csms_root)]


def test_TC_M_31_CS_connected_with_fallback_keeps_it(csms_root: Made) -> None:
    rig = CertRig(config=ROOT_CHECK)
    install(rig, "CSMSRootCertificate", csms_root)
    new = make("CSMS Root 2", csms_root)
    install(rig, "CSMSRootCertificate", new)
    rig.cp.certificate_store.connected_with(csms_root.der)  # the new root did not verify
    assert len(hashes_of(installed(rig, "CSMSRootCertificate"))) == 2


def make_hash(certificate: Made, issuer: Made) -> dict:
    return certificate.hash_data(issuer)


def test_M05_root_check_off_allows_many_csms_roots(csms_root: Made) -> None:
    rig = CertRig()
    install(rig, "CSMSRootCertificate", csms_root)
    assert install(rig, "CSMSRootCertificate", make("Another"))["status"] == "Accepted"
    assert len(hashes_of(installed(rig, "CSMSRootCertificate"))) == 2


def test_M05_root_check_without_verifier_fails_closed(csms_root: Made) -> None:
    rig = Rig201(config=ROOT_CHECK)  # no signature verifier
    install(rig, "CSMSRootCertificate", csms_root)
    answer = install(rig, "CSMSRootCertificate", make("CSMS Root 2", csms_root))
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["additionalInfo"] == (
        "signature unchecked against the CSMS root in force"
    )


def test_additional_root_certificate_check_is_read_only() -> None:
    rig = CertRig()
    reply = rig.csms.result(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "SecurityCtrlr"},
                    "variable": {"name": "AdditionalRootCertificateCheck"},
                    "attributeValue": "true",
                }
            ]
        },
    )
    assert reply["setVariableResult"][0]["attributeStatus"] == "Rejected"


# ---------------------------------------------------------------- M03 GetInstalledCertificateIds


def test_TC_M_12_CS_and_TC_M_13_CS_per_type(csms_root: Made, manufacturer_root: Made) -> None:
    rig = CertRig()
    install(rig, "CSMSRootCertificate", csms_root)
    install(rig, "ManufacturerRootCertificate", manufacturer_root)
    assert hashes_of(installed(rig, "CSMSRootCertificate")) == [csms_root.hash_data()]
    assert hashes_of(installed(rig, "ManufacturerRootCertificate")) == [
        manufacturer_root.hash_data()
    ]


def test_TC_M_17_CS_two_types(csms_root: Made, manufacturer_root: Made) -> None:
    rig = CertRig()
    install(rig, "CSMSRootCertificate", csms_root)
    install(rig, "ManufacturerRootCertificate", manufacturer_root)
    install(rig, "MORootCertificate", make("MO"))
    answer = installed(rig, "CSMSRootCertificate", "ManufacturerRootCertificate")
    kinds = sorted(item["certificateType"] for item in answer["certificateHashDataChain"])
    assert kinds == ["CSMSRootCertificate", "ManufacturerRootCertificate"]


def test_TC_M_18_CS_all_types_when_omitted(csms_root: Made, manufacturer_root: Made) -> None:
    rig = CertRig()
    install(rig, "CSMSRootCertificate", csms_root)
    install(rig, "ManufacturerRootCertificate", manufacturer_root)
    answer = installed(rig)
    assert answer["status"] == "Accepted"
    assert {
        (item["certificateType"], str(item["certificateHashData"]))
        for item in answer["certificateHashDataChain"]
    } == {
        ("CSMSRootCertificate", str(csms_root.hash_data())),
        ("ManufacturerRootCertificate", str(manufacturer_root.hash_data())),
    }


def test_TC_M_19_CS_no_matching_certificate(csms_root: Made) -> None:
    rig = CertRig()
    install(rig, "CSMSRootCertificate", csms_root)
    answer = installed(rig, "MORootCertificate")
    assert answer == {"status": "NotFound"}


def test_M03_FR_04_hash_data_of_an_intermediate_uses_its_issuers_key() -> None:
    """A sub-CA installed next to its root: issuerKeyHash is the root's key, the serial number
    hexadecimal without leading zeroes (errata 2023-12 §2.15.1), checked against OCSP."""
    rig = CertRig()
    root = make("Root", key_type="rsa", serial=0x0100)
    intermediate = make("Intermediate", root, serial=0x00FF)
    install(rig, "MORootCertificate", root)
    install(rig, "MORootCertificate", intermediate)
    listed = hashes_of(installed(rig, "MORootCertificate"))
    assert listed == [root.hash_data(), intermediate.hash_data(root)]
    assert listed[1]["serialNumber"] == "ff"
    assert listed[0]["serialNumber"] == "100"


def test_M03_FR_04_v2g_chain_lists_its_children() -> None:
    """A V2GCertificateChain (what CertificateSigned installs) lists its sub-CAs as
    childCertificateHashData."""
    from ocpp_core.x509 import parse_der

    rig = CertRig()
    root = make("V2G Root")
    sub1 = make("V2G Sub-CA 1", root)
    sub2 = make("V2G Sub-CA 2", sub1)
    leaf = make("SECC", sub2, ca=False)
    install(rig, "V2GRootCertificate", root)
    chain = [parse_der(c.der) for c in (leaf, sub2, sub1)]
    assert rig.cp.certificate_store.replace("V2GCertificateChain", chain)
    answer = installed(rig, "V2GCertificateChain")
    (item,) = answer["certificateHashDataChain"]
    assert item["certificateHashData"] == leaf.hash_data(sub2)
    assert item["childCertificateHashData"] == [sub2.hash_data(sub1), sub1.hash_data(root)]


# ---------------------------------------------------------------- M04 DeleteCertificate


def test_TC_M_20_CS_delete_success(csms_root: Made, manufacturer_root: Made) -> None:
    rig = CertRig()
    install(rig, "CSMSRootCertificate", csms_root)
    install(rig, "ManufacturerRootCertificate", manufacturer_root)
    (hash_data,) = hashes_of(installed(rig, "CSMSRootCertificate"))
    assert delete(rig, hash_data) == "Accepted"
    assert installed(rig, "CSMSRootCertificate")["status"] == "NotFound"
    rig.restart()
    assert installed(rig, "CSMSRootCertificate")["status"] == "NotFound"
    assert hashes_of(installed(rig)) == [manufacturer_root.hash_data()]


def test_M04_delete_matches_other_algorithms_case_and_leading_zeroes() -> None:
    rig = CertRig()
    root = make("Root", serial=0x0ABC)
    install(rig, "CSMSRootCertificate", root)
    wanted = root.hash_data(algorithm="SHA512")
    wanted = {
        **wanted,
        "issuerNameHash": wanted["issuerNameHash"].upper(),
        "serialNumber": "000ABC",
    }
    assert delete(rig, wanted) == "Accepted"
    assert installed(rig)["status"] == "NotFound"


def test_TC_M_22_CS_delete_unknown_certificate(csms_root: Made) -> None:
    rig = CertRig()
    install(rig, "CSMSRootCertificate", csms_root)
    assert delete(rig, make("Unknown").hash_data()) == "NotFound"
    assert hashes_of(installed(rig)) == [csms_root.hash_data()]


def test_TC_M_23_CS_station_certificate_not_deletable(csms_root: Made) -> None:
    from ocpp_core.x509 import parse_der

    rig = CertRig()
    install(rig, "CSMSRootCertificate", csms_root)
    station = make("CP001", csms_root, ca=False)
    assert rig.cp.certificate_store.replace("ChargingStationCertificate", [parse_der(station.der)])
    assert delete(rig, station.hash_data(csms_root)) == "Failed"
    assert rig.cp.certificate_store.entries[-1].kind == "ChargingStationCertificate"


def test_M04_csms_root_in_use_for_the_connection_not_deletable(csms_root: Made) -> None:
    rig = CertRig()
    install(rig, "CSMSRootCertificate", csms_root)
    rig.cp.certificate_store.connected_with(csms_root.der)
    assert delete(rig, csms_root.hash_data()) == "Failed"
    rig.csms.disconnect()
    rig.csms.connect()  # a connection not verified with it (no TLS reported)
    assert delete(rig, csms_root.hash_data()) == "Accepted"


def test_M04_store_refusing_the_delete_is_failed(csms_root: Made) -> None:
    store = RefusingStore(refuse=False)
    rig = CertRig(store=store)
    install(rig, "CSMSRootCertificate", csms_root)
    store.refuse = True
    assert delete(rig, csms_root.hash_data()) == "Failed"
    store.refuse = False
    assert hashes_of(installed(rig)) == [csms_root.hash_data()]


# ---------------------------------------------------------------- the verifier and the API


def test_verifier_checks_rsa_and_ecdsa_signatures() -> None:
    from ocpp_core.x509 import parse_der

    verifier = CertificateVerifier()
    for key_type, algorithm in (
        ("rsa", hashes.SHA256()),
        ("ec", hashes.SHA384()),
        ("p384", hashes.SHA512()),
        ("rsa", hashes.SHA512()),
    ):
        root = make("R", key_type=key_type)
        child = parse_der(make("C", root, hash_algorithm=algorithm).der)
        issuer = parse_der(root.der)
        args = (child.signature_algorithm, child.signature_parameters, child.signature)
        assert verifier.verify(child.tbs, *args, issuer.spki) is True
        assert verifier.verify(child.tbs + b"x", *args, issuer.spki) is False
        other = parse_der(make("R", key_type=key_type).der)
        assert verifier.verify(child.tbs, *args, other.spki) is False


def test_certificate_rows_for_the_station_api(csms_root: Made) -> None:
    rig = CertRig()
    install(rig, "CSMSRootCertificate", csms_root)
    (row,) = rig.cp.certificates()
    assert row.kind == "CSMSRootCertificate"
    assert row.subject == row.issuer == "CN=CSMS Root, O=Test PKI, C=NL"
    assert row.valid_from == "2023-01-01T00:00:00.000Z"
    assert row.valid_to == "2040-01-01T00:00:00.000Z"
    assert row.key == "EC P-256"
    assert row.hash_data == csms_root.hash_data()
    assert row.fallback is False


def test_verifier_ed25519_p521_and_unsupported_rsa_pss() -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.x509.oid import NameOID

    from ocpp_core.x509 import parse_der

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Root")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .serial_number(1)
        .not_valid_before(dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    )
    verifier = CertificateVerifier()
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = [
        (ed25519.Ed25519PrivateKey.generate(), None, {}, True),
        (ec.generate_private_key(ec.SECP521R1()), hashes.SHA512(), {}, True),
        (rsa_key, hashes.SHA256(), {"rsa_padding": pss}, None),  # RSASSA-PSS: not supported
    ]
    for key, algorithm, options, expected in cases:
        signed = builder.public_key(key.public_key()).sign(key, algorithm, **options)
        parsed = parse_der(signed.public_bytes(serialization.Encoding.DER))
        args = (parsed.signature_algorithm, parsed.signature_parameters, parsed.signature)
        assert verifier.verify(parsed.tbs, *args, parsed.spki) is expected
        if expected:
            assert verifier.verify(parsed.tbs + b"x", *args, parsed.spki) is False
