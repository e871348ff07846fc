"""PKCS#10 certificate signing requests (RFC 2986), written in DER by the core itself.

What the station's certificate renewal sends (1.6 security whitepaper A02/A03, OCPP 2.0.1 A02/A03:
"a Certificate Signing Request as described in RFC 2986 and then PEM encoded"): the request's
CertificationRequestInfo (version 0, the subject Name, the new key's SubjectPublicKeyInfo, no
attributes) is encoded here, standard library only; its signature comes from the host's key seam
(``StationKeys.sign``, ocpp_core/certificate_renewal.py), so no public-key arithmetic is done in
the core. The subject's attributes are UTF8String (RFC 5280 §4.1.2.4: new certificates SHOULD),
a countryName PrintableString.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.x509 import der_to_pem

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["ATTRIBUTES", "certification_request", "der", "name", "oid", "request_info"]

# Subject attribute short name -> OID (the ones a station's subject uses).
ATTRIBUTES = {
    "CN": "2.5.4.3",
    "O": "2.5.4.10",
    "OU": "2.5.4.11",
    "C": "2.5.4.6",
    "DC": "0.9.2342.19200300.100.1.25",
}
_UTF8, _PRINTABLE, _IA5 = 0x0C, 0x13, 0x16
_SEQUENCE, _SET, _INTEGER, _BIT_STRING, _OID = 0x30, 0x31, 0x02, 0x03, 0x06


def der(tag: int, contents: bytes) -> bytes:
    """One DER TLV with a definite length in its shortest form."""
    size = len(contents)
    if size < 0x80:
        return bytes((tag, size)) + contents
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + contents


def oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER's DER."""
    arcs = [int(part) for part in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(f"not an OID: {dotted}")
    out = bytearray()
    for arc in (40 * arcs[0] + arcs[1], *arcs[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return der(_OID, bytes(out))


def _value(name: str, value: str) -> bytes:
    if name == "C":
        return der(_PRINTABLE, value.encode("ascii"))
    if name == "DC":
        return der(_IA5, value.encode("ascii"))
    return der(_UTF8, value.encode("utf-8"))


def name(attributes: Sequence[tuple[str, str]]) -> bytes:
    """An X.501 Name of one attribute per RDN, in the order given (("CN", "CS-1"), ...)."""
    rdns = b"".join(
        der(_SET, der(_SEQUENCE, oid(ATTRIBUTES[key]) + _value(key, value)))
        for key, value in attributes
    )
    return der(_SEQUENCE, rdns)


def request_info(subject: Sequence[tuple[str, str]], spki: bytes) -> bytes:
    """CertificationRequestInfo: version 0, ``subject``, the key (SubjectPublicKeyInfo DER),
    an empty attributes set ([0] IMPLICIT SET OF)."""
    return der(_SEQUENCE, der(_INTEGER, b"\x00") + name(subject) + spki + b"\xa0\x00")


def certification_request(
    subject: Sequence[tuple[str, str]],
    spki: bytes,
    algorithm: str,
    sign: Callable[[bytes], bytes],
) -> str:
    """The PEM text of a CSR for ``spki`` signed by ``sign`` (its DER signature over the
    CertificationRequestInfo) under the signature algorithm OID ``algorithm`` (no
    parameters: ECDSA's)."""
    info = request_info(subject, spki)
    signature = der(_BIT_STRING, b"\x00" + sign(info))
    body = info + der(_SEQUENCE, oid(algorithm)) + signature
    return der_to_pem(der(_SEQUENCE, body), "CERTIFICATE REQUEST")
