"""NotifyEvent (OCPP 2.0.1 N07, N08): the events monitors raise, queued, paged and persisted.

An event gets the next ``eventId`` (increasing across reboots) and waits in the queue, which is
kept in the document ``monitorevents`` with the counter, so neither is lost by a reboot or while
offline. Raised while the station is offline, an event is queued only when its monitor's severity
is at most ``MonitoringCtrlr.OfflineQueuingSeverity`` (N07.FR.04, N08.FR.03); others are dropped.
At most MAX_QUEUED events wait (the oldest go first).

What waits when the outbox asks is one batch: NotifyEvent messages of at most EVENTS_PER_MESSAGE
events, ``seqNo`` 0, 1, ... and ``tbc`` true on all but the last (N07.FR.07, N08.FR.04). A message
the CSMS refused or never answered is dropped (logged); a lost connection re-sends it first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.log import logger
from ocpp_core.outbox import PRIORITY_CALLS, Request, RequestSource

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.outbox import CallFailure
    from ocpp_core.v201.payloads import EventDataType, NotifyEventRequest

__all__ = ["DOCUMENT", "EVENTS_PER_MESSAGE", "MAX_QUEUED", "EventQueue"]

DOCUMENT = "monitorevents"
EVENTS_PER_MESSAGE = 10
MAX_QUEUED = 200


class EventQueue(RequestSource):
    """The NotifyEvent request source: events waiting, the one in flight, the counter."""

    __slots__ = ("_batch", "_given_back", "_inflight", "_queue", "_seq_no", "ctx", "next_event")

    priority = PRIORITY_CALLS

    def __init__(self, ctx: BlockContext) -> None:
        self.ctx = ctx
        self.next_event = 1
        self._queue: list[EventDataType] = []
        self._inflight: list[EventDataType] = []
        self._given_back: list[Request] = []
        self._batch = 0  # events left in the batch being sent
        self._seq_no = 0
        stored = ctx.store.load(DOCUMENT)
        if isinstance(stored, dict):
            counter, queue = stored.get("next"), stored.get("queue")
            if type(counter) is int and counter > 0:
                self.next_event = counter
            if isinstance(queue, list):
                self._queue = [event for event in queue if isinstance(event, dict)]  # type: ignore[misc]
        elif stored is not None:
            logger().warning("stored monitoring events are unreadable; none restored")

    def raise_event(self, event: EventDataType, severity: int, now: float) -> bool:
        """Queue an event (its eventId is set here); False: dropped while offline."""
        ctx = self.ctx
        if not ctx.connected and severity > ctx.config.integer(
            "MonitoringCtrlr.OfflineQueuingSeverity"
        ):
            logger().info("event of monitor %s dropped offline", event.get("variableMonitoringId"))
            return False
        event["eventId"] = self.next_event
        self.next_event += 1
        self._queue.append(event)
        del self._queue[: max(0, len(self._queue) - MAX_QUEUED)]
        self._save()
        return True

    def pending(self) -> list[EventDataType]:
        """The events not yet delivered, oldest first."""
        return [*self._inflight, *self._queue]

    def _save(self) -> None:
        self.ctx.store.save(DOCUMENT, {"next": self.next_event, "queue": self.pending()})

    # ------------------------------------------------------------------ RequestSource

    def take(self, now: float) -> Request | None:
        if self._given_back:
            return self._given_back.pop(0)
        if not self._queue or self._inflight:
            return None
        if self._batch <= 0:
            self._batch, self._seq_no = len(self._queue), 0
        count = min(EVENTS_PER_MESSAGE, self._batch, len(self._queue))
        self._inflight, self._queue = self._queue[:count], self._queue[count:]
        self._batch -= count
        payload: NotifyEventRequest = {
            "generatedAt": self.ctx.clock.timestamp(now),
            "seqNo": self._seq_no,
            "eventData": list(self._inflight),
        }
        self._seq_no += 1
        if self._batch > 0 and self._queue:
            payload["tbc"] = True
        else:
            self._batch = 0
        return Request("NotifyEvent", payload, self._delivered, self._failed)

    def give_back(self, request: Request, now: float) -> None:
        self._given_back.insert(0, request)

    def wakeup(self, now: float) -> float | None:
        return now if self._given_back or (self._queue and not self._inflight) else None

    def _delivered(self, payload: object, now: float) -> None:
        self._inflight = []
        self._save()

    def _failed(self, failure: CallFailure, now: float) -> None:
        logger().warning("a NotifyEvent got no answer (%s); its events are dropped", failure.kind)
        self._inflight = []
        self._save()
