"""What every functional block of one engine shares: its services, never its peers.

A block is built as ``SomeBlock(ctx, peer=..., ...)`` by its version's wiring function: ``ctx``
carries the engine's services (configuration, clock, store, connectors, events, request queues,
outbox, link state, the station's identity and reset hook) and the constructor arguments carry the
other blocks it talks to, by name. A block never looks a peer up at run time, so what depends on
what is written in one place per version (``ocpp_core/<version>/wiring.py``).

The context is also the ``Configuration``'s context: computed keys and ``accept`` checks read
``connectors`` and ``assembly``, and a change is reported through ``emit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.log import logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.assembly import Assembly
    from ocpp_core.clock import Clock
    from ocpp_core.config import Configuration
    from ocpp_core.connector import ConnectorIO
    from ocpp_core.events import Event
    from ocpp_core.identity import StationIdentity
    from ocpp_core.outbox import Outbox, RequestQueue
    from ocpp_core.store import RetryingStore

__all__ = ["BlockContext"]


class BlockContext:
    """One engine's services, as its blocks see them.

    ``config`` is set right after the context (the Configuration reports through it) and
    ``outbox`` once the wiring has named the request sources; blocks use both only at run time.
    ``connected``, ``accepting_calls`` and ``call_refusal`` are the link state: the engine sets
    the first, the registration (BootNotification) the others. ``identity`` is replaced when an
    installed firmware changes the version the station boots with.
    """

    __slots__ = (
        "_subscribers",
        "accepting_calls",
        "assembly",
        "call_refusal",
        "clock",
        "config",
        "connected",
        "connectors",
        "identity",
        "outbox",
        "queue",
        "reset_handler",
        "store",
        "triggered",
        "watched",
    )

    config: Configuration
    outbox: Outbox

    def __init__(
        self,
        assembly: Assembly,
        *,
        identity: StationIdentity,
        connectors: tuple[ConnectorIO, ...],
        store: RetryingStore,
        clock: Clock,
        queue: RequestQueue,
        triggered: RequestQueue,
        reset_handler: Callable[[str], bool | None] | None,
    ) -> None:
        self.assembly = assembly
        self.identity = identity
        self.connectors = connectors
        self.store = store
        self.clock = clock
        self.queue = queue  # one-off requests (DataTransfer, notices), after Accepted
        self.triggered = triggered  # what TriggerMessage asked for, also before Accepted
        self.reset_handler = reset_handler
        self.connected = False
        self.accepting_calls = True
        # The CALLERROR code CSMS calls get while not accepted (None: they are ignored).
        self.call_refusal: str | None = None
        self.watched = False  # anyone subscribed: events are built only then
        self._subscribers: tuple[Callable[[Event], None], ...] = ()

    def emit(self, event: Event) -> None:
        """Hand an event to every subscriber; a raising subscriber is logged and skipped."""
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:
                logger().exception("event subscriber failed on %s", type(event).__name__)

    def subscribe(self, subscriber: Callable[[Event], None]) -> Callable[[], None]:
        """Add an event subscriber; returns the function that removes it."""
        if not callable(subscriber):
            raise TypeError("subscriber must be callable: subscriber(event)")
        self._subscribers = (*self._subscribers, subscriber)
        self.watched = True

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)
            self.watched = bool(self._subscribers)

        return unsubscribe
