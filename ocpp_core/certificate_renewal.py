"""The station's own certificate and its renewal (1.6 security whitepaper A02/A03, OCPP 2.0.1
A02/A03): version-neutral; each version's block (v16/certificate_renewal.py,
v201/certificate_renewal.py) adds its messages and configuration.

A renewal, for a certificate kind (2.0.1 CertificateSigningUseEnumType: ChargingStationCertificate,
V2GCertificate; 1.6 has only the first):

* ``start``: a fresh key pair (A02.FR.02) from the host's key seam (``StationKeys``: ECDSA P-256 in
  sim/station_keys.py, the pure-Python ``ecdsa`` package, the same code in the browser), a PKCS#10
  CSR (ocpp_core/csr.py; A02.FR.03) with subject CN = the station's identity (``common_name``, set
  by the host: the charge box id the CSMS knows the station by; the whitepaper's A00.FR.511 "unique
  serial number of the Charge Point" is that identity for a CSMS comparing the CN with the
  connection's station id) and O = the organization key (1.6 CpoName, A02.FR.13; 2.0.1
  SecurityCtrlr.OrganizationName). Without the seam, the identity or the organization name, the
  renewal is refused (the trigger answers Rejected). The private key is stored (document
  ``stationkeys``) before the SignCertificate request leaves and never leaves the station
  (A02.FR.05: not in frames, logs, variables).
* SignCertificate answered Rejected: the round ends, its keys are dropped (TC_A_15). Answered
  Accepted (or not answered): with ``repeat_key`` (2.0.1 CertSigningRepeatTimes) above the
  SignCertificate requests sent, a new CSR (another key pair: "seconds to wait before generating
  another CSR") is sent after ``wait_key`` (CertSigningWaitMinimum) seconds, the wait doubling at
  every repetition (A02.FR.17/18, TC_A_23). Every key of the round stays pending: a certificate
  for any CSR of the round is accepted (TC_A_23 signs the first one). 1.6 has no such keys and
  does not repeat (the whitepaper: "NOT RECOMMENDED to let the Charge Point retry").
* ``certificate_signed``: the chain (PEM, leaf first) is checked: it parses; the leaf's public key
  is the key of a pending CSR (or the station's current key); the leaf is not a CA; no certificate
  has expired (station wall clock; one not valid yet is accepted and becomes the station's at the
  chain's latest notBefore, A02.FR.08, kept meanwhile in ``next``); each certificate is signed by
  the next one (names and signature, through the certificate store's ``SignatureVerifier``: a
  signature that cannot be checked fails closed); and, when roots of the hierarchy are installed
  (CSMS roots for the station certificate, V2G roots for the V2G one), the chain's last certificate
  is one of them or signed by one. A chain without any installed root of its hierarchy is accepted
  on the other checks (a station in security profile 1 has none; documented). Valid: installed with
  ``CertificateStore.replace`` (the station certificate never deletable, M04.FR.05) and its key
  made the station's key (A02.FR.08/09: the newest certificate is used); else Rejected with the
  reason and the security event InvalidChargingStationCertificate (A02.FR.07; 1.6
  InvalidChargePointCertificate).
* ``station_certificate``: the installed chain and its private key, PEM, for the TLS side's client
  certificate (security profile 3) — the renewed one on the next connection.

The station renews its certificate itself (A03, "will expire in one month") 30 days before its
notAfter, once per certificate and run (a renewal the CSMS rejects is not repeated until the next
start), and when asked to (``ChargePoint.renew_certificate``).

What a restart keeps: the pending round (its keys, the number of requests sent: the wait of the
next repetition counts again from the start), the current key, the installed certificate.
"""

from __future__ import annotations

import base64
import binascii
from itertools import pairwise
from typing import TYPE_CHECKING, NamedTuple, Protocol

from ocpp_core.block import Block
from ocpp_core.certificate_store import CSMS_ROOT, issued_by
from ocpp_core.clock import format_datetime
from ocpp_core.csr import certification_request
from ocpp_core.log import logger
from ocpp_core.outbox import Request
from ocpp_core.store import write
from ocpp_core.x509 import Certificate, CertificateError, parse_der, parse_pem

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ocpp_core.certificate_store import CertificateStore
    from ocpp_core.context import BlockContext
    from ocpp_core.outbox import CallFailure, RequestQueue

__all__ = [
    "DOCUMENT",
    "STATION",
    "V2G",
    "RenewalBlock",
    "RenewalRow",
    "SecurityLog",
    "StationCertificate",
    "StationKeys",
]

DOCUMENT = "stationkeys"
STATION = "ChargingStationCertificate"
V2G = "V2GCertificate"
# Signing kind -> (the certificate store's kind, the installed roots of its hierarchy).
_STORE_KINDS = {STATION: (STATION, CSMS_ROOT), V2G: ("V2GCertificateChain", "V2GRootCertificate")}
RENEW_BEFORE_S = 30 * 86400  # A03: renewed when it "will expire in one month"
INVALID_EVENT = "InvalidChargingStationCertificate"  # 2.0.1's name; 1.6 sends its own


class StationKeys(Protocol):
    """The host's key pairs (the core does no public-key arithmetic): private keys are PEM text
    the station stores and hands to its TLS side, never sends."""

    @property
    def signature_algorithm(self) -> str:
        """The OID of the signatures ``sign`` makes (ecdsa-with-SHA256: 1.2.840.10045.4.3.2)."""
        ...

    def generate(self) -> str:
        """A new key pair; its private key as PEM."""
        ...

    def public_key(self, private_key: str) -> bytes:
        """The SubjectPublicKeyInfo (DER) of ``private_key``."""
        ...

    def sign(self, private_key: str, data: bytes) -> bytes:
        """The DER signature of ``data`` with ``private_key``."""
        ...


class SecurityLog(Protocol):
    """Where security events go (ocpp_core/security_events.py's block)."""

    def raise_event(self, name: str, now: float, tech_info: str = "") -> object: ...


class StationCertificate(NamedTuple):
    """The station's installed certificate with its key: what a TLS client certificate needs."""

    kind: str  # "ChargingStationCertificate" / "V2GCertificate"
    certificate_chain: str  # PEM, the leaf first, then its issuers as installed
    private_key: str  # PEM (PKCS#8)
    subject: str
    issuer: str
    valid_from: str
    valid_to: str


class RenewalRow(NamedTuple):
    """What the station shows of one kind's renewal."""

    kind: str
    pending: bool  # a CSR was made and no certificate for it installed yet
    requests: int  # SignCertificate requests sent in the pending round
    status: str  # the latest outcome, in words


class RenewalBlock(Block):
    """SignCertificate, CertificateSigned and their trigger, for one version (subclassed)."""

    __slots__ = (
        "_document",
        "_due",
        "_renewed",
        "_restored",
        "certificates",
        "common_name",
        "key_pairs",
        "security",
    )

    organization_key = ""  # the configuration key of the CSR's O
    wait_key = ""  # seconds before another CSR ("": never repeated)
    repeat_key = ""  # how many times a CSR is repeated

    def __init__(self, ctx: BlockContext, *, certificates: CertificateStore) -> None:
        super().__init__(ctx)
        self.certificates = certificates
        self.key_pairs: StationKeys | None = None  # set by the host
        self.common_name = ""  # the station's identity (charge box id), set by the host
        self.security: SecurityLog | None = None  # set by the wiring
        self._due: dict[str, float] = {}  # kind -> when the next CSR of its round goes
        self._restored = False
        # Certificates (fingerprints) renewed before expiry (the empty frozenset is shared).
        self._renewed: frozenset[str] = frozenset()
        stored = ctx.store.load(DOCUMENT)
        stored = stored if isinstance(stored, dict) else {}
        self._document: dict[str, dict[str, object]] = {
            part: dict(value) if isinstance(value := stored.get(part), dict) else {}
            for part in ("pending", "current", "next", "status")
        }

    # ------------------------------------------------------------------ version hooks

    def sign_payload(self, kind: str, csr: str) -> dict[str, object]:
        """The SignCertificate request of this version."""
        raise NotImplementedError

    # ------------------------------------------------------------------ reading

    def rows(self) -> list[RenewalRow]:
        kinds = dict.fromkeys((*self._document["pending"], *self._document["status"]))
        return [
            RenewalRow(
                kind,
                kind in self._document["pending"],
                self._requests(kind),
                str(self._document["status"].get(kind, "")),
            )
            for kind in kinds
        ]

    def station_certificate(self, kind: str = STATION) -> StationCertificate | None:
        """The installed certificate of ``kind`` with its private key (None: none, or none
        whose key the station holds)."""
        store_kind = _STORE_KINDS[kind][0]
        entry = next((e for e in self.certificates.entries if e.kind == store_kind), None)
        if entry is None:
            return None
        key = self._key_for(kind, entry.certificate.spki)
        if key is None:
            return None
        leaf = entry.certificate
        return StationCertificate(
            kind,
            "".join(c.pem() for c in entry.chain),
            key,
            leaf.subject,
            leaf.issuer,
            format_datetime(leaf.not_before),
            format_datetime(leaf.not_after),
        )

    def _key_for(self, kind: str, spki: bytes) -> str | None:
        wanted = spki.hex()
        current, upcoming = self._document["current"].get(kind), self._document["next"].get(kind)
        following = upcoming.get("key") if isinstance(upcoming, dict) else None
        candidates = [k for k in (current, following) if isinstance(k, dict)]
        keys = self._pending(kind).get("keys")
        candidates += [k for k in keys if isinstance(k, dict)] if isinstance(keys, list) else []
        for candidate in candidates:
            if candidate.get("spki") == wanted and isinstance(candidate.get("key"), str):
                return str(candidate["key"])
        return None

    def _requests(self, kind: str) -> int:
        """SignCertificate requests sent in ``kind``'s pending round."""
        requests = self._pending(kind).get("requests")
        return requests if isinstance(requests, int) else 0

    def _pending(self, kind: str) -> Mapping[str, object]:
        pending = self._document["pending"].get(kind)
        return pending if isinstance(pending, dict) else {}

    # ------------------------------------------------------------------ the round

    def start(self, kind: str, now: float, queue: RequestQueue | None = None) -> str:
        """Begin a renewal of ``kind``: a new round, its first CSR sent through ``queue``
        (default: the triggered messages). "Accepted" or "Rejected" (nothing to sign with)."""
        problem = self._cannot_sign()
        if problem:
            self._set_status(kind, f"not started: {problem}")
            return "Rejected"
        self._document["pending"][kind] = {"keys": [], "requests": 0}
        self._due.pop(kind, None)
        if not self._send_csr(kind, now, self.ctx.triggered if queue is None else queue):
            self._document["pending"].pop(kind, None)
            self._save()
            return "Rejected"
        return "Accepted"

    def _cannot_sign(self) -> str:
        if self.key_pairs is None:
            return "no key generator"
        if not self.common_name:
            return "the station's identity is not known"
        if not self.ctx.config.string(self.organization_key):
            return f"{self.organization_key} is not set"
        return ""

    def _send_csr(self, kind: str, now: float, queue: RequestQueue) -> bool:
        """Make a key pair and its CSR, store the key, queue SignCertificate. False: failed."""
        keys = self.key_pairs
        assert keys is not None
        subject = [("CN", self.common_name), ("O", self.ctx.config.string(self.organization_key))]
        try:
            private = keys.generate()
            spki = keys.public_key(private)
            csr = certification_request(
                subject, spki, keys.signature_algorithm, lambda data: keys.sign(private, data)
            )
        except (ImportError, ValueError) as exc:  # no crypto library (the browser's, not yet)
            logger().warning("no CSR for %s: %s", kind, exc)
            self._set_status(kind, f"no CSR: {exc}")
            return False
        pending = dict(self._pending(kind))
        old_keys = pending.get("keys")
        kept = list(old_keys) if isinstance(old_keys, list) else []
        sent = self._requests(kind) + 1
        pending.update(keys=[*kept, {"key": private, "spki": spki.hex()}], requests=sent)
        self._document["pending"][kind] = pending
        self._document["status"][kind] = f"SignCertificate {sent} sent, waiting for the CSMS"
        self._save()  # the key is stored before the CSR leaves

        def answered(payload: Mapping[str, object], when: float) -> None:
            self._answered(kind, str(payload.get("status")), when)

        def failed(failure: CallFailure, when: float) -> None:
            self._answered(kind, f"no answer ({failure.kind})", when)

        queue.push(Request("SignCertificate", self.sign_payload(kind, csr), answered, failed), now)
        return True

    def _answered(self, kind: str, status: str, now: float) -> None:
        if kind not in self._document["pending"]:
            return
        if status == "Rejected":  # TC_A_15: the CSMS will not have it signed; the round ends
            self._document["pending"].pop(kind, None)
            self._due.pop(kind, None)
            self._set_status(kind, "SignCertificate Rejected by the CSMS")
            return
        sent = self._requests(kind)
        self._set_status(kind, f"SignCertificate {sent}: {status}, waiting for CertificateSigned")
        self._arm(kind, sent, now)

    def _arm(self, kind: str, sent: int, now: float) -> None:
        """Schedule the next CSR of the round if the configuration asks for repetitions."""
        if not self.wait_key or not self.repeat_key:
            return
        wait = self.ctx.config.integer(self.wait_key)
        if wait <= 0 or sent > self.ctx.config.integer(self.repeat_key):
            self._due.pop(kind, None)
            return
        self._due[kind] = now + wait * 2 ** (sent - 1)  # A02.FR.18: doubled each time

    def _restore(self, now: float) -> None:
        """After a restart, the pending rounds wait again (from now) for their next CSR."""
        self._restored = True
        for kind in self._document["pending"]:
            sent = self._requests(kind)
            if sent:
                self._arm(kind, sent, now)

    def tick(self, now: float) -> None:
        if not self._restored:
            self._restore(now)
        for kind, due in list(self._due.items()):
            if due > now:
                continue
            del self._due[kind]
            if kind in self._document["pending"] and not self._cannot_sign():
                self._send_csr(kind, now, self.ctx.queue)
        if self._document["next"]:
            self._switch_due(now)
        expiring = self._expiring()
        if expiring is not None and expiring[1] <= self.ctx.clock.wall(now):
            self._renewed |= {expiring[0]}  # once per certificate and run: no loop
            self.start(STATION, now, self.ctx.queue)

    def timer(self, now: float) -> float | None:
        if not self._restored:
            self._restore(now)
        due = min(self._due.values(), default=None)
        if self._document["next"]:
            switch = self._next_switch(now)
            due = switch if due is None or switch is None else min(due, switch)
        expiring = self._expiring()
        if expiring is not None:
            at = now + max(0.0, expiring[1] - self.ctx.clock.wall(now))
            due = at if due is None else min(due, at)
        return due

    def _expiring(self) -> tuple[str, float] | None:
        """A03: the station certificate (with its key) not renewed yet in this run, no renewal
        pending: its fingerprint and when its renewal is due (wall time, a month before it
        expires). None: nothing to renew."""
        document = self._document
        if self.key_pairs is None or STATION in document["pending"] or STATION in document["next"]:
            return None
        entry = next((e for e in self.certificates.entries if e.kind == STATION), None)
        if entry is None or entry.certificate.fingerprint in self._renewed:
            return None
        if self._key_for(STATION, entry.certificate.spki) is None:
            return None
        return entry.certificate.fingerprint, entry.certificate.not_after - RENEW_BEFORE_S

    # ------------------------------------------------------------------ the certificate

    def certificate_signed(self, kind: str, text: str, now: float) -> str:
        """Check and install the chain of a CertificateSigned: "" if installed, else why not
        (the answer is then Rejected and the security event raised)."""
        if kind not in _STORE_KINDS:
            problem = f"certificate type {kind} not supported"
        else:
            problem, key = self._verify(kind, text, now)
            if not problem:
                problem = self._install(kind, text, key, now)
        if problem:
            self._set_status(kind, f"CertificateSigned rejected: {problem}")
            if self.security is not None:
                self.security.raise_event(INVALID_EVENT, now, problem[:255])
        return problem

    def _verify(self, kind: str, text: str, now: float) -> tuple[str, dict[str, object]]:
        try:
            chain = parse_pem(text)
        except CertificateError as exc:
            return f"not a certificate chain: {exc}", {}
        leaf = chain[0]
        key = self._matching_key(kind, leaf.spki)
        if key is None:
            return "the certificate's public key is not the one of the station's CSR", {}
        problem = _chain_problem(chain, self.ctx.clock.wall(now), self.certificates)
        if problem:
            return problem, {}
        roots = [
            e.certificate for e in self.certificates.entries if e.kind == _STORE_KINDS[kind][1]
        ]
        if roots and not _anchored(chain[-1], roots, self.certificates):
            return f"not issued under an installed {_STORE_KINDS[kind][1]}", {}
        return "", key

    def _matching_key(self, kind: str, spki: bytes) -> dict[str, object] | None:
        private = self._key_for(kind, spki)
        return None if private is None else {"key": private, "spki": spki.hex()}

    def _install(self, kind: str, text: str, key: dict[str, object], now: float) -> str:
        chain = parse_pem(text)
        start = max(c.not_before for c in chain)
        if start > self.ctx.clock.wall(now):  # A02.FR.08: used from its notBefore on
            self._document["next"][kind] = {
                "chain": [base64.b64encode(c.der).decode("ascii") for c in chain],
                "key": key,
                "from": start,
            }
            self._document["pending"].pop(kind, None)
            self._due.pop(kind, None)
            when = format_datetime(start)
            self._set_status(kind, f"accepted: {chain[0].subject}, in use from {when}")
            return ""
        return self._switch(kind, chain, key)

    def _switch(self, kind: str, chain: list[Certificate], key: dict[str, object]) -> str:
        """Make ``chain`` with ``key`` the station's certificate of ``kind``."""
        # The certificate first: a stop before the key document is saved leaves the key among
        # the pending (or next) ones, where station_certificate finds it.
        if not self.certificates.replace(_STORE_KINDS[kind][0], chain):
            return "the certificate could not be stored"
        self._document["current"][kind] = key
        self._document["pending"].pop(kind, None)
        self._document["next"].pop(kind, None)
        self._due.pop(kind, None)
        self._document["status"][kind] = f"installed: {chain[0].subject}"
        self._save()
        return ""

    def _switch_due(self, now: float) -> None:
        """Certificates accepted before their notBefore become the station's at it."""
        wall = self.ctx.clock.wall(now)
        for kind, item in list(self._document["next"].items()):
            start, key = (item.get("from"), item.get("key")) if isinstance(item, dict) else (0, 0)
            if not isinstance(start, (int, float)) or start > wall:
                continue
            encoded = item.get("chain") if isinstance(item, dict) else None
            try:
                chain = [parse_der(base64.b64decode(str(d))) for d in encoded or ()]
            except (CertificateError, binascii.Error, TypeError, ValueError):
                chain = []
            if not chain or not isinstance(key, dict) or self._switch(kind, chain, key):
                self._document["next"].pop(kind, None)  # damaged or not storable: dropped
                self._set_status(kind, "the accepted certificate could not be installed")

    def _next_switch(self, now: float) -> float | None:
        starts = [
            i["from"]
            for i in self._document["next"].values()
            if isinstance(i, dict) and isinstance(i.get("from"), (int, float))
        ]
        return now + max(0.0, min(starts) - self.ctx.clock.wall(now)) if starts else None

    # ------------------------------------------------------------------ persistence

    def _set_status(self, kind: str, text: str) -> None:
        self._document["status"][kind] = text
        self._save()

    def _save(self) -> None:
        write(self.ctx.store, DOCUMENT, self._document)


def _chain_problem(chain: list[Certificate], wall: float, store: CertificateStore) -> str:
    """Why ``chain`` (leaf first) is not a valid station certificate chain ("" if it is)."""
    if chain[0].ca is True:
        return "the certificate is a CA certificate"
    for certificate in chain:  # not yet valid is fine: used from its notBefore (A02.FR.08)
        if wall > certificate.not_after:
            return f"expired: {certificate.subject}"
    for child, issuer in pairwise(chain):
        signed = issued_by(child, issuer, store.verifier)
        if signed is None:
            return f"signature of {child.subject} could not be checked"
        if not signed:
            return f"broken chain: {child.subject} is not signed by {issuer.subject}"
    return ""


def _anchored(last: Certificate, roots: list[Certificate], store: CertificateStore) -> bool:
    """Whether the chain's last certificate is an installed root or signed by one."""
    return any(last.der == root.der or issued_by(last, root, store.verifier) for root in roots)
