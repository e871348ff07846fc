"""The Control Center: binds the page to one ``sim.station.Station`` (browser only).

The app owns the Station, its Runtime and the browser storage; it turns clicks into Station API
calls and renders snapshots and events. No protocol logic: what OCPP does is the station's
business. Rendering is batched per animation frame (``ocppSimInternals.frame``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import js
from pyodide.ffi import create_proxy

import ocpp_core
import sim
from control_center import fmt
from control_center.dom import Binder, absent, by_id, listen
from control_center.messages import MessageLog, Redactor
from control_center.prefs import (
    STORAGE_KEY,
    FormValues,
    Prefs,
    dump_prefs,
    load_prefs,
    parse_deep_link,
    station_settings_json,
)
from control_center.ticking import PromptRuntime
from control_center.views import ConnectorActions, ConnectorView, LogView
from ocpp_core import MemoryStore
from ocpp_core.connector import ERROR_CODES
from sim.browser_store import open_browser_storage
from sim.events import TransferFailures
from sim.settings import StationSettings
from sim.station import Station
from sim.transfer import BrowserTransferHost
from sim.transport.base import validate_url
from sim.transport.browser import BrowserTransport

__all__ = ["ControlCenter", "start"]

logger = logging.getLogger("control_center")

CHART_SAMPLE_MS = 1000
TRANSFER_FAILURE_SWITCHES = (
    "fail-firmware-download",
    "fail-firmware-install",
    "fail-diagnostics-upload",
)
NOTICE_INFO_MS = 8000
RESET_CONFIRM_MS = 5000
STORE_LOCK = "ocpp-sim-store"
STORE_LOCK_WAIT_MS = 4000

internals = js.ocppSimInternals

FIELD_IDS = {
    "csms_url": "ws-url",
    "charge_box_id": "charge-box-id",
    "auth_key": "auth-key",
    "ocpp_version": "ocpp-version",
    "vendor": "vendor",
    "model": "model",
    "serial": "serial",
    "firmware_version": "firmware-version",
}


def _proxy(function: Any) -> Any:
    proxy = create_proxy(function)
    _KEEP.append(proxy)
    return proxy


_KEEP: list[Any] = []


class _ConsoleHandler(logging.Handler):
    """Python logging to the browser console, with the authorization key masked."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__(logging.INFO)
        self.redact = redact
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.redact(self.format(record))
        except Exception:
            text = f"{record.name}: (unformattable log record)"
        if record.levelno >= logging.WARNING:
            js.console.warn(text)
        else:
            js.console.info(text)


class _MemoryStorage:
    """Fallback when IndexedDB cannot be used by this tab: nothing survives a reload."""

    persistent = False
    settled = True  # nothing is ever waiting to be written
    wal = None
    on_problem = None

    def __init__(self, problem: str) -> None:
        self.problem = problem
        self._stores: dict[str, MemoryStore] = {}

    def stats(self) -> dict[str, Any]:
        return {"settled": True, "problem": None}

    def station_store(self, charge_box_id: str) -> MemoryStore:
        return self._stores.setdefault(charge_box_id, MemoryStore())

    async def flush(self) -> None:
        return None


class ControlCenter(ConnectorActions):
    def __init__(self, storage: Any, prefs: Prefs, *, autoconnect: bool, redact: Redactor):
        self.storage = storage
        self.prefs = prefs
        self.autoconnect = autoconnect
        self.redact = redact
        self.binder = Binder()
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
        self._reset_armed = False
        self._reset_timer: Any = None
        self._notice_timer: Any = None
        self._store_problem: str | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self.connector_views: dict[int, ConnectorView] = {}
        self.log_view = LogView(self.log, self.request_render, self.binder)
        self._frame_proxy = _proxy(self._on_frame)

    # ------------------------------------------------------------------ start-up

    def start(self) -> None:
        self.write_form(self.prefs.form)
        self._bind_form()
        self._bind_topbar()
        self._bind_maintenance()
        self._bind_operations()
        settings, problem = self.settings_from_form()
        if settings is None:
            self.create_fallback_station()
        else:
            problem = self.create_station_or_fallback(settings)
        assert self.station is not None
        self._build_cards(self.station.settings.connectors)
        js.setInterval(_proxy(self._sample_charts), CHART_SAMPLE_MS)
        listen(js.window, "pagehide", lambda _event: self._save_state())
        self._runtime_task = asyncio.ensure_future(self.runtime.run())
        self._runtime_task.add_done_callback(self._runtime_ended)
        if problem is not None:
            self.show_form_problem(problem)
        if self.autoconnect or self.prefs.connect_on_load:
            self.connect()
        self.request_render()

    def create_station_or_fallback(self, settings: StationSettings) -> str | None:
        """Create the station; when the engine refuses the settings (e.g. an OCPP version it
        does not implement yet), create a fallback station and return why."""
        try:
            self.create_station(settings)
        except ValueError as exc:
            self.create_fallback_station()
            return str(exc)
        return None

    def create_fallback_station(self) -> None:
        """A station that works offline while the form holds something unusable."""
        data = {**station_settings_json(self.read_form()), "csms_url": "", "ocpp_version": "1.6"}
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
                config, listener, after_event=runtime.step_now
            ),
            clock_start_wall=time.time(),
        )
        if self.offline:
            station.set_offline(True)
        station.add_engine_setup(
            lambda engine: engine.set_transfer_host(
                BrowserTransferHost(engine, clock=runtime.now, wake=lambda: runtime.wake(station))
            )
        )
        station.set_transfer_failures(self._transfer_failures())
        self.station = station
        self.redact.secret = settings.auth_key
        self._unsubscribe = station.subscribe(self._on_event)
        self.runtime.add(station)
        self.registration = "—"
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
        kind = type(event).__name__
        if kind == "FrameLogged":
            text = self.redact(event.text)
            entry = self.log.add(event.direction, text, event.action, time.time())
            self.log_view.added(entry)
            return
        if kind == "BackendEchoes":
            self.notice(
                "The backend sends the station's own frames back: it is an echo server, "
                "not an OCPP CSMS. Check the CSMS URL.",
                "error",
            )
            self._connection_dirty = True
        elif kind == "ConnectionChanged":
            self._connection_dirty = True
        elif kind in ("SnapshotChanged", "StatusChanged"):
            self._dirty_connectors.add(event.connector)
        elif kind == "BootAccepted":
            self.registration = "Accepted"
            self._connection_dirty = True
        elif kind == "BootNotAccepted":
            self.registration = f"{event.status}, retry in {event.retry_in:.0f} s"
            self._connection_dirty = True
        elif kind == "QueueLengthChanged":
            self.queue_length = int(event.length)
            self._connection_dirty = True
        elif kind in ("FirmwareProgress", "DiagnosticsProgress"):
            self._operations_dirty = True
        elif kind == "MessageDiscarded":
            self.notice(
                f"{event.action} was given up after {event.attempts} attempts ({event.reason}).",
                "info",
            )
        elif kind == "StoreFailed":
            outcome = "kept in memory and retried" if event.kept else "the change was refused"
            self.notice(f"Storage: could not save {event.name} ({event.error}); {outcome}.")
        elif kind == "StoreRecovered":
            self.notice(f"Storage works again: {event.written} kept writes saved.", "info")
        elif kind == "StationRebooted":
            self.registration = "—"
            self.notice(f"The station rebooted ({event.kind} reset requested by the CSMS).", "info")
            self._dirty_connectors.update(self.connector_views)
            self._connection_dirty = True
        elif hasattr(event, "connector"):
            connector = getattr(event, "connector", None)
            if connector in self.connector_views:
                self._dirty_connectors.add(connector)
        self.request_render()

    # ------------------------------------------------------------------ settings form

    def read_form(self) -> FormValues:
        values = {name: str(by_id(element_id).value) for name, element_id in FIELD_IDS.items()}
        return FormValues(**values)

    def write_form(self, form: FormValues) -> None:
        for name, element_id in FIELD_IDS.items():
            by_id(element_id).value = getattr(form, name)

    def settings_from_form(self) -> tuple[StationSettings | None, str | None]:
        form = self.read_form()
        url_problem = validate_url(form.csms_url.strip())
        self.binder.attr(by_id("ws-url"), "aria-invalid", "true" if url_problem else None)
        try:
            return StationSettings.from_json(station_settings_json(form)), None
        except ValueError as exc:
            return None, str(exc)

    def show_form_problem(self, problem: str | None, tone: str = "error") -> None:
        node = by_id("settings-message")
        self.binder.text(node, problem or "")
        self.binder.attr(node, "data-tone", tone if problem else None)

    def save_prefs(self) -> None:
        self.prefs = Prefs(self.read_form(), connect_on_load=self.running)
        try:
            js.localStorage.setItem(STORAGE_KEY, dump_prefs(self.prefs))
        except Exception as exc:  # storage blocked: the page still works
            logger.warning("could not save the settings: %s", exc)

    def _bind_form(self) -> None:
        form = by_id("settings-form")

        def changed(_event: Any) -> None:
            self.save_prefs()
            self.local_error = None
            settings, problem = self.settings_from_form()
            if problem is not None:
                self.show_form_problem(problem)
            elif self.station is not None and settings != self.station.settings:
                self.show_form_problem("Changes apply when you connect.", "info")
            else:
                self.show_form_problem(None)
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
        settings, problem = self.settings_from_form()
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
        self.show_form_problem(None)
        self.save_prefs()
        self._connection_dirty = True
        self.request_render()
        return True

    def _refuse(self, problem: str) -> bool:
        self.local_error = problem
        self.show_form_problem(problem)
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

    def _bind_maintenance(self) -> None:
        button = by_id("reset-station")

        def disarm() -> None:
            self._reset_armed = False
            button.textContent = "Reset station"
            button.removeAttribute("data-armed")

        disarm_proxy = _proxy(disarm)

        def clicked(_event: Any) -> None:
            if self._reset_timer is not None:
                js.clearTimeout(self._reset_timer)
                self._reset_timer = None
            if not self._reset_armed:
                self._reset_armed = True
                button.textContent = "Click again to wipe"
                button.setAttribute("data-armed", "true")
                self._reset_timer = js.setTimeout(disarm_proxy, RESET_CONFIRM_MS)
                return
            disarm()
            self._tasks.add(task := asyncio.ensure_future(self.reset_station()))
            task.add_done_callback(self._tasks.discard)

        listen(button, "click", clicked)

        def forget(_event: Any) -> None:
            try:
                js.localStorage.removeItem(STORAGE_KEY)
            except Exception as exc:
                logger.warning("could not clear the saved settings: %s", exc)
            self.write_form(FormValues(csms_url=default_csms_url()))
            self.show_form_problem(
                "Saved settings forgotten; the defaults apply when you connect.", "info"
            )
            self._connection_dirty = True
            self.request_render()

        listen(by_id("forget-settings"), "click", forget)

    async def reset_station(self) -> None:
        """Factory reset: wipe what this station keeps in the browser, start a fresh one."""
        station = self.station
        if station is None:
            return
        settings = station.settings
        was_running = self.running
        self.drop_station()
        store = station.store
        wipe = getattr(store, "wipe", None)
        if wipe is not None:
            await wipe()
        else:
            for name in store.names():
                store.delete(name)
        self.queue_length = 0
        self.create_station(settings)
        for view in self.connector_views.values():
            view.reset_chart()
        self.notice(
            "Station reset: its stored configuration, journal and queue were wiped.", "info"
        )
        if was_running:
            self.running = False
            self.connect()
        self.request_render()

    def _save_state(self) -> None:
        if self.station is not None:
            try:
                self.station.flush()
            except Exception as exc:
                logger.warning("could not save the meters: %s", exc)

    # ------------------------------------------------------------------ notices

    def store_problem(self, problem: str | None) -> None:
        """A store write failed (``problem``) or everything is saved again (None)."""
        if problem is not None:
            logger.error("browser storage: %s", problem)
            self.notice(f"Browser storage problem: {problem}.", "error")
        elif self._store_problem is not None:
            logger.warning("browser storage: every change is saved again")
            self.notice("Browser storage works again: every change is saved.", "info")
        self._store_problem = problem

    def notice(self, text: str, tone: str = "error") -> None:
        node = by_id("notice")
        node.textContent = text
        node.dataset.tone = tone
        node.hidden = False
        if self._notice_timer is not None:
            js.clearTimeout(self._notice_timer)
            self._notice_timer = None
        if tone == "info":
            self._notice_timer = js.setTimeout(_proxy(self._hide_notice), NOTICE_INFO_MS)

    def _hide_notice(self) -> None:
        self._notice_timer = None
        by_id("notice").hidden = True

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

    def present_card(self, n: int, id_tag: str) -> str | None:
        return self._station_call("present_card", n, id_tag)

    def inject_fault(self, n: int, code: str, info: str | None) -> None:
        problem = self._station_call("inject_fault", n, code, info)
        if problem:
            self.notice(f"Connector {n}: {problem}", "error")

    def clear_fault(self, n: int) -> None:
        self._station_call("clear_fault", n)

    # ------------------------------------------------------------------ firmware & diagnostics

    def _transfer_failures(self) -> TransferFailures:
        return TransferFailures(
            *(bool(by_id(switch).checked) for switch in TRANSFER_FAILURE_SWITCHES)
        )

    def _bind_operations(self) -> None:
        def changed(_event: Any) -> None:
            if self.station is not None:
                self.station.set_transfer_failures(self._transfer_failures())

        for switch in TRANSFER_FAILURE_SWITCHES:
            listen(by_id(switch), "change", changed)

    def _render_operations(self) -> None:
        station = self.station
        for name, progress, idle in (
            ("firmware", station and station.firmware_progress, "No update requested yet."),
            (
                "diagnostics",
                station and station.diagnostics_progress,
                "No diagnostics requested yet.",
            ),
        ):
            status, percent, detail, tone = fmt.operation(progress, idle)
            node = by_id(f"{name}-status")
            self.binder.text(node, status)
            self.binder.attr(node, "data-tone", tone or None)
            self.binder.text(by_id(f"{name}-detail"), self.redact(detail))
            bar = by_id(f"{name}-progress")
            if percent is not None:
                bar.value = percent
            elif tone or status == "Idle":  # finished, failed or never started
                bar.value = 100 if tone == "ok" else 0
            else:
                bar.removeAttribute("value")  # indeterminate: waiting, no figure to show
        image = station and station.firmware_image
        self.binder.text(by_id("firmware-image"), image.describe() if image else "")

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
                view.render_smart(station.charging_profiles(n), station.composite_schedule(n))
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
            self._render_connection()
        if self._operations_dirty:
            self._operations_dirty = False
            self._render_operations()
        self.log_view.render()

    def _render_connection(self) -> None:
        b = self.binder
        station = self.station
        state = station.connection_state.value if station is not None else "disconnected"
        detail = station.connection_detail if station is not None else "no station"
        label = fmt.connection_label(state)
        tone = "error" if state == "reconnect-wait" else ""
        if self.local_error is not None:
            state, label, detail, tone = "error", "Not connected", self.local_error, "error"
        elif station is not None and station.backend_echoes and state == "connected":
            detail = "connected, but the backend echoes frames back: it is not a CSMS"
            tone = "error"
        elif state in ("disconnected", "closed") and detail in ("not connected", "stopped"):
            detail = "Not connected"
        pill = by_id("connection-state")
        b.attr(pill, "data-state", state)
        b.text(pill, label)
        detail_node = by_id("connection-detail")
        b.text(detail_node, self.redact(detail))
        b.attr(detail_node, "data-tone", tone or None)
        b.attr(detail_node, "title", self.redact(detail))
        b.text(by_id("registration"), self.registration)
        b.text(by_id("queue-length"), str(self.queue_length))
        form_settings, _ = self.settings_from_form()
        changed = station is None or form_settings != station.settings
        connect = by_id("connect")
        b.prop(connect, "disabled", self.running and not changed)
        b.text(connect, "Reconnect" if self.running and changed else "Connect")
        b.prop(by_id("disconnect"), "disabled", not self.running)
        offline = by_id("offline")
        b.prop(offline, "disabled", False)
        if bool(offline.checked) != self.offline:
            offline.checked = self.offline
        b.prop(by_id("reset-station"), "disabled", station is None)
        b.prop(by_id("forget-settings"), "disabled", False)

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

    def api(self) -> Any:
        """The implementation behind ``window.ocppSim`` (see web/boot.js)."""
        impl = js.Object.new()

        def station() -> Station:
            if self.station is None:
                raise RuntimeError("no station")
            return self.station

        def control(method: str):
            def call(*args: Any) -> None:
                getattr(station(), method)(*args)

            return call

        functions = {
            "plug": control("plug"),
            "unplug": control("unplug"),
            "set_ev_ready": control("set_ev_ready"),
            "set_evse_ready": control("set_evse_ready"),
            "present_card": control("present_card"),
            "status": lambda n: station().snapshot(int(n)).status,
            "snapshot_json": lambda n: json.dumps(station().snapshot(int(n)).to_json()),
            "connection_state": lambda: station().connection_state.value,
            "connect": lambda: self.connect(),
            "disconnect": lambda: self.disconnect(),
            "set_offline": lambda offline: self.set_offline(bool(offline)),
            "messages_json": lambda: json.dumps(self.log.records(), ensure_ascii=False),
            "export_jsonl": self.export_jsonl,
            "flush_store": lambda: asyncio.ensure_future(self.storage.flush()),
            "store_settled": lambda: bool(self.storage.settled),
            "store_stats_json": lambda: json.dumps(self.storage.stats()),
        }
        for name, function in functions.items():
            setattr(impl, name, _proxy(function))
        return impl


def default_csms_url() -> str:
    scheme = "wss" if str(js.location.protocol) == "https:" else "ws"
    return f"{scheme}://{js.location.host}/ocpp"


def _query() -> dict[str, str]:
    params = js.URLSearchParams.new(js.location.search)
    query: dict[str, str] = {}
    for key in params.keys():  # noqa: SIM118 - a JS iterator, not a dict
        name = str(key)
        if name not in query:
            query[name] = str(params.get(name))
    return query


def _saved_prefs_text() -> str | None:
    try:
        value = js.localStorage.getItem(STORAGE_KEY)
    except Exception:
        return None
    return None if absent(value) else str(value)


async def _open_storage() -> Any:
    held = await internals.storeLock(STORE_LOCK, STORE_LOCK_WAIT_MS)
    if not held:
        return _MemoryStorage(
            "another tab of the simulator uses the browser storage; this tab keeps its station"
            " state in memory only"
        )
    try:
        wal_storage = js.localStorage
        int(wal_storage.length)  # raises when storage is blocked: IndexedDB alone
    except Exception as exc:
        logger.warning("localStorage is not available for the write-ahead log: %s", exc)
        wal_storage = None
    return await open_browser_storage(wal_storage=wal_storage)


async def start() -> ControlCenter:
    """Open the storage, restore the settings, build the page and publish ``window.ocppSim``."""
    redact = Redactor()
    root = logging.getLogger()
    root.handlers[:] = [_ConsoleHandler(redact)]
    root.setLevel(logging.WARNING)
    logging.getLogger("sim.transport").setLevel(logging.INFO)

    internals.progress(85, "Opening the browser storage…")
    storage = await _open_storage()
    internals.progress(95, "Restoring the station…")
    prefs = load_prefs(_saved_prefs_text(), default_csms_url())
    link = parse_deep_link(_query())
    form = link.apply(prefs.form)
    prefs = Prefs(form, connect_on_load=prefs.connect_on_load)
    app = ControlCenter(storage, prefs, autoconnect=link.autoconnect, redact=redact)
    storage.on_problem = app.store_problem
    storage_node = by_id("storage-state")
    if storage.persistent and storage.problem is None and storage.wal is not None:
        storage_node.textContent = (
            "Browser storage: localStorage log + IndexedDB (every change survives a reload)"
        )
    elif storage.persistent and storage.problem is None:
        storage_node.textContent = (
            "Browser storage: IndexedDB only (localStorage is blocked: a reload within"
            " milliseconds of a change can lose it)"
        )
    else:
        storage_node.textContent = f"Browser storage: {storage.problem}"
        app.notice(f"Note: {storage.problem}.", "info")
    app.start()
    if link.problems:
        app.notice("Link: " + "; ".join(link.problems), "error")
    listen(by_id("log-export"), "click", lambda _event: app.download_jsonl())
    app.save_prefs()
    by_id("versions").textContent = f"· ocpp_core {ocpp_core.__version__} · sim {sim.__version__}"
    internals.attach(app.api(), sim.__version__)
    return app
