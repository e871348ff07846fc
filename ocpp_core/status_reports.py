"""Reporting derived statuses to the CSMS, and reading the error inputs: shared by every version.

A version's status block derives a status per reported unit (1.6: connector 0..N; 2.0.1: the
connector of EVSE 1..N) on each poll and keeps a ``Reporting`` per unit. ``StatusReporter`` is
the request source: a notification is due when (status, error) differs from the last one sent and
has been stable for the version's minimum duration; it carries the time of the transition.
Changes made while offline coalesce into the current status once the connection is back. A
notification the CSMS refuses or does not answer counts as sent (so a CSMS that rejects it is not
flooded); one lost to a disconnect is sent again.

Errors come from the connector's error inputs (``read_errors``): the first faulted one wins, else
the first warning; an error input that raises or returns something other than a str, an
ErrorRecord or None is logged once and reports no error until it works again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.connector import ERROR_CODES, ErrorRecord, UnusableValue
from ocpp_core.outbox import PRIORITY_STATUS, RequestSource

if TYPE_CHECKING:
    from ocpp_core.connector import ConnectorIO
    from ocpp_core.outbox import Request

__all__ = [
    "EV_COMMUNICATION_ERROR",
    "NO_ERROR",
    "Reporting",
    "Reports",
    "StatusReporter",
    "read_errors",
]

NO_ERROR = "NoError"
EV_COMMUNICATION_ERROR = "EVCommunicationError"
# Records for plain error codes, made once: an erroring input costs no allocation per poll.
_CODE_RECORDS = {
    code: ErrorRecord(code, faulted=code != EV_COMMUNICATION_ERROR) for code in ERROR_CODES
}


class Reporting:
    """Status of one unit as derived, as last sent, and as last confirmed by the CSMS."""

    __slots__ = ("acked", "error", "reported", "since", "status")

    def __init__(self) -> None:
        self.status: str | None = None
        self.error: ErrorRecord | None = None
        self.since = 0.0  # monotonic time of the latest change
        self.reported: tuple[str, ErrorRecord | None] | None = None
        self.acked: tuple[str, ErrorRecord | None] | None = None

    def pending(self) -> bool:
        reported = self.reported
        return reported is None or reported[0] != self.status or reported[1] != self.error

    def change(self, status: str, error: ErrorRecord | None, now: float) -> bool:
        """Record a newly derived status; True if it differs from the previous one."""
        if status == self.status and error == self.error:
            return False
        self.status, self.error, self.since = status, error, now
        return True


class Reports:
    """The Reporting of every unit, and whether any may have something to report."""

    __slots__ = ("maybe_pending", "states")

    def __init__(self, units: int) -> None:
        self.states = tuple(Reporting() for _ in range(units))
        # False once a scan found nothing to report: the idle poll then skips the scan.
        self.maybe_pending = True


class StatusReporter(RequestSource):
    """The request source of a status block (the block sets ``_reports``)."""

    __slots__ = ()

    priority = PRIORITY_STATUS
    _reports: Reports

    def minimum_duration(self) -> float:
        """How long a status must hold before it is reported (seconds)."""
        return 0.0

    def status_request(self, unit: int) -> Request:
        """The notification of ``unit``'s current status (marks it reported)."""
        raise NotImplementedError

    def unit_of(self, request: Request) -> int:
        """The unit a notification made by ``status_request`` reports."""
        raise NotImplementedError

    def take(self, now: float) -> Request | None:
        reports = self._reports
        if not reports.maybe_pending:
            return None
        minimum = self.minimum_duration()
        chosen = None
        waiting = False
        states = reports.states
        for unit, state in enumerate(states):
            if state.status is None or not state.pending():
                continue
            if now - state.since < minimum:
                waiting = True
            elif chosen is None or state.since < states[chosen].since:
                chosen = unit
        if chosen is None:
            reports.maybe_pending = waiting
            return None
        return self.status_request(chosen)

    def wakeup(self, now: float) -> float | None:
        minimum = self.minimum_duration()
        earliest = None
        for state in self._reports.states:
            if state.status is not None and state.pending():
                at = max(now, state.since + minimum)
                if earliest is None or at < earliest:
                    earliest = at
        return earliest

    def give_back(self, request: Request, now: float) -> None:
        state = self._reports.states[self.unit_of(request)]
        state.reported = state.acked  # lost with the connection: report the current status again
        self._reports.maybe_pending = True


def read_errors(io: ConnectorIO) -> ErrorRecord | None:
    """The error to report: the first faulted one, else the first warning, else None."""
    warning = None
    sample = io.sample
    for source in io.errors:
        record = sample(source, source, as_record)
        if record is None:
            continue
        if record.faulted:
            return record
        if warning is None:
            warning = record
    return warning


def as_record(value: object) -> ErrorRecord | None:
    """Normalise what an error input returned; unknown codes become OtherError.

    Raises UnusableValue for anything else than None, a str or a well-formed ErrorRecord.
    """
    if value is None:
        return None
    if isinstance(value, str):
        if not value or value == NO_ERROR:
            return None
        record = _CODE_RECORDS.get(value)
        return (
            record
            if record is not None
            else ErrorRecord("OtherError", vendor_error_code=value[:50])
        )
    if not isinstance(value, ErrorRecord):
        raise UnusableValue(f"{type(value).__name__}, expected str, ErrorRecord or None")
    code, info, vendor_id, vendor_error_code, faulted = value
    if not isinstance(code, str):
        raise UnusableValue(f"ErrorRecord code of type {type(code).__name__}")
    for name, text in (
        ("info", info),
        ("vendor_id", vendor_id),
        ("vendor_error_code", vendor_error_code),
    ):
        if text is not None and not isinstance(text, str):
            raise UnusableValue(f"ErrorRecord {name} of type {type(text).__name__}")
    if faulted is not True and faulted is not False:
        faulted = bool(faulted)
        value = ErrorRecord(code, info, vendor_id, vendor_error_code, faulted)
    if not code or code == NO_ERROR:
        return None
    if code not in ERROR_CODES:
        vendor_code = vendor_error_code or code[:50]
        return ErrorRecord("OtherError", info, vendor_id, vendor_code, faulted)
    return value
