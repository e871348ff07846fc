"""Functional blocks and their declarative routing (``@on("Reset")``, ``@trigger("Heartbeat")``).

A functional-block module is a Block subclass. Its methods marked ``@on(action)`` answer incoming
CALLs; methods marked ``@trigger(message)`` send a message on TriggerMessage's request. The marks
are collected once per class (``__init_subclass__``), so routing tables live on the classes and
no engine carries a copy.

Handler contract: ``handler(self, payload, now) -> response payload``. The payload has already
passed the request schema. To answer with a CALLERROR instead, raise CallRefused; any other
exception becomes an InternalError (logged with its traceback).

Trigger contract: ``trigger(self, connector_id, now) -> "Accepted" | "Rejected"``; it queues the
message(s) itself (normally on ``ctx.triggered``, which may send before boot is accepted).

A block is constructed by its version's wiring function with the engine's BlockContext and, as
keyword arguments, the peers it uses. What it does on a poll (``tick``), when it next has work
(``timer``) and whether it hears of a lost connection are methods the wiring function lists in
the Wiring it returns; the engine calls nothing a block does not appear in there for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, ClassVar, TypeVar

    from ocpp_core.config import KeyDef
    from ocpp_core.context import BlockContext

    # handler(block, payload, now) -> response; the payload and response types are the
    # generated ``XRequest``/``XResponse`` of the handler's action.
    Handler = Callable[[Any, Any, float], Mapping[str, object]]
    # sender(block, connector_id, now) -> "Accepted" | "Rejected" | "NotImplemented"
    Sender = Callable[[Any, int | None, float], str]
    Marked = TypeVar("Marked", bound=Callable[..., object])

__all__ = ["Block", "CallRefused", "on", "trigger"]


def on(action: str) -> Callable[[Marked], Marked]:
    """Mark a Block method as the handler of incoming CALLs of ``action``."""

    def mark(method: Marked) -> Marked:
        method._ocpp_action = action  # type: ignore[attr-defined]
        return method

    return mark


def trigger(message: str) -> Callable[[Marked], Marked]:
    """Mark a Block method as the sender of ``message`` for TriggerMessage."""

    def mark(method: Marked) -> Marked:
        method._ocpp_trigger = message  # type: ignore[attr-defined]
        return method

    return mark


class CallRefused(Exception):
    """Raised by a handler to answer with a CALLERROR.

    Give ``kind`` (a validation kind: "format", "type", "property", "occurrence") to get the code
    spelled as the protocol version spells it, or ``code`` for any other OCPP-J error code.
    """

    def __init__(
        self,
        description: str = "",
        *,
        kind: str | None = None,
        code: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.kind = kind
        self.code = code
        self.details = details


class Block:
    """Base of a functional block: one instance per engine, routing shared per class."""

    __slots__ = ("ctx",)

    handlers: ClassVar[dict[str, Handler]] = {}
    triggers: ClassVar[dict[str, Sender]] = {}
    keys: ClassVar[tuple[KeyDef, ...]] = ()  # configuration keys this block owns
    sends: ClassVar[tuple[str, ...]] = ()  # CP-initiated actions it implements

    def __init__(self, ctx: BlockContext) -> None:
        self.ctx = ctx

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[str, Handler] = {}
        triggers: dict[str, Sender] = {}
        for klass in reversed(cls.__mro__):
            for attribute in vars(klass).values():
                action = getattr(attribute, "_ocpp_action", None)
                if action is not None:
                    handlers[action] = attribute
                message = getattr(attribute, "_ocpp_trigger", None)
                if message is not None:
                    triggers[message] = attribute
        cls.handlers = handlers
        cls.triggers = triggers
