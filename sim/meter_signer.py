"""The simulated meters sign their readings: an ECDSA P-256 key pair per connector, OCMF records.

Each connector's meter has its own key pair, made on first use and kept in the station's store
(document ``meterkeys``, the private key never leaves it: not in logs, frames or exports), and its
own pagination counter (document ``ocmfpages``), saved before the record it numbers is returned,
so a record's number is never given twice, even across a kill.

The cryptography is the pure-Python ``ecdsa`` package, imported on first use: the same code on
CPython and in the browser (where the page installs its vendored wheel offline when signing is
first switched on), deterministic signatures (RFC 6979). ``corrupt`` is the failure injection
for CSMS-side verification tests: the record's payload is altered after signing, so it no
longer verifies.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from sim.ocmf import (
    MeterIdentity,
    OcmfReading,
    identification,
    oca_public_key,
    payload_text,
    record,
)

if TYPE_CHECKING:
    from ocpp_core.store import Store

__all__ = ["KEYS_DOCUMENT", "PAGES_DOCUMENT", "MeterSigner"]

KEYS_DOCUMENT = "meterkeys"
PAGES_DOCUMENT = "ocmfpages"


class MeterSigner:
    """Signs connector readings as OCMF records with each connector's own persisted key."""

    def __init__(self, store: Store, meters: dict[int, MeterIdentity]) -> None:
        self._store = store
        self._meters = meters
        self._keys: dict[int, Any] = {}  # connector -> ecdsa.SigningKey, loaded on first use
        self.corrupt = False

    def public_key_der(self, connector: int) -> bytes:
        """The meter's public key (SubjectPublicKeyInfo, DER)."""
        return bytes(self._key(connector).get_verifying_key().to_der())

    def public_key(self, connector: int) -> str:
        """The meter's public key as the OCA note sends it (Base64 of ``oca:base16:asn1:...``)."""
        return oca_public_key(self.public_key_der(connector))

    def public_key_hex(self, connector: int) -> str:
        """The meter's public key, DER in hex: what a verifier (and the Control Center) shows."""
        return self.public_key_der(connector).hex().upper()

    def sign(
        self,
        connector: int,
        readings: list[OcmfReading],
        id_token: str | None,
        token_type: str | None = None,
        *,
        remote: bool = False,
    ) -> str:
        """One OCMF record of ``readings`` for the session of ``id_token``, numbered and
        signed; the next number is stored before the record is returned."""
        from ecdsa.util import sigencode_der  # type: ignore[import-untyped]

        key = self._key(connector)
        page = self._next_page(connector)
        who = identification(id_token, token_type, remote=remote)
        payload = payload_text(self._meters[connector], page, who, readings)
        signature = key.sign_deterministic(
            payload.encode("ascii"), hashfunc=hashlib.sha256, sigencode=sigencode_der
        )
        if self.corrupt:
            payload = payload.replace('"RD":[{', '"RD":[{"CL":0,', 1)
        return record(payload, bytes(signature))

    def _next_page(self, connector: int) -> int:
        pages = self._store.load(PAGES_DOCUMENT)
        pages = dict(pages) if isinstance(pages, dict) else {}
        last = pages.get(str(connector))
        page = (last if isinstance(last, int) and not isinstance(last, bool) else 0) + 1
        pages[str(connector)] = page
        self._store.save(PAGES_DOCUMENT, pages)
        return page

    def _key(self, connector: int) -> Any:
        key = self._keys.get(connector)
        if key is not None:
            return key
        if connector not in self._meters:
            raise ValueError(f"connector {connector} has no meter")
        from ecdsa import NIST256p, SigningKey  # type: ignore[import-untyped]
        from ecdsa.keys import MalformedPointError  # type: ignore[import-untyped]

        stored = self._store.load(KEYS_DOCUMENT)
        keys = dict(stored) if isinstance(stored, dict) else {}
        text = keys.get(str(connector))
        if isinstance(text, str):
            try:
                key = SigningKey.from_string(bytes.fromhex(text), curve=NIST256p)
            except (ValueError, MalformedPointError):
                key = None  # a damaged key: the meter gets a new one (its public key changes)
        if key is None:
            key = SigningKey.generate(curve=NIST256p)
            keys[str(connector)] = key.to_string().hex()
            self._store.save(KEYS_DOCUMENT, keys)
        self._keys[connector] = key
        return key
