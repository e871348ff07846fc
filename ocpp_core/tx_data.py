"""The meter values a running transaction collects for its final message, per connector.

OCPP 1.6 StopTransaction's ``transactionData`` and OCPP 2.0.1 TransactionEvent Ended's
``meterValue`` are both a list of MeterValue objects (``timestamp`` and ``sampledValue``) taken
during the transaction, with the Transaction.Begin value first (1.6) and the Transaction.End value
last. At most ``limit`` are kept: when one more arrives, the intermediate value whose neighbours
are closest in time goes, so the values stay spread over the whole transaction and the first and
the newest (End, at the stop) are never dropped (1.6 errata 3.89: "The Start and Stop meter
values SHALL never be dropped").

A running transaction's values survive a restart: they are the Store document
``txdata/<connector>`` (a JSON list of MeterValue objects), rewritten once per sample that adds to
it and deleted when the transaction stops. When nothing is configured to be collected nothing is
written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_core.clock import parse_datetime
from ocpp_core.log import logger

if TYPE_CHECKING:
    from ocpp_core.store import Store

__all__ = ["TransactionData"]


class TransactionData:
    """The transactionData being collected on each connector, loaded from the Store on demand."""

    __slots__ = ("_buffers", "_limit", "_store")

    def __init__(self, store: Store, connectors: int, limit: int) -> None:
        self._store = store
        self._limit = limit
        # None: not loaded yet
        self._buffers: list[list[dict[str, Any]] | None] = [None] * connectors

    def start(self, connector: int, begin: dict[str, Any] | None) -> None:
        """A transaction began: drop what a previous one left, keep its Begin sample."""
        buffer = [] if begin is None else [begin]
        self._buffers[connector] = buffer
        if buffer:
            self._save(connector, buffer)
        else:
            self._store.delete(_name(connector))

    def add(self, connector: int, meter_value: dict[str, Any]) -> None:
        """One more sample of the running transaction."""
        buffer = self._load(connector)
        buffer.append(meter_value)
        _thin(buffer, self._limit)
        self._save(connector, buffer)

    def finish(self, connector: int, end: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The transaction stopped: its whole transactionData, with the End sample last."""
        buffer = self._load(connector)
        if end is not None:
            buffer.append(end)
            _thin(buffer, self._limit)
        self._buffers[connector] = None
        self._store.delete(_name(connector))
        return buffer

    def _load(self, connector: int) -> list[dict[str, Any]]:
        buffer = self._buffers[connector]
        if buffer is None:
            stored = self._store.load(_name(connector))
            buffer = []
            if stored is not None:
                if isinstance(stored, list) and all(_is_meter_value(v) for v in stored):
                    buffer = stored
                else:
                    logger().warning(
                        "stored transaction data of %d is unusable; dropped", connector
                    )
            self._buffers[connector] = buffer
        return buffer

    def _save(self, connector: int, buffer: list[dict[str, Any]]) -> None:
        self._store.save(_name(connector), buffer)


def _name(connector: int) -> str:
    return f"txdata/{connector}"


def _is_meter_value(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    sampled = value.get("sampledValue")
    if not isinstance(sampled, list) or not sampled:
        return False
    timestamp = value.get("timestamp")
    try:
        parse_datetime(timestamp if isinstance(timestamp, str) else "")
    except ValueError:
        return False
    return True


def _thin(buffer: list[dict[str, Any]], limit: int) -> None:
    """Drop intermediate values until the cap holds (never the first or the last)."""
    while len(buffer) > limit:
        times = [parse_datetime(value["timestamp"]) for value in buffer]
        gaps = [times[i + 1] - times[i - 1] for i in range(1, len(buffer) - 1)]
        del buffer[1 + gaps.index(min(gaps))]
