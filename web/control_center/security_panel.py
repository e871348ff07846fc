"""The "Security" panel (browser only): the station's installed certificates, for 1.6 and 2.0.1
(control_center/security_model.py makes the rows). Text only, through textContent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from control_center.dom import Binder, by_id, make
from control_center.security_model import CertificateLine, certificate_lines

if TYPE_CHECKING:
    from sim.station import Station

__all__ = ["SecurityView"]


class SecurityView:
    """The panel: ``render(station)`` on every frame; cheap when nothing changed (the rows
    are pure data, so a new station with the same certificates needs no rebuild)."""

    def __init__(self, binder: Binder) -> None:
        self.binder = binder
        self.section = by_id("security-panel")
        self.certificates = by_id("security-certificates")
        self._shown: tuple[CertificateLine, ...] | None = None

    def render(self, station: Station | None) -> None:
        self.binder.prop(self.section, "hidden", station is None)
        if station is None:
            return
        shown = tuple(certificate_lines(station.certificates()))
        if shown == self._shown:
            return
        self._shown = shown
        if shown:
            self.certificates.replaceChildren(*(self._line(line) for line in shown))
        else:
            self.certificates.replaceChildren(make("li", "empty", "No certificate installed"))

    def _line(self, line: CertificateLine) -> Any:
        item = make("li", "certificate")
        item.setAttribute("data-testid", line.key)
        for name in ("kind", "subject", "issuer", "validity", "hash_data"):
            cell = make("span", name.replace("_", "-"), getattr(line, name))
            cell.setAttribute("data-testid", f"{line.key}-{name.replace('_', '-')}")
            item.append(cell)
        return item
