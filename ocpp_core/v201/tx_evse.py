"""An EVSE's session as the 2.0.1 transaction block follows it, and the names it reports.

The block keeps one ``EvseSession`` per EVSE for good: the authorization in force (an idToken
accepted for this EVSE), the one being decided, the transaction if one runs, the conditions of
TxStartPoint/TxStopPoint seen true during it, and what the next event must report.

ChargingStateEnumType as the station derives it: Idle (no cable), EVConnected (cable, no
authorization), SuspendedEVSE (authorized, the EVSE offers no energy, or withdrew its offer after
an invalid idToken), SuspendedEV (the EV takes none), Charging.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.v201.tx_ctrlr import AUTHORIZED, BAY, CONNECTED, ENERGY, POWER_PATH

if TYPE_CHECKING:
    from ocpp_core.rpc import JsonObject
    from ocpp_core.v201.tx_journal import Transaction

__all__ = [
    "CHARGING",
    "EV_CONNECTED",
    "IDLE",
    "STOP_TRIGGERS",
    "SUSPENDED_EV",
    "SUSPENDED_EVSE",
    "EvseSession",
    "default_reason",
]

IDLE, EV_CONNECTED, SUSPENDED_EVSE, SUSPENDED_EV, CHARGING = (
    "Idle",
    "EVConnected",
    "SuspendedEVSE",
    "SuspendedEV",
    "Charging",
)

# The triggerReason of an end the station is asked for, by its stoppedReason (ReasonEnumType).
STOP_TRIGGERS = {
    "Local": "StopAuthorized",
    "MasterPass": "StopAuthorized",
    "Remote": "RemoteStop",
    "DeAuthorized": "Deauthorized",
    "EVDisconnected": "EVCommunicationLost",
    "EnergyLimitReached": "EnergyLimitReached",
    "TimeLimitReached": "TimeLimitReached",
    "ImmediateReset": "ResetCommand",
    "Reboot": "ResetCommand",
    "Timeout": "EVConnectTimeout",
    "StoppedByEV": "ChargingStateChanged",
}  # any other (PowerLoss, EmergencyStop, GroundFault, ...): AbnormalCondition


class EvseSession:
    """One EVSE's authorization, transaction and what its next event reports."""

    __slots__ = (
        "auth",
        "charging_profile",
        "charging_since",
        "deadline",
        "evse",
        "group_id_token",
        "id_token",
        "invalid",
        "occupied",
        "pending_token",
        "plugged",
        "remote_start_id",
        "reported_state",
        "reservation_id",
        "seen",
        "stop_reason",
        "stop_token",
        "suspended",
        "token_reported",
        "tx",
    )

    def __init__(self, evse: int) -> None:
        self.evse = evse
        self.plugged = False  # the cable input at the last look
        self.occupied = False  # the bay (or the cable) at the last look
        self.clear()

    def clear(self) -> None:
        """Back to no session: no authorization, no transaction."""
        self.id_token: JsonObject | None = None  # the authorization in force
        self.group_id_token: JsonObject | None = None
        self.pending_token: JsonObject | None = None  # being authorized
        self.auth: object | None = None  # the authorization block's handle for it
        self.deadline: float | None = None  # EVConnectionTimeOut
        self.remote_start_id: int | None = None  # for the next event
        self.reservation_id: int | None = None  # the reservation used, for the next event
        self.charging_profile: JsonObject | None = None  # a RequestStartTransaction's
        self.tx: Transaction | None = None
        self.seen: set[str] = set()  # start/stop conditions true at some time in the transaction
        self.reported_state = IDLE  # chargingState last sent
        self.token_reported = False  # the idToken in force was sent
        self.stop_reason: str | None = None  # why the authorization ended (for the Ended event)
        self.stop_token: JsonObject | None = None  # the idToken that ended it
        self.invalid = False  # the CSMS answered the idToken with a non-Accepted idTokenInfo
        self.suspended = False  # the energy offer withdrawn (invalid idToken)
        self.charging_since: float | None = None  # reported Charging since (monotonic)

    def charging_state(self, ev_ready: bool | None, evse_ready: bool | None) -> str:
        """ChargingStateEnumType now (see module)."""
        if not self.plugged:
            return IDLE
        if self.id_token is None:
            return EV_CONNECTED
        if evse_ready is False or self.suspended:
            return SUSPENDED_EVSE
        if ev_ready is False:
            return SUSPENDED_EV
        return CHARGING

    def conditions(self, state: str) -> set[str]:
        """The TxStartPoint/TxStopPoint conditions true now."""
        found = set()
        if self.occupied or self.plugged:
            found.add(BAY)
        if self.plugged:
            found.add(CONNECTED)
        if self.id_token is not None:
            found.add(AUTHORIZED)
            if self.plugged and not self.suspended:
                found.add(POWER_PATH)
        if state == CHARGING:
            found.add(ENERGY)
        return found


def default_reason(lost: set[str], session: EvseSession, state: str) -> str:
    """The stoppedReason of an end by the conditions ``lost``, when no command gave one."""
    if session.stop_reason is not None:
        return session.stop_reason
    if CONNECTED in lost or BAY in lost or not session.plugged:
        return "EVDisconnected"
    if ENERGY in lost and state == SUSPENDED_EV:
        return "StoppedByEV"
    return "Local"
