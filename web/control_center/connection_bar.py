"""The top bar's connection state (browser only): the pill, the detail line, the protocol,
the registration, the queue length and the buttons, from the Control Center's state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from control_center import fmt
from control_center.dom import by_id
from sim.versions import AUTO

if TYPE_CHECKING:
    from control_center.app import ControlCenter
    from sim.station import Station

__all__ = ["render_connection_bar"]


def render_connection_bar(app: ControlCenter) -> None:
    """Write the connection state into the top bar (each write cached by the app's binder)."""
    b = app.binder
    station = app.station
    state = station.connection_state.value if station is not None else "disconnected"
    detail = station.connection_detail if station is not None else "no station"
    label = fmt.connection_label(state)
    tone = "error" if state == "reconnect-wait" else ""
    if app.local_error is not None:
        state, label, detail, tone = "error", "Not connected", app.local_error, "error"
    elif station is not None and station.backend_echoes and state == "connected":
        detail = "connected, but the backend echoes frames back: it is not a CSMS"
        tone = "error"
    elif state in ("disconnected", "closed") and detail in ("not connected", "stopped"):
        detail = "Not connected"
    pill = by_id("connection-state")
    b.attr(pill, "data-state", state)
    b.text(pill, label)
    detail_node = by_id("connection-detail")
    b.text(detail_node, app.redact(detail))
    b.attr(detail_node, "data-tone", tone or None)
    b.attr(detail_node, "title", app.redact(detail))
    b.text(by_id("protocol"), _protocol_text(app, station))
    b.text(by_id("registration"), app.registration)
    b.text(by_id("queue-length"), str(app.queue_length))
    form_settings, _ = app.form.settings()
    changed = station is None or form_settings != station.settings
    connect = by_id("connect")
    b.prop(connect, "disabled", app.running and not changed)
    b.text(connect, "Reconnect" if app.running and changed else "Connect")
    b.prop(by_id("disconnect"), "disabled", not app.running)
    offline = by_id("offline")
    b.prop(offline, "disabled", False)
    if bool(offline.checked) != app.offline:
        offline.checked = app.offline
    b.prop(by_id("reset-station"), "disabled", station is None)
    b.prop(by_id("forget-settings"), "disabled", False)


def _protocol_text(app: ControlCenter, station: Station | None) -> str:
    if station is None:
        return "—"
    if station.settings.ocpp_version == AUTO and app.selected_version is None:
        return "Auto"
    return f"OCPP {station.ocpp_version}"
