"""What blocks need to know about each other's state, through seams with harmless defaults.

Status derivation, ChangeAvailability (Scheduled) and Reset (stop transactions first) depend on
transaction state that the transaction block owns, and Reserved on the reservation block. They
are handed these views by their version's wiring function, not the blocks themselves, so none
imports the other; a peer that is built later is set by the wiring function right after, and
until then the block holds the default below (no transaction, no reservation).

MeteringView and SmartChargingView are the other direction: what the transaction block asks of
the metering block (meterStart/meterStop and the transaction's sampled data) and of smart
charging (TxProfiles follow the transaction).

TransactionInfo and ReservationInfo are the snapshots the station sees, whatever the version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ocpp_core.rpc import JsonObject

__all__ = [
    "AUTHORIZING",
    "NO_RESERVATIONS",
    "NO_SESSIONS",
    "PREPARING",
    "RUNNING",
    "STOPPING",
    "MeteringView",
    "ReservationInfo",
    "ReservationView",
    "SessionView",
    "SmartChargingView",
    "TransactionInfo",
]

# TransactionInfo.state: idTag presented and being authorized; authorized and waiting for the
# cable (or the connector); StartTransaction journaled; StopTransaction journaled, not delivered.
AUTHORIZING, PREPARING, RUNNING, STOPPING = "authorizing", "preparing", "running", "stopping"


class TransactionInfo(NamedTuple):
    """A snapshot of a connector's session or transaction, for the station, GUI and metering.

    ``transaction_id`` stays None until the CSMS answered the StartTransaction (-1 if that was
    discarded, errata 3.18); in 2.0.1 it is the station's own transactionId (a string) from
    the start, and ``seq_no`` the seqNo of its latest TransactionEvent; ``local_id`` is the
    transaction's number in the journal, never reused over the Store's life (None before it
    started); ``start`` is the StartTransaction timestamp; ``id_token_type`` the 2.0.1 idToken
    type. ``charging_profile`` is the one a RemoteStartTransaction carried, for smart
    charging.
    """

    connector: int
    state: str
    id_tag: str
    parent_id_tag: str | None = None
    transaction_id: int | str | None = None
    local_id: int | None = None
    meter_start: int | None = None
    start: str | None = None
    reservation_id: int | None = None
    charging_profile: JsonObject | None = None
    seq_no: int | None = None
    id_token_type: str | None = None


class ReservationInfo(NamedTuple):
    """One reservation as the CSMS made it (``expiry`` in wall epoch seconds).

    ``connector`` 0: any (2.0.1: no evseId). In 2.0.1 ``id_tag`` and ``parent_id_tag`` are the
    idToken and groupIdToken values, their types beside them, and ``connector_type`` the
    ConnectorEnumType the reservation asks for (None: any).
    """

    reservation_id: int
    connector: int
    id_tag: str
    parent_id_tag: str | None
    expiry_date: str
    expiry: float
    id_token_type: str | None = None
    parent_id_token_type: str | None = None
    connector_type: str | None = None


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

    def current(self, connector: int) -> TransactionInfo | None:
        """The connector's session or transaction (running first, else one still stopping)."""
        return None

    def enqueue_transaction_meter_values(
        self,
        connector: int,
        meter_values: list[JsonObject],
        now: float,
        register_wh: int | None = None,
    ) -> None:
        """Journal a MeterValues of the running transaction (transactionId added when sent);
        ``register_wh``: the energy register it reports (Wh), kept as a number."""


class ReservationView:
    """Reservation state per connector."""

    __slots__ = ()

    def reserved(self, connector: int) -> bool:
        """The connector is reserved (status Reserved)."""
        return False

    def blocks(self, connector: int, id_tag: str, parent_id_tag: str | None) -> bool:
        """Reservations forbid ``id_tag`` (with that parentIdTag) a session on ``connector``."""
        return False

    def needs_parent(self, connector: int) -> bool:
        """A reservation concerning ``connector`` names a parentIdTag (learn the idTag's)."""
        return False

    def claim(
        self, connector: int, id_tag: str, parent_id_tag: str | None, now: float
    ) -> int | None:
        """A transaction of ``id_tag`` starts on ``connector``: end and return its reservation."""
        return None


class MeteringView:
    """What the transaction block needs from metering (default: no meter, no sampled data)."""

    __slots__ = ()

    def energy_wh(self, connector: int) -> int | None:
        """The energy register in Wh for meterStart/meterStop (None: unknown)."""
        return None

    def transaction_started(self, connector: int, now: float) -> None:
        """A transaction began on the connector: start its sampled and aligned data."""

    def transaction_stopped(self, connector: int, now: float) -> list[JsonObject]:
        """The transaction ended: the ``transactionData`` MeterValue list for StopTransaction."""
        return []


class SmartChargingView:
    """What other blocks and the station ask of smart charging (default: none installed).

    Limits are ``(value, unit)`` with unit "A" or "W"; ``composite_schedule`` returns an
    ``ocpp_core.smart_charging.Composite`` (None here). The transaction block reports
    ``transaction_started`` (again when the CSMS assigned the id; the start time stays) and
    ``transaction_stopped`` (also when a session with a RemoteStartTransaction profile ends
    without a transaction).
    """

    __slots__ = ()

    def install_remote_start_profile(self, connector: int, profile: JsonObject, now: float) -> bool:
        """Install a RemoteStartTransaction's TxProfile for the coming transaction; False: refused.

        Without smart charging the profile "SHOULD be ignored" (§5.11), hence True.
        """
        return True

    def transaction_started(self, connector: int, transaction_id: int | None, now: float) -> None:
        """A transaction started (Relative schedules count from here; TxProfiles apply)."""

    def transaction_stopped(self, connector: int, now: float) -> None:
        """The transaction ended: its TxProfiles are deleted."""

    def limit(self, connector: int, now: float) -> tuple[float, str] | None:
        """The connector's effective limit now (None: unlimited)."""
        return None

    def offers_energy(self, connector: int, now: float) -> bool:
        """Whether the limit now lets the connector charge at all (False: SuspendedEVSE)."""
        return True

    def composite_schedule(
        self, connector: int, duration: int, unit: str | None, now: float
    ) -> object | None:
        """The composite schedule from now for ``duration`` seconds in ``unit`` ("A"/"W"/None)."""
        return None

    def set_supply(self, voltage_v: float, phases: int, max_current_a: float) -> None:
        """The station's nominal voltage, phases and maximum current per connector."""


NO_SESSIONS = SessionView()
NO_RESERVATIONS = ReservationView()
