"""TriggerMessage (OCPP 1.6 §5.17): the CSMS asks for a CP-initiated message now.

Which messages can be triggered is collected from the blocks' ``@trigger`` methods, so a later
block (metering, firmware, diagnostics) makes its message triggerable by declaring one; a
requested message nobody declares is answered NotImplemented (§5.17: "unknown or not
implemented"). The sender decides Accepted or Rejected (e.g. StatusNotification for an unknown
connector is Rejected; a connectorId that does not matter to the message is ignored). The reply
leaves before the triggered message, which may go out even while the BootNotification is
Pending (§4.2).
"""

from __future__ import annotations

from ocpp_core.block import Block, on

__all__ = ["TriggerBlock"]


class TriggerBlock(Block):
    """Routes TriggerMessage to the block that sends the requested message."""

    __slots__ = ()

    @on("TriggerMessage")
    def trigger_message(self, payload: dict, now: float) -> dict:
        engine = self.engine
        entry = engine.assembly.triggers.get(payload["requestedMessage"])
        if entry is None:
            return {"status": "NotImplemented"}
        index, sender = entry
        return {"status": sender(engine.blocks[index], payload.get("connectorId"), now)}
