"""DataTransfer in both directions (OCPP 2.0.1 P01, P02): the shared DataTransfers
(ocpp_core/data_transfers.py) answering 2.0.1's DataTransferRequest. ``data`` is any JSON value
in 2.0.1: a handler gets a non-string one as its JSON text, and answers with text, so the
station's DataTransfer API is the same for both versions."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ocpp_core.block import on
from ocpp_core.data_transfers import DataTransfers

if TYPE_CHECKING:
    from ocpp_core.v201.payloads import DataTransferRequest, DataTransferResponse

__all__ = ["DataTransferBlock"]


class DataTransferBlock(DataTransfers):
    """Vendor handlers for incoming DataTransfer and the sender of outgoing ones."""

    __slots__ = ()

    @on("DataTransfer")
    def data_transfer(self, payload: DataTransferRequest, now: float) -> DataTransferResponse:
        return cast("DataTransferResponse", self.answer(cast("dict[str, object]", payload)))
