"""Transactions (OCPP 2.0.1 E01-E15): TransactionEvent Started / Updated / Ended.

The station names each transaction (a UUID) and numbers its events (seqNo 0, 1, ...); every
event is journaled before it can be sent (tx_journal) and carries ``offline: true`` when it
was generated without a connection to the CSMS.

**When a transaction starts and ends** (E01, E06): per EVSE the block follows the conditions of
TxStartPoint / TxStopPoint (tx_ctrlr, tx_evse): ParkingBayOccupancy, EVConnected, Authorized,
PowerPathClosed (cable and authorization), EnergyTransfer (chargingState Charging). The first
start condition that becomes true starts the transaction (Started); the first stop condition
that was true during it and no longer is ends it (Ended). What no stop condition ends is
reported in an Updated event: a new idToken (Authorized), a chargingState change
(ChargingStateChanged, also CablePluggedIn / EVCommunicationLost), a local or remote stop that
does not end the transaction yet (StopAuthorized, RemoteStop: the energy stops, the transaction
ends at the next stop condition with stoppedReason Local / Remote).

**Ends commanded whatever the stop points:** StopTxOnEVSideDisconnect and an unplugged cable
(EVCommunicationLost, EVDisconnected); EVConnectionTimeOut without a cable, counted from the
authorization or the unplugging (EVConnectTimeout, Timeout); an invalid idTokenInfo in a
TransactionEventResponse with StopTxOnInvalidId (Deauthorized, DeAuthorized); a master pass
(StopAuthorized, MasterPass); Reset and reboots (ResetCommand, ImmediateReset / Reboot,
``stop_all``); a restart that found the transaction open (AbnormalCondition, PowerLoss) unless
it resumes; and any ReasonEnumType the station's API gives (``end``). Without
StopTxOnInvalidId an invalid idToken only withdraws the energy offer (Deauthorized, chargingState
SuspendedEVSE), after MaxEnergyOnInvalidId Wh if that is set.

Cards (E02, E03, C01, C09, C16): a card on an EVSE without authorization authorizes it (the
authorization block decides; TxBeforeAcceptedEnabled false refuses cards until the
BootNotification is Accepted); the same idToken, or one of the same groupIdToken, ends the
authorization (StopAuthorized, Local); a master pass stops every transaction. Without a cable
an authorization lapses after EVConnectionTimeOut (SessionCancelled "ConnectionTimeOut").

GetTransactionStatus (E14) answers from the journal; TriggerMessage(TransactionEvent) sends an
Updated event (Trigger) per ongoing transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_core.block import Block, on, trigger
from ocpp_core.events import SessionCancelled, SessionStarted, SessionStopped
from ocpp_core.journal import JournalSource
from ocpp_core.log import logger
from ocpp_core.outbox import SEND_ACCEPTED
from ocpp_core.sessions import (
    AUTHORIZING,
    PREPARING,
    RUNNING,
    STOPPING,
    SessionView,
    TransactionInfo,
)
from ocpp_core.v201 import tx_ctrlr
from ocpp_core.v201.id_tokens import same_id_token
from ocpp_core.v201.tx_ctrlr import AUTHORIZED, BAY, CONNECTED, ENERGY, POWER_PATH
from ocpp_core.v201.tx_evse import CHARGING, EV_CONNECTED, IDLE, STOP_TRIGGERS, EvseSession
from ocpp_core.v201.tx_evse import default_reason as _default_reason
from ocpp_core.v201.tx_journal import TransactionJournal, TransactionListener, new_transaction_id
from ocpp_core.v201.tx_views import (
    ALWAYS_USABLE,
    NO_ANSWERS,
    NO_METER,
    NO_RESERVATIONS,
    TRUST_ALL,
    TransactionAnswers,
)

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.events import MessageDiscarded
    from ocpp_core.journal import Journal
    from ocpp_core.rpc import JsonObject
    from ocpp_core.v201.payloads import (
        GetTransactionStatusRequest,
        GetTransactionStatusResponse,
    )
    from ocpp_core.v201.tx_journal import Transaction
    from ocpp_core.v201.tx_views import Authorizer, Availability, Faults, Meter, Reservations

__all__ = ["TransactionBlock"]

_STOPPING_TRIGGERS = frozenset({"StopAuthorized", "RemoteStop", "Deauthorized"})
_STAGED = frozenset({"CablePluggedIn", "Authorized", "RemoteStart"})
_ALWAYS_REPORTED = frozenset(
    {
        "StopAuthorized",
        "RemoteStop",
        "Deauthorized",
        "EVCommunicationLost",
        "CablePluggedIn",
        "EVDetected",
        "EVDeparted",
        "Trigger",
        "RemoteStart",
        "Authorized",
        "EnergyLimitReached",
    }
)


class TransactionBlock(Block, JournalSource, SessionView, TransactionListener):
    """Sessions and transactions per EVSE and the journal of their TransactionEvents."""

    __slots__ = (
        "_evses",
        "_holds",
        "_journal",
        "_recovered",
        "_stopping",
        "_unoffered",
        "answers",
        "authorization",
        "availability",
        "metering",
        "reservations",
        "resume_after_restart",
        "status",
    )

    sends = ("TransactionEvent",)
    keys = tx_ctrlr.VARIABLES

    def __init__(
        self,
        ctx: BlockContext,
        *,
        authorization: Authorizer = TRUST_ALL,
        metering: Meter = NO_METER,
        availability: Availability = ALWAYS_USABLE,
        status: Faults = ALWAYS_USABLE,
        reservations: Reservations = NO_RESERVATIONS,
    ) -> None:
        super().__init__(ctx)
        self.authorization = authorization
        self.metering = metering
        self.availability = availability  # an inoperative EVSE takes no transaction
        self.status = status  # nor does a faulted one
        self.reservations = reservations  # a reserved EVSE takes only its holder (H03)
        self.answers: TransactionAnswers = NO_ANSWERS  # the tariff block hears the answers
        self._evses = [EvseSession(n) for n in range(len(ctx.connectors))]
        # The idToken whose cable stays locked after an EV-side disconnect (E09), per EVSE.
        self._holds: list[JsonObject | None] = [None] * len(ctx.connectors)
        self._stopping: list[Transaction | None] = [None] * len(ctx.connectors)  # Ended unanswered
        self._unoffered: set[int] = set()  # EVSEs whose charging limit is 0 (smart charging)
        self.resume_after_restart = False
        self._journal = TransactionJournal(ctx, self)
        self._recovered = not (self._journal.open_transactions() or self._journal.needs_recovery)

    # ------------------------------------------------------------------ the station's API

    def present_card(
        self, connector: int, id_tag: str, now: float, token_type: str | None = None
    ) -> None:
        """An idToken at the EVSE's reader: authorize, end the authorization, or stop all."""
        self._recover(now)
        token: JsonObject = {"idToken": id_tag, "type": token_type or "ISO14443"}
        session = self._evses[connector]
        hold = self._holds[connector]
        if hold is not None and session.tx is None and same_id_token(token, hold):
            self._holds[connector] = None
            self._lock(connector, False)
            return
        if session.id_token is None and session.pending_token is None:
            self._authorize(session, token, now, remote_start_id=None)
            return
        if session.id_token is not None and same_id_token(token, session.id_token):
            self._deauthorize(session, "StopAuthorized", "Local", token, now)
            return

        def decided(decision: object, at: float) -> None:
            if getattr(decision, "master_pass", False):
                self.stop_all("MasterPass", at)
            elif session.id_token is not None and self.authorization.same_group(
                session.group_id_token, decision
            ):
                self._deauthorize(session, "StopAuthorized", "Local", token, at)

        self.authorization.authorize(connector, token, now, decided)

    def begin(self, connector: int, id_tag: str, now: float, token_type: str | None = None) -> bool:
        """Authorize ``id_tag`` on the EVSE (False: it has an authorization already, or the
        EVSE cannot take one)."""
        self._recover(now)
        session = self._evses[connector]
        if session.id_token is not None or session.pending_token is not None:
            return False
        if not self._usable(connector, now):
            return False
        token: JsonObject = {"idToken": id_tag, "type": token_type or "ISO14443"}
        return self._authorize(session, token, now, remote_start_id=None)

    def end(self, connector: int, now: float, id_tag: str | None, reason: str) -> bool:
        """End the EVSE's session: its transaction with ``reason`` (a ReasonEnumType), or its
        authorization if no transaction runs; with ``id_tag``, only if it is the one in force."""
        self._recover(now)
        session = self._evses[connector]
        if session.tx is None and session.id_token is None and session.pending_token is None:
            return False
        if id_tag is not None:
            token = session.id_token or session.pending_token
            if token is None or token.get("idToken") != id_tag:
                return False
        if session.tx is None:
            self._cancel(session, "Local", now)
            return True
        self._finish(session, STOP_TRIGGERS.get(reason, "AbnormalCondition"), reason, now)
        return True

    def charging(self, connector: int, now: float) -> bool:
        """Energy may flow: the EVSE's transaction is in chargingState Charging."""
        session = self._evses[connector]
        return session.tx is not None and self._state(session) == CHARGING

    def current(self, connector: int) -> TransactionInfo | None:
        session = self._evses[connector]
        tx = session.tx
        token = session.id_token or session.pending_token
        if tx is None:
            if token is None:
                stopping = self._stopping[connector]
                return None if stopping is None else _info(stopping, STOPPING, stopping.id_token)
            state = AUTHORIZING if session.id_token is None else PREPARING
            return TransactionInfo(
                connector,
                state,
                str(token["idToken"]),
                charging_profile=session.charging_profile,
                id_token_type=str(token["type"]),
            )
        return _info(tx, RUNNING, token or tx.id_token)._replace(
            charging_profile=session.charging_profile
        )

    def energy_floor(self, connector: int) -> int:
        """The highest register (Wh) the EVSE's stored transactions hold."""
        return max(
            (tx.last_meter for tx in self._journal.transactions.values() if tx.evse == connector),
            default=0,
        )

    @property
    def records(self) -> TransactionJournal:
        """The transactions not yet settled and their records (CustomerInformation, N09/N10)."""
        return self._journal

    def queue_length(self) -> int:
        return len(self._journal.journal)

    def discards(self) -> list[MessageDiscarded]:
        return self._journal.discards()

    # ------------------------------------------------------------------ remote control (F01-F03)

    def remote_start(
        self,
        evse: int | None,
        id_token: JsonObject,
        remote_start_id: int,
        group_id_token: JsonObject | None,
        charging_profile: JsonObject | None,
        now: float,
    ) -> tuple[str, str | None]:
        """RequestStartTransaction: ("Accepted" | "Rejected", the transactionId already running
        on that EVSE). ``evse`` None: a usable EVSE is chosen, a plugged one first. The
        chargingProfile is kept with the session (TransactionInfo) for smart charging."""
        self._recover(now)
        if evse is None:
            evse = self._free_evse(now, id_token, group_id_token)
            if evse is None:
                return "Rejected", None
        if not 0 < evse < len(self._evses):
            return "Rejected", None
        if self.reservations.refuses(evse, id_token, group_id_token):
            return "Rejected", None  # reserved for another idToken (H03)
        session = self._evses[evse]
        if session.id_token is not None or session.pending_token is not None:
            return "Rejected", None
        if session.tx is None and not self._usable(evse, now):
            return "Rejected", None
        running = None if session.tx is None else session.tx.transaction_id
        session.charging_profile = charging_profile
        if self._flag("AuthCtrlr.AuthorizeRemoteStart", default=False):
            self._authorize(session, dict(id_token), now, remote_start_id=remote_start_id)
        else:
            session.remote_start_id = remote_start_id
            session.reservation_id = self.reservations.consume(evse, id_token, group_id_token, now)
            self._authorized(session, dict(id_token), group_id_token, "RemoteStart", now)
        return "Accepted", running

    def remote_stop(self, transaction_id: str, now: float) -> str:
        """RequestStopTransaction: "Accepted" if the transaction is ongoing here."""
        self._recover(now)
        for session in self._evses:
            if session.tx is not None and session.tx.transaction_id == transaction_id:
                if session.id_token is None:
                    self._finish(session, "RemoteStop", "Remote", now)
                else:
                    self._deauthorize(session, "RemoteStop", "Remote", None, now)
                return "Accepted"
        return "Rejected"

    def authorized_transaction(self, evse: int) -> bool:
        """An ongoing transaction with an authorized idToken on the EVSE (F05.FR.02)."""
        session = self._evses[evse]
        return session.tx is not None and session.id_token is not None

    # ------------------------------------------------------------------ SessionView

    def transaction_running(self, connector: int) -> bool:
        return self._evses[connector].tx is not None

    def permits_charge(self, connector: int) -> bool:
        session = self._evses[connector]
        return session.id_token is not None and not session.suspended

    def preparing(self, connector: int) -> bool:
        session = self._evses[connector]
        return session.tx is None and (
            session.id_token is not None or session.pending_token is not None
        )

    def settled(self) -> bool:
        return not self._journal.journal

    def stop_all(self, reason: str, now: float) -> None:
        self._recover(now)
        for session in self._evses[1:]:
            self.stop_evse(session.evse, reason, now)

    def stop_evse(self, evse: int, reason: str, now: float) -> bool:
        """End the EVSE's transaction (or authorization) with ``reason``; False: none."""
        session = self._evses[evse]
        if session.tx is not None:
            self._finish(session, STOP_TRIGGERS.get(reason, "AbnormalCondition"), reason, now)
            return True
        if session.id_token is not None or session.pending_token is not None:
            self._cancel(session, "Reset", now)
            return True
        return False

    def enqueue_transaction_meter_values(
        self,
        connector: int,
        meter_values: list[JsonObject],
        now: float,
        register_wh: int | None = None,
        trigger: str = "MeterValuePeriodic",
    ) -> None:
        """Journal an Updated event with the EVSE's periodic (or clock-aligned) meter values."""
        session = self._evses[connector]
        if session.tx is None:
            logger().warning("meter values for EVSE %d without a transaction", connector)
            return
        self._event(
            session, "Updated", trigger, now, meter_values=meter_values, register=register_wh
        )

    # ------------------------------------------------------------------ CSMS requests

    @on("GetTransactionStatus")
    def get_transaction_status(
        self, payload: GetTransactionStatusRequest, now: float
    ) -> GetTransactionStatusResponse:
        """E14: messages queued (of the transaction, if named) and whether it is ongoing."""
        self._recover(now)
        journal = self._journal
        transaction_id = payload.get("transactionId")
        if transaction_id is None:
            return {"messagesInQueue": journal.queued(None)}
        ongoing = any(
            tx.transaction_id == transaction_id and not tx.ended
            for tx in journal.transactions.values()
        )
        return {"ongoingIndicator": ongoing, "messagesInQueue": journal.queued(transaction_id)}

    @trigger("TransactionEvent")
    def send_triggered(self, evse: int | None, now: float) -> str:
        """F06: an Updated event (Trigger) for the EVSE's ongoing transaction, or for each."""
        self._recover(now)
        if evse is not None and not 0 < evse < len(self._evses):
            return "Rejected"
        targets = self._evses[1:] if evse is None else [self._evses[evse]]
        running = [session for session in targets if session.tx is not None]
        for session in running:
            values = self._meter_values("triggered_values", session.evse, now)
            self._event(session, "Updated", "Trigger", now, meter_values=values, evse=True)
        return "Accepted" if running else "Rejected"

    # ------------------------------------------------------------------ JournalSource

    def source_journal(self) -> Journal:
        return self._journal.journal

    # ------------------------------------------------------------------ TransactionListener

    def answered(self, tx: Transaction, payload: JsonObject, info: JsonObject, now: float) -> None:
        """E05 / C10: an idTokenInfo for the idToken an event carried."""
        token = payload.get("idToken")
        if isinstance(token, dict):
            try:
                self.authorization.learn(token, info, now)
            except Exception:
                logger().exception("the authorization block failed to learn an idTokenInfo")
        session = next((s for s in self._evses if s.tx is tx), None)
        if session is None or info.get("status") == "Accepted":
            return
        if not isinstance(token, dict) or session.id_token is None:
            return
        if not same_id_token(token, session.id_token):
            return
        logger().warning("transaction %s: idToken %s", tx.transaction_id, info.get("status"))
        session.invalid = True
        self._enforce_invalid(session, now)

    def responded(
        self, tx: Transaction, payload: JsonObject, response: JsonObject, now: float
    ) -> None:
        event_type = str(payload.get("eventType"))
        try:
            self.answers.transaction_answered(tx.evse, tx.transaction_id, event_type, response, now)
        except Exception:
            logger().exception("the answer to a TransactionEvent was not taken in")

    def transaction_settled(self, tx: Transaction, now: float) -> None:
        if 0 < tx.evse < len(self._stopping) and self._stopping[tx.evse] is tx:
            self._stopping[tx.evse] = None

    def charging_limit_changed(
        self, evse: int, offered: bool, rate_changed: bool, now: float
    ) -> None:
        """Smart charging's seam: the EVSE's limit lets energy flow (``offered``) or is 0
        (SuspendedEVSE, ChargingStateChanged); else ``rate_changed``: an external limit moved
        the running transaction's rate (ChargingRateChanged, K11.FR.04 / K13.FR.03)."""
        if not 0 < evse < len(self._evses):
            return
        if offered:
            self._unoffered.discard(evse)
        else:
            self._unoffered.add(evse)
        session = self._evses[evse]
        if session.tx is None:
            return
        if self._state(session) != session.reported_state:
            self._evaluate(session, None, now)
        elif rate_changed:
            self._event(session, "Updated", "ChargingRateChanged", now)

    # ------------------------------------------------------------------ timing

    def tick(self, now: float) -> None:
        self._journal.saw_time(now)  # readings of this poll, for a later clock correction
        if not self._recovered:
            self._recover(now)
        connectors = self.ctx.connectors
        for session in self._evses[1:]:
            io = connectors[session.evse]
            plugged = io.read("plugged") is True
            occupied = io.read("occupied") is True
            cause = None
            if plugged != session.plugged:
                session.plugged = plugged
                cause = "CablePluggedIn" if plugged else "EVCommunicationLost"
            if occupied != session.occupied and not plugged:
                cause = cause or ("EVDetected" if occupied else "EVDeparted")
            session.occupied = occupied
            if cause is None and session.tx is None and session.id_token is None:
                continue  # nothing can start without a change of input or an authorization
            if session.tx is None and not self.availability.operative_evse(session.evse):
                self._cancel(session, "Unavailable", now)  # made inoperative: no session waits
                continue
            if session.invalid and not session.suspended:
                self._enforce_invalid(session, now)
                if session.tx is None:
                    continue
            self._evaluate(session, cause, now)
            deadline = session.deadline
            if deadline is not None and now >= deadline and not session.plugged:
                self._timed_out(session, now)

    def timer(self, now: float) -> float | None:
        if not self._recovered:
            return now
        deadlines = [s.deadline for s in self._evses if s.deadline is not None and s.deadline > now]
        return min(deadlines) if deadlines else None

    # ------------------------------------------------------------------ transitions

    def _authorize(
        self, session: EvseSession, token: JsonObject, now: float, *, remote_start_id: int | None
    ) -> bool:
        if not self._flag(tx_ctrlr.TX_BEFORE_ACCEPTED) and self.ctx.outbox.gate != SEND_ACCEPTED:
            logger().info("idToken on EVSE %d refused: not accepted by the CSMS yet", session.evse)
            return False
        session.pending_token = token
        self._arm_timeout(session, now)

        def decided(decision: object, at: float) -> None:
            if session.pending_token is not token:
                return
            session.auth = None
            accepted = getattr(decision, "accepted", False)
            if getattr(decision, "master_pass", False):
                accepted = False  # C16.FR.03: a master pass starts nothing
                self.stop_all("MasterPass", at)
            group = getattr(decision, "group_id_token", None)
            refusal = "Rejected"
            if accepted and self.reservations.refuses(session.evse, token, group):
                accepted, refusal = False, "ReservationConflict"  # H03: not the holder
            if not accepted:
                if session.tx is None:
                    self._cancel(session, refusal, at)
                else:  # refused for a transaction without authorization: it goes on as it was
                    session.pending_token = None
                    self._tell_cancelled(session.evse, token, refusal)
                return
            session.pending_token = None
            session.remote_start_id = remote_start_id
            session.reservation_id = self.reservations.consume(session.evse, token, group, at)
            trigger_reason = "Authorized" if remote_start_id is None else "RemoteStart"
            self._authorized(session, token, group, trigger_reason, at)

        session.auth = self.authorization.authorize(session.evse, token, now, decided)
        return True

    def _authorized(
        self,
        session: EvseSession,
        token: JsonObject,
        group: JsonObject | None,
        cause: str,
        now: float,
    ) -> None:
        session.id_token, session.group_id_token = token, group
        session.token_reported = False
        session.stop_reason = session.stop_token = None
        session.invalid = session.suspended = False
        self._arm_timeout(session, now)
        self._evaluate(session, cause, now)

    def _arm_timeout(self, session: EvseSession, now: float) -> None:
        timeout = self.ctx.config.integer(tx_ctrlr.EV_CONNECTION_TIMEOUT)
        session.deadline = now + timeout if timeout > 0 and not session.plugged else None

    def _deauthorize(
        self,
        session: EvseSession,
        cause: str,
        reason: str,
        token: JsonObject | None,
        now: float,
    ) -> None:
        """The authorization ends (a card, RequestStop, an invalid idToken)."""
        if session.tx is None:
            self._cancel(session, "Local", now)
            return
        session.id_token = None
        session.stop_reason, session.stop_token = reason, token
        self._evaluate(session, cause, now)

    def _enforce_invalid(self, session: EvseSession, now: float) -> None:
        """E05 after a non-Accepted idTokenInfo: StopTxOnInvalidId ends the transaction at once
        (Deauthorized, DeAuthorized); else the energy offer stops (Deauthorized, chargingState
        SuspendedEVSE), once MaxEnergyOnInvalidId Wh more have flowed if that is set."""
        tx = session.tx
        if tx is None:
            return
        config = self.ctx.config
        if config.boolean(tx_ctrlr.STOP_ON_INVALID_ID):
            self._finish(session, "Deauthorized", "DeAuthorized", now)
            return
        limit = config.integer(tx_ctrlr.MAX_ENERGY_ON_INVALID_ID)
        if limit > 0:
            energy = self._read_meter(session.evse)
            if energy is not None and energy - tx.meter_start < limit:
                return
        session.suspended = True
        self._evaluate(session, "Deauthorized", now)

    def _timed_out(self, session: EvseSession, now: float) -> None:
        """EVConnectionTimeOut passed without a cable (E03.FR.05, E10)."""
        session.deadline = None
        if session.tx is not None:
            self._finish(session, "EVConnectTimeout", "Timeout", now)
        elif session.id_token is not None or session.pending_token is not None:
            self._cancel(session, "ConnectionTimeOut", now)

    def _cancel(self, session: EvseSession, reason: str, now: float) -> None:
        """The session ends without a transaction."""
        token = session.id_token or session.pending_token
        if session.auth is not None:
            self.authorization.cancel(session.auth)
        session.clear()
        if token is not None:
            self._tell_cancelled(session.evse, token, reason)

    def _tell_cancelled(self, evse: int, token: JsonObject, reason: str) -> None:
        if self.ctx.watched:
            self.ctx.emit(SessionCancelled(evse, str(token["idToken"]), reason))

    def _evaluate(self, session: EvseSession, cause: str | None, now: float) -> None:
        """Start, end or report the EVSE's transaction after ``cause`` (see module). A cable
        or an authorization that closes the power path is reported as it comes first (the EV
        connected), then the chargingState the EV and the EVSE reach (ChargingStateChanged)."""
        if session.remote_start_id is not None and cause is not None:
            cause = "RemoteStart"  # the first event after a RequestStartTransaction (part 6)
        state = self._state(session)
        if cause in _STAGED and state not in (IDLE, EV_CONNECTED):
            self._step(session, cause, EV_CONNECTED, now)
            cause = "ChargingStateChanged"
        self._step(session, cause, state, now)

    def _step(self, session: EvseSession, cause: str | None, state: str, now: float) -> None:
        conditions = session.conditions(state)
        if session.plugged:
            session.deadline = None
        elif session.tx is not None and session.deadline is None and CONNECTED in session.seen:
            self._arm_timeout(session, now)  # unplugged and not ended: E10's timeout
        if session.tx is None:
            starts = conditions & self._points(tx_ctrlr.START_POINT)
            if starts and self._usable(session.evse, now):
                self._start(session, _start_trigger(cause, starts), state, conditions, now)
            return
        session.seen |= conditions
        lost = (session.seen - conditions) & self._points(tx_ctrlr.STOP_POINT)
        if (
            cause == "EVCommunicationLost"
            and CONNECTED in session.seen
            and self._flag(tx_ctrlr.STOP_ON_EV_SIDE_DISCONNECT)
        ):
            lost.add(CONNECTED)
        if lost:
            reason = _default_reason(lost, session, state)
            end_cause = cause or "ChargingStateChanged"
            if end_cause in _STOPPING_TRIGGERS and not lost & {AUTHORIZED, POWER_PATH}:
                # The authorization ended, and with it the energy: report the one, end by the other.
                self._event(session, "Updated", end_cause, now, state=state)
                end_cause = "ChargingStateChanged"
            self._finish(session, end_cause, reason, now)
            return
        changed = state != session.reported_state
        new_token = session.id_token is not None and not session.token_reported
        if changed or new_token or cause in _ALWAYS_REPORTED:
            self._event(session, "Updated", cause or "ChargingStateChanged", now, state=state)

    def _start(
        self, session: EvseSession, cause: str, state: str, conditions: set[str], now: float
    ) -> None:
        evse = session.evse
        self._holds[evse] = None  # locked again for this transaction
        meter = self._read_meter(evse)
        meter_values = self._meter_values("transaction_started", evse, now)
        payload = self._payload(session, "Started", cause, now, state, meter_values)
        payload["evse"] = {"id": evse, "connectorId": 1}
        session.tx = self._journal.event(None, payload, now, meter)
        session.seen = set(conditions)
        self._lock(evse, True)
        ctx = self.ctx
        if ctx.watched:
            token = session.id_token
            tx = session.tx
            tag = "" if token is None else str(token["idToken"])
            ctx.emit(SessionStarted(evse, tx.local_id, tag, tx.meter_start, tx.start))

    def _finish(self, session: EvseSession, cause: str, reason: str, now: float) -> None:
        """Journal the Ended event and free the EVSE."""
        tx = session.tx
        assert tx is not None
        evse = session.evse
        meter_values = self._meter_values("transaction_stopped", evse, now)
        state = IDLE if not session.plugged else EV_CONNECTED
        register = self._read_meter(evse)
        payload = self._payload(session, "Ended", cause, now, state, meter_values)
        info = payload["transactionInfo"]
        assert isinstance(info, dict)
        info["stoppedReason"] = reason
        token = session.stop_token
        if token is not None and "idToken" not in payload:
            payload["idToken"] = token
        self._journal.event(tx, payload, now, register)
        if 0 < evse < len(self._stopping) and tx.local_id in self._journal.transactions:
            self._stopping[evse] = tx
        holder = tx.id_token
        session.clear()
        if reason == "EVDisconnected" and not self._flag(tx_ctrlr.UNLOCK_ON_EV_SIDE_DISCONNECT):
            self._holds[evse] = holder  # E09: locked until its idToken (or UnlockConnector)
        else:
            self._lock(evse, False)
        if self.ctx.watched:
            meter = max(tx.last_meter, tx.meter_start)
            self.ctx.emit(
                SessionStopped(evse, tx.local_id, reason, meter, str(payload["timestamp"]))
            )

    def _event(
        self,
        session: EvseSession,
        event_type: str,
        cause: str,
        now: float,
        *,
        state: str | None = None,
        meter_values: list[JsonObject] | None = None,
        register: int | None = None,
        evse: bool = False,
    ) -> None:
        tx = session.tx
        assert tx is not None
        state = self._state(session) if state is None else state
        payload = self._payload(session, event_type, cause, now, state, meter_values or [])
        if evse:
            payload["evse"] = {"id": session.evse, "connectorId": 1}
        token = session.stop_token if cause in _STOPPING_TRIGGERS else None
        if token is not None and "idToken" not in payload:
            payload["idToken"] = token
        self._journal.event(tx, payload, now, register)

    def _payload(
        self,
        session: EvseSession,
        event_type: str,
        cause: str,
        now: float,
        state: str,
        meter_values: list[JsonObject],
    ) -> JsonObject:
        """An event's payload without its seqNo; what it reports is marked reported."""
        tx = session.tx
        info: JsonObject = {
            "transactionId": new_transaction_id() if tx is None else tx.transaction_id,
            "chargingState": state,
        }
        session.reported_state = state
        if tx is not None:  # timeSpentCharging: the time reported in chargingState Charging
            if session.charging_since is not None:
                tx.charged += max(0.0, now - session.charging_since)
            if tx.charged:
                info["timeSpentCharging"] = int(tx.charged)
        charging = state == CHARGING and event_type != "Ended"
        session.charging_since = now if charging else None
        if session.remote_start_id is not None:
            info["remoteStartId"] = session.remote_start_id
            session.remote_start_id = None
        payload: JsonObject = {
            "eventType": event_type,
            "timestamp": self.ctx.clock.timestamp(now),
            "triggerReason": cause,
            "transactionInfo": info,
        }
        if session.reservation_id is not None:  # the reservation this transaction used
            payload["reservationId"] = session.reservation_id
            session.reservation_id = None
        if not self.ctx.connected:
            payload["offline"] = True
        if session.id_token is not None and not session.token_reported:
            payload["idToken"] = session.id_token
            session.token_reported = True
        if meter_values:
            payload["meterValue"] = meter_values
        if state == CHARGING:
            phases = self._phases(session.evse)
            if phases is not None:
                payload["numberOfPhasesUsed"] = phases
        return payload

    def _recover(self, now: float) -> None:
        """First use after construction: end (PowerLoss) or resume what was running."""
        if self._recovered:
            return
        self._recovered = True
        journal = self._journal
        journal.recover(now)
        for tx in journal.open_transactions():
            evse = tx.evse
            usable = 0 < evse < len(self._evses)
            session = self._evses[evse] if usable else EvseSession(evse)
            if usable and session.tx is not None:  # two open on one EVSE: the older ends
                self._finish(session, "AbnormalCondition", "PowerLoss", now)
            session.tx = tx
            session.id_token = tx.id_token
            session.token_reported = True
            session.plugged = usable and self.ctx.connectors[evse].read("plugged") is True
            session.reported_state = self._state(session) if usable else IDLE
            session.charging_since = now if session.reported_state == CHARGING else None
            session.seen = session.conditions(session.reported_state)
            if not (self.resume_after_restart and usable):
                self._finish(session, "AbnormalCondition", "PowerLoss", now)
            else:
                self._lock(evse, True)

    # ------------------------------------------------------------------ helpers

    def _state(self, session: EvseSession) -> str:
        io = self.ctx.connectors[session.evse]
        evse_ready = False if session.evse in self._unoffered else io.read("evse_ready")
        return session.charging_state(io.read("ev_ready"), evse_ready)

    def _points(self, name: str) -> set[str]:
        return {item.strip() for item in self.ctx.config.string(name).split(",") if item.strip()}

    def _flag(self, name: str, *, default: bool = False) -> bool:
        """A boolean variable, ``default`` if no block declares it."""
        config = self.ctx.config
        return config.boolean(name) if config.table.find(name) is not None else default

    def _usable(self, evse: int, now: float) -> bool:
        """The EVSE may take a transaction: operative and not faulted."""
        return self.availability.operative_evse(evse) and not self.status.faulted(evse, now)

    def _free_evse(
        self, now: float, id_token: JsonObject, group_id_token: JsonObject | None
    ) -> int | None:
        """An EVSE for a RequestStartTransaction without evseId: a plugged one first (none
        reserved for another idToken)."""
        free = [
            s.evse
            for s in self._evses[1:]
            if s.id_token is None
            and s.pending_token is None
            and self._usable(s.evse, now)
            and not self.reservations.refuses(s.evse, id_token, group_id_token)
        ]
        plugged = [evse for evse in free if self._evses[evse].plugged]
        choice = plugged or free
        return choice[0] if choice else None

    def _ask_metering(self, method: str, *args: object) -> Any:
        """Metering's ``method`` (absent or failing: None, logged): a failing metering call
        never costs a transaction."""
        source = getattr(self.metering, method, None)
        if source is None:
            return None
        try:
            return source(*args)
        except Exception:
            logger().exception("metering failed in %s%r", method, args)
            return None

    def _meter_values(self, method: str, evse: int, now: float) -> list[JsonObject]:
        values: list[JsonObject] | None = self._ask_metering(method, evse, now)
        return values or []

    def _phases(self, evse: int) -> int | None:
        """numberOfPhasesUsed, as metering knows it."""
        phases: int | None = self._ask_metering("phases", evse)
        return phases

    def _read_meter(self, evse: int) -> int | None:
        value = self._ask_metering("energy_wh", evse)
        return None if value is None else round(value)

    def _lock(self, evse: int, locked: bool) -> None:
        if 0 < evse < len(self._evses):  # a damaged record may name no EVSE of this station
            self.ctx.connectors[evse].drive_lock(locked)


def _start_trigger(cause: str | None, starts: set[str]) -> str:
    """The triggerReason of a Started event (E01, part 6's reusable states)."""
    if cause in (None, "CablePluggedIn", "EVDetected"):
        if starts <= {ENERGY}:
            return "ChargingStateChanged"
        if cause == "CablePluggedIn" and CONNECTED not in starts and BAY in starts:
            return "EVDetected"
        return cause or "ChargingStateChanged"
    return cause


def _info(tx: Transaction, state: str, token: JsonObject | None) -> TransactionInfo:
    return TransactionInfo(
        tx.evse,
        state,
        "" if token is None else str(token["idToken"]),
        None,
        tx.transaction_id,
        tx.local_id,
        tx.meter_start,
        tx.start,
        seq_no=tx.seq_no - 1,
        id_token_type=None if token is None else str(token["type"]),
    )
