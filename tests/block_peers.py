"""Reaching one ChargePoint's blocks from a test: find one, or swap a peer for a stand-in.

The wiring function hands each block its peers as attributes named after their role
(``sessions``, ``reservations``, ``metering``, ``smart_charging``, ...). ``rewire`` replaces a
role in every block that has it, as if the wiring had passed the stand-in, so a test can drive
one block against a fake transaction or reservation state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from ocpp_core import ChargePoint
    from ocpp_core.block import Block

B = TypeVar("B", bound="Block")


def block_of(cp: ChargePoint, block_type: type[B]) -> B:
    """The ChargePoint's instance of ``block_type``."""
    for block in cp._engine.blocks:
        if type(block) is block_type:
            return block
    raise LookupError(f"{block_type.__name__} is not wired")


def rewire(cp: ChargePoint, **peers: object) -> None:
    """Give every block that holds a peer by one of these role names the stand-in instead."""
    for block in cp._engine.blocks:
        slots = {slot for klass in type(block).__mro__ for slot in getattr(klass, "__slots__", ())}
        for role, peer in peers.items():
            if role in slots:
                setattr(block, role, peer)
