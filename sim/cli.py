"""The headless station: ``python -m sim`` / ``ocpp-sim`` (CPython, needs ``websockets``).

One or more simulated stations connect to a CSMS and run on the runtime's clock; the terminal
shows one readable line per state change, or (``--log``) every frame as a JSON line. A run ends
after ``--duration`` simulated seconds or at Ctrl-C: sessions the CLI started with ``--idtag``
are stopped with the same card, the transaction messages are given a few seconds to be
delivered, then the connection closes cleanly and the store is saved.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from ocpp_core.clock import format_datetime
from ocpp_core.events import MeterSampled
from sim.events import (
    ConnectionChanged,
    FirmwareImage,
    StationRebooted,
    TransferFailures,
    frame_json,
    printable,
)
from sim.settings import KNOWN_VERSIONS, SUPPORTED_VERSIONS, StationSettings
from sim.station import Station
from sim.transfer_policy import DEFAULT_MAX_BYTES, SAME_CSMS, TransferPolicy
from sim.transport.base import ConnectionState, validate_url

__all__ = ["build_parser", "main", "run"]

DEFAULT_URL = "ws://127.0.0.1:8000/ocpp"
SETTLE_TIMEOUT_S = 10.0
"""Real seconds the end of a run waits for stopped sessions' messages to reach the CSMS, from
the last message delivered (a slow CSMS under many stations still gets its messages) ..."""
SETTLE_LIMIT_S = 120.0
"""... and at most in all."""
CLOSE_TIMEOUT_S = 5.0
AUTH_KEY_ENV = "OCPP_SIM_AUTH_KEY"
"""The environment variable holding the authorization key (when no option gives one)."""
MAX_KEY_FILE_CHARS = 4096
CONFIG_DEFAULTS = {"WebSocketPingInterval": "20"}
"""The websockets client can ping (a browser cannot): a silently dead CSMS is noticed."""
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_DESCRIPTION = """\
Run simulated OCPP charging stations headless against a CSMS.

The station connects to URL/ID (the id is URL-encoded and appended as the last path segment),
boots, reports its connectors and, with --plugged and --idtag, charges like a real car would:
the card starts a session, power flows and the meter counts energy.
"""

_EPILOG = """\
time:
  --duration and --speed use simulated time: --speed 60 runs a simulated minute per real
  second, so "--duration 3600 --speed 60" runs a one-hour session in about a minute.
  The readable lines show the station's clock (synchronised with the CSMS, so it may jump at
  the boot); the "time" of a --log line is the host clock at the start plus the simulated
  time since, which never goes backwards.

end of a run:
  After --duration, or at the first Ctrl-C, sessions started with --idtag are stopped with the
  same card (StopTransaction) and their messages are delivered (waiting while the CSMS makes
  progress, up to 10 s without any), then the station disconnects cleanly and its state is
  saved. A second Ctrl-C quits at once. A session cut short (the process killed, a power cut)
  is stopped with reason PowerLoss by the next run on the same --store, or continues there
  with --resume-transactions.

output:
  One readable line per state change on stdout. With --log, stdout carries only the frames, one
  JSON object per line: {"time": ISO 8601, "station": id, "direction": "in"|"out",
  "frame": [...]} (AuthorizationKey values are masked), and the readable lines go to stderr.

authorization key (HTTP Basic, security profiles 1 and 2):
  Give it in a file (--auth-key-file, mode 0600) or in the OCPP_SIM_AUTH_KEY environment
  variable: a key on the command line (--auth-key) is visible to every user of the machine in
  ps and /proc/PID/cmdline. The key is never printed; a key the CSMS sets later
  (ChangeConfiguration AuthorizationKey) is kept in the store, readable by the owner only.

exit status:
  0 after a clean end (also after Ctrl-C); 1 when the first connection attempt fails (refused,
  handshake failed, wrong authorization key: the reason is printed); 2 for invalid arguments
  (malformed URL, unsupported OCPP version, unreadable TLS file, ...); 130 after a second
  Ctrl-C.

examples:
  python -m sim --url ws://127.0.0.1:8000/ocpp --id CP-1
  python -m sim --plugged 1 --idtag CARD-1 --duration 600 --speed 10
  python -m sim --count 50 --id LOAD --plugged 1,2 --idtag FLEET
  python -m sim --url wss://csms.example/ocpp --id CP-1 --ca-file ca.pem \\
      --client-cert cp-1.pem --client-key cp-1.key
"""


def build_parser() -> argparse.ArgumentParser:
    launched = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    parser = argparse.ArgumentParser(
        prog=launched if launched.startswith("ocpp-sim") else "python -m sim",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--url",
        default=DEFAULT_URL,
        help=f"CSMS base URL, ws:// or wss:// (default: {DEFAULT_URL}, the demo CSMS of"
        " `build.py serve`); the station id is appended as the last path segment",
    )
    parser.add_argument(
        "--id",
        default="SIM-0001",
        metavar="ID",
        help="charge box id (default: SIM-0001); with --count K the ids are ID-1 .. ID-K",
    )
    parser.add_argument(
        "--ocpp",
        default="1.6",
        choices=KNOWN_VERSIONS,
        help="OCPP version (default: 1.6; 2.0.1 is not supported by the engine yet)",
    )
    key = parser.add_mutually_exclusive_group()
    key.add_argument(
        "--auth-key-file",
        metavar="PATH",
        help="read the HTTP Basic password (security profile 1/2; the user is the charge box"
        " id) from PATH (one trailing newline is ignored; keep the file mode 0600). Recommended,"
        f" like the {AUTH_KEY_ENV} environment variable: the key stays out of the command line",
    )
    key.add_argument(
        "--auth-key",
        metavar="KEY",
        help="the HTTP Basic password on the command line: visible to other users of this"
        f" machine (ps, /proc) while the station runs; prefer --auth-key-file or {AUTH_KEY_ENV}."
        " Never printed",
    )
    parser.add_argument(
        "--store",
        metavar="DIR",
        type=Path,
        help="keep the stations' state (configuration, transactions, meter registers) in"
        " DIR/<id>/ across runs (default: a fresh temporary directory, deleted at exit; on"
        " Linux in /dev/shm unless TMPDIR is set). Every change is fsynced: for load tests"
        " with many stations leave it out",
    )
    parser.add_argument(
        "--connectors", type=int, default=2, metavar="N", help="connectors per station (1..99)"
    )
    parser.add_argument(
        "--plugged",
        default="",
        metavar="1,2",
        help="connectors with an EV plugged in and ready at start",
    )
    parser.add_argument(
        "--idtag",
        metavar="TAG",
        help="present this RFID card on every plugged connector once the station is booted",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="run this many simulated seconds, then end cleanly (default 0: until Ctrl-C)",
    )
    parser.add_argument(
        "--log", action="store_true", help="print every frame as a JSON line on stdout"
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="X",
        help="simulated time runs X times as fast as real time (default 1)",
    )
    parser.add_argument(
        "--count",
        type=int,
        default=1,
        metavar="K",
        help="run K stations in this process (ids ID-1 .. ID-K), e.g. for load tests",
    )
    identity = parser.add_argument_group("station identity (BootNotification)")
    identity.add_argument("--vendor", default="OpenSim", help="default: OpenSim")
    identity.add_argument("--model", default="Sim-AC22", help="default: Sim-AC22")
    identity.add_argument("--serial", help="charge point serial number (default: the id)")
    identity.add_argument("--firmware-version", default="0.1.0", help="default: 0.1.0")
    parser.add_argument(
        "--resume-transactions",
        action="store_true",
        help="after a restart with the same --store, a transaction that was running continues"
        " instead of being stopped with reason PowerLoss",
    )
    tls = parser.add_argument_group(
        "TLS (wss://, security profiles 2 and 3)",
        "Without --ca-file the CSMS certificate must be trusted by the system's CA store.",
    )
    tls.add_argument(
        "--ca-file",
        metavar="PATH",
        help="PEM file with the CA certificate(s) that signed the CSMS's certificate, e.g. a"
        " private CA (security profiles 2 and 3)",
    )
    tls.add_argument(
        "--client-cert",
        metavar="PATH",
        help="PEM client certificate (chain) the station presents (security profile 3);"
        " it may contain the key too",
    )
    tls.add_argument(
        "--client-key",
        metavar="PATH",
        help="unencrypted PEM private key of --client-cert (security profile 3)",
    )
    transfers = parser.add_argument_group(
        "transfers (UpdateFirmware and GetDiagnostics with an http(s) location)",
        "The CSMS chooses where the station downloads from and uploads to. By default any host\n"
        "is allowed (a simulator must reach test servers): limit it when the CSMS is not\n"
        "trusted. A refused transfer fails (DownloadFailed / UploadFailed) with the reason.",
    )
    transfers.add_argument(
        "--transfer-allow",
        metavar="HOST[,HOST...]",
        help=f"hosts transfers and their redirects may reach (any port); {SAME_CSMS} stands for"
        " the host of --url (default: any host)",
    )
    transfers.add_argument(
        "--transfer-max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        metavar="N",
        help=f"largest firmware image or diagnostics file moved (default: {DEFAULT_MAX_BYTES},"
        " 64 MiB)",
    )
    failures = parser.add_argument_group(
        "failure injection (firmware management)",
        "UpdateFirmware and GetDiagnostics are simulated unless their location is http(s).",
    )
    failures.add_argument(
        "--fail-firmware-download",
        action="store_true",
        help="simulated firmware downloads fail (DownloadFailed after the retries)",
    )
    failures.add_argument(
        "--fail-firmware-install",
        action="store_true",
        help="firmware installations fail (InstallationFailed after the retries)",
    )
    failures.add_argument(
        "--fail-diagnostics-upload",
        action="store_true",
        help="simulated diagnostics uploads fail (UploadFailed after the retries)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also log transport and engine details"
    )
    return parser


class UsageError(Exception):
    """Invalid arguments: printed as ``error: ...`` with exit status 2."""


def _connectors_list(text: str, connectors: int) -> list[int]:
    found: list[int] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        if not item.isdigit() or not 1 <= int(item) <= connectors:
            raise UsageError(f"--plugged: {item!r} is not a connector from 1 to {connectors}")
        if int(item) not in found:
            found.append(int(item))
    return found


def _check_tls_files(args: argparse.Namespace) -> None:
    """The TLS files are readable and fit the URL (before anything connects)."""
    given = [
        (flag, path)
        for flag, path in (
            ("--ca-file", args.ca_file),
            ("--client-cert", args.client_cert),
            ("--client-key", args.client_key),
        )
        if path is not None
    ]
    if not given:
        return
    if args.client_key is not None and args.client_cert is None:
        raise UsageError("--client-key needs --client-cert (the certificate of that key)")
    if not args.url.lower().startswith("wss://"):
        flags = ", ".join(flag for flag, _ in given)
        raise UsageError(f"{flags}: TLS files need a wss:// --url")
    for flag, path in given:
        if not path:
            raise UsageError(f"{flag}: the path is empty")
        try:
            with open(path, "rb") as file:
                file.read(1)
        except OSError as exc:
            raise UsageError(f"{flag}: cannot read {path}: {exc.strerror or exc}") from None


def _auth_key(args: argparse.Namespace) -> str | None:
    """The authorization key: --auth-key, else --auth-key-file, else the environment."""
    if args.auth_key is not None:
        return args.auth_key
    path = args.auth_key_file
    if path is None:
        key = os.environ.get(AUTH_KEY_ENV)
        if key == "":
            raise UsageError(f"{AUTH_KEY_ENV} is set but empty (unset it for no key)")
        return key
    try:
        with open(path, encoding="utf-8") as file:
            key = file.read(MAX_KEY_FILE_CHARS + 1)
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"--auth-key-file: cannot read {path}: {why}") from None
    if len(key) > MAX_KEY_FILE_CHARS:
        raise UsageError(f"--auth-key-file: {path} is too large for a key")
    key = key.removesuffix("\n").removesuffix("\r")
    if not key:
        raise UsageError(f"--auth-key-file: {path} is empty")
    return key


def _settings(args: argparse.Namespace) -> list[StationSettings]:
    problem = validate_url(args.url)
    if problem is not None:
        raise UsageError(f"--url: {problem}")
    auth_key = _auth_key(args)
    try:
        TransferPolicy.parse(
            args.transfer_allow, csms_url=args.url, max_bytes=args.transfer_max_bytes
        )
    except ValueError as exc:
        flag = "--transfer-allow" if "size limit" not in str(exc) else "--transfer-max-bytes"
        raise UsageError(f"{flag}: {exc}") from None
    _check_tls_files(args)
    if args.ocpp not in SUPPORTED_VERSIONS:
        raise UsageError(
            f"OCPP {args.ocpp} is not supported by the station engine yet; use --ocpp 1.6"
        )
    if not 1 <= args.count <= 10_000:
        raise UsageError("--count must be from 1 to 10000")
    if not (math.isfinite(args.speed) and args.speed > 0):
        raise UsageError("--speed must be a positive number")
    if not (math.isfinite(args.duration) and args.duration >= 0):
        raise UsageError("--duration must be 0 (until Ctrl-C) or a positive number of seconds")
    if args.idtag is not None and not 1 <= len(args.idtag) <= 20:
        raise UsageError("--idtag must be 1 to 20 characters")
    ids = [args.id] if args.count == 1 else [f"{args.id}-{n}" for n in range(1, args.count + 1)]
    result = []
    for station_id in ids:
        try:
            result.append(
                StationSettings(
                    args.url,
                    charge_box_id=station_id,
                    auth_key=auth_key,
                    ocpp_version=args.ocpp,
                    connectors=args.connectors,
                    vendor=args.vendor,
                    model=args.model,
                    serial=(args.serial or station_id)[:25],
                    firmware_version=args.firmware_version,
                    resume_transactions_after_restart=args.resume_transactions,
                    ca_file=args.ca_file,
                    client_cert_file=args.client_cert,
                    client_key_file=args.client_key,
                    transfer_allow=args.transfer_allow,
                    transfer_max_bytes=args.transfer_max_bytes,
                )
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return result


def _temporary_root() -> Path:
    """A fresh directory for a run without --store: in RAM (/dev/shm) on Linux unless TMPDIR
    says otherwise, because the store's fsyncs would be wasted on state deleted at exit and
    they add up with many stations."""
    shm = Path("/dev/shm")
    where = None
    if "TMPDIR" not in os.environ and shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        where = str(shm)
    try:
        return Path(tempfile.mkdtemp(prefix="ocpp-sim-", dir=where))
    except OSError:
        return Path(tempfile.mkdtemp(prefix="ocpp-sim-"))


def _store_dir(root: Path, station_id: str) -> Path:
    name = quote(station_id, safe="-_")
    return root / (name if not name.startswith(".") else "%2E" + name[1:])


class _Output:
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


class _Watcher:
    """Turns one station's events into output lines and presents the --idtag card once."""

    def __init__(self, station: Station, cli: _Cli) -> None:
        self.station = station
        self.cli = cli
        self.card_presented = False
        self.connected_once = False
        self.progress: dict[str, str] = {}
        station.subscribe(self.on_event)

    def stamp(self, now: float | None = None) -> str:
        if now is None:
            now = self.cli.runtime.now()
        return self.station.engine.clock.timestamp(now)

    def say(self, text: str) -> None:
        self.cli.output.line(f"{self.stamp()[11:19]} {self.station.settings.charge_box_id} {text}")

    def on_event(self, event: object) -> None:
        name = type(event).__name__
        if name == "FrameLogged":
            self.on_frame(event)
            return
        if name == "BootAccepted" and not self.card_presented:
            self.card_presented = True
            if self.cli.idtag is not None:
                for n in self.cli.plugged:
                    # A transaction resumed after a restart (--resume-transactions) runs on:
                    # the card would stop it.
                    if self.station.snapshot(n).id_tag is None:
                        self.station.present_card(n, self.cli.idtag)
        if name in ("FirmwareProgress", "DiagnosticsProgress"):
            if self.progress.get(name) == event.status:
                return  # one line per status, not per percent
            self.progress[name] = event.status
        if isinstance(event, ConnectionChanged):
            if event.state is ConnectionState.CONNECTED:
                self.connected_once = True
            elif not self.connected_once and event.state is not ConnectionState.CONNECTING:
                return  # the first attempt failed: the run ends with that error instead
        text = describe(event)
        if name == "StoreFailed":
            self.cli.output.error(f"{self.station.settings.charge_box_id}: {text}")
        elif text is not None:
            self.say(text)

    def on_frame(self, event: Any) -> None:
        if self.cli.output.frames:
            self.cli.output.frame(
                {
                    "time": self.cli.log_time(event.now),
                    "station": self.station.settings.charge_box_id,
                    "direction": event.direction,
                    "frame": frame_json(event),
                },
                event.text,
            )


def describe(event: object) -> str | None:
    """One readable line for an event, or None for events not worth a line."""
    name = type(event).__name__
    get = getattr
    if isinstance(event, ConnectionChanged):
        return f"{event.state.value}: {cli_hint(event.detail)}"
    if name == "StatusChanged":
        error = "" if event.error_code == "NoError" else f" ({event.error_code})"
        where = "station" if event.connector == 0 else f"connector {event.connector}"
        return f"{where}: {event.status}{error}"
    if name == "BootAccepted":
        return f"boot accepted (heartbeat every {event.heartbeat_interval} s)"
    if name == "BootNotAccepted":
        return f"boot {event.status}: retrying in {event.retry_in:g} s"
    if name == "AuthorizationResult":
        source = get(event, "source", None)
        via = f" ({source})" if source else ""
        return f"connector {event.connector}: card {event.id_tag} {event.status}{via}"
    if isinstance(event, MeterSampled):
        return describe_meter_values(event)
    if name == "SessionStarted":
        return _session_line(event, "started")
    if name == "SessionStopped":
        return _session_line(event, "stopped")
    if name == "SessionCancelled":
        return f"connector {event.connector}: session of {event.id_tag} cancelled ({event.reason})"
    if name in ("FirmwareProgress", "DiagnosticsProgress"):
        what = "firmware" if name == "FirmwareProgress" else "diagnostics"
        line = f"{what} {event.status}: {event.detail}"
        sha256 = getattr(event, "sha256", None)
        if sha256 is not None:
            line += f" ({FirmwareImage(event.size, sha256).describe()})"
        return line
    if name == "ReservationChanged":
        reservation = event.reservation
        where = (
            "any connector" if reservation.connector == 0 else f"connector {reservation.connector}"
        )
        return (
            f"reservation {reservation.reservation_id} for {reservation.id_tag} on {where}"
            f" {event.change}"
            + (
                f" (until {reservation.expiry_date})"
                if event.change in ("made", "replaced")
                else ""
            )
        )
    if name == "ResetRequested":
        return f"{event.kind} reset: rebooting"
    if name == "BackendEchoes":
        return (
            "the backend sends the station's own frames back: it is an echo server, not an OCPP"
            " CSMS (check --url)"
        )
    if isinstance(event, StationRebooted):
        return f"rebooted ({event.kind} reset)"
    if name == "ConfigurationChanged":
        value = "(hidden)" if event.value is None else repr(event.value)
        reboot = " (reboot required)" if event.reboot_required else ""
        return f"configuration {event.key} = {value}{reboot}"
    if name == "StoreFailed":
        outcome = (
            f"kept in memory and retried ({event.pending} writes waiting)"
            if event.kept
            else "the change was refused"
        )
        return f"could not write {event.name} to the store ({event.error}); {outcome}"
    if name == "StoreRecovered":
        return f"the store takes writes again: {event.written} kept writes stored"
    if name == "MessageDiscarded":
        details = ", ".join(f"{k}={v}" for k, v in _fields(event).items())
        return f"message discarded: {details}"
    return None


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


class _Cli:
    """One run of the command."""

    def __init__(
        self,
        args: argparse.Namespace,
        out: IO[str],
        err: IO[str],
        stop: asyncio.Event | None = None,
    ) -> None:
        self.args = args
        self.external_stop = stop
        self.output = _Output(out, err, frames=args.log)
        self.idtag: str | None = args.idtag
        self.plugged: list[int] = []
        self.stop_requested: asyncio.Event | None = None
        self.interrupts = 0
        self.runtime: Any = None
        self.stations: list[Station] = []
        self._log_anchor: tuple[float, float] = (time.time(), 0.0)
        self._log_last = -math.inf

    def log_time(self, now: float) -> str:
        """The "time" of a --log line: the host's wall clock at the start of the run plus the
        (simulated) monotonic time since, never decreasing. The station's own clock jumps when
        the CSMS tells the time; the frames carry that one."""
        wall, start = self._log_anchor
        value = max(self._log_last, wall + (now - start))
        self._log_last = value
        return format_datetime(value)

    def on_signal(self) -> None:
        self.interrupts += 1
        if self.interrupts == 1:
            self.output.line("stopping (Ctrl-C again to quit at once)")
            assert self.stop_requested is not None
            self.stop_requested.set()
        else:
            raise KeyboardInterrupt

    async def run(self) -> int:
        from sim.runtime import Runtime
        from sim.transport.cpython import WebsocketsTransport

        args = self.args
        settings = _settings(args)
        self.plugged = _connectors_list(args.plugged, args.connectors)
        if args.idtag is not None and not self.plugged:
            raise UsageError("--idtag needs --plugged: the card is presented where an EV is")
        temporary = args.store is None
        root = _temporary_root() if temporary else args.store
        try:
            return await self._run(settings, root, Runtime, WebsocketsTransport)
        finally:
            if temporary:
                shutil.rmtree(root, ignore_errors=True)

    async def _run(
        self, settings: list[StationSettings], root: Path, runtime_type: Any, transport_type: Any
    ) -> int:
        from ocpp_core import FileStore

        args = self.args
        loop = asyncio.get_running_loop()
        self.stop_requested = self.external_stop or asyncio.Event()
        wall = time.time()
        for item in settings:
            try:
                store = FileStore(_store_dir(root, item.charge_box_id))
            except OSError as exc:
                raise UsageError(f"--store: cannot use {root}: {exc.strerror or exc}") from None
            try:
                station = Station(
                    item,
                    store=store,
                    transport_factory=transport_type,
                    clock_start_wall=wall,
                    config_defaults=CONFIG_DEFAULTS,
                )
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            self.stations.append(station)
        self.runtime = runtime = runtime_type(self.stations, speed=args.speed)
        self._log_anchor = (wall, runtime.now())
        for station in self.stations:
            _Watcher(station, self)
            station.add_engine_setup(_transfer_host_setup(station, runtime))
            station.set_transfer_failures(
                TransferFailures(
                    args.fail_firmware_download,
                    args.fail_firmware_install,
                    args.fail_diagnostics_upload,
                )
            )
            for n in self.plugged:
                station.set_ev_ready(n, True)
                station.plug(n)
        installed = _install_signals(loop, self.on_signal)
        runner = asyncio.ensure_future(runtime.run())
        try:
            try:
                for station in self.stations:
                    station.connect()
            except ValueError as exc:  # e.g. a CA file that is not PEM
                # The runtime has not started (no await yet) and Runtime.run() would forget a
                # stop() made before it starts: cancel it instead.
                runner.cancel()
                for station in self.stations:
                    station.disconnect()
                await self._close_all()
                raise UsageError(str(exc)) from None
            failure = await self._first_attempts()
            if failure is not None:
                for station in self.stations:
                    station.disconnect()
                await self._close_all()
                self.output.error(failure)
                return EXIT_FAILED
            if not self.stop_requested.is_set():
                await self._wait_for_end()
            await self._stop_sessions()
            for station in self.stations:
                station.disconnect()
            await self._close_all()
            self._report_undelivered(root)
            return EXIT_OK
        finally:
            runtime.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
            for station in self.stations:
                with contextlib.suppress(OSError):
                    station.flush()
                unsaved = station.save_kept_writes()
                if unsaved:
                    self.output.error(
                        f"{station.settings.charge_box_id}: {unsaved} store writes could not be"
                        " made (the store still fails); what they held is lost with this run"
                    )
            _remove_signals(loop, installed)

    async def _first_attempts(self) -> str | None:
        """None once every station connected; else the first failure, prefixed by its id."""
        assert self.stop_requested is not None
        attempts = {
            asyncio.ensure_future(station.transport.first_attempt()): station  # type: ignore[union-attr]
            for station in self.stations
        }
        stop = asyncio.ensure_future(self.stop_requested.wait())
        pending = set(attempts)
        try:
            while pending:
                done, _ = await asyncio.wait(pending | {stop}, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task is stop:
                        return None
                    pending.discard(task)
                    reason = task.result()
                    if reason is not None:
                        station = attempts[task]
                        prefix = f"{station.settings.charge_box_id}: " if len(attempts) > 1 else ""
                        args = self.args
                        hint = cli_hint(
                            reason,
                            wss_without_client_cert=args.url.lower().startswith("wss://")
                            and args.client_cert is None,
                        )
                        return f"{prefix}{hint}"
            return None
        finally:
            stop.cancel()
            for task in pending:
                task.cancel()

    async def _wait_for_end(self) -> None:
        assert self.stop_requested is not None
        duration = self.args.duration
        if duration <= 0:
            await self.stop_requested.wait()
            return
        end = self.runtime.now() + duration
        while not self.stop_requested.is_set():
            left = end - self.runtime.now()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop_requested.wait(), left / self.runtime.speed)

    def _cli_sessions(self) -> list[tuple[Station, int]]:
        found = []
        for station in self.stations:
            for n in range(1, station.connectors + 1):
                snapshot = station.snapshot(n)
                if snapshot.transaction_id is not None or snapshot.id_tag is not None:
                    found.append((station, n))
        return found

    async def _stop_sessions(self) -> None:
        """Stop the sessions started with --idtag and wait a little for their messages."""
        if self.idtag is None:
            return
        stopping = [
            (station, n)
            for station, n in self._cli_sessions()
            if station.snapshot(n).id_tag == self.idtag
        ]
        if not stopping:
            return
        for station, n in stopping:
            station.present_card(n, self.idtag)
        stations = list(dict.fromkeys(station for station, _ in stopping))
        started = time.monotonic()
        progress_at, left = started, None
        while time.monotonic() - progress_at < SETTLE_TIMEOUT_S:
            if time.monotonic() - started > SETTLE_LIMIT_S:
                return
            if all(self._settled(station) for station in stations):
                return
            if not any(s.connection_state is ConnectionState.CONNECTED for s in stations):
                return  # offline: the messages stay queued in the store
            waiting = sum(_queue_length(s) for s in stations)
            if left is None or waiting < left:
                progress_at, left = time.monotonic(), waiting
            await asyncio.sleep(0.05)

    @staticmethod
    def _settled(station: Station) -> bool:
        busy = any(station.snapshot(n).id_tag is not None for n in range(1, station.connectors + 1))
        return not busy and _queue_length(station) == 0

    async def _close_all(self) -> None:
        waits = [
            station.transport.wait_closed()  # type: ignore[union-attr]
            for station in self.stations
            if station.transport is not None
        ]
        if waits:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*waits), CLOSE_TIMEOUT_S)

    def _report_undelivered(self, root: Path) -> None:
        for station in self.stations:
            left = _queue_length(station)
            if left:
                where = (
                    "lost with the temporary store"
                    if self.args.store is None
                    else f"kept in {_store_dir(root, station.settings.charge_box_id)}"
                )
                self.output.line(
                    f"{station.settings.charge_box_id}: {left} transaction message(s) not"
                    f" delivered ({where})"
                )


def _queue_length(station: Station) -> int:
    return station.engine.queue_length()


def _transfer_host_setup(station: Station, runtime: Any) -> Any:
    """Firmware downloads and diagnostics uploads with http(s) locations really happen, within
    --transfer-allow and --transfer-max-bytes."""
    from sim.transfer import CPythonTransferHost

    policy = station.settings.transfer_policy()

    def setup(engine: Any) -> None:
        engine.set_transfer_host(
            CPythonTransferHost(
                engine, clock=runtime.now, wake=lambda: runtime.wake(station), policy=policy
            )
        )

    return setup


def _install_signals(loop: asyncio.AbstractEventLoop, handler: Any) -> list[int]:
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, handler)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # Windows, or not the main thread: Ctrl-C raises KeyboardInterrupt
        installed.append(signum)
    return installed


def _remove_signals(loop: asyncio.AbstractEventLoop, installed: list[int]) -> None:
    for signum in installed:
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signum)


def _configure_logging(verbose: bool, stream: IO[str]) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    if not verbose:
        # State changes are printed as lines already; only problems are logged.
        logging.getLogger("sim.transport").setLevel(logging.WARNING)


async def run(
    argv: Sequence[str] | None = None,
    *,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Run the command inside a running event loop (for embedding and tests); setting ``stop``
    ends the run like Ctrl-C does."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    args = build_parser().parse_args(argv)
    cli = _Cli(args, out, err, stop)
    try:
        return await cli.run()
    except UsageError as exc:
        cli.output.error(str(exc))
        return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """The console entry point: parse ``argv`` (default: sys.argv), run, return the status."""
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose, sys.stderr)
    try:
        import websockets  # noqa: F401 - only to fail early with a clear message
    except ImportError:
        print(
            "error: the headless station needs the websockets package:"
            " pip install 'ocpp-station-simulator[transport]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    cli = _Cli(args, sys.stdout, sys.stderr)
    try:
        return asyncio.run(cli.run())
    except UsageError as exc:
        cli.output.error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
