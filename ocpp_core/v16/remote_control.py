"""RemoteStartTransaction, RemoteStopTransaction and UnlockConnector (OCPP 1.6 §5.11, §5.12,
§5.18, errata 3.32/3.33).

RemoteStartTransaction: connectorId 0 (the whole station, which cannot charge) or an unknown one
-> Rejected; a given connector that has a session, is inoperative, faulted or reserved for
another idTag -> Rejected; without connectorId the station picks a free connector, one with a
plugged cable first (the driver plugged in, then used an app). Accepted means the session began:
with AuthorizeRemoteTxRequests the idTag is authorized like a card (§5.11), else the transaction
starts once the cable is plugged (ConnectionTimeOut applies). The optional chargingProfile is
kept with the session (TransactionInfo.charging_profile) for smart charging.

RemoteStopTransaction: Accepted if a running transaction has that transactionId (it stops with
reason Remote), else Rejected. A transaction whose StartTransaction is not answered yet has no
transactionId the CSMS could name.

UnlockConnector: NotSupported for an unknown connector or one without a lock output; otherwise a
session on the connector ends first (reason UnlockCommand, §5.18), then the lock output is driven
open: Unlocked, or UnlockFailed if the output returns False or raises.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, on

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.v16.payloads import (
        RemoteStartTransactionRequest,
        RemoteStartTransactionResponse,
        RemoteStopTransactionRequest,
        RemoteStopTransactionResponse,
        UnlockConnectorRequest,
        UnlockConnectorResponse,
    )
    from ocpp_core.v16.transactions import TransactionBlock

__all__ = ["RemoteControlBlock"]


class RemoteControlBlock(Block):
    """The CSMS's remote controls of sessions and the cable lock."""

    __slots__ = ("transactions",)

    def __init__(self, ctx: BlockContext, *, transactions: TransactionBlock) -> None:
        super().__init__(ctx)
        self.transactions = transactions

    @on("RemoteStartTransaction")
    def remote_start_transaction(
        self, payload: RemoteStartTransactionRequest, now: float
    ) -> RemoteStartTransactionResponse:
        transactions = self.transactions
        id_tag = payload["idTag"]
        connector = payload.get("connectorId")
        if connector is None:
            connector = transactions.free_connector(id_tag, now)
            if connector is None:
                return {"status": "Rejected"}
        started = transactions.begin(
            connector,
            id_tag,
            now,
            authorize=self.ctx.config.boolean("AuthorizeRemoteTxRequests"),
            charging_profile=payload.get("chargingProfile"),
        )
        return {"status": "Accepted" if started else "Rejected"}

    @on("RemoteStopTransaction")
    def remote_stop_transaction(
        self, payload: RemoteStopTransactionRequest, now: float
    ) -> RemoteStopTransactionResponse:
        stopped = self.transactions.stop_transaction(payload["transactionId"], "Remote", now)
        return {"status": "Accepted" if stopped else "Rejected"}

    @on("UnlockConnector")
    def unlock_connector(
        self, payload: UnlockConnectorRequest, now: float
    ) -> UnlockConnectorResponse:
        return {"status": self.transactions.unlock(payload["connectorId"], now)}
