"""Signature checks for the certificate store (``ocpp_core.certificate_store.SignatureVerifier``).

The core parses certificates and computes their hash data itself (ocpp_core/x509.py, standard
library); checking a signature needs public-key arithmetic, so it sits behind this seam, which
the sim's engines get (sim/engines.py). The choice, the same code on CPython and in the browser:

* RSA PKCS#1 v1.5 (sha256/384/512WithRSAEncryption) with Python's own integers: ``pow(s, e, n)``
  and the EMSA-PKCS1-v1_5 encoding compared, no library at all;
* ECDSA (P-256, P-384, P-521 with SHA-256/384/512) and Ed25519 with the pure-Python ``ecdsa``
  package, the one the signing meters already use (pyproject's ``signing`` extra, vendored for
  the browser and installed by micropip on first use, so the page's start-up does not grow).
  ``cryptography`` would be faster on CPython but has no pure wheel for the browser; the checks
  here are a few per InstallCertificate, so one code path wins.

What is not supported (RSASSA-PSS, SHA-1, other curves, ``ecdsa`` not installed) answers None:
the store then fails closed where a signature must be checked.
"""

from __future__ import annotations

import hashlib
import hmac

from ocpp_core.x509 import CertificateError, rsa_public_numbers

__all__ = ["CertificateVerifier"]

_RSA = {  # OID -> (hash, DigestInfo prefix of RFC 8017 §9.2 note 1)
    "1.2.840.113549.1.1.11": ("sha256", "3031300d060960864801650304020105000420"),
    "1.2.840.113549.1.1.12": ("sha384", "3041300d060960864801650304020205000430"),
    "1.2.840.113549.1.1.13": ("sha512", "3051300d060960864801650304020305000440"),
}
_ECDSA = {
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}
_ED25519 = "1.3.101.112"


class CertificateVerifier:
    """Checks certificate signatures (RSA PKCS#1 v1.5, ECDSA, Ed25519)."""

    def verify(
        self, signed: bytes, algorithm: str, parameters: bytes, signature: bytes, spki: bytes
    ) -> bool | None:
        if algorithm in _RSA:
            return _rsa(signed, *_RSA[algorithm], signature, spki)
        if algorithm in _ECDSA or algorithm == _ED25519:
            return _ecdsa(signed, _ECDSA.get(algorithm), signature, spki)
        return None


def _rsa(signed: bytes, hash_name: str, prefix: str, signature: bytes, spki: bytes) -> bool:
    try:
        modulus, exponent = rsa_public_numbers(spki)
    except CertificateError:
        return False
    size = (modulus.bit_length() + 7) // 8
    number = int.from_bytes(signature, "big")
    if len(signature) != size or number >= modulus or modulus <= 0:
        return False
    encoded = pow(number, exponent, modulus).to_bytes(size, "big")
    digest_info = bytes.fromhex(prefix) + hashlib.new(hash_name, signed).digest()
    padding = size - len(digest_info) - 3
    if padding < 8:
        return False
    expected = b"\x00\x01" + b"\xff" * padding + b"\x00" + digest_info
    return hmac.compare_digest(encoded, expected)


def _ecdsa(signed: bytes, hash_name: str | None, signature: bytes, spki: bytes) -> bool | None:
    try:
        from ecdsa import BadSignatureError, VerifyingKey  # type: ignore[import-untyped]
        from ecdsa.der import UnexpectedDER  # type: ignore[import-untyped]
        from ecdsa.util import sigdecode_der  # type: ignore[import-untyped]
    except ImportError:
        return None
    try:
        key = VerifyingKey.from_der(spki)
    except (UnexpectedDER, ValueError, AssertionError):
        return None  # a curve the library does not know
    try:
        if hash_name is None:  # Ed25519: the signature is the raw 64 bytes
            return bool(key.verify(signature, signed))
        hashfunc = getattr(hashlib, hash_name)
        return bool(key.verify(signature, signed, hashfunc=hashfunc, sigdecode=sigdecode_der))
    except (BadSignatureError, UnexpectedDER, ValueError, AssertionError):
        return False
