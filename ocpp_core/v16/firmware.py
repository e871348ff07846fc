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

import re
from typing import TYPE_CHECKING

from ocpp_core.block import on, trigger
from ocpp_core.clock import format_datetime
from ocpp_core.events import FirmwareProgress, ResetRequested
from ocpp_core.identity import StationIdentity
from ocpp_core.log import logger
from ocpp_core.transfer import (
    FirmwareSimulation,
    TransferHost,
    file_name_of,
    shown,
    simulated_because,
)
from ocpp_core.transfer import check_firmware_simulation as check_simulation
from ocpp_core.transfer_machine import TRANSFERRED, TRANSFERRING, WAITING, Countdown
from ocpp_core.v16.file_transfer import TransferBlock, retry_policy, wall_time

if TYPE_CHECKING:
    from typing import TypeGuard

    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.sessions import SessionView
    from ocpp_core.v16.payloads import (
        UpdateFirmwareRequest,
        UpdateFirmwareResponse,
    )

__all__ = ["DOCUMENT", "REBOOT_WAIT", "FirmwareBlock", "FirmwareSimulation", "check_simulation"]

DOCUMENT = "firmware"
REBOOT_WAIT = 60.0  # seconds the reboot waits at most for the Installing notice to leave

IDLE = "Idle"
DOWNLOADING = "Downloading"
DOWNLOADED = "Downloaded"
DOWNLOAD_FAILED = "DownloadFailed"
INSTALLING = "Installing"
INSTALLED = "Installed"
INSTALLATION_FAILED = "InstallationFailed"

# Steps of the update in progress (persisted in the document's "update"): the transfer
# machine's phases, then this block's own steps once the image is downloaded.
_WAITING = "waiting"  # for retrieveDate or the next attempt
_DOWNLOADING = "downloading"
_DOWNLOADED = "downloaded"  # until no transaction runs
_INSTALLING = "installing"
_REBOOTING = "rebooting"  # installed; the reboot waits for the notices to leave (not persisted)
_MACHINE_STEPS = {WAITING: _WAITING, TRANSFERRING: _DOWNLOADING}
# Where a persisted phase resumes after a reboot: an interrupted step starts again.
_RESUME = {
    _WAITING: _WAITING,
    _DOWNLOADING: _WAITING,
    _DOWNLOADED: _DOWNLOADED,
    _INSTALLING: _DOWNLOADED,
}

_WAITING_FOR_SESSIONS = "downloaded; waiting for the charging sessions to end"
_VERSION = re.compile(r"\d+(?:\.\d+)+(?:[-+][0-9A-Za-z]+)*")
_MAX_VERSION = 50  # BootNotification.firmwareVersion is CiString50


_DEFAULT_SIMULATION = FirmwareSimulation()  # shared: engines hold only a changed one


class FirmwareBlock(TransferBlock):
    """The firmware update in progress, its notices and the installed-version record.

    The download, its retries and its deadline are a TransferMachine's (this block is its
    TransferOwner); the installation and the reboot follow on top, and a failed installation
    counts as a failed attempt of the same machine.
    """

    __slots__ = (
        "_countdown",
        "_deadline",
        "_detail",
        "_image",
        "_installed",
        "_rebooting",
        "_report_due",
        "sessions",
        "simulation",
    )

    notice_action = "FirmwareStatusNotification"
    sends = ("FirmwareStatusNotification",)

    def __init__(self, ctx: BlockContext, *, sessions: SessionView) -> None:
        super().__init__(ctx, "download")
        self.sessions = sessions  # the update installs once no transaction runs
        self.simulation = _DEFAULT_SIMULATION
        self._image: tuple[int | None, str | None] = (None, None)  # size, SHA-256 from the host
        self._installed: JsonObject | None = None  # version, replaces
        self._report_due = False  # Installed still to be confirmed by the CSMS
        self._countdown: Countdown | None = None  # the simulated installation
        self._rebooting = False
        self._deadline = 0.0  # of the reboot's wait
        self._detail = ""  # of this block's own steps
        self._restore()

    def _step(self) -> str | None:
        """Where the update in progress stands (None: no update)."""
        if self._rebooting:
            return _REBOOTING
        phase = self._machine.phase
        if phase == TRANSFERRED:
            return _DOWNLOADED if self._countdown is None else _INSTALLING
        return None if phase is None else _MACHINE_STEPS[phase]

    # ------------------------------------------------------------------ persistence

    def _restore(self) -> None:
        stored = self.ctx.store.load(DOCUMENT)
        if stored is None:
            return
        if not isinstance(stored, dict):
            logger().warning("stored firmware state is invalid; ignored")
            return
        installed = stored.get("installed")
        if _valid_installed(installed):
            identity = self.ctx.identity
            if identity.firmware_version == installed["replaces"]:
                self._installed = installed
                self.ctx.identity = _with_version(identity, installed["version"])
                if stored.get("report") is True:
                    self._report_due = True
                    self._status = INSTALLED
                    self.notice(INSTALLED, 0.0, self._installed_confirmed)
            else:
                logger().info("the station's firmware version changed; installed record dropped")
        update = stored.get("update")
        if _valid_update(update):
            self._machine.schedule(
                update["location"],
                update["retrieve_at"],
                update["retries"],
                update["retry_interval"],
                transferred=_RESUME[update["phase"]] == _DOWNLOADED,
            )
        self._save()

    def _save(self) -> None:
        """Persist the update and the installed record (best effort: a failure is logged)."""
        document: JsonObject = {}
        step = self._step()
        if step in _RESUME:
            machine = self._machine
            document["update"] = {
                "location": machine.location,
                "retrieve_at": machine.due,
                "retries": machine.retries,
                "retry_interval": machine.retry_interval,
                "phase": step,
            }
        if self._installed is not None:
            document["installed"] = self._installed
            if self._report_due:
                document["report"] = True
        store = self.ctx.store
        try:
            if document:
                store.save(DOCUMENT, document)
            else:
                store.delete(DOCUMENT)
        except Exception:
            logger().exception("could not persist the firmware update state")

    # ------------------------------------------------------------------ OCPP

    @on("UpdateFirmware")
    def update_firmware(self, payload: UpdateFirmwareRequest, now: float) -> UpdateFirmwareResponse:
        retries, interval = retry_policy(payload)
        retrieve_at = wall_time(payload["retrieveDate"], "retrieveDate")
        step = self._step()
        if step in (_DOWNLOADING, _INSTALLING, _REBOOTING):
            logger().warning("UpdateFirmware ignored: an update is %s", step)
            return {}
        self._machine.schedule(payload["location"], retrieve_at, retries, interval)
        self._status = IDLE
        self._save()
        when = format_datetime(retrieve_at)
        self.progress(None, f"update from {shown(payload['location'])} scheduled for {when}")
        return {}

    @trigger("FirmwareStatusNotification")
    def send_triggered(self, connector_id: int | None, now: float) -> str:
        """TriggerMessage(FirmwareStatusNotification): the current status (connectorId ignored)."""
        return self.trigger_notice(self.status, now)

    @property
    def status(self) -> str:
        """The FirmwareStatus to report now: Idle unless an update is in progress."""
        if self._step() is None and not self._report_due:
            return IDLE
        return self._status

    # ------------------------------------------------------------------ timers

    def tick(self, now: float) -> None:
        if self._machine.phase == TRANSFERRED:  # downloaded: the installation follows
            countdown = self._countdown
            if countdown is None:
                self._install_when_idle(now)
            elif self._count(countdown, now):
                self._install_done(now)
        else:
            self._machine.tick(now)
        if self._rebooting and (now >= self._deadline or self._settled()):
            self._reboot(now)

    def timer(self, now: float) -> float | None:
        if self._machine.phase == TRANSFERRED:
            countdown = self._countdown
            return None if countdown is None else max(now, countdown.next_at())
        if self._rebooting:
            return now if self._settled() else max(now, self._deadline)
        return self._machine.timer(now)

    def _count(self, countdown: Countdown, now: float) -> bool:
        """Advance the simulated installation; True when it is over."""
        if countdown.done(now):
            self._countdown = None
            return True
        percent = countdown.advance(now)
        if percent is not None:
            self.progress(percent, self._detail)
        return False

    # ------------------------------------------------------------------ download

    def download_progress(self, received: int, total: int | None, now: float) -> None:
        """The host's progress of the running download (for the GUI only)."""
        machine = self._machine
        if not machine.awaits_host:
            return
        percent = None if not total else min(100, received * 100 // total)
        self.progress(percent, f"{machine.detail}: {received} bytes")

    def download_finished(
        self, ok: bool, detail: str, size: int | None, sha256: str | None, now: float
    ) -> None:
        """The host's result of the running download (ignored when none awaits one)."""
        if not self._machine.awaits_host:
            logger().warning("firmware download result ignored: no download is running")
            return
        self._image = (size, sha256)  # for the Downloaded progress, which the machine calls
        self._machine.host_finished(ok, detail, now)
        self._image = (None, None)

    # ------------------------------------------------------------------ TransferOwner

    def attempt_starts(self, via_host: bool, now: float) -> str:
        self._save()
        self._report(DOWNLOADING, now)
        location = self._machine.location
        return f"downloading {shown(location)}" if via_host else simulated_because(location)

    def start_on_host(self, host: TransferHost, location: str, now: float) -> None:
        host.start_download(location, now)

    def simulated_transfer(self) -> tuple[float, bool]:
        simulation = self.simulation
        return simulation.download_s, simulation.fail_download

    def transferred(self, detail: str, now: float) -> None:
        self._detail = ""  # this download's own steps begin: their first detail is shown
        self._save()
        self._report(DOWNLOADED, now)
        self.progress(100, detail or "downloaded", *self._image)
        self._install_when_idle(now)

    def attempt_failed(self, phase: str, detail: str, now: float) -> None:
        self._report(DOWNLOAD_FAILED if phase == TRANSFERRING else INSTALLATION_FAILED, now)
        self._save()
        self.progress(None, detail)

    # ------------------------------------------------------------------ installation

    def _install_when_idle(self, now: float) -> None:
        sessions = self.sessions
        connectors = range(1, len(self.ctx.connectors))
        if any(sessions.transaction_running(c) for c in connectors) or not sessions.settled():
            if self._detail != _WAITING_FOR_SESSIONS:
                self._detail = _WAITING_FOR_SESSIONS
                self.progress(100, _WAITING_FOR_SESSIONS)
            return
        self._countdown = Countdown(now, self.simulation.install_s)
        self._save()
        self._report(INSTALLING, now)
        self._detail = "installing (simulated)"
        self.progress(0, self._detail)

    def _install_done(self, now: float) -> None:
        machine = self._machine
        if self.simulation.fail_install:
            machine.fail("installation failed (failure injected)", now)
            return
        version = self.simulation.version or _version_of(machine.location)
        # "replaces" is the version the station configures, also after earlier updates.
        installed = self._installed
        base = self.ctx.identity.firmware_version if installed is None else installed["replaces"]
        self._installed = {"version": version, "replaces": base}
        self._report_due = True
        machine.finish()
        self._rebooting = True
        self._deadline = now + REBOOT_WAIT
        self._save()
        self.sessions.stop_all("Reboot", now)  # a session begun while installing
        self.progress(100, f"firmware {version} installed; rebooting")

    def _settled(self) -> bool:
        """Nothing is left to say before the reboot: notices and transaction messages sent."""
        return not self.notices_pending() and self.sessions.settled()

    def _reboot(self, now: float) -> None:
        self._rebooting = False
        ctx = self.ctx
        if ctx.reset_handler is not None:
            if ctx.watched:
                ctx.emit(ResetRequested("Hard"))
            try:
                rebooted = ctx.reset_handler("Hard") is not False
            except Exception:
                logger().exception("reset hook failed")
                rebooted = False
            if rebooted:
                return  # the engine built by the reboot reports Installed
            logger().warning("no reboot after the firmware installation; Installed reported now")
        self._status = INSTALLED
        self.notice(INSTALLED, now, self._installed_confirmed)
        installed = self._installed
        assert installed is not None  # recorded when the installation finished
        self.progress(
            100, f"firmware {installed['version']} installed; it runs after the next reboot"
        )

    def _installed_confirmed(self, now: float) -> None:
        self._report_due = False
        self._save()
        self.progress(None, "the CSMS has the Installed status")

    def progress(
        self,
        percent: int | None,
        detail: str,
        size: int | None = None,
        sha256: str | None = None,
    ) -> None:
        ctx = self.ctx
        if ctx.watched:
            ctx.emit(FirmwareProgress(self._status, percent, detail, size, sha256))


def _valid_update(update: object) -> TypeGuard[JsonObject]:
    return (
        isinstance(update, dict)
        and update.get("phase") in _RESUME
        and isinstance(update.get("location"), str)
        and type(update.get("retrieve_at")) in (int, float)
        and type(update.get("retries")) is int
        and type(update.get("retry_interval")) is int
    )


def _valid_installed(installed: object) -> TypeGuard[JsonObject]:
    if not isinstance(installed, dict):
        return False
    version, replaces = installed.get("version"), installed.get("replaces")
    return (
        isinstance(version, str)
        and 0 < len(version) <= _MAX_VERSION
        and (replaces is None or isinstance(replaces, str))
    )


def _with_version(identity: StationIdentity, version: str) -> StationIdentity:
    """A copy of ``identity`` that reports ``version`` as its firmwareVersion."""
    fields = {name: getattr(identity, name) for name in StationIdentity.__slots__}
    fields["firmware_version"] = version
    return StationIdentity(**fields)


def _version_of(location: str) -> str:
    """The firmwareVersion an image brings: the version in its file name, else the name."""
    name = file_name_of(location)
    match = _VERSION.search(name)
    if match is not None:
        return match.group(0)[:_MAX_VERSION]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return (stem or "unnamed")[:_MAX_VERSION]
