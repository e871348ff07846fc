"""Charging sessions and transactions (OCPP 1.6 §3.6, §3.7, §3.10, §4.8, §4.10; §9.1 keys).

A session goes through the states ``tx_session`` describes: authorizing, preparing, running,
stopping. This module makes the transitions; ``tx_session`` is the read side.

Stopping (reason as sent): the same idTag, or another of the same group (its parentIdTag, known
locally or learnt with an Authorize, §3.10) -> Local with that idTag (no Authorize for the same
idTag, §4.1); unplugging while StopTransactionOnEVSideDisconnect -> EVDisconnected;
RemoteStopTransaction -> Remote; Reset -> SoftReset/HardReset; UnlockConnector -> UnlockCommand;
a StartTransaction.conf that is not Accepted -> DeAuthorized when StopTransactionOnInvalidId
(errata 3.17), else the energy offer stops (SuspendedEVSE); a restart -> PowerLoss (or the
transaction resumes, ``resume_after_restart``: one whose StartTransaction.conf was not Accepted
stays invalid, the journal keeps that in its record; the SessionStopped of that PowerLoss stop
waits for the timestamp the CSMS gets, see tx_journal); the station may give any other 1.6
reason. meterStop is the meter now, else the highest reading known of the transaction (also
one journaled before a restart and since delivered), never below meterStart.

MaxEnergyOnInvalidId (Wh, 0: off): after an invalid StartTransaction.conf the EV may still take
that much energy counted from meterStart (a transaction started offline may already have it),
then the rule above applies.

The cable lock (``ConnectorIO.lock``) is closed when a transaction starts and opened when it
stops, except after DeAuthorized (errata 3.5) and after EVDisconnected while
UnlockConnectorOnEVSideDisconnect is false (§4.10): then it opens for the same idTag or one of
its group, or for UnlockConnector.

For metering the block offers ``current``, ``transaction_id`` and
``enqueue_transaction_meter_values`` (SessionView) and calls its ``metering`` peer
(MeteringView): ``energy_wh`` for meterStart/meterStop (None: the last value known, else 0),
``transaction_started`` and ``transaction_stopped`` (the StopTransaction's transactionData; also
for a PowerLoss stop after a restart). A failing metering call is logged and never costs a
transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block
from ocpp_core.events import SessionCancelled, SessionStarted, SessionStopped
from ocpp_core.journal import JournalSource
from ocpp_core.log import logger
from ocpp_core.sessions import AUTHORIZING, PREPARING, RUNNING
from ocpp_core.v16.authorization import same_tag
from ocpp_core.v16.status import CHARGING, FAULTED
from ocpp_core.v16.tx_journal import TransactionJournal, TransactionListener
from ocpp_core.v16.tx_session import STOP_REASONS, Session, SessionState

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ocpp_core.context import BlockContext
    from ocpp_core.journal import Journal
    from ocpp_core.rpc import JsonObject
    from ocpp_core.sessions import MeteringView, ReservationView, SmartChargingView
    from ocpp_core.v16.authorization import AuthorizationBlock, Decision
    from ocpp_core.v16.availability import AvailabilityBlock
    from ocpp_core.v16.payloads import UnlockConnectorResponseStatus
    from ocpp_core.v16.status import StatusBlock
    from ocpp_core.v16.tx_journal import Transaction

__all__ = ["STOP_REASONS", "TransactionBlock"]

_GROUP_STATUSES = frozenset({"Accepted", "ConcurrentTx"})  # may stop a session of its group


class TransactionBlock(Block, JournalSource, SessionState, TransactionListener):
    """Sessions, transactions and the journal of their messages; the engine's SessionView."""

    __slots__ = (
        "_finished",
        "_holds",
        "_journal",
        "_last_meter",
        "_recovered",
        "_sessions",
        "_stopping",
        "_watching",
        "authorization",
        "availability",
        "metering",
        "reservations",
        "resume_after_restart",
        "smart_charging",
        "status",
    )

    sends = ("StartTransaction", "StopTransaction")

    def __init__(
        self,
        ctx: BlockContext,
        *,
        authorization: AuthorizationBlock,
        availability: AvailabilityBlock,
        status: StatusBlock,
        reservations: ReservationView,
        metering: MeteringView,
        smart_charging: SmartChargingView,
    ) -> None:
        super().__init__(ctx)
        count = len(ctx.connectors)
        self.authorization = authorization
        self.availability = availability  # an inoperative connector takes no session
        self.status = status  # a faulted connector takes no session
        self.reservations = reservations
        self.metering = metering
        self.smart_charging = smart_charging
        self._sessions: list[Session | None] = [None] * count
        self._stopping: list[Transaction | None] = [None] * count  # StopTransaction unanswered
        self._holds: list[tuple[str, str | None] | None] = [None] * count  # lock kept for
        self._last_meter = [0] * count  # the last energy register read per connector (Wh)
        # Stopped by a restart with the cable still in: Finishing until it is unplugged (the
        # status block knows of no transaction in the previous run).
        self._finished = [False] * count
        self._watching = False  # some session needs the tick
        self.resume_after_restart = False
        # What the last run left open is stopped or resumed at the first poll (or API call):
        # the station attaches its meter and sets resume_after_restart after construction.
        self._journal = journal = TransactionJournal(ctx, self)
        for tx in journal.transactions.values():
            if tx.stopped and 0 < tx.connector < count:
                self._stopping[tx.connector] = tx
        self._recovered = not (journal.open_transactions() or journal.needs_recovery)

    # ------------------------------------------------------------------ the station's API

    def charging(self, connector: int, now: float) -> bool:
        """Energy may flow: the connector's status is Charging."""
        return self.status.status_of(connector, now) == CHARGING

    def present_card(
        self, connector: int, id_tag: str, now: float, token_type: str | None = None
    ) -> None:
        """An RFID card at the connector: start, stop, release the lock, or report.

        ``token_type`` is always None: a 1.6 idTag has no type (ChargePoint checks).
        """
        self._recover(now)
        hold = self._holds[connector]
        if hold is not None and (same_tag(id_tag, hold[0]) or self._in_group(id_tag, hold[1], now)):
            self._holds[connector] = None
            self._lock(connector, False)
            return
        session = self._sessions[connector]
        if session is None:
            if self.begin(connector, id_tag, now):
                return
            if self.reservations.reserved(connector) and self.ctx.watched:
                self.ctx.emit(SessionCancelled(connector, id_tag, "ReservationConflict"))
            logger().info("card on connector %d ignored: connector not usable", connector)
            return
        if same_tag(id_tag, session.id_tag):
            self._end(session, "Local", id_tag, now)
            return
        if self._in_group(id_tag, session.parent_id_tag, now):
            self._end(session, "Local", id_tag, now)
            return

        def decided(decision: Decision, at: float) -> None:
            if (
                self._sessions[connector] is session
                and decision.status in _GROUP_STATUSES
                and same_tag(decision.parent_id_tag, session.parent_id_tag)
            ):
                self._end(session, "Local", id_tag, at)

        self.authorization.authorize(connector, id_tag, now, decided)

    def begin(
        self,
        connector: int,
        id_tag: str,
        now: float,
        token_type: str | None = None,
        *,
        authorize: bool = True,
        charging_profile: Mapping[str, object] | None = None,
    ) -> bool:
        """Begin a session (False: the connector has one, or cannot take one now)."""
        self._recover(now)
        if not self.can_begin(connector, now, id_tag):
            return False
        profile = None if charging_profile is None else dict(charging_profile)
        if profile is not None and not self._smart_charging(
            "install_remote_start_profile", connector, profile, now
        ):
            return False  # a profile the station cannot take: RemoteStartTransaction Rejected
        session = Session(connector, id_tag, AUTHORIZING if authorize else PREPARING)
        session.charging_profile = profile
        timeout = self.ctx.config.integer("ConnectionTimeOut")
        if timeout > 0:
            session.deadline = now + timeout
        self._sessions[connector] = session
        self._holds[connector] = None
        self._finished[connector] = False
        self._watching = True
        if authorize:
            session.auth = self.authorization.authorize(
                connector, id_tag, now, lambda decision, at: self._authorized(session, decision, at)
            )
        else:
            self._try_start(session, now)
        return True

    def can_begin(self, connector: int, now: float, id_tag: str | None = None) -> bool:
        """Whether a session may begin on ``connector`` now (for ``id_tag``, if given)."""
        if not 0 < connector < len(self._sessions) or self._sessions[connector] is not None:
            return False
        hold = self._holds[connector]
        if hold is not None and not (id_tag is not None and same_tag(id_tag, hold[0])):
            return False  # the cable of the last user is still locked in (errata 3.5)
        if not self.availability.operative[connector]:
            return False
        if self.status.status_of(connector, now) == FAULTED:
            return False
        reservations = self.reservations
        if id_tag is None or not reservations.reserved(connector):
            return True
        known = self.authorization.known(id_tag, now)
        parent = None if known is None else known.parent_id_tag
        if not reservations.blocks(connector, id_tag, parent):
            return True
        # A parentIdTag not known locally is learnt with the Authorize (§5.13); _try_start
        # checks the reservation again then.
        return known is None and reservations.needs_parent(connector)

    def end(self, connector: int, now: float, id_tag: str | None, reason: str) -> bool:
        """End the connector's session: unconditionally, or if ``id_tag`` may (same or group)."""
        self._recover(now)
        session = self._sessions[connector]
        if session is None:
            return False
        if (
            id_tag is not None
            and not same_tag(id_tag, session.id_tag)
            and not self._in_group(id_tag, session.parent_id_tag, now)
        ):
            return False
        self._end(session, reason, id_tag, now)
        return True

    def stop_transaction(self, transaction_id: int, reason: str, now: float) -> bool:
        """Stop the running transaction the CSMS calls ``transaction_id`` (False: none)."""
        self._recover(now)
        for session in self._sessions:
            if (
                session is not None
                and session.state is RUNNING
                and session.running().transaction_id == transaction_id
            ):
                self._stop(session, reason, None, now)
                return True
        return False

    def unlock(self, connector: int, now: float) -> UnlockConnectorResponseStatus:
        """UnlockConnector (§5.18): end the session first, then drive the lock output."""
        self._recover(now)
        if not 0 < connector < len(self._sessions) or self.ctx.connectors[connector].lock is None:
            return "NotSupported"
        session = self._sessions[connector]
        if session is not None:
            if session.state is RUNNING:
                self._stop(session, "UnlockCommand", None, now, release=False)
            else:
                self._cancel(session, "UnlockCommand", now)
        self._holds[connector] = None
        return "Unlocked" if self._lock(connector, False) else "UnlockFailed"

    def free_connector(self, id_tag: str, now: float) -> int | None:
        """A connector for a session the CSMS leaves to us: a plugged one first."""
        usable = [c for c in range(1, len(self._sessions)) if self.can_begin(c, now, id_tag)]
        connectors = self.ctx.connectors
        for connector in usable:
            if connectors[connector].read("plugged"):
                return connector
        return usable[0] if usable else None

    # ------------------------------------------------------------------ SessionView commands

    def stop_all(self, reason: str, now: float) -> None:
        self._recover(now)
        for session in self._sessions:
            if session is None:
                continue
            if session.state is RUNNING:
                self._stop(session, reason, None, now)
            else:
                self._cancel(session, "Reset", now)

    def enqueue_transaction_meter_values(
        self,
        connector: int,
        meter_values: list[JsonObject],
        now: float,
        register_wh: int | None = None,
    ) -> None:
        session = self._sessions[connector]
        if session is None or session.state is not RUNNING:
            logger().warning("meter values for connector %d without a transaction", connector)
            return
        self._journal.meter_values(session.running(), meter_values, now, register_wh)

    # ------------------------------------------------------------------ JournalSource

    def source_journal(self) -> Journal:
        return self._journal.journal

    # ------------------------------------------------------------------ TransactionListener

    def start_answered(self, transaction: Transaction, id_tag_info: JsonObject, now: float) -> None:
        self.authorization.learn(transaction.id_tag, id_tag_info, now)
        session = self._sessions[transaction.connector]
        if session is None or session.tx is not transaction:
            return
        if session.parent_id_tag is None:
            session.parent_id_tag = transaction.parent_id_tag
        # Its TxProfiles bind to the transactionId the CSMS gave (-1: the Start was discarded).
        self._smart_charging(
            "transaction_started", transaction.connector, transaction.transaction_id, now
        )

    def stop_settled(
        self,
        transaction: Transaction | None,
        id_tag: str | None,
        info: JsonObject | None,
        now: float,
    ) -> None:
        if transaction is not None and self._stopping[transaction.connector] is transaction:
            self._stopping[transaction.connector] = None
        if id_tag is not None and info is not None:
            self.authorization.learn(id_tag, info, now)

    def stop_final(self, transaction: Transaction, payload: JsonObject) -> None:
        self._tell_stopped(
            transaction, payload["reason"], payload["meterStop"], payload["timestamp"]
        )

    def _tell_stopped(self, tx: Transaction, reason: str, meter: int, timestamp: str) -> None:
        if self.ctx.watched:
            self.ctx.emit(SessionStopped(tx.connector, tx.local_id, reason, meter, timestamp))

    # ------------------------------------------------------------------ timing

    def tick(self, now: float) -> None:
        self._journal.saw_time(now)  # readings of this poll, for a later clock correction
        if not self._recovered:
            self._recover(now)
        if not self._watching:
            return
        active = False
        for session in self._sessions:
            if session is not None:
                self._advance(session, now)
                active = True
        finished = self._finished
        if any(finished):
            for connector, flag in enumerate(finished):
                if flag:
                    finished[connector] = self.ctx.connectors[connector].read("plugged") is True
                    active = active or finished[connector]
        self._watching = active

    def timer(self, now: float) -> float | None:
        if not self._recovered:
            return now
        # A passed ConnectionTimeOut needs no more polls of its own: what is still waiting (the
        # cable, an Authorize answer, a fault to clear) arrives as input, which the caller polls.
        deadlines = [
            s.deadline
            for s in self._sessions
            if s is not None
            and s.state is not RUNNING
            and s.deadline is not None
            and s.deadline > now
        ]
        return min(deadlines) if deadlines else None

    def _advance(self, session: Session, now: float) -> None:
        """Follow the inputs and timers of one session."""
        connector = session.connector
        plugged = self.ctx.connectors[connector].read("plugged")  # None: not fitted/failing
        config = self.ctx.config
        if session.state is RUNNING:
            if plugged is False and config.boolean("StopTransactionOnEVSideDisconnect"):
                self._stop(session, "EVDisconnected", None, now)
            elif session.running().invalid and not session.suspended:
                self._enforce_invalid(session, now)
            return
        if session.deadline is not None and now >= session.deadline and not plugged:
            self._cancel(session, "ConnectionTimeOut", now)
        elif not self.availability.operative[connector]:
            self._cancel(session, "Unavailable", now)
        elif session.state is PREPARING and plugged is not False:
            self._try_start(session, now)

    def _enforce_invalid(self, session: Session, now: float) -> None:
        """After an invalid StartTransaction.conf: allow MaxEnergyOnInvalidId, then act."""
        config = self.ctx.config
        limit = config.integer("MaxEnergyOnInvalidId")
        if limit > 0:
            energy = self._read_meter(session.connector)
            if energy is not None and energy - session.running().meter_start < limit:
                return
        if config.boolean("StopTransactionOnInvalidId"):
            self._stop(session, "DeAuthorized", None, now)
        else:
            session.suspended = True

    # ------------------------------------------------------------------ transitions

    def _authorized(self, session: Session, decision: Decision, now: float) -> None:
        if self._sessions[session.connector] is not session:
            return
        session.auth = None
        if not decision.accepted:
            self._cancel(session, "Rejected", now)
            return
        session.parent_id_tag = decision.parent_id_tag
        session.state = PREPARING
        self._try_start(session, now)

    def _try_start(self, session: Session, now: float) -> None:
        connector = session.connector
        if self.ctx.connectors[connector].read("plugged") is False:
            return
        if self.status.status_of(connector, now) == FAULTED:
            return
        ctx = self.ctx
        reservations = self.reservations
        id_tag, parent = session.id_tag, session.parent_id_tag
        if reservations.blocks(connector, id_tag, parent):
            self._cancel(session, "ReservationConflict", now)
            return
        reservation = reservations.claim(connector, id_tag, parent, now)
        meter = self._meter(connector)
        timestamp = ctx.clock.timestamp(now)
        self._journal.saw_time(now)  # the Begin reading of the transactionData
        tx = self._journal.begin(
            connector, session.id_tag, session.parent_id_tag, meter, timestamp, reservation, now
        )
        session.tx, session.state, session.deadline = tx, RUNNING, None
        self._stopping[connector] = None
        self._lock(connector, True)
        try:
            self.metering.transaction_started(connector, now)
        except Exception:
            logger().exception("metering failed to start transaction %d", tx.local_id)
        self._smart_charging("transaction_started", connector, None, now)
        if ctx.watched:
            ctx.emit(SessionStarted(connector, tx.local_id, session.id_tag, meter, timestamp))

    def _end(self, session: Session, reason: str, id_tag: str | None, now: float) -> None:
        if session.state is RUNNING:
            self._stop(session, reason, id_tag, now)
        else:
            self._cancel(session, "Local", now)

    def _stop(
        self,
        session: Session,
        reason: str,
        id_tag: str | None,
        now: float,
        *,
        release: bool = True,
    ) -> None:
        connector = session.connector
        self._sessions[connector] = None
        self._finish(session.running(), reason, id_tag, now)
        if not release:
            return
        keep_locked = reason == "DeAuthorized" or (
            reason == "EVDisconnected"
            and not self.ctx.config.boolean("UnlockConnectorOnEVSideDisconnect")
        )
        if keep_locked:
            self._holds[connector] = (session.id_tag, session.parent_id_tag)
        else:
            self._lock(connector, False)

    def _finish(
        self, tx: Transaction, reason: str, id_tag: str | None, now: float, *, at_load: bool = False
    ) -> None:
        """Journal the StopTransaction of ``tx``; SessionStopped at once, or (``at_load``, the
        clock not set yet) once its timestamp is final (``stop_final``, see tx_journal)."""
        ctx = self.ctx
        connector = tx.connector
        # meterStop: the meter now, else the last reading known (journaled, also before a
        # restart), never below meterStart.
        meter = tx.last_meter
        data: list[JsonObject] = []
        if 0 < connector < len(self._sessions):
            meter = max(meter, self._meter(connector))
            try:
                data = self.metering.transaction_stopped(connector, now)
            except Exception:
                logger().exception("metering failed to stop transaction %d", tx.local_id)
            self._smart_charging("transaction_stopped", connector, now)
            self._stopping[connector] = tx
        timestamp = ctx.clock.timestamp(now)
        self._journal.end(tx, meter, timestamp, reason, id_tag, data, now, tell=at_load)
        if not at_load:
            self._tell_stopped(tx, reason, meter, timestamp)

    def _cancel(self, session: Session, reason: str, now: float) -> None:
        connector = session.connector
        self._sessions[connector] = None
        if session.auth is not None:
            self.authorization.cancel(session.auth)
        if session.charging_profile is not None:  # the RemoteStart profile goes with it
            self._smart_charging("transaction_stopped", connector, now)
        ctx = self.ctx
        if ctx.watched:
            ctx.emit(SessionCancelled(connector, session.id_tag, reason))

    def _recover(self, now: float) -> None:
        """First use after construction: stop (PowerLoss) or resume what was running."""
        if self._recovered:
            return
        self._recovered = True
        self._journal.recover(now)
        sessions = self._sessions
        for tx in self._journal.open_transactions():
            connector = tx.connector
            if self.resume_after_restart and not tx.closed and 0 < connector < len(sessions):
                previous = sessions[connector]
                if previous is not None:  # two open on one connector: only the latest runs on
                    sessions[connector] = None
                    self._finish(previous.running(), "PowerLoss", None, now, at_load=True)
                session = Session(connector, tx.id_tag, RUNNING)
                session.parent_id_tag, session.tx = tx.parent_id_tag, tx
                sessions[connector] = session
                self._watching = True
                self._lock(connector, True)
                self._smart_charging("transaction_started", connector, tx.transaction_id, now)
            else:
                self._finish(tx, "PowerLoss", None, now, at_load=True)
                if 0 < connector < len(sessions):
                    self._lock(connector, False)
                    self._finished[connector] = self._watching = True

    # ------------------------------------------------------------------ helpers

    def _in_group(self, id_tag: str, parent_id_tag: str | None, now: float) -> bool:
        """Whether ``id_tag`` is known locally, valid, with this parentIdTag (§3.10)."""
        known = self.authorization.known(id_tag, now)
        return known is not None and known.accepted and same_tag(known.parent_id_tag, parent_id_tag)

    def _smart_charging(self, method: str, *args: object) -> object:
        """Tell smart charging (TxProfiles follow the transaction); a failure is logged and
        never costs a transaction (None then)."""
        try:
            return getattr(self.smart_charging, method)(*args)
        except Exception:
            logger().exception("smart charging failed in %s", method)
            return None

    def _read_meter(self, connector: int) -> int | None:
        try:
            value = self.metering.energy_wh(connector)
        except Exception:
            logger().exception("metering failed to read connector %d", connector)
            return None
        if value is None:
            return None
        value = round(value)
        self._last_meter[connector] = value
        return value

    def _meter(self, connector: int) -> int:
        """The energy register now, else the last value read (Wh)."""
        value = self._read_meter(connector)
        return self._last_meter[connector] if value is None else value

    def _lock(self, connector: int, locked: bool) -> bool:
        """Drive the cable lock (True if it worked or none is fitted)."""
        return self.ctx.connectors[connector].drive_lock(locked)
