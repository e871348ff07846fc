"""IdTokenType objects (OCPP 2.0.1 part 2 §2, IdTokenType): how two of them are the same token.

An idToken is identified by its value and its type (an ISO14443 UID and a KeyCode with the
same digits are different tokens); the value "is case insensitive" (IdTokenType.idToken), so it
is compared and keyed in lower case.
"""

from __future__ import annotations

from typing import Any

__all__ = ["same_id_token", "token_key"]


def token_key(id_token: Any) -> str:
    """The text an idToken is looked up by (raises for anything that is not an IdTokenType)."""
    value, kind = id_token["idToken"], id_token["type"]
    if not isinstance(value, str) or not isinstance(kind, str):
        raise TypeError("not an IdTokenType")
    return f"{kind}:{value.lower()}"


def same_id_token(first: Any, second: Any) -> bool:
    """Whether two IdTokenType objects name the same token (None, or no token, matches nothing)."""
    if not isinstance(first, dict) or not isinstance(second, dict):
        return False
    try:
        return token_key(first) == token_key(second)
    except (KeyError, TypeError):
        return False
