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
from ocpp_core.transfer import TransferHost
from sim.atg import AtgDriver, AtgProfile, load_profile
from sim.cli_args import UsageError, build_parser, connectors_list, station_settings
from sim.cli_output import Output, Watcher, cli_hint
from sim.events import TransferFailures
from sim.operations import DIAGNOSTICS_LOG_FRAMES
from sim.settings import StationSettings
from sim.station import Station
from sim.transfer_policy import TransferPolicy
from sim.transport.base import ConnectionState
from sim.versions import PING_INTERVAL

__all__ = ["main", "run"]

SETTLE_TIMEOUT_S = 10.0
"""Real seconds the end of a run waits for stopped sessions' messages to reach the CSMS, from
the last message delivered (a slow CSMS under many stations still gets its messages) ..."""
SETTLE_LIMIT_S = 120.0
"""... and at most in all."""
CLOSE_TIMEOUT_S = 5.0
FLEET_LOG_FRAMES = 20
"""With --count > 1, the frames each station keeps for the log of a diagnostics file (a single
station keeps DIAGNOSTICS_LOG_FRAMES): 500 frames are about 200 KB, which a fleet of ten
thousand stations cannot keep each."""
CONFIG_DEFAULTS = {version: {key: "20"} for version, key in PING_INTERVAL.items()}
"""The websockets client can ping (a browser cannot): a silently dead CSMS is noticed."""
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


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
        self.output = Output(out, err, frames=args.log)
        self.idtag: str | None = args.idtag
        self.own_tags: frozenset[str] = frozenset(() if args.idtag is None else (args.idtag,))
        self.atg: AtgProfile | None = None
        self.plugged: list[int] = []
        self.stop_requested: asyncio.Event | None = None
        self.interrupts = 0
        self.frames_in = 0
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
        settings = station_settings(args)
        self.plugged = connectors_list(args.plugged, args.connectors)
        if args.idtag is not None and not self.plugged:
            raise UsageError("--idtag needs --plugged: the card is presented where an EV is")
        if args.atg is not None:
            if self.plugged or args.idtag is not None:
                raise UsageError(
                    "--atg plugs and presents cards itself: not with --plugged/--idtag"
                )
            try:
                self.atg = load_profile(args.atg)
            except ValueError as exc:
                raise UsageError(f"--atg: {exc}") from None
            self.own_tags = frozenset(self.atg.id_tags)
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

        args = self.args
        loop = asyncio.get_running_loop()
        self.stop_requested = self.external_stop or asyncio.Event()
        self.runtime = runtime = runtime_type(speed=args.speed)
        self._log_anchor = (time.time(), runtime.now())
        # The first station now (a setting it refuses is a usage error before anything runs),
        # the others as the ramp connects them: making ten thousand takes seconds.
        self._make_station(settings[0], root, transport_type)
        installed = _install_signals(loop, self.on_signal)
        runner = asyncio.ensure_future(runtime.run())
        try:
            try:
                failure = await self._connect_all(settings, root, transport_type)
            except ValueError as exc:  # e.g. a CA file that is not PEM
                # Runtime.run() would forget a stop() made before it starts: cancel it instead.
                runner.cancel()
                for station in self.stations:
                    station.disconnect()
                await self._close_all()
                raise UsageError(str(exc)) from None
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

    def _make_station(self, item: StationSettings, root: Path, transport_type: Any) -> Station:
        """A station of the run, driven by the runtime, with its watcher, EVs and ATG."""
        from ocpp_core import FileStore

        args = self.args
        try:
            store = FileStore(_store_dir(root, item.charge_box_id))
        except OSError as exc:
            raise UsageError(f"--store: cannot use {root}: {exc.strerror or exc}") from None
        try:
            station = Station(
                item,
                store=store,
                transport_factory=transport_type,
                clock_start_wall=time.time(),
                config_defaults=CONFIG_DEFAULTS,
                meter_refresh_s=None,  # nothing shows readings between frames here
                log_frames=DIAGNOSTICS_LOG_FRAMES if args.count == 1 else FLEET_LOG_FRAMES,
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        self.stations.append(station)
        Watcher(station, self)
        station.set_transfer_host_factory(_transfer_host_factory(station, self.runtime))
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
        if self.atg is not None:
            try:
                station.add_driver(AtgDriver(self.atg, station).tick)
            except ValueError as exc:
                raise UsageError(f"--atg: {exc}") from None
        self.runtime.add(station)
        return station

    async def _connect_all(
        self, settings: list[StationSettings], root: Path, transport_type: Any
    ) -> str | None:
        """Connect the stations (making them as it goes, at most --ramp per second) and wait for
        their first attempts: None once every station connected (or a stop was asked for);
        else the first failure, prefixed by its station id. The first station connects at once,
        so a wrong URL is reported at once whatever the ramp."""
        assert self.stop_requested is not None
        loop = asyncio.get_running_loop()
        ramp: float | None = self.args.ramp
        outcome = _FirstAttempts(self, len(settings))
        stop = asyncio.ensure_future(self.stop_requested.wait())
        ended = asyncio.ensure_future(outcome.ended.wait())
        started = loop.time()
        try:
            for index, item in enumerate(settings):
                due = started if ramp is None else started + index / ramp
                if due > loop.time():
                    await asyncio.wait(
                        (stop, ended),
                        timeout=due - loop.time(),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                if stop.done():
                    return None
                if outcome.failure is not None:
                    return outcome.failure
                station = (
                    self.stations[0]
                    if index == 0
                    else self._make_station(item, root, transport_type)
                )
                station.connect()
                attempt = asyncio.ensure_future(station.transport.first_attempt())  # type: ignore[union-attr]
                outcome.watch(attempt, station)
            await asyncio.wait((stop, ended), return_when=asyncio.FIRST_COMPLETED)
            return None if stop.done() else outcome.failure
        finally:
            stop.cancel()
            ended.cancel()
            outcome.cancel()

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
        """Stop the sessions started with --idtag or by --atg and wait a little for their
        messages, and for those still queued (a stop the CSMS asked for just before the end)."""
        if not self.own_tags:
            return
        stopping = []
        for station, n in self._cli_sessions():
            tag = station.snapshot(n).id_tag
            if tag in self.own_tags:
                station.present_card(n, tag, None if self.atg is None else self.atg.token_type)
                stopping.append((station, n))
        stopped = {station for station, _ in stopping}
        stations = [s for s in self.stations if s in stopped or s.queue_length]
        if not stations:
            return
        started = time.monotonic()
        progress_at, frames_in = started, self.frames_in
        while time.monotonic() - progress_at < SETTLE_TIMEOUT_S:
            if time.monotonic() - started > SETTLE_LIMIT_S:
                return
            checking = time.monotonic()
            stations = [station for station in stations if not self._settled(station)]
            if not stations:
                return
            if not any(s.connection_state is ConnectionState.CONNECTED for s in stations):
                return  # offline: the messages stay queued in the store
            # Progress: the CSMS answers (thousands of stations may first have to get their
            # StatusNotifications through before their queues shrink).
            if self.frames_in > frames_in:
                progress_at, frames_in = time.monotonic(), self.frames_in
            # Looking costs time with thousands of stations: at most a fifth of it, the rest
            # is theirs to deliver.
            await asyncio.sleep(max(0.05, 4 * (time.monotonic() - checking)))

    @staticmethod
    def _settled(station: Station) -> bool:
        busy = any(station.snapshot(n).id_tag is not None for n in range(1, station.connectors + 1))
        return not busy and station.queue_length == 0

    async def _close_all(self) -> None:
        waits = [
            station.transport.wait_closed()  # type: ignore[attr-defined]
            for station in self.stations
            if station.transport is not None
        ]
        if waits:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*waits), CLOSE_TIMEOUT_S)

    def _report_undelivered(self, root: Path) -> None:
        for station in self.stations:
            left = station.queue_length
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


def _transfer_host_factory(
    station: Station, runtime: Any
) -> Callable[[Any, TransferPolicy], TransferHost]:
    """Firmware downloads and diagnostics uploads with http(s) locations really happen, within
    --transfer-allow and --transfer-max-bytes."""
    from sim.transfer import CPythonTransferHost

    def factory(target: Any, policy: TransferPolicy) -> TransferHost:
        return _LazyHost(
            lambda: CPythonTransferHost(
                target, clock=runtime.now, wake=lambda: runtime.wake(station), policy=policy
            )
        )

    return factory


class _FirstAttempts:
    """The outcome of the stations' first connection attempts: ``ended`` is set at the first
    failure (``failure``, prefixed by the station's id) or once every station connected."""

    def __init__(self, cli: _Cli, count: int) -> None:
        self._cli = cli
        self._waiting = count
        self._tasks: set[asyncio.Future[str | None]] = set()
        self.failure: str | None = None
        self.ended = asyncio.Event()

    def watch(self, attempt: asyncio.Future[str | None], station: Station) -> None:
        self._tasks.add(attempt)

        def done(task: asyncio.Future[str | None]) -> None:
            self._tasks.discard(task)
            if task.cancelled():
                return
            reason = task.result()
            self._waiting -= 1
            if reason is not None and self.failure is None:
                args = self._cli.args
                prefix = f"{station.settings.charge_box_id}: " if args.count > 1 else ""
                hint = cli_hint(
                    reason,
                    wss_without_client_cert=args.url.lower().startswith("wss://")
                    and args.client_cert is None,
                )
                self.failure = f"{prefix}{hint}"
                self.ended.set()
            elif self._waiting == 0:
                self.ended.set()

        attempt.add_done_callback(done)

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()


class _LazyHost:
    """A transfer host made at its first use: most stations of a fleet never transfer a file,
    and each host holds an HTTP opener (about 6 KB)."""

    __slots__ = ("_host", "_make")

    def __init__(self, make: Callable[[], TransferHost]) -> None:
        self._make: Callable[[], TransferHost] | None = make
        self._host: TransferHost | None = None

    def __getattr__(self, name: str) -> Any:
        if self._host is None:
            assert self._make is not None
            self._host, self._make = self._make(), None
        return getattr(self._host, name)


def _install_signals(loop: asyncio.AbstractEventLoop, handler: Any) -> list[int]:
    installed: list[int] = []
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
