"""What a Locust ``StationUser`` reports: every CALL its station sends, timed at the socket.

``CallReporter`` sits between a Station's link and its transport (``factory`` wraps both): it
sees each frame the station hands to the socket and each frame the socket delivers, before the
station's next tick, so the response time is the CSMS's reply time and not the station's
scheduling. One CALL is outstanding at a time (the engine's outbox guarantees it), and each ends
in one report:

* success: the CALLRESULT whose payload passes the action's response schema (the same
  ``ocpp_core.validation`` check the engine makes before it uses the reply);
* ``CallErrorReply``: the CSMS answered with a CALLERROR;
* ``InvalidReply``: the CALLRESULT breaks the response schema, or the reply breaks OCPP-J;
* ``NoReply``: nothing came within the engine's MessageTimeout (or the engine gave up earlier
  and sent its next CALL, as it does for an Authorize that waited in the outbox);
* ``ConnectionLost``: the connection ended first (not when the user itself is stopping).

Each connection attempt is reported too (request type "WebSocket", name "connect": the TCP,
TLS and WebSocket handshake time, or why it failed).

Pure standard library and ocpp_core, no gevent and no Locust (which monkey-patches the
standard library when imported): the pytest process tests it directly.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ocpp_core import rpc, validation
from sim.transport.base import ConnectionState

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.transport.base import Transport, TransportConfig, TransportListener

    Report = Callable[[str, str, float, int, "Exception | None"], None]
    """``report(request_type, name, response_time_ms, response_length, exception)``."""

__all__ = [
    "CONNECT",
    "OCPP",
    "WEBSOCKET",
    "CallErrorReply",
    "CallFailed",
    "CallReporter",
    "ConnectFailed",
    "ConnectionLost",
    "InvalidReply",
    "NoReply",
]

OCPP = "OCPP"  # the request type of the station's CALLs (the name is the action)
WEBSOCKET = "WebSocket"  # the request type of connection attempts
CONNECT = "connect"

_DESCRIPTION_CHARS = 120  # of a CALLERROR's description in the failure message


class CallFailed(Exception):
    """Why a CALL (or a connection attempt) counts as a failure in Locust's statistics."""


class CallErrorReply(CallFailed):
    """The CSMS answered with a CALLERROR."""


class InvalidReply(CallFailed):
    """The reply broke the action's response schema or OCPP-J framing."""


class NoReply(CallFailed):
    """No reply within the message timeout."""


class ConnectionLost(CallFailed):
    """The connection ended before the reply came."""


class ConnectFailed(CallFailed):
    """A connection attempt failed (refused, handshake, subprotocol, ...)."""


class _Pending:
    __slots__ = ("action", "deadline", "message_id", "sent")

    def __init__(self, message_id: str, action: str, sent: float, deadline: float) -> None:
        self.message_id = message_id
        self.action = action
        self.sent = sent
        self.deadline = deadline


class CallReporter:
    """Times one station's CALLs and connection attempts and reports each outcome.

    ``version()`` is the OCPP version of the station's engine now (its response schemas),
    ``timeout_s()`` its MessageTimeout in seconds; ``clock`` is monotonic seconds.
    """

    def __init__(
        self,
        report: Report,
        *,
        version: Callable[[], str],
        timeout_s: Callable[[], float],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._report = report
        self._version = version
        self._timeout_s = timeout_s
        self._clock = clock
        self._pending: _Pending | None = None
        self._connecting: float | None = None
        self._current: object = None  # the listener of the newest transport
        self.quiet = False  # the user is stopping: nothing more is reported

    # ------------------------------------------------------------------ wiring

    def factory(
        self, make: Callable[[TransportConfig, TransportListener], Transport]
    ) -> Callable[[TransportConfig, TransportListener], Transport]:
        """A transport factory for the Station: ``make``'s transports, watched by this reporter."""

        def watched(config: TransportConfig, listener: TransportListener) -> Transport:
            spy = _Listener(listener, self)
            self._current = spy
            self._pending = None  # a CALL of the replaced connection gets no reply now
            self._connecting = None
            return _Transport(make(config, spy), self)

        return watched

    def stop(self) -> None:
        """The user stops: what is still outstanding is not a failure of the CSMS."""
        self.quiet = True
        self._pending = None
        self._connecting = None

    @property
    def deadline(self) -> float | None:
        """When the outstanding CALL times out (``clock`` seconds), or None."""
        return None if self._pending is None else self._pending.deadline

    # ------------------------------------------------------------------ frames

    def sent(self, text: str) -> None:
        """A frame went to the socket: a CALL starts the clock of its action."""
        if not text.startswith("[2"):
            return  # a reply to a CSMS's CALL
        frame = rpc.parse(text)
        if not isinstance(frame, rpc.Call):
            return
        now = self._clock()
        if self._pending is not None:
            # The engine sends its next CALL (or the same one again) only after the outstanding
            # one ended: it got no reply in time.
            self._no_reply(now)
        deadline = now + self._timeout_s()
        self._pending = _Pending(frame.message_id, frame.action, now, deadline)

    def received(self, text: str) -> None:
        """A frame came from the socket: the reply to the outstanding CALL ends it."""
        pending = self._pending
        if pending is None or pending.message_id not in text:
            return
        frame = rpc.parse(text)
        if isinstance(frame, rpc.Call) or frame.message_id != pending.message_id:
            return
        self._pending = None
        elapsed = self._clock() - pending.sent
        problem: CallFailed | None = None
        if isinstance(frame, rpc.CallError):
            description = frame.description[:_DESCRIPTION_CHARS]
            problem = CallErrorReply(f"CALLERROR {frame.code}: {description}".rstrip(": "))
        elif isinstance(frame, rpc.Malformed):
            problem = InvalidReply(f"malformed reply: {frame.reason}")
        else:
            problem = self._schema_problem(pending.action, frame.payload)
        self._send_report(OCPP, pending.action, elapsed, len(text), problem)

    def _schema_problem(self, action: str, payload: rpc.JsonObject) -> CallFailed | None:
        version = self._version()
        schema = validation.response_schema_name(version, action)
        if not validation.has_schema(version, schema):
            return None  # an action without a response schema: nothing to check
        violation = validation.validate(version, schema, payload)
        if violation is None:
            return None
        return InvalidReply(
            f"reply rejected by the {action}Response schema: "
            f"{violation.path or '/'}: {violation.message}"
        )

    def expire(self) -> None:
        """Report the outstanding CALL as unanswered when its timeout has passed."""
        if self._pending is not None and self._clock() >= self._pending.deadline:
            self._no_reply(self._clock())

    def _no_reply(self, now: float) -> None:
        pending, self._pending = self._pending, None
        assert pending is not None
        timeout = pending.deadline - pending.sent
        problem = NoReply(f"no reply within {timeout:g} s (MessageTimeout)")
        self._send_report(OCPP, pending.action, now - pending.sent, 0, problem)

    # ------------------------------------------------------------------ the connection

    def connecting(self) -> None:
        self._connecting = self._clock()

    def opened(self) -> None:
        started, self._connecting = self._connecting, None
        if started is not None:
            self._send_report(WEBSOCKET, CONNECT, self._clock() - started, 0, None)

    def closed(self, reason: str) -> None:
        now = self._clock()
        started, self._connecting = self._connecting, None
        if started is not None:  # the attempt failed
            self._send_report(WEBSOCKET, CONNECT, now - started, 0, ConnectFailed(reason))
        pending, self._pending = self._pending, None
        if pending is not None:
            problem = ConnectionLost(f"connection closed before the reply: {reason}")
            self._send_report(OCPP, pending.action, now - pending.sent, 0, problem)

    def _send_report(
        self, kind: str, name: str, seconds: float, length: int, problem: Exception | None
    ) -> None:
        if not self.quiet:
            self._report(kind, name, seconds * 1000.0, length, problem)


class _Listener:
    """The link's listener, with the reporter told first (events of replaced transports are
    ignored by both)."""

    __slots__ = ("_inner", "_reporter")

    def __init__(self, inner: TransportListener, reporter: CallReporter) -> None:
        self._inner = inner
        self._reporter = reporter

    def _current(self) -> bool:
        return self._reporter._current is self

    def on_open(self, subprotocol: str) -> None:
        if self._current():
            self._reporter.opened()
        self._inner.on_open(subprotocol)

    def on_message(self, text: str) -> None:
        if self._current():
            self._reporter.received(text)
        self._inner.on_message(text)

    def on_close(self, reason: str) -> None:
        if self._current():
            self._reporter.closed(reason)
        self._inner.on_close(reason)

    def on_state(self, state: ConnectionState, detail: str) -> None:
        if state is ConnectionState.CONNECTING and self._current():
            self._reporter.connecting()
        self._inner.on_state(state, detail)


class _Transport:
    """A transport whose sent frames the reporter sees (after the transport took them)."""

    __slots__ = ("_inner", "_reporter")

    def __init__(self, inner: Transport, reporter: CallReporter) -> None:
        self._inner = inner
        self._reporter = reporter

    @property
    def state(self) -> ConnectionState:
        return self._inner.state

    @property
    def inner(self) -> Transport:
        return self._inner

    def start(self) -> None:
        self._inner.start()

    def stop(self) -> None:
        self._inner.stop()

    def set_offline(self, offline: bool) -> None:
        self._inner.set_offline(offline)

    def send(self, text: str) -> bool:
        taken = self._inner.send(text)
        if taken:
            self._reporter.sent(text)
        return taken
