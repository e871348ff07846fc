"""RequestStartTransaction, RequestStopTransaction and UnlockConnector (OCPP 2.0.1 F01-F03, F05).

RequestStartTransaction: while the BootNotification is not Accepted (Pending) -> Rejected: the
station may not start a transaction for the CSMS before it is registered (TC_B_02 step 12); an
evseId that is not one of the station's EVSEs (0 included: the
station as a whole cannot charge) -> Rejected; a chargingProfile that is not a TxProfile, or that
names a transactionId (a transaction that does not exist yet), -> Rejected. Otherwise the
transaction block decides (it picks an EVSE when none is given, authorizes the idToken first when
AuthCtrlr.AuthorizeRemoteStart is true, starts per TxStartPoint, puts remoteStartId and
triggerReason RemoteStart in the next TransactionEvent): Accepted or Rejected, with the
transactionId of a transaction already running on that EVSE (cable plugged in first). The
chargingProfile is kept with the session (TransactionInfo.charging_profile) for smart charging.

RequestStopTransaction: Accepted if a transaction with that transactionId is ongoing (it ends with
triggerReason RemoteStop, stoppedReason Remote), else Rejected (F03.FR.08).

UnlockConnector: UnknownConnector for an EVSE or connector the station does not have (each EVSE
has one connector, 1; F05.FR.03); OngoingAuthorizedTransaction while an authorized transaction
runs on that EVSE, which is neither stopped nor unlocked (F05.FR.02); otherwise the lock output
is driven open: Unlocked (also with no cable or no lock fitted: nothing holds the connector), or
UnlockFailed when the output returns False or raises (F05.FR.04).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ocpp_core.block import Block, on
from ocpp_core.outbox import SEND_ACCEPTED

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.v201.payloads import (
        RequestStartTransactionRequest,
        RequestStartTransactionResponse,
        RequestStopTransactionRequest,
        RequestStopTransactionResponse,
        UnlockConnectorRequest,
        UnlockConnectorResponse,
    )

__all__ = ["RemoteControlBlock", "RemoteSessions"]


class RemoteSessions(Protocol):
    """What remote control asks of the transaction block (D's TransactionBlock)."""

    def remote_start(
        self,
        evse: int | None,
        id_token: JsonObject,
        remote_start_id: int,
        group_id_token: JsonObject | None,
        charging_profile: JsonObject | None,
        now: float,
    ) -> tuple[str, str | None]:
        """Begin a session for ``id_token``: ("Accepted" or "Rejected", the transactionId of a
        transaction already running on that EVSE or None)."""
        ...

    def remote_stop(self, transaction_id: str, now: float) -> str:
        """End the ongoing transaction ``transaction_id``: "Accepted", or "Rejected" if none."""
        ...

    def authorized_transaction(self, evse: int) -> bool:
        """An ongoing transaction authorized by an idToken runs on the EVSE."""
        ...


class RemoteControlBlock(Block):
    """The CSMS's remote controls of transactions and of the connector lock."""

    __slots__ = ("transactions",)

    def __init__(self, ctx: BlockContext, *, transactions: RemoteSessions) -> None:
        super().__init__(ctx)
        self.transactions = transactions

    def _evse_known(self, evse: int) -> bool:
        return 0 < evse < len(self.ctx.connectors)

    @on("RequestStartTransaction")
    def request_start_transaction(
        self, payload: RequestStartTransactionRequest, now: float
    ) -> RequestStartTransactionResponse:
        if self.ctx.outbox.gate != SEND_ACCEPTED:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "NotRegistered"}}
        evse = payload.get("evseId")
        if evse is not None and not self._evse_known(evse):
            return {"status": "Rejected", "statusInfo": {"reasonCode": "UnknownEvse"}}
        profile = payload.get("chargingProfile")
        if profile is not None and (
            profile["chargingProfilePurpose"] != "TxProfile" or "transactionId" in profile
        ):
            return {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidProfile"}}
        status, transaction_id = self.transactions.remote_start(
            evse,
            dict(payload["idToken"]),
            payload["remoteStartId"],
            None if "groupIdToken" not in payload else dict(payload["groupIdToken"]),
            None if profile is None else dict(profile),
            now,
        )
        response: RequestStartTransactionResponse = {
            "status": "Accepted" if status == "Accepted" else "Rejected"
        }
        if transaction_id is not None:
            response["transactionId"] = transaction_id
        return response

    @on("RequestStopTransaction")
    def request_stop_transaction(
        self, payload: RequestStopTransactionRequest, now: float
    ) -> RequestStopTransactionResponse:
        status = self.transactions.remote_stop(payload["transactionId"], now)
        return {"status": "Accepted" if status == "Accepted" else "Rejected"}

    @on("UnlockConnector")
    def unlock_connector(
        self, payload: UnlockConnectorRequest, now: float
    ) -> UnlockConnectorResponse:
        evse = payload["evseId"]
        if not self._evse_known(evse) or payload["connectorId"] != 1:
            return {"status": "UnknownConnector"}
        if self.transactions.authorized_transaction(evse):
            return {"status": "OngoingAuthorizedTransaction"}
        unlocked = self.ctx.connectors[evse].drive_lock(False)
        return {"status": "Unlocked" if unlocked else "UnlockFailed"}
