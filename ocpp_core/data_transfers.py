"""DataTransfer in both directions, shared by every protocol version (1.6 §4.3/§5.6, 2.0.1 P01/P02).

Incoming: the station registers handlers by vendorId and optionally messageId (matched ignoring
case). Unknown vendorId -> UnknownVendorId (without data); known vendor but no handler for the
messageId and no vendor-wide handler -> UnknownMessageId. A handler returns a status string or a
``(status, data)`` pair; anything else is an InternalError. Handlers get ``data`` as text: a
version whose ``data`` may be any JSON value (2.0.1) hands a non-string one over as its compact
JSON text, so one handler serves both versions.

Outgoing: ``send`` queues a DataTransfer request (sent once the BootNotification is Accepted)
and reports the outcome to a callback as a DataTransferResult.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ocpp_core.block import Block
from ocpp_core.engine import check_now
from ocpp_core.operations import DataTransferResult
from ocpp_core.outbox import Request

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.context import BlockContext
    from ocpp_core.outbox import CallFailure
    from ocpp_core.rpc import JsonObject

    # handler(messageId, data) -> status, or (status, data)
    VendorHandler = Callable[[str | None, str | None], str | tuple[str, str | None]]

__all__ = ["DataTransferResult", "DataTransfers"]

STATUSES = frozenset({"Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"})


class DataTransfers(Block):
    """Vendor handlers for incoming DataTransfer and the sender of outgoing ones; a version's
    block adds the ``@on("DataTransfer")`` handler that calls ``answer``."""

    __slots__ = ("_vendors",)

    sends = ("DataTransfer",)

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        self._vendors: dict[str, dict[str | None, VendorHandler]] | None = None

    def register(
        self, vendor_id: str, handler: VendorHandler, message_id: str | None = None
    ) -> None:
        """Handle DataTransfer for ``vendor_id`` (and ``message_id``; None: any message).

        TypeError for a non-string id or a handler that cannot be called.
        """
        if not isinstance(vendor_id, str):
            raise TypeError(f"vendor_id must be a string, not {type(vendor_id).__name__}")
        if message_id is not None and not isinstance(message_id, str):
            raise TypeError(f"message_id must be a string, not {type(message_id).__name__}")
        if not callable(handler):
            raise TypeError("handler must be callable: handler(message_id, data)")
        if self._vendors is None:
            self._vendors = {}
        by_message = self._vendors.setdefault(vendor_id.lower(), {})
        by_message[None if message_id is None else message_id.lower()] = handler

    def answer(self, payload: JsonObject) -> JsonObject:
        """The DataTransfer response for a (schema-checked) request."""
        handlers = (self._vendors or {}).get(str(payload["vendorId"]).lower())
        if handlers is None:
            return {"status": "UnknownVendorId"}
        message_id = payload.get("messageId")
        assert message_id is None or isinstance(message_id, str)  # the schema says string
        handler = handlers.get(message_id.lower()) if message_id is not None else None
        if handler is None:
            handler = handlers.get(None)
        if handler is None:
            return {"status": "UnknownMessageId"}
        outcome = handler(message_id, _text(payload.get("data")))
        status, data = (outcome, None) if isinstance(outcome, str) else outcome
        if status not in STATUSES or not (data is None or isinstance(data, str)):
            raise TypeError("a DataTransfer handler must return a status or (status, data)")
        response: JsonObject = {"status": status}
        if data is not None and status != "UnknownVendorId":
            response["data"] = data
        return response

    def send(
        self,
        vendor_id: str,
        message_id: str | None,
        data: str | None,
        callback: Callable[[DataTransferResult], None] | None,
        now: float,
    ) -> None:
        """Queue a DataTransfer request; ValueError for fields the schema would refuse or a
        non-finite ``now``."""
        check_now(now)
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable")
        if not isinstance(vendor_id, str) or len(vendor_id) > 255:
            raise ValueError("vendor_id must be a string of at most 255 characters")
        payload: JsonObject = {"vendorId": vendor_id}
        if message_id is not None:
            if not isinstance(message_id, str) or len(message_id) > 50:
                raise ValueError("message_id must be a string of at most 50 characters")
            payload["messageId"] = message_id
        if data is not None:
            if not isinstance(data, str):
                raise ValueError("data must be a string")
            payload["data"] = data

        def answered(response: JsonObject, now: float) -> None:
            if callback is not None:
                status = response["status"]
                assert isinstance(status, str)  # the response schema says so
                callback(DataTransferResult(status, _text(response.get("data"))))

        def failed(failure: CallFailure, now: float) -> None:
            if callback is not None:
                callback(DataTransferResult(None, None, failure))

        self.ctx.queue.push(Request("DataTransfer", payload, answered, failed), now)


def _text(data: object) -> str | None:
    """``data`` as handlers and callbacks get it: text, a non-string JSON value as its JSON."""
    if data is None or isinstance(data, str):
        return data
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
