"""What blocks need to know about transactions and reservations, before those blocks exist.

Status derivation, ChangeAvailability (Scheduled) and Reset (stop transactions first) depend on
transaction state that the transaction block (issue 4) owns, and Reserved on the reservation
block. They read it through these two views; the engine starts with the defaults below (no
transaction, no reservation) and a later block installs itself with
``engine.sessions = self`` / ``engine.reservations = self``.
"""

from __future__ import annotations

__all__ = ["NO_RESERVATIONS", "NO_SESSIONS", "ReservationView", "SessionView"]


class SessionView:
    """Transaction state per connector (1..N)."""

    __slots__ = ()

    def transaction_running(self, connector: int) -> bool:
        """A transaction is running (StartTransaction sent, not yet stopped)."""
        return False

    def permits_charge(self, connector: int) -> bool:
        """OCPP lets energy flow (False: deauthorized, SuspendedEVSE)."""
        return True

    def preparing(self, connector: int) -> bool:
        """A session is being prepared without a plug (idTag presented, awaiting the cable)."""
        return False

    def finishing(self, connector: int) -> bool:
        """A transaction ended on this connector and the user has not left yet."""
        return False

    def stop_all(self, reason: str, now: float) -> None:
        """Stop every running transaction (Reset: reason "HardReset" / "SoftReset")."""

    def settled(self) -> bool:
        """No transaction message is left to deliver (a reset waits for this, within limits)."""
        return True


class ReservationView:
    """Reservation state per connector."""

    __slots__ = ()

    def reserved(self, connector: int) -> bool:
        """The connector is reserved (status Reserved)."""
        return False


NO_SESSIONS = SessionView()
NO_RESERVATIONS = ReservationView()
