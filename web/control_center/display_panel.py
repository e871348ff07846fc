"""The "Station display" panel (browser only, OCPP 2.0.1): one simulated display per connector,
showing what ``Station.display(n)`` says (control_center/display_model.py decides the rows).

Text only, through textContent: a message in HTML or URI format shows its raw text. The rows are
rebuilt when what a display shows changes; the panel is hidden for 1.6 (no display messages).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from control_center.display_model import ScreenRow, screen_rows
from control_center.dom import Binder, by_id, make

if TYPE_CHECKING:
    from sim.station import Station

__all__ = ["DisplayView"]


class DisplayView:
    """The panel: ``render(station)`` on every frame; cheap when nothing changed."""

    def __init__(self, binder: Binder) -> None:
        self.binder = binder
        self.section = by_id("station-display-panel")
        self.container = by_id("station-display")
        self._shown: tuple[tuple[int, str, tuple[ScreenRow, ...]], ...] | None = None

    def forget(self) -> None:
        """A new station: build afresh."""
        self._shown = None

    def render(self, station: Station | None) -> None:
        supported = station is not None and station.ocpp_version == "2.0.1"
        self.binder.prop(self.section, "hidden", not supported)
        if station is None or not supported:
            return
        shown = []
        for n in range(1, station.connectors + 1):
            screen = station.display(n)
            shown.append((n, screen.state, tuple(screen_rows(screen))))
        layout = tuple(shown)
        if layout == self._shown:
            return
        self._shown = layout
        self.container.replaceChildren(*(self._screen(n, state, rows) for n, state, rows in layout))

    def _screen(self, n: int, state: str, rows: tuple[ScreenRow, ...]) -> Any:
        box = make("div", "screen")
        box.setAttribute("data-testid", f"display-{n}")
        head = make("div", "screen-head", f"Connector {n} · {state}")
        head.setAttribute("data-testid", f"display-{n}-state")
        box.append(head)
        for row in rows:
            line = make("div", f"screen-row {row.kind}")
            line.setAttribute("data-testid", f"display-{n}-{row.key}")
            text = make("span", "screen-text", row.text)
            text.setAttribute("data-testid", f"display-{n}-{row.key}-text")
            line.append(text)
            if row.meta:
                line.append(make("span", "screen-meta", row.meta))
            box.append(line)
        return box
