"""The "Security events" list's model (plain Python): the station's security log
(Station.security_events, 1.6 security whitepaper and 2.0.1 A04) as rows of text, newest first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ocpp_core.security_events import SecurityEventRecord

__all__ = ["SHOWN", "TAMPER", "SecurityEventLine", "security_event_lines"]

SHOWN = 50  # the newest events listed (the log keeps more; GetLog uploads them all)
TAMPER = ("TamperDetectionActivated", "tamper switch in the Control Center")


class SecurityEventLine(NamedTuple):
    """One logged security event: its test id and its cells."""

    key: str  # "security-event-7" (the log's sequence number)
    time: str  # "2023-11-14 22:13:20"
    type: str  # the version's event name
    sent: str  # "sent to the CSMS" (critical) or "logged"
    tech_info: str


def security_event_lines(
    records: Sequence[SecurityEventRecord], shown: int = SHOWN
) -> list[SecurityEventLine]:
    """The newest ``shown`` events, newest first."""
    return [
        SecurityEventLine(
            f"security-event-{record.seq}",
            record.timestamp[:19].replace("T", " "),
            record.type,
            "sent to the CSMS" if record.critical else "logged",
            record.tech_info,
        )
        for record in reversed(records[-shown:])
    ]
