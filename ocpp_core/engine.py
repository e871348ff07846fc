"""One charge point's protocol engine: received text in, handler calls, frames out.

The Engine builds the BlockContext (configuration, clock, store, connectors, events, request
queues, outbox), has the version's wiring function build the blocks on it (``assembly.wire``),
turns received text into handler calls and replies, and collects outgoing frames from the
outbox. It is version-neutral: what a version consists of, and in which order its blocks work,
comes from its Assembly and its Wiring.

Life of an incoming CALL: ``receive`` -> ``rpc.parse`` -> registration gate (no reply while the
BootNotification is Rejected, OCPP 1.6 §4.2) -> duplicate id check -> route lookup (no request
schema: NotImplemented; schema but no handler: NotSupported) -> request schema (violation: the
version's code for its kind) -> handler (CallRefused: its code; any other exception:
InternalError) -> the reply is queued and leaves at the next ``poll``, before any new CALL.

The entry points the caller drives (connected/disconnected, receive, poll, next_wakeup) check
``now``: a non-number is a TypeError and NaN or infinity a ValueError, raised before any state
changes, because one such value would poison every timer computed from it.

A block's ``tick`` that raises (typically a hardware input callable that fails or returns the
wrong type) is logged, with its traceback once until it recovers, and the poll goes on: the
other blocks run and queued replies and requests still go out.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ocpp_core import rpc
from ocpp_core.block import CallRefused
from ocpp_core.config import Configuration
from ocpp_core.connector import ConnectorIO
from ocpp_core.context import BlockContext
from ocpp_core.events import FrameLogged
from ocpp_core.log import logger
from ocpp_core.outbox import (
    ERROR,
    INVALID,
    PRIORITY_CALLS,
    PRIORITY_TRIGGERED,
    SEND_PRE_BOOT,
    CallFailure,
    Outbox,
    RequestQueue,
)
from ocpp_core.store import RetryingStore

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ocpp_core.assembly import Assembly
    from ocpp_core.block import Block
    from ocpp_core.clock import Clock
    from ocpp_core.events import Event
    from ocpp_core.identity import StationIdentity
    from ocpp_core.operations import Operations
    from ocpp_core.store import Store

__all__ = ["Engine", "check_now"]

_WITHHELD = "<frame withheld from the log: it may carry a write-only configuration value>"


def check_now(now: float) -> float:
    """``now`` if it is a finite int or float: TypeError for other types, ValueError for NaN/inf."""
    kind = type(now)
    if kind is not float and kind is not int:
        raise TypeError(f"now must be a number of seconds (float), not {kind.__name__}")
    if not math.isfinite(now):
        raise ValueError(f"now must be a finite number of seconds, got {now!r}")
    return now


class Engine:
    """One charge point's protocol state (see ChargePoint for the public face)."""

    __slots__ = (
        "_disconnects",
        "_failing",
        "_tickers",
        "_timers",
        "assembly",
        "blocks",
        "ctx",
        "max_frame_bytes",
        "operations",
        "outbox",
        "security",
        "version",
    )

    def __init__(
        self,
        assembly: Assembly,
        *,
        identity: StationIdentity,
        connectors: int,
        store: Store,
        clock: Clock,
        new_id: Callable[[], str],
        max_frame_bytes: int,
        reset_handler: Callable[[str], bool | None] | None,
        config_defaults: Mapping[str, str] | None = None,
    ) -> None:
        self.assembly = assembly
        self.version = assembly.version
        self.max_frame_bytes = max_frame_bytes
        # Every write goes through a RetryingStore: a failing disk is reported, not fatal. A
        # station that reboots passes the same one, so kept writes survive the new engine.
        retrying = store if isinstance(store, RetryingStore) else RetryingStore(store)
        self.ctx = ctx = BlockContext(
            assembly,
            identity=identity,
            connectors=tuple(ConnectorIO(number) for number in range(connectors + 1)),
            store=retrying,
            clock=clock,
            queue=RequestQueue(PRIORITY_CALLS),
            triggered=RequestQueue(PRIORITY_TRIGGERED, clearance=SEND_PRE_BOOT),
            reset_handler=reset_handler,
        )
        retrying.report = ctx.emit
        ctx.config = Configuration(assembly.keys, retrying, ctx, config_defaults)
        wiring = assembly.wire(ctx)
        if tuple(type(block) for block in wiring.blocks) != assembly.block_types:
            raise TypeError(f"the {self.version} wiring does not build the assembly's blocks")
        self.blocks: tuple[Block, ...] = wiring.blocks
        self.outbox = ctx.outbox = Outbox(wiring.sources, new_id, self._message_timeout)
        self._tickers = wiring.ticks
        self._timers = wiring.timers
        self._disconnects = wiring.disconnects
        self.operations: Operations = wiring.operations
        self.security = wiring.security
        self._failing: frozenset[int] = frozenset()  # indexes of ticks whose last run raised

    @property
    def connected(self) -> bool:
        """Whether the transport is open."""
        return self.ctx.connected

    def subscribe(self, subscriber: Callable[[Event], None]) -> Callable[[], None]:
        """Add an event subscriber; returns the function that removes it."""
        return self.ctx.subscribe(subscriber)

    def _message_timeout(self) -> float:
        return self.ctx.config.integer(self.assembly.timeout_key)

    # ------------------------------------------------------------------ transport events

    def on_connected(self, now: float) -> None:
        """The transport is open: sending may start."""
        check_now(now)
        self.ctx.connected = True

    def on_disconnected(self, now: float) -> None:
        """The transport closed: stop sending, settle the outstanding CALL (see outbox)."""
        check_now(now)
        self.ctx.connected = False
        self.outbox.connection_lost(now)
        for disconnected in self._disconnects:
            disconnected(now)

    # ------------------------------------------------------------------ sending

    def poll(self, now: float) -> list[str]:
        """Run the blocks' timers and inputs, then collect the frames to send."""
        check_now(now)
        ctx = self.ctx
        ctx.store.retry(now)
        self._tick(now)
        if not ctx.connected:
            return []
        outbox = self.outbox
        log = self._log_out if ctx.watched else None
        expiring = outbox.outstanding is not None and now >= outbox.deadline
        frames = outbox.poll(now, log)
        if expiring:
            # The CALL timed out inside outbox.poll, after the ticks: tick again so what its
            # failure changed is handled at this instant, not left as a wake-up at ``now``.
            self._tick(now)
            if outbox.outstanding is None:
                frames.extend(outbox.poll(now, log))
        return frames

    def _tick(self, now: float) -> None:
        for index, tick in enumerate(self._tickers):
            try:
                tick(now)
            except Exception:
                self._tick_failed(index, tick)
            else:
                if self._failing and index in self._failing:
                    self._failing -= {index}
                    logger().warning("%s works again", _tick_name(tick))

    def _tick_failed(self, index: int, tick: Callable[[float], None]) -> None:
        """Log a failing tick: with the traceback when it starts failing, then briefly."""
        if index in self._failing:
            logger().debug("%s failed again", _tick_name(tick), exc_info=True)
            return
        self._failing |= {index}
        logger().exception("%s failed (an input may be broken); poll goes on", _tick_name(tick))

    def next_wakeup(self, now: float) -> float | None:
        """The earliest time a poll has something to do, or None (only after external input)."""
        check_now(now)
        ctx = self.ctx
        earliest = self.outbox.wakeup(now) if ctx.connected else None
        retry_at = ctx.store.next_retry(now)
        if retry_at is not None and (earliest is None or retry_at < earliest):
            earliest = retry_at
        for timer in self._timers:
            at = timer(now)
            if at is not None and (earliest is None or at < earliest):
                earliest = at
        return earliest

    def _log_out(self, text: str, action: str | None, now: float) -> None:
        self.ctx.emit(FrameLogged("out", text, action, now))

    # ------------------------------------------------------------------ receiving

    def receive(self, text: str, now: float) -> None:
        """Process one received text frame."""
        check_now(now)
        frame = rpc.parse(text, self.max_frame_bytes)
        ctx = self.ctx
        if ctx.watched:
            self._log_in(text, frame, now)
        if not ctx.connected:
            logger().warning("frame received while disconnected; ignored")
            return
        if isinstance(frame, rpc.Call):
            self._on_call(frame, now)
        elif isinstance(frame, rpc.CallResult):
            self._on_result(frame, now)
        elif isinstance(frame, rpc.CallError):
            self._on_error(frame, now)
        else:
            self._on_malformed(frame, now)

    def _on_call(self, call: rpc.Call, now: float) -> None:
        message_id, action, payload = call.message_id, call.action, call.payload
        if not self.ctx.accepting_calls:
            self._refuse_unregistered(message_id, action)
            return
        if self.outbox.reply_pending(message_id):
            self._refuse(message_id, action, "GenericError", "Duplicate message id")
            return
        version = self.version
        validation = self.assembly.validation
        route = self.assembly.routes.get(action)
        if route is None:
            if action in validation.actions(version):
                self._refuse(message_id, action, "NotSupported", f"{action} is not supported")
            else:
                self._refuse(message_id, action, "NotImplemented", "Unknown action")
            return
        schema = validation.request_schema_name(version, action)
        violation = validation.validate(version, schema, payload)
        if violation is not None:
            secret = self.assembly.mask(action, payload, self.assembly.keys) is not None
            logger().info(
                "%s %s refused: %s at %r", action, message_id, violation.kind, violation.path
            )
            detail = "invalid value" if secret else violation.message
            self._invalid(action, f"{violation.kind} violation at {violation.path or '/'}", now)
            self._refuse(
                message_id,
                action,
                validation.error_code(version, violation.kind),
                f"{violation.path or '/'}: {detail}",
            )
            return
        payload = validation.whole_numbers(version, payload)
        index, handler = route
        try:
            response = handler(self.blocks[index], payload, now)
        except CallRefused as refusal:
            code = refusal.code or validation.error_code(version, refusal.kind)
            self._refuse(message_id, action, code, refusal.description, refusal.details)
        except Exception:
            logger().exception("handler of %s %s failed", action, message_id)
            self._refuse(message_id, action, "InternalError", "Handler failed")
        else:
            self.outbox.reply(message_id, action, rpc.result_text(message_id, response))

    def _invalid(self, action: str | None, detail: str, now: float) -> None:
        """A CALL refused for its schema or framing: an InvalidMessages security event."""
        security = self.security
        if security is not None:
            security.invalid_message(action, detail, now)

    def _refuse_unregistered(self, message_id: str, action: str | None) -> None:
        """A CALL while the BootNotification is Rejected: ignored, or refused with the code the
        registration set (``ctx.call_refusal``)."""
        code = self.ctx.call_refusal
        if code is None:
            logger().warning("%s %s ignored: BootNotification was Rejected", action, message_id)
            return
        self._refuse(message_id, action, code, "BootNotification was Rejected")

    def _refuse(
        self,
        message_id: str,
        action: str | None,
        code: str,
        description: str,
        details: Mapping[str, object] | None = None,
    ) -> None:
        self.outbox.reply(
            message_id, action, rpc.error_text(message_id, code, description, details)
        )

    def _on_result(self, result: rpc.CallResult, now: float) -> None:
        request = self.outbox.match(result.message_id)
        if request is None:
            logger().warning(
                "CALLRESULT %s answers no outstanding CALL; dropped", result.message_id
            )
            return
        version = self.version
        validation = self.assembly.validation
        schema = validation.response_schema_name(version, request.action)
        violation = validation.validate(version, schema, result.payload)
        if violation is not None:
            logger().warning(
                "%s response %s invalid: %s at %r",
                request.action,
                result.message_id,
                violation.kind,
                violation.path,
            )
            description = f"{violation.path or '/'}: {violation.message}"
            request.fail(CallFailure(INVALID, description=description), now)
            return
        request.succeed(validation.whole_numbers(version, result.payload), now)

    def _on_error(self, error: rpc.CallError, now: float) -> None:
        request = self.outbox.match(error.message_id)
        if request is None:
            logger().warning("CALLERROR %s answers no outstanding CALL; dropped", error.message_id)
            return
        logger().warning(
            "%s %s refused by the CSMS: %s", request.action, error.message_id, error.code
        )
        request.fail(CallFailure(ERROR, error.code, error.description), now)

    def _on_malformed(self, frame: rpc.Malformed, now: float) -> None:
        message_id, message_type = frame.message_id, frame.message_type
        if message_id is None:
            logger().warning("malformed frame ignored: %s", frame.reason)
            return
        if message_type not in (rpc.CALL, rpc.CALLRESULT, rpc.CALLERROR):
            try:
                code = self.assembly.validation.error_code(self.version, "message_type")
            except LookupError:  # the version ignores unknown message types
                logger().warning("frame of message type %s ignored", message_type)
                return
            self._refuse(message_id, None, code, f"Message type {message_type} is not supported")
            return
        if message_type == rpc.CALL:
            if not self.ctx.accepting_calls:
                self._refuse_unregistered(message_id, None)
                return
            logger().warning("malformed CALL %s refused: %s", message_id, frame.reason)
            self._invalid(None, frame.reason, now)
            if frame.too_large:
                details = {"limit": self.max_frame_bytes}
                self._refuse(message_id, None, "GenericError", frame.reason, details)
            else:
                code = self.assembly.validation.error_code(self.version, "format")
                self._refuse(message_id, None, code, frame.reason)
            return
        request = self.outbox.match(message_id)
        if request is None:
            logger().warning("malformed response %s ignored: %s", message_id, frame.reason)
            return
        logger().warning("%s response %s malformed: %s", request.action, message_id, frame.reason)
        request.fail(CallFailure(INVALID, description=frame.reason), now)

    def _log_in(self, text: str, frame: rpc.Frame, now: float) -> None:
        action = None
        shown = text
        if isinstance(frame, rpc.Call):
            action = frame.action
            masked = self.assembly.mask(action, frame.payload, self.assembly.keys)
            if masked is not None:
                shown = rpc.call_text(frame.message_id, action, masked)
        elif isinstance(frame, rpc.Malformed):
            if not isinstance(text, str):
                shown = "<not a text frame>"
            elif self._may_reveal(text):
                shown = _WITHHELD
        else:
            outstanding = self.outbox.outstanding
            if outstanding is not None and outstanding.message_id == frame.message_id:
                action = outstanding.action
        self.ctx.emit(FrameLogged("in", shown, action, now))

    def _may_reveal(self, text: str) -> bool:
        """Whether undecodable text might hold a write-only value (names it, or hides names)."""
        lowered = text.lower()
        if "\\u" in lowered:
            return True
        return any(key.name.lower() in lowered for key in self.assembly.keys.secrets)


def _tick_name(tick: Callable[[float], None]) -> str:
    owner = getattr(tick, "__self__", None)
    return f"{type(owner).__name__}.tick" if owner is not None else repr(tick)
