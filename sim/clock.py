"""The station's wall clock before the CSMS tells the time."""

from __future__ import annotations

from ocpp_core.clock import DEFAULT_EPOCH, Clock

__all__ = ["AnchoredClock"]


class AnchoredClock(Clock):
    """Wall time that starts at ``wall_at_start`` on the station's first tick, whatever ``now``
    the runtime starts from; after a sync with the CSMS it is the plain engine clock."""

    def __init__(self, wall_at_start: float | None) -> None:
        super().__init__()
        self._start_wall = DEFAULT_EPOCH if wall_at_start is None else float(wall_at_start)
        self._anchor: float | None = None

    def anchor(self, now: float) -> None:
        if self._anchor is None:
            self._anchor = now

    def wall(self, now: float) -> float:
        if self.is_synced:
            return super().wall(now)
        anchor = now if self._anchor is None else self._anchor
        return self._start_wall + (now - anchor)
