"""GetDiagnostics and DiagnosticsStatusNotification (OCPP 1.6 §5.9, §4.4, errata 3.31, 3.50).

GetDiagnostics is answered with the name of the file that will be uploaded (this station always
has diagnostics: its own state, see diagnostics_file); the upload starts right after the reply
and is reported with DiagnosticsStatusNotification: Uploading, then Uploaded or UploadFailed.
A failed upload is attempted again after ``retryInterval`` while ``retries`` remain, with the
same file (the upload and its retries are a TransferMachine's, see transfer_machine). To an
http(s) location the host uploads the file (TransferHost.start_upload, HTTP PUT to
``<location>/<fileName>``); any other location, or no host, is simulated
(DiagnosticsSimulation), so ftp:// works in the browser only as simulation.

A GetDiagnostics while an upload is running gets no fileName (§5.9: no file for this request)
and changes nothing; one that arrives while a retry waits replaces the pending upload. Requests
do not survive a reboot: the CSMS asks again. TriggerMessage reports the latest status while an
upload is in progress (retries included), else Idle (§4.4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import on, trigger
from ocpp_core.events import DiagnosticsProgress
from ocpp_core.log import logger
from ocpp_core.transfer import DiagnosticsSimulation, TransferHost, simulated_because
from ocpp_core.transfer import check_diagnostics_simulation as check_simulation
from ocpp_core.transfer_machine import TRANSFERRING
from ocpp_core.v16 import diagnostics_file
from ocpp_core.v16.file_transfer import TransferBlock, retry_policy, wall_time

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.context import BlockContext
    from ocpp_core.sessions import SessionView
    from ocpp_core.v16.availability import AvailabilityBlock
    from ocpp_core.v16.boot import BootBlock
    from ocpp_core.v16.payloads import (
        GetDiagnosticsRequest,
        GetDiagnosticsResponse,
    )
    from ocpp_core.v16.status import StatusBlock

__all__ = ["DiagnosticsBlock", "DiagnosticsSimulation", "check_simulation"]

IDLE = "Idle"
UPLOADING = "Uploading"
UPLOADED = "Uploaded"
UPLOAD_FAILED = "UploadFailed"


_DEFAULT_SIMULATION = DiagnosticsSimulation()  # shared: engines hold only a changed one


class DiagnosticsBlock(TransferBlock):
    """The diagnostics upload in progress and its notices; the upload itself, its retries and
    its deadline are a TransferMachine's, to which this block is the TransferOwner."""

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

    notice_action = "DiagnosticsStatusNotification"
    sends = ("DiagnosticsStatusNotification",)

    def __init__(
        self,
        ctx: BlockContext,
        *,
        boot: BootBlock,
        status_block: StatusBlock,
        availability: AvailabilityBlock,
        sessions: SessionView,
    ) -> None:
        super().__init__(ctx, "upload")
        # What the diagnostics file reports: registration, connectors, sessions.
        self.boot = boot
        self.status_block = status_block
        self.availability = availability
        self.sessions = sessions
        self.simulation = _DEFAULT_SIMULATION
        self.log_source: Callable[[float | None, float | None], str] | None = None
        self.last_file: tuple[str, bytes] | None = None  # the latest file built, for the GUI
        # The requested file: its name, log window and content (built at the first attempt).
        self._file_name: str | None = None
        self._window: tuple[float | None, float | None] = (None, None)
        self._content: bytes | None = None

    # ------------------------------------------------------------------ OCPP

    @on("GetDiagnostics")
    def get_diagnostics(self, payload: GetDiagnosticsRequest, now: float) -> GetDiagnosticsResponse:
        retries, interval = retry_policy(payload)
        window = (
            wall_time(payload.get("startTime"), "startTime"),
            wall_time(payload.get("stopTime"), "stopTime"),
        )
        machine = self._machine
        if machine.phase == TRANSFERRING:
            logger().warning("GetDiagnostics while an upload runs: no file for this request")
            return {}
        file_name = _file_name(self.ctx.clock.timestamp(now))
        machine.schedule(payload["location"], self.ctx.clock.wall(now), retries, interval)
        self._file_name = file_name
        self._window = window
        self._content = None
        self._status = IDLE
        self.progress(None, f"upload of {file_name} requested")
        return {"fileName": file_name}

    @trigger("DiagnosticsStatusNotification")
    def send_triggered(self, connector_id: int | None, now: float) -> str:
        """TriggerMessage(DiagnosticsStatusNotification): the current status."""
        return self.trigger_notice(self.status, now)

    @property
    def status(self) -> str:
        """The DiagnosticsStatus to report now: Idle unless an upload is in progress."""
        return IDLE if self._machine.phase is None else self._status

    # ------------------------------------------------------------------ timers

    def tick(self, now: float) -> None:
        self._machine.tick(now)

    def timer(self, now: float) -> float | None:
        return self._machine.timer(now)

    def upload_finished(self, ok: bool, detail: str, now: float) -> None:
        """The host's result of the running upload (ignored when none awaits one)."""
        if not self._machine.host_finished(ok, detail, now):
            logger().warning("diagnostics upload result ignored: no upload is running")

    # ------------------------------------------------------------------ TransferOwner

    def attempt_starts(self, via_host: bool, now: float) -> str:
        file_name = self._file_name
        assert file_name is not None  # named when the GetDiagnostics was accepted
        content = self._content
        if content is None:
            content = self._content = diagnostics_file.build(
                self.ctx,
                file_name,
                self._window,
                self.log_source,
                now,
                registration=self.boot.registration,
                status=self.status_block,
                operative=self.availability.operative,
                sessions=self.sessions,
            )
            self.last_file = (file_name, content)
        self._report(UPLOADING, now)
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
        self._report(UPLOADED, now)
        self._machine.finish()
        self.progress(100, detail or "uploaded")

    def attempt_failed(self, phase: str, detail: str, now: float) -> None:
        self._report(UPLOAD_FAILED, now)
        self.progress(None, detail)

    def progress(self, percent: int | None, detail: str) -> None:
        ctx = self.ctx
        if ctx.watched:
            ctx.emit(DiagnosticsProgress(self._status, percent, detail, self._file_name))


def _file_name(timestamp: str) -> str:
    """``diagnostics-20231114T221320Z.log`` from an OCPP timestamp."""
    compact = "".join(c for c in timestamp.split(".")[0] if c.isdigit() or c == "T")
    return f"diagnostics-{compact}Z.log"
