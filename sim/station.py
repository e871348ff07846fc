"""One simulated charging station: the core's ChargePoint, N mocked connectors and a transport.

The station is bound to ``ocpp_core`` only through the engine's public inputs and outputs: per
connector it feeds the cable, EV-ready and EVSE-ready switches, an injectable fault and the meter
readings (sim/meter.py) into ``ChargePoint.connector(n)``, and receives the charging limit (to the
meter) and the connector lock. An RFID reader hands cards to ``ChargePoint.present_card``, which
starts a session or stops it, as a real charger does. The GUI and the CLI use only this module's
API (see ARCHITECTURE.md, "The sim station API"); they hold no protocol logic.

Time: ``tick(now)`` is the only place the station does anything. ``now`` is the runtime's
monotonic, possibly simulated, seconds (sim/runtime.py); controls and transport events are queued
and take effect at the next tick, and the station asks its runtime for one through ``waker``.

Energy only flows while the core says it may (``ChargePoint.charging``: in 1.6 the connector is
Charging, in 2.0.1 the transaction's chargingState is Charging; a transaction runs, the cable is
in, the EVSE offers and the EV asks for energy, no fault): the station ties the meter's EVSE
switch to it, so the meter never charges outside a session.

Protocol versions (sim/versions.py): the settings choose 1.6, 2.0.1 or "auto". With auto the
handshake offers both and the station runs the engine of the one the CSMS selected: an engine of
the other version is replaced before it sees the connection (the version last selected is
remembered, so a station normally starts with the right one). Each version's engine keeps its
documents in its own namespace of the Store; connectors are EVSE 1..N in 2.0.1.

A Reset from the CSMS reboots the station: after the Reset.conf has left, the engine is discarded
and a new ChargePoint is built on the same Store (the physical state, i.e. cables, EVs, faults and
meter registers, stays), and the station connects again. The meter registers never fall across a
reboot, a kill or a page reload (sim/connectors.py, MeterRegisters): a cut loses at most
METER_SAVE_WH, plus the energy since the last tick (METER_REFRESH_S while power flows), of energy
never reported.

Around the Station: sim/settings.py (StationSettings), sim/events.py (snapshots and events),
sim/clock.py, sim/connectors.py (the hardware), sim/link.py (the transport), sim/operations.py.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ocpp_core import ChargePoint
from ocpp_core.clock import Clock
from ocpp_core.events import (
    AuthorizationResult,
    ConfigurationChanged,
    DiagnosticsProgress,
    FirmwareProgress,
    FrameLogged,
    SessionCancelled,
    SessionStopped,
    StatusChanged,
)
from ocpp_core.sessions import STOPPING
from sim.clock import AnchoredClock
from sim.connectors import Hardware, MeterRegisters, check_id_tag, fault_of, meter_wakeup, new_ev
from sim.engine_views import EngineViews
from sim.engines import Engines
from sim.events import (
    BackendEchoes,
    ConnectionChanged,
    ConnectorSnapshot,
    LastAuth,
    ProtocolSelected,
    ReservationShown,
    SnapshotChanged,
    StationRebooted,
    Subscribers,
)
from sim.link import CsmsLink
from sim.meter_signer import signing_meters
from sim.operations import DIAGNOSTICS_LOG_FRAMES, Operations
from sim.settings import StationSettings
from sim.transport.base import ConnectionState, TransportConfig
from sim.versions import AUTO, id_tag_length, version_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ocpp_core.sessions import TransactionInfo
    from ocpp_core.store import Store
    from ocpp_core.transfer import TransferHost
    from sim.transfer_policy import TransferPolicy
    from sim.transport.base import Transport, TransportListener

__all__ = ["METER_REFRESH_S", "Station"]

METER_REFRESH_S = 1.0
"""While power flows the station wakes at least this often (simulated seconds), so the readings
the GUI shows move smoothly; energy is exact whatever the tick rate (see sim/meter.py). A
headless fleet shows no readings between frames: it passes ``meter_refresh_s=None`` and a
charging station then wakes only when something is due (a MeterValues sample, a full battery)."""

KEY_CHANGE_GRACE_S = 1.0
"""After the CSMS changes AuthorizationKey, the station reconnects with the new key this long
after the ChangeConfiguration.conf was sent (security whitepaper A01)."""

NO_URL = "enter the CSMS URL (ws://host:port/path or wss://...)"

# ---------------------------------------------------------------------------------- the station


class Station(EngineViews):
    """One simulated charging station: ChargePoint + N simulated connectors (meter, EV, RFID,
    lock, faults) + a transport.

    ``transport_factory(config, listener)`` makes the WebSocket transport (CPython:
    ``sim.transport.cpython.WebsocketsTransport``, browser: ``sim.transport.browser.
    BrowserTransport``). ``clock_start_wall`` is the wall time (epoch seconds) at the first tick;
    without it the station's clock starts at 2020-01-01 until the CSMS tells the time.
    ``config_defaults`` replaces declared defaults of configuration keys (ChargePoint's option;
    e.g. ``{"WebSocketPingInterval": "20"}``, which a browser cannot honour): keys of the
    settings' version, or per version (``{"1.6": {...}, "2.0.1": {...}}``, what auto needs).
    ``meter_refresh_s``: see METER_REFRESH_S. ``log_frames``: the recent frames kept for the log
    of a diagnostics file (each station of a large fleet keeps fewer: they cost memory).
    """

    def __init__(
        self,
        settings: StationSettings,
        *,
        store: Store,
        transport_factory: Callable[[TransportConfig, TransportListener], Transport],
        clock_start_wall: float | None = None,
        config_defaults: Mapping[str, str] | Mapping[str, Mapping[str, str]] | None = None,
        meter_refresh_s: float | None = METER_REFRESH_S,
        log_frames: int = DIAGNOSTICS_LOG_FRAMES,
    ) -> None:
        self.settings = settings
        self.meter_refresh_s = meter_refresh_s
        self.store = store
        self._engines = Engines(settings, store, config_defaults)
        self._store = self._engines.root
        self.waker: Callable[[], None] | None = None
        """Set by the runtime: asks for a tick soon (a control was used, a frame arrived)."""
        self._link = CsmsLink(transport_factory, on_state=self._connection_changed, wake=self._wake)
        self._subscribers = Subscribers()
        self._emit = self._subscribers.emit
        self._now: float | None = None
        self._cards: list[tuple[int, str, str | None]] = []
        self._reboot: str | None = None
        self._reconnect_at: float | None = None
        self._save_meters_soon = False
        self._statuses: dict[int, tuple[str, str]] = {}
        self._unsubscribe_engine: Callable[[], None] | None = None
        self._engine_setups: tuple[Callable[[ChargePoint], None], ...] = ()
        self._drivers: tuple[Callable[[float], float | None], ...] = ()
        self._driver_wake: float | None = None
        self._operations = Operations(log_frames)
        self._registers = MeterRegisters(self._store, settings.charge_box_id)
        self._hardware = self._registers.load(settings)
        version = self._engines.first_version()
        self._engine = self._build_engine(AnchoredClock(clock_start_wall), version)
        self._registers.raise_to(self._engine)
        self._auth_key = self._engines.auth_key(self._engine)
        self.meter_signer = signing_meters(self._store, settings)  # None: readings unsigned
        if self.meter_signer is not None:
            self.add_engine_setup(self.meter_signer.fit)

    def _build_engine(
        self, clock: Clock, version: str, previous: ChargePoint | None = None
    ) -> ChargePoint:
        engine = self._engines.build(
            version,
            clock,
            previous=previous,
            reset_handler=self._on_reset,
            diagnostics_log=self._operations.diagnostics_log,
            hardware=self._hardware,
            registers=self._registers,
        )
        self._statuses = {}
        self._unsubscribe_engine = engine.subscribe(self._on_engine_event)
        engine.connector(0).temperature = lambda: self._temperature_c  # 2.0.1 TemperatureSensor
        return engine

    # ------------------------------------------------------------------ lifecycle

    @property
    def engine(self) -> ChargePoint:
        """The core, for tests and advanced use: the GUI and the CLI use the members below."""
        return self._engine

    @property
    def queue_length(self) -> int:
        """Transaction messages waiting to be delivered (the journal's length)."""
        return self._engine.queue_length()

    def timestamp(self, now: float) -> str:
        """The station's clock at ``now`` as the frames show it (RFC 3339, UTC)."""
        return self._engine.clock.timestamp(now)

    def set_transfer_host_factory(
        self, factory: Callable[[ChargePoint, TransferPolicy], TransferHost]
    ) -> None:
        """Move firmware and diagnostics over http(s) for real: ``factory(target, policy)``
        makes the host (sim/transfer.py) that reports to ``target``, within the settings'
        ``policy``; it is called now and for every engine a reboot builds."""
        policy = self.settings.transfer_policy()
        self.add_engine_setup(lambda engine: engine.set_transfer_host(factory(engine, policy)))

    def add_driver(self, tick: Callable[[float], float | None]) -> None:
        """Let ``tick(now)`` use the controls at the start of every tick of this station (an
        automatic transaction generator); it returns when it wants the next one (None: never)."""
        self._drivers = (*self._drivers, tick)
        self._driver_wake = None
        self._wake()

    def add_engine_setup(self, setup: Callable[[ChargePoint], None]) -> None:
        """Run ``setup(engine)`` on the current engine now and on every new one a reboot builds
        (before its first poll): for what lives on the ChargePoint and must survive reboots,
        e.g. ``set_transfer_host`` with a host made for that engine."""
        self._engine_setups = (*self._engine_setups, setup)
        setup(self._engine)

    @property
    def transport(self) -> Transport | None:
        """The current transport (None before ``connect``); replaced at every reboot."""
        return self._link.transport

    @property
    def connection_state(self) -> ConnectionState:
        return self._link.state

    @property
    def connection_detail(self) -> str:
        """A human-readable message about the connection (why it failed, when it did)."""
        return self._link.detail

    @property
    def backend_echoes(self) -> bool:
        """The backend of the current connection sends our frames back (see BackendEchoes)."""
        return self._link.echoes

    @property
    def connectors(self) -> int:
        return len(self._hardware)

    def connect(self) -> None:
        """Start the transport: connect, and reconnect with backoff until ``disconnect``.

        Raises ValueError with a message for the user when the URL or the connection settings
        are unusable (nothing is started then).
        """
        if not self.settings.csms_url:  # any other URL was checked with the settings
            raise ValueError(NO_URL)
        if self._link.running:
            return
        self._link.running = True
        try:
            self._start_transport()  # e.g. an unreadable CA file: ValueError from the transport
        except BaseException:
            self._link.running = False
            raise

    def disconnect(self) -> None:
        """Close the connection cleanly (code 1000) and stay disconnected; saves the meters."""
        self._link.stop()
        self._reconnect_at = None
        self.flush()

    def set_offline(self, offline: bool) -> None:
        """The "network cable" switch: off closes the connection and keeps it closed (the core
        goes offline and queues its messages); on lets it connect again."""
        self._link.set_offline(bool(offline))
        self._wake()

    @property
    def offline(self) -> bool:
        return self._link.offline

    def flush(self) -> None:
        """Save what the station keeps across runs (the meter registers) to the Store now."""
        self._registers.flush()

    def save_kept_writes(self) -> int:
        """Store now the writes a failing Store made the station keep in memory; returns how
        many it still cannot store (lost if the process ends)."""
        return self._engines.save_kept_writes()

    def _start_transport(self) -> None:
        config = TransportConfig(
            url=self.settings.csms_url,
            charge_box_id=self.settings.charge_box_id,
            ocpp_version=self.settings.ocpp_version,
            auth_key=self._auth_key,
            ca_file=self.settings.ca_file,
            client_cert_file=self.settings.client_cert_file,
            client_key_file=self.settings.client_key_file,
            ping_interval_s=self._engines.ping_interval_s(self._engine),
        )
        self._link.start(config)

    def _connection_changed(self, state: ConnectionState, detail: str) -> None:
        self._emit(ConnectionChanged(state, detail))
        self._wake()

    # ------------------------------------------------------------------ controls

    def _hw(self, n: int) -> Hardware:
        if type(n) is not int or not 1 <= n <= len(self._hardware):
            raise ValueError(f"no connector {n!r}: connectors are 1 to {len(self._hardware)}")
        return self._hardware[n - 1]

    def plug(self, n: int) -> None:
        """Plug a car in (a fresh one, with the configured state of charge)."""
        hw = self._hw(n)
        if not hw.plugged:
            hw.meter.ev = new_ev(self.settings, ready=hw.ev_ready)
            hw.plugged = True
        self._wake()

    def unplug(self, n: int) -> None:
        self._hw(n).plugged = False
        self._wake()

    def set_ev_ready(self, n: int, ready: bool) -> None:
        """The car asks for energy (True) or pauses (False: SuspendedEV while charging)."""
        hw = self._hw(n)
        hw.ev_ready = bool(ready)
        hw.meter.ev.ready = hw.ev_ready
        self._wake()

    def set_evse_ready(self, n: int, ready: bool) -> None:
        """The EVSE offers energy (True) or not (False: SuspendedEVSE while charging)."""
        self._hw(n).evse_ready = bool(ready)
        self._wake()

    def set_lock_failing(self, n: int, failing: bool) -> None:
        """The cable lock jams (True): locking it fails, which a 2.0.1 station reports with a
        NotifyEvent (ConnectorPlugRetentionLock Problem, G05); False: it works again."""
        self._hw(n).lock_fails = bool(failing)
        self._wake()

    def inject_fault(
        self,
        n: int,
        error_code: str,
        info: str | None = None,
        vendor_error_code: str | None = None,
    ) -> None:
        """Simulate a fault: any OCPP 1.6 ChargePointErrorCode except NoError.

        EVCommunicationError is a warning (§7.6: the connector goes SuspendedEVSE, not Faulted);
        every other code makes the connector Faulted, which also stops energy flowing. ``info``
        and ``vendor_error_code`` (at most 50 characters each) go into the StatusNotification.
        """
        hw = self._hw(n)
        hw.fault, hw.fault_record = fault_of(
            error_code, info, vendor_error_code, self.settings.vendor
        )
        self._wake()

    def clear_fault(self, n: int) -> None:
        hw = self._hw(n)
        hw.fault = None
        hw.fault_record = None
        self._wake()

    def present_card(self, n: int, id_tag: str, token_type: str | None = None) -> None:
        """Hold an RFID card to connector ``n``'s reader: with no session it starts one (after
        authorization), the card of the running session (or one of its group) stops it.

        ``token_type`` is the 2.0.1 idToken type, one of ``id_token_types`` (None: the
        default, ISO14443); 1.6 idTags have none (ValueError).
        """
        self._hw(n)
        longest = id_tag_length(self._engine.version)
        if token_type is not None and token_type not in self._engine.id_token_types:
            allowed = ", ".join(self._engine.id_token_types) or f"none in OCPP {self.ocpp_version}"
            raise ValueError(f"unknown idToken type {token_type!r} (allowed: {allowed})")
        self._cards.append((n, check_id_tag(id_tag, longest), token_type))
        self._wake()

    # ------------------------------------------------------------------ state

    def snapshot(self, n: int) -> ConnectorSnapshot:
        """What connector ``n`` looks like now."""
        hw = self._hw(n)
        return hw.snapshot(self._status_of(n), self._transaction(n), self._reservation(n))

    def _reservation(self, n: int) -> ReservationShown | None:
        found = self._engine.reservation(n)
        if found is None:
            return None
        return ReservationShown(
            found.reservation_id, found.connector, found.id_tag, found.expiry_date
        )

    def _status_of(self, n: int) -> tuple[str, str]:
        known = self._statuses.get(n)
        if known is not None:
            return known
        now = 0.0 if self._now is None else self._now
        return self._engine.status(n, now), "NoError"

    def _transaction(self, n: int) -> TransactionInfo | None:
        info = self._engine.transaction(n)
        if info is None or info.state == STOPPING:
            return None  # a stopped transaction whose messages are still queued is no session
        return info

    def subscribe(
        self, callback: Callable[[object], None], *, snapshots: bool = True
    ) -> Callable[[], None]:
        """Receive every engine event (FrameLogged, StatusChanged, SessionStarted, ...) and the
        station's own (ConnectionChanged, SnapshotChanged, StationRebooted); returns the
        unsubscribe function. A callback may use the controls; it must not call ``tick``.
        ``snapshots=False``: the subscriber does not show connectors (no SnapshotChanged is
        worked out for it at every tick)."""
        return self._subscribers.add(callback, snapshots=snapshots)

    def _on_engine_event(self, event: object) -> None:
        match event:
            case FrameLogged():
                self._on_frame(event)
                return
            case StatusChanged(connector=n, status=status, error_code=error_code):
                self._statuses[n] = (status, error_code)
            case ConfigurationChanged(key=key) if self._engines.is_auth_key(self._engine, key):
                self._auth_key = self._engine.get_configuration(key) or None
                if self._link.running and self._now is not None:
                    self._reconnect_at = self._now + KEY_CHANGE_GRACE_S
            case AuthorizationResult(connector=n, id_tag=id_tag, status=status):
                self._show_auth(n, LastAuth(id_tag, status))
            case SessionCancelled(connector=n, id_tag=id_tag, reason="ReservationConflict"):
                self._show_auth(n, LastAuth(id_tag, "ReservationConflict"))
            case SessionStopped():
                self._save_meters_soon = True
            case FirmwareProgress() | DiagnosticsProgress():
                self._operations.observe(event)
        self._emit(event)

    def _show_auth(self, n: int, outcome: LastAuth) -> None:
        if 1 <= n <= len(self._hardware):
            self._hardware[n - 1].last_auth = outcome

    def _on_frame(self, event: FrameLogged) -> None:
        wall = self._engine.clock.wall(event.now)
        self._operations.record_frame(wall, event.direction, event.text)
        echo = self._link.is_new_echo(event.direction, event.text)
        self._emit(event)
        if echo:
            self._link.echoes = True
            self._emit(BackendEchoes())

    def _on_reset(self, kind: str) -> bool:
        """The engine's reset hook: reboot after this poll (the engine must not be replaced
        while it runs)."""
        self._reboot = kind
        self._wake()
        return True

    def _wake(self) -> None:
        if self.waker is not None:
            self.waker()

    # ------------------------------------------------------------------ the tick

    def tick(self, now: float) -> float | None:
        """Advance meters, poll the engine, send frames; returns the next wake-up time (None:
        only after a control or a transport event, which call ``waker``)."""
        self._now = now
        clock = self._engine.clock
        if isinstance(clock, AnchoredClock):
            clock.anchor(now)
        self._deliver(now)
        if self._drivers:
            self._drive(now)
        engine = self._engine  # after _deliver: the CSMS may have selected another version
        cards, self._cards = self._cards, []
        for n, id_tag, token_type in cards:
            try:
                engine.present_card(n, id_tag, now, token_type=token_type)
            except ValueError as exc:  # presented to an engine of the other version (auto)
                _log().warning("[%s] card not presented: %s", self.settings.charge_box_id, exc)
        for hw in self._hardware:
            # The one advance per tick: the energy of the power held since the last tick.
            hw.meter.advance(now)
        self._registers.save_if_grown()
        frames = engine.poll(now)
        self._gate_meters(now)
        self._send(frames)
        if self._reboot is not None:
            kind, self._reboot = self._reboot, None
            self._do_reboot(kind, now)
            return now
        if self._reconnect_at is not None and now >= self._reconnect_at:
            self._reconnect_at = None
            if self._link.running:
                self._start_transport()
        if self._save_meters_soon:
            self._save_meters_soon = False
            self.flush()
        if self._subscribers.snapshots:
            self._report_snapshots()
        return self._next_wakeup(now)

    def _drive(self, now: float) -> None:
        wakes = [w for w in (tick(now) for tick in self._drivers) if w is not None]
        self._driver_wake = min(wakes, default=None)

    def _deliver(self, now: float) -> None:
        inbox = self._link.inbox
        while inbox:
            kind, value = inbox.pop(0)
            engine = self._engine
            if kind == "message":
                engine.receive(value, now)
            elif kind == "open":
                self._opened(value, now)
            else:  # "close": the end of a connection or a failed attempt
                self._connection_failed(value, now)  # a security event? (engine_views)
                if engine.is_connected:
                    engine.disconnected(now)

    def _opened(self, subprotocol: str, now: float) -> None:
        """A connection opened with the subprotocol the CSMS selected: run that version's
        engine (auto), then tell it it is connected."""
        version = version_of(subprotocol) or self._engine.version
        if version != self._engine.version:
            self._replace_engine(version, now)
        if self.settings.ocpp_version == AUTO:
            self._engines.selected(version)
            self._emit(ProtocolSelected(version, subprotocol))
        self._engine.connected(now)

    def _gate_meters(self, now: float) -> None:
        """Energy flows only while the core says it may (the readings follow at once)."""
        engine = self._engine
        for hw in self._hardware:
            hw.meter.gate(hw.plugged, engine.charging(hw.n, now))

    def _send(self, frames: list[str]) -> None:
        for text in frames:
            if not self._link.send(text):
                # The connection just closed: the engine learns it at the next tick and sends
                # an unanswered CALL again on the next connection.
                _log().info("[%s] frame not sent: not connected", self.settings.charge_box_id)

    def _next_wakeup(self, now: float) -> float | None:
        wake = self._engine.next_wakeup(now)
        if self._link.inbox or self._cards:
            return now
        meters = meter_wakeup(self._hardware, now, self.meter_refresh_s)
        for due in (self._reconnect_at, self._driver_wake, meters):
            if due is not None:
                wake = due if wake is None else min(wake, due)
        return wake

    def _report_snapshots(self) -> None:
        for hw in self._hardware:
            status = self._statuses.get(hw.n)
            info = self._transaction(hw.n)
            key = (hw.shown_key(status, info), self._engine.reservation(hw.n))
            if key != hw.shown:
                hw.shown = key
                self._emit(SnapshotChanged(hw.n))

    def _do_reboot(self, kind: str, now: float) -> None:
        """Discard the engine and start a new one on the same Store, then connect again."""
        self._link.drop()
        self._link.inbox.clear()  # all of it was for the discarded engine
        self._cards.clear()
        self._replace_engine(self._engines.first_version(), now)
        self._emit(StationRebooted(kind))
        if self._link.running:
            self._start_transport()
        else:
            self._link.set_state(ConnectionState.DISCONNECTED, "rebooted")

    def _replace_engine(self, version: str, now: float) -> None:
        """Discard the engine and build one of ``version`` on the same Store (its namespace):
        a reboot, or the version the CSMS selected. The hardware stays; locks open and limits
        clear until the new engine sets them."""
        old = self._engine
        self.flush()
        if self._unsubscribe_engine is not None:
            self._unsubscribe_engine()
        wall = old.clock.wall(now)
        for hw in self._hardware:
            hw.locked = False
            hw.meter.set_limit(None)
        self._engine = self._build_engine(Clock(wall, now), version, old)
        self._registers.raise_to(self._engine)
        if version != old.version:
            self._auth_key = self._engines.auth_key(self._engine)
        for setup in self._engine_setups:
            try:
                setup(self._engine)
            except Exception:
                _log().exception("an engine setup failed on the new engine")

    def __repr__(self) -> str:
        return f"Station({self.settings.charge_box_id!r}, {self._link.state.value})"


def _log() -> logging.Logger:
    return logging.getLogger("sim.station")
