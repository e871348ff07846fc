"""Noticing a backend that sends the station's own frames back: an echo server, not a CSMS.

People point the simulator at an echo service to try it; the station then answers its own
CALLs with CALLERRORs forever. Telling the user what the backend is beats a wall of errors.
"""

from __future__ import annotations

__all__ = ["EchoDetector"]


class EchoDetector:
    """A received frame equal to one sent moments ago (the last ``window``) is an echo: a real
    CSMS never repeats a charge point's frame, message id included. Only the frames' hashes are
    kept (a fleet has thousands of detectors); an unlucky collision would at worst report an
    echo once."""

    __slots__ = ("_next", "_sent", "echoes")

    def __init__(self, window: int = 16) -> None:
        self._sent: list[int] = [0] * window  # a ring of hashes, 0: empty
        self._next = 0
        self.echoes = 0

    def observe(self, direction: str, text: str) -> bool:
        """Record a frame ("in" / "out"); True when it is a received echo of a sent one."""
        key = hash(text) or 1
        if direction == "out":
            self._sent[self._next] = key
            self._next = (self._next + 1) % len(self._sent)
            return False
        if key in self._sent:
            self.echoes += 1
            return True
        return False

    def reset(self) -> None:
        """A new connection: what was sent on the last one no longer counts."""
        self._sent = [0] * len(self._sent)
        self._next = 0
        self.echoes = 0
