"""One file transfer with its retries, as firmware updates and log uploads run it in any version.

OCPP 1.6 (UpdateFirmware, GetDiagnostics) and 2.0.1 (UpdateFirmware, GetLog) describe the same
job: wait until a given time, move one file, report how it went, and after a failure try again
``retry_interval`` seconds later while ``retries`` (further attempts after the first) remain.
The TransferMachine runs that job; the block that owns it (a TransferOwner) says what the
transfer is and maps the machine's phases to its own version's status enum and notifications,
so no status name lives here.

Phases: ``None`` (no job), WAITING (for the due wall time), TRANSFERRING (through the
TransferHost for an http(s) location when one is registered, with HOST_TRANSFER_LIMIT as
deadline; else simulated for the owner's configured time, with optional failure injection) and
TRANSFERRED (the owner's own steps follow, e.g. a firmware installation; it ends the job with
``finish()`` or counts the attempt as failed with ``fail()``).
"""

from __future__ import annotations

from typing import Protocol

from ocpp_core.log import logger
from ocpp_core.transfer import HOST_TRANSFER_LIMIT, TransferHost, is_http

__all__ = [
    "TRANSFERRED",
    "TRANSFERRING",
    "WAITING",
    "Countdown",
    "TransferMachine",
    "TransferOwner",
    "WallClock",
]

WAITING = "waiting"
TRANSFERRING = "transferring"
TRANSFERRED = "transferred"


class WallClock(Protocol):
    """The station clock as the machine needs it: due times are wall times the CSMS can move."""

    def wall(self, now: float) -> float: ...


class TransferOwner(Protocol):
    """The block a TransferMachine works for: what differs between kinds and versions."""

    __slots__ = ()  # a block may subclass it explicitly and stay slotted

    host: TransferHost | None  # performs http(s) transfers; None: every transfer is simulated

    def attempt_starts(self, via_host: bool, now: float) -> str:
        """An attempt begins (report it, persist it); returns the detail shown while it runs."""
        ...

    def start_on_host(self, host: TransferHost, location: str, now: float) -> None:
        """Hand the transfer to ``host``, which reports back through ``host_finished``."""
        ...

    def simulated_transfer(self) -> tuple[float, bool]:
        """A simulated transfer's duration in seconds and whether it fails, as configured now."""
        ...

    def transferred(self, detail: str, now: float) -> None:
        """The transfer succeeded; the phase is TRANSFERRED until ``finish`` or ``fail``."""
        ...

    def attempt_failed(self, phase: str, detail: str, now: float) -> None:
        """The attempt failed in ``phase`` (TRANSFERRING, or TRANSFERRED for the owner's own
        steps); the machine has already scheduled the next attempt or ended the job, and
        ``detail`` says which."""
        ...

    def progress(self, percent: int | None, detail: str) -> None:
        """Progress for the user (never for the CSMS): a percentage and words."""
        ...


class TransferMachine:
    """The transfer job of one owner: its location, due time, retries and current attempt."""

    __slots__ = (
        "_clock",
        "_countdown",
        "_deadline",
        "_drain_until",
        "_owner",
        "_what",
        "detail",
        "due",
        "location",
        "phase",
        "retries",
        "retry_interval",
    )

    def __init__(self, owner: TransferOwner, what: str, clock: WallClock) -> None:
        """``what`` names the transfer in details and logs ("download", "upload")."""
        self._owner = owner
        self._what = what
        self._clock = clock
        self.phase: str | None = None
        self.location = ""
        self.due = 0.0  # wall time of the next attempt
        self.retries = 0  # further attempts after the current one
        self.retry_interval = 0
        self.detail = ""  # what the running transfer shows
        self._deadline = 0.0  # of the transfer on the host
        self._countdown: Countdown | None = None  # of a simulated transfer (None: on the host)
        self._drain_until = 0.0  # a cancelled host transfer may still report until then

    def schedule(
        self,
        location: str,
        due: float,
        retries: int,
        retry_interval: int,
        *,
        transferred: bool = False,
    ) -> None:
        """Take a job (replacing a waiting one): its first attempt at wall time ``due``, or,
        with ``transferred``, a job resumed after a reboot whose transfer was already done."""
        self.location = location
        self.due = due
        self.retries = retries
        self.retry_interval = retry_interval
        self.phase = TRANSFERRED if transferred else WAITING
        self._countdown = None

    def finish(self) -> None:
        """The job is done (the owner's steps after the transfer succeeded)."""
        self.phase = None

    def cancel(self) -> None:
        """Drop the job, also during its transfer. A cancelled host transfer still reports: the
        next attempt waits for that result (ignored) or its deadline, so the host's two results
        are never confused."""
        if self.awaits_host:
            self._drain_until = self._deadline
        self.phase = None
        self._countdown = None

    @property
    def awaits_host(self) -> bool:
        """Whether a host transfer is running, so its progress and result are expected."""
        return self.phase == TRANSFERRING and self._countdown is None

    # ------------------------------------------------------------------ timers

    def tick(self, now: float) -> None:
        """Start a due attempt, or advance the running one."""
        phase = self.phase
        if phase == WAITING:
            if self._clock.wall(now) >= self.due and now >= self._drain_until:
                self._start(now)
        elif phase == TRANSFERRING:
            countdown = self._countdown
            if countdown is None:  # on the host
                if now >= self._deadline:
                    limit = f"no result from the transfer host within {HOST_TRANSFER_LIMIT:.0f} s"
                    self._done(False, limit, now)
                return
            if countdown.done(now):
                fails = self._owner.simulated_transfer()[1]
                detail = f"{self._what} failed (failure injected)" if fails else self.detail
                self._done(not fails, detail, now)
                return
            percent = countdown.advance(now)
            if percent is not None:
                self._owner.progress(percent, self.detail)

    def timer(self, now: float) -> float | None:
        """When ``tick`` next has work: None when no job, or while the owner's steps run."""
        phase = self.phase
        if phase == WAITING:
            return max(now + max(0.0, self.due - self._clock.wall(now)), self._drain_until)
        if phase != TRANSFERRING:
            return None
        if self._countdown is None:  # on the host
            return max(now, self._deadline)
        return max(now, self._countdown.next_at())

    # ------------------------------------------------------------------ attempts

    def _start(self, now: float) -> None:
        owner = self._owner
        host = owner.host
        via_host = host is not None and is_http(self.location)
        self.phase = TRANSFERRING
        if via_host:
            self._deadline = now + HOST_TRANSFER_LIMIT
        else:
            self._countdown = Countdown(now, owner.simulated_transfer()[0])
        self.detail = detail = owner.attempt_starts(via_host, now)
        owner.progress(0, detail)
        if host is not None and via_host:
            try:
                owner.start_on_host(host, self.location, now)
            except Exception as exc:
                logger().exception("the transfer host could not start the %s", self._what)
                self._done(False, f"the transfer host failed: {exc}", now)

    def host_finished(self, ok: bool, detail: str, now: float) -> bool:
        """The host's result of the running transfer; False (ignored) when none awaits one."""
        if not self.awaits_host:
            if now < self._drain_until:  # the cancelled transfer's result: consumed
                self._drain_until = 0.0
                return True
            return False
        self._done(ok, detail, now)
        return True

    def _done(self, ok: bool, detail: str, now: float) -> None:
        self._countdown = None
        if ok:
            self.phase = TRANSFERRED
            self._owner.transferred(detail, now)
        else:
            self.fail(detail, now)

    def fail(self, detail: str, now: float) -> None:
        """Count the attempt as failed: the next one after ``retry_interval`` if retries remain,
        else the job ends. The owner hears it through ``attempt_failed``."""
        failed = self.phase
        assert failed is not None  # only a job's attempt can fail
        if self.retries > 0:
            self.retries -= 1
            self.due = self._clock.wall(now) + self.retry_interval
            self.phase = WAITING
            detail = f"{detail}; next attempt in {self.retry_interval} s"
        else:
            self.phase = None
            detail = f"{detail}; no attempts left"
        self._owner.attempt_failed(failed, detail, now)


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
