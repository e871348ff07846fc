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

from control_center.dom import Binder, by_id, listen, make
from control_center.security_log_panel import SecurityLogView
from control_center.security_model import (
    CertificateLine,
    RenewalLine,
    certificate_lines,
    renewal_lines,
)
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
        # The station certificate's renewal (A02/A03); the certificate itself is a row above.
        self.renewals = by_id("security-renewals")
        self.renew = by_id("security-renew")
        self._station: Station | None = None
        self._renewals: tuple[RenewalLine, ...] | None = None
        listen(self.renew, "click", self._renew)

    def _renew(self, event: Any) -> None:
        if self._station is not None:
            self._station.renew_certificate()

    def render(self, station: Station | None) -> None:
        self.binder.prop(self.section, "hidden", station is None)
        self.log.render(station)
        self._station = station
        if station is None:
            return
        self._render_renewals(tuple(renewal_lines(station.certificate_renewals())))
        shown = tuple(certificate_lines(station.certificates()))
        if shown == self._shown:
            return
        self._shown = shown
        if shown:
            self._install_library()
            self.certificates.replaceChildren(*(self._line(line) for line in shown))
        else:
            self.certificates.replaceChildren(make("li", "empty", "No certificate installed"))

    def _install_library(self) -> None:
        """The ecdsa wheels, once, in the background: signature checks and renewal CSRs."""
        if self._library is None:
            self._library = asyncio.ensure_future(install_signing_library())
            self._library.add_done_callback(_report)

    def _render_renewals(self, shown: tuple[RenewalLine, ...]) -> None:
        """A renewal asked for (a CSR needs the ecdsa wheels: a request made before they are
        installed is Rejected, "no CSR: ..."; they are installed then, for the next)."""
        if shown == self._renewals:
            return
        self._renewals = shown
        if shown:
            self._install_library()
            self.renewals.replaceChildren(*(self._renewal(line) for line in shown))
        else:
            self.renewals.replaceChildren(make("li", "empty", "No renewal requested"))

    def _renewal(self, line: RenewalLine) -> Any:
        item = make("li", "renewal")
        item.setAttribute("data-testid", line.key)
        for name in ("kind", "state", "status"):
            cell = make("span", name, getattr(line, name))
            cell.setAttribute("data-testid", f"{line.key}-{name}")
            item.append(cell)
        return item

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
