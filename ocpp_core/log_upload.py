"""What log uploads share in any version: 1.6 GetDiagnostics and 2.0.1 GetLog.

The block names a file when the CSMS asks, builds it at the first attempt (see diagnostics_file)
and uploads it through a TransferMachine: to an http(s) location through the host
(TransferHost.start_upload), else simulated (DiagnosticsSimulation: duration and failure
injection). The version's block says how a request is answered, how the file is built and which
statuses report Uploading, Uploaded and a failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol

from ocpp_core import diagnostics_file
from ocpp_core.block import trigger
from ocpp_core.events import DiagnosticsProgress
from ocpp_core.file_transfer import TransferBlock, retry_policy, wall_time
from ocpp_core.log import logger
from ocpp_core.transfer import DiagnosticsSimulation, TransferHost, simulated_because

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from ocpp_core.context import BlockContext
    from ocpp_core.registration import RegistrationBlock
    from ocpp_core.security_events import SecurityEventsBlock
    from ocpp_core.sessions import SessionView

__all__ = [
    "ACCEPTED_CANCELED",
    "IDLE",
    "GetLogBlock",
    "LogUploadBlock",
    "PairedUploads",
    "file_name",
]

IDLE = "Idle"
ACCEPTED_CANCELED = "AcceptedCanceled"

_DEFAULT_SIMULATION = DiagnosticsSimulation()  # shared: engines hold only a changed one


class OperativeFlags(Protocol):
    """A version's availability block, as the file reports it."""

    @property
    def operative(self) -> Sequence[bool]:
        """Whether the station (index 0) and each connector (EVSE) 1..N is operative."""
        ...


class LogUploadBlock(TransferBlock):
    """Base of a version's log upload block, the TransferOwner of its upload."""

    __slots__ = (
        "_content",
        "_file_name",
        "_window",
        "availability",
        "boot",
        "last_file",
        "log_source",
        "sessions",
        "simulation",
        "status_block",
    )

    uploading: ClassVar[str] = "Uploading"
    uploaded: ClassVar[str] = "Uploaded"
    failed: ClassVar[str] = ""
    file_version: ClassVar[str] = "1.6"  # named in the file's first line

    def __init__(
        self,
        ctx: BlockContext,
        *,
        boot: RegistrationBlock,
        status: diagnostics_file.StatusBlock,
        availability: OperativeFlags,
        sessions: SessionView,
    ) -> None:
        super().__init__(ctx, "upload")
        # What the file reports: registration, connectors (EVSEs), availability, sessions.
        self.boot = boot
        self.status_block = status
        self.availability = availability
        self.sessions = sessions
        self.simulation = _DEFAULT_SIMULATION
        self.log_source: Callable[[float | None, float | None], str] | None = None
        self.last_file: tuple[str, bytes] | None = None  # the latest file built, for the GUI
        # The requested file: its name, log window and content (built at the first attempt).
        self._file_name: str | None = None
        self._window: tuple[float | None, float | None] = (None, None)
        self._content: bytes | None = None

    def _build(self, file_name: str, now: float) -> bytes:
        return diagnostics_file.build(
            self.ctx,
            file_name,
            self._window,
            self.log_source,
            now,
            registration=self.boot.registration,
            status=self.status_block,
            operative=self.availability.operative,
            sessions=self.sessions,
            version=self.file_version,
        )

    def _take(
        self,
        location: str,
        window: tuple[float | None, float | None],
        retries: int,
        interval: int,
        now: float,
        kind: str = "diagnostics",
    ) -> str:
        """Schedule the upload of a new file at once; its name."""
        clock = self.ctx.clock
        name = file_name(clock.timestamp(now), kind)
        self._machine.schedule(location, clock.wall(now), retries, interval)
        self._file_name = name
        self._window = window
        self._content = None
        self._status = IDLE
        self.progress(None, f"upload of {name} requested")
        return name

    @property
    def status(self) -> str:
        """The status to report now: Idle unless an upload is in progress."""
        return IDLE if self._machine.phase is None else self._status

    # ------------------------------------------------------------------ timers

    def tick(self, now: float) -> None:
        self._machine.tick(now)

    def timer(self, now: float) -> float | None:
        return self._machine.timer(now)

    def upload_finished(self, ok: bool, detail: str, now: float) -> None:
        """The host's result of the running upload (ignored when none awaits one)."""
        if not self._machine.host_finished(ok, detail, now):
            logger().warning("log upload result ignored: no upload is running")

    # ------------------------------------------------------------------ TransferOwner

    def attempt_starts(self, via_host: bool, now: float) -> str:
        file_name = self._file_name
        assert file_name is not None  # named when the request was accepted
        content = self._content
        if content is None:
            content = self._content = self._build(file_name, now)
            self.last_file = (file_name, content)
        self._report(self.uploading, now)
        if via_host:
            return f"uploading {file_name} ({len(content)} bytes)"
        return f"{simulated_because(self._machine.location)} ({len(content)} bytes)"

    def start_on_host(self, host: TransferHost, location: str, now: float) -> None:
        file_name, content = self._file_name, self._content
        assert file_name is not None and content is not None  # made by attempt_starts
        host.start_upload(location, file_name, content, now)

    def simulated_transfer(self) -> tuple[float, bool]:
        simulation = self.simulation
        return simulation.upload_s, simulation.fail_upload

    def transferred(self, detail: str, now: float) -> None:
        self._report(self.uploaded, now)
        self._machine.finish()
        self.progress(100, detail or "uploaded")

    def attempt_failed(self, phase: str, detail: str, now: float) -> None:
        self._report(self.failed, now)
        self.progress(None, detail)

    def progress(self, percent: int | None, detail: str) -> None:
        ctx = self.ctx
        if ctx.watched:
            ctx.emit(DiagnosticsProgress(self._status, percent, detail, self._file_name))


def file_name(timestamp: str, kind: str = "diagnostics") -> str:
    """``diagnostics-20231114T221320Z.log`` (``security-...`` for the security log) from an
    OCPP timestamp."""
    compact = "".join(c for c in timestamp.split(".")[0] if c.isdigit() or c == "T")
    return f"{kind}-{compact}Z.log"


class GetLogBlock(LogUploadBlock):
    """GetLog and LogStatusNotification as 2.0.1 (N01) and the 1.6 security whitepaper (N01)
    define them alike: DiagnosticsLog uploads the diagnostics file, SecurityLog the security
    log (``security``, see ocpp_core/security_events); the notices carry the requestId."""

    __slots__ = ("_log_type", "security")

    notice_action = "LogStatusNotification"
    sends = ("LogStatusNotification",)
    failed = "UploadFailure"
    # The cancelled upload's last notice (2.0.1 N01.FR.12); None: none (1.6's enum lacks it).
    canceled: ClassVar[str | None] = ACCEPTED_CANCELED

    def __init__(
        self,
        ctx: BlockContext,
        *,
        boot: RegistrationBlock,
        status: diagnostics_file.StatusBlock,
        availability: OperativeFlags,
        sessions: SessionView,
    ) -> None:
        super().__init__(
            ctx, boot=boot, status=status, availability=availability, sessions=sessions
        )
        self.security: SecurityEventsBlock | None = None  # set by the wiring
        self._log_type = "DiagnosticsLog"

    def take_request(self, payload: Mapping[str, Any], now: float) -> dict[str, object]:
        """A GetLog request (schema-checked): the answer; the upload starts right after it.
        The version's block routes GetLog here with its own payload types."""
        log_type = payload["logType"]
        if log_type == "SecurityLog" and self.security is None:
            return {"status": "Rejected"}
        retries, interval = retry_policy(payload)
        log = payload["log"]
        window = (
            wall_time(log.get("oldestTimestamp"), "log.oldestTimestamp"),
            wall_time(log.get("latestTimestamp"), "log.latestTimestamp"),
        )
        answer: dict[str, object] = {"status": "Accepted"}
        if self._machine.phase is not None:  # N01.FR.12: the new request replaces the running one
            if self.canceled is not None:
                self._report(self.canceled, now)
            self._machine.cancel()
            answer["status"] = ACCEPTED_CANCELED
        self._request_id = payload["requestId"]
        self._log_type = log_type
        kind = "security" if log_type == "SecurityLog" else "diagnostics"
        answer["filename"] = self._take(log["remoteLocation"], window, retries, interval, now, kind)
        return answer

    @trigger("LogStatusNotification")
    def send_triggered(self, connector: int | None, now: float) -> str:
        """(Extended)TriggerMessage(LogStatusNotification): the current status with its
        requestId while an upload is in progress, else Idle without (2.0.1 F06.FR.15, 1.6
        whitepaper N01.FR.12)."""
        return self.trigger_notice(self.status, now)

    @property
    def request_id(self) -> int | None:
        """The requestId of the upload in progress (None: none)."""
        return None if self._machine.phase is None else self._request_id

    def _build(self, file_name: str, now: float) -> bytes:
        security = self.security
        if self._log_type != "SecurityLog" or security is None:
            return super()._build(file_name, now)
        return security.log_file(file_name, self.file_version, self._window, now)


class PairedUploads:
    """Two log upload blocks of one engine seen as one by ChargePoint (1.6: GetDiagnostics'
    and GetLog's): the host, the simulation and the log source are set on both; the host's
    result goes to the one awaiting it; the status and the latest file are the one in use's."""

    __slots__ = ("first", "second")

    def __init__(self, first: LogUploadBlock, second: LogUploadBlock) -> None:
        self.first = first
        self.second = second

    @property
    def host(self) -> TransferHost | None:
        return self.first.host

    @host.setter
    def host(self, host: TransferHost | None) -> None:
        self.first.host = self.second.host = host

    @property
    def log_source(self) -> Callable[[float | None, float | None], str] | None:
        return self.first.log_source

    @log_source.setter
    def log_source(self, source: Callable[[float | None, float | None], str] | None) -> None:
        self.first.log_source = self.second.log_source = source

    @property
    def simulation(self) -> DiagnosticsSimulation:
        return self.first.simulation

    @simulation.setter
    def simulation(self, simulation: DiagnosticsSimulation) -> None:
        self.first.simulation = self.second.simulation = simulation

    @property
    def status(self) -> str:
        second = self.second.status
        return second if second != IDLE else self.first.status

    @property
    def last_file(self) -> tuple[str, bytes] | None:
        first, second = self.first.last_file, self.second.last_file
        if first is None or second is None:
            return first or second
        return second if _stamp(second[0]) >= _stamp(first[0]) else first

    def upload_finished(self, ok: bool, detail: str, now: float) -> None:
        block = self.second if self.second._machine.awaits_host else self.first
        block.upload_finished(ok, detail, now)


def _stamp(name: str) -> str:
    """The time in a file name made by ``file_name``."""
    return name.rsplit("-", 1)[-1]
