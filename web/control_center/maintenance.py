"""The Maintenance buttons (browser only): "Reset station", armed by a first click and done by
a second within RESET_CONFIRM_MS, and "Forget settings"."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import js

from control_center.dom import by_id, listen
from control_center.prefs import STORAGE_KEY, FormValues

if TYPE_CHECKING:
    from control_center.app import ControlCenter

__all__ = ["RESET_CONFIRM_MS", "bind_maintenance", "reset_station"]

logger = logging.getLogger("control_center")

RESET_CONFIRM_MS = 5000


def bind_maintenance(app: ControlCenter, proxy: Any, default_url: str) -> None:
    """Bind both buttons to ``app`` (``proxy`` keeps a JS callback alive)."""
    button = by_id("reset-station")
    state: dict[str, Any] = {"armed": False, "timer": None}
    tasks: set[asyncio.Future[Any]] = set()

    def disarm() -> None:
        state["armed"] = False
        button.textContent = "Reset station"
        button.removeAttribute("data-armed")

    disarm_proxy = proxy(disarm)

    def clicked(_event: Any) -> None:
        if state["timer"] is not None:
            js.clearTimeout(state["timer"])
            state["timer"] = None
        if not state["armed"]:
            state["armed"] = True
            button.textContent = "Click again to wipe"
            button.setAttribute("data-armed", "true")
            state["timer"] = js.setTimeout(disarm_proxy, RESET_CONFIRM_MS)
            return
        disarm()
        tasks.add(task := asyncio.ensure_future(reset_station(app)))
        task.add_done_callback(tasks.discard)

    listen(button, "click", clicked)

    def forget(_event: Any) -> None:
        try:
            js.localStorage.removeItem(STORAGE_KEY)
        except Exception as exc:
            logger.warning("could not clear the saved settings: %s", exc)
        app.form.write(FormValues(csms_url=default_url))
        app.form.show_problem(
            "Saved settings forgotten; the defaults apply when you connect.", "info"
        )
        app.refresh_connection()

    listen(by_id("forget-settings"), "click", forget)


async def reset_station(app: ControlCenter) -> None:
    """Factory reset: wipe what this station keeps in the browser, start a fresh one."""
    station = app.station
    if station is None:
        return
    settings = station.settings
    was_running = app.running
    app.drop_station()
    store = station.store
    wipe = getattr(store, "wipe", None)
    if wipe is not None:
        await wipe()
    else:
        for name in store.names():
            store.delete(name)
    app.queue_length = 0
    app.create_station(settings)
    for view in app.connector_views.values():
        view.reset_chart()
    app.notice("Station reset: its stored configuration, journal and queue were wiped.", "info")
    if was_running:
        app.running = False
        app.connect()
    app.request_render()
