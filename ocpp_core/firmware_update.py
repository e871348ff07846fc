"""What firmware updates share in any version: the block base, the image and the new version.

A firmware block (1.6 §5.19, 2.0.1 L01/L02) runs one TransferMachine for the download (see
transfer_machine and file_transfer), then its own steps: a simulated installation (a Countdown)
and a reboot through the station's reset hook once its notices and transaction messages have
left (at most REBOOT_WAIT seconds). Each version maps these steps to its statuses.

The installed record ``{"version": new, "replaces": old}`` makes every later boot report the new
firmwareVersion as long as the station still configures the version the update replaced
(``restored_identity``). The new version is the simulation's, else the one in the image's file
name (``version_of``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from ocpp_core.block import trigger
from ocpp_core.events import FirmwareProgress, ResetRequested
from ocpp_core.file_transfer import TransferBlock
from ocpp_core.identity import StationIdentity
from ocpp_core.log import logger
from ocpp_core.transfer import FirmwareSimulation, TransferHost, file_name_of
from ocpp_core.transfer_machine import TRANSFERRED, TRANSFERRING, WAITING, Countdown

if TYPE_CHECKING:
    from typing import TypeGuard

    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.sessions import SessionView

__all__ = [
    "DOWNLOADED_STEP",
    "DOWNLOADING_STEP",
    "INSTALLED",
    "INSTALLING_STEP",
    "REBOOTING_STEP",
    "REBOOT_WAIT",
    "RESUME",
    "WAITING_STEP",
    "FirmwareUpdateBlock",
    "valid_installed",
    "valid_update",
    "version_of",
    "with_version",
]

# Status names both versions use.
IDLE = "Idle"
DOWNLOADING = "Downloading"
DOWNLOADED = "Downloaded"
DOWNLOAD_FAILED = "DownloadFailed"
INSTALLING = "Installing"
INSTALLED = "Installed"
INSTALLATION_FAILED = "InstallationFailed"

# Steps of the update in progress (persisted in the document's "update"): the transfer
# machine's phases, then the block's own steps once the image is downloaded.
WAITING_STEP = "waiting"  # for the retrieve date or the next attempt
DOWNLOADING_STEP = "downloading"
DOWNLOADED_STEP = "downloaded"  # until the installation may begin
INSTALLING_STEP = "installing"
REBOOTING_STEP = "rebooting"  # installed; the reboot waits for the notices (not persisted)
_MACHINE_STEPS = {WAITING: WAITING_STEP, TRANSFERRING: DOWNLOADING_STEP}
# Where a persisted step resumes after a reboot: an interrupted step starts again.
RESUME = {
    WAITING_STEP: WAITING_STEP,
    DOWNLOADING_STEP: WAITING_STEP,
    DOWNLOADED_STEP: DOWNLOADED_STEP,
    INSTALLING_STEP: DOWNLOADED_STEP,
}

REBOOT_WAIT = 60.0  # seconds the reboot waits at most for the notices to leave

_VERSION = re.compile(r"\d+(?:\.\d+)+(?:[-+][0-9A-Za-z]+)*")
_MAX_VERSION = 50  # BootNotification's firmwareVersion is CiString50 in both versions

_DEFAULT_SIMULATION = FirmwareSimulation()  # shared: engines hold only a changed one


class FirmwareUpdateBlock(TransferBlock):
    """Base of a version's firmware block: the download's TransferOwner parts, the host's
    results, the simulated installation's progress and the reboot hook."""

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

    document: ClassVar[str] = ""  # the Store document of the update and the installed record
    reboot_kind: ClassVar[str] = ""  # what the reset hook is asked for

    def __init__(self, ctx: BlockContext, *, sessions: SessionView) -> None:
        super().__init__(ctx, "download")
        self._installed: JsonObject | None = None  # version, replaces
        self._report_due = False  # Installed still to be confirmed by the CSMS
        self._rebooting = False  # installed; the reboot waits for the notices to leave
        self.sessions = sessions  # the update installs once no transaction runs
        self.simulation = _DEFAULT_SIMULATION
        self._image: tuple[int | None, str | None] = (None, None)  # size, SHA-256 from the host
        self._countdown: Countdown | None = None  # the simulated installation
        self._deadline = 0.0  # of the reboot's wait
        self._detail = ""  # of this block's own steps

    def _step(self) -> str | None:
        """Where the update in progress stands (None: no update)."""
        if self._rebooting:
            return REBOOTING_STEP
        phase = self._machine.phase
        if phase == TRANSFERRED:
            return DOWNLOADED_STEP if self._countdown is None else INSTALLING_STEP
        return None if phase is None else _MACHINE_STEPS[phase]

    @trigger("FirmwareStatusNotification")
    def send_triggered(self, evse: int | None, now: float) -> str:
        """TriggerMessage(FirmwareStatusNotification): the current status (a connector or EVSE
        is ignored)."""
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
                self._install_when_ready(now)
            elif self._count(countdown, now):
                self._install_done(now)
        else:
            self._machine.tick(now)
        if self._rebooting and (now >= self._deadline or self._settled()):
            self._reboot(now)

    def timer(self, now: float) -> float | None:
        if self._machine.phase == TRANSFERRED:
            countdown = self._countdown
            if countdown is None:
                return self._install_timer(now)
            return max(now, countdown.next_at())
        if self._rebooting:
            return now if self._settled() else max(now, self._deadline)
        return self._machine.timer(now)

    def _install_timer(self, now: float) -> float | None:
        """When a downloaded image may install (None: when a tick finds no transaction)."""
        return None

    def _install_when_ready(self, now: float) -> None:
        """The image is downloaded: install it if the version's conditions are met."""
        raise NotImplementedError

    def _start_installing(self, now: float) -> None:
        self._countdown = Countdown(now, self.simulation.install_s)
        self._report(INSTALLING, now)
        self._save()
        self._detail = "installing (simulated)"
        self.progress(0, self._detail)

    def _install_done(self, now: float) -> None:
        """The simulated installation is over: a failed attempt, or the reboot follows."""
        if self.simulation.fail_install:
            self._machine.fail("installation failed (failure injected)", now)
            return
        version = self._installation_over(now)
        self._before_reboot(now)
        self.sessions.stop_all("Reboot", now)  # a session begun while installing
        self.progress(100, f"firmware {version} installed; rebooting")

    def _before_reboot(self, now: float) -> None:
        """What the version says before the reboot (its new version is recorded)."""

    def _reboot(self, now: float) -> None:
        """The notices have left (or the wait is over): reboot into the new firmware."""
        self._rebooting = False
        if self._reboot_hook(self.reboot_kind):
            return  # the engine built by the reboot reports Installed
        self._attempt_over()
        self._installed_without_reboot(now)

    def _attempt_over(self) -> None:
        """The version's own state of an attempt ends (failed, or installed)."""

    # ------------------------------------------------------------------ TransferOwner

    def transferred(self, detail: str, now: float) -> None:
        self._detail = ""  # this download's own steps begin: their first detail is shown
        self._report(DOWNLOADED, now)
        self._save()
        self.progress(100, detail or "downloaded", *self._image)
        self._install_when_ready(now)

    def attempt_failed(self, phase: str, detail: str, now: float) -> None:
        self._attempt_over()
        self._report(DOWNLOAD_FAILED if phase == TRANSFERRING else INSTALLATION_FAILED, now)
        self._save()
        self.progress(None, detail)

    # ------------------------------------------------------------------ persistence

    def _load(self) -> JsonObject | None:
        """The stored document (None: none, or invalid)."""
        stored = self.ctx.store.load(self.document)
        if stored is not None and not isinstance(stored, dict):
            logger().warning("stored firmware state is invalid; ignored")
            return None
        return stored

    def _restore_update(self, update: JsonObject) -> None:
        """Resume a stored update (checked with ``valid_update``)."""
        self._machine.schedule(
            update["location"],
            update["retrieve_at"],
            update["retries"],
            update["retry_interval"],
            transferred=RESUME[update["phase"]] == DOWNLOADED_STEP,
        )

    def _update_record(self) -> JsonObject | None:
        """The update in progress as stored (None: nothing to resume)."""
        step = self._step()
        if step not in RESUME:
            return None
        machine = self._machine
        return {
            "location": machine.location,
            "retrieve_at": machine.due,
            "retries": machine.retries,
            "retry_interval": machine.retry_interval,
            "phase": step,
        }

    def _restore_installed(self, stored: JsonObject) -> None:
        """The stored installed record: the new version, and Installed still to report."""
        installed = stored.get("installed")
        if not valid_installed(installed):
            return
        identity = self.ctx.identity
        if identity.firmware_version != installed["replaces"]:
            logger().info("the station's firmware version changed; installed record dropped")
            return
        self._installed = installed
        self.ctx.identity = with_version(identity, installed["version"])
        if stored.get("report") is True:
            self._report_due = True
            self._status = INSTALLED
            self.notice(INSTALLED, 0.0, self._installed_confirmed)

    def _store(self, document: JsonObject) -> None:
        """Persist ``document`` with the installed record (best effort: a failure is logged)."""
        if self._installed is not None:
            document["installed"] = self._installed
            if self._report_due:
                document["report"] = True
        store = self.ctx.store
        try:
            if document:
                store.save(self.document, document)
            else:
                store.delete(self.document)
        except Exception:
            logger().exception("could not persist the firmware update state")

    def _restore(self) -> None:
        """Take up the stored installed record and update in progress (at construction)."""
        stored = self._load()
        if stored is None:
            return
        self._restored(stored)
        self._restore_installed(stored)
        update = stored.get("update")
        if valid_update(update):
            self._resumed(update)
            self._restore_update(update)
        self._save()

    def _save(self) -> None:
        """Persist the update in progress and the installed record."""
        document: JsonObject = {}
        update = self._update_record()
        if update is not None:
            document["update"] = update
        self._saving(document)
        self._store(document)

    def _restored(self, stored: JsonObject) -> None:
        """The version's own fields of the stored document (before the installed record)."""

    def _resumed(self, update: JsonObject) -> None:
        """The version's own fields of a stored update that resumes."""

    def _saving(self, document: JsonObject) -> None:
        """Add the version's own fields to the document about to be stored."""

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
        self._image = (size, sha256)  # for the Downloaded progress, which the machine calls
        if not self._machine.host_finished(ok, detail, now):
            logger().warning("firmware download result ignored: no download is running")
        self._image = (None, None)

    def start_on_host(self, host: TransferHost, location: str, now: float) -> None:
        host.start_download(location, now)

    def simulated_transfer(self) -> tuple[float, bool]:
        simulation = self.simulation
        return simulation.download_s, simulation.fail_download

    # ------------------------------------------------------------------ installation

    def _count(self, countdown: Countdown, now: float) -> bool:
        """Advance the simulated installation; True when it is over."""
        if countdown.done(now):
            self._countdown = None
            return True
        percent = countdown.advance(now)
        if percent is not None:
            self.progress(percent, self._detail)
        return False

    def _installation_over(self, now: float) -> str:
        """The simulated installation succeeded: record the new version (persisted), end the
        job and let the reboot wait for the notices; the new version."""
        machine = self._machine
        version = self.simulation.version or version_of(machine.location)
        # "replaces" is the version the station configures, also after earlier updates.
        installed = self._installed
        base = self.ctx.identity.firmware_version if installed is None else installed["replaces"]
        self._installed = {"version": version, "replaces": base}
        self._report_due = True
        machine.finish()
        self._rebooting = True
        self._deadline = now + REBOOT_WAIT
        self._save()
        return version

    def _installed_without_reboot(self, now: float) -> None:
        """No reboot happened: Installed now; the version changes at the next reboot."""
        if self.ctx.reset_handler is not None:
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

    def _settled(self) -> bool:
        """Nothing is left to say before the reboot: notices and transaction messages sent."""
        return not self.notices_pending() and self.sessions.settled()

    def _reboot_hook(self, kind: str) -> bool:
        """Reboot through the station's reset hook; False when there is none or it failed."""
        ctx = self.ctx
        if ctx.reset_handler is None:
            return False
        if ctx.watched:
            ctx.emit(ResetRequested(kind))
        try:
            return ctx.reset_handler(kind) is not False
        except Exception:
            logger().exception("reset hook failed")
            return False

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


def valid_update(update: object) -> TypeGuard[JsonObject]:
    """A stored update in progress."""
    return (
        isinstance(update, dict)
        and update.get("phase") in RESUME
        and isinstance(update.get("location"), str)
        and type(update.get("retrieve_at")) in (int, float)
        and type(update.get("retries")) is int
        and type(update.get("retry_interval")) is int
    )


def valid_installed(installed: object) -> TypeGuard[JsonObject]:
    """A stored installed record: a version and the version it replaces."""
    if not isinstance(installed, dict):
        return False
    version, replaces = installed.get("version"), installed.get("replaces")
    return (
        isinstance(version, str)
        and 0 < len(version) <= _MAX_VERSION
        and (replaces is None or isinstance(replaces, str))
    )


def with_version(identity: StationIdentity, version: str) -> StationIdentity:
    """A copy of ``identity`` that reports ``version`` as its firmwareVersion."""
    fields = {name: getattr(identity, name) for name in StationIdentity.__slots__}
    fields["firmware_version"] = version
    return StationIdentity(**fields)


def version_of(location: str) -> str:
    """The firmwareVersion an image brings: the version in its file name, else the name."""
    name = file_name_of(location)
    match = _VERSION.search(name)
    if match is not None:
        return match.group(0)[:_MAX_VERSION]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return (stem or "unnamed")[:_MAX_VERSION]
