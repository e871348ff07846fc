"""The "Station display" panel's model (plain Python): what each connector's simulated display
shows, as rows of text (ChargePoint.display / Station.display): the display messages in priority
order (the first one in front), then the driver's tariff and the running or final cost.

Every text is shown as text (textContent): an HTML or URI message shows its raw content.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ocpp_core.operations import DisplayScreen

__all__ = ["ScreenRow", "cost_text", "screen_rows"]


class ScreenRow(NamedTuple):
    """One row of a simulated display: its test id suffix, its class and its texts."""

    key: str  # "message-7", "tariff", "cost"
    kind: str  # "message front", "message", "tariff", "cost", "cost final", "empty"
    text: str
    meta: str  # e.g. "InFront · HTML · en"; "" for none


def cost_text(screen: DisplayScreen) -> str | None:
    """The cost row's text: running or final total, or the fallback message (None: none)."""
    if screen.cost is not None:
        label = "Total cost" if screen.final else "Running cost"
        return f"{label}: {screen.cost:.2f} {screen.currency}".rstrip()
    return screen.cost_text


def screen_rows(screen: DisplayScreen) -> list[ScreenRow]:
    """The rows of one connector's display, top to bottom."""
    rows = []
    for n, line in enumerate(screen.messages):
        meta = " · ".join(part for part in (line.priority, line.format, line.language) if part)
        kind = "message front" if n == 0 else "message"
        rows.append(ScreenRow(f"message-{line.id}", kind, line.text, meta))
    if screen.tariff is not None:
        rows.append(ScreenRow("tariff", "tariff", screen.tariff, "Tariff"))
    cost = cost_text(screen)
    if cost is not None:
        rows.append(ScreenRow("cost", "cost final" if screen.final else "cost", cost, ""))
    if not rows:
        rows.append(ScreenRow("empty", "empty", "No message", ""))
    return rows
