"""StopTransaction's ``transactionData`` (OCPP 1.6 §3.16, errata 3.14 and 3.89), per connector.

A transaction collects its Transaction.Begin sample, its clock-aligned (StopTxnAlignedData) and
periodic (StopTxnSampledData) samples and finally its Transaction.End sample. At most
MAX_METER_VALUES are kept (announced as StopTransactionMaxMeterValues): when one more arrives,
the intermediate value whose neighbours are closest in time goes, so the values stay spread over
the whole transaction and the first (Begin) and the newest (End, at the stop) are never dropped
(errata 3.89: "The Start and Stop meter values SHALL never be dropped"). MicroOcpp keeps 4 and
overwrites the last one; 10 keeps a useful curve while a StopTransaction stays a few kB.

A running transaction's values survive a restart: they are the Store document
``txdata/<connector>`` (a JSON list of MeterValue objects), rewritten once per sample that adds to
it and deleted when the transaction stops. With StopTxnSampledData and StopTxnAlignedData empty
(the defaults) nothing is collected and nothing is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_core.clock import parse_datetime
from ocpp_core.log import logger

if TYPE_CHECKING:
    from ocpp_core.store import Store

__all__ = ["MAX_METER_VALUES", "TransactionData"]

MAX_METER_VALUES = 10


class TransactionData:
    """The transactionData being collected on each connector, loaded from the Store on demand."""

    __slots__ = ("_buffers", "_store")

    def __init__(self, store: Store, connectors: int) -> None:
        self._store = store
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
        _thin(buffer)
        self._save(connector, buffer)

    def finish(self, connector: int, end: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The transaction stopped: its whole transactionData, with the End sample last."""
        buffer = self._load(connector)
        if end is not None:
            buffer.append(end)
            _thin(buffer)
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


def _thin(buffer: list[dict[str, Any]]) -> None:
    """Drop intermediate values until the cap holds (never the first or the last)."""
    while len(buffer) > MAX_METER_VALUES:
        times = [parse_datetime(value["timestamp"]) for value in buffer]
        gaps = [times[i + 1] - times[i - 1] for i in range(1, len(buffer) - 1)]
        del buffer[1 + gaps.index(min(gaps))]
