"""An EV at a 2.0.1 EVSE for the part 6 test cases of metering and remote control, and the
TransactionEvents the fake CSMS received."""

from __future__ import annotations

from typing import Any

from ocpp_core import ChargePoint

__all__ = ["Ev", "tx_events"]


class Ev:
    """An EV at an EVSE: its cable, and it asks for energy while plugged in."""

    def __init__(self, cp: ChargePoint, evse: int) -> None:
        self.plugged = False
        io = cp.connector(evse)
        io.plugged = lambda: self.plugged
        io.ev_ready = lambda: self.plugged


def tx_events(csms: Any, kind: str | None = None) -> list[dict[str, Any]]:
    """The TransactionEvent payloads, of one eventType if ``kind`` is given."""
    sent = csms.payloads("TransactionEvent")
    return [p for p in sent if kind is None or p["eventType"] == kind]
