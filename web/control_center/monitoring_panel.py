"""The "Monitoring" panel (browser only, OCPP 2.0.1): the variable monitors in force, the events
they raised (control_center/monitoring_model.py makes the rows) and the simulated temperature
the station's TemperatureSensor reads (a slider and a number field). Hidden for 1.6.
Text only, through textContent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from control_center.dom import Binder, by_id, listen, make
from control_center.monitoring_model import (
    EventLine,
    MonitorLine,
    event_lines,
    monitor_lines,
    parse_temperature,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.station import Station

__all__ = ["MonitoringView"]


class MonitoringView:
    """The panel: ``render(station)`` on every frame; cheap when nothing changed."""

    def __init__(self, binder: Binder, set_temperature: Callable[[float], str | None]) -> None:
        self.binder = binder
        self.section = by_id("monitoring-panel")
        self.monitors = by_id("monitoring-monitors")
        self.events = by_id("monitoring-events")
        self.slider = by_id("monitoring-temperature-slider")
        self.field = by_id("monitoring-temperature")
        self.problem = by_id("monitoring-temperature-problem")
        self._set_temperature = set_temperature
        self._shown: tuple[tuple[MonitorLine, ...], tuple[EventLine, ...]] | None = None
        listen(self.slider, "input", lambda event: self._changed(self.slider.value))
        listen(self.field, "change", lambda event: self._changed(self.field.value))

    def forget(self) -> None:
        """A new station: build afresh."""
        self._shown = None

    def _changed(self, text: Any) -> None:
        value = parse_temperature(str(text))
        if value is None:
            self.binder.text(self.problem, "A temperature from -50 to 150 °C")
            return
        problem = self._set_temperature(value)
        self.binder.text(self.problem, problem or "")

    def render(self, station: Station | None) -> None:
        supported = station is not None and station.ocpp_version == "2.0.1"
        self.binder.prop(self.section, "hidden", not supported)
        if station is None or not supported:
            return
        temperature = f"{station.temperature_c:g}"
        self.binder.prop(self.slider, "value", temperature)
        if not self.field.matches(":focus"):
            self.binder.prop(self.field, "value", temperature)
        shown = (
            tuple(monitor_lines(station.monitors())),
            tuple(event_lines(station.monitor_events())),
        )
        if shown == self._shown:
            return
        self._shown = shown
        monitors, events = shown
        self.monitors.replaceChildren(*(self._monitor(line) for line in monitors))
        if events:
            self.events.replaceChildren(*(self._event(line) for line in events))
        else:
            self.events.replaceChildren(make("li", "empty", "No event yet"))

    def _monitor(self, line: MonitorLine) -> Any:
        row = make("tr", "tripped" if line.state.startswith("tripped") else "")
        row.setAttribute("data-testid", line.key)
        for name, text in (
            ("id", line.key.removeprefix("monitor-")),
            ("where", line.where),
            ("rule", line.rule),
            ("severity", line.severity),
            ("kind", line.kind),
            ("state", line.state),
        ):
            cell = make("td", name, text)
            cell.setAttribute("data-testid", f"{line.key}-{name}")
            row.append(cell)
        return row

    def _event(self, line: EventLine) -> Any:
        item = make("li", "sent" if line.sent else "unsent")
        item.setAttribute("data-testid", line.key)
        item.append(make("span", "when", line.when))
        text = make("span", "text", line.text)
        text.setAttribute("data-testid", f"{line.key}-text")
        item.append(text)
        return item
