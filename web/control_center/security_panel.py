"""The "Security" panel (browser only): the station's installed certificates, for 1.6 and 2.0.1
(control_center/security_model.py makes the rows). Text only, through textContent.

Certificate signatures are checked by sim/cert_verifier.py: RSA needs no library, ECDSA the
pure-Python ``ecdsa`` wheels the page vendors. They are not installed at start (the start must
not grow): once a station has a certificate installed, the panel installs them in the
background (control_center.signing_panel.install_signing_library, offline, once); until then an
ECDSA signature counts as unchecked (a replacing CSMS root under AdditionalRootCertificateCheck
is Rejected, a self-signature is not checked).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from control_center.dom import Binder, by_id, make
from control_center.security_log_panel import SecurityLogView
from control_center.security_model import CertificateLine, certificate_lines
from control_center.signing_panel import install_signing_library

if TYPE_CHECKING:
    from sim.station import Station

__all__ = ["SecurityView"]

logger = logging.getLogger("control_center")


class SecurityView:
    """The panel: ``render(station)`` on every frame; cheap when nothing changed (the rows
    are pure data, so a new station with the same certificates needs no rebuild)."""

    def __init__(self, binder: Binder) -> None:
        self.binder = binder
        self.section = by_id("security-panel")
        self.certificates = by_id("security-certificates")
        self._shown: tuple[CertificateLine, ...] | None = None
        self._library: asyncio.Future[None] | None = None
        self.log = SecurityLogView(binder)  # the security events and the Tamper button

    def render(self, station: Station | None) -> None:
        self.binder.prop(self.section, "hidden", station is None)
        self.log.render(station)
        if station is None:
            return
        shown = tuple(certificate_lines(station.certificates()))
        if shown == self._shown:
            return
        self._shown = shown
        if shown and self._library is None:
            self._library = asyncio.ensure_future(install_signing_library())
            self._library.add_done_callback(_report)
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


def _report(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("the signature library could not be installed: %s", task.exception())
