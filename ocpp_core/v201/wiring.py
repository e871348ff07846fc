"""OCPP 2.0.1's wiring: one engine's blocks, who talks to whom, and in which order they work.

``wire(ctx)`` is the only place that knows the 2.0.1 blocks together (see ocpp_core/wiring.py and
ARCHITECTURE.md, "Adding a block"). BLOCK_TYPES is the routing order; EXTRA_VARIABLES are the
device-model variables declared by modules that are not blocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.security_events import V201, SecurityEventsBlock
from ocpp_core.v201 import comm_ctrlr, components
from ocpp_core.v201.auth_cache import AuthCacheBlock
from ocpp_core.v201.authorization import AuthorizationBlock
from ocpp_core.v201.availability import AvailabilityBlock
from ocpp_core.v201.boot import BootBlock
from ocpp_core.v201.certificate_renewal import CertificateRenewalBlock
from ocpp_core.v201.certificates import CertificatesBlock
from ocpp_core.v201.customer_info import CustomerInfoBlock
from ocpp_core.v201.data_transfer import DataTransferBlock
from ocpp_core.v201.device_model import DeviceModelBlock
from ocpp_core.v201.display import DisplayBlock
from ocpp_core.v201.firmware import FirmwareBlock
from ocpp_core.v201.heartbeat import HeartbeatBlock
from ocpp_core.v201.local_list import LocalListBlock
from ocpp_core.v201.logs import LogsBlock
from ocpp_core.v201.metering import MeteringBlock
from ocpp_core.v201.monitoring import MonitoringBlock
from ocpp_core.v201.operations import Operations201
from ocpp_core.v201.remote_control import RemoteControlBlock
from ocpp_core.v201.reports import ReportsBlock
from ocpp_core.v201.reservation import ReservationBlock
from ocpp_core.v201.reset import ResetBlock
from ocpp_core.v201.smart_charging import SmartChargingBlock
from ocpp_core.v201.status import StatusBlock
from ocpp_core.v201.tariff import TariffBlock
from ocpp_core.v201.transactions import TransactionBlock
from ocpp_core.v201.trigger import TriggerBlock
from ocpp_core.wiring import Wiring

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext

__all__ = ["BLOCK_TYPES", "EXTRA_VARIABLES", "wire"]

BLOCK_TYPES: tuple[type, ...] = (
    DeviceModelBlock,
    ReportsBlock,
    MonitoringBlock,
    BootBlock,
    HeartbeatBlock,
    AvailabilityBlock,
    LocalListBlock,
    AuthCacheBlock,
    AuthorizationBlock,
    ReservationBlock,
    MeteringBlock,
    TransactionBlock,
    RemoteControlBlock,
    SmartChargingBlock,
    StatusBlock,
    ResetBlock,
    DataTransferBlock,
    DisplayBlock,
    TariffBlock,
    FirmwareBlock,
    LogsBlock,
    CustomerInfoBlock,
    CertificatesBlock,
    CertificateRenewalBlock,
    SecurityEventsBlock,
    TriggerBlock,
)

EXTRA_VARIABLES = (*comm_ctrlr.VARIABLES, *components.VARIABLES)


def wire(ctx: BlockContext) -> Wiring:
    """Build the 2.0.1 blocks of one engine on ``ctx`` and say how the engine drives them."""
    boot, heartbeat = BootBlock(ctx), HeartbeatBlock(ctx)
    availability = AvailabilityBlock(ctx)
    status = StatusBlock(ctx, availability=availability)
    smart_charging = SmartChargingBlock(ctx)
    device_model = DeviceModelBlock(ctx, status=status, smart_charging=smart_charging)
    reports = ReportsBlock(ctx, device_model=device_model)
    monitoring = MonitoringBlock(ctx, device_model=device_model)
    local_list, auth_cache = LocalListBlock(ctx), AuthCacheBlock(ctx)
    authorization = AuthorizationBlock(ctx, local_list=local_list, cache=auth_cache)
    reservation = ReservationBlock(ctx, status=status)
    status.reservations = reservation
    metering = MeteringBlock(ctx)
    transactions = TransactionBlock(
        ctx,
        authorization=authorization,
        metering=metering,
        availability=availability,
        status=status,
        reservations=reservation,
    )
    metering.sessions = transactions
    smart_charging.sessions = transactions
    smart_charging.limits = transactions  # a 0 limit: SuspendedEVSE; K11.FR.04 ChargingRateChanged
    availability.sessions = transactions
    status.sessions = transactions
    monitoring.sessions = transactions
    remote_control = RemoteControlBlock(ctx, transactions=transactions)
    reset = ResetBlock(ctx, sessions=transactions, status=status)
    data_transfer = DataTransferBlock(ctx)
    display, tariff = DisplayBlock(ctx, status=status), TariffBlock(ctx)
    display.sessions = tariff.sessions = transactions
    display.tariff = authorization.listener = transactions.answers = tariff
    firmware = FirmwareBlock(ctx, sessions=transactions, availability=availability)
    logs = LogsBlock(
        ctx, boot=boot, status=status, availability=availability, sessions=transactions
    )
    customer_info = CustomerInfoBlock(
        ctx, auth_cache=auth_cache, local_list=local_list, transactions=transactions
    )
    certificates = CertificatesBlock(ctx)
    renewal = CertificateRenewalBlock(ctx, certificates=certificates.certificates)
    security = SecurityEventsBlock(ctx, table=V201)
    logs.security = renewal.security = security
    trigger = TriggerBlock(ctx, senders=ctx.assembly.triggers)
    blocks = (
        device_model,
        reports,
        monitoring,
        boot,
        heartbeat,
        availability,
        local_list,
        auth_cache,
        authorization,
        reservation,
        metering,
        transactions,
        remote_control,
        smart_charging,
        status,
        reset,
        data_transfer,
        display,
        tariff,
        firmware,
        logs,
        customer_info,
        certificates,
        renewal,
        security,
        trigger,
    )
    trigger.blocks = blocks
    return Wiring(
        blocks=blocks,
        # The status tick after the transaction and reservation ticks: it derives from the
        # sessions and reservations as they are.
        ticks=(
            authorization.tick,
            transactions.tick,
            reservation.tick,
            status.tick,
            reset.tick,
            metering.tick,
            smart_charging.tick,
            monitoring.tick,
            display.tick,
            tariff.tick,
            firmware.tick,
            logs.tick,
            security.tick,
            renewal.tick,
        ),
        timers=(
            authorization.timer,
            transactions.timer,
            reservation.timer,
            reset.timer,
            metering.timer,
            smart_charging.timer,
            monitoring.timer,
            display.timer,
            firmware.timer,
            logs.timer,
            renewal.timer,
        ),
        # The outbox asks by priority (see ocpp_core.outbox); equal ones in this order.
        sources=(
            ctx.triggered,
            ctx.queue,
            boot,
            heartbeat,
            reports,
            monitoring.reports,
            monitoring.events,
            authorization,
            transactions,
            status,
            firmware,
            logs,
            customer_info,
            security,
        ),
        disconnects=(
            authorization.disconnected,
            status.disconnected,
            certificates.disconnected,
        ),
        operations=Operations201(
            boot=boot,
            status=status,
            sessions=transactions,
            data_transfer=data_transfer,
            device_model=device_model,
            smart_charging=smart_charging,
            reservations=reservation,
            display=display,
            firmware=firmware,
            diagnostics=logs,
            monitoring=monitoring,
            certificates=certificates.certificates,
        ),
        security=security,
    )
