"""Tariff and cost (OCPP 2.0.1 I01-I06) on a station without a payment terminal: what its
display shows of the driver's tariff and of the transaction's cost.

**Tariff** (TariffCostCtrlr.Enabled[Tariff]): an idToken decided at an EVSE (I01) shows its
idTokenInfo.personalMessage (AuthorizeResponse, or what the local list or cache hold); without
one (an unknown tariff, the station offline) the TariffFallbackMessage shows, if it is set (I04).
During the transaction the TransactionEventResponse's idTokenInfo.personalMessage and
updatedPersonalMessage replace it (I06). A personalMessage is cut to
DisplayMessageCtrlr.PersonalMessageSize characters.

**Cost** (TariffCostCtrlr.Enabled[Cost], Currency): a TransactionEventResponse's totalCost is the
running cost (I02), the Ended event's the final cost (I03); CostUpdated sets the running cost of
the transaction it names (I02; an unknown transactionId is answered and ignored). An Ended event
answered without totalCost, or a transaction that ended while the station was offline, shows
the TotalCostFallbackMessage instead (I05). A new idToken or transaction on the EVSE starts a
new screen. What the screens show is kept in the document ``tariffscreens`` across restarts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import Block, on
from ocpp_core.log import logger
from ocpp_core.sessions import NO_SESSIONS, SessionView
from ocpp_core.v201.authorization import DecisionListener
from ocpp_core.v201.tx_views import TransactionAnswers
from ocpp_core.v201.variables import VariableDeclarer

if TYPE_CHECKING:
    from ocpp_core.context import BlockContext
    from ocpp_core.operations import DisplayScreen
    from ocpp_core.rpc import JsonObject
    from ocpp_core.v201.authorization import Decision
    from ocpp_core.v201.payloads import CostUpdatedRequest, CostUpdatedResponse

__all__ = ["DOCUMENT", "TariffBlock"]

DOCUMENT = "tariffscreens"
TARIFF_ENABLED = "TariffCostCtrlr.Enabled[Tariff]"
COST_ENABLED = "TariffCostCtrlr.Enabled[Cost]"
TARIFF_FALLBACK = "TariffCostCtrlr.TariffFallbackMessage"
COST_FALLBACK = "TariffCostCtrlr.TotalCostFallbackMessage"
CURRENCY = "TariffCostCtrlr.Currency"
PERSONAL_MESSAGE_SIZE = "DisplayMessageCtrlr.PersonalMessageSize"


def _supported(state: object, definition: object, now: float) -> bool:
    return True


_vars = VariableDeclarer(__name__, "TariffCostCtrlr")
for _instance in ("Tariff", "Cost"):
    _vars.boolean("Available", False, live=_supported, variable_instance=_instance)
    _vars.boolean("Enabled", True, variable_instance=_instance)
_vars.string("TariffFallbackMessage", "", max_length=512)
_vars.string("TotalCostFallbackMessage", "", max_length=512)
_vars.string("Currency", "EUR", check=lambda text: isinstance(text, str) and len(text) == 3)


class _Screen:
    """Tariff and cost on one EVSE's display."""

    __slots__ = ("cost", "cost_text", "final", "tariff", "transaction_id")

    def __init__(self) -> None:
        self.tariff: str | None = None
        self.cost: float | None = None
        self.final = False
        self.cost_text: str | None = None
        self.transaction_id: str | None = None  # the transaction the cost is of

    def record(self) -> JsonObject:
        return {name: getattr(self, name) for name in self.__slots__}

    def restore(self, stored: object) -> None:
        if not isinstance(stored, dict):
            return
        for name, kinds in _FIELDS.items():
            value = stored.get(name)
            if isinstance(value, kinds) or (value is None and name != "final"):
                setattr(self, name, value)


_FIELDS: dict[str, type | tuple[type, ...]] = {
    "tariff": str,
    "cost": (int, float),
    "final": bool,
    "cost_text": str,
    "transaction_id": str,
}


class TariffBlock(Block, DecisionListener, TransactionAnswers):
    """The driver's tariff text and the transaction's cost, per EVSE."""

    __slots__ = ("_screens", "sessions")

    keys = tuple(_vars.keys)

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        self.sessions: SessionView = NO_SESSIONS
        self._screens = [_Screen() for _ in ctx.connectors]
        stored = ctx.store.load(DOCUMENT)
        if isinstance(stored, list):
            for screen, record in zip(self._screens, stored, strict=False):
                screen.restore(record)

    def _save(self) -> None:
        try:
            self.ctx.store.save(DOCUMENT, [s.record() for s in self._screens])
        except Exception:
            logger().exception("the tariff screens could not be stored")

    def _screen(self, evse: int) -> _Screen | None:
        return self._screens[evse] if 0 < evse < len(self._screens) else None

    def _personal(self, content: object) -> str | None:
        """A MessageContentType's text, cut to PersonalMessageSize (None: none, or no room)."""
        if not isinstance(content, dict) or not isinstance(content.get("content"), str):
            return None
        size = self.ctx.config.integer(PERSONAL_MESSAGE_SIZE)
        return content["content"][:size] or None

    # ------------------------------------------------------------------ I01, I04: tariff

    def decided(self, evse: int, id_token: JsonObject, decision: Decision, now: float) -> None:
        screen = self._screen(evse)
        config = self.ctx.config
        if screen is None or not config.boolean(TARIFF_ENABLED):
            return
        personal = self._personal(decision.info.get("personalMessage"))
        running = self.sessions.transaction_running(evse)
        if personal is None and running:
            return  # a card ending the transaction: the tariff stays
        if not running:  # a new session: the last one's cost goes
            screen.cost, screen.final, screen.cost_text = None, False, None
            screen.transaction_id = None
        screen.tariff = personal or config.string(TARIFF_FALLBACK) or None
        self._save()

    # ------------------------------------------------------------------ I02, I03, I05, I06

    def transaction_answered(
        self, evse: int, transaction_id: str, event_type: str, response: JsonObject, now: float
    ) -> None:
        screen = self._screen(evse)
        if screen is None:
            return
        config = self.ctx.config
        if config.boolean(TARIFF_ENABLED):
            info = response.get("idTokenInfo")
            for content in (
                info.get("personalMessage") if isinstance(info, dict) else None,
                response.get("updatedPersonalMessage"),
            ):
                personal = self._personal(content)
                if personal is not None:
                    screen.tariff = personal
        if config.boolean(COST_ENABLED):
            if screen.transaction_id != transaction_id:
                screen.transaction_id = transaction_id
                screen.cost, screen.final, screen.cost_text = None, False, None
            cost = response.get("totalCost")
            final = event_type == "Ended"
            if isinstance(cost, (int, float)) and not isinstance(cost, bool):
                screen.cost, screen.final, screen.cost_text = float(cost), final, None
            elif final:
                screen.final = True
                screen.cost_text = config.string(COST_FALLBACK) or None
        self._save()

    @on("CostUpdated")
    def cost_updated(self, payload: CostUpdatedRequest, now: float) -> CostUpdatedResponse:
        if not self.ctx.config.boolean(COST_ENABLED):
            return {}
        sessions = self.sessions
        for evse in range(1, len(self._screens)):
            info = sessions.current(evse)
            if info is None or info.transaction_id != payload["transactionId"]:
                continue
            screen = self._screens[evse]
            screen.transaction_id = payload["transactionId"]
            screen.cost, screen.final, screen.cost_text = float(payload["totalCost"]), False, None
            self._save()
            break
        else:
            logger().info(
                "CostUpdated for transaction %s, not one of ours", payload["transactionId"]
            )
        return {}

    def tick(self, now: float) -> None:
        """A transaction seen ending while the station is offline: the fallback (I05)."""
        if self.ctx.connected or not self.ctx.config.boolean(COST_ENABLED):
            return
        sessions = self.sessions
        for evse in range(1, len(self._screens)):
            screen = self._screens[evse]
            info = sessions.current(evse)
            if info is not None and sessions.transaction_running(evse):
                if screen.transaction_id != info.transaction_id:
                    screen.transaction_id = str(info.transaction_id)
                    screen.cost, screen.final, screen.cost_text = None, False, None
                    self._save()
            elif screen.transaction_id is not None and not screen.final:
                screen.final = True
                screen.cost_text = self.ctx.config.string(COST_FALLBACK) or None
                self._save()

    # ------------------------------------------------------------------ the display

    def fill(self, screen: DisplayScreen, evse: int, now: float) -> DisplayScreen:
        """``screen`` with the tariff and cost of ``evse`` filled in."""
        mine = self._screen(evse)
        if mine is None:
            return screen
        config = self.ctx.config
        screen = screen._replace(currency=config.string(CURRENCY))
        if config.boolean(TARIFF_ENABLED):
            screen = screen._replace(tariff=mine.tariff)
        if config.boolean(COST_ENABLED):
            screen = screen._replace(cost=mine.cost, final=mine.final, cost_text=mine.cost_text)
        return screen
