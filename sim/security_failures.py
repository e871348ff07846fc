"""Which failed connection attempts are security events (1.6 security whitepaper §8, 2.0.1
Appendix 1): the transports describe a failure in words (sim/transport/cpython.py
``describe_failure``, the browser's close reasons); this maps those words to the event the
station logs, with the description (already free of credentials) as techInfo.

* HTTP 401 at the WebSocket handshake: FailedToAuthenticateAtCsms (the CSMS refused the Basic
  auth password);
* the CSMS's certificate failed verification: InvalidCsmsCertificate;
* a TLS handshake refused for the protocol version: InvalidTLSVersion; for want of a common
  cipher suite (or a handshake failure alert): InvalidTLSCipherSuite.
"""

from __future__ import annotations

__all__ = ["security_event_of"]

_VERSION_WORDS = ("VERSION", "PROTOCOL")
_CIPHER_WORDS = ("CIPHER", "HANDSHAKE_FAILURE", "NO_SHARED")


def security_event_of(reason: str) -> tuple[str, str] | None:
    """``(event name, techInfo)`` for a failed attempt's description, None if it is no
    security event (a refused TCP connection, a timeout, a DNS failure, ...)."""
    if "HTTP 401" in reason:
        return "FailedToAuthenticateAtCsms", reason
    if "TLS certificate check failed" in reason:
        return "InvalidCsmsCertificate", reason
    if "TLS handshake failed" in reason:
        upper = reason.upper()
        if any(word in upper for word in _VERSION_WORDS):
            return "InvalidTLSVersion", reason
        if any(word in upper for word in _CIPHER_WORDS):
            return "InvalidTLSCipherSuite", reason
    return None
