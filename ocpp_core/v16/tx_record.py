"""A 1.6 transaction as the journal knows it, and its record (the Store document ``tx/<local id>``).

The record is written when the StartTransaction is answered (or discarded): the CSMS's
transactionId (-1 if discarded, errata 3.18), what the transaction started with, whether the
answer was not Accepted (``invalid``) and the highest energy register journaled so far
(``lastMeter``, a number: saved again with each MeterValues that raises it). It is deleted
when the StopTransaction is answered or discarded (ocpp_core.v16.tx_journal says when).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.tx_records import RECORDS, record_name

if TYPE_CHECKING:
    from ocpp_core.journal import Entry

__all__ = ["RECORDS", "Transaction", "record_name", "transaction_from"]


class Transaction:
    """A transaction from its StartTransaction until its StopTransaction is settled."""

    __slots__ = (
        "closed",
        "connector",
        "id_tag",
        "invalid",
        "last_meter",
        "local_id",
        "meter_start",
        "parent_id_tag",
        "reservation_id",
        "start",
        "stop_entry",
        "stopped",
        "transaction_id",
    )

    def __init__(
        self,
        local_id: int,
        connector: int,
        id_tag: str,
        parent_id_tag: str | None,
        meter_start: int,
        start: str,
        reservation_id: int | None,
    ) -> None:
        self.local_id = local_id
        self.connector = connector
        self.id_tag = id_tag
        self.parent_id_tag = parent_id_tag
        self.meter_start = meter_start
        self.start = start  # the StartTransaction timestamp
        self.reservation_id = reservation_id
        self.transaction_id: int | None = None  # from the CSMS; -1 if the Start was discarded
        self.invalid = False  # the StartTransaction.conf was not Accepted
        self.last_meter = meter_start  # the highest energy register journaled (Wh)
        self.stopped = False
        self.stop_entry: Entry | None = None
        self.closed = False  # its stored data was damaged: stopped at load, never resumed

    def record(self) -> dict[str, object]:
        record: dict[str, object] = {
            "connector": self.connector,
            "idTag": self.id_tag,
            "meterStart": self.meter_start,
            "timestamp": self.start,
            "transactionId": self.transaction_id,
        }
        if self.parent_id_tag is not None:
            record["parentIdTag"] = self.parent_id_tag
        if self.reservation_id is not None:
            record["reservationId"] = self.reservation_id
        if self.invalid:
            record["invalid"] = True
        if self.last_meter > self.meter_start:
            record["lastMeter"] = self.last_meter
        return record


def transaction_from(
    local_id: int, fields: dict[str, object], parent: object
) -> Transaction | None:
    """A Transaction from a record or a StartTransaction payload; None if it is not one."""
    connector = fields.get("connector", fields.get("connectorId"))
    id_tag, meter, start = fields.get("idTag"), fields.get("meterStart"), fields.get("timestamp")
    reservation = fields.get("reservationId")
    if not (
        type(connector) is int
        and isinstance(id_tag, str)
        and type(meter) is int
        and isinstance(start, str)
        and (reservation is None or type(reservation) is int)
        and (parent is None or isinstance(parent, str))
    ):
        return None
    return Transaction(local_id, connector, id_tag, parent, meter, start, reservation)
