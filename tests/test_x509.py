"""ocpp_core/x509.py, the core's DER reader, against certificates made by ``cryptography``:
every field it reads equals cryptography's, for RSA, P-256/P-384/P-521 and Ed25519 keys, UTF-8
and BMP names, GeneralizedTime, big serial numbers; and any damaged input (truncated, a byte
changed, bytes added) is a CertificateError or a certificate, never another exception (a handler
exception would be an InternalError CALLERROR)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import random

import pytest
from cert_factory import make
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from ocpp_core.x509 import CertificateError, parse_der, parse_pem, rsa_public_numbers


def _check(certificate: x509.Certificate) -> None:
    der = certificate.public_bytes(serialization.Encoding.DER)
    parsed = parse_der(der)
    assert parsed.der == der
    assert parsed.tbs == certificate.tbs_certificate_bytes
    assert parsed.signature == certificate.signature
    assert parsed.serial == certificate.serial_number
    assert parsed.issuer_der == certificate.issuer.public_bytes()
    assert parsed.subject_der == certificate.subject.public_bytes()
    assert parsed.not_before == certificate.not_valid_before_utc.timestamp()
    assert parsed.not_after == certificate.not_valid_after_utc.timestamp()
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert parsed.spki == spki
    assert parsed.signature_algorithm == certificate.signature_algorithm_oid.dotted_string
    assert parsed.fingerprint == hashlib.sha256(der).hexdigest()


@pytest.mark.parametrize("key_type", ["ec", "p384", "rsa"])
def test_fields_equal_cryptographys(key_type: str) -> None:
    root = make("Root", key_type=key_type, serial=2**159 - 1)
    leaf = make("Leaf", root, ca=False, hash_algorithm=hashes.SHA384())
    _check(root.certificate)
    _check(leaf.certificate)
    assert parse_der(root.der).serial_hex == "7f" + "f" * 38
    assert parse_der(leaf.der).ca is False
    assert parse_der(root.der).ca is True


def test_rsa_numbers_p521_ed25519_names_and_generalized_time() -> None:
    rsa_root = make("RSA", key_type="rsa")
    numbers = rsa_root.key.public_key().public_numbers()
    assert rsa_public_numbers(parse_der(rsa_root.der).spki) == (numbers.n, numbers.e)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Zähler €"),
            x509.NameAttribute(
                NameOID.ORGANIZATIONAL_UNIT_NAME, "BMP", _type=x509.name._ASN1Type.BMPString
            ),
        ]
    )
    for key in (ec.generate_private_key(ec.SECP521R1()), ed25519.Ed25519PrivateKey.generate()):
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(dt.datetime(2023, 1, 1, tzinfo=dt.UTC))
            .not_valid_after(dt.datetime(2060, 1, 1, tzinfo=dt.UTC))  # GeneralizedTime
        )
        signed = builder.sign(
            key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA512()
        )
        _check(signed)
        parsed = parse_der(signed.public_bytes(serialization.Encoding.DER))
        assert parsed.subject == "CN=Zähler €, OU=BMP"
        assert parsed.ca is None  # no basicConstraints
        assert parsed.key_algorithm in ("EC P-521", "Ed25519")
        year_zero = parsed.der.replace(b"20600101000000Z", b"00000101000000Z")
        with pytest.raises(CertificateError):
            parse_der(year_zero)


def test_pem_text_rules() -> None:
    root = make("Root")
    assert len(parse_pem(root.pem + "\n" + root.pem)) == 2
    assert parse_pem(root.pem.replace("\n", "\r\n"))[0].der == root.der
    for text in ("", "junk " + root.pem, root.pem + "junk", root.pem.replace("A", "*", 1)):
        with pytest.raises(CertificateError):
            parse_pem(text)


def test_damaged_der_is_a_certificate_error_or_a_certificate() -> None:
    rng = random.Random(15)
    ders = [make("Root", key_type=k).der for k in ("ec", "rsa")]
    ders.append(make("Leaf", make("CA"), ca=False).der)
    tried = 0
    for der in ders:
        cases = [der[:n] for n in range(0, len(der), 7)] + [der + b"\x00", b"\x30\x80" + der]
        for _ in range(400):
            damaged = bytearray(der)
            for _ in range(rng.randint(1, 3)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            cases.append(bytes(damaged))
        for case in cases:
            tried += 1
            with contextlib.suppress(CertificateError):
                parse_der(case)
    assert tried > 1000
