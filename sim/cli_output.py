"""What the headless station prints: one readable line per event, or every frame as JSON.

``describe`` turns a station event into a line (matched on the event's class); ``Watcher``
follows one station for a run, prints its lines and presents the --idtag card once booted.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, Protocol

from ocpp_core.events import (
    AuthorizationResult,
    BootAccepted,
    BootNotAccepted,
    ConfigurationChanged,
    DiagnosticsProgress,
    FirmwareProgress,
    FrameLogged,
    MessageDiscarded,
    MeterSampled,
    ReservationChanged,
    ResetRequested,
    SecurityEventRaised,
    SessionCancelled,
    SessionStarted,
    SessionStopped,
    StatusChanged,
    StoreFailed,
    StoreRecovered,
)
from sim.events import (
    BackendEchoes,
    ConnectionChanged,
    FirmwareImage,
    StationRebooted,
    frame_json,
    printable,
)
from sim.transport.base import ConnectionState

if TYPE_CHECKING:
    from sim.station import Station

__all__ = ["Output", "Watcher", "cli_hint", "describe", "describe_meter_values"]


class Output:
    """Readable lines and JSON frame lines, each to its stream."""

    def __init__(self, out: IO[str], err: IO[str], *, frames: bool) -> None:
        self.frames = frames
        self.json_out = out
        self.text_out = err if frames else out
        self.err = err

    def line(self, text: str) -> None:
        _write(self.text_out, text)

    def error(self, text: str) -> None:
        _write(self.err, f"error: {text}")

    def frame(self, record: dict[str, Any], text: str) -> None:
        """One --log line; the frame verbatim (``text``) if its parsed form cannot be written."""
        try:
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        except (ValueError, RecursionError):
            record = {**record, "frame": text}
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        _write(self.json_out, line, lambda: json.dumps(record, separators=(",", ":")))


def _write(stream: IO[str], text: str, ascii_text: Callable[[], str] | None = None) -> None:
    """Print a line whatever it holds: lone surrogates as escapes, and on a stream that cannot
    encode the rest, ``ascii_text()`` (JSON's escapes) or backslash escapes."""
    text = printable(text)
    with contextlib.suppress(BrokenPipeError, ValueError):  # also a closed stream
        try:
            print(text, file=stream, flush=True)
        except UnicodeEncodeError:
            if ascii_text is not None:
                text = ascii_text()
            else:
                text = text.encode("ascii", "backslashreplace").decode("ascii")
            print(text, file=stream, flush=True)


class Run(Protocol):
    """What a Watcher needs of the run it belongs to."""

    output: Output
    idtag: str | None
    plugged: list[int]
    runtime: Any  # sim.runtime.Runtime: now()
    frames_in: int  # frames the stations received so far (the CSMS makes progress)

    def log_time(self, now: float) -> str: ...


class Watcher:
    """Turns one station's events into output lines and presents the --idtag card once."""

    def __init__(self, station: Station, run: Run) -> None:
        self.station = station
        self.run = run
        self.card_presented = False
        self.connected_once = False
        self.progress: dict[str, str] = {}
        station.subscribe(self.on_event, snapshots=False)

    def stamp(self, now: float | None = None) -> str:
        return self.station.timestamp(self.run.runtime.now() if now is None else now)

    def say(self, text: str) -> None:
        self.run.output.line(f"{self.stamp()[11:19]} {self.station.settings.charge_box_id} {text}")

    def on_event(self, event: object) -> None:
        match event:
            case FrameLogged():
                self.on_frame(event)
                return
            case BootAccepted() if not self.card_presented:
                self.card_presented = True
                idtag = self.run.idtag
                if idtag is not None:
                    for n in self.run.plugged:
                        # A transaction resumed after a restart (--resume-transactions) runs
                        # on: the card would stop it.
                        if self.station.snapshot(n).id_tag is None:
                            self.station.present_card(n, idtag)
            case FirmwareProgress(status=status) | DiagnosticsProgress(status=status):
                name = "firmware" if isinstance(event, FirmwareProgress) else "diagnostics"
                if self.progress.get(name) == status:
                    return  # one line per status, not per percent
                self.progress[name] = status
            case ConnectionChanged(state=ConnectionState.CONNECTED):
                self.connected_once = True
            case ConnectionChanged(state=state) if not self.connected_once:
                if state is not ConnectionState.CONNECTING:
                    return  # the first attempt failed: the run ends with that error instead
        text = describe(event)
        if isinstance(event, StoreFailed):
            self.run.output.error(f"{self.station.settings.charge_box_id}: {text}")
        elif text is not None:
            self.say(text)

    def on_frame(self, event: FrameLogged) -> None:
        if event.direction == "in":
            self.run.frames_in += 1
        if self.run.output.frames:
            self.run.output.frame(
                {
                    "time": self.run.log_time(event.now),
                    "station": self.station.settings.charge_box_id,
                    "direction": event.direction,
                    "frame": frame_json(event),
                },
                event.text,
            )


def describe(event: object) -> str | None:
    """One readable line for an event, or None for events not worth a line."""
    match event:
        case ConnectionChanged(state=state, detail=detail):
            return f"{state.value}: {cli_hint(detail)}"
        case StatusChanged(connector=connector, status=status, error_code=error_code):
            error = "" if error_code == "NoError" else f" ({error_code})"
            where = "station" if connector == 0 else f"connector {connector}"
            return f"{where}: {status}{error}"
        case BootAccepted(heartbeat_interval=interval):
            return f"boot accepted (heartbeat every {interval} s)"
        case BootNotAccepted(status=status, retry_in=retry_in):
            return f"boot {status}: retrying in {retry_in:g} s"
        case AuthorizationResult(connector=connector, id_tag=id_tag, status=status):
            via = f" ({event.source})" if event.source else ""
            return f"connector {connector}: card {id_tag} {status}{via}"
        case MeterSampled():
            return describe_meter_values(event)
        case SessionStarted():
            return _session_line(event, "started")
        case SessionStopped():
            return _session_line(event, "stopped")
        case SessionCancelled(connector=connector, id_tag=id_tag, reason=reason):
            return f"connector {connector}: session of {id_tag} cancelled ({reason})"
        case FirmwareProgress() | DiagnosticsProgress():
            what = "firmware" if isinstance(event, FirmwareProgress) else "diagnostics"
            line = f"{what} {event.status}: {event.detail}"
            if isinstance(event, FirmwareProgress) and event.sha256 is not None:
                line += f" ({FirmwareImage(event.size, event.sha256).describe()})"
            return line
        case ReservationChanged(reservation=reservation, change=change):
            return _reservation_line(reservation, change)
        case ResetRequested(kind=kind):
            return f"{kind} reset: rebooting"
        case BackendEchoes():
            return (
                "the backend sends the station's own frames back: it is an echo server, not an"
                " OCPP CSMS (check --url)"
            )
        case StationRebooted(kind=kind):
            return f"rebooted ({kind} reset)"
        case ConfigurationChanged(key=key, value=value, reboot_required=reboot_required):
            shown = "(hidden)" if value is None else repr(value)
            reboot = " (reboot required)" if reboot_required else ""
            return f"configuration {key} = {shown}{reboot}"
        case StoreFailed(name=name, error=error, pending=pending, kept=kept):
            outcome = (
                f"kept in memory and retried ({pending} writes waiting)"
                if kept
                else "the change was refused"
            )
            return f"could not write {name} to the store ({error}); {outcome}"
        case StoreRecovered(written=written):
            return f"the store takes writes again: {written} kept writes stored"
        case SecurityEventRaised(type=kind, tech_info=info, critical=critical):
            sent = "sent to the CSMS" if critical else "logged"
            return f"security event {kind} ({sent}){f': {info}' if info else ''}"
        case MessageDiscarded():
            details = ", ".join(f"{k}={v}" for k, v in _fields(event).items())
            return f"message discarded: {details}"
    return None


def _reservation_line(reservation: Any, change: str) -> str:
    where = "any connector" if reservation.connector == 0 else f"connector {reservation.connector}"
    until = f" (until {reservation.expiry_date})" if change in ("made", "replaced") else ""
    return (
        f"reservation {reservation.reservation_id} for {reservation.id_tag} on {where}"
        f" {change}{until}"
    )


_TRANSPORT_TLS_HINT = "check the CA file and host"
_CLI_TLS_HINT = (
    "give the CA that signed the CSMS's certificate with --ca-file PATH, and check the host in"
    " --url"
)
_NO_CLIENT_CERT_SIGNS = (
    # TLS 1.3: the server's "certificate required" alert comes after the client's handshake and
    # is lost; the client sees the connection close before the HTTP response.
    "handshake failed: did not receive a valid HTTP response",
    "TLS handshake failed",  # TLS 1.2: a handshake failure alert
)


def cli_hint(reason: str, *, wss_without_client_cert: bool = False) -> str:
    """A transport's failure reason with the CLI option that fixes it, where one does."""
    if reason.startswith("TLS certificate check failed"):
        return reason.replace(_TRANSPORT_TLS_HINT, _CLI_TLS_HINT)
    if wss_without_client_cert and reason.startswith(_NO_CLIENT_CERT_SIGNS):
        return (
            f"{reason}; if the CSMS requires a client certificate (security profile 3), give"
            " --client-cert PATH and --client-key PATH"
        )
    return reason


def _fields(event: object) -> dict[str, Any]:
    as_dict = getattr(event, "_asdict", None)
    if as_dict is not None:
        return dict(as_dict())
    return {k: v for k, v in vars(event).items() if not k.startswith("_")}


def _session_line(event: object, verb: str) -> str:
    values = _fields(event)
    connector = values.pop("connector", "?")
    parts = []
    for key in ("transaction_id", "id_tag", "reason", "meter_start", "meter_stop"):
        value = values.get(key)
        if value is not None:
            parts.append(f"{key.replace('_', ' ')} {value}")
    detail = f" ({', '.join(parts)})" if parts else ""
    return f"connector {connector}: session {verb}{detail}"


_METER_LINE: tuple[tuple[str, str, dict[str | None, int]], ...] = (
    # measurand, unit shown, factor per unit reported
    ("Energy.Active.Import.Register", "Wh", {None: 1, "Wh": 1, "kWh": 1000}),
    ("Power.Active.Import", "W", {None: 1, "W": 1, "kW": 1000}),
    ("SoC", "%", {None: 1, "Percent": 1}),
)


def describe_meter_values(event: MeterSampled) -> str | None:
    """``connector N: meter 1234 Wh, 11040 W`` from the numbers of a MeterValues taken (the
    first overall value of each measurand shown)."""
    parts = []
    for measurand, shown, factors in _METER_LINE:
        for sample in event.samples:
            if sample.measurand == measurand and sample.phase is None:
                factor = factors.get(sample.unit)
                if sample.value is not None and factor is not None:
                    parts.append(f"{sample.value * factor:g} {shown}")
                break
    if not parts:
        return None
    return f"connector {event.connector}: meter {', '.join(parts)}"
