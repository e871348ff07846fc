"""Start-up of the page: restore the settings, open the storage, build the Control Center and
publish ``window.ocppSim`` (its implementation: ``page_api``). Browser only."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import js

import ocpp_core
import sim
from control_center.app import ControlCenter, default_csms_url, proxy
from control_center.console import log_to_console
from control_center.dom import absent, by_id, listen
from control_center.messages import Redactor
from control_center.prefs import STORAGE_KEY, Prefs, load_prefs, parse_deep_link
from control_center.storage import describe_storage, open_storage
from sim.station import Station

__all__ = ["page_api", "start"]

internals = js.ocppSimInternals


def page_api(app: ControlCenter) -> Any:
    """The implementation behind ``window.ocppSim`` (see web/boot.js)."""
    impl = js.Object.new()

    def station() -> Station:
        if app.station is None:
            raise RuntimeError("no station")
        return app.station

    def control(method: str):
        def call(*args: Any) -> None:
            getattr(station(), method)(*args)

        return call

    functions = {
        "plug": control("plug"),
        "unplug": control("unplug"),
        "set_ev_ready": control("set_ev_ready"),
        "set_evse_ready": control("set_evse_ready"),
        "set_lock_failing": control("set_lock_failing"),
        "present_card": control("present_card"),
        "status": lambda n: station().snapshot(int(n)).status,
        "snapshot_json": lambda n: json.dumps(station().snapshot(int(n)).to_json()),
        "connection_state": lambda: station().connection_state.value,
        "ocpp_version": lambda: station().ocpp_version,
        "connect": lambda: app.connect(),
        "disconnect": lambda: app.disconnect(),
        "set_offline": lambda offline: app.set_offline(bool(offline)),
        "messages_json": lambda: json.dumps(app.log.records(), ensure_ascii=False),
        "export_jsonl": app.export_jsonl,
        "flush_store": lambda: asyncio.ensure_future(app.storage.flush()),
        "store_settled": lambda: bool(app.storage.settled),
        "store_stats_json": lambda: json.dumps(app.storage.stats()),
    }
    for name, function in functions.items():
        setattr(impl, name, proxy(function))
    return impl


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


async def start() -> ControlCenter:
    """Open the storage, restore the settings, build the page and publish ``window.ocppSim``."""
    redact = Redactor()
    log_to_console(redact)

    internals.progress(85, "Opening the browser storage…")
    storage = await open_storage()
    internals.progress(95, "Restoring the station…")
    prefs = load_prefs(_saved_prefs_text(), default_csms_url())
    link = parse_deep_link(_query())
    form = link.apply(prefs.form)
    prefs = Prefs(form, connect_on_load=prefs.connect_on_load)
    app = ControlCenter(storage, prefs, autoconnect=link.autoconnect, redact=redact)
    storage.on_problem = app.notices.store_problem
    by_id("storage-state").textContent = describe_storage(storage)
    if not (storage.persistent and storage.problem is None):
        app.notice(f"Note: {storage.problem}.", "info")
    app.start()
    if link.problems:
        app.notice("Link: " + "; ".join(link.problems), "error")
    listen(by_id("log-export"), "click", lambda _event: app.download_jsonl())
    app.save_prefs()
    by_id("versions").textContent = f"· ocpp_core {ocpp_core.__version__} · sim {sim.__version__}"
    internals.attach(page_api(app), sim.__version__)
    return app
