"""OCPP 1.6 certificate management (security whitepaper edition 2: M03 GetInstalledCertificateIds,
M04 DeleteCertificate, M05 InstallCertificate; keys CertificateStoreMaxLength and
AdditionalRootCertificateCheck), named after the whitepaper's requirement ids.

Certificates are made with the independent ``cryptography`` library (tests/cert_factory.py); hash
data are compared with cryptography's OCSP CertID. Every frame the station sends is
schema-checked (tests/conftest.py).
"""

from __future__ import annotations

import pytest
from cert_factory import Made, RefusingStore, Verifying, expired, make
from tx_rig import Rig

CS_ROOT = "CentralSystemRootCertificate"
MF_ROOT = "ManufacturerRootCertificate"


class CertRig(Verifying, Rig):
    """A 1.6 station whose certificate store checks signatures as the sim's does."""


@pytest.fixture(scope="module")
def root() -> Made:
    return make("Central System Root", key_type="rsa")


def install(rig: Rig, kind: str, certificate: Made | str) -> str:
    pem = certificate if isinstance(certificate, str) else certificate.pem
    payload = {"certificateType": kind, "certificate": pem}
    return rig.csms.result("InstallCertificate", payload)["status"]


def installed(rig: Rig, kind: str) -> dict:
    return rig.csms.result("GetInstalledCertificateIds", {"certificateType": kind})


def delete(rig: Rig, hash_data: dict) -> str:
    return rig.csms.result("DeleteCertificate", {"certificateHashData": hash_data})["status"]


def key(rig: Rig, name: str) -> dict:
    (item,) = rig.csms.result("GetConfiguration", {"key": [name]})["configurationKey"]
    return item


def test_M05_FR_02_and_M03_FR_03_FR_04_install_and_list(root: Made) -> None:
    rig = CertRig()
    manufacturer = make("Manufacturer Root")
    assert install(rig, CS_ROOT, root) == "Accepted"
    assert install(rig, MF_ROOT, manufacturer) == "Accepted"
    assert installed(rig, CS_ROOT) == {
        "status": "Accepted",
        "certificateHashData": [root.hash_data()],
    }
    assert installed(rig, MF_ROOT)["certificateHashData"] == [manufacturer.hash_data()]


def test_M03_FR_02_not_found() -> None:
    rig = CertRig()
    assert installed(rig, MF_ROOT) == {"status": "NotFound"}


@pytest.mark.parametrize("bad", ["expired", "garbage", "leaf"])
def test_M05_FR_06_invalid_certificate_rejected(root: Made, bad: str) -> None:
    rig = CertRig()
    certificate: Made | str = {
        "expired": lambda: expired(),
        "garbage": lambda: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        "leaf": lambda: make("Leaf", root, ca=False),
    }[bad]()
    assert install(rig, CS_ROOT, certificate) == "Rejected"
    assert installed(rig, CS_ROOT)["status"] == "NotFound"


def test_M05_FR_03_certificate_store_max_length() -> None:
    rig = CertRig(config={"CertificateStoreMaxLength": "2"})
    assert key(rig, "CertificateStoreMaxLength") == {
        "key": "CertificateStoreMaxLength",
        "readonly": True,
        "value": "2",
    }
    assert install(rig, CS_ROOT, make("A")) == "Accepted"
    assert install(rig, MF_ROOT, make("B")) == "Accepted"
    assert install(rig, MF_ROOT, make("C")) == "Rejected"
    status = rig.csms.result(
        "ChangeConfiguration", {"key": "CertificateStoreMaxLength", "value": "5"}
    )["status"]
    assert status == "Rejected"


def test_M05_FR_04_failed_when_the_store_refuses(root: Made) -> None:
    rig = CertRig(store=RefusingStore())
    assert install(rig, CS_ROOT, root) == "Failed"


def test_M05_FR_08_to_FR_10_additional_root_certificate_check(root: Made) -> None:
    rig = CertRig(config={"AdditionalRootCertificateCheck": "true"})
    assert key(rig, "AdditionalRootCertificateCheck")["readonly"] is True
    assert install(rig, CS_ROOT, root) == "Accepted"
    assert install(rig, CS_ROOT, make("Stranger")) == "Rejected"  # M05.FR.10
    new = make("Central System Root 2", root)
    assert install(rig, CS_ROOT, new) == "Accepted"  # M05.FR.11: old kept as the fallback
    listed = installed(rig, CS_ROOT)["certificateHashData"]
    assert listed == [root.hash_data(), new.hash_data(root)]
    rig.cp.certificate_store.connected_with(new.der)  # M05.FR.12
    assert installed(rig, CS_ROOT)["certificateHashData"] == [new.hash_data(root)]
    # The manufacturer roots are not concerned.
    assert install(rig, MF_ROOT, make("M1")) == install(rig, MF_ROOT, make("M2")) == "Accepted"


def test_M04_FR_02_delete_and_persisted(root: Made) -> None:
    rig = CertRig()
    install(rig, CS_ROOT, root)
    install(rig, MF_ROOT, make("Manufacturer"))
    rig.restart()
    assert delete(rig, root.hash_data()) == "Accepted"
    rig.restart()
    assert installed(rig, CS_ROOT)["status"] == "NotFound"
    assert installed(rig, MF_ROOT)["status"] == "Accepted"


def test_M04_FR_04_not_found(root: Made) -> None:
    rig = CertRig()
    install(rig, CS_ROOT, root)
    assert delete(rig, make("Other").hash_data()) == "NotFound"


def test_M04_FR_06_root_in_use_for_the_connection_not_deleted(root: Made) -> None:
    rig = CertRig()
    install(rig, CS_ROOT, root)
    rig.cp.certificate_store.connected_with(root.der)
    assert delete(rig, root.hash_data()) == "Failed"
    assert installed(rig, CS_ROOT)["status"] == "Accepted"
    # Without TLS (profile 1) no root is in use: the last one may be deleted (M04 remark).
    rig.restart()
    assert delete(rig, root.hash_data()) == "Accepted"


def test_station_api_lists_the_1_6_store(root: Made) -> None:
    rig = CertRig()
    install(rig, CS_ROOT, root)
    (row,) = rig.cp.certificates()
    assert (row.kind, row.subject, row.key) == (
        "CSMSRootCertificate",
        "CN=Central System Root, O=Test PKI, C=NL",
        "RSA 2048",
    )
