"""The CA side of certificate renewal (A02/A03) for the tests, with the independent
``cryptography`` library: read the station's CSR (PEM, PKCS#10) and check its signature and
subject, issue a leaf for its key from a test CA (root -> intermediate), and the rigs whose
station renews (the sim's ECDSA key pairs, the sim's signature verifier)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cert_factory import NOT_AFTER, NOT_BEFORE, Made, Verifying, make
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tx_rig import Rig
from tx_rig201 import Rig201

from sim.station_keys import StationKeyPairs

CHARGE_BOX_ID = "CS-RENEW-1"
ORGANIZATION = "Test CPO B.V."


class Renewing(Verifying):
    """A rig mixin: the engine renews with the sim's key pairs, named CHARGE_BOX_ID."""

    def _build(self, now: float) -> tuple[Any, Any]:
        cp, csms = super()._build(now)
        renewal = cp.certificate_renewal
        renewal.key_pairs, renewal.common_name = StationKeyPairs(), CHARGE_BOX_ID
        return cp, csms


class RenewRig201(Renewing, Rig201):
    base_config = {"SecurityCtrlr.OrganizationName": ORGANIZATION}  # noqa: RUF012


class RenewRig16(Renewing, Rig):
    base_config = {"MeterValueSampleInterval": "0", "CpoName": ORGANIZATION}  # noqa: RUF012


def read_csr(pem: str) -> x509.CertificateSigningRequest:
    """The station's CSR, checked as a CA would: PEM PKCS#10, valid self-signature, a P-256
    key (at least 224 bits, A00.FR.503), signed with ECDSA SHA-256."""
    assert pem.startswith("-----BEGIN CERTIFICATE REQUEST-----\n"), pem[:40]
    csr = x509.load_pem_x509_csr(pem.encode("ascii"))
    assert csr.is_signature_valid
    key = csr.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.key_size >= 224
    assert csr.signature_hash_algorithm is not None
    assert csr.signature_hash_algorithm.name == "sha256"
    return csr


def subject_of(csr: x509.CertificateSigningRequest) -> dict[str, str]:
    names = {NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATION_NAME: "O"}
    return {names.get(a.oid, a.oid.dotted_string): str(a.value) for a in csr.subject}


class Ca:
    """A test CA: root -> intermediate, issuing station certificates for CSRs."""

    def __init__(self, name: str = "Renewal") -> None:
        self.root = make(f"{name} Root")
        self.intermediate = make(f"{name} Sub-CA", self.root)

    def issue(
        self,
        csr: x509.CertificateSigningRequest | None,
        *,
        key: Any = None,
        issuer: Made | None = None,
        not_before: dt.datetime = NOT_BEFORE,
        not_after: dt.datetime = NOT_AFTER,
        ca: bool = False,
    ) -> x509.Certificate:
        """A leaf for ``csr``'s key and subject (``key``: another public key instead)."""
        issuer = issuer or self.intermediate
        public = key if key is not None else csr.public_key()  # type: ignore[union-attr]
        subject = csr.subject if csr is not None else x509.Name([])
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.certificate.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer.key, hashes.SHA256())
        )

    def chain(self, leaf: x509.Certificate, *, intermediate: Made | None = None) -> str:
        """The PEM chain CertificateSigned carries: leaf, then the intermediate."""
        sub = intermediate or self.intermediate
        return pem(leaf) + sub.pem


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
