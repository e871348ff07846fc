"""The command line of ``python -m sim``: its options and the station settings they make.

The options that set a station setting (``--url``, ``--id``, ``--vendor``, ...) are made from the
settings table (sim/settings.py): flag, help, default and check are declared there once; the
options of the run itself (``--store``, ``--plugged``, ``--duration``, ...) are declared here.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

from sim.settings import SETTINGS, SettingsError, StationSettings, setting_named
from sim.versions import id_tag_length

__all__ = ["AUTH_KEY_ENV", "UsageError", "build_parser", "connectors_list", "station_settings"]

AUTH_KEY_ENV = "OCPP_SIM_AUTH_KEY"
"""The environment variable holding the authorization key (when no option gives one)."""
MAX_KEY_FILE_CHARS = 4096
MAX_STATIONS = 10_000

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
    _add_setting(parser, "csms_url")
    _add_setting(parser, "charge_box_id")
    _add_setting(parser, "ocpp_version")
    key = parser.add_mutually_exclusive_group()
    key.add_argument(
        "--auth-key-file",
        metavar="PATH",
        help="read the HTTP Basic password (security profile 1/2; the user is the charge box"
        " id) from PATH (one trailing newline is ignored; keep the file mode 0600). Recommended,"
        f" like the {AUTH_KEY_ENV} environment variable: the key stays out of the command line",
    )
    _add_setting(key, "auth_key")
    parser.add_argument(
        "--store",
        metavar="DIR",
        type=Path,
        help="keep the stations' state (configuration, transactions, meter registers) in"
        " DIR/<id>/ across runs (default: a fresh temporary directory, deleted at exit; on"
        " Linux in /dev/shm unless TMPDIR is set). Every change is fsynced: for load tests"
        " with many stations leave it out",
    )
    _add_setting(parser, "connectors")
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
        "--atg",
        type=Path,
        metavar="PROFILE.toml",
        help="automatic transaction generator: on every connector of every station, EVs plug"
        " in, cards are presented, charging runs and ends as the TOML profile says, seeded and"
        ' reproducible (see the README\'s "Automatic transaction generator"; not with'
        " --plugged/--idtag)",
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
    parser.add_argument(
        "--ramp",
        type=float,
        default=None,
        metavar="PER_SECOND",
        help="with --count: open at most this many connections per second (default: all at"
        " once), so a large fleet does not hit the CSMS with every handshake at once",
    )
    identity = parser.add_argument_group("station identity (BootNotification)")
    for name in ("vendor", "model", "serial", "firmware_version"):
        _add_setting(identity, name)
    _add_setting(parser, "resume_transactions_after_restart")
    _add_setting(parser, "signed_meter_values")
    _add_setting(parser, "additional_root_certificate_check")
    tls = parser.add_argument_group(
        "TLS (wss://, security profiles 2 and 3)",
        "Without --ca-file the CSMS certificate must be trusted by the system's CA store.",
    )
    for name in ("ca_file", "client_cert_file", "client_key_file"):
        _add_setting(tls, name)
    transfers = parser.add_argument_group(
        "transfers (UpdateFirmware and GetDiagnostics with an http(s) location)",
        "The CSMS chooses where the station downloads from and uploads to. By default any host\n"
        "is allowed (a simulator must reach test servers): limit it when the CSMS is not\n"
        "trusted. A refused transfer fails (DownloadFailed / UploadFailed) with the reason.",
    )
    for name in ("transfer_allow", "transfer_max_bytes"):
        _add_setting(transfers, name)
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


_TYPES: dict[str, type] = {"int": int, "float": float, "str": str}


def _add_setting(container: Any, name: str) -> None:
    """The option of one setting, as the settings table declares it."""
    item = setting_named(name)
    flag = item.cli
    assert flag is not None, f"{name} has no command-line flag"
    options: dict[str, Any] = {"help": flag.help.format(default=item.cli_default, env=AUTH_KEY_ENV)}
    if item.kind == "bool":
        options["action"] = "store_true"
    else:
        options["default"] = item.cli_default
        options["type"] = _TYPES[item.kind]
        if flag.metavar is not None:
            options["metavar"] = flag.metavar
        if flag.choices is not None:
            options["choices"] = flag.choices
    container.add_argument(flag.flag, **options)


class UsageError(Exception):
    """Invalid arguments: printed as ``error: ...`` with exit status 2."""


def connectors_list(text: str, connectors: int) -> list[int]:
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
        return str(args.auth_key)
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


def station_settings(args: argparse.Namespace) -> list[StationSettings]:
    """The settings of every station the arguments ask for (UsageError: unusable arguments)."""
    auth_key = _auth_key(args)
    _check_tls_files(args)
    first = _settings_of(args, args.id if args.count == 1 else f"{args.id}-1", auth_key)
    if not 1 <= args.count <= MAX_STATIONS:
        raise UsageError(f"--count must be from 1 to {MAX_STATIONS}")
    if not (math.isfinite(args.speed) and args.speed > 0):
        raise UsageError("--speed must be a positive number")
    if args.ramp is not None and not (math.isfinite(args.ramp) and args.ramp > 0):
        raise UsageError("--ramp must be a positive number of connections per second")
    if not (math.isfinite(args.duration) and args.duration >= 0):
        raise UsageError("--duration must be 0 (until Ctrl-C) or a positive number of seconds")
    longest = id_tag_length(args.ocpp)
    if args.idtag is not None and not 1 <= len(args.idtag) <= longest:
        raise UsageError(f"--idtag must be 1 to {longest} characters with --ocpp {args.ocpp}")
    if args.count == 1:
        return [first]
    ids = [f"{args.id}-{n}" for n in range(2, args.count + 1)]
    return [first, *(_settings_of(args, station_id, auth_key) for station_id in ids)]


def _settings_of(
    args: argparse.Namespace, station_id: str, auth_key: str | None
) -> StationSettings:
    """One station's settings: the table's options, its id, the key and the serial (the id
    unless --serial gives one)."""
    values = {item.name: getattr(args, item.cli.dest) for item in SETTINGS if item.cli is not None}
    values.update(
        charge_box_id=station_id,
        auth_key=auth_key,
        serial=(args.serial or station_id)[:25],
    )
    try:
        return StationSettings(**values)
    except SettingsError as exc:
        flag = setting_named(exc.name).cli
        given = flag is not None and exc.name != "auth_key"  # the key may not come from its flag
        if given and (exc.name != "serial" or args.serial is not None):
            raise UsageError(f"{flag.flag}: {exc.detail}") from None  # type: ignore[union-attr]
        raise UsageError(str(exc)) from None
