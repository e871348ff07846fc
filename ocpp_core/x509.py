"""A minimal, strict DER reader for X.509 certificates: what certificate management needs.

Standard library only (the core's rule), so the hash data of OCPP's CertificateHashDataType is
computed in the core: ``issuerNameHash`` over the DER of the certificate's issuer Name,
``issuerKeyHash`` over the issuer's subjectPublicKey BIT STRING contents (without tag, length
and unused-bits octet: errata 2023-12 §2.15.1, the OCSP CertID rule of RFC 6960), and the serial
number as hexadecimal without leading zeroes. What this module does not do is check signatures:
that needs public-key arithmetic and lives behind the ``SignatureVerifier`` seam of
ocpp_core/certificate_store.py (implemented in sim/cert_verifier.py).

The reader takes exactly what RFC 5280 §4.1 allows: definite lengths in their shortest form,
no bytes after a structure, the fields in their order; anything else is CertificateError.
Names are read for display as ``CN=..., O=...`` in the certificate's order.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import re
from typing import NamedTuple

__all__ = [
    "Certificate",
    "CertificateError",
    "der_to_pem",
    "parse_der",
    "parse_pem",
    "rsa_public_numbers",
]

_PEM = re.compile(
    r"-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----", re.ASCII
)
_SEQUENCE, _SET, _INTEGER, _BIT_STRING, _OCTET_STRING, _OID, _BOOLEAN = (
    0x30,
    0x31,
    0x02,
    0x03,
    0x04,
    0x06,
    0x01,
)
_UTC_TIME, _GENERALIZED_TIME = 0x17, 0x18
_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.5": "serialNumber",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
}
_KEY_ALGORITHMS = {
    "1.2.840.113549.1.1.1": "RSA",
    "1.2.840.10045.2.1": "EC",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}
_CURVES = {
    "1.2.840.10045.3.1.7": "P-256",
    "1.3.132.0.34": "P-384",
    "1.3.132.0.35": "P-521",
}
_BASIC_CONSTRAINTS = "2.5.29.19"
HASHES = {"SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512"}


class CertificateError(ValueError):
    """The text or bytes are not an X.509 certificate this reader accepts."""


class Certificate(NamedTuple):
    """The fields of one certificate that certificate management uses."""

    der: bytes
    tbs: bytes  # the signed part (TBSCertificate, its whole DER)
    serial: int
    issuer_der: bytes  # the issuer Name, whole DER
    subject_der: bytes
    issuer: str
    subject: str
    not_before: float  # epoch seconds
    not_after: float
    spki: bytes  # SubjectPublicKeyInfo, whole DER
    key_bits: bytes  # the subjectPublicKey BIT STRING contents (no unused-bits octet)
    key_algorithm: str  # "EC P-256", "RSA 2048", ...
    signature_algorithm: str  # OID, dotted
    signature_parameters: bytes  # the AlgorithmIdentifier parameters' DER (b"" when absent)
    signature: bytes
    ca: bool | None  # basicConstraints cA; None: no such extension

    @property
    def serial_hex(self) -> str:
        """The serial number as OCPP writes it: hexadecimal without "0x" and leading zeroes."""
        return format(self.serial, "x")

    @property
    def self_issued(self) -> bool:
        return self.issuer_der == self.subject_der

    def hash_data(self, issuer_key_bits: bytes, algorithm: str = "SHA256") -> dict[str, str]:
        """CertificateHashDataType of this certificate, given its issuer's key bits."""
        name = HASHES[algorithm]
        return {
            "hashAlgorithm": algorithm,
            "issuerNameHash": hashlib.new(name, self.issuer_der).hexdigest(),
            "issuerKeyHash": hashlib.new(name, issuer_key_bits).hexdigest(),
            "serialNumber": self.serial_hex,
        }

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the whole DER: the identity of an installed certificate."""
        return hashlib.sha256(self.der).hexdigest()

    def pem(self) -> str:
        return der_to_pem(self.der)


def der_to_pem(der: bytes, label: str = "CERTIFICATE") -> str:
    """PEM text (RFC 7468) of ``der``: Base64 in lines of 64, between ``label``'s lines."""
    text = base64.b64encode(der).decode("ascii")
    lines = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


def parse_pem(text: str) -> list[Certificate]:
    """Every certificate of a PEM text, in order; CertificateError if there is none or one is
    not a certificate, or the text holds anything but PEM blocks and whitespace."""
    blocks = _PEM.findall(text)
    if not blocks or _PEM.sub("", text).strip():
        raise CertificateError("not a PEM encoded X.509 certificate")
    out = []
    for block in blocks:
        try:
            der = base64.b64decode("".join(block.split()), validate=True)
        except (binascii.Error, ValueError):
            raise CertificateError("bad base64 in PEM") from None
        out.append(parse_der(der))
    return out


class _Reader:
    """DER TLVs of one byte string, read in order."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def done(self) -> bool:
        return self.pos >= self.end

    def peek(self) -> int:
        if self.pos >= self.end:
            raise CertificateError("truncated")
        return self.data[self.pos]

    def read(self, tag: int | None = None) -> tuple[int, bytes, bytes]:
        """(tag, contents, whole TLV) of the next element; ``tag``: the one expected."""
        data, start = self.data, self.pos
        if start + 2 > self.end:
            raise CertificateError("truncated")
        got = data[start]
        if tag is not None and got != tag:
            raise CertificateError(f"expected tag {tag:#x}, found {got:#x}")
        if got & 0x1F == 0x1F:
            raise CertificateError("high tag numbers are not used in certificates")
        first = data[start + 1]
        pos = start + 2
        if first < 0x80:
            length = first
        else:
            count = first & 0x7F
            if count == 0 or count > 4 or pos + count > self.end:
                raise CertificateError("bad length")
            length = int.from_bytes(data[pos : pos + count], "big")
            pos += count
            if length < 0x80 or length < 1 << (8 * (count - 1)):
                raise CertificateError("length not in its shortest form")
        if pos + length > self.end:
            raise CertificateError("truncated")
        self.pos = pos + length
        return got, data[pos : pos + length], data[start : pos + length]

    def inner(self, tag: int) -> _Reader:
        """A reader over the contents of the next element (of ``tag``)."""
        contents = self.read(tag)[1]
        start = self.pos - len(contents)
        return _Reader(self.data, start, self.pos)


def _oid(contents: bytes) -> str:
    if not contents or contents[-1] & 0x80:
        raise CertificateError("bad OID")
    arcs, value = [], 0
    for byte in contents:
        if value == 0 and byte == 0x80:
            raise CertificateError("bad OID")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in (first, arcs[0] - 40 * first, *arcs[1:]))


def _integer(contents: bytes) -> int:
    if not contents or (len(contents) > 1 and contents[0] == 0 and contents[1] < 0x80):
        raise CertificateError("bad INTEGER")
    return int.from_bytes(contents, "big", signed=True)


def _time(tag: int, contents: bytes) -> float:
    text = contents.decode("ascii", "replace")
    if tag == _UTC_TIME and re.fullmatch(r"\d{12}Z", text):
        year = int(text[:2])
        year += 2000 if year < 50 else 1900
        rest = text[2:]
    elif tag == _GENERALIZED_TIME and re.fullmatch(r"\d{14}Z", text):
        year, rest = int(text[:4]), text[4:]
    else:
        raise CertificateError(f"bad time {text!r}")
    month, day, hour, minute, second = (int(rest[i : i + 2]) for i in range(0, 10, 2))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 60):
        raise CertificateError(f"bad time {text!r}")
    try:
        return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))
    except ValueError:  # year 0
        raise CertificateError(f"bad time {text!r}") from None


def _string(tag: int, contents: bytes) -> str:
    if tag == 0x1E:  # BMPString
        return contents.decode("utf-16-be", "replace")
    if tag == 0x1C:  # UniversalString
        return contents.decode("utf-32-be", "replace")
    if tag == 0x14:  # TeletexString: treated as Latin-1
        return contents.decode("latin-1")
    return contents.decode("utf-8", "replace")


def _name(reader: _Reader) -> tuple[bytes, str]:
    """An X.501 Name: (whole DER, display text)."""
    start = reader.pos
    rdns = reader.inner(_SEQUENCE)
    whole = reader.data[start : reader.pos]
    parts = []
    while not rdns.done():
        attributes = rdns.inner(_SET)
        while not attributes.done():
            pair = attributes.inner(_SEQUENCE)
            oid = _oid(pair.read(_OID)[1])
            tag, value, _ = pair.read()
            parts.append(f"{_NAMES.get(oid, oid)}={_string(tag, value)}")
    return whole, ", ".join(parts)


def _algorithm(reader: _Reader) -> tuple[str, bytes]:
    """An AlgorithmIdentifier: (OID, parameters' DER or b"")."""
    identifier = reader.inner(_SEQUENCE)
    oid = _oid(identifier.read(_OID)[1])
    parameters = b"" if identifier.done() else identifier.read()[2]
    if not identifier.done():
        raise CertificateError("bad AlgorithmIdentifier")
    return oid, parameters


def _bits(contents: bytes) -> bytes:
    if not contents or contents[0] != 0:
        raise CertificateError("a key or signature BIT STRING with unused bits")
    return contents[1:]


def _key_algorithm(oid: str, parameters: bytes, bits: bytes) -> str:
    name = _KEY_ALGORITHMS.get(oid, oid)
    if name == "EC" and parameters[:1] == bytes([_OID]):
        curve = _oid(_Reader(parameters).read(_OID)[1])
        return f"EC {_CURVES.get(curve, curve)}"
    if name == "RSA":
        try:
            key = _Reader(bits).inner(_SEQUENCE)
            modulus = _integer(key.read(_INTEGER)[1])
            return f"RSA {modulus.bit_length()}"
        except CertificateError:
            return name
    return name


def _ca(extensions: _Reader) -> bool | None:
    """basicConstraints cA from the Extensions SEQUENCE."""
    while not extensions.done():
        extension = extensions.inner(_SEQUENCE)
        oid = _oid(extension.read(_OID)[1])
        if not extension.done() and extension.peek() == _BOOLEAN:
            extension.read(_BOOLEAN)
        value = extension.read(_OCTET_STRING)[1]
        if oid == _BASIC_CONSTRAINTS:
            constraints = _Reader(value).inner(_SEQUENCE)
            if constraints.done() or constraints.peek() != _BOOLEAN:
                return False
            return constraints.read(_BOOLEAN)[1] != b"\x00"
    return None


def rsa_public_numbers(spki: bytes) -> tuple[int, int]:
    """(modulus, public exponent) of an RSA SubjectPublicKeyInfo; CertificateError if not RSA."""
    info = _Reader(spki).inner(_SEQUENCE)
    oid, _ = _algorithm(info)
    if _KEY_ALGORITHMS.get(oid) != "RSA":
        raise CertificateError("not an RSA key")
    key = _Reader(_bits(info.read(_BIT_STRING)[1])).inner(_SEQUENCE)
    return _integer(key.read(_INTEGER)[1]), _integer(key.read(_INTEGER)[1])


def parse_der(der: bytes) -> Certificate:
    """The certificate of ``der`` (exactly one, nothing after it)."""
    der = bytes(der)
    top = _Reader(der)
    certificate = top.inner(_SEQUENCE)
    if not top.done():
        raise CertificateError("bytes after the certificate")
    tbs_start = certificate.pos
    tbs = certificate.inner(_SEQUENCE)
    tbs_der = der[tbs_start : certificate.pos]
    signature_algorithm, signature_parameters = _algorithm(certificate)
    signature = _bits(certificate.read(_BIT_STRING)[1])
    if not certificate.done():
        raise CertificateError("bytes after the signature")

    if tbs.peek() == 0xA0:  # [0] EXPLICIT version
        version = _Reader(tbs.read(0xA0)[1])
        if _integer(version.read(_INTEGER)[1]) not in (0, 1, 2):
            raise CertificateError("unknown version")
    serial = _integer(tbs.read(_INTEGER)[1])
    if serial <= 0:
        raise CertificateError("serial number not positive")
    inner_algorithm = _algorithm(tbs)
    if inner_algorithm != (signature_algorithm, signature_parameters):
        raise CertificateError("signature algorithms differ")
    issuer_der, issuer = _name(tbs)
    validity = tbs.inner(_SEQUENCE)
    not_before = _time(*validity.read()[:2])
    not_after = _time(*validity.read()[:2])
    if not validity.done():
        raise CertificateError("bad validity")
    subject_der, subject = _name(tbs)
    spki_start = tbs.pos
    spki = tbs.inner(_SEQUENCE)
    spki_der = der[spki_start : tbs.pos]
    key_oid, key_parameters = _algorithm(spki)
    key_bits = _bits(spki.read(_BIT_STRING)[1])
    if not spki.done():
        raise CertificateError("bad SubjectPublicKeyInfo")
    ca: bool | None = None
    while not tbs.done():
        tag = tbs.peek()
        if tag in (0x81, 0x82):  # issuerUniqueID, subjectUniqueID
            tbs.read(tag)
        elif tag == 0xA3:
            outer = tbs.inner(0xA3)
            ca = _ca(outer.inner(_SEQUENCE))
            if not outer.done():
                raise CertificateError("bad extensions")
        else:
            raise CertificateError(f"unexpected field {tag:#x}")
    return Certificate(
        der=der,
        tbs=tbs_der,
        serial=serial,
        issuer_der=issuer_der,
        subject_der=subject_der,
        issuer=issuer,
        subject=subject,
        not_before=not_before,
        not_after=not_after,
        spki=spki_der,
        key_bits=key_bits,
        key_algorithm=_key_algorithm(key_oid, key_parameters, key_bits),
        signature_algorithm=signature_algorithm,
        signature_parameters=signature_parameters,
        signature=signature,
        ca=ca,
    )
