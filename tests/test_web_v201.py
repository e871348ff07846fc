"""The Control Center's plain-Python parts for OCPP 2.0.1 (issue 13): the device-model panel's
model, the transaction and seqNo texts, the version choices of the form and the deep link."""

from __future__ import annotations

import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent / "web"
sys.path.insert(0, str(WEB))

from control_center import fmt  # noqa: E402
from control_center.prefs import (  # noqa: E402
    FormValues,
    Prefs,
    dump_prefs,
    load_prefs,
    parse_deep_link,
)
from control_center.variables import (  # noqa: E402
    CONFIGURATION,
    editor,
    group_rows,
    status_tone,
)

from ocpp_core import VariableRow  # noqa: E402


def row(
    address: str, component: str, variable: str, value: str | None, **rest: object
) -> VariableRow:
    fields = {
        "attribute": "Actual",
        "mutability": "ReadWrite",
        "data_type": "integer",
        "unit": None,
        "values_list": None,
        **rest,
    }
    return VariableRow(address, component, variable, value=value, **fields)  # type: ignore[arg-type]


ROWS = [
    row("OCPPCommCtrlr.HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval", "300", unit="s"),
    row("OCPPCommCtrlr.MessageTimeout[Default]", "OCPPCommCtrlr", "MessageTimeout[Default]", "30",
        mutability="ReadOnly"),
    row("SecurityCtrlr.BasicAuthPassword", "SecurityCtrlr", "BasicAuthPassword", None,
        mutability="WriteOnly", data_type="string"),
    row("SecurityCtrlr.SecurityProfile", "SecurityCtrlr", "SecurityProfile", "1",
        mutability="ReadOnly"),
    row("TxCtrlr.StopTxOnEVSideDisconnect", "TxCtrlr", "StopTxOnEVSideDisconnect", "true",
        data_type="boolean"),
    row("TxCtrlr.TxStartPoint", "TxCtrlr", "TxStartPoint", "PowerPathClosed",
        data_type="MemberList", values_list=("EVConnected", "Authorized", "PowerPathClosed")),
    row("EVSE/1.Power#MaxSet", "EVSE/1", "Power", "22000", attribute="MaxSet",
        mutability="ReadOnly", data_type="decimal", unit="W"),
    row("AuthCacheCtrlr.Policy", "AuthCacheCtrlr", "Policy", "LRU", data_type="OptionList",
        values_list=("LRU", "LFU", "FIFO", "CUSTOM")),
]  # fmt: skip


def test_the_device_model_groups_by_component_in_order_and_never_shows_write_only() -> None:
    groups = group_rows(ROWS)
    names = [name for name, _ in groups]
    assert names == [
        "OCPPCommCtrlr",
        "SecurityCtrlr",
        "TxCtrlr",
        "EVSE/1",
        "AuthCacheCtrlr",
    ]
    shown = {item.address: item for _, items in groups for item in items}
    assert "SecurityCtrlr.BasicAuthPassword" not in shown  # not even masked
    assert shown["EVSE/1.Power#MaxSet"].label == "Power (MaxSet)"
    assert shown["EVSE/1.Power#MaxSet"].meta == "ReadOnly · decimal · W"
    assert shown["OCPPCommCtrlr.HeartbeatInterval"].value == "300"


def test_how_each_variable_is_edited() -> None:
    by_address = {r.address: r for r in ROWS}
    assert editor(by_address["OCPPCommCtrlr.MessageTimeout[Default]"]) == (None, ())
    assert editor(by_address["OCPPCommCtrlr.HeartbeatInterval"]) == ("text", ())
    assert editor(by_address["TxCtrlr.StopTxOnEVSideDisconnect"]) == ("select", ("true", "false"))
    assert editor(by_address["AuthCacheCtrlr.Policy"]) == (
        "select",
        ("LRU", "LFU", "FIFO", "CUSTOM"),
    )
    # A member list takes several values: typed as text (comma-separated), as the CSMS sends it.
    assert editor(by_address["TxCtrlr.TxStartPoint"]) == ("text", ())
    odd = row("X.Y", "X", "Y", "OTHER", data_type="OptionList", values_list=("A", "B"))
    (_, [shown]) = group_rows([odd])[0]
    assert shown.options == ("OTHER", "A", "B")  # a stored value outside the list still shows


def test_the_filter_and_16_configuration_keys() -> None:
    assert [name for name, _ in group_rows(ROWS, "  cache ")] == ["AuthCacheCtrlr"]
    assert [name for name, _ in group_rows(ROWS, "power")] == ["EVSE/1"]
    assert group_rows(ROWS, "nothing-like-this") == []
    keys = [
        row("HeartbeatInterval", "", "HeartbeatInterval", "300"),
        row("AuthorizationKey", "", "AuthorizationKey", None, mutability="WriteOnly"),
    ]
    assert [(name, [s.address for s in items]) for name, items in group_rows(keys)] == [
        (CONFIGURATION, ["HeartbeatInterval"])
    ]


def test_set_variable_statuses_have_a_tone() -> None:
    assert status_tone("Accepted") == "ok"
    assert status_tone("RebootRequired") == "warn"
    for status in ("Rejected", "UnknownVariable", "NotSupportedAttributeType", "NotSupported"):
        assert status_tone(status) == "bad"


def test_transaction_texts_for_201() -> None:
    assert fmt.transaction("d3c1-7", "CARD", "ISO14443") == "#d3c1-7 · CARD (ISO14443)"
    assert fmt.transaction(None, "CARD", "KeyCode") == "starting (CARD (KeyCode))"
    assert fmt.transaction(12, "CARD") == "#12 · CARD"  # 1.6 unchanged
    assert fmt.seq_no(None) == "—" and fmt.seq_no(0) == "0" and fmt.seq_no(7) == "7"


def test_a_201_profile_and_composite_schedule_in_the_smart_charging_panel() -> None:
    """A ChargingProfileType (id, a list of schedules) and a GetCompositeScheduleResponse."""
    entry = {
        "connectorId": 1,
        "id": 31,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "transactionId": "a1b2",
        "chargingSchedule": [
            {
                "id": 1,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}],
            }
        ],
    }
    assert fmt.profile(entry) == "#31 TxProfile · stack 0 · Relative · 6.0 A · tx #a1b2"
    answer = {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "duration": 3600,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 4, "numberPhases": 3}],
        },
    }
    assert fmt.schedule(answer) == ["+0:00  4.0 A (3 phases)"]


def test_the_form_and_the_deep_link_take_auto() -> None:
    assert parse_deep_link({"ocpp": "auto"}).ocpp_version == "auto"
    assert parse_deep_link({"ocpp": " AUTO "}).ocpp_version == "auto"
    bad = parse_deep_link({"ocpp": "3"})
    assert bad.ocpp_version is None and "use auto, 1.6 or 2.0.1" in bad.problems[0]
    form = FormValues(csms_url="ws://h/ocpp", ocpp_version="auto")
    prefs = load_prefs(dump_prefs(Prefs(form)), "ws://x/ocpp")
    assert prefs.form.ocpp_version == "auto"
    html = (WEB / "index.html").read_text(encoding="utf-8")
    for value in ("auto", "1.6", "2.0.1"):
        assert f'<option value="{value}">' in html
    assert 'data-role="idtoken-type"' in html and 'data-role="seq-no"' in html
    assert 'id="device-model"' in html and 'id="protocol"' in html
