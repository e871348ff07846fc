"""The Signing meters panel (browser only): each meter's public key with a copy button, the
corrupt-signatures switch, and the offline install of the signing library on first use.

The meters sign with the pure-Python ``ecdsa`` package. The page does not install it at start
(its start-up must not grow): when a station with signing meters is created, the vendored wheels
that build.py put in ``wheels/`` (listed in ``wheels/vendored.json``) are installed by micropip
from the same origin, then the keys are shown. Key texts go through textContent only.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import js

from control_center.dom import by_id, listen, make

if TYPE_CHECKING:
    from sim.station import Station

__all__ = ["SigningPanel", "install_signing_library"]

logger = logging.getLogger("control_center")

_INSTALLED: asyncio.Future[None] | None = None


async def install_signing_library() -> None:
    """Make ``ecdsa`` importable, installing the vendored wheels once (offline)."""
    global _INSTALLED
    if _INSTALLED is None:
        _INSTALLED = asyncio.ensure_future(_install())
    await _INSTALLED


async def _install() -> None:
    try:
        import ecdsa  # noqa: F401  (already there: nothing to do)

        return
    except ImportError:
        pass
    import micropip
    from pyodide.http import pyfetch

    response = await pyfetch("./wheels/vendored.json")
    if not response.ok:
        raise RuntimeError(f"wheels/vendored.json: HTTP {response.status}")
    wheels = await response.json()
    await micropip.install([f"./wheels/{name}" for name in wheels.values()], deps=False)


class SigningPanel:
    """Shows the current station's signing meters, if it has any."""

    def __init__(self) -> None:
        self.section = by_id("signing-panel")
        self.state = by_id("signing-state")
        self.keys = by_id("signing-keys")
        self.corrupt = by_id("signing-corrupt")
        self.station: Station | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    def bind(self) -> None:
        listen(self.corrupt, "change", lambda _event: self._set_corrupt())

    def show(self, station: Station) -> None:
        """Follow ``station``: hidden without signing meters, else install and list keys."""
        self.station = station
        self.keys.replaceChildren()
        signer = station.meter_signer
        self.section.hidden = signer is None
        if signer is None:
            return
        self.corrupt.checked = signer.corrupt
        self.state.textContent = "Installing the signing library…"
        task = asyncio.ensure_future(self._list_keys(station))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _list_keys(self, station: Station) -> None:
        try:
            await install_signing_library()
        except Exception as exc:
            logger.error("the signing library could not be installed: %s", exc)
            self.state.textContent = f"The signing library could not be installed: {exc}"
            return
        signer = station.meter_signer
        if station is not self.station or signer is None:
            return  # another station meanwhile
        for n in range(1, station.connectors + 1):
            key = signer.public_key_hex(n)
            row = make("div", "meter-key")
            row.setAttribute("data-testid", f"meter-{n}-key-row")
            row.appendChild(make("span", "meter-key-label", f"Meter {n} public key"))
            code = make("code", "meter-key-value", key)
            code.setAttribute("data-testid", f"meter-{n}-public-key")
            row.appendChild(code)
            button = make("button", "small", "Copy")
            button.type = "button"
            button.setAttribute("data-testid", f"meter-{n}-public-key-copy")
            button.setAttribute("aria-label", f"Copy the public key of meter {n}")
            listen(button, "click", lambda _event, text=key: self._copy(text))
            row.appendChild(button)
            self.keys.appendChild(row)
        self.state.textContent = "Ready: readings are signed once the CSMS switches signing on."

    def _copy(self, text: str) -> None:
        try:
            js.navigator.clipboard.writeText(text)
            self.state.textContent = "Public key copied."
        except Exception as exc:  # no clipboard (insecure context, permissions)
            self.state.textContent = f"Could not copy: {exc}"

    def _set_corrupt(self) -> None:
        station = self.station
        if station is not None and station.meter_signer is not None:
            station.meter_signer.corrupt = bool(self.corrupt.checked)
