"""TriggerMessage (OCPP 1.6 §5.17, errata 3.35/3.40/3.46): the CSMS asks for a message now.

Which messages can be triggered is collected from the blocks' ``@trigger`` methods, so a block
makes its message triggerable by declaring one. The matrix:

* a requestedMessage outside the MessageTrigger enum (e.g. StartTransaction, which §5.17 leaves
  out on purpose) breaks the request schema: CALLERROR PropertyConstraintViolation (the code
  errata 3.24 and 3.38 give an invalid enumeration value), never MicroOcpp's Accepted plus a
  broken CALL;
* one in the enum that no block declares: NotImplemented (§5.17: "unknown or not implemented");
* otherwise the sender decides Accepted or Rejected. connectorId matters only to
  StatusNotification and MeterValues: absent means "for all allowed connectorId values" (0, the
  charge point, and every connector), an id outside 0..N is Rejected. For BootNotification,
  Heartbeat, FirmwareStatusNotification and DiagnosticsStatusNotification it is ignored, whatever
  its value, and the message is sent ("if the specified connectorId is not relevant to the
  message, it should be ignored"). A connectorId that is not an integer is a
  TypeConstraintViolation (schema). A BootNotification is Accepted also once registered: errata
  3.35 only RECOMMENDS Rejected then, and 3.40 forbids the CSMS to ask.

The reply leaves before the triggered message, which may go out even while the BootNotification
is Pending (§4.2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, on

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ocpp_core.block import Sender
    from ocpp_core.context import BlockContext
    from ocpp_core.v16.payloads import (
        TriggerMessageRequest,
        TriggerMessageResponse,
        TriggerMessageResponseStatus,
    )

__all__ = ["TriggerBlock"]

# What a sender answers, each mapped to itself (a lookup the type checker follows).
_STATUSES: dict[str, TriggerMessageResponseStatus] = {
    status: status for status in ("Accepted", "Rejected", "NotImplemented")
}


class TriggerBlock(Block):
    """Routes TriggerMessage to the block that sends the requested message."""

    __slots__ = ("blocks", "senders")

    def __init__(self, ctx: BlockContext, *, senders: Mapping[str, tuple[int, Sender]]) -> None:
        super().__init__(ctx)
        self.senders = senders  # message -> (position in ``blocks``, @trigger method)
        self.blocks: tuple[Block, ...] = ()  # set by the wiring: every block, in routing order

    @on("TriggerMessage")
    def trigger_message(self, payload: TriggerMessageRequest, now: float) -> TriggerMessageResponse:
        entry = self.senders.get(payload["requestedMessage"])
        if entry is None:
            return {"status": "NotImplemented"}
        index, sender = entry
        answer = sender(self.blocks[index], payload.get("connectorId"), now)
        return {"status": _STATUSES[answer]}
