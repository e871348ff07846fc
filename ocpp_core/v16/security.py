"""AuthorizationKey (1.6 security whitepaper §7.2, OCPP-J errata 3.10): the Basic Auth password.

Write-only: GetConfiguration never shows it, logs and frame-log events never contain it. The
value is the hexadecimal form of a 16 to 20 byte password: 32 to 40 hex digits (whitepaper:
"minimal length: 16 bytes ... 20 bytes maximum, represented as a string of up to 40 hexadecimal
digits"). A change is Accepted and takes effect at the next connection (whitepaper A01: the
station reconnects with the new password), so it is not RebootRequired.
"""

from __future__ import annotations

from ocpp_core.config import KeyDeclarer, W

__all__ = ["KEYS"]

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")

_keys = KeyDeclarer(__name__)
_keys.string(
    "AuthorizationKey",
    "",
    access=W,
    max_length=40,
    check=lambda value: _is_key(value),
)

KEYS = tuple(_keys.keys)


def _is_key(value: str) -> bool:
    """16 to 20 bytes written as hexadecimal digits."""
    return 32 <= len(value) <= 40 and len(value) % 2 == 0 and _HEX_DIGITS.issuperset(value)
