"""The connector cards and the message log as DOM views (browser only).

Views render what they are given: ``ConnectorView.render(snapshot)`` shows a station snapshot,
``LogView`` shows MessageLog entries. User actions go back through callbacks to the app, which
calls the Station API; nothing here knows OCPP beyond labels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import js
from pyodide.ffi import create_proxy

from control_center import chart, fmt
from control_center.dom import Binder, absent, by_id, listen, make
from control_center.messages import LogEntry, LogFilter, MessageLog, Redactor, clock_time
from sim.events import TransferFailures

if TYPE_CHECKING:
    from sim.station import Station

__all__ = ["ConnectorView", "LogView", "OperationsView"]

MAX_ROWS = 2000
"""Rows kept in the DOM; everything stays in the MessageLog (for export) up to its capacity."""
FILTER_DELAY_MS = 150


class ConnectorView:
    """One connector card: switches, RFID reader, facts, meter, chart and fault injection."""

    def __init__(
        self,
        n: int,
        container: Any,
        error_codes: list[str],
        actions: ConnectorActions,
        binder: Binder,
    ) -> None:
        self.n = n
        self.actions = actions
        self.binder = binder
        template = by_id("connector-template")
        fragment = template.content.cloneNode(True)
        card = fragment.querySelector("section")
        self.card = card
        card.id = f"connector-{n}"
        card.setAttribute("aria-labelledby", f"connector-{n}-title")
        card.dataset.connector = str(n)
        self.nodes: dict[str, Any] = {}
        for node in card.querySelectorAll("[data-role]"):
            role = str(node.dataset.role)
            if role == "suffix":
                node.textContent = f" (connector {n})"
                continue
            self.nodes[role] = node
        title = self.nodes["title"]
        title.id = f"connector-{n}-title"
        title.textContent = f"Connector {n}"
        testids = {
            "status": "status",
            "plug": "plug",
            "ev-ready": "ev-ready",
            "evse-ready": "evse-ready",
            "lock-fails": "lock-fails",
            "idtag": "idtag",
            "idtoken-type": "idtoken-type",
            "present-card": "present-card",
            "transaction-id": "transaction-id",
            "seq-no": "seq-no",
            "auth": "auth",
            "limit": "limit",
            "locked": "locked",
            "reservation": "reservation",
            "power": "power",
            "energy": "energy",
            "current": "current",
            "voltage": "voltage",
            "soc": "soc",
            "chart": "chart",
            "fault-code": "fault-code",
            "fault-info": "fault-info",
            "fault-inject": "inject-fault",
            "fault-clear": "clear-fault",
            "status-note": "status-note",
            "rfid-error": "rfid-error",
            "smart": "smart-charging",
            "profiles": "profiles",
            "schedule": "schedule",
            "external-limit": "external-limit",
            "external-value": "external-limit-value",
        }
        for role, suffix in testids.items():
            self.nodes[role].setAttribute("data-testid", f"connector-{n}-{suffix}")
        # labels for controls that are not wrapped by their label
        for role, label in (
            ("idtag", "idtag-label"),
            ("fault-code", "fault-code-label"),
            ("fault-info", "fault-info-label"),
            ("external-value", "external-value-label"),
        ):
            control_id = f"connector-{n}-{role}"
            self.nodes[role].id = control_id
            self.nodes[label].setAttribute("for", control_id)
        self.nodes["idtag"].value = f"TAG-{n:04d}"
        select = self.nodes["fault-code"]
        for code in error_codes:
            option = make("option", text=code)
            option.value = code
            select.append(option)
        self._smart_shown: tuple | None = None
        self._token_types: tuple[str, ...] = ()
        self.series = chart.PowerSeries()
        self._chart_drawn_at = -1.0
        self._bind()
        container.append(fragment)

    # ------------------------------------------------------------------ events

    def _bind(self) -> None:
        nodes = self.nodes
        n = self.n

        def switch(role: str, on: Callable[[int, bool], None]) -> None:
            node = nodes[role]
            listen(node, "change", lambda _event: on(n, bool(node.checked)))

        switch("plug", self.actions.set_plugged)
        switch("ev-ready", self.actions.set_ev_ready)
        switch("evse-ready", self.actions.set_evse_ready)
        switch("lock-fails", self.actions.set_lock_failing)

        def present(event: Any) -> None:
            event.preventDefault()
            kind = nodes["idtoken-type"]
            token_type = str(kind.value) if self._token_types and not kind.hidden else None
            problem = self.actions.present_card(n, str(nodes["idtag"].value).strip(), token_type)
            self.binder.text(nodes["rfid-error"], problem or "")
            self.binder.attr(nodes["idtag"], "aria-invalid", "true" if problem else None)

        listen(nodes["rfid-form"], "submit", present)

        def external(switched: bool) -> None:
            on = bool(nodes["external-limit"].checked)
            if on or switched:  # a new value only matters while the switch is on
                value = str(nodes["external-value"].value).strip()
                self.actions.set_external_limit(n, value if on else None)

        listen(nodes["external-limit"], "change", lambda _event: external(True))
        listen(nodes["external-value"], "change", lambda _event: external(False))

        def inject(_event: Any) -> None:
            info = str(nodes["fault-info"].value).strip() or None
            self.actions.inject_fault(n, str(nodes["fault-code"].value), info)

        listen(nodes["fault-inject"], "click", inject)
        listen(nodes["fault-clear"], "click", lambda _event: self.actions.clear_fault(n))

    # ------------------------------------------------------------------ rendering

    def set_protocol(self, token_types: tuple[str, ...], id_tag_length: int) -> None:
        """The version running: its idToken types (none in 1.6: the selector is hidden) and
        the longest idTag a card may carry."""
        b = self.binder
        b.prop(self.nodes["idtag"], "maxLength", id_tag_length)
        select = self.nodes["idtoken-type"]
        b.prop(select, "hidden", not token_types)
        b.prop(self.nodes["seq-no-row"], "hidden", not token_types)
        if token_types == self._token_types:
            return
        self._token_types = token_types
        chosen = str(select.value)
        options = []
        for kind in token_types:
            option = make("option", text=kind)
            option.value = kind
            options.append(option)
        select.replaceChildren(*options)
        if chosen in token_types:
            select.value = chosen

    def render(self, snap: Any) -> None:
        b = self.binder
        nodes = self.nodes
        status = str(snap.status)
        b.attr(self.card, "data-status", status)
        b.attr(nodes["status"], "data-status", status)
        b.text(nodes["status"], status)
        note, tone = fmt.status_note(snap.error_code, snap.fault, snap.plugged, snap.locked)
        b.text(nodes["status-note"], note)
        b.attr(nodes["status-note"], "title", note)
        b.attr(nodes["status-note"], "data-tone", tone or None)
        self._checked("plug", snap.plugged)
        self._checked("ev-ready", snap.ev_ready)
        self._checked("evse-ready", snap.evse_ready)
        self._checked("lock-fails", snap.lock_fails)
        b.text(
            nodes["transaction-id"],
            fmt.transaction(snap.transaction_id, snap.id_tag, snap.id_token_type),
        )
        b.text(nodes["seq-no"], fmt.seq_no(snap.seq_no))
        auth, auth_tone = fmt.auth_text(snap.last_auth)
        b.text(nodes["auth"], auth)
        b.attr(nodes["auth"], "data-tone", auth_tone or None)
        b.text(nodes["limit"], fmt.limit(snap.limit))
        lock = "locked" if snap.locked else "unlocked"
        b.text(nodes["locked"], f"{lock} (jammed)" if snap.lock_fails else lock)
        b.text(nodes["reservation"], fmt.reservation(snap.reservation))
        b.text(nodes["power"], fmt.power(snap.power_w))
        b.text(nodes["energy"], fmt.energy(snap.energy_wh))
        b.text(nodes["current"], fmt.current(list(snap.current_a)))
        b.text(nodes["voltage"], fmt.voltage(list(snap.voltage_v)))
        b.text(nodes["soc"], fmt.soc(snap.soc_percent))
        fault = snap.fault
        b.text(nodes["fault-flag"], f"· {fault.error_code} active" if fault else "")
        b.prop(nodes["fault-clear"], "disabled", fault is None)

    def render_smart(
        self, profiles: list[dict], schedule: dict, external: tuple[float, str] | None = None
    ) -> None:
        """The profiles in force on this connector, its composite schedule (rebuilt only when
        they changed: they are refreshed every second) and the external limit's switch."""
        self._checked("external-limit", external is not None)
        value = self.nodes["external-value"]
        if external is not None and js.document.activeElement is not value:
            shown = f"{external[0]:g}"
            if str(value.value) != shown:
                value.value = shown
        lines = [fmt.profile(entry) for entry in profiles]
        rows = fmt.schedule(schedule)
        key = (tuple(lines), tuple(rows))
        if key == self._smart_shown:
            return
        self._smart_shown = key
        count = len(lines)
        flag = f" · {count} profile{'s' if count != 1 else ''}" if count else ""
        self.binder.text(self.nodes["smart-flag"], flag)
        _fill(self.nodes["profiles"], lines, "none installed")
        _fill(self.nodes["schedule"], rows, "no limit")

    def _checked(self, role: str, value: bool) -> None:
        node = self.nodes[role]
        if bool(node.checked) != value:
            node.checked = value

    def sample(self, now: float, snap: Any) -> None:
        limit_w = snap.limit_w
        self.series.add(now, float(snap.power_w), None if limit_w is None else float(limit_w))

    def draw_chart(self, now: float) -> None:
        paths = chart.render(self.series.samples(), now)
        b = self.binder
        nodes = self.nodes
        b.attr(nodes["power-line"], "d", paths.power)
        b.attr(nodes["area"], "d", paths.area)
        b.attr(nodes["limit-line"], "d", paths.limit)
        b.text(nodes["y-top"], paths.top_label)
        b.text(nodes["y-mid"], paths.mid_label)
        b.text(nodes["x-left"], paths.span_label)
        minutes = f"{paths.window_s / 60:g}"
        b.text(nodes["svg-title"], f"Power of connector {self.n} over the last {minutes} min")
        b.text(nodes["chart-caption"], f"Power, last {minutes} min")

    def reset_chart(self) -> None:
        self.series.clear()


def _fill(container: Any, lines: list[str], empty: str) -> None:
    """Replace a list's items with one ``<li>`` per line (as text), or one saying ``empty``."""
    container.replaceChildren()
    for line in lines or [empty]:
        container.append(make("li", "" if lines else "empty", line))


class ConnectorActions:
    """What a card can ask for; the app implements it on the Station API.

    ``present_card`` returns a message for the user when the card is refused locally;
    ``token_type`` is the idToken type chosen next to the card field (None in 1.6).
    """

    def set_plugged(self, n: int, plugged: bool) -> None: ...
    def set_ev_ready(self, n: int, ready: bool) -> None: ...
    def set_evse_ready(self, n: int, ready: bool) -> None: ...
    def set_lock_failing(self, n: int, failing: bool) -> None: ...
    def present_card(self, n: int, id_tag: str, token_type: str | None) -> str | None: ...
    def inject_fault(self, n: int, code: str, info: str | None) -> None: ...
    def clear_fault(self, n: int) -> None: ...
    def set_external_limit(self, n: int, amps: str | None) -> None: ...


class LogView:
    """The message log panel: rows appended once per animation frame, at most MAX_ROWS."""

    def __init__(self, log: MessageLog, request_render: Callable[[], None], binder: Binder):
        self.log = log
        self.request_render = request_render
        self.binder = binder
        self.rows = by_id("message-log")
        self.count = by_id("log-count")
        self.note = by_id("log-note")
        self.pause_button = by_id("log-pause")
        self.action_input = by_id("log-filter-action")
        self.datalist = by_id("log-actions")
        self.filter = LogFilter()
        self.paused = False
        self.missed = 0  # frames that arrived while paused
        self._pending: list[LogEntry] = []
        self._rebuild = True
        self._shown: dict[int, LogEntry] = {}  # seq -> entry of rendered rows (for expanding)
        self._row_order: list[int] = []
        self._known_actions = 0
        self._dirty = True
        self._filter_timer: Any = None
        self._bind()

    def _bind(self) -> None:
        def toggle(event: Any) -> None:
            row = event.target
            if getattr(row, "tagName", "") != "DETAILS" or not row.open:
                return
            if not absent(row.querySelector("pre")):
                return
            entry = self._shown.get(int(row.dataset.seq))
            if entry is not None:
                row.append(make("pre", text=entry.pretty()))

        listen(self.rows, "toggle", toggle, capture=True)

        def direction(event: Any) -> None:
            self.set_filter(LogFilter(self.filter.action, str(event.target.value)))

        for radio in js.document.querySelectorAll('input[name="log-direction"]'):
            listen(radio, "change", direction)

        def apply_action() -> None:
            self._filter_timer = None
            self.set_filter(LogFilter(str(self.action_input.value), self.filter.direction))

        apply_proxy = create_proxy(apply_action)
        self._keep = apply_proxy

        def action(_event: Any) -> None:
            # typing rebuilds up to MAX_ROWS rows: wait for a pause in the typing
            if self._filter_timer is not None:
                js.clearTimeout(self._filter_timer)
            self._filter_timer = js.setTimeout(apply_proxy, FILTER_DELAY_MS)

        listen(self.action_input, "input", action)
        listen(self.pause_button, "click", lambda _event: self.set_paused(not self.paused))
        listen(by_id("log-clear"), "click", lambda _event: self.clear())

    # ------------------------------------------------------------------ model side

    def added(self, entry: LogEntry) -> None:
        """A frame was logged: show it at the next frame (unless paused or filtered out)."""
        self._dirty = True
        if self.paused:
            self.missed += 1
        elif self.filter.matches(entry):
            self._pending.append(entry)
            if len(self._pending) > MAX_ROWS:
                del self._pending[: len(self._pending) - MAX_ROWS]
        self.request_render()

    def set_filter(self, log_filter: LogFilter) -> None:
        if log_filter == self.filter:
            return
        self.filter = log_filter
        self._rebuild = True
        self._dirty = True
        self.request_render()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.pause_button.setAttribute("aria-pressed", "true" if paused else "false")
        self.pause_button.textContent = "Resume" if paused else "Pause"
        if not paused:
            self.missed = 0
            self._rebuild = True
        self._dirty = True
        self.request_render()

    def clear(self) -> None:
        self.log.clear()
        self.missed = 0
        self._rebuild = True
        self._dirty = True
        self.request_render()

    # ------------------------------------------------------------------ rendering

    def render(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        if self._rebuild:
            self._rebuild = False
            self._pending.clear()
            self.rows.replaceChildren()
            self._shown.clear()
            self._row_order.clear()
            entries = self.log.entries(self.filter)[-MAX_ROWS:]
            self._append(entries, stick=True)
        elif self._pending and not self.paused:
            entries, self._pending = self._pending, []
            self._append(entries, stick=self._at_bottom())
        self._render_meta()

    def _at_bottom(self) -> bool:
        rows = self.rows
        return rows.scrollTop + rows.clientHeight >= rows.scrollHeight - 40

    def _append(self, entries: list[LogEntry], *, stick: bool) -> None:
        if not entries:
            if not self._row_order:
                empty = "No frames yet." if not len(self.log) else "No frame matches the filter."
                self.rows.replaceChildren(make("div", "log-empty", empty))
            return
        if not self._row_order:
            self.rows.replaceChildren()
        fragment = js.document.createDocumentFragment()
        for entry in entries:
            fragment.append(self._row(entry))
            self._shown[entry.seq] = entry
            self._row_order.append(entry.seq)
        self.rows.append(fragment)
        excess = len(self._row_order) - MAX_ROWS
        if excess > 0:
            for seq in self._row_order[:excess]:
                self._shown.pop(seq, None)
                first = self.rows.firstElementChild
                if not absent(first):
                    first.remove()
            del self._row_order[:excess]
        if stick:
            self.rows.scrollTop = self.rows.scrollHeight

    @staticmethod
    def _row(entry: LogEntry) -> Any:
        row = make("details", "log-row")
        row.dataset.seq = str(entry.seq)
        row.dataset.direction = entry.direction
        row.dataset.kind = entry.kind
        if entry.action:
            row.dataset.action = entry.action
        summary = make("summary")
        arrow = "→" if entry.direction == "out" else "←"
        summary.append(
            make("span", "time", clock_time(entry.wall)),
            make("span", "dir", arrow),
            make("span", "action", entry.action or "—"),
            make("span", "kind", entry.kind),
            make("span", "preview", entry.preview()),
        )
        summary.title = f"{'Sent to' if entry.direction == 'out' else 'Received from'} the CSMS"
        row.append(summary)
        return row

    def _render_meta(self) -> None:
        b = self.binder
        total = self.log.total
        shown = len(self._row_order)
        text = f"{total:,} frame{'s' if total != 1 else ''}"
        if self.filter.active:
            text += f" · {shown:,} shown"
        b.text(self.count, text)
        if self.paused:
            note, tone = f"Paused — {self.missed:,} new frames not shown", "warn"
        elif self.log.dropped:
            note, tone = (
                f"The oldest {self.log.dropped:,} frames were dropped (the log keeps "
                f"{self.log.capacity:,}).",
                "",
            )
        elif shown >= MAX_ROWS:
            note, tone = f"Showing the latest {MAX_ROWS:,} rows; Export JSONL has them all.", ""
        else:
            note, tone = "Click a row to see the whole frame.", ""
        b.text(self.note, note)
        b.attr(self.note, "data-tone", tone or None)
        actions = self.log.actions()
        if len(actions) != self._known_actions:
            self._known_actions = len(actions)
            options = []
            for name in actions:
                option = make("option")
                option.value = name
                options.append(option)
            self.datalist.replaceChildren(*options)


TRANSFER_FAILURE_SWITCHES = (
    "fail-firmware-download",
    "fail-firmware-install",
    "fail-diagnostics-upload",
)


class OperationsView:
    """The firmware and diagnostics panel: progress, the image downloaded, failure switches."""

    def __init__(self, binder: Binder, redact: Redactor) -> None:
        self.binder = binder
        self.redact = redact

    def failures(self) -> TransferFailures:
        """The failure injection the switches ask for."""
        return TransferFailures(
            *(bool(by_id(switch).checked) for switch in TRANSFER_FAILURE_SWITCHES)
        )

    def bind(self, changed: Callable[[TransferFailures], None]) -> None:
        for switch in TRANSFER_FAILURE_SWITCHES:
            listen(by_id(switch), "change", lambda _event: changed(self.failures()))

    def render(self, station: Station | None) -> None:
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
