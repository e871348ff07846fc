"""OCPP 2.0.1 Advanced User Interface, display messages (O01-O06): SetDisplayMessage,
GetDisplayMessages with its NotifyDisplayMessages pages, ClearDisplayMessage, and what the
simulated display shows (ChargePoint.display).

Part 6 (edition 2023-06) has no TC_O_*_CS test cases, so the tests are named after the use-case
requirements of part 2 (O01.FR.xx ...) and follow the use cases' scenarios, against the fake CSMS;
every frame the station sends is checked against the schemas by conftest's FrameGuard.
"""

from __future__ import annotations

from typing import Any

from fake_csms import WALL_START
from fake_csms201 import FakeCsms201, booted201, station201
from tx_rig201 import Rig201

from ocpp_core import ChargePoint
from ocpp_core.clock import format_datetime
from ocpp_core.connector import ErrorRecord
from ocpp_core.store import MemoryStore
from ocpp_core.v201.display import MAX_MESSAGES, PAGE_MESSAGES

START = "TxCtrlr.TxStartPoint"


def message(message_id: int, text: str = "", **fields: Any) -> dict[str, Any]:
    """A MessageInfoType (NormalCycle, UTF8 unless given)."""
    content = {"format": fields.pop("format", "UTF8"), "content": text or f"message {message_id}"}
    if "language" in fields:
        content["language"] = fields.pop("language")
    return {
        "id": message_id,
        "priority": fields.pop("priority", "NormalCycle"),
        "message": content,
        **fields,
    }


def put(csms: FakeCsms201, message_id: int, text: str = "", **fields: Any) -> str:
    """SetDisplayMessage; the status answered."""
    return str(
        csms.result("SetDisplayMessage", {"message": message(message_id, text, **fields)})["status"]
    )


def at(csms: FakeCsms201, seconds: float) -> str:
    return format_datetime(WALL_START + csms.now + seconds)


def shown(cp: ChargePoint, now: float, evse: int = 1) -> list[int]:
    """The ids the display of ``evse`` shows, in order."""
    return [line.id for line in cp.display(evse, now).messages]


def texts(cp: ChargePoint, now: float, evse: int = 1) -> list[str]:
    return [line.text for line in cp.display(evse, now).messages]


def set_variable(cp: ChargePoint, csms: FakeCsms201, address: str, value: str) -> None:
    assert cp.set_variable(address, value, csms.now) == "Accepted"


# ---------------------------------------------------------------------- O01: SetDisplayMessage


def test_O01_accepted_message_shows_on_the_display() -> None:
    cp, csms = booted201()
    assert put(csms, 7, "Welcome", language="en") == "Accepted"
    screen = cp.display(1, csms.now)
    assert screen.state == "Idle"
    (line,) = screen.messages
    assert (line.id, line.priority, line.format, line.language, line.text) == (
        7,
        "NormalCycle",
        "UTF8",
        "en",
        "Welcome",
    )
    assert shown(cp, csms.now, 2) == [7]  # no display component: every EVSE's screen


def test_O01_html_and_uri_are_shown_as_raw_text() -> None:
    cp, csms = booted201()
    assert put(csms, 1, "<b>Free</b> <script>x()</script>", format="HTML") == "Accepted"
    assert put(csms, 2, "https://example.com/tariff", format="URI") == "Accepted"
    assert texts(cp, csms.now) == ["<b>Free</b> <script>x()</script>", "https://example.com/tariff"]


def test_O01_unsupported_format_NotSupportedMessageFormat() -> None:
    cp, csms = booted201()
    set_variable(cp, csms, "DisplayMessageCtrlr.SupportedFormats", "ASCII,UTF8")
    assert put(csms, 1, "<p>x</p>", format="HTML") == "NotSupportedMessageFormat"
    assert put(csms, 2, "plain", format="ASCII") == "Accepted"
    assert shown(cp, csms.now) == [2]


def test_O01_unsupported_priority_NotSupportedPriority() -> None:
    cp, csms = booted201()
    set_variable(cp, csms, "DisplayMessageCtrlr.SupportedPriorities", "NormalCycle")
    assert put(csms, 1, priority="AlwaysFront") == "NotSupportedPriority"
    assert put(csms, 1, priority="InFront") == "NotSupportedPriority"
    assert put(csms, 1, priority="NormalCycle") == "Accepted"


def test_O01_unsupported_state_NotSupportedState() -> None:
    cp, csms = booted201()
    set_variable(cp, csms, "DisplayMessageCtrlr.SupportedStates", "Charging,Idle")
    assert put(csms, 1, state="Faulted") == "NotSupportedState"
    assert put(csms, 2, state="Unavailable") == "NotSupportedState"
    assert put(csms, 3, state="Idle") == "Accepted"
    assert shown(cp, csms.now) == [3]


def test_O01_not_shown_before_startDateTime() -> None:
    cp, csms = booted201()
    assert put(csms, 1, startDateTime=at(csms, 60)) == "Accepted"
    assert shown(cp, csms.now) == []
    csms.advance(59)
    assert shown(cp, csms.now) == []
    csms.advance(2)
    assert shown(cp, csms.now) == [1]


def test_O01_removed_after_endDateTime() -> None:
    cp, csms = booted201()
    assert put(csms, 1, endDateTime=at(csms, 30)) == "Accepted"
    assert shown(cp, csms.now) == [1]
    csms.advance(31)
    assert shown(cp, csms.now) == []
    assert csms.result("GetDisplayMessages", {"requestId": 1, "id": [1]}) == {"status": "Unknown"}
    assert cp.next_wakeup(csms.now) is None or cp.next_wakeup(csms.now) > csms.now


def test_O01_endDateTime_already_past_or_before_start_Rejected() -> None:
    cp, csms = booted201()
    assert put(csms, 1, endDateTime=at(csms, -1)) == "Rejected"
    assert put(csms, 2, startDateTime=at(csms, 60), endDateTime=at(csms, 30)) == "Rejected"
    assert shown(cp, csms.now) == []


def test_O01_disabled_DisplayMessageCtrlr_Rejected() -> None:
    cp, csms = booted201()
    set_variable(cp, csms, "DisplayMessageCtrlr.Enabled", "false")
    assert put(csms, 1) == "Rejected"


def test_O01_more_than_DisplayMessages_maxLimit_Rejected() -> None:
    _cp, csms = booted201()
    for n in range(MAX_MESSAGES):
        assert put(csms, n) == "Accepted"
    assert put(csms, MAX_MESSAGES) == "Rejected"
    assert put(csms, 0, "replaced") == "Accepted"  # replacing takes no room
    reply = csms.result(
        "GetVariables",
        {
            "getVariableData": [
                {
                    "component": {"name": "DisplayMessageCtrlr"},
                    "variable": {"name": "DisplayMessages"},
                },
                {
                    "component": {"name": "DisplayMessageCtrlr"},
                    "variable": {"name": "DisplayMessages"},
                    "attributeType": "Actual",
                },
            ]
        },
    )
    assert reply["getVariableResult"][0]["attributeValue"] == str(MAX_MESSAGES)


def test_O01_priority_order_AlwaysFront_InFront_NormalCycle() -> None:
    cp, csms = booted201()
    assert put(csms, 1, priority="NormalCycle") == "Accepted"
    assert put(csms, 2, priority="InFront") == "Accepted"
    assert put(csms, 3, priority="AlwaysFront") == "Accepted"
    assert put(csms, 4, priority="NormalCycle") == "Accepted"
    assert put(csms, 5, priority="InFront") == "Accepted"
    assert shown(cp, csms.now) == [3, 2, 5, 1, 4]
    # A newer AlwaysFront message goes in front of the older one.
    assert put(csms, 6, priority="AlwaysFront") == "Accepted"
    assert shown(cp, csms.now) == [6, 3, 2, 5, 1, 4]


def test_O01_state_messages_follow_the_EVSE_state() -> None:
    r = Rig201(config={START: "PowerPathClosed"})
    csms, cp = r.csms, r.cp
    assert put(csms, 1, "idle", state="Idle") == "Accepted"
    assert put(csms, 2, "charging", state="Charging") == "Accepted"
    assert put(csms, 3, "faulted", state="Faulted") == "Accepted"
    assert put(csms, 4, "unavailable", state="Unavailable") == "Accepted"
    assert put(csms, 5, "always") == "Accepted"
    assert shown(cp, r.now, 1) == [1, 5]
    r.card()
    r.plug()
    assert cp.display(1, r.now).state == "Charging"
    assert shown(cp, r.now, 1) == [2, 5]
    assert shown(cp, r.now, 2) == [1, 5]
    cp.connector(2).errors = [lambda: ErrorRecord("GroundFailure")]
    r.pump()
    assert shown(cp, r.now, 2) == [3, 5]
    reply = csms.result(
        "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 2}}
    )
    assert reply["status"] == "Accepted"
    cp.connector(2).errors = []
    r.pump()
    assert shown(cp, r.now, 2) == [4, 5]


# ---------------------------------------------------------------------- O02: transaction bound


def started_transaction(r: Rig201, evse: int = 1) -> str:
    r.card(evse=evse)
    r.plug(evse)
    info = r.cp.transaction(evse)
    assert info is not None and isinstance(info.transaction_id, str)
    return info.transaction_id


def test_O02_unknown_transactionId_UnknownTransaction() -> None:
    r = Rig201(config={START: "PowerPathClosed"})
    assert put(r.csms, 1, transactionId="no-such-transaction") == "UnknownTransaction"
    assert r.cp.display(1, r.now).messages == ()


def test_O02_shown_only_during_its_transaction_and_removed_when_it_ends() -> None:
    r = Rig201(config={START: "PowerPathClosed", "TxCtrlr.TxStopPoint": "EVConnected"})
    tx = started_transaction(r)
    assert put(r.csms, 1, "Your session", transactionId=tx) == "Accepted"
    assert shown(r.cp, r.now, 1) == [1]
    assert shown(r.cp, r.now, 2) == []  # another EVSE's screen does not show it
    r.unplug()
    assert r.cp.transaction(1) is None or r.cp.transaction(1).state != "running"
    assert shown(r.cp, r.now, 1) == []
    assert r.csms.result("GetDisplayMessages", {"requestId": 3}) == {"status": "Unknown"}


def test_O02_transaction_message_on_the_second_EVSE() -> None:
    r = Rig201(config={START: "PowerPathClosed"})
    tx = started_transaction(r, 2)
    assert put(r.csms, 9, "EVSE 2 only", transactionId=tx, priority="InFront") == "Accepted"
    assert shown(r.cp, r.now, 2) == [9]
    assert shown(r.cp, r.now, 1) == []


# ---------------------------------------------------------------------- O03, O04: Get


def test_O03_FR_02_all_messages_in_NotifyDisplayMessages_pages() -> None:
    _cp, csms = booted201()
    count = PAGE_MESSAGES * 2 + 1
    for n in range(count):
        assert put(csms, n) == "Accepted"
    assert csms.result("GetDisplayMessages", {"requestId": 42}) == {"status": "Accepted"}
    pages = csms.payloads("NotifyDisplayMessages")
    assert [p["requestId"] for p in pages] == [42, 42, 42]
    assert [p.get("tbc", False) for p in pages] == [True, True, False]
    ids = [info["id"] for p in pages for info in p["messageInfo"]]
    assert ids == list(range(count))
    assert pages[0]["messageInfo"][0] == message(0)


def test_O03_no_messages_Unknown_and_no_notify() -> None:
    _cp, csms = booted201()
    assert csms.result("GetDisplayMessages", {"requestId": 1}) == {"status": "Unknown"}
    csms.pump()
    assert csms.payloads("NotifyDisplayMessages") == []


def test_O04_by_id_priority_and_state_all_criteria_must_match() -> None:
    _cp, csms = booted201()
    put(csms, 1, priority="InFront", state="Idle")
    put(csms, 2, priority="InFront", state="Charging")
    put(csms, 3, priority="NormalCycle", state="Idle")
    put(csms, 4, priority="AlwaysFront")

    def ask(**criteria: Any) -> list[int] | str:
        csms.clear()
        status = csms.result("GetDisplayMessages", {"requestId": 8, **criteria})["status"]
        if status != "Accepted":
            return str(status)
        return [i["id"] for p in csms.payloads("NotifyDisplayMessages") for i in p["messageInfo"]]

    assert ask(id=[1, 3, 99]) == [1, 3]
    assert ask(priority="InFront") == [1, 2]
    assert ask(state="Idle") == [1, 3]
    assert ask(priority="InFront", state="Idle") == [1]
    assert ask(id=[2], state="Idle") == "Unknown"
    assert ask(id=[99]) == "Unknown"
    assert ask(state="Faulted") == "Unknown"


# ---------------------------------------------------------------------- O05, O06


def test_O05_clear_known_Accepted_and_gone_from_display() -> None:
    cp, csms = booted201()
    put(csms, 1, "first")
    put(csms, 2, "second")
    assert csms.result("ClearDisplayMessage", {"id": 1}) == {"status": "Accepted"}
    assert texts(cp, csms.now) == ["second"]


def test_O05_clear_unknown_Unknown() -> None:
    cp, csms = booted201()
    put(csms, 1)
    assert csms.result("ClearDisplayMessage", {"id": 5}) == {"status": "Unknown"}
    assert shown(cp, csms.now) == [1]


def test_O06_same_id_replaces_the_message() -> None:
    cp, csms = booted201()
    put(csms, 1, "old", priority="NormalCycle")
    put(csms, 2, "other")
    assert put(csms, 1, "new", priority="InFront") == "Accepted"
    assert texts(cp, csms.now) == ["new", "other"]
    csms.result("GetDisplayMessages", {"requestId": 2})
    (page,) = csms.payloads("NotifyDisplayMessages")
    assert [i["message"]["content"] for i in page["messageInfo"]] == ["other", "new"]


def test_O06_refused_replacement_keeps_the_old_message() -> None:
    cp, csms = booted201()
    put(csms, 1, "kept")
    assert put(csms, 1, "gone", endDateTime=at(csms, -5)) == "Rejected"
    assert texts(cp, csms.now) == ["kept"]


# ---------------------------------------------------------------------- persistence, model


def test_O01_messages_survive_a_restart() -> None:
    store = MemoryStore()
    _cp, csms = station201(store=store)
    csms.connect()
    put(csms, 1, "kept", priority="InFront", endDateTime=at(csms, 3600), language="de")
    put(csms, 2, "cleared")
    csms.result("ClearDisplayMessage", {"id": 2})
    cp2, csms2 = station201(store=store)
    csms2.now = csms.now
    csms2.connect()
    assert texts(cp2, csms2.now) == ["kept"]
    csms2.result("GetDisplayMessages", {"requestId": 1})
    (page,) = csms2.payloads("NotifyDisplayMessages")
    assert page["messageInfo"] == [
        message(1, "kept", priority="InFront", endDateTime=at(csms, 3600), language="de")
    ]


def test_O02_transaction_message_after_a_restart_that_ended_the_transaction() -> None:
    r = Rig201(config={START: "PowerPathClosed"})
    tx = started_transaction(r)
    put(r.csms, 1, "during", transactionId=tx)
    put(r.csms, 2, "always")
    r.restart()  # the transaction ends (PowerLoss): its message goes
    r.pump()
    assert shown(r.cp, r.now) == [2]


def test_O01_unreadable_stored_message_is_dropped() -> None:
    store = MemoryStore()
    store.save("displaymessages", [{"id": "x"}, message(3)])
    cp, csms = booted201(store=store)
    assert shown(cp, csms.now) == [3]


def test_DisplayMessageCtrlr_variables_reported() -> None:
    cp, csms = booted201()
    rows = {row.address: row for row in cp.variables(csms.now)}
    assert rows["DisplayMessageCtrlr.Available"].value == "true"
    assert rows["DisplayMessageCtrlr.Enabled"].value == "true"
    assert rows["DisplayMessageCtrlr.DisplayMessages"].value == "0"
    assert rows["DisplayMessageCtrlr.SupportedFormats"].value == "ASCII,HTML,URI,UTF8"
    assert (
        rows["DisplayMessageCtrlr.SupportedPriorities"].value == "AlwaysFront,InFront,NormalCycle"
    )
    put(csms, 1)
    rows = {row.address: row for row in cp.variables(csms.now)}
    assert rows["DisplayMessageCtrlr.DisplayMessages"].value == "1"


def test_1_6_station_has_an_empty_display() -> None:
    from fake_csms import booted

    cp, csms = booted()
    screen = cp.display(1, csms.now)
    assert screen.messages == () and screen.tariff is None and screen.cost is None
