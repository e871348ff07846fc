"""The diagnostics file GetDiagnostics uploads (§5.9: "format ... is not prescribed").

Plain UTF-8 text a person can read: who the station is, its connection and registration, each
connector's status and transaction, the configuration, then the host's log for the requested
window (startTime/stopTime select log lines; the state is always the current one).

Secrets never leave: write-only keys (AuthorizationKey) are not listed, and every occurrence of
a write-only key's value anywhere in the text, the host's log included, is masked. MicroOcpp's
file carries the contents of every stored file instead; this one carries no raw store documents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.clock import format_datetime
from ocpp_core.v16.availability import AvailabilityBlock
from ocpp_core.v16.boot import BootBlock
from ocpp_core.v16.status import StatusBlock

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.engine import Engine

__all__ = ["MASK", "build"]

MASK = "********"


def build(
    engine: Engine,
    file_name: str,
    window: tuple[float | None, float | None],
    log: Callable[[float | None, float | None], str] | None,
    now: float,
) -> bytes:
    """The file's content, secrets masked; ``log(start, stop)`` is the host's log between two
    wall times (epoch seconds, None: unbounded)."""
    lines = [f"OCPP 1.6 diagnostics: {file_name}"]
    lines += _station(engine, now, window)
    lines += ["", "[connection]", *_connection(engine)]
    lines += ["", "[connectors]", *_connectors(engine, now)]
    lines += ["", "[configuration] (write-only keys omitted)", *_configuration(engine)]
    lines += ["", "[log]", _log(log, window)]
    # backslashreplace: a log line may hold a lone surrogate (any Python text), never a crash
    return _masked(engine, "\n".join(lines) + "\n").encode("utf-8", "backslashreplace")


def _station(engine: Engine, now: float, window: tuple[float | None, float | None]) -> list[str]:
    identity = engine.identity
    clock = engine.clock
    synced = "yes" if clock.is_synced else "no"
    start, stop = (format_datetime(t) if t is not None else "-" for t in window)
    return [
        f"station: {identity.vendor} {identity.model}",
        f"serial number: {identity.serial_number or '-'}",
        f"firmware version: {identity.firmware_version or '-'}",
        f"generated: {clock.timestamp(now)} (clock set by the CSMS: {synced})",
        f"requested log window: {start} to {stop}",
    ]


def _connection(engine: Engine) -> list[str]:
    outstanding = engine.outbox.outstanding
    waiting = "none" if outstanding is None else f"{outstanding.action} {outstanding.message_id}"
    return [
        f"connected: {'yes' if engine.connected else 'no'}",
        f"registration: {engine.block(BootBlock).registration or 'not answered yet'}",
        f"outstanding CALL: {waiting}",
    ]


def _connectors(engine: Engine, now: float) -> list[str]:
    status = engine.block(StatusBlock)
    operative = engine.block(AvailabilityBlock).operative
    sessions = engine.sessions
    lines = []
    for connector in range(len(engine.connectors)):
        line = f"{connector}: {status.status_of(connector, now)}"
        line += ", operative" if operative[connector] else ", inoperative"
        info = sessions.current(connector) if connector else None
        if info is not None:
            known = "not yet known" if info.transaction_id is None else info.transaction_id
            line += f", session {info.state}, transactionId {known}"
        lines.append(line)
    return lines


def _configuration(engine: Engine) -> list[str]:
    config = engine.config
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


def _masked(engine: Engine, text: str) -> str:
    """``text`` with every write-only value masked, whatever its letter case."""
    config = engine.config
    for key in config.table.secrets:
        value = config.text(key)
        if not value:
            continue
        for form in {value, value.lower(), value.upper()}:
            text = text.replace(form, MASK)
    return text
