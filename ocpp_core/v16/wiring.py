"""OCPP 1.6's wiring: one engine's blocks, who talks to whom, and in which order they work.

``wire(ctx)`` is the only place that knows the 1.6 blocks together. It builds each block with
the peers it uses as constructor arguments; the few that read the state of a block built after
them (the transaction block, the reservation block) get it set right after that block exists.
It then states the engine's order of work: the ticks of a poll, the timers of a wake-up, the
request sources of the outbox, who hears of a lost connection.

BLOCK_TYPES is the routing order: the Assembly collects handlers, triggers, keys and the
messages sent from these classes in this order, and ``wire`` returns one block of each in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.log_upload import PairedUploads
from ocpp_core.security_events import V16, SecurityEventsBlock
from ocpp_core.v16.authorization import AuthorizationBlock
from ocpp_core.v16.availability import AvailabilityBlock
from ocpp_core.v16.boot import BootBlock
from ocpp_core.v16.certificate_renewal import CertificateRenewalBlock
from ocpp_core.v16.certificates import CertificatesBlock
from ocpp_core.v16.configuration import ConfigurationBlock
from ocpp_core.v16.data_transfer import DataTransferBlock
from ocpp_core.v16.diagnostics import DiagnosticsBlock
from ocpp_core.v16.firmware import FirmwareBlock
from ocpp_core.v16.heartbeat import HeartbeatBlock
from ocpp_core.v16.local_list import LocalListBlock
from ocpp_core.v16.logs import LogsBlock
from ocpp_core.v16.metering import MeteringBlock
from ocpp_core.v16.operations import Operations16
from ocpp_core.v16.remote_control import RemoteControlBlock
from ocpp_core.v16.reservation import ReservationBlock
from ocpp_core.v16.reset import ResetBlock
from ocpp_core.v16.smart_charging import SmartChargingBlock
from ocpp_core.v16.status import StatusBlock
from ocpp_core.v16.transactions import TransactionBlock
from ocpp_core.v16.trigger import TriggerBlock
from ocpp_core.wiring import Wiring

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext

__all__ = ["BLOCK_TYPES", "wire"]

BLOCK_TYPES = (
    ConfigurationBlock,
    BootBlock,
    HeartbeatBlock,
    AvailabilityBlock,
    LocalListBlock,
    AuthorizationBlock,
    TransactionBlock,
    RemoteControlBlock,
    ReservationBlock,
    StatusBlock,
    ResetBlock,
    DataTransferBlock,
    FirmwareBlock,
    DiagnosticsBlock,
    TriggerBlock,
    MeteringBlock,
    SmartChargingBlock,
    CertificatesBlock,
    CertificateRenewalBlock,
    LogsBlock,
    SecurityEventsBlock,
)


def wire(ctx: BlockContext) -> Wiring:
    """Build the 1.6 blocks of one engine on ``ctx`` and say how the engine drives them."""
    configuration = ConfigurationBlock(ctx)
    boot = BootBlock(ctx)
    heartbeat = HeartbeatBlock(ctx)
    availability = AvailabilityBlock(ctx)
    local_list = LocalListBlock(ctx)
    smart_charging = SmartChargingBlock(ctx)
    status = StatusBlock(ctx, availability=availability, smart_charging=smart_charging)
    authorization = AuthorizationBlock(ctx, local_list=local_list, status=status)
    reservation = ReservationBlock(ctx, status=status)
    metering = MeteringBlock(ctx)
    transactions = TransactionBlock(
        ctx,
        authorization=authorization,
        availability=availability,
        status=status,
        reservations=reservation,
        metering=metering,
        smart_charging=smart_charging,
    )
    # Built before the transaction and reservation blocks, these read their state.
    availability.sessions = transactions
    status.sessions = transactions
    status.reservations = reservation
    metering.sessions = transactions
    smart_charging.sessions = transactions
    remote_control = RemoteControlBlock(ctx, transactions=transactions)
    reset = ResetBlock(ctx, sessions=transactions, status=status)
    data_transfer = DataTransferBlock(ctx)
    firmware = FirmwareBlock(ctx, sessions=transactions)
    diagnostics = DiagnosticsBlock(
        ctx, boot=boot, status=status, availability=availability, sessions=transactions
    )
    trigger = TriggerBlock(ctx, senders=ctx.assembly.triggers)
    certificates = CertificatesBlock(ctx)
    renewal = CertificateRenewalBlock(ctx, certificates=certificates.certificates)
    security = SecurityEventsBlock(ctx, table=V16)
    logs = LogsBlock(
        ctx, boot=boot, status=status, availability=availability, sessions=transactions
    )
    logs.security = renewal.security = security
    blocks = (
        configuration,
        boot,
        heartbeat,
        availability,
        local_list,
        authorization,
        transactions,
        remote_control,
        reservation,
        status,
        reset,
        data_transfer,
        firmware,
        diagnostics,
        trigger,
        metering,
        smart_charging,
        certificates,
        renewal,
        logs,
        security,
    )
    trigger.blocks = blocks
    return Wiring(
        blocks=blocks,
        ticks=(
            authorization.tick,
            transactions.tick,
            # Before the status tick, so it derives from the sessions and the reservations as
            # this poll left them (expired and terminated reservations gone).
            reservation.tick,
            status.tick,
            reset.tick,
            firmware.tick,
            diagnostics.tick,
            logs.tick,
            security.tick,
            renewal.tick,
            # After the transaction tick: a transaction resumed at the first poll is sampled.
            metering.tick,
            smart_charging.tick,
        ),
        timers=(
            authorization.timer,
            transactions.timer,
            reservation.timer,
            reset.timer,
            firmware.timer,
            diagnostics.timer,
            logs.timer,
            renewal.timer,
            metering.timer,
            smart_charging.timer,
        ),
        # The outbox asks by priority (see ocpp_core.outbox); equal ones in this order.
        sources=(
            ctx.triggered,
            ctx.queue,
            boot,
            heartbeat,
            authorization,
            transactions,
            status,
            firmware,
            diagnostics,
            logs,
            security,
        ),
        disconnects=(authorization.disconnected, certificates.disconnected),
        operations=Operations16(
            boot=boot,
            status=status,
            sessions=transactions,
            reservations=reservation,
            smart_charging=smart_charging,
            data_transfer=data_transfer,
            firmware=firmware,
            diagnostics=PairedUploads(diagnostics, logs),
            device_model=configuration,
            certificates=certificates.certificates,
        ),
        security=security,
    )
