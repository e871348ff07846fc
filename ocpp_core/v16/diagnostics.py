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
from ocpp_core.file_transfer import retry_policy, wall_time
from ocpp_core.log import logger
from ocpp_core.log_upload import LogUploadBlock
from ocpp_core.transfer import DiagnosticsSimulation
from ocpp_core.transfer import check_diagnostics_simulation as check_simulation
from ocpp_core.transfer_machine import TRANSFERRING

if TYPE_CHECKING:
    from ocpp_core.v16.payloads import (
        GetDiagnosticsRequest,
        GetDiagnosticsResponse,
    )

__all__ = ["DiagnosticsBlock", "DiagnosticsSimulation", "check_simulation"]


class DiagnosticsBlock(LogUploadBlock):
    """The diagnostics upload in progress and its notices; the upload itself, its retries and
    its deadline are a TransferMachine's, to which this block is the TransferOwner."""

    __slots__ = ()

    notice_action = "DiagnosticsStatusNotification"
    sends = ("DiagnosticsStatusNotification",)
    failed = "UploadFailed"

    # ------------------------------------------------------------------ OCPP

    @on("GetDiagnostics")
    def get_diagnostics(self, payload: GetDiagnosticsRequest, now: float) -> GetDiagnosticsResponse:
        retries, interval = retry_policy(payload)
        window = (
            wall_time(payload.get("startTime"), "startTime"),
            wall_time(payload.get("stopTime"), "stopTime"),
        )
        if self._machine.phase == TRANSFERRING:
            logger().warning("GetDiagnostics while an upload runs: no file for this request")
            return {}
        return {"fileName": self._take(payload["location"], window, retries, interval, now)}

    @trigger("DiagnosticsStatusNotification")
    def send_triggered(self, connector_id: int | None, now: float) -> str:
        """TriggerMessage(DiagnosticsStatusNotification): the current status."""
        return self.trigger_notice(self.status, now)
