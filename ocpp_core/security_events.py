"""Security events and the security log, for both versions (OCPP 2.0.1 A04 and N01.FR.05,
Appendix 1 "Security Events"; OCPP 1.6 security whitepaper edition 2, A04 and §8).

Every security event the station observes is stored in the security log (A04.FR.04: a rolling
log): one Store document per event (``seclog/<seq>``), at most ``LOG_LIMIT``, the oldest deleted
first. The events the version's table marks critical are also sent as
SecurityEventNotification (type, timestamp, techInfo) through a Journal of their own
(``secmsg/<seq>``, ids ``sec-<seq>-<token>``): persisted before they can be sent, strictly in
order, re-sent after a timeout, a lost connection or a restart under the same message id,
discarded only after ``ATTEMPTS`` CALLERRORs (A04.FR.02: "queued with a guaranteed delivery").

Event names are 2.0.1's (``EVENTS``); 1.6 sends the whitepaper's names where they differ
(``InvalidCsmsCertificate`` is ``InvalidCentralSystemCertificate`` ...), and the two tables
differ in what is critical (2.0.1: certificates and TLS failures are; 1.6: they are not).

What this block observes itself:

* ``StartupOfTheDevice`` at the engine's first poll; ``ResetOrReboot`` when the station's reset hook
  is called (Reset, or the reboot into a new firmware): the hook is wrapped here;
* ``FirmwareUpdated`` when the station starts with another firmware version than the one it ran
  before (the version is kept in the document ``secfirmware``);
* ``SettingSystemTime`` when the CSMS moves a clock it had already set by more than the threshold
  (2.0.1 ``ClockCtrlr.TimeAdjustmentReportingThreshold``, 1.6: 20 s); the first setting after a
  start is not reported (the unset clock is a guess, not a time);
* ``ReconfigurationOfSecurityParameters`` when a security key changes (1.6 ``AuthorizationKey``,
  ``SecurityProfile``; 2.0.1 ``SecurityCtrlr.BasicAuthPassword``, ``SecurityCtrlr.SecurityProfile``,
  ``NetworkConfigurationPriority``): the key's name, never its value;
* ``InvalidMessages`` when a CALL is refused for its schema or framing (the engine tells,
  ``invalid_message``);
* ``MemoryExhaustion`` when the Store starts refusing writes (disk full, quota: the RetryingStore
  keeps them in memory), once per episode.

Everything else is raised by whoever observes it through ``raise_event``: the transport (a 401 at
connect: ``FailedToAuthenticateAtCsms``; TLS failures; a refused server certificate), firmware
signature checks, the certificate store, the Control Center's tamper button (``ChargePoint.
security_event``). ``techInfo`` is composed by the raiser and never holds a secret value.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, NamedTuple

from ocpp_core.block import Block
from ocpp_core.clock import format_datetime
from ocpp_core.events import SecurityEventRaised
from ocpp_core.journal import Journal, JournalNames, JournalOwner, JournalSource, sequence_of
from ocpp_core.log import logger
from ocpp_core.outbox import PRIORITY_TRANSACTIONS

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from ocpp_core.context import BlockContext
    from ocpp_core.journal import Entry
    from ocpp_core.rpc import JsonObject

__all__ = [
    "EVENTS",
    "LOG_LIMIT",
    "V16",
    "V201",
    "SecurityEventRecord",
    "SecurityEventsBlock",
    "SecurityTable",
]

LOG = "seclog/"
FIRMWARE = "secfirmware"
NAMES = JournalNames("secmsg/", "secseq", "sec-")
LOG_LIMIT = 500  # events kept in the security log
ATTEMPTS = 5  # CALLERRORs before a notification is given up
RETRY_INTERVAL = 30  # seconds per attempt made
TECH_INFO_MAX = 255  # techInfo is string[0..255] in both versions
CLOCK_THRESHOLD = 20  # seconds; 2.0.1 reads ClockCtrlr.TimeAdjustmentReportingThreshold

# 2.0.1 name -> (1.6 name or None: not in the whitepaper's list, critical in 1.6, critical in 2.0.1)
EVENTS: Mapping[str, tuple[str | None, bool, bool]] = {
    "FirmwareUpdated": ("FirmwareUpdated", True, True),
    "FailedToAuthenticateAtCsms": ("FailedToAuthenticateAtCentralSystem", False, False),
    "CsmsFailedToAuthenticate": ("CentralSystemFailedToAuthenticate", False, False),
    "SettingSystemTime": ("SettingSystemTime", True, True),
    "StartupOfTheDevice": ("StartupOfTheDevice", True, True),
    "ResetOrReboot": ("ResetOrReboot", True, True),
    "SecurityLogWasCleared": ("SecurityLogWasCleared", True, True),
    "ReconfigurationOfSecurityParameters": ("ReconfigurationOfSecurityParameters", False, False),
    "MemoryExhaustion": ("MemoryExhaustion", True, True),
    "InvalidMessages": ("InvalidMessages", False, False),
    "AttemptedReplayAttacks": ("AttemptedReplayAttacks", False, False),
    "TamperDetectionActivated": ("TamperDetectionActivated", True, True),
    "InvalidFirmwareSignature": ("InvalidFirmwareSignature", False, False),
    "InvalidFirmwareSigningCertificate": ("InvalidFirmwareSigningCertificate", False, False),
    "InvalidCsmsCertificate": ("InvalidCentralSystemCertificate", False, True),
    "InvalidChargingStationCertificate": ("InvalidChargePointCertificate", False, True),
    "InvalidTLSVersion": ("InvalidTLSVersion", False, True),
    "InvalidTLSCipherSuite": ("InvalidTLSCipherSuite", False, True),
    "MaintenanceLoginAccepted": (None, False, True),
    "MaintenanceLoginFailed": (None, False, True),
}


class SecurityTable(NamedTuple):
    """One version's security events: the name it sends for each, which are critical, and the
    configuration keys that are security parameters."""

    names: Mapping[str, str]  # 2.0.1 name -> this version's name
    critical: frozenset[str]  # 2.0.1 names
    parameters: tuple[str, ...]  # configuration keys whose change is reported (if declared)
    clock_threshold_key: str | None = None  # an integer key (seconds), else CLOCK_THRESHOLD


V16 = SecurityTable(
    {name: v16 for name, (v16, _, _) in EVENTS.items() if v16 is not None},
    frozenset(name for name, (v16, critical, _) in EVENTS.items() if v16 and critical),
    ("AuthorizationKey", "SecurityProfile", "CpoName", "CertificateStoreMaxLength"),
)
V201 = SecurityTable(
    {name: name for name in EVENTS},
    frozenset(name for name, (_, _, critical) in EVENTS.items() if critical),
    (
        "SecurityCtrlr.BasicAuthPassword",
        "SecurityCtrlr.SecurityProfile",
        "SecurityCtrlr.OrganizationName",
        "OCPPCommCtrlr.NetworkConfigurationPriority",
        "OCPPCommCtrlr.NetworkProfileConnectionAttempts",
    ),
    "ClockCtrlr.TimeAdjustmentReportingThreshold",
)


class SecurityEventRecord(NamedTuple):
    """One entry of the security log, as the station API shows it."""

    seq: int
    type: str  # the version's name
    timestamp: str
    tech_info: str
    critical: bool  # sent as SecurityEventNotification
    wall: float  # epoch seconds of ``timestamp``


class SecurityEventsBlock(Block, JournalOwner, JournalSource):
    """The security log and the queue of critical events' notifications (a request source)."""

    __slots__ = (
        "_clock_offset",
        "_exhausted",
        "_generation",
        "_journal",
        "_log",
        "_log_floor",
        "_now",
        "_parameters",
        "_started",
        "_unsynced",
        "table",
    )

    sends = ("SecurityEventNotification",)
    priority = PRIORITY_TRANSACTIONS - 5  # after statuses, before queued transaction messages

    def __init__(self, ctx: BlockContext, *, table: SecurityTable) -> None:
        super().__init__(ctx)
        self.table = table
        self._log: deque[SecurityEventRecord] = deque()
        self._load_log()
        self._journal = Journal(ctx.store, self, NAMES)
        for name in self._journal.load(0):
            logger().error("security notification %s is unreadable; deleted", name)
            ctx.store.delete(name)
        # Events of this run taken before the CSMS set the clock: (record, entry, monotonic time).
        self._unsynced: list[tuple[SecurityEventRecord, Entry | None, float]] = []
        self._started = False
        self._generation = -1
        self._parameters: dict[str, str] = {}
        self._clock_offset: float | None = None
        self._exhausted = False  # the Store refuses writes (MemoryExhaustion raised)
        self._now = 0.0  # the latest poll's time (the reset hook is given none)
        self._log_floor = 0  # the last sequence number a cleared log used
        reset = ctx.reset_handler
        if reset is not None:
            ctx.reset_handler = self._resetting(reset)

    # ------------------------------------------------------------------ raising

    def raise_event(self, name: str, now: float, tech_info: str = "") -> SecurityEventRecord:
        """Store a security event (2.0.1 name) in the log and, if critical, queue its
        notification; ValueError for a name that is no standard event of this version."""
        table = self.table
        sent_name = table.names.get(name)
        if sent_name is None:
            raise ValueError(f"{name!r} is not a security event of this OCPP version")
        clock = self.ctx.clock
        timestamp = clock.timestamp(now)
        info = tech_info[:TECH_INFO_MAX]
        critical = name in table.critical
        record = SecurityEventRecord(
            self._next_log_seq(), sent_name, timestamp, info, critical, clock.wall(now)
        )
        self._append_log(record)
        ctx = self.ctx
        if ctx.watched:
            ctx.emit(SecurityEventRaised(sent_name, timestamp, info, critical))
        logger().info("security event %s%s", sent_name, f": {info}" if info else "")
        entry = None
        if critical:
            payload: JsonObject = {"type": sent_name, "timestamp": timestamp}
            if info:
                payload["techInfo"] = info
            entry = self._journal.append("SecurityEventNotification", payload, None, None, now)
        if not clock.is_synced:
            self._unsynced.append((record, entry, now))
        return record

    def invalid_message(self, action: str | None, detail: str, now: float) -> None:
        """A CALL refused for its schema or framing (the engine tells)."""
        self.raise_event("InvalidMessages", now, f"{action or 'CALL'}: {detail}")

    def _resetting(self, reset: Callable[[str], bool | None]) -> Callable[[str], bool | None]:
        def hook(kind: str) -> bool | None:
            self.raise_event("ResetOrReboot", self._now, f"{kind} reset")
            return reset(kind)

        return hook

    # ------------------------------------------------------------------ the log

    def events(self) -> list[SecurityEventRecord]:
        """The security log, oldest first."""
        return list(self._log)

    def clear(self, now: float) -> None:
        """Empty the security log; the clearing itself is its first new event."""
        store = self.ctx.store
        for record in self._log:
            store.delete(_log_name(record.seq))
        seq = self._log[-1].seq if self._log else 0
        self._log.clear()
        self._log_floor = seq
        self.raise_event("SecurityLogWasCleared", now)

    def log_text(self, window: tuple[float | None, float | None]) -> str:
        """The security log as the text GetLog(SecurityLog) uploads: one event per line
        between two wall times (epoch seconds, None: unbounded)."""
        start, stop = window
        lines = [
            "\t".join(
                (
                    record.timestamp,
                    record.type,
                    "critical" if record.critical else "-",
                    record.tech_info,
                )
            )
            for record in self._log
            if (start is None or record.wall >= start) and (stop is None or record.wall <= stop)
        ]
        return "\n".join(lines) if lines else "(no security events in this window)"

    def log_file(
        self,
        file_name: str,
        version: str,
        window: tuple[float | None, float | None],
        now: float,
    ) -> bytes:
        """The file GetLog(SecurityLog) uploads: who the station is, then the log's events
        within ``window``, tab-separated (the format is not prescribed: N01)."""
        identity, clock = self.ctx.identity, self.ctx.clock
        start, stop = (format_datetime(t) if t is not None else "-" for t in window)
        lines = [
            f"OCPP {version} security log: {file_name}",
            f"station: {identity.vendor} {identity.model}",
            f"serial number: {identity.serial_number or '-'}",
            f"firmware version: {identity.firmware_version or '-'}",
            f"generated: {clock.timestamp(now)}",
            f"requested log window: {start} to {stop}",
            "",
            "timestamp\ttype\tcritical\ttechInfo",
            self.log_text(window),
        ]
        return ("\n".join(lines) + "\n").encode("utf-8", "backslashreplace")

    def _load_log(self) -> None:
        store = self.ctx.store
        for name in store.names(LOG):
            seq = sequence_of(name, LOG)
            document = store.load(name)
            record = _record_from(seq, document)
            if record is None:
                logger().error("security log entry %s is unreadable; deleted", name)
                store.delete(name)
                continue
            self._log.append(record)

    def _next_log_seq(self) -> int:
        return max(self._log[-1].seq if self._log else 0, self._log_floor) + 1

    def _append_log(self, record: SecurityEventRecord) -> None:
        self._save_record(record)
        log = self._log
        log.append(record)
        while len(log) > LOG_LIMIT:
            self.ctx.store.delete(_log_name(log.popleft().seq))

    def _save_record(self, record: SecurityEventRecord) -> None:
        document: JsonObject = {
            "type": record.type,
            "timestamp": record.timestamp,
            "critical": record.critical,
            "wall": record.wall,
        }
        if record.tech_info:
            document["techInfo"] = record.tech_info
        try:
            self.ctx.store.save(_log_name(record.seq), document)
        except Exception:
            logger().exception("security log entry %d could not be stored", record.seq)

    # ------------------------------------------------------------------ what it observes

    def tick(self, now: float) -> None:
        self._now = now
        if not self._started:
            self._start(now)
        if self._unsynced and self.ctx.clock.is_synced:
            self._resync()
        config = self.ctx.config
        if config.generation != self._generation:
            self._generation = config.generation
            self._check_parameters(now)
        self._check_clock(now)
        pending = self.ctx.store.pending
        if bool(pending) != self._exhausted:
            self._exhausted = bool(pending)
            if pending:
                info = f"storage refuses writes: {pending} kept in memory"
                self.raise_event("MemoryExhaustion", now, info)

    def _start(self, now: float) -> None:
        self._started = True
        if self._journal.needs_resume:
            self._journal.resume(now)
        self.raise_event("StartupOfTheDevice", now)
        ctx = self.ctx
        version = ctx.identity.firmware_version or ""
        before = ctx.store.load(FIRMWARE)
        if isinstance(before, str) and before != version:
            self.raise_event("FirmwareUpdated", now, f"from {before or '-'} to {version or '-'}")
        if before != version:
            ctx.store.save(FIRMWARE, version)
        self._clock_offset = self._offset(now)

    def _resync(self) -> None:
        """The CSMS set the clock: the events this run took before get the time it is now
        known they happened at, in the log and in their unsent notifications."""
        clock, log = self.ctx.clock, self._log
        for record, entry, taken in self._unsynced:
            timestamp = clock.timestamp(taken)
            for index, kept in enumerate(log):
                if kept.seq == record.seq:
                    log[index] = fixed = record._replace(
                        timestamp=timestamp, wall=clock.wall(taken)
                    )
                    self._save_record(fixed)
                    break
            if entry is not None and entry.request is None and entry in self._journal:
                entry.payload = {**entry.payload, "timestamp": timestamp}
                self._journal.rewrite(entry)
        self._unsynced = []

    def _check_parameters(self, now: float) -> None:
        config = self.ctx.config
        table = config.table
        current = {}
        for name in self.table.parameters:
            key = table.find(name)
            if key is not None:
                current[name] = config.text(key)
        if self._parameters:
            for name, text in current.items():
                if self._parameters.get(name) != text:
                    self.raise_event("ReconfigurationOfSecurityParameters", now, f"{name} changed")
        self._parameters = current

    def _offset(self, now: float) -> float | None:
        clock = self.ctx.clock
        return clock.wall(now) - now if clock.is_synced else None

    def _check_clock(self, now: float) -> None:
        offset = self._offset(now)
        before = self._clock_offset
        self._clock_offset = offset
        if offset is None or before is None:
            return
        jump = offset - before
        if abs(jump) > self._clock_threshold():
            wall = self.ctx.clock.wall(now)
            self.raise_event(
                "SettingSystemTime",
                now,
                f"clock set from {format_datetime(wall - jump)} to {format_datetime(wall)}",
            )

    def _clock_threshold(self) -> int:
        name = self.table.clock_threshold_key
        config = self.ctx.config
        if name is not None and config.table.find(name) is not None:
            return config.integer(name)
        return CLOCK_THRESHOLD

    # ------------------------------------------------------------------ JournalOwner

    def attempts(self) -> int:
        return ATTEMPTS

    def retry_interval(self) -> int:
        return RETRY_INTERVAL

    def discarded(self, entry: Entry, reason: str, now: float) -> None:
        logger().error("SecurityEventNotification %s given up: %s", entry.payload, reason)

    def source_journal(self) -> Journal:
        return self._journal

    @property
    def queued(self) -> int:
        """Notifications not yet confirmed by the CSMS."""
        return len(self._journal)


def _log_name(seq: int) -> str:
    return f"{LOG}{seq:010d}"


def _record_from(seq: int | None, document: object) -> SecurityEventRecord | None:
    if seq is None or not isinstance(document, dict):
        return None
    kind, timestamp = document.get("type"), document.get("timestamp")
    info, critical, wall = (
        document.get("techInfo", ""),
        document.get("critical"),
        document.get("wall"),
    )
    if not (isinstance(kind, str) and isinstance(timestamp, str) and isinstance(info, str)):
        return None
    if type(critical) is not bool or not isinstance(wall, (int, float)):
        return None
    return SecurityEventRecord(seq, kind, timestamp, info, critical, float(wall))
