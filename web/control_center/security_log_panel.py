"""The "Security events" list of the Security panel (browser only): the station's security log,
newest first (control_center/security_log_model.py makes the rows), and a "Tamper" button that
raises TamperDetectionActivated as the station's tamper sensor would (critical: the CSMS gets a
SecurityEventNotification). Text only, through textContent.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from control_center.dom import Binder, by_id, listen, make
from control_center.security_log_model import TAMPER, SecurityEventLine, security_event_lines

if TYPE_CHECKING:
    from sim.station import Station

__all__ = ["SecurityLogView"]

logger = logging.getLogger("control_center")


class SecurityLogView:
    """``render(station)`` on every frame; cheap when nothing changed."""

    def __init__(self, binder: Binder) -> None:
        self.binder = binder
        self.events = by_id("security-events")
        self.tamper = by_id("security-tamper")
        self._station: Station | None = None
        self._shown: tuple[SecurityEventLine, ...] | None = None
        listen(self.tamper, "click", self._tampered)

    def _tampered(self, event: Any) -> None:
        station = self._station
        if station is not None:
            station.raise_security_event(*TAMPER)

    def render(self, station: Station | None) -> None:
        self._station = station
        if station is None:
            return
        shown = tuple(security_event_lines(station.security_events()))
        if shown == self._shown:
            return
        self._shown = shown
        if shown:
            self.events.replaceChildren(*(self._line(line) for line in shown))
        else:
            self.events.replaceChildren(make("li", "empty", "No security event logged"))

    def _line(self, line: SecurityEventLine) -> Any:
        item = make("li", "security-event")
        item.setAttribute("data-testid", line.key)
        for name in ("time", "type", "sent", "tech_info"):
            cell = make("span", name.replace("_", "-"), getattr(line, name))
            cell.setAttribute("data-testid", f"{line.key}-{name.replace('_', '-')}")
            item.append(cell)
        return item
