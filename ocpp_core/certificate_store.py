"""The station's certificate store (1.6 security whitepaper M03-M05, OCPP 2.0.1 M03-M05).

Version-neutral: kinds are OCPP 2.0.1's certificate type names (1.6's CentralSystemRootCertificate
is CSMS_ROOT here). What a version's block asks of it:

* ``install``: one PEM certificate of a kind, checked as M05 requires: not a certificate, not a
  CA (basicConstraints cA false), expired or not yet valid, or a self-signed one whose signature
  does not verify: Rejected (reason InvalidCertificate); the store full (``limit``, 1.6
  CertificateStoreMaxLength, 2.0.1 SecurityCtrlr.CertificateEntries' maxLimit): Rejected
  (OutOfStorage); the store refusing the write: Failed. Installing what is installed already is
  Accepted and changes nothing. With AdditionalRootCertificateCheck (``root_check``) a CSMS root
  must be signed by the CSMS root in force; it then replaces it and the old one stays as the
  fallback (whitepaper M05.FR.08-11), removed once a connection was verified with the new one
  (``connected_with``, whitepaper M05.FR.12, 2.0.1 TC_M_30); ``trust_anchors`` gives the TLS
  side the new root first, the fallback after it (whitepaper M05.FR.13, 2.0.1 TC_M_31).
* ``chains``: the hash data of the installed certificates (M03), each with the hash data of the
  certificates of its chain (2.0.1 childCertificateHashData, at most 4).
* ``delete``: by CertificateHashDataType in any of its hash algorithms (identifierString: case
  does not matter, nor leading zeroes of the serial number): Accepted, NotFound, or Failed for a
  station certificate (M04.FR.05), for the CSMS root that verified the connection in use
  (whitepaper M04.FR.06) or when the store refuses the write (M04.FR.03).

The store is the document ``certificates`` (DER in Base64), written before the answer that
depends on it leaves (refusable: a write the store refuses is a Failed answer, nothing changes).

Signatures are checked through the ``SignatureVerifier`` seam the host injects
(sim/cert_verifier.py: ECDSA with the pure-Python ``ecdsa`` package, RSA with Python integers),
so the core stays
standard library only; without a verifier (or for an algorithm it does not know) a check that
needs a signature fails closed (a replacing CSMS root is Rejected), and a self-signature is not
checked. Parsing and hash data are the core's own (ocpp_core/x509.py).

The issuer key hash needs the issuer's public key: a self-signed certificate's own key; else the
next certificate of its chain, or an installed certificate, named as its issuer; a certificate
whose issuer is nowhere in the store (a sub-CA installed as a trust anchor) is hashed with its own
key (documented approximation: the station cannot know a key it never received).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import TYPE_CHECKING, NamedTuple, Protocol

from ocpp_core.block import Block
from ocpp_core.clock import format_datetime
from ocpp_core.store import write
from ocpp_core.x509 import HASHES, Certificate, CertificateError, parse_der, parse_pem

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from ocpp_core.context import BlockContext
    from ocpp_core.store import Store

__all__ = [
    "CSMS_ROOT",
    "DOCUMENT",
    "MAX_CERTIFICATES",
    "STATION_KINDS",
    "CertificateBlock",
    "CertificateRow",
    "CertificateStore",
    "Entry",
    "Outcome",
    "SignatureVerifier",
    "installed_count",
]

DOCUMENT = "certificates"
MAX_CERTIFICATES = 20  # CA certificates the station keeps (the limit's default)
CSMS_ROOT = "CSMSRootCertificate"
# Installed through SignCertificate/CertificateSigned, never deleted by DeleteCertificate.
STATION_KINDS = frozenset({"ChargingStationCertificate"})
MAX_CHILDREN = 4  # CertificateHashDataChainType.childCertificateHashData maxItems


class SignatureVerifier(Protocol):
    """Checks one signature: ``signature`` over ``signed`` by the key of ``spki`` (DER
    SubjectPublicKeyInfo) with ``algorithm`` (OID) and its parameters' DER. True or False; None:
    the algorithm is not supported (or the library behind it is not there)."""

    def verify(
        self, signed: bytes, algorithm: str, parameters: bytes, signature: bytes, spki: bytes
    ) -> bool | None: ...


class Outcome(NamedTuple):
    """An install's answer: status, reasonCode and additionalInfo (2.0.1 statusInfo)."""

    status: str
    reason: str | None = None
    info: str = ""


class Entry(NamedTuple):
    """An installed certificate (with the rest of its chain, if it came with one)."""

    kind: str
    chain: tuple[Certificate, ...]
    fallback: bool = False  # the previous CSMS root kept by AdditionalRootCertificateCheck
    issuer_key: bytes = b""  # the issuer's key bits, when known at install (kept: hash data
    # must not change when the issuer is deleted later)

    @property
    def certificate(self) -> Certificate:
        return self.chain[0]


class CertificateRow(NamedTuple):
    """What the station API shows of one installed certificate."""

    kind: str
    subject: str
    issuer: str
    valid_from: str
    valid_to: str
    serial: str
    key: str
    hash_data: dict[str, str]
    fallback: bool


def issued_by(
    child: Certificate, issuer: Certificate, verifier: SignatureVerifier | None
) -> bool | None:
    """Whether ``issuer`` signed ``child`` (names and signature); None: the signature could not
    be checked (no verifier, or an algorithm it does not support)."""
    if child.issuer_der != issuer.subject_der:
        return False
    if verifier is None:
        return None
    return verifier.verify(
        child.tbs,
        child.signature_algorithm,
        child.signature_parameters,
        child.signature,
        issuer.spki,
    )


def _same_hash(entry: Mapping[str, object], wanted: Mapping[str, object]) -> bool:
    keys = ("issuerNameHash", "issuerKeyHash")
    if any(str(entry[k]).lower() != str(wanted.get(k, "")).lower() for k in keys):
        return False
    serial = str(wanted.get("serialNumber", "")).lower().lstrip("0") or "0"
    return str(entry["serialNumber"]).lower() == serial


def installed_count(store: Store) -> int:
    """The CA certificates installed in ``store``, read without parsing them (a live value)."""
    stored = store.load(DOCUMENT)
    items = stored if isinstance(stored, list) else ()
    return sum(1 for i in items if isinstance(i, dict) and i.get("type") not in STATION_KINDS)


class CertificateStore:
    """The installed certificates of one engine, persisted in ``store``."""

    __slots__ = ("_entries", "_in_use", "_store", "verifier")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._entries = self._load()
        self._in_use: str | None = None  # fingerprint of the CSMS root the connection uses
        self.verifier: SignatureVerifier | None = None

    # ------------------------------------------------------------------ reading

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._entries)

    def count(self) -> int:
        """Installed CA certificates (station certificates are not counted)."""
        return sum(1 for entry in self._entries if entry.kind not in STATION_KINDS)

    def issuer_key(self, entry: Entry, index: int = 0) -> bytes:
        """The key bits of the issuer of ``entry.chain[index]`` (see the module docstring)."""
        certificate = entry.chain[index]
        if certificate.self_issued:
            return certificate.key_bits
        if index == 0 and entry.issuer_key:
            return entry.issuer_key
        for candidate in entry.chain[index + 1 :]:
            if candidate.subject_der == certificate.issuer_der:
                return candidate.key_bits
        for other in self._entries:
            for candidate in other.chain:
                if candidate.subject_der == certificate.issuer_der:
                    return candidate.key_bits
        return certificate.key_bits

    def hash_data(self, entry: Entry, index: int = 0, algorithm: str = "SHA256") -> dict[str, str]:
        return entry.chain[index].hash_data(self.issuer_key(entry, index), algorithm)

    def chains(self, kinds: Iterable[str] | None = None) -> list[dict[str, object]]:
        """CertificateHashDataChainType of each installed certificate of ``kinds`` (None: all
        but station certificates), in the order installed."""
        wanted = None if kinds is None else set(kinds)
        out: list[dict[str, object]] = []
        for entry in self._entries:
            if entry.kind in STATION_KINDS or (wanted is not None and entry.kind not in wanted):
                continue
            item: dict[str, object] = {
                "certificateType": entry.kind,
                "certificateHashData": self.hash_data(entry),
            }
            children = [self.hash_data(entry, i) for i in range(1, len(entry.chain))]
            if children:
                item["childCertificateHashData"] = children[:MAX_CHILDREN]
            out.append(item)
        return out

    def rows(self) -> list[CertificateRow]:
        return [
            CertificateRow(
                entry.kind,
                entry.certificate.subject,
                entry.certificate.issuer,
                format_datetime(entry.certificate.not_before),
                format_datetime(entry.certificate.not_after),
                entry.certificate.serial_hex,
                entry.certificate.key_algorithm,
                self.hash_data(entry),
                entry.fallback,
            )
            for entry in self._entries
        ]

    def trust_anchors(self) -> list[str]:
        """The CSMS roots as PEM for verifying the server: the one in force first, then the
        fallback (M05.FR.13: tried when the new one does not verify the server)."""
        roots = [e for e in self._entries if e.kind == CSMS_ROOT]
        roots.sort(key=lambda e: e.fallback)
        return [e.certificate.pem() for e in roots]

    # ------------------------------------------------------------------ changes

    def install(
        self, kind: str, text: str, wall: float, *, limit: int, root_check: bool = False
    ) -> Outcome:
        """Install one PEM certificate of ``kind`` (see the module docstring)."""
        try:
            certificates = parse_pem(text)
        except CertificateError as exc:
            return Outcome("Rejected", "InvalidCertificate", str(exc))
        if len(certificates) != 1:
            return Outcome("Rejected", "InvalidCertificate", "one certificate expected")
        new = certificates[0]
        problem = self._problem(new, wall)
        if problem:
            return Outcome("Rejected", "InvalidCertificate", problem)
        entries = list(self._entries)
        if any(e.kind == kind and e.certificate.der == new.der for e in entries):
            return Outcome("Accepted")
        if root_check and kind == CSMS_ROOT:
            current = [e for e in entries if e.kind == CSMS_ROOT and not e.fallback]
            if current:
                old = current[-1]
                signed = issued_by(new, old.certificate, self.verifier)
                if signed is not True:
                    why = "not signed by" if signed is False else "signature unchecked against"
                    return Outcome(
                        "Rejected", "InvalidCertificate", f"{why} the CSMS root in force"
                    )
                entries = [e for e in entries if e.kind != CSMS_ROOT]
                entries.append(old._replace(fallback=True))
        if sum(1 for e in entries if e.kind not in STATION_KINDS) >= limit:
            return Outcome("Rejected", "OutOfStorage", f"{limit} certificates installed")
        entry = Entry(kind, (new,))
        entries.append(entry._replace(issuer_key=self._known_issuer_key(entry, entries)))
        if not self._save(entries):
            return Outcome("Failed", "OutOfStorage", "the certificate could not be stored")
        return Outcome("Accepted")

    @staticmethod
    def _known_issuer_key(entry: Entry, entries: list[Entry]) -> bytes:
        """The key bits of the installed certificate named as ``entry``'s issuer (b"": none)."""
        certificate = entry.certificate
        if certificate.self_issued:
            return b""
        for other in entries:
            for candidate in other.chain:
                if candidate.subject_der == certificate.issuer_der:
                    return candidate.key_bits
        return b""

    def _problem(self, certificate: Certificate, wall: float) -> str:
        if certificate.ca is False:
            return "not a CA certificate"
        if wall > certificate.not_after:
            return "expired"
        if wall < certificate.not_before:
            return "not yet valid"
        if certificate.self_issued and self.verifier is not None:
            verified = self.verifier.verify(
                certificate.tbs,
                certificate.signature_algorithm,
                certificate.signature_parameters,
                certificate.signature,
                certificate.spki,
            )
            if verified is False:
                return "its signature does not verify"
        return ""

    def delete(self, wanted: Mapping[str, object]) -> str:
        """DeleteCertificate: Accepted, Failed or NotFound."""
        algorithm = HASHES.get(str(wanted.get("hashAlgorithm")))
        if algorithm is None:
            return "NotFound"
        name = str(wanted["hashAlgorithm"])
        matches = [e for e in self._entries if _same_hash(self.hash_data(e, 0, name), wanted)]
        if not matches:
            return "NotFound"
        for entry in matches:
            if entry.kind in STATION_KINDS:
                return "Failed"
            if entry.kind == CSMS_ROOT and entry.certificate.fingerprint == self._in_use:
                return "Failed"
        remaining = [e for e in self._entries if e not in matches]
        return "Accepted" if self._save(remaining) else "Failed"

    def replace(self, kind: str, chain: Iterable[Certificate]) -> bool:
        """Put ``chain`` (a certificate and its issuers) as the one entry of ``kind`` (station
        certificates, V2G chains: what CertificateSigned installs). False: not stored."""
        entries = [e for e in self._entries if e.kind != kind]
        entries.append(Entry(kind, tuple(chain)))
        return self._save(entries)

    def connected_with(self, der: bytes) -> None:
        """The connection to the CSMS was verified with the installed root ``der``: it is in
        use (not deletable); if it is the new root, the fallback goes (M05.FR.12)."""
        fingerprint = hashlib.sha256(der).hexdigest()
        used = [e for e in self._entries if e.kind == CSMS_ROOT]
        entry = next((e for e in used if e.certificate.fingerprint == fingerprint), None)
        self._in_use = None if entry is None else fingerprint
        if entry is not None and not entry.fallback and any(e.fallback for e in used):
            self._save([e for e in self._entries if not e.fallback], refusable=False)

    def disconnected(self) -> None:
        self._in_use = None

    # ------------------------------------------------------------------ persistence

    def _save(self, entries: list[Entry], *, refusable: bool = True) -> bool:
        document = [
            {
                "type": e.kind,
                "chain": [base64.b64encode(c.der).decode("ascii") for c in e.chain],
                **({"fallback": True} if e.fallback else {}),
                **({"issuerKey": base64.b64encode(e.issuer_key).decode()} if e.issuer_key else {}),
            }
            for e in entries
        ]
        try:
            write(self._store, DOCUMENT, document, refusable=refusable)
        except OSError:
            return False
        self._entries = entries
        return True

    def _load(self) -> list[Entry]:
        stored = self._store.load(DOCUMENT)
        entries: list[Entry] = []
        for item in stored if isinstance(stored, list) else ():
            try:
                chain = tuple(parse_der(base64.b64decode(text)) for text in item["chain"])
                issuer_key = base64.b64decode(item.get("issuerKey", ""))
                if chain and isinstance(item["type"], str):
                    fallback = item.get("fallback") is True
                    entries.append(Entry(item["type"], chain, fallback, issuer_key))
            except (CertificateError, binascii.Error, KeyError, TypeError, ValueError):
                continue  # a damaged entry: dropped (the CSMS installs it again)
        return entries


class CertificateBlock(Block):
    """What both versions' certificate blocks share: the store, the install with this
    version's limit and AdditionalRootCertificateCheck, the lost connection."""

    __slots__ = ("certificates",)

    limit_key = ""  # the configuration key holding the limit ("": MAX_CERTIFICATES)
    root_check_key = ""  # the configuration key of AdditionalRootCertificateCheck

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        self.certificates = CertificateStore(ctx.store)

    def install(self, kind: str, text: str, now: float) -> Outcome:
        config = self.ctx.config
        limit = config.integer(self.limit_key) if self.limit_key else MAX_CERTIFICATES
        return self.certificates.install(
            kind,
            text,
            self.ctx.clock.wall(now),
            limit=limit,
            root_check=config.boolean(self.root_check_key),
        )

    def disconnected(self, now: float) -> None:
        self.certificates.disconnected()
