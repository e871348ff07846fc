"""GetLog and LogStatusNotification (OCPP 1.6 security whitepaper edition 2, N01, §5.9/5.13).

The whitepaper's GetLog is 2.0.1's: DiagnosticsLog uploads the diagnostics file GetDiagnostics
uploads too (ocpp_core/diagnostics_file), SecurityLog the security log (N01.FR.03/05,
ocpp_core/security_events); the answer names the file, the upload starts right after it and is
reported with LogStatusNotification carrying the request's ``requestId`` (N01.FR.07): Uploading,
then Uploaded or UploadFailure (N01.FR.08-10), retried ``retries`` times ``retryInterval`` apart.
A GetLog while an upload is in progress cancels it and is answered AcceptedCanceled (N01.FR.11);
the cancelled upload gets no further notice (1.6's UploadLogStatusEnumType has no
AcceptedCanceled, unlike 2.0.1's).
The request handling is log_upload.GetLogBlock's, shared with 2.0.1; the upload is independent
of GetDiagnostics' (each has its TransferMachine). ExtendedTriggerMessage(LogStatusNotification)
reports the current status (N01.FR.12); 1.6's TriggerMessage cannot ask for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ocpp_core.block import on
from ocpp_core.log_upload import GetLogBlock

if TYPE_CHECKING:
    from ocpp_core.v16.payloads import GetLogRequest, GetLogResponse

__all__ = ["LogsBlock"]


class LogsBlock(GetLogBlock):
    """GetLog's upload in progress and its LogStatusNotifications (a TransferMachine's owner)."""

    __slots__ = ()

    canceled = None  # UploadLogStatusEnumType has no AcceptedCanceled: the answer tells it

    @on("GetLog")
    def get_log(self, payload: GetLogRequest, now: float) -> GetLogResponse:
        return cast("GetLogResponse", self.take_request(payload, now))
