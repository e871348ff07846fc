"""What the 2.0.1 transaction block asks of its peers, as seams with harmless defaults.

The authorization block (Authorizer) decides on an idToken; the metering block (Meter, whose
defaults are MeteringView's) gives the energy register and the meter values of the events;
availability and status (Availability, Faults) say whether an EVSE may take a transaction.
Until the wiring passes the real blocks, the defaults stand in: every idToken accepted locally
(no Authorize), no meter, every EVSE usable. The peers are typed by these protocols, so the
transaction block imports none of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ocpp_core.rpc import JsonObject

__all__ = [
    "ALWAYS_USABLE",
    "NO_ANSWERS",
    "NO_METER",
    "NO_RESERVATIONS",
    "TRUST_ALL",
    "AuthDecision",
    "Authorizer",
    "Availability",
    "Decision",
    "Faults",
    "Meter",
    "MeteringView",
    "Reservations",
    "TransactionAnswers",
    "TrustAll",
]


class Decision(Protocol):
    """An authorization's outcome as the authorization block gives it."""

    @property
    def status(self) -> str: ...  # AuthorizationStatusEnumType
    @property
    def accepted(self) -> bool: ...  # may start or charge on this EVSE
    @property
    def info(self) -> JsonObject: ...  # IdTokenInfoType
    @property
    def group_id_token(self) -> JsonObject | None: ...
    @property
    def master_pass(self) -> bool: ...


class Authorizer(Protocol):
    """Authorization as the transaction block uses it (ocpp_core.v201.authorization)."""

    def authorize(
        self, evse: int, id_token: JsonObject, now: float, done: Callable[[Any, float], None]
    ) -> object | None:
        """Decide on ``id_token``; ``done(decision, at)`` gets the outcome, maybe at once.
        Returns a handle for ``cancel`` while undecided (None: decided)."""
        ...

    def cancel(self, pending: Any) -> None:
        """Forget an undecided authorization."""
        ...

    def learn(self, id_token: JsonObject, id_token_info: JsonObject, now: float) -> None:
        """An idTokenInfo the CSMS sent in a TransactionEventResponse (C10)."""
        ...

    def same_group(self, group_id_token: JsonObject | None, decision: Any) -> bool:
        """Whether an accepted ``decision`` is of the transaction's group (C09)."""
        ...


class AuthDecision(NamedTuple):
    """TrustAll's decision: accepted."""

    status: str = "Accepted"
    accepted: bool = True
    info: JsonObject = {"status": "Accepted"}  # noqa: RUF012 (a NamedTuple default, never changed)
    group_id_token: JsonObject | None = None
    master_pass: bool = False


class TrustAll:
    """The default before the authorization block is wired: every idToken accepted locally."""

    __slots__ = ()

    def authorize(
        self, evse: int, id_token: JsonObject, now: float, done: Callable[[Any, float], None]
    ) -> object | None:
        done(AuthDecision(), now)
        return None

    def cancel(self, pending: Any) -> None:
        return

    def learn(self, id_token: JsonObject, id_token_info: JsonObject, now: float) -> None:
        return

    def same_group(self, group_id_token: JsonObject | None, decision: Any) -> bool:
        return False


class Meter(Protocol):
    """What the transaction block needs from metering (ocpp_core.v201.metering)."""

    def energy_wh(self, evse: int) -> int | None: ...
    def transaction_started(self, evse: int, now: float) -> list[JsonObject]: ...
    def transaction_stopped(self, evse: int, now: float) -> list[JsonObject]: ...
    def phases(self, evse: int) -> int | None: ...


class MeteringView:
    """What the transaction block needs from metering (default: no meter, no meter values)."""

    __slots__ = ()

    def energy_wh(self, evse: int) -> int | None:
        """The EVSE's energy register in Wh (None: unknown)."""
        return None

    def transaction_started(self, evse: int, now: float) -> list[JsonObject]:
        """A transaction started: its TxStarted meter values (context Transaction.Begin)."""
        return []

    def transaction_stopped(self, evse: int, now: float) -> list[JsonObject]:
        """The transaction ended: the meter values of its Ended event (TxEnded data)."""
        return []

    def phases(self, evse: int) -> int | None:
        """The phases the EVSE charges on now (numberOfPhasesUsed; None: unknown)."""
        return None


TRUST_ALL = TrustAll()
NO_METER = MeteringView()


class Availability(Protocol):
    """What the transaction block asks of availability (ocpp_core.v201.availability)."""

    def operative_evse(self, evse: int) -> bool: ...


class Faults(Protocol):
    """What the transaction block asks of the status block (ocpp_core.v201.status)."""

    def faulted(self, evse: int, now: float) -> bool: ...


class AlwaysUsable:
    """The default before availability and status are wired: every EVSE operative, none
    faulted."""

    __slots__ = ()

    def operative_evse(self, evse: int) -> bool:
        return True

    def faulted(self, evse: int, now: float) -> bool:
        return False


ALWAYS_USABLE = AlwaysUsable()


class Reservations:
    """What the transaction block asks of reservations (ocpp_core.v201.reservation); the
    default before they are wired: nothing reserved."""

    __slots__ = ()

    def refuses(self, evse: int, id_token: JsonObject, group_id_token: JsonObject | None) -> bool:
        """Reservations forbid ``id_token`` (of that groupIdToken) a transaction on ``evse``."""
        return False

    def consume(
        self, evse: int, id_token: JsonObject, group_id_token: JsonObject | None, now: float
    ) -> int | None:
        """The holder of a reservation presented on ``evse``: it is used; its id."""
        return None


NO_RESERVATIONS = Reservations()


class TransactionAnswers:
    """Who hears the CSMS's answers to TransactionEvents (ocpp_core.v201.tariff: totalCost and
    personal messages); the default before it is wired: nobody."""

    __slots__ = ()

    def transaction_answered(
        self, evse: int, transaction_id: str, event_type: str, response: JsonObject, now: float
    ) -> None:
        """The CSMS answered an ``event_type`` event of ``transaction_id`` on ``evse``."""


NO_ANSWERS = TransactionAnswers()
