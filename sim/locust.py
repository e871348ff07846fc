"""Locust users that are charging stations, for load tests of a CSMS on one machine or many.

    locust -f examples/locustfile.py --headless -u 1000 -r 50 --run-time 5m \\
        --host ws://csms.example:9000/ocpp --atg examples/atg.toml

``StationUser`` (abstract: subclass it in a locustfile, as examples/locustfile.py does) makes
each Locust user one Station: the same engine, connectors and automatic transaction generator
as ``python -m sim --atg``, over the gevent transport (sim/transport/gevent.py). Locust's
``--host`` is the CSMS base URL; each station opens ``<host>/<charge box id>``, the id being
``--station-prefix`` + the worker's index + a counter (``LOCUST-0-00001``), unique across the
workers of a distributed run and across the processes of ``--processes``.

Every CALL a station sends is a Locust request of type "OCPP" named after its action, with the
CSMS's reply time as response time; it fails on a CALLERROR, on a reply the response schema
rejects, on no reply within the MessageTimeout, or when the connection drops first
(sim/locust_calls.py). Connection attempts are requests of type "WebSocket" named "connect".

The user's one task ticks its Station on the wall clock, sleeping in gevent until the station's
next wake-up or until a frame or a control wakes it. Locust stops a user by killing its greenlet
(or, with ``--stop-timeout``, by letting it end its sessions first): the station then closes its
connection with 1000.

This module imports Locust (which monkey-patches the standard library for gevent): never import
it from the browser, the CLI or the tests' own process.
"""

from __future__ import annotations

import itertools
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import gevent
from gevent.event import Event
from locust import User, constant, events, task
from locust.exception import StopUser
from locust.user.task import LOCUST_STATE_STOPPING

from ocpp_core.assembly import for_version
from ocpp_core.store import MemoryStore
from sim.atg import AtgDriver, AtgProfile, load_profile
from sim.locust_calls import CallReporter
from sim.settings import StationSettings, setting_named
from sim.station import Station
from sim.transport.base import validate_url
from sim.transport.gevent import GeventTransport
from sim.versions import CHOICES

if TYPE_CHECKING:
    from locust.env import Environment

__all__ = ["DEFAULT_PREFIX", "StationUser"]

logger = logging.getLogger("sim.locust")

DEFAULT_PREFIX = "LOCUST-"

MAX_IDLE_S = 5.0
"""The longest a station sleeps without a wake-up due (a stopping user notices within it)."""

ERROR_RETRY_S = 1.0
"""After a tick raised (a bug, logged), the station is ticked again this much later."""

SPIN_LIMIT = 100
"""Immediate wake-ups in a row, with nothing new, after which a station is throttled."""

FINISH_S = 10.0
"""With --stop-timeout: how long a stopping user waits for its StopTransactions to be answered."""

_VERSION = setting_named("ocpp_version").default
_CONNECTORS = setting_named("connectors").default

_numbers = itertools.count(1)
_profiles: dict[str, AtgProfile] = {}
_fatal_reported = False


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument(
        "--atg",
        default="",
        metavar="PROFILE.toml",
        help="OCPP stations: the automatic transaction generator profile (TOML, as for"
        " `python -m sim --atg`; on every worker's machine); default: the built-in defaults",
    )
    parser.add_argument(
        "--ocpp-version",
        default=_VERSION,
        choices=CHOICES,
        help=f"OCPP stations: the protocol version (auto offers both); default {_VERSION}",
    )
    parser.add_argument(
        "--connectors",
        type=int,
        default=_CONNECTORS,
        help=f"OCPP stations: connectors per station; default {_CONNECTORS}",
    )
    parser.add_argument(
        "--station-prefix",
        default=DEFAULT_PREFIX,
        help=f"OCPP stations: charge box ids are PREFIX<worker>-<n>; default {DEFAULT_PREFIX}",
    )
    parser.add_argument(
        "--auth-key",
        default="",
        is_secret=True,
        help="OCPP stations: HTTP Basic password (the user is the charge box id); default none",
    )
    for flag, what in (
        ("--ca-file", "PEM file of the CA(s) that signed the CSMS's certificate (wss://)"),
        ("--client-cert", "PEM client certificate, security profile 3 (wss://)"),
        ("--client-key", "its unencrypted PEM private key"),
    ):
        parser.add_argument(flag, default="", help=f"OCPP stations: {what}; on every worker")


@events.init.add_listener
def _quiet_logs(environment: Environment, **_kwargs: Any) -> None:
    """One line per station and state change would drown Locust's own output: the stations'
    loggers start at WARNING (ocpp_core's CALLERROR warnings at ERROR: they are in the
    statistics) unless logging was configured for them."""
    for name, level in (("sim", logging.WARNING), ("ocpp_core", logging.ERROR)):
        found = logging.getLogger(name)
        if found.level == logging.NOTSET:
            found.setLevel(level)
    options = environment.parsed_options
    path = getattr(options, "atg", "") if options is not None else ""
    if path and not getattr(options, "worker", False):
        try:  # a mistake in the profile stops the run before any user starts
            _profile(path)
        except ValueError as exc:
            logger.error("--atg: %s", exc)
            raise SystemExit(2) from None


def _profile(path: str) -> AtgProfile:
    """The profile of ``--atg`` (loaded once per process); the defaults without one."""
    if not path:
        return AtgProfile()
    found = _profiles.get(path)
    if found is None:
        found = _profiles[path] = load_profile(Path(path))
    return found


def station_id(environment: Environment, prefix: str = DEFAULT_PREFIX) -> str:
    """A charge box id unique across Locust's workers: prefix, worker index, counter."""
    worker = max(int(getattr(environment.runner, "worker_index", 0) or 0), 0)
    return f"{prefix}{worker}-{next(_numbers):05d}"


def message_timeout(station: Station) -> float:
    """The engine's MessageTimeout in seconds (how long it waits for a reply)."""
    engine = station.engine
    text = engine.get_configuration(for_version(engine.version).timeout_key)
    try:
        return float(text) if text else 30.0
    except ValueError:
        return 30.0


class StationUser(User):
    """One simulated charging station per Locust user (see the module's docstring).

    A locustfile subclasses it; class attributes override the command line for that class:
    ``atg`` (an AtgProfile), ``connectors``, ``ocpp_version``.
    """

    abstract = True
    wait_time = constant(0)  # the one task returns only when the user stops
    atg: ClassVar[AtgProfile | None] = None
    connectors: ClassVar[int | None] = None
    ocpp_version: ClassVar[str | None] = None

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.station: Station | None = None
        self.reporter: CallReporter | None = None
        self._profile = AtgProfile()
        self._wake = Event()

    # ------------------------------------------------------------------ start and stop

    def on_start(self) -> None:
        try:
            self.station = self._build()
        except ValueError as exc:  # a setting all users share: the run ends (exit status 2)
            _fatal(self.environment, str(exc))
            return
        self.station.connect()

    def _option(self, name: str, default: Any) -> Any:
        options = self.environment.parsed_options
        value = getattr(options, name, None) if options is not None else None
        return default if value in (None, "") else value

    def _build(self) -> Station:
        profile = self.atg if self.atg is not None else _profile(str(self._option("atg", "")))
        self._profile = profile
        host = self.host or ""
        problem = validate_url(host)
        if problem is not None:
            raise ValueError(f"--host: {problem}")
        prefix = str(self._option("station_prefix", DEFAULT_PREFIX))
        settings = StationSettings(
            charge_box_id=station_id(self.environment, prefix),
            csms_url=host,
            connectors=int(self.connectors or self._option("connectors", _CONNECTORS)),
            ocpp_version=str(self.ocpp_version or self._option("ocpp_version", _VERSION)),
            auth_key=self._option("auth_key", None),
            ca_file=self._option("ca_file", None),
            client_cert_file=self._option("client_cert", None),
            client_key_file=self._option("client_key", None),
        )
        reporter = self.reporter = CallReporter(
            self._report,
            version=lambda: self._station().engine.version,
            timeout_s=lambda: message_timeout(self._station()),
            clock=time.monotonic,
        )
        station = Station(
            settings,
            store=MemoryStore(),
            transport_factory=reporter.factory(GeventTransport),
            clock_start_wall=time.time(),
        )
        station.waker = self._wake.set
        station.add_driver(AtgDriver(profile, station).tick)
        return station

    def _station(self) -> Station:
        assert self.station is not None
        return self.station

    def on_stop(self) -> None:
        if self.reporter is not None:
            self.reporter.stop()
        if self.station is not None:
            self.station.disconnect()

    def _report(
        self, kind: str, name: str, millis: float, length: int, problem: Exception | None
    ) -> None:
        self.environment.events.request.fire(
            request_type=kind,
            name=name,
            response_time=millis,
            response_length=length,
            exception=problem,
            context={"charge_box_id": self._station().settings.charge_box_id},
        )

    # ------------------------------------------------------------------ the station's life

    @task
    def run_station(self) -> None:
        """Tick the station until Locust stops this user."""
        station, reporter = self.station, self.reporter
        if station is None or reporter is None:  # the settings were refused: the run ends
            raise StopUser()
        base = time.monotonic()
        spins = 0
        while self._state != LOCUST_STATE_STOPPING:
            self._wake.clear()
            now = time.monotonic() - base
            try:
                due = station.tick(now)
            except Exception:
                logger.exception("station %s failed to tick", station.settings.charge_box_id)
                due = now + ERROR_RETRY_S
            reporter.expire()
            delay = MAX_IDLE_S if due is None else min(due - now, MAX_IDLE_S)
            if reporter.deadline is not None:
                delay = min(delay, reporter.deadline - time.monotonic())
            if delay > 0 or self._wake.is_set():
                spins = 0
            else:
                spins += 1
                if spins >= SPIN_LIMIT:
                    if spins == SPIN_LIMIT:
                        logger.warning("station %r keeps asking to be ticked at once", station)
                    delay = ERROR_RETRY_S
            if delay > 0:
                self._wake.wait(delay)
            else:
                gevent.sleep(0)  # let the transports and the other users run
        self._finish(station, base)

    def _finish(self, station: Station, base: float) -> None:
        """A graceful stop (--stop-timeout): the drivers stop their sessions with their cards
        and the station waits a little for the StopTransactions to be answered."""
        connectors = range(1, station.connectors + 1)
        for n in connectors:
            info = station.engine.transaction(n)
            if info is not None and info.id_tag:
                station.present_card(n, info.id_tag, self._profile.token_type)
        end = time.monotonic() + FINISH_S
        while time.monotonic() < end:
            self._wake.clear()
            try:
                station.tick(time.monotonic() - base)
            except Exception:
                logger.exception("station %s failed to tick", station.settings.charge_box_id)
                return
            if station.queue_length == 0 and not any(
                station.engine.transaction(n) for n in connectors
            ):
                return
            self._wake.wait(0.5)


def _fatal(environment: Environment, message: str) -> None:
    """A setting every user shares is wrong: say it once and end the run."""
    global _fatal_reported
    if _fatal_reported:
        return
    _fatal_reported = True
    logger.error("%s", message)
    environment.process_exit_code = 2
    runner = environment.runner
    if runner is not None:
        gevent.spawn(runner.quit)
