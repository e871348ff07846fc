"""GetDiagnostics and DiagnosticsStatusNotification (OCPP 1.6 §5.9, §4.4, errata 3.31, 3.50).

GetDiagnostics is answered with the name of the file that will be uploaded (this station always
has diagnostics: its own state, see diagnostics_file); the upload starts right after the reply
and is reported with DiagnosticsStatusNotification: Uploading, then Uploaded or UploadFailed.
A failed upload is attempted again after ``retryInterval`` while ``retries`` remain (see
file_transfer), with the same file. To an http(s) location the host uploads the file
(TransferHost.start_upload, HTTP PUT to ``<location>/<fileName>``); any other location, or no
host, is simulated (DiagnosticsSimulation), so ftp:// works in the browser only as simulation.

A GetDiagnostics while an upload is running gets no fileName (§5.9: no file for this request)
and changes nothing; one that arrives while a retry waits replaces the pending upload. Requests
do not survive a reboot: the CSMS asks again. TriggerMessage reports the latest status while an
upload is in progress (retries included), else Idle (§4.4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ocpp_core.block import Block, on, trigger
from ocpp_core.events import DiagnosticsProgress
from ocpp_core.log import logger
from ocpp_core.transfer import HOST_TRANSFER_LIMIT, TransferHost, is_http, simulated_because
from ocpp_core.v16 import diagnostics_file
from ocpp_core.v16.file_transfer import (
    Countdown,
    NoticeSource,
    check_duration,
    retry_policy,
    wall_time,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["DiagnosticsBlock", "DiagnosticsSimulation", "check_simulation"]

IDLE = "Idle"
UPLOADING = "Uploading"
UPLOADED = "Uploaded"
UPLOAD_FAILED = "UploadFailed"

_WAITING = "waiting"  # for the next attempt
_UPLOADING = "uploading"


class DiagnosticsSimulation(NamedTuple):
    """How simulated uploads behave; ``ChargePoint.set_diagnostics_simulation`` changes it."""

    upload_s: float = 3.0
    fail_upload: bool = False


_DEFAULT_SIMULATION = DiagnosticsSimulation()  # shared: engines hold only a changed one


def check_simulation(simulation: DiagnosticsSimulation) -> DiagnosticsSimulation:
    """``simulation`` if usable, else ValueError saying which field is wrong."""
    if not isinstance(simulation, DiagnosticsSimulation):
        raise ValueError("expected a DiagnosticsSimulation")
    check_duration(simulation.upload_s, "upload_s")
    return simulation


class DiagnosticsBlock(Block, NoticeSource):
    """The diagnostics upload in progress and its notices."""

    __slots__ = (
        "_countdown",
        "_deadline",
        "_detail",
        "_notices",
        "_phase",
        "_request",
        "_status",
        "_via_host",
        "host",
        "last_file",
        "log_source",
        "simulation",
    )

    notice_action = "DiagnosticsStatusNotification"
    sends = ("DiagnosticsStatusNotification",)

    def __init__(self, engine: object) -> None:
        super().__init__(engine)
        self.host: TransferHost | None = None
        self.simulation = _DEFAULT_SIMULATION
        self.log_source: Callable[[float | None, float | None], str] | None = None
        self.last_file: tuple[str, bytes] | None = None  # the latest file built, for the GUI
        self._notices: list = []
        self._status = IDLE
        self._phase: str | None = None
        self._request: dict | None = None  # location, retries, retry_interval, due, window
        self._countdown: Countdown | None = None
        self._via_host = False
        self._deadline = 0.0
        self._detail = ""

    # ------------------------------------------------------------------ OCPP

    @on("GetDiagnostics")
    def get_diagnostics(self, payload: dict, now: float) -> dict:
        retries, interval = retry_policy(payload)
        window = (wall_time(payload, "startTime"), wall_time(payload, "stopTime"))
        if self._phase == _UPLOADING:
            logger().warning("GetDiagnostics while an upload runs: no file for this request")
            return {}
        wall = self.engine.clock.wall(now)
        file_name = _file_name(self.engine.clock.timestamp(now))
        self._request = {
            "location": payload["location"],
            "retries": retries,
            "retry_interval": interval,
            "due": wall,
            "window": window,
            "file_name": file_name,
            "content": None,
        }
        self._phase = _WAITING
        self._status = IDLE
        self._progress(None, f"upload of {file_name} requested")
        return {"fileName": file_name}

    @trigger("DiagnosticsStatusNotification")
    def send_triggered(self, connector_id: int | None, now: float) -> str:
        """TriggerMessage(DiagnosticsStatusNotification): the current status."""
        return self.trigger_notice(self.status, now)

    @property
    def status(self) -> str:
        """The DiagnosticsStatus to report now: Idle unless an upload is in progress."""
        return IDLE if self._phase is None else self._status

    # ------------------------------------------------------------------ timers

    def tick(self, now: float) -> None:
        phase = self._phase
        if phase is None:
            return
        if phase == _WAITING:
            if self.engine.clock.wall(now) >= self._request["due"]:
                self._start_upload(now)
        elif self._via_host:
            if now >= self._deadline:
                limit = f"no result from the transfer host within {HOST_TRANSFER_LIMIT:.0f} s"
                self._upload_done(False, limit, now)
        else:
            countdown = self._countdown
            if countdown.done(now):
                failed = self.simulation.fail_upload
                detail = "upload failed (failure injected)" if failed else self._detail
                self._upload_done(not failed, detail, now)
                return
            percent = countdown.advance(now)
            if percent is not None:
                self._progress(percent, self._detail)

    def timer(self, now: float) -> float | None:
        phase = self._phase
        if phase is None:
            return None
        if phase == _WAITING:
            return now + max(0.0, self._request["due"] - self.engine.clock.wall(now))
        if self._via_host:
            return max(now, self._deadline)
        return max(now, self._countdown.next_at())

    # ------------------------------------------------------------------ upload

    def _start_upload(self, now: float) -> None:
        request = self._request
        location, file_name = request["location"], request["file_name"]
        content = request["content"]
        if content is None:
            content = request["content"] = diagnostics_file.build(
                self.engine, file_name, request["window"], self.log_source, now
            )
            self.last_file = (file_name, content)
        self._phase = _UPLOADING
        self._status = UPLOADING
        self.notice(UPLOADING, now)
        host = self.host
        if host is not None and is_http(location):
            self._via_host = True
            self._deadline = now + HOST_TRANSFER_LIMIT
            self._detail = f"uploading {file_name} ({len(content)} bytes)"
            self._progress(0, self._detail)
            try:
                host.start_upload(location, file_name, content, now)
            except Exception as exc:
                logger().exception("the transfer host could not start the upload")
                self._upload_done(False, f"the transfer host failed: {exc}", now)
            return
        self._via_host = False
        self._detail = f"{simulated_because(location)} ({len(content)} bytes)"
        self._countdown = Countdown(now, self.simulation.upload_s)
        self._progress(0, self._detail)

    def upload_finished(self, ok: bool, detail: str, now: float) -> None:
        """The host's result of the running upload (ignored when none awaits one)."""
        if self._phase != _UPLOADING or not self._via_host:
            logger().warning("diagnostics upload result ignored: no upload is running")
            return
        self._upload_done(ok, detail, now)

    def _upload_done(self, ok: bool, detail: str, now: float) -> None:
        self._via_host = False
        self._countdown = None
        request = self._request
        if ok:
            self._status = UPLOADED
            self.notice(UPLOADED, now)
            self._phase = None
            self._progress(100, detail or "uploaded")
            return
        self._status = UPLOAD_FAILED
        self.notice(UPLOAD_FAILED, now)
        if request["retries"] > 0:
            request["retries"] -= 1
            request["due"] = self.engine.clock.wall(now) + request["retry_interval"]
            self._phase = _WAITING
            detail = f"{detail}; next attempt in {request['retry_interval']} s"
        else:
            self._phase = None
            detail = f"{detail}; no attempts left"
        self._progress(None, detail)

    def _progress(self, percent: int | None, detail: str) -> None:
        engine = self.engine
        if engine.watched:
            file_name = None if self._request is None else self._request["file_name"]
            engine.emit(DiagnosticsProgress(self._status, percent, detail, file_name))


def _file_name(timestamp: str) -> str:
    """``diagnostics-20231114T221320Z.log`` from an OCPP timestamp."""
    compact = "".join(c for c in timestamp.split(".")[0] if c.isdigit() or c == "T")
    return f"diagnostics-{compact}Z.log"
