"""What the engine tells the application, as small immutable values.

Subscribers (``ChargePoint.subscribe``) receive every event; they are built only while someone
is subscribed, so an engine nobody watches pays nothing for them. Events (and the engine's other
value objects) are NamedTuples rather than frozen dataclasses: ``dataclasses`` and the code it
generates per class would add about half of the import-time budget of ``ocpp_core``.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "AuthorizationResult",
    "BootAccepted",
    "BootNotAccepted",
    "ConfigurationChanged",
    "DiagnosticsProgress",
    "Event",
    "FirmwareProgress",
    "FrameLogged",
    "MessageDiscarded",
    "MeterSampled",
    "QueueLengthChanged",
    "RecordRepaired",
    "ReservationChanged",
    "ResetRequested",
    "Sample",
    "SecurityEventRaised",
    "SessionCancelled",
    "SessionStarted",
    "SessionStopped",
    "StatusChanged",
    "StoreFailed",
    "StoreRecovered",
]


class FrameLogged(NamedTuple):
    """A frame received or sent; write-only configuration values are masked in ``text``."""

    direction: str  # "in" | "out"
    text: str
    action: str | None  # the action of the CALL the frame is or answers, when known
    now: float


class StatusChanged(NamedTuple):
    """A connector's status or error code changed (reported to the CSMS as soon as allowed)."""

    connector: int
    status: str
    error_code: str


class BootAccepted(NamedTuple):
    """The CSMS accepted the BootNotification: normal operation starts."""

    heartbeat_interval: int


class BootNotAccepted(NamedTuple):
    """The CSMS answered Pending or Rejected; the BootNotification is retried after ``retry_in``."""

    status: str
    retry_in: float


class ResetRequested(NamedTuple):
    """The station is to reset now (``kind`` "Hard" or "Soft"); the reset hook runs next."""

    kind: str


class ConfigurationChanged(NamedTuple):
    """A configuration key got a new value (None for write-only keys: never shown)."""

    key: str
    value: str | None
    reboot_required: bool


class AuthorizationResult(NamedTuple):
    """An idTag was judged, for starting or for stopping a session on ``connector``.

    ``status`` is an idTagInfo status (Accepted, Blocked, Expired, Invalid, ConcurrentTx) or
    "Unknown" (the CSMS could not be asked and no local rule authorizes it); ``source`` says who
    decided: "csms", "cache", "local-list" or "offline" (AllowOfflineTxForUnknownId), and in 2.0.1
    also "unauthorized" (AuthCtrlr.Enabled false, type NoAuthorization) or "not-found"
    (DisableRemoteAuthorization, not known locally). ``id_tag`` is 2.0.1's idToken value.
    """

    connector: int
    id_tag: str
    status: str
    source: str


class SessionStarted(NamedTuple):
    """A transaction started: its StartTransaction is journaled (sent as soon as possible)."""

    connector: int
    local_id: int
    id_tag: str
    meter_start: int
    timestamp: str


class SessionStopped(NamedTuple):
    """A transaction stopped: its StopTransaction is journaled (``reason`` as sent)."""

    connector: int
    local_id: int
    reason: str
    meter_stop: int
    timestamp: str


class SessionCancelled(NamedTuple):
    """A session ended before its transaction started (no StartTransaction was sent).

    ``reason``: "Rejected" (not authorized), "ConnectionTimeOut" (no cable in time), "Local"
    (the card again, or the station), "Unavailable" (connector made inoperative), "Reset",
    "UnlockCommand", "ReservationConflict" (the connector is reserved for another idTag; also
    for a card refused at once for that reason).
    """

    connector: int
    id_tag: str
    reason: str


class MessageDiscarded(NamedTuple):
    """A transaction-related message was given up after TransactionMessageAttempts failures
    (OCPP 1.6 §3.7.1), or its journal entry was unreadable (``reason`` says which)."""

    action: str
    local_id: int | None
    attempts: int
    reason: str


class RecordRepaired(NamedTuple):
    """A stored transaction record or journaled message had a bad field at load (``problem``
    says which and what was done); ``closed``: the transaction could not be trusted to run on
    and is stopped, so that its StopTransaction still goes out."""

    document: str
    problem: str
    closed: bool


class QueueLengthChanged(NamedTuple):
    """The number of transaction-related messages waiting in the journal changed."""

    length: int


class ReservationChanged(NamedTuple):
    """A reservation began ("made", "replaced") or ended ("used" by its holder's transaction,
    "expired", "cancelled" by the CSMS, "terminated" by a Faulted or Unavailable connector).

    ``reservation`` is an ``ocpp_core.sessions.ReservationInfo``.
    """

    reservation: object
    change: str


class FirmwareProgress(NamedTuple):
    """A firmware update moved on (for the GUI; the CSMS hears only the OCPP statuses).

    ``status`` is the latest FirmwareStatus of the update (Idle before its first), ``percent``
    the progress of the current download or installation (None: not applicable or unknown),
    ``detail`` says what happens in words. A real download adds the image's ``size`` in bytes
    and ``sha256`` (hex) when it is Downloaded.
    """

    status: str
    percent: int | None
    detail: str
    size: int | None = None
    sha256: str | None = None


class DiagnosticsProgress(NamedTuple):
    """A diagnostics upload moved on: its latest DiagnosticsStatus, progress, words, file name."""

    status: str
    percent: int | None
    detail: str
    file_name: str | None = None


class Sample(NamedTuple):
    """One sampled value: the number a meter input gave, as the frame reports it, next to the
    frame's text, so nobody has to parse the text back.

    ``value`` is what ``text`` says (an integer as read, another number rounded as the text
    shows it); None for a signed reading without a plain number (``text`` is its signed data).
    """

    measurand: str
    value: int | float | None
    text: str
    unit: str | None
    phase: str | None
    location: str
    context: str
    signed: bool = False


class MeterSampled(NamedTuple):
    """A connector's meter was sampled for a MeterValues message (periodic, clock-aligned or
    triggered); ``samples`` are the values that message carries, in its order."""

    connector: int
    samples: tuple[Sample, ...]


class StoreFailed(NamedTuple):
    """Writing the document ``name`` to the Store failed (disk full, quota, permissions).

    ``kept``: the write is kept in memory (what the station reads sees it) and retried, with
    ``pending`` writes waiting in all; False: it was a change a CSMS asked for, refused instead
    (its CALL is answered with a failure and nothing changed). Raised when the Store starts
    failing and for each refused change; StoreRecovered follows once the writes went through.
    """

    name: str
    error: str
    pending: int
    kept: bool


class StoreRecovered(NamedTuple):
    """The Store takes writes again: the ``written`` writes kept in memory are now stored."""

    written: int


class SecurityEventRaised(NamedTuple):
    """A security event was stored in the security log (1.6 whitepaper, 2.0.1 A04): its
    version's name, timestamp, techInfo (never a secret) and whether it is ``critical`` (sent
    to the CSMS as SecurityEventNotification)."""

    type: str
    timestamp: str
    tech_info: str
    critical: bool


Event = (
    FrameLogged
    | StatusChanged
    | BootAccepted
    | BootNotAccepted
    | ResetRequested
    | ConfigurationChanged
    | AuthorizationResult
    | SessionStarted
    | SessionStopped
    | SessionCancelled
    | MessageDiscarded
    | RecordRepaired
    | QueueLengthChanged
    | ReservationChanged
    | FirmwareProgress
    | DiagnosticsProgress
    | StoreFailed
    | StoreRecovered
    | MeterSampled
    | SecurityEventRaised
)
