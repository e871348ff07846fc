"""GetLog and LogStatusNotification (OCPP 2.0.1 N01): the diagnostics log, uploaded.

GetLog(DiagnosticsLog) is Accepted with the name of the file that will be uploaded (N01.FR.01/
02: this station always has a log, see ocpp_core/diagnostics_file: its own state, its device
model's readable variables, write-only values masked, and the host's log between
``log.oldestTimestamp`` and ``log.latestTimestamp``); the upload starts right after the answer
and is reported with LogStatusNotification carrying the request's ``requestId`` (N01.FR.07/08):
Uploading, then Uploaded (N01.FR.09) or UploadFailure (N01.FR.10). A failed upload is attempted
again after ``retryInterval`` while ``retries`` remain (a TransferMachine, shared with 1.6's
GetDiagnostics). To an http(s) ``log.remoteLocation`` the host uploads the file
(TransferHost.start_upload, HTTP PUT to ``<location>/<filename>``, multipart POST as fallback);
anything else, or no host, is simulated (DiagnosticsSimulation: duration and failure injection,
as for 1.6).

A GetLog while an upload is in progress (running, or waiting for a retry) cancels it, is
answered AcceptedCanceled and the cancelled request's LogStatusNotification says
AcceptedCanceled before the new upload begins (N01.FR.12, TC_N_36_CS). SecurityLog is Rejected:
the station keeps no security log until the security issue brings security events.
TriggerMessage(LogStatusNotification) reports the latest status with its requestId while an
upload is in progress, else Idle without requestId (F06.FR.15). Requests do not survive a
reboot: the CSMS asks again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import on, trigger
from ocpp_core.file_transfer import retry_policy, wall_time
from ocpp_core.log_upload import LogUploadBlock

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.sessions import SessionView
    from ocpp_core.v201.availability import AvailabilityBlock
    from ocpp_core.v201.boot import BootBlock
    from ocpp_core.v201.payloads import GetLogRequest, GetLogResponse
    from ocpp_core.v201.status import StatusBlock

__all__ = ["LogsBlock"]

ACCEPTED_CANCELED = "AcceptedCanceled"


class LogsBlock(LogUploadBlock):
    """The log upload in progress and its notices; the upload, its retries and its deadline are
    a TransferMachine's, to which this block is the TransferOwner."""

    __slots__ = ("availability",)

    notice_action = "LogStatusNotification"
    sends = ("LogStatusNotification",)
    failed = "UploadFailure"
    file_version = "2.0.1"

    def __init__(
        self,
        ctx: BlockContext,
        *,
        boot: BootBlock,
        status: StatusBlock,
        availability: AvailabilityBlock,
        sessions: SessionView,
    ) -> None:
        super().__init__(ctx, boot=boot, status=status, sessions=sessions)
        self.availability = availability

    # ------------------------------------------------------------------ OCPP

    @on("GetLog")
    def get_log(self, payload: GetLogRequest, now: float) -> GetLogResponse:
        if payload["logType"] != "DiagnosticsLog":
            return {
                "status": "Rejected",
                "statusInfo": {
                    "reasonCode": "UnsupportedLogType",
                    "additionalInfo": "no security log before the security profile",
                },
            }
        retries, interval = retry_policy(payload)
        log = payload["log"]
        window = (
            wall_time(log.get("oldestTimestamp"), "log.oldestTimestamp"),
            wall_time(log.get("latestTimestamp"), "log.latestTimestamp"),
        )
        answer: GetLogResponse = {"status": "Accepted"}
        if self._machine.phase is not None:  # N01.FR.12: the new request replaces the running one
            self._report(ACCEPTED_CANCELED, now)
            self._machine.cancel()
            answer["status"] = "AcceptedCanceled"
        self._request_id = payload["requestId"]
        answer["filename"] = self._take(log["remoteLocation"], window, retries, interval, now)
        return answer

    @trigger("LogStatusNotification")
    def send_triggered(self, evse: int | None, now: float) -> str:
        """TriggerMessage(LogStatusNotification): the current status (F06.FR.15)."""
        return self.trigger_notice(self.status, now)

    @property
    def request_id(self) -> int | None:
        """The requestId of the upload in progress (None: none)."""
        return None if self._machine.phase is None else self._request_id

    def _operative(self) -> list[bool]:
        availability = self.availability
        evses = range(1, len(self.ctx.connectors))
        return [availability.operative_station()] + [availability.operative_evse(n) for n in evses]
