"""The diagnostics file GetDiagnostics (1.6) and GetLog (2.0.1) upload ("format ... is not
prescribed": 1.6 §5.9, 2.0.1 N01).

Plain UTF-8 text a person can read: who the station is, its connection and registration, each
connector's (2.0.1: EVSE's) status and transaction, the configuration (2.0.1: the device model's
variables, as configuration keys), then the host's log for the requested window (startTime/
stopTime, 2.0.1 oldestTimestamp/latestTimestamp select log lines; the state is always the current
one).

Secrets never leave: write-only keys (AuthorizationKey) are not listed, and every occurrence of
a write-only key's value anywhere in the text, the host's log included, is masked. MicroOcpp's
file carries the contents of every stored file instead; this one carries no raw store documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ocpp_core.clock import format_datetime

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ocpp_core.context import BlockContext
    from ocpp_core.sessions import SessionView


class StatusBlock(Protocol):
    """The status block of either version: a connector's (EVSE's) status now."""

    def status_of(self, connector: int, now: float) -> str: ...


__all__ = ["MASK", "build"]

MASK = "********"


def build(
    ctx: BlockContext,
    file_name: str,
    window: tuple[float | None, float | None],
    log: Callable[[float | None, float | None], str] | None,
    now: float,
    *,
    registration: str | None,
    status: StatusBlock,
    operative: Sequence[bool],
    sessions: SessionView,
    version: str = "1.6",
) -> bytes:
    """The file's content, secrets masked; ``log(start, stop)`` is the host's log between two
    wall times (epoch seconds, None: unbounded). ``registration`` is the last BootNotification
    answer; ``status``, ``operative`` and ``sessions`` describe the connectors."""
    lines = [f"OCPP {version} diagnostics: {file_name}"]
    lines += _station(ctx, now, window)
    lines += ["", "[connection]", *_connection(ctx, registration)]
    lines += ["", "[connectors]", *_connectors(ctx, status, operative, sessions, now)]
    lines += ["", "[configuration] (write-only keys omitted)", *_configuration(ctx)]
    lines += ["", "[log]", _log(log, window)]
    # backslashreplace: a log line may hold a lone surrogate (any Python text), never a crash
    return _masked(ctx, "\n".join(lines) + "\n").encode("utf-8", "backslashreplace")


def _station(ctx: BlockContext, now: float, window: tuple[float | None, float | None]) -> list[str]:
    identity = ctx.identity
    clock = ctx.clock
    synced = "yes" if clock.is_synced else "no"
    start, stop = (format_datetime(t) if t is not None else "-" for t in window)
    return [
        f"station: {identity.vendor} {identity.model}",
        f"serial number: {identity.serial_number or '-'}",
        f"firmware version: {identity.firmware_version or '-'}",
        f"generated: {clock.timestamp(now)} (clock set by the CSMS: {synced})",
        f"requested log window: {start} to {stop}",
    ]


def _connection(ctx: BlockContext, registration: str | None) -> list[str]:
    outstanding = ctx.outbox.outstanding
    waiting = "none" if outstanding is None else f"{outstanding.action} {outstanding.message_id}"
    return [
        f"connected: {'yes' if ctx.connected else 'no'}",
        f"registration: {registration or 'not answered yet'}",
        f"outstanding CALL: {waiting}",
    ]


def _connectors(
    ctx: BlockContext,
    status: StatusBlock,
    operative: Sequence[bool],
    sessions: SessionView,
    now: float,
) -> list[str]:
    lines = []
    for connector in range(len(ctx.connectors)):
        line = f"{connector}: {status.status_of(connector, now)}"
        line += ", operative" if operative[connector] else ", inoperative"
        info = sessions.current(connector) if connector else None
        if info is not None:
            known = "not yet known" if info.transaction_id is None else info.transaction_id
            line += f", session {info.state}, transactionId {known}"
        lines.append(line)
    return lines


def _configuration(ctx: BlockContext) -> list[str]:
    config = ctx.config
    return [f"{key.name} = {config.text(key)}" for key in config.table.readable]


def _log(
    log: Callable[[float | None, float | None], str] | None,
    window: tuple[float | None, float | None],
) -> str:
    if log is None:
        return "(the station keeps no log)"
    try:
        return log(*window)
    except Exception as exc:
        return f"(the log could not be read: {type(exc).__name__})"


def _masked(ctx: BlockContext, text: str) -> str:
    """``text`` with every write-only value masked, whatever its letter case."""
    config = ctx.config
    for key in config.table.secrets:
        value = config.text(key)
        if not value:
            continue
        for form in {value, value.lower(), value.upper()}:
            text = text.replace(form, MASK)
    return text
