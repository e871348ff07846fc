"""A demo CSMS on the `ocpp` package: accepts any charge box, answers everything validly.

Protocol choice follows the WebSocket subprotocol: the first one the client offers among
`ocpp1.6` and `ocpp2.0.1`. When none is offered the handshake still completes, without a
Sec-WebSocket-Protocol header, and the connection is closed at once with 1002 (protocol
error) — what OCPP-J 2.0.1 part 4 §3.1.2 prescribes for a CSMS that agrees to no subprotocol.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from devtools import csms_v16, csms_v201
from devtools.basic_auth import auth_failure
from devtools.csms_station import FRAME_LOG, CsmsOptions, CsmsStation, StationContext
from devtools.registry import StationRegistry, StationState

__all__ = ["SUBPROTOCOLS", "CsmsOptions", "DemoCsms", "choose_subprotocol"]

SUBPROTOCOLS: dict[str, type[CsmsStation]] = {
    csms_v16.SUBPROTOCOL: csms_v16.V16Station,
    csms_v201.SUBPROTOCOL: csms_v201.V201Station,
}

REPLACED = "replaced by a newer connection with the same charge box id"


def choose_subprotocol(
    offered: Sequence[str], spoken: Sequence[str] = tuple(SUBPROTOCOLS)
) -> str | None:
    """The first subprotocol the client offers that the CSMS speaks (``spoken``: all of
    SUBPROTOCOLS unless the options name fewer)."""
    return next(
        (protocol for protocol in offered if protocol in SUBPROTOCOLS and protocol in spoken),
        None,
    )


@dataclass
class _Session:
    connection: ServerConnection
    station: CsmsStation


class DemoCsms:
    """Per-server CSMS: the station registry, live sessions and CSMS-initiated calls."""

    def __init__(self, options: CsmsOptions | None = None) -> None:
        self.options = options or CsmsOptions()
        self.registry = StationRegistry()
        self._sessions: dict[str, _Session] = {}
        self._transaction_ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()

    def station(self, charge_box_id: str) -> StationState | None:
        return self.registry.get(charge_box_id)

    def auth_failure(self, charge_box_id: str, headers: Headers) -> str | None:
        """Why a handshake must be refused with 401, or None to let it through."""
        if not self.options.auth_enabled:
            return None
        return auth_failure(headers, charge_box_id, self.options.password_for(charge_box_id))

    async def handle(self, connection: ServerConnection, charge_box_id: str) -> None:
        """Serve one accepted WebSocket of a charge box until it closes."""
        protocol = connection.subprotocol
        station_class = SUBPROTOCOLS.get(protocol or "")
        if protocol is None or station_class is None:
            refusal = f"unsupported subprotocol; offer {' or '.join(self.options.subprotocols)}"
            FRAME_LOG.warning("%s refused: %s", charge_box_id, refusal)
            await connection.close(CloseCode.PROTOCOL_ERROR, refusal)
            return
        previous = self._sessions.get(charge_box_id)
        if previous is not None:
            # In the background: a dead peer would hold the new station for close_timeout.
            closing = asyncio.create_task(
                previous.connection.close(CloseCode.NORMAL_CLOSURE, REPLACED)
            )
            self._background.add(closing)
            closing.add_done_callback(self._background.discard)

        state = self.registry.ensure(charge_box_id)
        context = StationContext(state, self.options, self._transaction_ids, self._notify)
        session = _Session(connection, station_class(charge_box_id, connection, context))
        self._sessions[charge_box_id] = session
        state.mark_connected(protocol)
        FRAME_LOG.info("%s connected (%s)", charge_box_id, protocol)
        self._notify()
        try:
            await session.station.start()
        except ConnectionClosed:
            pass
        finally:
            if self._sessions.get(charge_box_id) is session:
                del self._sessions[charge_box_id]
                state.mark_disconnected()
            FRAME_LOG.info(
                "%s disconnected (code %s)", charge_box_id, connection.close_code or "none"
            )
            self._notify()

    async def call(self, charge_box_id: str, request: Any) -> Any:
        """Send a CSMS-initiated request (an `ocpp.v16.call` / `ocpp.v201.call` dataclass).

        Returns the matching `call_result` dataclass. Raises LookupError when the station is
        not connected, the `ocpp` package's OCPPError for a CALLERROR, TimeoutError after
        `CsmsOptions.call_timeout`, and ConnectionError when the station drops first.
        """
        session = self._sessions.get(charge_box_id)
        if session is None:
            raise LookupError(f"charge box {charge_box_id!r} is not connected")
        reply = asyncio.ensure_future(session.station.call(request, suppress=False))  # type: ignore[attr-defined]
        closed = asyncio.ensure_future(session.connection.wait_closed())
        try:
            await asyncio.wait({reply, closed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
            if not reply.done():
                reply.cancel()
        if reply.done():
            return reply.result()
        action = type(request).__name__
        raise ConnectionError(f"{charge_box_id} disconnected before answering {action}")

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate()` holds; it is re-checked after every frame and (dis)connect."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
