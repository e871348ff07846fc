"""What the engine tells the application, as small immutable values.

Subscribers (``ChargePoint.subscribe``) receive every event; they are built only while someone
is subscribed, so an engine nobody watches pays nothing for them. Events (and the engine's other
value objects) are NamedTuples rather than frozen dataclasses: ``dataclasses`` and the code it
generates per class would add about half of the import-time budget of ``ocpp_core``.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "BootAccepted",
    "BootNotAccepted",
    "ConfigurationChanged",
    "Event",
    "FrameLogged",
    "ResetRequested",
    "StatusChanged",
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


Event = (
    FrameLogged
    | StatusChanged
    | BootAccepted
    | BootNotAccepted
    | ResetRequested
    | ConfigurationChanged
)
