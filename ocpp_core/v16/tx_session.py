"""A connector's charging session and what other blocks and the station read of it.

A session on a connector goes through these states (``TransactionInfo.state``):

* ``authorizing`` — an idTag was presented (card, ``begin``, RemoteStartTransaction with
  AuthorizeRemoteTxRequests); the authorization block decides (§3.5). Rejected -> cancelled.
* ``preparing`` — authorized; the transaction starts as soon as the cable is plugged (or at once
  without a plug input), the connector operative and not faulted. Plug-first and
  authorize-first flows meet here. Without a cable within ConnectionTimeOut seconds of the
  presentation (0: no limit) the session is cancelled (§9.1.6); an inoperative connector
  cancels it too.
* ``running`` — the StartTransaction is journaled (see tx_journal), the cable locked, metering
  told (``transaction_started``).
* ``stopping`` — the StopTransaction is journaled and not yet answered; the connector is free.

SessionState is the read side of the transaction block (its SessionView queries, the snapshots
and the journal's figures); the transitions live in ``transactions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_core.sessions import RUNNING, STOPPING, SessionView, TransactionInfo

if TYPE_CHECKING:
    from ocpp_core.authorize_queue import PendingAuthorization
    from ocpp_core.events import MessageDiscarded
    from ocpp_core.v16.tx_journal import Transaction, TransactionJournal

__all__ = ["STOP_REASONS", "Session", "SessionState", "info"]

# OCPP 1.6 §7.40 Reason. Spelled out here because the generated payload types are never
# imported at run time; tests/test_payload_types.py pins it to the schema's enum.
STOP_REASONS = frozenset(
    {
        "DeAuthorized",
        "EmergencyStop",
        "EVDisconnected",
        "HardReset",
        "Local",
        "Other",
        "PowerLoss",
        "Reboot",
        "Remote",
        "SoftReset",
        "UnlockCommand",
    }
)


class Session:
    """A connector's session from the idTag to the StopTransaction."""

    __slots__ = (
        "auth",
        "charging_profile",
        "connector",
        "deadline",
        "id_tag",
        "parent_id_tag",
        "state",
        "suspended",
        "tx",
    )

    def __init__(self, connector: int, id_tag: str, state: str) -> None:
        self.connector = connector
        self.id_tag = id_tag
        self.state = state
        self.parent_id_tag: str | None = None
        self.deadline: float | None = None  # ConnectionTimeOut, until the transaction starts
        self.auth: PendingAuthorization | None = None  # the authorization being waited for
        self.charging_profile: dict[str, Any] | None = None
        self.tx: Transaction | None = None
        self.suspended = False  # the energy offer stopped: StartTransaction.conf not Accepted

    def running(self) -> Transaction:
        """The transaction of a session that has one (state RUNNING, or restored running)."""
        tx = self.tx
        assert tx is not None, "the session has no transaction"
        return tx


class SessionState(SessionView):
    """Reading the sessions: the transaction block's SessionView queries and figures."""

    __slots__ = ()

    # Per connector 0..N, kept by the transaction block.
    _sessions: list[Session | None]
    _stopping: list[Transaction | None]  # its StopTransaction not answered yet
    _finished: list[bool]  # stopped by a restart with the cable still in
    _journal: TransactionJournal

    def transaction_running(self, connector: int) -> bool:
        session = self._sessions[connector]
        return session is not None and session.state is RUNNING

    def permits_charge(self, connector: int) -> bool:
        session = self._sessions[connector]
        return session is not None and session.state is RUNNING and not session.suspended

    def preparing(self, connector: int) -> bool:
        session = self._sessions[connector]
        return session is not None and session.state is not RUNNING

    def finishing(self, connector: int) -> bool:
        return self._finished[connector]

    def settled(self) -> bool:
        return not self._journal.journal

    def current(self, connector: int) -> TransactionInfo | None:
        session = self._sessions[connector]
        if session is not None:
            tx = session.tx
            if tx is None:
                return TransactionInfo(
                    connector,
                    session.state,
                    session.id_tag,
                    session.parent_id_tag,
                    charging_profile=session.charging_profile,
                )
            return info(tx, RUNNING, session.parent_id_tag, session.charging_profile)
        tx = self._stopping[connector]
        return None if tx is None else info(tx, STOPPING, tx.parent_id_tag, None)

    def transaction_id(self, connector: int) -> int | None:
        session = self._sessions[connector]
        if session is None or session.tx is None:
            return None
        return session.tx.transaction_id

    def queue_length(self) -> int:
        """Transaction messages waiting in the journal."""
        return len(self._journal.journal)

    def discards(self) -> list[MessageDiscarded]:
        """The discarded transaction messages on record, oldest first."""
        return self._journal.discards()

    def energy_floor(self, connector: int) -> int:
        """The highest register (Wh) the connector's stored transactions hold: meterStart,
        journaled MeterValues, a journaled meterStop (§7.31: a register never falls)."""
        best = 0
        for tx in self._journal.transactions.values():
            if tx.connector == connector:
                stop = None if tx.stop_entry is None else tx.stop_entry.payload.get("meterStop")
                best = max(best, tx.last_meter, stop if type(stop) is int else 0)
        return best


def info(
    tx: Transaction, state: str, parent: str | None, charging_profile: dict[str, Any] | None
) -> TransactionInfo:
    """The snapshot of a transaction in ``state`` (TransactionInfo)."""
    return TransactionInfo(
        tx.connector,
        state,
        tx.id_tag,
        parent,
        tx.transaction_id,
        tx.local_id,
        tx.meter_start,
        tx.start,
        tx.reservation_id,
        charging_profile,
    )
