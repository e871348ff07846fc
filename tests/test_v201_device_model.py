"""OCPP 2.0.1 device model, B05 SetVariables and B06 GetVariables (part 6 TC_B_06..TC_B_39), the
DeviceDataCtrlr limits, write-only variables, live values, persistence, and the version-neutral
ChargePoint.variables() / set_variable() of both versions."""

from __future__ import annotations

import json
import logging

import pytest
from block_peers import block_of
from fake_csms import station
from fake_csms201 import FakeCsms201, booted201

from ocpp_core import ChargePoint, ConfigurationChanged, FrameLogged, VariableRow
from ocpp_core.clock import parse_datetime
from ocpp_core.store import MemoryStore
from ocpp_core.v201.device_model import DeviceModelBlock
from ocpp_core.v201.variables import VariableDeclarer, value_text, variable_key

PASSWORD = "Secret-Pass_1234567"


def get_item(component: str, variable: str, **extra: object) -> dict:
    item: dict = {"component": {"name": component}, "variable": {"name": variable}}
    if "evse" in extra:
        item["component"]["evse"] = extra.pop("evse")
    if "variable_instance" in extra:
        item["variable"]["instance"] = extra.pop("variable_instance")
    item.update(extra)
    return item


def set_item(component: str, variable: str, value: str, **extra: object) -> dict:
    return get_item(component, variable, attributeValue=value, **extra)


def get_one(csms: FakeCsms201, item: dict) -> dict:
    results = csms.result("GetVariables", {"getVariableData": [item]})["getVariableResult"]
    assert len(results) == 1
    return results[0]


def set_one(csms: FakeCsms201, item: dict) -> dict:
    results = csms.result("SetVariables", {"setVariableData": [item]})["setVariableResult"]
    assert len(results) == 1
    return results[0]


def no_error(result: dict) -> bool:
    info = result.get("attributeStatusInfo")
    return info is None or info["reasonCode"] == "NoError"


# ---------------------------------------------------------------------- B06 GetVariables


def test_TC_B_06_CS_get_variables_single_value() -> None:
    _cp, csms = booted201()
    assert (
        set_one(csms, set_item("OCPPCommCtrlr", "OfflineThreshold", "300"))["attributeStatus"]
        == "Accepted"
    )
    result = get_one(csms, get_item("OCPPCommCtrlr", "OfflineThreshold", attributeType="Actual"))
    assert result["attributeStatus"] == "Accepted"
    assert result["attributeType"] == "Actual"
    assert result["attributeValue"] == "300"
    assert result["component"] == {"name": "OCPPCommCtrlr"}
    assert result["variable"] == {"name": "OfflineThreshold"}
    assert no_error(result)


def test_TC_B_07_CS_get_variables_multiple_values() -> None:
    _cp, csms = booted201()
    results = csms.result(
        "SetVariables",
        {
            "setVariableData": [
                set_item("OCPPCommCtrlr", "OfflineThreshold", "300"),
                set_item("AuthCtrlr", "LocalAuthorizeOffline", "true"),
            ]
        },
    )["setVariableResult"]
    assert [result["attributeStatus"] for result in results] == ["Accepted", "Accepted"]
    results = csms.result(
        "GetVariables",
        {
            "getVariableData": [
                get_item("OCPPCommCtrlr", "OfflineThreshold", attributeType="Actual"),
                get_item("AuthCtrlr", "LocalAuthorizeOffline", attributeType="Actual"),
            ]
        },
    )["getVariableResult"]
    by_name = {result["variable"]["name"]: result for result in results}
    assert by_name["OfflineThreshold"]["attributeValue"] == "300"
    assert by_name["OfflineThreshold"]["component"] == {"name": "OCPPCommCtrlr"}
    assert by_name["LocalAuthorizeOffline"]["attributeValue"] == "true"
    assert by_name["LocalAuthorizeOffline"]["component"] == {"name": "AuthCtrlr"}
    for result in results:
        assert result["attributeStatus"] == "Accepted"
        assert result["attributeType"] == "Actual"
        assert no_error(result)


def test_TC_B_32_CS_get_variables_unknown_component() -> None:
    _cp, csms = booted201()
    result = get_one(csms, get_item("UnknownComponent", "OfflineThreshold"))
    assert result["attributeStatus"] == "UnknownComponent"
    assert result["component"] == {"name": "UnknownComponent"}
    assert result["variable"] == {"name": "OfflineThreshold"}
    assert "attributeValue" not in result


def test_TC_B_33_CS_get_variables_unknown_variable() -> None:
    _cp, csms = booted201()
    result = get_one(csms, get_item("OCPPCommCtrlr", "UnknownVariable"))
    assert result["attributeStatus"] == "UnknownVariable"
    assert result["component"] == {"name": "OCPPCommCtrlr"}
    assert result["variable"] == {"name": "UnknownVariable"}


def test_TC_B_34_CS_get_variables_not_supported_attribute_type() -> None:
    _cp, csms = booted201()
    result = get_one(csms, get_item("OCPPCommCtrlr", "OfflineThreshold", attributeType="Target"))
    assert result["attributeStatus"] == "NotSupportedAttributeType"
    assert result["component"] == {"name": "OCPPCommCtrlr"}
    assert result["variable"] == {"name": "OfflineThreshold"}
    assert result["attributeType"] == "Target"


def test_TC_B_08_CS_get_variables_limit_to_maximum_number_of_values() -> None:
    """B06.FR.05 binds the CSMS (errata 2023-12 removed TC_B_08); the station answers such a
    request the second way TC_B_08 allows: the items beyond ItemsPerMessageGetVariables Rejected
    (TooManyElements), the others answered."""
    _cp, csms = booted201()
    csms.result("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
    reported = [data for page in csms.payloads("NotifyReport") for data in page["reportData"]]
    limit = int(
        get_one(
            csms, get_item("DeviceDataCtrlr", "ItemsPerMessage", variable_instance="GetVariables")
        )["attributeValue"]
    )
    assert len(reported) > limit + 1  # the prerequisite: more variables than the limit
    items = [
        {"component": data["component"], "variable": data["variable"]}
        for data in reported
        if data["variableAttribute"][0].get("mutability") != "WriteOnly"
    ][: limit + 1]
    results = csms.result("GetVariables", {"getVariableData": items})["getVariableResult"]
    assert len(results) == limit + 1
    assert all(result["attributeStatus"] == "Accepted" for result in results[:-1])
    assert all(no_error(result) for result in results[:-1])
    assert results[-1]["attributeStatus"] == "Rejected"
    assert results[-1]["attributeStatusInfo"]["reasonCode"] == "TooManyElements"


def test_get_variables_over_bytes_per_message_rejects_every_item() -> None:
    """DeviceDataCtrlr.BytesPerMessage[GetVariables]: a larger request is answered, every item
    Rejected (TooLargeElement), the other answer TC_B_08 allows."""
    _cp, csms = booted201(config_defaults={"DeviceDataCtrlr.BytesPerMessage[GetVariables]": "200"})
    small = [get_item("OCPPCommCtrlr", "OfflineThreshold")]
    assert (
        csms.result("GetVariables", {"getVariableData": small})["getVariableResult"][0][
            "attributeStatus"
        ]
        == "Accepted"
    )
    large = small * 4
    assert len(json.dumps({"getVariableData": large})) > 200
    results = csms.result("GetVariables", {"getVariableData": large})["getVariableResult"]
    assert [result["attributeStatus"] for result in results] == ["Rejected"] * 4
    assert {result["attributeStatusInfo"]["reasonCode"] for result in results} == {
        "TooLargeElement"
    }


def test_B06_names_match_ignoring_case_and_instances_exactly() -> None:
    _cp, csms = booted201()
    result = get_one(csms, get_item("ocppcommctrlr", "offlinethreshold"))
    assert result["attributeStatus"] == "Accepted"
    assert result["component"] == {"name": "ocppcommctrlr"}  # echoed as asked
    timeout = get_one(
        csms, get_item("OCPPCommCtrlr", "MessageTimeout", variable_instance="default")
    )
    assert timeout["attributeValue"] == "30"
    # The variable exists only with its instance; EVSE exists only with an EVSE id.
    assert get_one(csms, get_item("OCPPCommCtrlr", "MessageTimeout"))["attributeStatus"] == (
        "UnknownVariable"
    )
    assert get_one(csms, get_item("EVSE", "Power"))["attributeStatus"] == "UnknownComponent"
    assert get_one(csms, get_item("EVSE", "Power", evse={"id": 3}))["attributeStatus"] == (
        "UnknownComponent"
    )


def test_B06_live_values_of_the_station_components() -> None:
    cp, csms = booted201()
    cp.connector(1).power_w = lambda: 7360.0
    power = get_one(csms, get_item("EVSE", "Power", evse={"id": 1}))
    assert power["attributeValue"] == "7360.0"
    assert get_one(csms, get_item("EVSE", "Power", evse={"id": 2}))["attributeValue"] == "0.0"
    connector = {"id": 2, "connectorId": 1}
    assert (
        get_one(csms, get_item("Connector", "ConnectorType", evse=connector))["attributeValue"]
        == "cType2"
    )
    model = get_one(csms, get_item("ChargingStation", "Model"))
    assert model["attributeValue"] == "TestModel"
    clock = get_one(csms, get_item("ClockCtrlr", "DateTime"))["attributeValue"]
    assert parse_datetime(clock) == pytest.approx(cp.clock.wall(csms.now), abs=0.001)
    # Features whose messages the engine does not handle say so.
    available = get_one(csms, get_item("ReservationCtrlr", "Available"))["attributeValue"]
    assert available == ("true" if _routes(cp, "ReserveNow") else "false")


def _routes(cp: ChargePoint, action: str) -> bool:
    return action in cp._engine.assembly.routes


def test_B06_availability_state_follows_the_status_of_each_evse() -> None:
    cp, csms = booted201()

    class Statuses:
        def __init__(self) -> None:
            self.of = {0: "Available", 1: "Occupied", 2: "Faulted"}

        def status_of(self, connector: int, now: float) -> str:
            return self.of[connector]

    statuses = Statuses()
    block_of(cp, DeviceModelBlock).status = statuses
    items = [
        get_item("ChargingStation", "AvailabilityState"),
        get_item("EVSE", "AvailabilityState", evse={"id": 1}),
        get_item("Connector", "AvailabilityState", evse={"id": 2, "connectorId": 1}),
        get_item("EVSE", "Problem", evse={"id": 2}),
        get_item("EVSE", "Problem", evse={"id": 1}),
    ]
    results = csms.result("GetVariables", {"getVariableData": items})["getVariableResult"]
    assert [result["attributeValue"] for result in results] == [
        "Available",
        "Occupied",
        "Faulted",
        "true",
        "false",
    ]
    statuses.of[1] = "Unavailable"
    assert get_one(csms, items[1])["attributeValue"] == "Unavailable"


# ---------------------------------------------------------------------- B05 SetVariables


def test_TC_B_09_CS_set_variables_single_value() -> None:
    cp, csms = booted201()
    result = set_one(
        csms, set_item("OCPPCommCtrlr", "OfflineThreshold", "300", attributeType="Actual")
    )
    assert result["attributeStatus"] == "Accepted"
    assert result["attributeType"] == "Actual"
    assert result["component"] == {"name": "OCPPCommCtrlr"}
    assert result["variable"] == {"name": "OfflineThreshold"}
    assert no_error(result)
    assert cp.get_configuration("OCPPCommCtrlr.OfflineThreshold") == "300"


def test_TC_B_10_CS_set_variables_multiple_values() -> None:
    cp, csms = booted201()
    results = csms.result(
        "SetVariables",
        {
            "setVariableData": [
                set_item("OCPPCommCtrlr", "OfflineThreshold", "301", attributeType="Actual"),
                set_item("AuthCtrlr", "LocalAuthorizeOffline", "true", attributeType="Actual"),
            ]
        },
    )["setVariableResult"]
    by_name = {result["variable"]["name"]: result for result in results}
    assert by_name["OfflineThreshold"]["component"] == {"name": "OCPPCommCtrlr"}
    assert by_name["LocalAuthorizeOffline"]["component"] == {"name": "AuthCtrlr"}
    for result in results:
        assert result["attributeStatus"] == "Accepted"
        assert result["attributeType"] == "Actual"
        assert no_error(result)
    assert cp.get_configuration("OCPPCommCtrlr.OfflineThreshold") == "301"
    assert cp.get_configuration("AuthCtrlr.LocalAuthorizeOffline") == "true"


def test_TC_B_35_CS_set_variables_unknown_component() -> None:
    _cp, csms = booted201()
    result = set_one(csms, set_item("UnknownComponent", "OfflineThreshold", "300"))
    assert result["attributeStatus"] == "UnknownComponent"
    assert result["component"] == {"name": "UnknownComponent"}
    assert result["variable"] == {"name": "OfflineThreshold"}


def test_TC_B_36_CS_set_variables_unknown_variable() -> None:
    _cp, csms = booted201()
    result = set_one(csms, set_item("OCPPCommCtrlr", "UnknownVariable", "300"))
    assert result["attributeStatus"] == "UnknownVariable"
    assert result["component"] == {"name": "OCPPCommCtrlr"}
    assert result["variable"] == {"name": "UnknownVariable"}


def test_TC_B_37_CS_set_variables_not_supported_attribute_type() -> None:
    cp, csms = booted201()
    result = set_one(
        csms, set_item("OCPPCommCtrlr", "OfflineThreshold", "300", attributeType="Target")
    )
    assert result["attributeStatus"] == "NotSupportedAttributeType"
    assert result["component"] == {"name": "OCPPCommCtrlr"}
    assert result["variable"] == {"name": "OfflineThreshold"}
    assert result["attributeType"] == "Target"
    assert cp.get_configuration("OCPPCommCtrlr.OfflineThreshold") == "300"


@pytest.mark.parametrize(
    "value", ["<offlineThreshold>", "<offlineThreshold + 0.1>", "true", "now", "abc"]
)
def test_TC_B_11_CS_set_variables_invalidly_formatted_values(value: str) -> None:
    """Steps 1-8 for the five values (errata 2023-12: the configured OfflineThreshold and that
    plus 0.1). Steps 5-6 only if AuthCtrlr.AuthorizeRemoteStart is ReadWrite; steps 7-8 only if
    ClockCtrlr.NextTimeOffsetTransitionDateTime exists (it does not: UnknownVariable)."""
    cp, csms = booted201()
    threshold = int(get_one(csms, get_item("OCPPCommCtrlr", "OfflineThreshold"))["attributeValue"])
    text = {
        "<offlineThreshold>": str(threshold),
        "<offlineThreshold + 0.1>": f"{threshold + 0.1}",
        "now": csms.wall_text(),
    }.get(value, value)
    # Which of the four variables take which value (the rest are badly formatted for them).
    supported = {
        "OfflineThreshold": text == str(threshold),
        "LimitChangeSignificance": text in (str(threshold), f"{threshold + 0.1}")
        and float(text) <= 100,
        "AuthorizeRemoteStart": text == "true",
    }
    steps = [
        ("OCPPCommCtrlr", "OfflineThreshold"),
        ("SmartChargingCtrlr", "LimitChangeSignificance"),
        ("AuthCtrlr", "AuthorizeRemoteStart"),
    ]
    for component, variable in steps:
        if _mutability(cp, f"{component}.{variable}") != "ReadWrite":
            continue  # steps 5-6: only for a ReadWrite AuthorizeRemoteStart
        before = cp.get_configuration(f"{component}.{variable}")
        result = set_one(csms, set_item(component, variable, text))
        assert result["attributeType"] == "Actual"
        assert result["component"] == {"name": component}
        assert result["variable"] == {"name": variable}
        if supported[variable]:
            assert result["attributeStatus"] == "Accepted", (variable, text)
        else:
            assert result["attributeStatus"] == "Rejected", (variable, text)
            assert result["attributeStatusInfo"]["reasonCode"] in (
                "InvalidValue",
                "ValueOutOfRange",
            )
            assert cp.get_configuration(f"{component}.{variable}") == before
    result = set_one(csms, set_item("ClockCtrlr", "NextTimeOffsetTransitionDateTime", text))
    assert result["attributeStatus"] == "UnknownVariable"


def _mutability(cp: ChargePoint, address: str) -> str | None:
    return next((row.mutability for row in cp.variables(0.0) if row.address == address), None)


def test_TC_B_39_CS_set_variables_read_only() -> None:
    cp, csms = booted201()
    result = set_one(
        csms, set_item("OCPPCommCtrlr", "MessageTimeout", "60", variable_instance="Default")
    )
    assert result["attributeStatus"] == "Rejected"
    assert result["component"] == {"name": "OCPPCommCtrlr"}
    assert result["variable"] == {"name": "MessageTimeout", "instance": "Default"}
    assert result["attributeStatusInfo"]["reasonCode"] == "ReadOnly"
    assert cp.get_configuration("OCPPCommCtrlr.MessageTimeout[Default]") == "30"


def test_B05_reboot_required_for_network_configuration_priority() -> None:
    """B10: a new NetworkConfigurationPriority applies at the next boot, so RebootRequired."""
    _cp, csms = booted201()
    result = set_one(csms, set_item("OCPPCommCtrlr", "NetworkConfigurationPriority", "1"))
    assert result["attributeStatus"] == "RebootRequired"
    result = set_one(csms, set_item("OCPPCommCtrlr", "NetworkConfigurationPriority", "2"))
    assert result["attributeStatus"] == "Rejected"  # no connection profile in slot 2


def test_B05_out_of_range_values_are_value_out_of_range() -> None:
    _cp, csms = booted201()
    result = set_one(csms, set_item("SmartChargingCtrlr", "LimitChangeSignificance", "100.5"))
    assert result["attributeStatus"] == "Rejected"
    assert result["attributeStatusInfo"]["reasonCode"] == "ValueOutOfRange"
    result = set_one(csms, set_item("OCPPCommCtrlr", "OfflineThreshold", "-1"))
    assert result["attributeStatusInfo"]["reasonCode"] == "ValueOutOfRange"
    result = set_one(csms, set_item("OCPPCommCtrlr", "OfflineThreshold", "99999999999999"))
    assert result["attributeStatus"] == "Rejected"
    result = set_one(csms, set_item("SmartChargingCtrlr", "LimitChangeSignificance", "NaN"))
    assert result["attributeStatusInfo"]["reasonCode"] == "InvalidValue"


def test_set_variables_over_items_per_message_applies_only_the_allowed_items() -> None:
    cp, csms = booted201(config_defaults={"DeviceDataCtrlr.ItemsPerMessage[SetVariables]": "2"})
    items = [set_item("OCPPCommCtrlr", "OfflineThreshold", str(value)) for value in (10, 20, 30)]
    results = csms.result("SetVariables", {"setVariableData": items})["setVariableResult"]
    assert [result["attributeStatus"] for result in results] == [
        "Accepted",
        "Accepted",
        "Rejected",
    ]
    assert results[2]["attributeStatusInfo"]["reasonCode"] == "TooManyElements"
    assert cp.get_configuration("OCPPCommCtrlr.OfflineThreshold") == "20"


def test_set_variables_over_bytes_per_message_applies_nothing() -> None:
    cp, csms = booted201(config_defaults={"DeviceDataCtrlr.BytesPerMessage[SetVariables]": "150"})
    items = [set_item("OCPPCommCtrlr", "OfflineThreshold", "10")] * 2
    results = csms.result("SetVariables", {"setVariableData": items})["setVariableResult"]
    assert {result["attributeStatusInfo"]["reasonCode"] for result in results} == {
        "TooLargeElement"
    }
    assert cp.get_configuration("OCPPCommCtrlr.OfflineThreshold") == "300"


def test_B05_set_values_survive_a_restart() -> None:
    store = MemoryStore()
    _cp, csms = booted201(store=store)
    set_one(csms, set_item("OCPPCommCtrlr", "OfflineThreshold", "123"))
    set_one(csms, set_item("SecurityCtrlr", "OrganizationName", "ACME Charging"))
    # The station is gone right after the answer: a new one on the same store is a reboot.
    _again, csms = booted201(store=store)
    assert get_one(csms, get_item("OCPPCommCtrlr", "OfflineThreshold"))["attributeValue"] == "123"
    assert get_one(csms, get_item("SecurityCtrlr", "OrganizationName"))["attributeValue"] == (
        "ACME Charging"
    )


class RefusingStore(MemoryStore):
    """A disk that is full: every save raises."""

    full = False

    def save(self, name: str, value: object) -> None:
        if self.full:
            raise OSError(28, "No space left on device")
        super().save(name, value)


def test_B05_a_value_the_store_cannot_keep_is_rejected_and_not_applied() -> None:
    store = RefusingStore()
    cp, csms = booted201(store=store)
    store.full = True
    result = set_one(csms, set_item("OCPPCommCtrlr", "OfflineThreshold", "42"))
    assert result["attributeStatus"] == "Rejected"
    assert result["attributeStatusInfo"]["reasonCode"] == "OutOfStorage"
    assert cp.get_configuration("OCPPCommCtrlr.OfflineThreshold") == "300"


# ---------------------------------------------------------------------- write-only


def test_basic_auth_password_is_write_only_never_read_back_or_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    cp, csms = booted201()
    logged: list[FrameLogged] = []
    changes: list[ConfigurationChanged] = []
    cp.subscribe(lambda event: logged.append(event) if isinstance(event, FrameLogged) else None)
    cp.subscribe(
        lambda event: changes.append(event) if isinstance(event, ConfigurationChanged) else None
    )
    result = set_one(csms, set_item("SecurityCtrlr", "BasicAuthPassword", PASSWORD))
    assert result["attributeStatus"] == "Accepted"
    assert cp.get_configuration("SecurityCtrlr.BasicAuthPassword") == PASSWORD  # the station's own
    got = get_one(csms, get_item("SecurityCtrlr", "BasicAuthPassword"))
    assert got["attributeStatus"] == "Rejected"
    assert got["attributeStatusInfo"]["reasonCode"] == "WriteOnly"
    assert "attributeValue" not in got
    csms.result("GetBaseReport", {"requestId": 5, "reportBase": "ConfigurationInventory"})
    csms.result("GetReport", {"requestId": 6})
    row = next(row for row in cp.variables(csms.now) if row.variable == "BasicAuthPassword")
    assert row.value is None and row.mutability == "WriteOnly"
    assert changes == [ConfigurationChanged("SecurityCtrlr.BasicAuthPassword", None, False)]
    assert logged and all(PASSWORD not in event.text for event in logged)
    assert all(PASSWORD not in frame for frame in csms.sent)  # no report or reply carries it
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize("value", ["short", "x" * 41, "with space in it 1234", "päss-wörd-1234567"])
def test_basic_auth_password_must_be_a_password_string(value: str) -> None:
    _cp, csms = booted201()
    result = set_one(csms, set_item("SecurityCtrlr", "BasicAuthPassword", value))
    assert result["attributeStatus"] == "Rejected"
    assert result["attributeStatusInfo"]["reasonCode"] == "InvalidValue"


# ---------------------------------------------------------------------- version-neutral view


def test_variables_view_2_0_1_rows_and_set_variable_statuses() -> None:
    cp, csms = booted201()
    rows = cp.variables(csms.now)
    assert all(isinstance(row, VariableRow) for row in rows)
    by_address = {row.address: row for row in rows}
    assert len(by_address) == len(rows)
    heartbeat_free = by_address["OCPPCommCtrlr.OfflineThreshold"]
    assert heartbeat_free == VariableRow(
        "OCPPCommCtrlr.OfflineThreshold",
        "OCPPCommCtrlr",
        "OfflineThreshold",
        "Actual",
        "300",
        "ReadWrite",
        "integer",
        "s",
        None,
    )
    timeout = by_address["OCPPCommCtrlr.MessageTimeout[Default]"]
    assert (timeout.variable, timeout.mutability) == ("MessageTimeout[Default]", "ReadOnly")
    power = by_address["EVSE/2.Power"]
    assert (power.component, power.data_type, power.unit) == ("EVSE/2", "decimal", "W")
    assert by_address["SmartChargingCtrlr.RateUnit"].values_list == ("A", "W")
    # The station's components first, EVSE by EVSE.
    components = list(dict.fromkeys(row.component for row in rows))
    assert components[:7] == [
        "ChargingStation",
        "EVSE/1",
        "Connector/1/1",
        "ConnectorPlugRetentionLock/1/1",
        "EVSE/2",
        "Connector/2/1",
        "ConnectorPlugRetentionLock/2/1",
    ]

    changes: list[ConfigurationChanged] = []
    cp.subscribe(
        lambda event: changes.append(event) if isinstance(event, ConfigurationChanged) else None
    )
    assert cp.set_variable("OCPPCommCtrlr.OfflineThreshold", "77", csms.now) == "Accepted"
    assert changes[-1].key == "OCPPCommCtrlr.OfflineThreshold"
    assert by_address["OCPPCommCtrlr.OfflineThreshold"].value == "300"  # rows are snapshots
    assert get_one(csms, get_item("OCPPCommCtrlr", "OfflineThreshold"))["attributeValue"] == "77"
    assert cp.set_variable("ocppcommctrlr.offlinethreshold", "78", csms.now) == "Accepted"
    assert cp.set_variable("OCPPCommCtrlr.OfflineThreshold", "x", csms.now) == "Rejected"
    assert cp.set_variable("OCPPCommCtrlr.MessageTimeout[Default]", "5", csms.now) == "Rejected"
    assert cp.set_variable("EVSE/1.Power", "5", csms.now) == "Rejected"
    assert cp.set_variable("OCPPCommCtrlr.NetworkConfigurationPriority", "1", csms.now) == (
        "RebootRequired"
    )
    assert cp.set_variable("OCPPCommCtrlr.OfflineThreshold#MaxSet", "5", csms.now) == (
        "NotSupportedAttributeType"
    )
    assert cp.set_variable("OCPPCommCtrlr.Nothing", "5", csms.now) == "UnknownVariable"
    assert cp.set_variable("EVSE/9.Power", "5", csms.now) == "UnknownComponent"
    assert cp.set_variable("SecurityCtrlr.BasicAuthPassword", PASSWORD, csms.now) == "Accepted"
    secret = next(row for row in cp.variables(csms.now) if row.variable == "BasicAuthPassword")
    assert secret.value is None
    with pytest.raises(TypeError):
        cp.set_variable("OCPPCommCtrlr.OfflineThreshold", 5, csms.now)  # type: ignore[arg-type]


def test_variables_view_1_6_lists_configuration_keys() -> None:
    cp, csms = station()
    csms.connect()
    rows = {row.address: row for row in cp.variables(csms.now)}
    assert rows["HeartbeatInterval"] == VariableRow(
        "HeartbeatInterval",
        "",
        "HeartbeatInterval",
        "Actual",
        cp.get_configuration("HeartbeatInterval"),
        "ReadWrite",
        "integer",
        None,
        None,
    )
    assert rows["AuthorizationKey"].value is None
    assert rows["AuthorizationKey"].mutability == "WriteOnly"
    assert rows["GetConfigurationMaxKeys"].mutability == "ReadOnly"
    assert rows["LocalPreAuthorize"].data_type == "boolean"
    assert rows["SupportedFeatureProfiles"].data_type in ("MemberList", "SequenceList")
    assert cp.set_variable("HeartbeatInterval", "60", csms.now) == "Accepted"
    assert cp.get_configuration("HeartbeatInterval") == "60"
    assert cp.set_variable("GetConfigurationMaxKeys", "1", csms.now) == "Rejected"
    assert cp.set_variable("NoSuchKey", "1", csms.now) == "NotSupported"


# ---------------------------------------------------------------------- variables.py


def test_variable_attributes_other_than_actual_are_keys_of_their_own() -> None:
    declarer = VariableDeclarer("tests", "EVSE")
    actual = declarer.decimal("Power", "0", unit="W", evse=1, max_limit=22080.0)
    most = declarer.decimal(
        "Power", "11000", unit="W", evse=1, attribute="MaxSet", max_limit=22080.0
    )
    assert (actual.name, most.name) == ("EVSE/1.Power", "EVSE/1.Power#MaxSet")
    assert most.component_label == "EVSE/1" and most.variable_label == "Power"
    assert most.characteristics(None) == {
        "dataType": "decimal",
        "supportsMonitoring": False,
        "unit": "W",
        "maxLimit": 22080.0,
    }
    assert most.check is not None and most.check("22080") and not most.check("22080.5")
    with pytest.raises(ValueError, match="attribute"):
        declarer.decimal("Power", "0", attribute="Minimum")
    timeout = VariableDeclarer("tests", "OCPPCommCtrlr").integer(
        "MessageTimeout", 30, variable_instance="Default", mutability="ReadOnly", unit="s"
    )
    assert (timeout.name, timeout.mutability) == (
        "OCPPCommCtrlr.MessageTimeout[Default]",
        "ReadOnly",
    )
    assert timeout.characteristics(None) == {
        "dataType": "integer",
        "supportsMonitoring": False,
        "unit": "s",
        "minLimit": 0,
    }
    assert variable_key("Connector", "ConnectorType", evse=2, connector=1) == (
        "Connector/2/1.ConnectorType"
    )
    assert (
        variable_key("Ctrlr", "X", component_instance="a", attribute="Target")
        == "Ctrlr(a).X#Target"
    )
    assert [value_text(value) for value in (True, False, 7, 7.0, 7.25, "x")] == [
        "true",
        "false",
        "7",
        "7.0",
        "7.25",
        "x",
    ]


HOSTILE_VALUES = ["", " ", "\ud800", "9" * 30, "-1", "0", "1.5", "true", "FALSE", "A,W", "x" * 600]


def test_B05_every_writable_variable_takes_its_own_value_and_refuses_garbage_cleanly() -> None:
    """Each writable variable of the wired blocks: its current value is accepted back, and
    hostile texts get a SetVariables status (never a CALLERROR), after which GetVariables
    still reads a value of the variable's type."""
    cp, csms = booted201()
    for evse in (0, 1, 2):  # a meter, so the measurand lists may name what it measures
        cp.connector(evse).energy_wh = lambda: 1000.0
    writable = [row for row in cp.variables(csms.now) if row.mutability == "ReadWrite"]
    assert len(writable) > 20
    for row in writable:
        component, _, variable = row.address.partition(".")
        item = _item_of(component, variable, row.value)
        assert set_one(csms, item)["attributeStatus"] in ("Accepted", "RebootRequired"), row
        for text in HOSTILE_VALUES:
            result = set_one(csms, {**item, "attributeValue": text})
            assert result["attributeStatus"] in ("Accepted", "Rejected", "RebootRequired"), row
            got = get_one(csms, {"component": item["component"], "variable": item["variable"]})
            assert got["attributeStatus"] == "Accepted", row
            if result["attributeStatus"] == "Rejected":
                continue
            if row.data_type == "boolean":  # true/false in any letter case, as in 1.6
                assert got["attributeValue"] == text.strip().lower(), row
            elif row.data_type not in LIST_TYPES:  # lists come back trimmed, per item
                assert got["attributeValue"] in (text, text.strip()), row


LIST_TYPES = ("SequenceList", "MemberList")


def _item_of(component: str, variable: str, value: str | None) -> dict:
    """A SetVariableData item for a row's component and variable labels."""
    name, _, instance = variable.partition("[")
    item: dict = {"component": {"name": component}, "variable": {"name": name}}
    if instance:
        item["variable"]["instance"] = instance.rstrip("]")
    if "/" in component:
        name, evse, *connector = component.split("/")
        item["component"] = {"name": name, "evse": {"id": int(evse)}}
        if connector:
            item["component"]["evse"]["connectorId"] = int(connector[0])
    item["attributeValue"] = value or ""
    return item


def test_B06_an_evse_id_written_as_1_0_is_evse_1() -> None:
    """Draft-06 schemas take 1.0 as an integer: it names EVSE 1 (and connector 1)."""
    _cp, csms = booted201()
    item = get_item("Connector", "ConnectorType", evse={"id": 1.0, "connectorId": 1.0})
    assert get_one(csms, item)["attributeValue"] == "cType2"
    wanted = [{"component": {"name": "EVSE", "evse": {"id": 2.0}}, "variable": {"name": "Power"}}]
    assert csms.result("GetReport", {"requestId": 1, "componentVariable": wanted}) == {
        "status": "Accepted"
    }
    (page,) = csms.payloads("NotifyReport")
    assert [data["component"] for data in page["reportData"]] == [
        {"name": "EVSE", "evse": {"id": 2}}
    ]


def test_availability_state_and_supply_follow_the_wired_blocks() -> None:
    """AvailabilityState reads the status block (ChangeAvailability, a plugged EV); SupplyPhases
    and EVSE Power's maxLimit the supply the station sets (ChargePoint.set_supply)."""
    cp, csms = booted201()
    assert cp.registration == "Accepted"
    states = [
        get_item("ChargingStation", "AvailabilityState"),
        get_item("EVSE", "AvailabilityState", evse={"id": 1}),
        get_item("Connector", "AvailabilityState", evse={"id": 1, "connectorId": 1}),
        get_item("EVSE", "AvailabilityState", evse={"id": 2}),
    ]

    def values() -> list[str]:
        results = csms.result("GetVariables", {"getVariableData": states})["getVariableResult"]
        return [result["attributeValue"] for result in results]

    assert values() == ["Available"] * 4
    request = {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    assert csms.result("ChangeAvailability", request)["status"] == "Accepted"
    assert values() == ["Available", "Unavailable", "Unavailable", "Available"]
    cp.connector(2).plugged = lambda: True
    csms.pump()
    assert values()[3] == "Occupied"
    assert values()[3] == cp.status(2, csms.now)
    request = {"operationalStatus": "Inoperative"}
    assert csms.result("ChangeAvailability", request)["status"] in ("Accepted", "Scheduled")
    csms.pump()
    assert values()[0] == cp.status(0, csms.now) == "Unavailable"

    cp.set_supply(230.0, 1, 16.0)
    phases = get_one(csms, get_item("EVSE", "SupplyPhases", evse={"id": 1}))
    assert phases["attributeValue"] == "1"
    csms.result(
        "GetReport",
        {"requestId": 2, "componentVariable": [states[1] | {"variable": {"name": "Power"}}]},
    )
    (page,) = csms.payloads("NotifyReport")
    assert page["reportData"][0]["variableCharacteristics"]["maxLimit"] == 3680.0
