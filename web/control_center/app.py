"""The Control Center: binds the page to one ``sim.station.Station`` (browser only).

The app owns the Station, its Runtime and the browser storage; it turns clicks into Station API
calls and renders snapshots and events. No protocol logic: what OCPP does is the station's
business. Rendering is batched per animation frame (``ocppSimInternals.frame``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import js
from pyodide.ffi import create_proxy

from control_center.connection_bar import render_connection_bar
from control_center.device_panel import DeviceModelView
from control_center.display_panel import DisplayView
from control_center.dom import Binder, by_id, listen
from control_center.form import SettingsForm
from control_center.maintenance import bind_maintenance
from control_center.messages import MessageLog, Redactor
from control_center.monitoring_panel import MonitoringView
from control_center.notices import Notices
from control_center.prefs import (
    STORAGE_KEY,
    Prefs,
    dump_prefs,
    station_settings_json,
)
from control_center.security_panel import SecurityView
from control_center.signing_panel import SigningPanel
from control_center.ticking import PromptRuntime
from control_center.views import ConnectorActions, ConnectorView, LogView, OperationsView
from ocpp_core.connector import ERROR_CODES
from ocpp_core.events import (
    BootAccepted,
    BootNotAccepted,
    ConfigurationChanged,
    DiagnosticsProgress,
    FirmwareProgress,
    FrameLogged,
    MessageDiscarded,
    QueueLengthChanged,
    StatusChanged,
    StoreFailed,
    StoreRecovered,
)
from sim.events import (
    BackendEchoes,
    ConnectionChanged,
    ProtocolSelected,
    SnapshotChanged,
    StationRebooted,
    TransferFailures,
)
from sim.settings import StationSettings
from sim.station import Station
from sim.transfer import BrowserTransferHost
from sim.transport.browser import BrowserTransport
from sim.versions import id_tag_length

__all__ = ["ControlCenter", "default_csms_url", "proxy"]

logger = logging.getLogger("control_center")

CHART_SAMPLE_MS = 1000

internals = js.ocppSimInternals


def proxy(function: Any) -> Any:
    """A JS proxy of ``function``, kept alive for the page's life."""
    made = create_proxy(function)
    _KEEP.append(made)
    return made


_KEEP: list[Any] = []


class ControlCenter(ConnectorActions):
    def __init__(self, storage: Any, prefs: Prefs, *, autoconnect: bool, redact: Redactor):
        self.storage = storage
        self.prefs = prefs
        self.autoconnect = autoconnect
        self.redact = redact
        self.binder = Binder()
        self.form = SettingsForm(self.binder)
        self.log = MessageLog()
        self.runtime = PromptRuntime()
        self.station: Station | None = None
        self._unsubscribe: Any = None
        self.running = False  # the user asked to be connected
        self.offline = False
        self.registration = "—"
        self.queue_length = 0
        self.local_error: str | None = None  # a problem found before anything connected
        self._frame_requested = False
        self._dirty_connectors: set[int] = set()
        self._charts_dirty = False
        self._connection_dirty = True
        self._operations_dirty = True
        self.notices = Notices(proxy)
        self.connector_views: dict[int, ConnectorView] = {}
        self.log_view = LogView(self.log, self.request_render, self.binder)
        self.operations_view = OperationsView(self.binder, redact)
        self.device_view = DeviceModelView(self.binder, self.set_variable)
        self.monitoring_view = MonitoringView(self.binder, self.set_temperature)
        self.security_view = SecurityView(self.binder)
        self.display_view = DisplayView(self.binder)
        self.signing_panel = SigningPanel()
        self._protocol_dirty = True
        self.selected_version: str | None = None  # the version the CSMS selected (auto)
        self._refused_protocol = False  # the CSMS selected none: told once per station
        self._frame_proxy = proxy(self._on_frame)

    # ------------------------------------------------------------------ start-up

    def start(self) -> None:
        self.form.write(self.prefs.form)
        self._bind_form()
        self._bind_topbar()
        bind_maintenance(self, proxy, default_csms_url())
        self._bind_operations()
        self.device_view.bind(self.request_render)
        self.signing_panel.bind()
        settings, problem = self.form.settings()
        if settings is None:
            self.create_fallback_station()
        else:
            problem = self.create_station_or_fallback(settings)
        assert self.station is not None
        self._build_cards(self.station.settings.connectors)
        js.setInterval(proxy(self._sample_charts), CHART_SAMPLE_MS)
        listen(js.window, "pagehide", lambda _event: self._save_state())
        self._runtime_task = asyncio.ensure_future(self.runtime.run())
        self._runtime_task.add_done_callback(self._runtime_ended)
        if problem is not None:
            self.form.show_problem(problem)
        if self.autoconnect or self.prefs.connect_on_load:
            self.connect()
        self.request_render()

    def create_station_or_fallback(self, settings: StationSettings) -> str | None:
        """Create the station; when it cannot be built with these settings (refused, or a
        defect), create a fallback station and return why: the page keeps working."""
        try:
            self.create_station(settings)
        except ValueError as exc:
            self.create_fallback_station()
            return str(exc)
        except Exception as exc:
            logger.exception("the station could not be built")
            self.create_fallback_station()
            return f"the station could not be built: {exc}"
        return None

    def create_fallback_station(self) -> None:
        """A station that works offline while the form holds something unusable."""
        data = {**station_settings_json(self.form.read()), "csms_url": "", "ocpp_version": "1.6"}
        try:
            settings = StationSettings.from_json(data)
        except ValueError:
            settings = StationSettings(csms_url="")
        self.create_station(settings)

    def _runtime_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("the station runtime stopped: %s", task.exception())
            self.notice("The station runtime stopped unexpectedly; reload the page.", "error")

    def _build_cards(self, count: int) -> None:
        container = by_id("connectors")
        codes = sorted(ERROR_CODES)
        for n in range(1, count + 1):
            self.connector_views[n] = ConnectorView(n, container, codes, self, self.binder)
            self._dirty_connectors.add(n)

    # ------------------------------------------------------------------ the station

    def create_station(self, settings: StationSettings) -> Station:
        store = self.storage.station_store(settings.charge_box_id)
        runtime = self.runtime
        station = Station(
            settings,
            store=store,
            # A received frame is handled in the JS task of its message event (ticking.py).
            transport_factory=lambda config, listener: BrowserTransport(
                config, listener, after_event=runtime.step_now, probe_subprotocols=True
            ),
            clock_start_wall=time.time(),
        )
        if self.offline:
            station.set_offline(True)
        station.set_transfer_host_factory(
            lambda target, policy: BrowserTransferHost(
                target, clock=runtime.now, wake=lambda: runtime.wake(station), policy=policy
            )
        )
        station.set_transfer_failures(self.operations_view.failures())
        self.station = station
        self.redact.secret = settings.auth_key
        self._unsubscribe = station.subscribe(self._on_event)
        self.runtime.add(station)
        self.registration = "—"
        self.monitoring_view.forget()
        self.selected_version = None
        self._refused_protocol = False
        self._protocol_dirty = True
        self.device_view.forget()
        self.display_view.forget()
        self.signing_panel.show(station)
        self._dirty_connectors.update(self.connector_views)
        self._connection_dirty = True
        self._operations_dirty = True
        return station

    def drop_station(self) -> None:
        station, self.station = self.station, None
        if station is None:
            return
        station.disconnect()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.runtime.remove(station)

    def _on_event(self, event: object) -> None:
        match event:
            case FrameLogged(direction=direction, text=text, action=action):
                entry = self.log.add(direction, self.redact(text), action, time.time())
                self.log_view.added(entry)
                return
            case BackendEchoes():
                self.notice(
                    "The backend sends the station's own frames back: it is an echo server, "
                    "not an OCPP CSMS. Check the CSMS URL.",
                    "error",
                )
                self._connection_dirty = True
            case ConnectionChanged(detail=detail):
                self._connection_dirty = True
                if "did not accept subprotocol" in detail and not self._refused_protocol:
                    self._refused_protocol = True
                    self.notice(
                        "The CSMS speaks none of the OCPP versions offered: choose the version"
                        " it supports (or Auto) in the station settings.",
                        "error",
                    )
            case ProtocolSelected(version=version):
                self.selected_version = version
                self._protocol_dirty = True
                self.device_view.forget()
                self._dirty_connectors.update(self.connector_views)
                self._connection_dirty = True
            case ConfigurationChanged():
                self.device_view.dirty = True
            case SnapshotChanged(connector=n):
                self._dirty_connectors.add(n)
            case StatusChanged(connector=n):
                self._dirty_connectors.add(n)
                self.device_view.dirty = True
            case BootAccepted():
                self.registration = "Accepted"
                self._connection_dirty = True
            case BootNotAccepted(status=status, retry_in=retry_in):
                self.registration = f"{status}, retry in {retry_in:.0f} s"
                self._connection_dirty = True
            case QueueLengthChanged(length=length):
                self.queue_length = int(length)
                self._connection_dirty = True
            case FirmwareProgress() | DiagnosticsProgress():
                self._operations_dirty = True
            case MessageDiscarded(action=action, attempts=attempts, reason=reason):
                self.notice(f"{action} was given up after {attempts} attempts ({reason}).", "info")
            case StoreFailed(name=name, error=error, kept=kept):
                outcome = "kept in memory and retried" if kept else "the change was refused"
                self.notice(f"Storage: could not save {name} ({error}); {outcome}.")
            case StoreRecovered(written=written):
                self.notice(f"Storage works again: {written} kept writes saved.", "info")
            case StationRebooted(kind=kind):
                self.registration = "—"
                self.notice(f"The station rebooted ({kind} reset requested by the CSMS).", "info")
                self.device_view.forget()
                self._dirty_connectors.update(self.connector_views)
                self._connection_dirty = True
            case _:
                connector = getattr(event, "connector", None)
                if connector in self.connector_views:
                    self._dirty_connectors.add(connector)
        self.request_render()

    # ------------------------------------------------------------------ settings form

    def save_prefs(self) -> None:
        self.prefs = Prefs(self.form.read(), connect_on_load=self.running)
        try:
            js.localStorage.setItem(STORAGE_KEY, dump_prefs(self.prefs))
        except Exception as exc:  # storage blocked: the page still works
            logger.warning("could not save the settings: %s", exc)

    def _bind_form(self) -> None:
        form = by_id("settings-form")

        def changed(_event: Any) -> None:
            self.save_prefs()
            self.local_error = None
            settings, problem = self.form.settings()
            if problem is not None:
                self.form.show_problem(problem)
            elif self.station is not None and settings != self.station.settings:
                self.form.show_problem("Changes apply when you connect.", "info")
            else:
                self.form.show_problem(None)
            self._connection_dirty = True
            self.request_render()

        listen(form, "input", changed)
        listen(form, "change", changed)
        listen(form, "submit", lambda event: (event.preventDefault(), self.connect()))

    # ------------------------------------------------------------------ connection

    def _bind_topbar(self) -> None:
        listen(by_id("connect"), "click", lambda _event: self.connect())
        listen(by_id("disconnect"), "click", lambda _event: self.disconnect())
        offline = by_id("offline")
        listen(offline, "change", lambda _event: self.set_offline(bool(offline.checked)))

    def connect(self) -> bool:
        """Apply the form and connect (a changed form means a new station: a reboot)."""
        self.save_prefs()
        settings, problem = self.form.settings()
        if settings is None:
            return self._refuse(problem or "the settings are not valid")
        if self.station is None or settings != self.station.settings:
            self.drop_station()
            problem = self.create_station_or_fallback(settings)
            if problem is not None:
                self.running = False
                self.save_prefs()
                return self._refuse(problem)
        assert self.station is not None
        try:
            self.station.connect()
        except ValueError as exc:
            return self._refuse(str(exc))
        self.local_error = None
        self.running = True
        self.form.show_problem(None)
        self.save_prefs()
        self._connection_dirty = True
        self.request_render()
        return True

    def _refuse(self, problem: str) -> bool:
        self.local_error = problem
        self.form.show_problem(problem)
        self._connection_dirty = True
        self.request_render()
        return False

    def disconnect(self) -> None:
        self.running = False
        self.local_error = None
        if self.station is not None:
            self.station.disconnect()
        self.save_prefs()
        self._connection_dirty = True
        self.request_render()

    def set_offline(self, offline: bool) -> None:
        self.offline = bool(offline)
        if self.station is not None:
            self.station.set_offline(self.offline)
        self._connection_dirty = True
        self.request_render()

    # ------------------------------------------------------------------ maintenance

    def _save_state(self) -> None:
        if self.station is not None:
            try:
                self.station.flush()
            except Exception as exc:
                logger.warning("could not save the meters: %s", exc)

    # ------------------------------------------------------------------ notices

    def notice(self, text: str, tone: str = "error") -> None:
        self.notices.show(text, tone)

    # ------------------------------------------------------------------ connector actions

    def _station_call(self, method: str, *args: Any) -> str | None:
        if self.station is None:
            return "no station"
        try:
            getattr(self.station, method)(*args)
        except ValueError as exc:
            return str(exc)
        self.request_render()
        return None

    def set_plugged(self, n: int, plugged: bool) -> None:
        self._station_call("plug" if plugged else "unplug", n)

    def set_ev_ready(self, n: int, ready: bool) -> None:
        self._station_call("set_ev_ready", n, ready)

    def set_evse_ready(self, n: int, ready: bool) -> None:
        self._station_call("set_evse_ready", n, ready)

    def set_lock_failing(self, n: int, failing: bool) -> None:
        self._station_call("set_lock_failing", n, failing)

    def set_external_limit(self, n: int, amps: str | None) -> None:
        """The card's local-energy-manager switch: a limit in A (None: released)."""
        station = self.station
        if station is None:
            return
        try:
            if amps is None:
                station.clear_external_limit(n)
            elif not station.set_external_limit(n, float(amps), "A"):
                self.notice(
                    f"Connector {n}: the external limit is ignored "
                    "(SmartChargingCtrlr.ExternalControlSignalsEnabled is false)",
                    "error",
                )
        except ValueError as exc:
            self.notice(f"Connector {n}: external limit: {exc}", "error")
        self.request_render()

    def present_card(self, n: int, id_tag: str, token_type: str | None = None) -> str | None:
        return self._station_call("present_card", n, id_tag, token_type)

    def set_temperature(self, celsius: float) -> str | None:
        """Change the simulated station temperature (2.0.1 monitoring); the problem, if any."""
        if self.station is None:
            return "no station"
        try:
            self.station.set_temperature(celsius)
        except ValueError as exc:
            return str(exc)
        self.request_render()
        return None

    def set_variable(self, address: str, value: str) -> str:
        """Set a device-model variable as the station's user; its status or the problem."""
        if self.station is None:
            return "no station"
        try:
            status = self.station.set_variable(address, value)
        except ValueError as exc:
            return str(exc)
        self.request_render()
        return status

    def refresh_connection(self) -> None:
        """The form changed outside its own events (Forget settings): redraw the top bar."""
        self._connection_dirty = True
        self.request_render()

    def inject_fault(self, n: int, code: str, info: str | None) -> None:
        problem = self._station_call("inject_fault", n, code, info)
        if problem:
            self.notice(f"Connector {n}: {problem}", "error")

    def clear_fault(self, n: int) -> None:
        self._station_call("clear_fault", n)

    # ------------------------------------------------------------------ firmware & diagnostics

    def _bind_operations(self) -> None:
        def changed(failures: TransferFailures) -> None:
            if self.station is not None:
                self.station.set_transfer_failures(failures)

        self.operations_view.bind(changed)

    # ------------------------------------------------------------------ rendering

    def request_render(self) -> None:
        if not self._frame_requested:
            self._frame_requested = True
            internals.frame(self._frame_proxy)

    def _sample_charts(self) -> None:
        station = self.station
        if station is None:
            return
        now = time.monotonic()
        for n, view in self.connector_views.items():
            view.sample(now, station.snapshot(n))
            if 1 <= n <= station.connectors:
                view.render_smart(
                    station.charging_profiles(n),
                    station.composite_schedule(n),
                    station.external_limit(n),
                )
        if self.device_view.open:
            self.device_view.dirty = True  # live values (AvailabilityState, ...)
        self._charts_dirty = True
        self.request_render()

    def _on_frame(self) -> None:
        self._frame_requested = False
        try:
            self.render()
        except Exception:
            logger.exception("rendering failed")

    def render(self) -> None:
        station = self.station
        if station is not None and self._protocol_dirty:
            self._protocol_dirty = False
            longest = id_tag_length(station.ocpp_version)
            for view in self.connector_views.values():
                view.set_protocol(station.id_token_types, longest)
        if station is not None:
            dirty, self._dirty_connectors = self._dirty_connectors, set()
            for n in sorted(dirty):
                view = self.connector_views.get(n)
                if view is not None and 1 <= n <= station.connectors:
                    view.render(station.snapshot(n))
        if self._charts_dirty:
            self._charts_dirty = False
            now = time.monotonic()
            for view in self.connector_views.values():
                view.draw_chart(now)
        if self._connection_dirty:
            self._connection_dirty = False
            render_connection_bar(self)
        if self._operations_dirty:
            self._operations_dirty = False
            self.operations_view.render(self.station)
        self.device_view.render(station)
        self.monitoring_view.render(station)
        self.security_view.render(station)
        self.display_view.render(station)
        self.log_view.render()

    # ------------------------------------------------------------------ window.ocppSim

    def export_jsonl(self) -> str:
        return self.log.export_jsonl()

    def download_jsonl(self) -> None:
        station = self.station
        name = station.settings.charge_box_id if station is not None else "station"
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40] or "station"
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        internals.download(
            f"ocpp-sim-{safe}-{stamp}.jsonl", self.log.export_jsonl(), "application/x-ndjson"
        )


def default_csms_url() -> str:
    scheme = "wss" if str(js.location.protocol) == "https:" else "ws"
    return f"{scheme}://{js.location.host}/ocpp"
