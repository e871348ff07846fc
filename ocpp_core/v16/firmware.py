"""UpdateFirmware and FirmwareStatusNotification (OCPP 1.6 §5.19, §4.5, errata 3.47-3.49, 3.63).

An accepted update (the .conf has no status: every valid request is taken) waits for
``retrieveDate``, downloads, waits until no transaction runs and the transaction messages are
delivered (errata 3.49: do not interrupt a charging session; the CSMS hears StopTransaction
before Installing), installs, reboots and, once the new firmware has booted, reports Installed
(errata 3.47: "good practice to first reboot ... before sending the status: Installed"). Every
step is a FirmwareStatusNotification: Downloading, Downloaded or DownloadFailed, Installing,
InstallationFailed, Installed. A failed download or installation is attempted again after
``retryInterval`` while ``retries`` remain (a TransferMachine, see transfer_machine, runs the
download and its retries); each failure is reported.

Transfers: an http(s) image is fetched by the host (TransferHost), which reports its size and
SHA-256; anything else, or no host, is simulated (FirmwareSimulation: durations and failure
injection, changeable at any time). Installation is always simulated: nothing real is flashed.

Reboot and the new version: installing records ``{"version": new, "replaces": old}`` in the
Store document ``firmware``, ends any session begun meanwhile (reason Reboot), then reboots
through the reset hook (kind "Hard", a ResetRequested event first) once the notices and the
transaction messages have left (at most REBOOT_WAIT seconds, like a soft reset). The engine
built by the reboot finds the record and boots with the new firmwareVersion; it reports
Installed once its BootNotification is Accepted. The record stays: every later boot overrides
the station's version the same way, as long as the station still configures the version the
update replaced (a station that changes its own version wins). Without a reset hook, or if it
fails, Installed is reported at once and the version changes at the next reboot (the "manual
reboot" branch of the sequence diagram). An update that was waiting, downloading or installing
when the station rebooted resumes (an interrupted step starts again).

A new UpdateFirmware replaces an update that is waiting (for its date, a retry or the end of
transactions); while a download or installation runs it is ignored, since OCPP 1.6 has no way
to refuse it. TriggerMessage reports the current update's latest status, Idle when no update is
in progress (§4.5: Idle "only ... when it is not busy").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import on
from ocpp_core.clock import format_datetime
from ocpp_core.file_transfer import retry_policy, wall_time
from ocpp_core.firmware_update import (
    DOWNLOADING,
    DOWNLOADING_STEP,
    IDLE,
    INSTALLING_STEP,
    REBOOT_WAIT,
    REBOOTING_STEP,
    FirmwareUpdateBlock,
)
from ocpp_core.log import logger
from ocpp_core.transfer import FirmwareSimulation, shown, simulated_because
from ocpp_core.transfer import check_firmware_simulation as check_simulation

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.sessions import SessionView
    from ocpp_core.v16.payloads import (
        UpdateFirmwareRequest,
        UpdateFirmwareResponse,
    )

__all__ = ["DOCUMENT", "REBOOT_WAIT", "FirmwareBlock", "FirmwareSimulation", "check_simulation"]

DOCUMENT = "firmware"


_WAITING_FOR_SESSIONS = "downloaded; waiting for the charging sessions to end"


class FirmwareBlock(FirmwareUpdateBlock):
    """The firmware update in progress, its notices and the installed-version record.

    The download, its retries and its deadline are a TransferMachine's (this block is its
    TransferOwner); the installation and the reboot follow on top, and a failed installation
    counts as a failed attempt of the same machine.
    """

    __slots__ = ()

    notice_action = "FirmwareStatusNotification"
    sends = ("FirmwareStatusNotification",)
    document = DOCUMENT
    reboot_kind = "Hard"

    def __init__(self, ctx: BlockContext, *, sessions: SessionView) -> None:
        super().__init__(ctx, sessions=sessions)
        self._restore()

    # ------------------------------------------------------------------ OCPP

    @on("UpdateFirmware")
    def update_firmware(self, payload: UpdateFirmwareRequest, now: float) -> UpdateFirmwareResponse:
        retries, interval = retry_policy(payload)
        retrieve_at = wall_time(payload["retrieveDate"], "retrieveDate")
        step = self._step()
        if step in (DOWNLOADING_STEP, INSTALLING_STEP, REBOOTING_STEP):
            logger().warning("UpdateFirmware ignored: an update is %s", step)
            return {}
        self._machine.schedule(payload["location"], retrieve_at, retries, interval)
        self._status = IDLE
        self._save()
        when = format_datetime(retrieve_at)
        self.progress(None, f"update from {shown(payload['location'])} scheduled for {when}")
        return {}

    # ------------------------------------------------------------------ TransferOwner

    def attempt_starts(self, via_host: bool, now: float) -> str:
        self._save()
        self._report(DOWNLOADING, now)
        location = self._machine.location
        return f"downloading {shown(location)}" if via_host else simulated_because(location)

    # ------------------------------------------------------------------ installation

    def _install_when_ready(self, now: float) -> None:
        sessions = self.sessions
        connectors = range(1, len(self.ctx.connectors))
        if any(sessions.transaction_running(c) for c in connectors) or not sessions.settled():
            if self._detail != _WAITING_FOR_SESSIONS:
                self._detail = _WAITING_FOR_SESSIONS
                self.progress(100, _WAITING_FOR_SESSIONS)
            return
        self._start_installing(now)
