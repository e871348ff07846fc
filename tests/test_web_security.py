"""The Control Center's "Security" panel (issue 15, certificate management): its plain-Python
model (control_center/security_model.py) and the Station API it reads (Station.certificates), on
a simulated station (1.6 and 2.0.1) against a fake backend; the sim's engines check signatures
(sim/cert_verifier.py), so AdditionalRootCertificateCheck works through the Station too."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from cert_factory import make
from station_fakes import FakeBackend, Rig

from ocpp_core import MemoryStore
from ocpp_core.certificate_store import CertificateRow

WEB = Path(__file__).resolve().parent.parent / "web"
sys.path.insert(0, str(WEB))

from control_center.security_model import certificate_lines  # noqa: E402

ROOT_TYPE = {"1.6": "CentralSystemRootCertificate", "2.0.1": "CSMSRootCertificate"}


def test_certificate_lines_name_kind_validity_and_hash_data() -> None:
    data = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "ab" * 32,
        "issuerKeyHash": "cd" * 32,
        "serialNumber": "1f",
    }
    rows = [
        CertificateRow(
            "CSMSRootCertificate",
            "CN=Root, O=PKI",
            "CN=Root, O=PKI",
            "2023-01-01T00:00:00.000Z",
            "2040-01-01T00:00:00.000Z",
            "1f",
            "EC P-256",
            data,
            True,
        ),
        CertificateRow(
            "MORootCertificate", "CN=MO", "CN=X", "a", "b", "2", "RSA 2048", data, False
        ),
    ]
    first, second = certificate_lines(rows)
    assert first.key == "certificate-1"
    assert first.kind == "CSMS root (fallback)"
    assert first.validity == "2023-01-01 to 2040-01-01 · EC P-256"
    assert first.hash_data == (
        f"SHA256 issuerNameHash {'ab' * 32} issuerKeyHash {'cd' * 32} serialNumber 1f"
    )
    assert (second.key, second.kind, second.issuer) == ("certificate-2", "MO root", "CN=X")


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_installed_certificates_shown_through_the_station(version: str) -> None:
    backend = FakeBackend()
    store = MemoryStore()
    rig = Rig(backend, store=store, ocpp_version=version).boot()
    assert rig.station.certificates() == []
    root = make("Station Test Root")
    backend.call(
        "InstallCertificate", {"certificateType": ROOT_TYPE[version], "certificate": root.pem}
    )
    rig.run(1.0)
    (line,) = certificate_lines(rig.station.certificates())
    assert line.kind == "CSMS root"
    assert line.subject == "CN=Station Test Root, O=Test PKI, C=NL"
    hash_data = root.hash_data()
    assert hash_data["issuerKeyHash"] in line.hash_data
    assert f"serialNumber {hash_data['serialNumber']}" in line.hash_data


def test_additional_root_certificate_check_through_the_station_verifier() -> None:
    """The sim's engines get sim/cert_verifier.py: a new CSMS root signed by the old is
    accepted (the old kept as fallback), a stranger rejected."""
    backend = FakeBackend()
    rig = Rig(backend, store=MemoryStore(), ocpp_version="2.0.1").boot()
    engine = rig.station.engine
    assert engine.certificate_store.verifier is not None
    old = make("Old Root")
    engine.certificate_store.install("CSMSRootCertificate", old.pem, 1.7e9, limit=20)
    new = make("New Root", old)
    outcome = engine.certificate_store.install(
        "CSMSRootCertificate", new.pem, 1.7e9, limit=20, root_check=True
    )
    assert outcome.status == "Accepted"
    stranger = make("Stranger")
    outcome = engine.certificate_store.install(
        "CSMSRootCertificate", stranger.pem, 1.7e9, limit=20, root_check=True
    )
    assert outcome.status == "Rejected"
    kinds = [line.kind for line in certificate_lines(rig.station.certificates())]
    assert kinds == ["CSMS root (fallback)", "CSMS root"]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_the_setting_turns_additional_root_certificate_check_on(version: str) -> None:
    """--additional-root-certificate-check: the read-only key/variable is true, so a stranger
    root is Rejected through the CSMS's InstallCertificate."""
    backend = FakeBackend()
    rig = Rig(
        backend, store=MemoryStore(), ocpp_version=version, additional_root_certificate_check=True
    ).boot()
    first, stranger = make("First Root"), make("Stranger Root")
    ids = [
        backend.call(
            "InstallCertificate", {"certificateType": ROOT_TYPE[version], "certificate": c.pem}
        )
        for c in (first, stranger)
    ]
    rig.run(1.0)
    assert [backend.replies[i][2]["status"] for i in ids] == ["Accepted", "Rejected"]
