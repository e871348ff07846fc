"""What a protocol version's wiring function hands the engine (``wire(ctx) -> Wiring``).

Each version has exactly one wiring function (``ocpp_core/<version>/wiring.py``). It builds the
version's blocks on the engine's BlockContext, passing every block the peers it uses as
constructor arguments (a peer built later, in a cycle, is set by the wiring function right
after), and states the order of the work the engine drives: which ticks run on a poll and in
what order, whose timers make up the wake-up, which request sources the outbox asks, who hears
of a lost connection. The engine reads nothing else of a version, so adding one means writing
its blocks and its wiring function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.block import Block
    from ocpp_core.operations import Operations
    from ocpp_core.outbox import RequestSource
    from ocpp_core.security_events import SecurityEventsBlock

__all__ = ["Wiring"]


class Wiring(NamedTuple):
    """One engine's blocks and the order of their work."""

    # In the order of the Assembly's block types: routes and triggers are positions in it.
    blocks: tuple[Block, ...]
    # Run on every poll, in this order (a block that derives from another's state ticks after it).
    ticks: tuple[Callable[[float], None], ...]
    # When each block's tick next has work of its own (None: only after input).
    timers: tuple[Callable[[float], float | None], ...]
    # The outbox's request sources; sources of equal priority are asked in this order.
    sources: tuple[RequestSource, ...]
    # Told when the transport closes (after the outbox settled the outstanding CALL).
    disconnects: tuple[Callable[[float], None], ...]
    # What ChargePoint offers the station, whatever the version.
    operations: Operations
    # The security log: the engine reports refused CALLs to it, ChargePoint reads and raises.
    security: SecurityEventsBlock | None = None
