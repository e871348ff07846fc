"""The Control Center's "Station display" panel for OCPP 2.0.1 (issue 14): its plain-Python
model (control_center/display_model.py) and the Station API it reads (Station.display), on a
simulated station driven by a virtual clock against a fake backend."""

from __future__ import annotations

import sys
from pathlib import Path

from station_fakes import FakeBackend, Rig

from ocpp_core import MemoryStore
from ocpp_core.operations import DisplayLine, DisplayScreen

WEB = Path(__file__).resolve().parent.parent / "web"
sys.path.insert(0, str(WEB))

from control_center.display_model import cost_text, screen_rows  # noqa: E402


def line(
    message_id: int, text: str, priority: str = "NormalCycle", fmt: str = "UTF8"
) -> DisplayLine:
    return DisplayLine(message_id, priority, fmt, None, text)


def test_rows_messages_in_order_then_tariff_then_cost() -> None:
    screen = DisplayScreen(
        1,
        "Charging",
        (line(3, "Front", "AlwaysFront"), line(1, "<b>raw</b>", fmt="HTML")),
        tariff="0.30 EUR/kWh",
        cost=2.5,
        currency="EUR",
    )
    rows = screen_rows(screen)
    assert [(r.key, r.kind, r.text) for r in rows] == [
        ("message-3", "message front", "Front"),
        ("message-1", "message", "<b>raw</b>"),  # HTML shown as its raw text
        ("tariff", "tariff", "0.30 EUR/kWh"),
        ("cost", "cost", "Running cost: 2.50 EUR"),
    ]
    assert rows[1].meta == "NormalCycle · HTML"


def test_final_cost_and_fallback_text() -> None:
    final = DisplayScreen(1, "Idle", cost=7.2, currency="CHF", final=True)
    assert cost_text(final) == "Total cost: 7.20 CHF"
    assert screen_rows(final)[0].kind == "cost final"
    fallback = DisplayScreen(1, "Idle", final=True, cost_text="Cost by e-mail")
    assert cost_text(fallback) == "Cost by e-mail"
    assert cost_text(DisplayScreen(1, "Idle")) is None


def test_an_empty_display_says_so() -> None:
    assert [(r.key, r.text) for r in screen_rows(DisplayScreen(2, "Idle"))] == [
        ("empty", "No message")
    ]


def test_the_station_shows_what_the_CSMS_set_and_cleared() -> None:
    backend = FakeBackend()
    rig = Rig(backend, store=MemoryStore(), ocpp_version="2.0.1").boot()
    message = {"id": 4, "priority": "InFront", "message": {"format": "UTF8", "content": "Hi"}}
    backend.call("SetDisplayMessage", {"message": message})
    rig.run(1.0)
    screen = rig.station.display(1)
    assert [m.text for m in screen.messages] == ["Hi"]
    assert [r.key for r in screen_rows(screen)] == ["message-4"]
    backend.call("ClearDisplayMessage", {"id": 4})
    rig.run(1.0)
    assert rig.station.display(1).messages == ()


def test_a_1_6_station_has_an_empty_display() -> None:
    rig = Rig(FakeBackend(), store=MemoryStore(), ocpp_version="1.6").boot()
    assert rig.station.display(1) == DisplayScreen(1, "Idle")
