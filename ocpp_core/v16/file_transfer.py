"""What firmware updates and diagnostics uploads share: retries, status notices, simulated time.

Both are long-running jobs that the CSMS starts with one CALL and follows through status
notifications (§4.4, §4.5). ``NoticeSource`` is the notifications' own FIFO in the outbox, so a
block can tell whether its notices have left (the firmware reboot waits for that). ``Countdown``
paces a simulated transfer or installation and reports its progress in tenths.

Retries (§6.25, §6.55, errata 3.50): ``retries`` is the number of *further* attempts after the
first, as in MicroOcpp, whose defaults (1 retry, 180 s apart) apply when the CSMS leaves them
out. Negative values are a PropertyConstraintViolation (the schema only says "integer").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ocpp_core.block import CallRefused
from ocpp_core.clock import parse_datetime
from ocpp_core.log import logger
from ocpp_core.outbox import PRIORITY_CALLS, Request, RequestSource

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_RETRY_INTERVAL",
    "Countdown",
    "NoticeSource",
    "check_duration",
    "retry_policy",
    "wall_time",
]

DEFAULT_RETRIES = 1
DEFAULT_RETRY_INTERVAL = 180
NOTICE_LIMIT = 16  # queued notices of one kind; the oldest goes first when offline for long


MAX_INTEGER = 2**31 - 1  # OCPP 1.6 integers are 32-bit
# Dates a simulated station can wait for or log from (as the clock accepts from the CSMS).
EARLIEST, LATEST = parse_datetime("0100-01-01T00:00:00Z"), parse_datetime("8999-12-31T23:59:59Z")


def retry_policy(payload: dict) -> tuple[int, int]:
    """``(retries, retryInterval)`` of a request, defaults filled in; negatives and numbers
    beyond 32 bits are a PropertyConstraintViolation."""
    retries = payload.get("retries", DEFAULT_RETRIES)
    interval = payload.get("retryInterval", DEFAULT_RETRY_INTERVAL)
    if not (0 <= retries <= MAX_INTEGER and 0 <= interval <= MAX_INTEGER):
        raise CallRefused(f"retries and retryInterval must be 0 to {MAX_INTEGER}", kind="property")
    return retries, interval


def wall_time(payload: dict, field: str) -> float | None:
    """Epoch seconds of an optional date-time field (already schema-checked); one outside
    years 100-8999 is a PropertyConstraintViolation."""
    text = payload.get(field)
    if text is None:
        return None
    try:
        epoch = parse_datetime(text)
    except ValueError:
        raise CallRefused(f"{field}: not a usable date-time", kind="property") from None
    if not EARLIEST <= epoch <= LATEST:
        raise CallRefused(f"{field}: outside the years 100 to 8999", kind="property")
    return epoch


def check_duration(value: float, name: str) -> float:
    """A simulated duration in seconds: finite and not negative (ValueError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9:
        raise ValueError(f"{name} must be a number of seconds from 0 to 1e9")
    return float(value)


class NoticeSource(RequestSource):
    """Mixin for a Block: its status notifications, in order, as an outbox source.

    The block declares ``_notices: list[Request]`` in its slots and ``notice_action``.
    """

    __slots__ = ()

    priority = PRIORITY_CALLS
    notice_action: ClassVar[str] = ""

    def take(self, now: float) -> Request | None:
        return self._notices.pop(0) if self._notices else None

    def give_back(self, request: Request, now: float) -> None:
        self._notices.insert(0, request)

    def wakeup(self, now: float) -> float | None:
        return now if self._notices else None

    def notice(
        self, status: str, now: float, on_done: Callable[[float], None] | None = None
    ) -> None:
        """Queue a status notification; ``on_done`` runs once it was answered or failed."""
        notices = self._notices
        if len(notices) >= NOTICE_LIMIT:
            dropped = notices.pop(0)
            logger().warning("%s queue full: dropped %s", self.notice_action, dropped.payload)
        if on_done is None:
            request = Request(self.notice_action, {"status": status})
        else:
            request = Request(
                self.notice_action,
                {"status": status},
                lambda payload, at: on_done(at),
                lambda failure, at: on_done(at),
            )
        notices.append(request)

    def trigger_notice(self, status: str, now: float) -> str:
        """TriggerMessage: one notification with ``status`` ahead of everything else."""
        self.engine.triggered.push(Request(self.notice_action, {"status": status}), now)
        return "Accepted"

    def notices_pending(self) -> bool:
        """Whether a notice is still queued or waiting for its answer."""
        if self._notices:
            return True
        outstanding = self.engine.outbox.outstanding
        return outstanding is not None and outstanding.source is self


class Countdown:
    """A simulated transfer or installation of ``duration`` seconds, from ``start``."""

    __slots__ = ("duration", "end", "start", "tenths")

    def __init__(self, start: float, duration: float) -> None:
        self.start = start
        self.duration = duration
        self.end = start + duration
        self.tenths = 0  # progress reported so far, in tenths

    def done(self, now: float) -> bool:
        return now >= self.end

    def advance(self, now: float) -> int | None:
        """The new percentage when another tenth has passed since the last call, else None."""
        if self.duration <= 0:
            return None
        tenths = self.tenths
        # The same sum as next_at, so a timer set to next_at() always advances (a division
        # here could round just below the tenth and leave the timer due forever).
        while tenths < 9 and now >= self._tenth_at(tenths + 1):
            tenths += 1
        if tenths == self.tenths:
            return None
        self.tenths = tenths
        return tenths * 10

    def _tenth_at(self, tenth: int) -> float:
        return self.start + self.duration * tenth / 10

    def next_at(self) -> float:
        """When the next tenth (or the end) is reached."""
        if self.tenths >= 9:
            return self.end
        return self._tenth_at(self.tenths + 1)
