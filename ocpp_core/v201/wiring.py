"""OCPP 2.0.1's wiring: one engine's blocks, who talks to whom, and in which order they work.

``wire(ctx)`` is the only place that knows the 2.0.1 blocks together (see ocpp_core/wiring.py and
ARCHITECTURE.md, "Adding a block"). BLOCK_TYPES is the routing order; EXTRA_VARIABLES are the
device-model variables declared by modules that are not blocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.v201 import comm_ctrlr, components
from ocpp_core.v201.device_model import DeviceModelBlock
from ocpp_core.v201.operations import Operations201
from ocpp_core.v201.reports import ReportsBlock
from ocpp_core.v201.transactions import TransactionBlock
from ocpp_core.wiring import Wiring

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext

__all__ = ["BLOCK_TYPES", "EXTRA_VARIABLES", "wire"]

BLOCK_TYPES: tuple[type, ...] = (DeviceModelBlock, ReportsBlock, TransactionBlock)

EXTRA_VARIABLES = (*comm_ctrlr.VARIABLES, *components.VARIABLES)


def wire(ctx: BlockContext) -> Wiring:
    """Build the 2.0.1 blocks of one engine on ``ctx`` and say how the engine drives them."""
    device_model = DeviceModelBlock(ctx)
    reports = ReportsBlock(ctx, device_model=device_model)
    transactions = TransactionBlock(ctx)
    return Wiring(
        blocks=(device_model, reports, transactions),
        ticks=(transactions.tick,),
        timers=(transactions.timer,),
        sources=(ctx.triggered, ctx.queue, reports, transactions),
        disconnects=(),
        operations=Operations201(device_model=device_model, sessions=transactions),
    )
