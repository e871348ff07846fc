"""What firmware updates and log uploads share in any version: request fields and notices.

Both are long-running jobs that the CSMS starts with one CALL and follows through status
notifications (1.6 §4.4, §4.5; 2.0.1 L01/L02, N01); the transfer itself, with its retries, is a
TransferMachine (ocpp_core.transfer_machine). ``NoticeSource`` is the notifications' own FIFO in
the outbox, so a block can tell whether its notices have left (the firmware reboot waits for it).

Retries (§6.25, §6.55, errata 3.50): ``retries`` is the number of *further* attempts after the
first, as in MicroOcpp, whose defaults (1 retry, 180 s apart) apply when the CSMS leaves them
out. Negative values are a PropertyConstraintViolation (the schema only says "integer").
2.0.1 notices carry the request's ``requestId``: a block adds it through ``notice_payload``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast, overload

from ocpp_core.block import Block, CallRefused
from ocpp_core.clock import parse_datetime
from ocpp_core.log import logger
from ocpp_core.outbox import PRIORITY_CALLS, Request, RequestSource
from ocpp_core.transfer_machine import TransferMachine, TransferOwner

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.transfer import TransferHost


__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_RETRY_INTERVAL",
    "NoticeSource",
    "TransferBlock",
    "retry_policy",
    "wall_time",
]

DEFAULT_RETRIES = 1
DEFAULT_RETRY_INTERVAL = 180
NOTICE_LIMIT = 16  # queued notices of one kind; the oldest goes first when offline for long


MAX_INTEGER = 2**31 - 1  # OCPP 1.6 integers are 32-bit
# Dates a simulated station can wait for or log from (as the clock accepts from the CSMS).
EARLIEST, LATEST = parse_datetime("0100-01-01T00:00:00Z"), parse_datetime("8999-12-31T23:59:59Z")


def retry_policy(payload: Mapping[str, object]) -> tuple[int, int]:
    """``(retries, retryInterval)`` of a request (UpdateFirmware, GetDiagnostics, GetLog),
    defaults filled in; negatives and numbers beyond 32 bits are a PropertyConstraintViolation."""
    # Schema-checked integers (a 1.6 one may still be written 1.0: it compares the same).
    retries = cast("int", payload.get("retries", DEFAULT_RETRIES))
    interval = cast("int", payload.get("retryInterval", DEFAULT_RETRY_INTERVAL))
    if not (0 <= retries <= MAX_INTEGER and 0 <= interval <= MAX_INTEGER):
        raise CallRefused(f"retries and retryInterval must be 0 to {MAX_INTEGER}", kind="property")
    return retries, interval


@overload
def wall_time(text: str, field: str) -> float: ...


@overload
def wall_time(text: str | None, field: str) -> float | None: ...


def wall_time(text: str | None, field: str) -> float | None:
    """Epoch seconds of optional date-time field ``field`` (already schema-checked); one outside
    years 100-8999 is a PropertyConstraintViolation."""
    if text is None:
        return None
    try:
        epoch = parse_datetime(text)
    except ValueError:
        raise CallRefused(f"{field}: not a usable date-time", kind="property") from None
    if not EARLIEST <= epoch <= LATEST:
        raise CallRefused(f"{field}: outside the years 100 to 8999", kind="property")
    return epoch


class NoticeSource(RequestSource):
    """Mixin for a Block: its status notifications, in order, as an outbox source.

    The block declares ``_notices: list[Request]`` in its slots and ``notice_action``.
    """

    __slots__ = ()

    priority = PRIORITY_CALLS
    notice_action: ClassVar[str] = ""
    # Provided by the block that mixes this in (declared here for the type checker only).
    ctx: BlockContext
    _notices: list[Request]

    def take(self, now: float) -> Request | None:
        return self._notices.pop(0) if self._notices else None

    def give_back(self, request: Request, now: float) -> None:
        self._notices.insert(0, request)

    def wakeup(self, now: float) -> float | None:
        return now if self._notices else None

    def notice_payload(self, status: str) -> JsonObject:
        """The notification's payload for ``status``."""
        return {"status": status}

    def notice(
        self, status: str, now: float, on_done: Callable[[float], None] | None = None
    ) -> None:
        """Queue a status notification; ``on_done`` runs once it was answered or failed."""
        notices = self._notices
        if len(notices) >= NOTICE_LIMIT:
            dropped = notices.pop(0)
            logger().warning("%s queue full: dropped %s", self.notice_action, dropped.payload)
        payload = self.notice_payload(status)
        if on_done is None:
            request = Request(self.notice_action, payload)
        else:
            request = Request(
                self.notice_action,
                payload,
                lambda payload, at: on_done(at),
                lambda failure, at: on_done(at),
            )
        notices.append(request)

    def trigger_notice(self, status: str, now: float) -> str:
        """TriggerMessage: one notification with ``status`` ahead of everything else."""
        self.ctx.triggered.push(Request(self.notice_action, self.notice_payload(status)), now)
        return "Accepted"

    def notices_pending(self) -> bool:
        """Whether a notice is still queued or waiting for its answer."""
        if self._notices:
            return True
        outstanding = self.ctx.outbox.outstanding
        return outstanding is not None and outstanding.source is self


class TransferBlock(Block, NoticeSource, TransferOwner):
    """Base of a block that runs one TransferMachine, as its owner, and reports it with status
    notices: the subclass implements the TransferOwner methods and maps the machine's phases
    to its statuses through ``_report``."""

    __slots__ = ("_machine", "_notices", "_request_id", "_status", "host")

    def __init__(self, ctx: BlockContext, what: str) -> None:
        """``what`` names the transfer in details and logs ("download", "upload")."""
        super().__init__(ctx)
        self.host: TransferHost | None = None  # set by ChargePoint.set_transfer_host
        self._notices: list[Request] = []
        self._status = "Idle"  # the latest status of the job in progress
        self._request_id: int | None = None  # 2.0.1: the requestId of the job, in its notices
        self._machine = TransferMachine(self, what, self.ctx.clock)

    def notice_payload(self, status: str) -> JsonObject:
        """The status, and the job's requestId (2.0.1) unless Idle."""
        payload: JsonObject = {"status": status}
        if status != "Idle" and self._request_id is not None:
            payload["requestId"] = self._request_id
        return payload

    def _report(self, status: str, now: float) -> None:
        """``status`` is the job's latest: notify the CSMS."""
        self._status = status
        self.notice(status, now)
