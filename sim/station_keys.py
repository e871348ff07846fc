"""The station's key pairs for certificate renewal (``ocpp_core.certificate_renewal.StationKeys``).

ECDSA on P-256 with SHA-256 (a 256-bit curve key: the whitepaper's A00.FR.503 asks at least 224
bits; ECDSA is what A00.FR.505 recommends), made with the pure-Python ``ecdsa`` package, imported
on first use: the same code on CPython and in the browser, where the page installs its vendored
wheel (web/control_center/signing_panel.py install_signing_library). Private keys are PKCS#8 PEM,
what Python's ``ssl.SSLContext.load_cert_chain`` takes for the TLS client certificate. Signatures
are deterministic (RFC 6979), DER-encoded as X.509 and PKCS#10 want them.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["ECDSA_WITH_SHA256", "StationKeyPairs"]

ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"
_CACHED = 64  # parsed keys kept (a fleet's engines share one StationKeyPairs)


class StationKeyPairs:
    """ECDSA P-256 key pairs; ImportError when the ``ecdsa`` package is not installed."""

    signature_algorithm = ECDSA_WITH_SHA256

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}  # PEM -> ecdsa.SigningKey

    def generate(self) -> str:
        from ecdsa import NIST256p, SigningKey  # type: ignore[import-untyped]

        key = SigningKey.generate(curve=NIST256p, hashfunc=hashlib.sha256)
        pem = bytes(key.to_pem(format="pkcs8")).decode("ascii")
        if len(self._loaded) >= _CACHED:
            self._loaded.clear()
        self._loaded[pem] = key
        return pem

    def public_key(self, private_key: str) -> bytes:
        return bytes(self._key(private_key).get_verifying_key().to_der())

    def sign(self, private_key: str, data: bytes) -> bytes:
        from ecdsa.util import sigencode_der  # type: ignore[import-untyped]

        signature = self._key(private_key).sign_deterministic(
            data, hashfunc=hashlib.sha256, sigencode=sigencode_der
        )
        return bytes(signature)

    def _key(self, private_key: str) -> Any:
        key = self._loaded.get(private_key)
        if key is None:
            from ecdsa import SigningKey

            try:
                key = SigningKey.from_pem(private_key)
            except Exception as exc:  # the package raises several kinds for a damaged PEM
                raise ValueError(f"not a private key: {type(exc).__name__}") from exc
            if len(self._loaded) >= _CACHED:
                self._loaded.clear()
            self._loaded[private_key] = key
        return key
