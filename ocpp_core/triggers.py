"""TriggerMessage routing, shared by every protocol version.

Which messages can be triggered is collected from the blocks' ``@trigger`` methods, so a block
makes its message triggerable by declaring one. A requested message no block declares is
NotImplemented ("unknown or not implemented", 1.6 §5.17, 2.0.1 F06.FR.08); otherwise the sender
decides Accepted or Rejected and queues the message itself, so the reply leaves before it. The
version's block adds the ``@on("TriggerMessage")`` handler: it reads the target (1.6
connectorId, 2.0.1 evse) and calls ``route``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ocpp_core.block import Sender
    from ocpp_core.context import BlockContext

__all__ = ["TriggerRouter"]

STATUSES = frozenset({"Accepted", "Rejected", "NotImplemented"})


class TriggerRouter(Block):
    """Routes TriggerMessage to the block that sends the requested message."""

    __slots__ = ("blocks", "senders")

    def __init__(self, ctx: BlockContext, *, senders: Mapping[str, tuple[int, Sender]]) -> None:
        super().__init__(ctx)
        self.senders = senders  # message -> (position in ``blocks``, @trigger method)
        self.blocks: tuple[Block, ...] = ()  # set by the wiring: every block, in routing order

    def route(self, message: str, target: int | None, now: float) -> str:
        """Have ``message`` sent for ``target`` (a connector / EVSE, None: all); the status."""
        entry = self.senders.get(message)
        if entry is None:
            return "NotImplemented"
        index, sender = entry
        answer = sender(self.blocks[index], target, now)
        assert answer in STATUSES, answer
        return answer
