"""What the demo CSMS knows about each charge box, kept so tests and tools can ask.

Payload dictionaries are stored as the `ocpp` package hands them to handlers: snake_case keys.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FRAME_HISTORY = 500
"""How many recent frames each station keeps; enough for a test, bounded for long sessions."""

ConnectorKey = tuple[int, int]
"""(evseId, connectorId). OCPP 1.6 has no EVSE level, so its keys are (0, connectorId)."""


@dataclass
class TransactionRecord:
    """One transaction as the CSMS saw it (1.6 integer ids, 2.0.1 string ids)."""

    transaction_id: int | str
    evse_id: int
    id_token: str | None = None
    started_at: str | None = None
    meter_start: int | None = None
    ended_at: str | None = None
    meter_stop: int | None = None
    stop_reason: str | None = None
    events: list[tuple[str, int, str]] = field(default_factory=list)
    """2.0.1: each TransactionEvent as (eventType, seqNo, triggerReason), in arrival order."""

    @property
    def active(self) -> bool:
        return self.ended_at is None


@dataclass
class StationState:
    """Connection, boot, status and transaction facts for one charge box id."""

    charge_box_id: str
    protocol: str | None = None
    connected: bool = False
    connected_at: datetime | None = None
    disconnected_at: datetime | None = None
    boot: dict[str, Any] | None = None
    boot_count: int = 0
    last_heartbeat_at: datetime | None = None
    connector_status: dict[ConnectorKey, str] = field(default_factory=dict)
    transactions: dict[int | str, TransactionRecord] = field(default_factory=dict)
    last_meter_values: list[Any] | None = None
    frames: deque[tuple[str, str]] = field(default_factory=lambda: deque(maxlen=FRAME_HISTORY))
    start_message_ids: dict[str, int | str] = field(default_factory=dict)
    """The transactionId the CSMS gave each StartTransaction, by the CALL's message id."""
    repeated_starts: int = 0
    """StartTransaction CALLs whose message id was seen before (answered with the same id)."""
    stop_message_ids: dict[int | str, list[str]] = field(default_factory=dict)
    """Every StopTransaction's message id per transactionId, in arrival order (a re-sent frame
    appears again under its id)."""

    def mark_connected(self, protocol: str) -> None:
        self.protocol = protocol
        self.connected = True
        self.connected_at = datetime.now(UTC)

    def mark_disconnected(self) -> None:
        self.connected = False
        self.disconnected_at = datetime.now(UTC)

    def record_boot(self, payload: dict[str, Any]) -> None:
        self.boot = dict(payload)
        self.boot_count += 1

    def active_transactions(self) -> list[TransactionRecord]:
        return [tx for tx in self.transactions.values() if tx.active]


class StationRegistry:
    """Every charge box id seen since the server started, connected or not."""

    def __init__(self) -> None:
        self._stations: dict[str, StationState] = {}

    def ensure(self, charge_box_id: str) -> StationState:
        """Return the state for an id, creating it on first sight."""
        state = self._stations.get(charge_box_id)
        if state is None:
            state = self._stations[charge_box_id] = StationState(charge_box_id)
        return state

    def get(self, charge_box_id: str) -> StationState | None:
        return self._stations.get(charge_box_id)

    def connected_ids(self) -> list[str]:
        return [cb_id for cb_id, state in self._stations.items() if state.connected]

    def __contains__(self, charge_box_id: object) -> bool:
        return charge_box_id in self._stations

    def __getitem__(self, charge_box_id: str) -> StationState:
        return self._stations[charge_box_id]

    def __iter__(self) -> Iterator[StationState]:
        return iter(list(self._stations.values()))

    def __len__(self) -> int:
        return len(self._stations)
