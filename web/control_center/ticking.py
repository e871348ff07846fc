"""Ticks the station inside the JS task that delivered a WebSocket event.

``sim.runtime.Runtime`` ticks a woken station on a later turn of the event loop: in the page, a
later JS task. A reload can fall between the two, and a CALLRESULT that had arrived (a
StartTransaction's transactionId) would be gone before the station stored it. The browser
transport calls ``PromptRuntime.step_now`` at the end of each socket event instead, so a received
frame is handled — and what it changes written to the store's synchronous log — before the event
handler returns. Plain Python: tested on CPython.
"""

from __future__ import annotations

from sim.runtime import Runtime

__all__ = ["PromptRuntime"]


class PromptRuntime(Runtime):
    """A Runtime whose due stations can also be ticked at once, from an event handler."""

    _stepping = False  # a step is running (set per instance while it does)

    def step(self) -> float | None:
        self._stepping = True
        try:
            return super().step()
        finally:
            self._stepping = False

    def step_now(self) -> None:
        """Tick every station that is due (a woken one is), unless a tick is running: then this
        was called from inside it and the running loop ticks again at once anyway."""
        if not self._stepping:
            self.step()
