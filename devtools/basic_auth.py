"""HTTP Basic auth for charge boxes (OCPP security profile 1): user = charge box id.

Only a verdict leaves this module; header values and passwords are never logged or echoed.
"""

from __future__ import annotations

import hmac
import http

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.headers import parse_authorization_basic
from websockets.http11 import Response

CHALLENGE = 'Basic realm="OCPP"'


def auth_failure(headers: Headers, charge_box_id: str, expected_password: str | None) -> str | None:
    """Why the request's credentials do not admit this charge box, or None when they do."""
    values = headers.get_all("Authorization")
    if not values:
        return "missing credentials"
    if len(values) > 1:
        return "more than one Authorization header"
    try:
        username, password = parse_authorization_basic(values[0])
    except InvalidHeader:
        return "unsupported credentials (expected Basic)"
    if expected_password is None or not _same(username, charge_box_id):
        return "invalid credentials"
    if not _same(password, expected_password):
        return "invalid credentials"
    return None


def unauthorized(connection: ServerConnection, reason: str) -> Response:
    """A 401 that makes browsers retry with the credentials of the WebSocket URL."""
    response = connection.respond(http.HTTPStatus.UNAUTHORIZED, f"{reason}\n")
    response.headers["WWW-Authenticate"] = CHALLENGE
    return response


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(
        given.encode(errors="surrogateescape"), expected.encode(errors="surrogateescape")
    )
