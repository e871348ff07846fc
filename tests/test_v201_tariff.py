"""OCPP 2.0.1 tariff and cost (I01-I06) on a station without a payment terminal: the driver's
tariff text (personalMessage), the running and final total cost (TransactionEventResponse
totalCost, CostUpdated), the fallback messages, as the simulated display shows them.

Part 6 (edition 2023-06) has no TC_I_*_CS test cases, so the tests are named after the use-case
requirements of part 2 (I01.FR.xx ...); every frame the station sends is schema-checked by
conftest's FrameGuard.
"""

from __future__ import annotations

from typing import Any

from tx_rig201 import Rig201

from ocpp_core.store import MemoryStore

START = "TxCtrlr.TxStartPoint"
STOP = "TxCtrlr.TxStopPoint"
CONFIG = {START: "PowerPathClosed", STOP: "EVConnected"}


def personal(text: str, fmt: str = "UTF8") -> dict[str, Any]:
    return {"format": fmt, "language": "en", "content": text}


def rig(**config: str) -> Rig201:
    return Rig201(config={**CONFIG, **config})


def answer_authorize(r: Rig201, text: str | None) -> None:
    info: dict[str, Any] = {"status": "Accepted"}
    if text is not None:
        info["personalMessage"] = personal(text)
    r.csms.handlers["Authorize"] = lambda payload: {"idTokenInfo": info}


def answer_events(r: Rig201, by_type: dict[str, dict[str, Any]]) -> None:
    r.csms.handlers["TransactionEvent"] = lambda payload: by_type.get(payload["eventType"], {})


def transaction_id(r: Rig201, evse: int = 1) -> str:
    info = r.cp.transaction(evse)
    assert info is not None
    return str(info.transaction_id)


# ---------------------------------------------------------------------- I01: personal tariff


def test_I01_personalMessage_of_AuthorizeResponse_shown() -> None:
    r = rig()
    answer_authorize(r, "0.25 EUR/kWh, 0.10 EUR/min after 2 h")
    r.card()
    assert [a for a in r.actions() if a == "Authorize"] == ["Authorize"]
    screen = r.cp.display(1, r.now)
    assert screen.tariff == "0.25 EUR/kWh, 0.10 EUR/min after 2 h"
    assert screen.currency == "EUR"
    assert r.cp.display(2, r.now).tariff is None


def test_I01_personalMessage_cut_to_PersonalMessageSize() -> None:
    r = rig()
    answer_authorize(r, "x" * 300)
    r.card()
    tariff = r.cp.display(1, r.now).tariff
    assert tariff is not None and len(tariff) == 128


def test_I01_tariff_disabled_shows_nothing() -> None:
    r = rig(**{"TariffCostCtrlr.Enabled[Tariff]": "false"})
    answer_authorize(r, "0.30 EUR/kWh")
    r.card()
    assert r.cp.display(1, r.now).tariff is None


def test_I01_tariff_disabled_later_hides_what_was_shown() -> None:
    r = rig()
    answer_authorize(r, "0.30 EUR/kWh")
    r.card()
    assert r.cp.display(1, r.now).tariff == "0.30 EUR/kWh"
    assert r.cp.set_variable("TariffCostCtrlr.Enabled[Tariff]", "false", r.now) == "Accepted"
    assert r.cp.display(1, r.now).tariff is None


# ---------------------------------------------------------------------- I04: fallback tariff


def test_I04_FR_01_no_personal_tariff_shows_TariffFallbackMessage() -> None:
    r = rig(**{"TariffCostCtrlr.TariffFallbackMessage": "0.40 EUR/kWh standard"})
    answer_authorize(r, None)
    r.card()
    assert r.cp.display(1, r.now).tariff == "0.40 EUR/kWh standard"


def test_I04_offline_authorization_shows_TariffFallbackMessage() -> None:
    r = rig(
        **{
            "TariffCostCtrlr.TariffFallbackMessage": "offline tariff",
            "AuthCtrlr.OfflineTxForUnknownIdEnabled": "true",
        }
    )
    answer_authorize(r, "never asked")
    r.offline()
    r.card()
    assert "Authorize" not in r.actions()
    assert r.cp.display(1, r.now).tariff == "offline tariff"


def test_I04_no_fallback_set_shows_no_tariff() -> None:
    r = rig()
    answer_authorize(r, None)
    r.card()
    assert r.cp.display(1, r.now).tariff is None


# ---------------------------------------------------------------------- I02, I03: cost


def test_I02_running_cost_from_TransactionEventResponse() -> None:
    r = rig()
    answer_events(r, {"Updated": {"totalCost": 1.5}, "Started": {"totalCost": 0}})
    r.card()
    r.plug()
    screen = r.cp.display(1, r.now)
    assert screen.cost == 1.5 and not screen.final  # Started 0, then Updated 1.5
    assert any(p["eventType"] == "Updated" for p in r.events_tx())


def test_I02_CostUpdated_sets_the_running_cost() -> None:
    r = rig()
    r.card()
    r.plug()
    tx = transaction_id(r)
    assert r.csms.result("CostUpdated", {"totalCost": 3.75, "transactionId": tx}) == {}
    screen = r.cp.display(1, r.now)
    assert (screen.cost, screen.final) == (3.75, False)
    # A transactionId that is not ours is answered and changes nothing.
    assert r.csms.result("CostUpdated", {"totalCost": 9, "transactionId": "other"}) == {}
    assert r.cp.display(1, r.now).cost == 3.75
    assert r.cp.display(2, r.now).cost is None


def test_I02_cost_disabled_shows_no_cost() -> None:
    r = rig(**{"TariffCostCtrlr.Enabled[Cost]": "false"})
    answer_events(r, {"Updated": {"totalCost": 1.5}})
    r.card()
    r.plug()
    r.csms.result("CostUpdated", {"totalCost": 2, "transactionId": transaction_id(r)})
    assert r.cp.display(1, r.now).cost is None


def test_I02_cost_disabled_later_hides_the_running_cost() -> None:
    r = rig()
    answer_events(r, {"Updated": {"totalCost": 1.5}})
    r.card()
    r.plug()
    assert r.cp.display(1, r.now).cost == 1.5
    assert r.cp.set_variable("TariffCostCtrlr.Enabled[Cost]", "false", r.now) == "Accepted"
    assert r.cp.display(1, r.now).cost is None


def test_I03_final_cost_from_the_Ended_response() -> None:
    r = rig()
    answer_events(r, {"Updated": {"totalCost": 1.0}, "Ended": {"totalCost": 7.2}})
    r.card()
    r.plug()
    r.unplug()
    ended = [p for p in r.events_tx() if p["eventType"] == "Ended"]
    assert len(ended) == 1
    screen = r.cp.display(1, r.now)
    assert (screen.cost, screen.final, screen.cost_text) == (7.2, True, None)


def test_I03_final_cost_cleared_by_the_next_driver() -> None:
    r = rig()
    answer_events(r, {"Ended": {"totalCost": 7.2}})
    r.card()
    r.plug()
    r.unplug()
    answer_authorize(r, "next tariff")
    r.card("TOKEN2")
    screen = r.cp.display(1, r.now)
    assert (screen.cost, screen.final, screen.tariff) == (None, False, "next tariff")


# ---------------------------------------------------------------------- I05: fallback cost


def test_I05_Ended_without_totalCost_shows_TotalCostFallbackMessage() -> None:
    r = rig(**{"TariffCostCtrlr.TotalCostFallbackMessage": "Cost follows by e-mail"})
    answer_events(r, {"Updated": {"totalCost": 1.0}})
    r.card()
    r.plug()
    r.unplug()
    screen = r.cp.display(1, r.now)
    assert screen.final and screen.cost_text == "Cost follows by e-mail"


def test_I05_FR_02_transaction_ending_offline_shows_TotalCostFallbackMessage() -> None:
    r = rig(**{"TariffCostCtrlr.TotalCostFallbackMessage": "Cost unknown (offline)"})
    answer_events(r, {"Started": {"totalCost": 0.0}, "Ended": {"totalCost": 4.4}})
    r.card()
    r.plug()
    r.offline()
    r.unplug()
    screen = r.cp.display(1, r.now)
    assert screen.final and screen.cost_text == "Cost unknown (offline)"
    r.online()  # the Ended event is delivered: the real final cost replaces the fallback
    screen = r.cp.display(1, r.now)
    assert (screen.cost, screen.final, screen.cost_text) == (4.4, True, None)


# ---------------------------------------------------------------------- I06: updated tariff


def test_I06_updatedPersonalMessage_replaces_the_tariff() -> None:
    r = rig()
    answer_authorize(r, "day tariff")
    answer_events(r, {"Updated": {"updatedPersonalMessage": personal("night tariff from 22:00")}})
    r.card()
    r.plug()
    assert r.cp.display(1, r.now).tariff == "night tariff from 22:00"


def test_I06_idTokenInfo_personalMessage_in_TransactionEventResponse() -> None:
    r = rig()
    answer_authorize(r, None)
    answer_events(
        r,
        {
            "Started": {
                "idTokenInfo": {"status": "Accepted", "personalMessage": personal("fleet rate")}
            }
        },
    )
    r.card()
    r.plug()
    assert r.cp.display(1, r.now).tariff == "fleet rate"


def test_I06_card_ending_the_transaction_keeps_the_tariff() -> None:
    r = rig(**{STOP: "Authorized"})
    answer_authorize(r, "my tariff")
    r.card()
    r.plug()
    answer_authorize(r, None)
    r.card()  # the same card ends the transaction
    assert r.cp.display(1, r.now).tariff == "my tariff"


# ---------------------------------------------------------------------- persistence, model


def test_I02_tariff_and_cost_survive_a_restart() -> None:
    store = MemoryStore()
    r = Rig201(store=store, config={**CONFIG, "TariffCostCtrlr.Currency": "CHF"})
    answer_authorize(r, "0.50 CHF/kWh")
    answer_events(r, {"Ended": {"totalCost": 12.5}})
    r.card()
    r.plug()
    r.unplug()
    r.restart()
    screen = r.cp.display(1, r.now)
    assert (screen.tariff, screen.cost, screen.final, screen.currency) == (
        "0.50 CHF/kWh",
        12.5,
        True,
        "CHF",
    )


def test_TariffCostCtrlr_variables_reported() -> None:
    r = rig()
    reply = r.csms.result(
        "GetVariables",
        {
            "getVariableData": [
                {
                    "component": {"name": "TariffCostCtrlr"},
                    "variable": {"name": name, "instance": instance},
                }
                for name, instance in (
                    ("Available", "Tariff"),
                    ("Available", "Cost"),
                    ("Enabled", "Cost"),
                )
            ]
            + [
                {"component": {"name": "TariffCostCtrlr"}, "variable": {"name": name}}
                for name in ("Currency", "TariffFallbackMessage", "TotalCostFallbackMessage")
            ]
        },
    )
    values = [
        (res["attributeStatus"], res.get("attributeValue")) for res in reply["getVariableResult"]
    ]
    assert values == [
        ("Accepted", "true"),
        ("Accepted", "true"),
        ("Accepted", "true"),
        ("Accepted", "EUR"),
        ("Accepted", ""),
        ("Accepted", ""),
    ]
    reply = r.csms.result(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": "TariffCostCtrlr"},
                    "variable": {"name": "Currency"},
                    "attributeValue": "EURO",
                }
            ]
        },
    )
    assert reply["setVariableResult"][0]["attributeStatus"] == "Rejected"
