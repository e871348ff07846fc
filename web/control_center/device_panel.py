"""The "Device model" panel (browser only): the station's components and variables with their
current values and mutability; writable ones are edited in place, read-only ones shown as
text, write-only ones never (control_center/variables.py decides).

It reads ``Station.variables()`` only while the panel is open, after something changed (a
ConfigurationChanged, a status, a reboot, the protocol selected) and once a second for live
values; an edit calls ``Station.set_variable`` and shows the answer next to the variable. A value
the user is typing is never overwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import js

from control_center.dom import Binder, by_id, listen, make
from control_center.variables import Shown, group_rows, status_tone

if TYPE_CHECKING:
    from sim.station import Station

__all__ = ["DeviceModelView"]


class _Row:
    """The nodes of one shown variable."""

    __slots__ = ("control", "shown", "status", "value")

    def __init__(self, shown: Shown, control: Any, value: Any, status: Any) -> None:
        self.shown = shown
        self.control = control  # the input or select, or None (read-only)
        self.value = value  # the read-only value's node
        self.status = status


class DeviceModelView:
    """The panel; ``set_variable(address, value)`` returns the status or a problem text."""

    def __init__(self, binder: Binder, set_variable: Callable[[str, str], str]) -> None:
        self.binder = binder
        self.set_variable = set_variable
        self.fold = by_id("device-model-fold")
        self.container = by_id("device-model")
        self.count = by_id("device-model-count")
        self.filter = by_id("device-model-filter")
        self.dirty = True
        self._layout: tuple[Any, ...] | None = None
        self._rows: dict[str, _Row] = {}
        self._statuses: dict[str, tuple[str, str]] = {}  # address -> (text, tone) of an edit

    def bind(self, request_render: Callable[[], None]) -> None:
        def changed(_event: Any) -> None:
            self.dirty = True
            request_render()

        listen(self.fold, "toggle", changed)
        listen(self.filter, "input", changed)

    @property
    def open(self) -> bool:
        return bool(self.fold.open)

    def render(self, station: Station | None) -> None:
        if not self.dirty or station is None:
            return
        self.dirty = False
        rows = station.variables()
        shown_count = sum(1 for row in rows if row.mutability != "WriteOnly")
        self.binder.text(self.count, f"{shown_count} variables · OCPP {station.ocpp_version}")
        if not self.open:
            return
        groups = group_rows(rows, str(self.filter.value))
        layout = tuple(
            (name, tuple((s.address, s.editor, s.options) for s in shown)) for name, shown in groups
        )
        if layout != self._layout:
            self._layout = layout
            self._build(groups)
        for _name, shown in groups:
            for item in shown:
                self._update(self._rows[item.address], item)

    def forget(self) -> None:
        """A new station (or a reboot): the layout is built afresh, edit answers cleared."""
        self._layout = None
        self._statuses.clear()
        self.dirty = True

    # ------------------------------------------------------------------ building

    def _build(self, groups: list[tuple[str, list[Shown]]]) -> None:
        for row in self._rows.values():
            for node in (row.control, row.value, row.status):
                if node is not None:
                    self.binder.forget(node)
        self._rows.clear()
        sections = []
        for name, shown in groups:
            section = make("details")
            section.open = len(groups) == 1
            section.dataset.component = name
            section.append(make("summary", text=f"{name} ({len(shown)})"))
            for item in shown:
                section.append(self._row(item))
            sections.append(section)
        if not sections:
            sections.append(make("p", "hint", "No variable matches the filter."))
        self.container.replaceChildren(*sections)

    def _row(self, item: Shown) -> Any:
        line = make("div", "variable")
        line.setAttribute("data-testid", f"variable-{item.address}")
        line.append(make("span", "variable-name", item.label))
        holder = make("span", "variable-value")
        control = value = None
        if item.editor == "select":
            control = make("select")
            for choice in item.options:
                option = make("option", text=choice)
                option.value = choice
                control.append(option)
        elif item.editor == "text":
            control = make("input")
            control.type = "text"
            control.spellcheck = False
        if control is None:
            value = make("span", text=item.value)
            holder.append(value)
        else:
            control.setAttribute("aria-label", item.address)
            control.setAttribute("data-testid", f"variable-input-{item.address}")
            control.value = item.value
            address = item.address
            listen(control, "change", lambda _event: self._edited(address))
            holder.append(control)
        line.append(holder)
        line.append(make("span", "variable-meta", item.meta))
        status = make("span", "variable-status")
        status.setAttribute("data-testid", f"variable-status-{item.address}")
        status.setAttribute("aria-live", "polite")
        line.append(status)
        self._rows[item.address] = _Row(item, control, value, status)
        return line

    # ------------------------------------------------------------------ values and edits

    def _update(self, row: _Row, item: Shown) -> None:
        row.shown = item
        if row.control is None:
            self.binder.text(row.value, item.value)
        elif not row.control.isSameNode(js.document.activeElement) and (
            str(row.control.value) != item.value
        ):
            # The DOM value, not a cached one: what the user typed and left must be replaced.
            row.control.value = item.value
        text, tone = self._statuses.get(item.address, ("", ""))
        self.binder.text(row.status, text)
        self.binder.attr(row.status, "data-tone", tone or None)

    def _edited(self, address: str) -> None:
        row = self._rows.get(address)
        if row is None or row.control is None:
            return
        status = self.set_variable(address, str(row.control.value))
        self._statuses[address] = (status, status_tone(status))
        self.dirty = True
        self._update(row, row.shown)
