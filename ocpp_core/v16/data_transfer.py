"""DataTransfer in both directions (OCPP 1.6 §4.3, §5.6): the shared DataTransfers
(ocpp_core/data_transfers.py: vendor handlers matched ignoring case, UnknownVendorId /
UnknownMessageId, outgoing requests with a result callback) answering 1.6's DataTransfer.req."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ocpp_core.block import on
from ocpp_core.data_transfers import DataTransferResult, DataTransfers

if TYPE_CHECKING:
    from ocpp_core.v16.payloads import DataTransferRequest, DataTransferResponse

__all__ = ["DataTransferBlock", "DataTransferResult"]


class DataTransferBlock(DataTransfers):
    """Vendor handlers for incoming DataTransfer and the sender of outgoing ones."""

    __slots__ = ()

    @on("DataTransfer")
    def data_transfer(self, payload: DataTransferRequest, now: float) -> DataTransferResponse:
        return cast("DataTransferResponse", self.answer(cast("dict[str, object]", payload)))
