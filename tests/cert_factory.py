"""Certificates for the certificate-management tests, made with the independent ``cryptography``
library: roots, intermediates, leaves, expired and not-yet-valid ones, and their hash data as
OCSP computes it (CertID: issuerNameHash, issuerKeyHash; RFC 6960), for the station to match."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from ocpp_core.certificate_store import DOCUMENT
from ocpp_core.store import MemoryStore
from sim.cert_verifier import CertificateVerifier

# The fake CSMS's wall clock starts in late 2023 (tests/fake_csms.py WALL_START).
NOT_BEFORE = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2040, 1, 1, tzinfo=dt.UTC)
_HASHES = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}


class Made:
    """A certificate with its key (to sign others) and PEM text."""

    def __init__(self, certificate: x509.Certificate, key: Any) -> None:
        self.certificate = certificate
        self.key = key
        self.pem = certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        self.der = certificate.public_bytes(serialization.Encoding.DER)

    def hash_data(self, issuer: Made | None = None, algorithm: str = "SHA256") -> dict[str, str]:
        """CertificateHashDataType computed by cryptography's OCSP request builder."""
        issuer_certificate = (issuer or self).certificate
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(self.certificate, issuer_certificate, _HASHES[algorithm]())
            .build()
        )
        return {
            "hashAlgorithm": algorithm,
            "issuerNameHash": request.issuer_name_hash.hex(),
            "issuerKeyHash": request.issuer_key_hash.hex(),
            "serialNumber": format(self.certificate.serial_number, "x"),
        }


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test PKI"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        ]
    )


def make(
    common_name: str,
    issuer: Made | None = None,
    *,
    ca: bool = True,
    key_type: str = "ec",
    not_before: dt.datetime = NOT_BEFORE,
    not_after: dt.datetime = NOT_AFTER,
    serial: int | None = None,
    hash_algorithm: Any = None,
) -> Made:
    """A certificate of ``common_name`` signed by ``issuer`` (None: self-signed)."""
    if key_type == "rsa":
        key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif key_type == "p384":
        key = ec.generate_private_key(ec.SECP384R1())
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(issuer.certificate.subject if issuer else _name(common_name))
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    signer = issuer.key if issuer else key
    certificate = builder.sign(signer, hash_algorithm or hashes.SHA256())
    return Made(certificate, key)


def expired(common_name: str = "Expired Root") -> Made:
    return make(
        common_name,
        not_before=dt.datetime(2015, 1, 1, tzinfo=dt.UTC),
        not_after=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )


class Verifying:
    """A test rig mixin (before tests/tx_rig's Rig): the engine's certificate store checks
    signatures as the sim's engines do (sim/cert_verifier.py)."""

    def _build(self, now: float) -> tuple[Any, Any]:
        cp, csms = super()._build(now)  # type: ignore[misc]
        cp.certificate_store.verifier = CertificateVerifier()
        return cp, csms


class RefusingStore(MemoryStore):
    """A store whose disk refuses to write the certificate store while ``refuse`` is set."""

    def __init__(self, *, refuse: bool = True) -> None:
        super().__init__()
        self.refuse = refuse

    def save(self, name: str, value: Any) -> None:
        if name == DOCUMENT and self.refuse:
            raise OSError("disk full")
        super().save(name, value)
