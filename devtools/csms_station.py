"""What both protocol versions of the demo CSMS share: options, frame logging, the receive loop."""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ocpp.exceptions import OCPPError
from websockets.asyncio.server import ServerConnection

from devtools.registry import StationState

FRAME_LOG = logging.getLogger("devtools.csms")
"""One line per frame: charge box id, direction (recv: from the station, send: to it), frame."""

LIBRARY_LOG = logging.getLogger("devtools.csms.ocpp")
"""The `ocpp` package's own warnings and handler errors, kept apart from the frame log."""


class _NoTracebackForCallErrors(logging.Filter):
    """A request the package refuses is answered by a CALLERROR, already in the frame log with
    its cause; the traceback of that expected refusal would only bury it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], OCPPError):
            record.exc_info = None
        return True


LIBRARY_LOG.addFilter(_NoTracebackForCallErrors())


@dataclass(frozen=True)
class CsmsOptions:
    """How the demo CSMS answers; the defaults accept everything without authentication.

    Basic auth is on when `password` or `passwords` is set; `passwords` maps a charge box id to
    its own password and falls back to `password` for ids it does not list.
    """

    heartbeat_interval: int = 300
    password: str | None = None
    passwords: Mapping[str, str] = field(default_factory=dict)
    accepted_vendor_ids: frozenset[str] = frozenset()
    call_timeout: float = 30.0
    subprotocols: tuple[str, ...] = ("ocpp1.6", "ocpp2.0.1")
    """The OCPP versions it speaks (a CSMS of one version, for negotiation tests)."""

    @property
    def auth_enabled(self) -> bool:
        return self.password is not None or bool(self.passwords)

    def password_for(self, charge_box_id: str) -> str | None:
        return self.passwords.get(charge_box_id, self.password)


@dataclass
class StationContext:
    """What a connection handler needs from the CSMS around it."""

    state: StationState
    options: CsmsOptions
    transaction_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    changed: Callable[[], None] = lambda: None


def utc_now() -> str:
    """Current UTC time the way OCPP timestamps look on the wire."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def frame_text(frame: str | bytes) -> str:
    return frame if isinstance(frame, str) else repr(frame)


class CsmsStation:
    """Mixin for an `ocpp` ChargePoint class: records every frame and notifies the CSMS.

    It replaces the package's receive loop and sender only to log frames under `devtools.csms`
    and keep the station's history; routing and schema validation (both directions) stay the
    package's.
    """

    _connection: ServerConnection
    id: str

    def __init__(self, charge_box_id: str, connection: ServerConnection, context: StationContext):
        super().__init__(  # type: ignore[call-arg]
            charge_box_id,
            connection,
            response_timeout=context.options.call_timeout,
            logger=LIBRARY_LOG,
        )
        self.context = context

    @property
    def state(self) -> StationState:
        return self.context.state

    @property
    def options(self) -> CsmsOptions:
        return self.context.options

    async def start(self) -> None:
        """Handle frames until the connection closes (normally: returns; abnormally: raises)."""
        async for frame in self._connection:
            self._record("recv", frame)
            await self.route_message(frame)  # type: ignore[attr-defined]
            self.context.changed()

    async def _send(self, message: str) -> None:
        message = self.adapt_outgoing(message)
        self._record("send", message)
        await self._connection.send(message)

    def adapt_outgoing(self, message: str) -> str:
        """Hook for version-specific wire fixes of frames the package produced."""
        return message

    def _record(self, direction: str, frame: str | bytes) -> None:
        text = frame_text(frame)
        self.state.frames.append((direction, text))
        one_line = text.replace("\r", "\\r").replace("\n", "\\n")  # pretty-printed JSON
        FRAME_LOG.info("%s %s %s", self.id, direction, one_line)


def rename_error_code(message: str, renames: Mapping[str, str]) -> str:
    """Rewrite the error code of a CALLERROR frame; other frames pass through untouched."""
    if not message.startswith("[4"):
        return message
    frame = json.loads(message)
    code = frame[2] if len(frame) > 2 else None
    if code not in renames:
        return message
    frame[2] = renames[code]
    return json.dumps(frame, separators=(",", ":"))
