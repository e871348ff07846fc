"""A booted OCPP 2.0.1 station with simulated hardware on every EVSE, for the transaction tests.

``Rig201`` is tests/tx_rig.py's Rig on a 2.0.1 engine and FakeCsms201 (plug and unplug, EV
and EVSE readiness, a meter register per EVSE, the cable lock, every event, ``restart``), plus
the parking bay and what the 2.0.1 tests read: the TransactionEvents the CSMS received.
"""

from __future__ import annotations

from typing import Any

from fake_csms201 import FakeCsms201
from tx_rig import Rig

from ocpp_core import ChargePoint
from ocpp_core.events import SessionCancelled

TOKEN = {"idToken": "TOKEN1", "type": "ISO14443"}


class Rig201(Rig):
    """One 2.0.1 station, its hardware, its CSMS and what it emitted."""

    version = "2.0.1"
    csms_type = FakeCsms201
    base_config: dict[str, str] = {}  # noqa: RUF012 (read, never changed)

    def __init__(self, *, connectors: int = 2, boot: bool = True, **options: Any) -> None:
        self.occupied = [False] * (connectors + 1)  # the parking bay, read by _build
        super().__init__(connectors=connectors, boot=boot, **options)
        if boot:
            assert self.cp.registration == "Accepted"

    def _build(self, now: float) -> tuple[ChargePoint, Any]:
        cp, csms = super()._build(now)
        for n in range(1, self.connectors + 1):
            cp.connector(n).occupied = lambda n=n: self.occupied[n]
        return cp, csms

    def card(self, token: str = "TOKEN1", evse: int = 1, token_type: str | None = None) -> None:
        self.cp.present_card(evse, token, self.now, token_type=token_type)
        self.csms.pump()

    # ------------------------------------------------------------------ inspection

    def events_tx(self) -> list[dict]:
        """The TransactionEvent payloads the CSMS received, in order."""
        return self.csms.payloads("TransactionEvent")

    def last(self) -> dict:
        return self.events_tx()[-1]

    def events_of_cancelled(self) -> list[SessionCancelled]:
        return self.events_of(SessionCancelled)

    def summary(self) -> list[tuple[str, str, str | None]]:
        """(eventType, triggerReason, chargingState) of every TransactionEvent."""
        return [
            (p["eventType"], p["triggerReason"], p["transactionInfo"].get("chargingState"))
            for p in self.events_tx()
        ]
