"""Display messages (OCPP 2.0.1 O01-O06): SetDisplayMessage, GetDisplayMessages (paged
NotifyDisplayMessages), ClearDisplayMessage, and what the station's display shows.

**SetDisplayMessage** (O01, O02, O06) stores ``message`` (MessageInfoType) under its id; the same
id again replaces it (O06). Answers: DisplayMessageCtrlr.Enabled false -> Rejected; a format not
in SupportedFormats -> NotSupportedMessageFormat; a priority not in SupportedPriorities ->
NotSupportedPriority; a state not in SupportedStates (the station's own variable: the
standardized ones cannot narrow states) -> NotSupportedState; a ``transactionId`` that is no
ongoing transaction of the station -> UnknownTransaction (O02); an ``endDateTime`` already past,
or not after ``startDateTime``, -> Rejected (it would never show); a new id when
DisplayMessages' maxLimit messages are stored -> Rejected; else Accepted. What is accepted is
stored (document ``displaymessages``) before the answer leaves, so it survives a restart.

**Showing** (O01, O02): a message shows on an EVSE's screen from its startDateTime (absent:
at once) until its endDateTime (absent: until replaced or cleared), only in its ``state`` if it
has one (Charging: a transaction runs on the EVSE; Faulted, Unavailable: the EVSE's status;
Idle: none of these), and only during its transaction if it names one. A message whose
endDateTime passed, or whose transaction ended, is removed. Order: AlwaysFront first (the newest
in front: it replaces the older ones on the screen), then InFront, then NormalCycle (cycled; in
the order they were set). The content is shown as text, whatever its format (HTML and URI are
not rendered). The station's display also shows tariff and cost (ocpp_core.v201.tariff).

**GetDisplayMessages** (O03, O04): the messages matching every criterion given (ids, priority,
state) -> Accepted, then NotifyDisplayMessages pages of PAGE_MESSAGES with its requestId (``tbc``
on all but the last); none -> Unknown, and nothing follows. **ClearDisplayMessage** (O05): a
stored id -> removed, Accepted; else Unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Protocol

from ocpp_core import validation
from ocpp_core.block import Block, on
from ocpp_core.clock import parse_datetime
from ocpp_core.log import logger
from ocpp_core.operations import DisplayLine, DisplayScreen
from ocpp_core.outbox import Request
from ocpp_core.sessions import NO_SESSIONS, SessionView
from ocpp_core.v201.variables import VariableDeclarer

if TYPE_CHECKING:
    from ocpp_core.config import Configuration
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.v201.device_model import DeviceModelBlock
    from ocpp_core.v201.payloads import (
        ClearDisplayMessageRequest,
        ClearDisplayMessageResponse,
        DisplayMessageStatusEnumType,
        GetDisplayMessagesRequest,
        GetDisplayMessagesResponse,
        MessageInfoType,
        NotifyDisplayMessagesRequest,
        SetDisplayMessageRequest,
        SetDisplayMessageResponse,
    )
    from ocpp_core.v201.status import StatusBlock
    from ocpp_core.v201.variables import VariableDef

__all__ = [
    "DOCUMENT",
    "FORMATS",
    "MAX_MESSAGES",
    "PAGE_MESSAGES",
    "PRIORITIES",
    "STATES",
    "DisplayBlock",
    "NoTariff",
    "Tariff",
]

DOCUMENT = "displaymessages"
MAX_MESSAGES = 16  # DisplayMessageCtrlr.DisplayMessages maxLimit
PAGE_MESSAGES = 4  # messageInfo per NotifyDisplayMessages page
PERSONAL_MESSAGE_SIZE = 128  # characters of a personalMessage the station keeps
FORMATS = ("ASCII", "HTML", "URI", "UTF8")
PRIORITIES = ("AlwaysFront", "InFront", "NormalCycle")
STATES = ("Charging", "Faulted", "Idle", "Unavailable")
ENABLED = "DisplayMessageCtrlr.Enabled"
SUPPORTED_FORMATS = "DisplayMessageCtrlr.SupportedFormats"
SUPPORTED_PRIORITIES = "DisplayMessageCtrlr.SupportedPriorities"
SUPPORTED_STATES = "DisplayMessageCtrlr.SupportedStates"


def _stored(state: DeviceModelBlock, definition: VariableDef, now: float) -> int:
    """DisplayMessages: how many messages are configured (the stored document's length)."""
    stored = state.ctx.store.load(DOCUMENT)
    return len(stored) if isinstance(stored, list) else 0


_vars = VariableDeclarer(__name__, "DisplayMessageCtrlr")
_vars.boolean("Available", False, live=lambda state, definition, now: True)
_vars.boolean("Enabled", True)
_vars.integer("DisplayMessages", 0, live=_stored, max_limit=MAX_MESSAGES)
_vars.integer("PersonalMessageSize", PERSONAL_MESSAGE_SIZE, mutability="ReadOnly")
# ReadWrite, so that a CSMS (or a tester) can narrow what the simulated display supports.
_vars.members("SupportedFormats", ",".join(FORMATS), FORMATS)
_vars.members("SupportedPriorities", ",".join(PRIORITIES), PRIORITIES)
_vars.members("SupportedStates", ",".join(STATES), STATES)


class Tariff(Protocol):
    """What fills in a screen's tariff and cost (ocpp_core.v201.tariff)."""

    def fill(self, screen: DisplayScreen, evse: int, now: float) -> DisplayScreen:
        """``screen`` with the tariff and cost of ``evse`` filled in."""
        ...


class NoTariff:
    """The tariff and cost part of a screen before ocpp_core.v201.tariff is wired: nothing."""

    __slots__ = ()

    def fill(self, screen: DisplayScreen, evse: int, now: float) -> DisplayScreen:
        """``screen`` with the tariff and cost of ``evse`` filled in."""
        return screen


class _Message(NamedTuple):
    """A stored message: as received, with its window in wall seconds (None: open)."""

    info: JsonObject
    start: float | None
    end: float | None


def _message(record: object) -> _Message:
    """A _Message from a stored record or a SetDisplayMessage ``message`` (ValueError if none)."""
    violation = validation.validate("2.0.1", "SetDisplayMessageRequest", {"message": record})
    if violation is not None or not isinstance(record, dict):
        raise ValueError("not a MessageInfoType")
    start, end = record.get("startDateTime"), record.get("endDateTime")
    return _Message(
        record,
        None if start is None else parse_datetime(start),
        None if end is None else parse_datetime(end),
    )


class DisplayBlock(Block):
    """The display messages the CSMS set, and the screens that show them."""

    __slots__ = ("_messages", "sessions", "status", "tariff")

    keys = tuple(_vars.keys)
    sends = ("NotifyDisplayMessages",)

    def __init__(self, ctx: BlockContext, *, status: StatusBlock) -> None:
        super().__init__(ctx)
        self.status = status
        self.sessions: SessionView = NO_SESSIONS
        self.tariff: Tariff = NoTariff()
        self._messages: dict[int, _Message] = {}
        self._load()

    # ------------------------------------------------------------------ stored messages

    def _load(self) -> None:
        stored = self.ctx.store.load(DOCUMENT)
        for record in stored if isinstance(stored, list) else ():
            try:
                message = _message(record)
            except (ValueError, TypeError):
                logger().warning("an unreadable display message was dropped: %r", record)
                continue
            self._messages[message.info["id"]] = message

    def _save(self) -> None:
        self.ctx.store.save(DOCUMENT, [m.info for m in self._messages.values()])

    def _remove(self, ids: list[int]) -> None:
        for message_id in ids:
            del self._messages[message_id]
        self._save()

    def messages(self) -> list[JsonObject]:
        """Every stored message (MessageInfoType), in the order they were set."""
        return [m.info for m in self._messages.values()]

    # ------------------------------------------------------------------ the CSMS's operations

    @on("SetDisplayMessage")
    def set_display_message(
        self, payload: SetDisplayMessageRequest, now: float
    ) -> SetDisplayMessageResponse:
        info = payload["message"]
        status = self._admission(info, now)
        if status != "Accepted":
            return {"status": status}
        message = _message(info)
        self._messages.pop(info["id"], None)  # O06: replaced, and now the newest
        self._messages[info["id"]] = message
        self._save()
        return {"status": "Accepted"}

    def _admission(self, info: MessageInfoType, now: float) -> DisplayMessageStatusEnumType:
        config = self.ctx.config
        if not config.boolean(ENABLED):
            return "Rejected"
        if info["message"]["format"] not in _members(config, SUPPORTED_FORMATS):
            return "NotSupportedMessageFormat"
        if info["priority"] not in _members(config, SUPPORTED_PRIORITIES):
            return "NotSupportedPriority"
        state = info.get("state")
        if state is not None and state not in _members(config, SUPPORTED_STATES):
            return "NotSupportedState"
        transaction_id = info.get("transactionId")
        if transaction_id is not None and self._evse_of(transaction_id) is None:
            return "UnknownTransaction"
        try:
            message = _message(info)
        except ValueError:
            return "Rejected"
        end = message.end
        if end is not None and (
            end <= self.ctx.clock.wall(now) or (message.start is not None and end <= message.start)
        ):
            return "Rejected"
        if info["id"] not in self._messages and len(self._messages) >= MAX_MESSAGES:
            return "Rejected"
        return "Accepted"

    @on("GetDisplayMessages")
    def get_display_messages(
        self, payload: GetDisplayMessagesRequest, now: float
    ) -> GetDisplayMessagesResponse:
        ids = payload.get("id")
        priority, state = payload.get("priority"), payload.get("state")
        found = [
            m.info
            for m in self._messages.values()
            if (ids is None or m.info["id"] in ids)
            and (priority is None or m.info["priority"] == priority)
            and (state is None or m.info.get("state") == state)
        ]
        if not found:
            return {"status": "Unknown"}
        for first in range(0, len(found), PAGE_MESSAGES):
            page: NotifyDisplayMessagesRequest = {
                "requestId": payload["requestId"],
                "messageInfo": found[first : first + PAGE_MESSAGES],  # type: ignore[typeddict-item]
            }
            if first + PAGE_MESSAGES < len(found):
                page["tbc"] = True
            self.ctx.queue.push(Request("NotifyDisplayMessages", page), now)
        return {"status": "Accepted"}

    @on("ClearDisplayMessage")
    def clear_display_message(
        self, payload: ClearDisplayMessageRequest, now: float
    ) -> ClearDisplayMessageResponse:
        if payload["id"] not in self._messages:
            return {"status": "Unknown"}
        self._remove([payload["id"]])
        return {"status": "Accepted"}

    # ------------------------------------------------------------------ timing

    def tick(self, now: float) -> None:
        """Remove the messages whose endDateTime passed or whose transaction ended."""
        if not self._messages:
            return
        wall = self.ctx.clock.wall(now)
        gone = [
            message_id
            for message_id, m in self._messages.items()
            if (m.end is not None and m.end <= wall)
            or ("transactionId" in m.info and self._evse_of(m.info["transactionId"]) is None)
        ]
        if gone:
            self._remove(gone)

    def timer(self, now: float) -> float | None:
        """When a message's window opens or closes next."""
        wall = self.ctx.clock.wall(now)
        edges = [
            edge
            for m in self._messages.values()
            for edge in (m.start, m.end)
            if edge is not None and edge > wall
        ]
        return now + (min(edges) - wall) if edges else None

    # ------------------------------------------------------------------ the screens

    def _evse_of(self, transaction_id: str) -> int | None:
        """The EVSE on which ``transaction_id`` runs (None: no ongoing transaction)."""
        sessions = self.sessions
        for evse in range(1, len(self.ctx.connectors)):
            info = sessions.current(evse)
            if (
                info is not None
                and info.transaction_id == transaction_id
                and sessions.transaction_running(evse)
            ):
                return evse
        return None

    def state_of(self, evse: int, now: float) -> str:
        """MessageStateEnumType of an EVSE: Charging (a transaction runs), Faulted,
        Unavailable, else Idle."""
        if self.sessions.transaction_running(evse):
            return "Charging"
        status = self.status.status_of(evse, now)
        return status if status in ("Faulted", "Unavailable") else "Idle"

    def screen(self, evse: int, now: float) -> DisplayScreen:
        """What EVSE ``evse``'s display shows now: messages in priority order, tariff, cost."""
        state = self.state_of(evse, now)
        wall = self.ctx.clock.wall(now)
        current = self.sessions.current(evse)
        running = None
        if current is not None and self.sessions.transaction_running(evse):
            running = current.transaction_id
        shown: list[tuple[int, int, JsonObject]] = []
        for order, m in enumerate(self._messages.values()):
            info = m.info
            if (m.start is not None and m.start > wall) or (m.end is not None and m.end <= wall):
                continue
            if info.get("state", state) != state:
                continue
            if "transactionId" in info and info["transactionId"] != running:
                continue
            rank = PRIORITIES.index(info["priority"])
            shown.append((rank, -order if rank == 0 else order, info))
        shown.sort(key=lambda item: item[:2])
        lines = tuple(_line(info) for _, _, info in shown)
        return self.tariff.fill(DisplayScreen(evse, state, lines), evse, now)


def _members(config: Configuration, name: str) -> set[str]:
    """The members of a MemberList variable."""
    return {item.strip() for item in config.string(name).split(",") if item.strip()}


def _line(info: JsonObject) -> DisplayLine:
    content = info["message"]
    return DisplayLine(
        info["id"],
        info["priority"],
        content["format"],
        content.get("language"),
        content["content"],
    )
