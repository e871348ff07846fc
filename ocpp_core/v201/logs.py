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
AcceptedCanceled before the new upload begins (N01.FR.12, TC_N_36_CS). SecurityLog uploads the
security log (N01.FR.03, TC_N_35_CS; ocpp_core/security_events). The request handling is
log_upload.GetLogBlock's, shared with 1.6's GetLog (security whitepaper N01).
TriggerMessage(LogStatusNotification) reports the latest status with its requestId while an
upload is in progress, else Idle without requestId (F06.FR.15). Requests do not survive a
reboot: the CSMS asks again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ocpp_core.block import on
from ocpp_core.log_upload import GetLogBlock

if TYPE_CHECKING:
    from ocpp_core.v201.payloads import GetLogRequest, GetLogResponse

__all__ = ["LogsBlock"]


class LogsBlock(GetLogBlock):
    """The log upload in progress and its notices; the upload, its retries and its deadline are
    a TransferMachine's, to which this block is the TransferOwner."""

    __slots__ = ()

    file_version = "2.0.1"

    @on("GetLog")
    def get_log(self, payload: GetLogRequest, now: float) -> GetLogResponse:
        return cast("GetLogResponse", self.take_request(payload, now))
