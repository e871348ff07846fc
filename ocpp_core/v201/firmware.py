"""UpdateFirmware and FirmwareStatusNotification (OCPP 2.0.1 L02, the state machine L01 extends).

Every notification carries the request's ``requestId``. An accepted update reports
DownloadScheduled while ``firmware.retrieveDateTime`` is in the future, then Downloading and
Downloaded, or DownloadFailed (attempted again after ``retryInterval`` while ``retries`` remain:
the TransferMachine shared with 1.6, see transfer_machine). Once downloaded, the installation
waits for ``firmware.installDateTime`` and for the running transactions to end: InstallScheduled
is reported once; while transactions run every EVSE is made Unavailable (an idle one at once, a
busy one when its transaction ends: L01.FR.07) so no new transaction starts. Then Installing
(simulated), InstallRebooting, and the reboot through the station's reset hook (kind
"Immediate", boot reason FirmwareUpdate) once the notices and transaction messages have left;
the engine built by the reboot reports the new firmwareVersion in its BootNotification and
Installed once that is Accepted. A failed installation is InstallationFailed and counts as a
failed attempt (the download starts again while retries remain). Without a reset hook Installed
is reported at once and the version changes at the next reboot.

Transfers and failure injection are 1.6's (FirmwareSimulation; an http(s) image through the
TransferHost). The update in progress and the installed record persist in the Store document
``firmware201`` before the notification depending on them leaves; an interrupted download or
installation starts again after a reboot.

A new UpdateFirmware cancels an update that is scheduled, downloading or waiting to install and
is answered AcceptedCanceled (L01.FR.24); during the installation and the reboot it is Rejected
(the station cannot cancel then). Signatures are not verified before the security issue: no
SignatureVerified; a signingCertificate that is not a PEM certificate is InvalidCertificate.
TriggerMessage reports the latest status with its requestId while an update is in progress (or
Installed still unconfirmed), else Idle (F06.FR.16).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import on
from ocpp_core.clock import format_datetime
from ocpp_core.file_transfer import retry_policy, wall_time
from ocpp_core.firmware_update import (
    DOWNLOADING,
    IDLE,
    INSTALLING_STEP,
    REBOOTING_STEP,
    FirmwareUpdateBlock,
)
from ocpp_core.log import logger
from ocpp_core.outbox import PRIORITY_STATUS
from ocpp_core.transfer import shown, simulated_because
from ocpp_core.v201.boot import next_boot_reason

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.sessions import SessionView
    from ocpp_core.v201.availability import AvailabilityBlock
    from ocpp_core.v201.payloads import UpdateFirmwareRequest, UpdateFirmwareResponse

__all__ = ["DOCUMENT", "FirmwareBlock"]

DOCUMENT = "firmware201"

DOWNLOAD_SCHEDULED = "DownloadScheduled"
INSTALL_SCHEDULED = "InstallScheduled"
INSTALL_REBOOTING = "InstallRebooting"

_UNCANCELABLE = (INSTALLING_STEP, REBOOTING_STEP)

_WAITING_FOR_SESSIONS = "downloaded; EVSEs unavailable until the transactions end"
_WAITING_FOR_DATE = "downloaded; installation scheduled"
_PEM = "-----BEGIN CERTIFICATE-----"


class FirmwareBlock(FirmwareUpdateBlock):
    """The firmware update in progress, its notices and the installed-version record."""

    __slots__ = (
        "_install_at",
        "_scheduled",
        "availability",
    )

    notice_action = "FirmwareStatusNotification"
    sends = ("FirmwareStatusNotification",)
    document = DOCUMENT
    # After the status reports (the wiring lists it after them): after a reboot the CSMS hears
    # the connectors' state before Installed (TC_L_01_CS steps 17 and 19).
    priority = PRIORITY_STATUS
    reboot_kind = "Immediate"

    def __init__(
        self, ctx: BlockContext, *, sessions: SessionView, availability: AvailabilityBlock
    ) -> None:
        super().__init__(ctx, sessions=sessions)
        self.availability = availability  # EVSEs held Unavailable while the install waits
        self._install_at: float | None = None  # wall time of installDateTime
        self._scheduled = False  # InstallScheduled reported for this download
        self._restore()

    # ------------------------------------------------------------------ persistence

    def _restored(self, stored: JsonObject) -> None:
        request_id = stored.get("request_id")
        self._request_id = request_id if type(request_id) is int else None

    def _resumed(self, update: JsonObject) -> None:
        install_at = update.get("install_at")
        self._install_at = install_at if type(install_at) in (int, float) else None
        self._scheduled = update.get("scheduled") is True
        self._status = str(update.get("status", IDLE))

    def _saving(self, document: JsonObject) -> None:
        update = document.get("update")
        if isinstance(update, dict):
            update["install_at"] = self._install_at
            update["scheduled"] = self._scheduled
            update["status"] = self._status
        if self._request_id is not None and (update is not None or self._report_due):
            document["request_id"] = self._request_id

    # ------------------------------------------------------------------ OCPP

    @on("UpdateFirmware")
    def update_firmware(self, payload: UpdateFirmwareRequest, now: float) -> UpdateFirmwareResponse:
        retries, interval = retry_policy(payload)
        firmware = payload["firmware"]
        retrieve_at = wall_time(firmware["retrieveDateTime"], "firmware.retrieveDateTime")
        install_at = wall_time(firmware.get("installDateTime"), "firmware.installDateTime")
        certificate = firmware.get("signingCertificate")
        if certificate is not None and _PEM not in certificate:
            return {
                "status": "InvalidCertificate",
                "statusInfo": {"reasonCode": "InvalidCertificate", "additionalInfo": "not PEM"},
            }
        step = self._step()
        answer: UpdateFirmwareResponse = {"status": "Accepted"}
        if step in _UNCANCELABLE:
            logger().warning("UpdateFirmware rejected: an update is %s", step)
            return {
                "status": "Rejected",
                "statusInfo": {"reasonCode": "InstallInProgress"},
            }
        if step is not None:  # L01.FR.24: the new update replaces the one in progress
            self._machine.cancel()
            answer["status"] = "AcceptedCanceled"
        self.availability.hold(False)
        self._request_id = payload["requestId"]
        self._install_at = install_at
        self._scheduled = False
        self._machine.schedule(firmware["location"], retrieve_at, retries, interval)
        self._status = IDLE
        if retrieve_at > self.ctx.clock.wall(now):
            self._report(DOWNLOAD_SCHEDULED, now)
        self._save()
        when = format_datetime(retrieve_at)
        self.progress(None, f"update from {shown(firmware['location'])} scheduled for {when}")
        return answer

    @property
    def request_id(self) -> int | None:
        """The requestId of the update in progress (None: none)."""
        return None if self.status == IDLE else self._request_id

    # ------------------------------------------------------------------ timers

    def _install_timer(self, now: float) -> float | None:
        install_at = self._install_at
        if install_at is None:
            return None  # the end of the transactions comes with a tick
        return now + max(0.0, install_at - self.ctx.clock.wall(now))

    # ------------------------------------------------------------------ TransferOwner

    def attempt_starts(self, via_host: bool, now: float) -> str:
        self._report(DOWNLOADING, now)
        self._save()
        location = self._machine.location
        return f"downloading {shown(location)}" if via_host else simulated_because(location)

    # ------------------------------------------------------------------ installation

    def _install_when_ready(self, now: float) -> None:
        sessions = self.sessions
        evses = range(1, len(self.ctx.connectors))
        busy = any(sessions.transaction_running(evse) for evse in evses)
        install_at = self._install_at
        early = install_at is not None and self.ctx.clock.wall(now) < install_at
        if busy or early or not sessions.settled():
            if busy:
                self.availability.hold(True)
            if not self._scheduled and (busy or early):
                self._scheduled = True
                self._report(INSTALL_SCHEDULED, now)
                self._save()
            detail = _WAITING_FOR_SESSIONS if busy else _WAITING_FOR_DATE
            if self._detail != detail:
                self._detail = detail
                self.progress(100, detail)
            return
        self._start_installing(now)

    def _before_reboot(self, now: float) -> None:
        next_boot_reason(self.ctx, "FirmwareUpdate")
        self._report(INSTALL_REBOOTING, now)

    def _attempt_over(self) -> None:
        self.availability.hold(False)
        self._scheduled = False
