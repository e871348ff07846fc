"""OCPP 2.0.1 reports: B07 GetBaseReport (TC_B_12, TC_B_13, TC_B_53) and B08 GetReport with
componentVariable / componentCriteria filters, answered by paged NotifyReport (requestId,
generatedAt, seqNo, tbc)."""

from __future__ import annotations

import pytest
from block_peers import block_of
from fake_csms import SILENT
from fake_csms201 import FakeCsms201, booted201

from ocpp_core.clock import parse_datetime
from ocpp_core.v201.device_model import DeviceModelBlock
from ocpp_core.v201.reports import MAX_PENDING_REPORTS, REPORT_PAGE_ITEMS

LIST_TYPES = ("OptionList", "SequenceList", "MemberList")


def pages(csms: FakeCsms201, request_id: int) -> list[dict]:
    return [page for page in csms.payloads("NotifyReport") if page["requestId"] == request_id]


def check_paging(csms: FakeCsms201, request_id: int) -> list[dict]:
    """The report's pages are seqNo 0, 1, ... with tbc on all but the last; its reportData."""
    sent = pages(csms, request_id)
    assert sent, "no NotifyReport"
    assert [page["seqNo"] for page in sent] == list(range(len(sent)))
    assert [page.get("tbc", False) for page in sent] == [True] * (len(sent) - 1) + [False]
    assert len({page["generatedAt"] for page in sent}) == 1
    assert all(len(page["reportData"]) <= REPORT_PAGE_ITEMS for page in sent)
    return [data for page in sent for data in page["reportData"]]


def address(data: dict) -> tuple:
    component, variable = data["component"], data["variable"]
    evse = component.get("evse", {})
    return (
        component["name"],
        component.get("instance"),
        evse.get("id"),
        evse.get("connectorId"),
        variable["name"],
        variable.get("instance"),
    )


def check_characteristics(data: dict) -> None:
    characteristics = data["variableCharacteristics"]
    if characteristics["dataType"] in LIST_TYPES:
        assert characteristics["valuesList"], data


# ---------------------------------------------------------------------- B07 GetBaseReport


def test_TC_B_12_CS_get_base_report_configuration_inventory() -> None:
    cp, csms = booted201()
    response = csms.result(
        "GetBaseReport", {"requestId": 812, "reportBase": "ConfigurationInventory"}
    )
    assert response["status"] == "Accepted"
    assert "statusInfo" not in response
    reported = check_paging(csms, 812)
    first = pages(csms, 812)[0]
    assert parse_datetime(first["generatedAt"]) == pytest.approx(cp.clock.wall(csms.now), abs=1)
    for data in reported:
        check_characteristics(data)
        for attribute in data["variableAttribute"]:
            assert attribute["mutability"] in ("ReadWrite", "WriteOnly")
    names = {address(data) for data in reported}
    # The writable required variables of the components this device model owns.
    for required in (
        ("OCPPCommCtrlr", None, None, None, "OfflineThreshold", None),
        ("OCPPCommCtrlr", None, None, None, "NetworkConfigurationPriority", None),
        ("OCPPCommCtrlr", None, None, None, "NetworkProfileConnectionAttempts", None),
        ("ClockCtrlr", None, None, None, "TimeSource", None),
        ("SecurityCtrlr", None, None, None, "OrganizationName", None),
        ("SmartChargingCtrlr", None, None, None, "LimitChangeSignificance", None),
    ):
        assert required in names, required
    assert ("OCPPCommCtrlr", None, None, None, "MessageTimeout", "Default") not in names


def test_TC_B_13_CS_get_base_report_full_inventory() -> None:
    cp, csms = booted201()
    response = csms.result("GetBaseReport", {"requestId": 813, "reportBase": "FullInventory"})
    assert response == {"status": "Accepted"}
    reported = check_paging(csms, 813)
    assert len(pages(csms, 813)) > 1  # paged
    addresses = [address(data) for data in reported]
    assert len(addresses) == len(set(addresses))  # each variable once, its attributes together
    for data in reported:
        check_characteristics(data)
    every = {row.address for row in cp.variables(csms.now)}
    assert len(reported) == len(every)  # every variable (all Actual here), none twice


# TC_B_53's table, for the components the device model itself declares:
# (component, evse, connectorId, variable, instance, mutabilities, dataType, unit).
REQUIRED = [
    ("ChargingStation", None, None, "AvailabilityState", None, {"ReadOnly"}, "OptionList", None),
    ("ChargingStation", None, None, "Available", None, {"ReadOnly"}, "boolean", None),
    ("ChargingStation", None, None, "SupplyPhases", None, {"ReadOnly"}, "integer", None),
    ("ClockCtrlr", None, None, "DateTime", None, {"ReadOnly"}, "dateTime", None),
    ("ClockCtrlr", None, None, "TimeSource", None, {"ReadWrite"}, "SequenceList", None),
    *[
        row
        for evse in (1, 2)
        for row in (
            ("Connector", evse, 1, "AvailabilityState", None, {"ReadOnly"}, "OptionList", None),
            ("Connector", evse, 1, "Available", None, {"ReadOnly"}, "boolean", None),
            ("Connector", evse, 1, "ConnectorType", None, {"ReadOnly"}, "string", None),
            ("Connector", evse, 1, "SupplyPhases", None, {"ReadOnly"}, "integer", None),
            ("EVSE", evse, None, "AvailabilityState", None, {"ReadOnly"}, "OptionList", None),
            ("EVSE", evse, None, "Available", None, {"ReadOnly"}, "boolean", None),
            ("EVSE", evse, None, "Power", None, {"ReadOnly"}, "decimal", "W"),
            ("EVSE", evse, None, "SupplyPhases", None, {"ReadOnly"}, "integer", None),
        )
    ],
    *[
        ("DeviceDataCtrlr", None, None, variable, message, {"ReadOnly"}, "integer", None)
        for variable in ("BytesPerMessage", "ItemsPerMessage")
        for message in ("GetReport", "GetVariables", "SetVariables")
    ],
    ("OCPPCommCtrlr", None, None, "FileTransferProtocols", None, {"ReadOnly"}, "MemberList", None),
    ("OCPPCommCtrlr", None, None, "MessageTimeout", "Default", {"ReadOnly"}, "integer", "s"),
    (
        "OCPPCommCtrlr",
        None,
        None,
        "NetworkConfigurationPriority",
        None,
        {"ReadWrite"},
        "SequenceList",
        None,
    ),
    (
        "OCPPCommCtrlr",
        None,
        None,
        "NetworkProfileConnectionAttempts",
        None,
        {"ReadWrite"},
        "integer",
        None,
    ),
    ("OCPPCommCtrlr", None, None, "OfflineThreshold", None, {"ReadWrite"}, "integer", "s"),
    ("SecurityCtrlr", None, None, "CertificateEntries", None, {"ReadOnly"}, "integer", None),
    ("SecurityCtrlr", None, None, "OrganizationName", None, {"ReadWrite"}, "string", None),
    ("SecurityCtrlr", None, None, "SecurityProfile", None, {"ReadOnly"}, "integer", None),
    (
        "SmartChargingCtrlr",
        None,
        None,
        "Entries",
        "ChargingProfiles",
        {"ReadOnly"},
        "integer",
        None,
    ),
    (
        "SmartChargingCtrlr",
        None,
        None,
        "LimitChangeSignificance",
        None,
        {"ReadWrite"},
        "decimal",
        "Percent",
    ),
    ("SmartChargingCtrlr", None, None, "PeriodsPerSchedule", None, {"ReadOnly"}, "integer", None),
    ("SmartChargingCtrlr", None, None, "ProfileStackLevel", None, {"ReadOnly"}, "integer", None),
    ("SmartChargingCtrlr", None, None, "RateUnit", None, {"ReadOnly"}, "MemberList", None),
]


# The rest of TC_B_53's Core table and its LocalAuthListCtrlr part: the variables the other blocks
# declare (their blocks act on them), checked here as one report of the whole station.
OTHERS = [
    ("AlignedDataCtrlr", None, None, "Interval", None, {"ReadWrite"}, "integer", "s"),
    ("AlignedDataCtrlr", None, None, "Measurands", None, {"ReadWrite"}, "MemberList", None),
    ("AlignedDataCtrlr", None, None, "TxEndedInterval", None, {"ReadWrite"}, "integer", "s"),
    ("AlignedDataCtrlr", None, None, "TxEndedMeasurands", None, {"ReadWrite"}, "MemberList", None),
    (
        "AuthCtrlr",
        None,
        None,
        "AuthorizeRemoteStart",
        None,
        {"ReadOnly", "ReadWrite"},
        "boolean",
        None,
    ),
    ("AuthCtrlr", None, None, "LocalAuthorizeOffline", None, {"ReadWrite"}, "boolean", None),
    ("AuthCtrlr", None, None, "LocalPreAuthorize", None, {"ReadWrite"}, "boolean", None),
    (
        "OCPPCommCtrlr",
        None,
        None,
        "MessageAttemptInterval",
        "TransactionEvent",
        {"ReadWrite"},
        "integer",
        "s",
    ),
    (
        "OCPPCommCtrlr",
        None,
        None,
        "MessageAttempts",
        "TransactionEvent",
        {"ReadWrite"},
        "integer",
        None,
    ),
    ("OCPPCommCtrlr", None, None, "ResetRetries", None, {"ReadWrite"}, "integer", None),
    (
        "OCPPCommCtrlr",
        None,
        None,
        "UnlockOnEVSideDisconnect",
        None,
        {"ReadWrite", "ReadOnly"},
        "boolean",
        None,
    ),
    ("SampledDataCtrlr", None, None, "TxEndedInterval", None, {"ReadWrite"}, "integer", "s"),
    ("SampledDataCtrlr", None, None, "TxEndedMeasurands", None, {"ReadWrite"}, "MemberList", None),
    (
        "SampledDataCtrlr",
        None,
        None,
        "TxStartedMeasurands",
        None,
        {"ReadWrite"},
        "MemberList",
        None,
    ),
    ("SampledDataCtrlr", None, None, "TxUpdatedInterval", None, {"ReadWrite"}, "integer", "s"),
    (
        "SampledDataCtrlr",
        None,
        None,
        "TxUpdatedMeasurands",
        None,
        {"ReadWrite"},
        "MemberList",
        None,
    ),
    ("TxCtrlr", None, None, "EVConnectionTimeOut", None, {"ReadWrite"}, "integer", "s"),
    (
        "TxCtrlr",
        None,
        None,
        "StopTxOnEVSideDisconnect",
        None,
        {"ReadWrite", "ReadOnly"},
        "boolean",
        None,
    ),
    ("TxCtrlr", None, None, "StopTxOnInvalidId", None, {"ReadWrite"}, "boolean", None),
    ("TxCtrlr", None, None, "TxStartPoint", None, {"ReadWrite", "ReadOnly"}, "MemberList", None),
    ("TxCtrlr", None, None, "TxStopPoint", None, {"ReadWrite", "ReadOnly"}, "MemberList", None),
    ("LocalAuthListCtrlr", None, None, "BytesPerMessage", None, {"ReadOnly"}, "integer", None),
    ("LocalAuthListCtrlr", None, None, "Entries", None, {"ReadOnly"}, "integer", None),
    ("LocalAuthListCtrlr", None, None, "ItemsPerMessage", None, {"ReadOnly"}, "integer", None),
]
# "maxLimit>0" in TC_B_53's Other column.
WITH_MAX_LIMIT = [
    ("AlignedDataCtrlr", "Measurands"),
    ("AlignedDataCtrlr", "TxEndedMeasurands"),
    ("SampledDataCtrlr", "TxEndedMeasurands"),
    ("SampledDataCtrlr", "TxStartedMeasurands"),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"),
    ("LocalAuthListCtrlr", "Entries"),
    ("SmartChargingCtrlr", "Entries"),
    ("EVSE", "Power"),
]


def test_TC_B_53_CS_get_base_report_mandatory_device_model_variables() -> None:
    """TC_B_53's list of required Core and LocalAuthListCtrlr variables (errata 2023-12: "the
    required variables of part 2"; the optional functional blocks' parts — display messages,
    ISO 15118, monitoring, tariff — are not implemented), with their mutability, dataType, unit
    and maxLimit, in one FullInventory of the whole station."""
    _cp, csms = booted201()
    response = csms.result("GetBaseReport", {"requestId": 853, "reportBase": "FullInventory"})
    assert response["status"] == "Accepted"
    reported = {address(data): data for data in check_paging(csms, 853)}
    for component, evse, connector, variable, instance, mutability, data_type, unit in (
        *REQUIRED,
        *OTHERS,
    ):
        data = reported.get((component, None, evse, connector, variable, instance))
        assert data is not None, (component, evse, variable, instance)
        actual = [a for a in data["variableAttribute"] if a.get("type", "Actual") == "Actual"]
        assert len(actual) == 1
        assert actual[0]["mutability"] in mutability
        characteristics = data["variableCharacteristics"]
        assert characteristics["dataType"] == data_type
        if unit is not None:
            assert characteristics["unit"] == unit
    for component, variable in WITH_MAX_LIMIT:
        found = [
            data["variableCharacteristics"]
            for key, data in reported.items()
            if key[0] == component and key[4] == variable
        ]
        assert found, (component, variable)
        assert all(item.get("maxLimit", 0) > 0 for item in found), (component, variable)
    for data in reported.values():  # every list type says which values it takes
        check_characteristics(data)
    assert (
        reported[("SmartChargingCtrlr", None, None, None, "RateUnit", None)][
            "variableCharacteristics"
        ]["valuesList"]
        == "A,W"
    )


def test_B07_summary_inventory_reports_the_state_of_each_component() -> None:
    """SummaryInventory is supported (so TC_B_15's NotSupported does not apply): the state
    variables of every component."""
    _cp, csms = booted201()
    response = csms.result("GetBaseReport", {"requestId": 815, "reportBase": "SummaryInventory"})
    assert response == {"status": "Accepted"}
    reported = check_paging(csms, 815)
    names = {data["variable"]["name"] for data in reported}
    assert names <= {"AvailabilityState", "Available", "Enabled", "Active", "Problem", "Tripped"}
    components = {
        (data["component"]["name"], data["component"].get("evse", {}).get("id"))
        for data in reported
    }
    assert {("ChargingStation", None), ("EVSE", 1), ("EVSE", 2), ("Connector", 1)} <= components
    assert ("ChargingStation", None, None, None, "AvailabilityState", None) in {
        address(data) for data in reported
    }


def test_B07_reports_list_write_only_variables_without_their_value() -> None:
    cp, csms = booted201()
    assert cp.set_variable("SecurityCtrlr.BasicAuthPassword", "Sixteen-chars-0123", 0) == "Accepted"
    csms.result("GetBaseReport", {"requestId": 9, "reportBase": "ConfigurationInventory"})
    reported = {address(data): data for data in check_paging(csms, 9)}
    password = reported[("SecurityCtrlr", None, None, None, "BasicAuthPassword", None)]
    assert password["variableAttribute"] == [
        {"type": "Actual", "mutability": "WriteOnly", "persistent": True, "constant": False}
    ]
    # Errata 2023-12 §2.17.3: a string of at most 40 characters.
    assert password["variableCharacteristics"] == {
        "dataType": "string",
        "maxLimit": 40,
        "supportsMonitoring": False,
    }
    assert all("Sixteen-chars-0123" not in frame for frame in csms.sent)


def test_B07_report_taken_at_the_request_and_sent_after_the_answer() -> None:
    cp, csms = booted201()
    message_id = csms.send("GetBaseReport", {"requestId": 3, "reportBase": "FullInventory"})
    # Changed before the first page leaves: the report shows the value at the request.
    assert cp.set_variable("OCPPCommCtrlr.OfflineThreshold", "55", csms.now) == "Accepted"
    frames = csms.pump()
    assert frames[0].startswith(f'[3,"{message_id}"')  # the answer first, then the pages
    reported = {address(data): data for data in check_paging(csms, 3)}
    threshold = reported[("OCPPCommCtrlr", None, None, None, "OfflineThreshold", None)]
    assert threshold["variableAttribute"][0]["value"] == "300"


def test_B07_a_lost_connection_resends_the_page_and_the_report_goes_on() -> None:
    _cp, csms = booted201()
    pending = []
    csms.handlers["NotifyReport"] = lambda payload: pending.append(payload["seqNo"]) or SILENT
    csms.result("GetBaseReport", {"requestId": 4, "reportBase": "FullInventory"})
    assert pending == [0]  # the first page is out, unanswered
    csms.disconnect()
    csms.handlers["NotifyReport"] = lambda payload: {}
    csms.connect()
    sent = pages(csms, 4)
    assert [page["seqNo"] for page in sent][:2] == [0, 0]  # the unanswered page again, first
    assert sent[0] == sent[1]
    assert [page["seqNo"] for page in sent[1:]] == list(range(len(sent) - 1))


def test_B07_too_many_reports_waiting_are_rejected() -> None:
    _cp, csms = booted201()
    ids = [
        csms.send("GetBaseReport", {"requestId": n, "reportBase": "FullInventory"})
        for n in range(MAX_PENDING_REPORTS + 1)
    ]
    csms.pump()
    statuses = [csms.replies[message_id][2]["status"] for message_id in ids]
    assert statuses == ["Accepted"] * MAX_PENDING_REPORTS + ["Rejected"]
    for n in range(MAX_PENDING_REPORTS):
        check_paging(csms, n)
    assert pages(csms, MAX_PENDING_REPORTS) == []


def test_B07_many_evses_many_pages() -> None:
    cp, csms = booted201(connectors=12)
    csms.result("GetBaseReport", {"requestId": 77, "reportBase": "FullInventory"})
    reported = check_paging(csms, 77)
    assert len(reported) == len(cp.variables(csms.now))
    assert ("EVSE", None, 12, None, "Power", None) in {address(data) for data in reported}


# ---------------------------------------------------------------------- B08 GetReport


def report(csms: FakeCsms201, request_id: int, **request: object) -> list[dict] | str:
    """GetReport's status, or the reported data when Accepted."""
    response = csms.result("GetReport", {"requestId": request_id, **request})
    if response["status"] != "Accepted":
        assert pages(csms, request_id) == []  # no report follows
        return response["status"]
    return check_paging(csms, request_id)


def test_B08_get_report_without_filters_reports_everything() -> None:
    cp, csms = booted201()
    reported = report(csms, 1)
    assert isinstance(reported, list)
    assert len(reported) == len(cp.variables(csms.now))


def test_B08_component_variable_names_one_variable() -> None:
    _cp, csms = booted201()
    wanted = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}]
    reported = report(csms, 2, componentVariable=wanted)
    assert isinstance(reported, list)
    assert [address(data) for data in reported] == [
        ("OCPPCommCtrlr", None, None, None, "OfflineThreshold", None)
    ]
    assert reported[0]["variableAttribute"] == [
        {
            "type": "Actual",
            "mutability": "ReadWrite",
            "persistent": True,
            "constant": False,
            "value": "300",
        }
    ]
    assert reported[0]["variableCharacteristics"] == {
        "dataType": "integer",
        "unit": "s",
        "minLimit": 0,
        "supportsMonitoring": False,
    }


def test_B08_FR_23_no_evse_reports_every_evse_and_the_top_level() -> None:
    _cp, csms = booted201()
    wanted = [{"component": {"name": "EVSE"}, "variable": {"name": "AvailabilityState"}}]
    reported = report(csms, 3, componentVariable=wanted)
    assert isinstance(reported, list)
    assert [address(data) for data in reported] == [
        ("EVSE", None, 1, None, "AvailabilityState", None),
        ("EVSE", None, 2, None, "AvailabilityState", None),
    ]


def test_B08_FR_22_evse_without_connector_reports_every_connector_of_it() -> None:
    _cp, csms = booted201()
    wanted = [{"component": {"name": "Connector", "evse": {"id": 2}}}]  # no variable: all
    reported = report(csms, 4, componentVariable=wanted)
    assert isinstance(reported, list)
    assert {address(data)[:4] for data in reported} == {("Connector", None, 2, 1)}
    assert {data["variable"]["name"] for data in reported} == {
        "AvailabilityState",
        "Available",
        "ConnectorType",
        "Problem",
        "SupplyPhases",
    }


def test_B08_variable_without_instance_reports_every_instance() -> None:
    _cp, csms = booted201()
    wanted = [{"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "ItemsPerMessage"}}]
    reported = report(csms, 5, componentVariable=wanted)
    assert isinstance(reported, list)
    assert sorted(data["variable"]["instance"] for data in reported) == [
        "GetReport",
        "GetVariables",
        "SetVariables",
    ]
    wanted[0]["variable"]["instance"] = "getvariables"  # instances ignore case
    reported = report(csms, 6, componentVariable=wanted)
    assert isinstance(reported, list)
    assert [data["variable"]["instance"] for data in reported] == ["GetVariables"]


def test_B08_component_instance_must_match_when_given() -> None:
    _cp, csms = booted201()
    wanted = [{"component": {"name": "OCPPCommCtrlr", "instance": "Other"}}]
    assert report(csms, 7, componentVariable=wanted) == "EmptyResultSet"


def test_B08_nothing_matching_is_an_empty_result_set() -> None:
    _cp, csms = booted201()
    wanted = [{"component": {"name": "NoSuchCtrlr"}}]
    assert report(csms, 8, componentVariable=wanted) == "EmptyResultSet"


def test_B08_component_criteria_select_components_by_their_state() -> None:
    cp, csms = booted201()

    class Statuses:
        def status_of(self, connector: int, now: float) -> str:
            return "Faulted" if connector == 2 else "Available"

    block_of(cp, DeviceModelBlock).status = Statuses()
    reported = report(csms, 9, componentCriteria=["Problem"])
    assert isinstance(reported, list)
    assert {address(data)[:4] for data in reported} == {
        ("EVSE", None, 2, None),
        ("Connector", None, 2, 1),
    }
    # Available: every component that has Available = true (the station's own components).
    reported = report(csms, 10, componentCriteria=["Available"])
    assert isinstance(reported, list)
    assert ("ChargingStation", None, None, None) in {address(data)[:4] for data in reported}
    # Criteria and componentVariable together: both must hold.
    wanted = [{"component": {"name": "EVSE"}, "variable": {"name": "AvailabilityState"}}]
    reported = report(csms, 11, componentCriteria=["Problem"], componentVariable=wanted)
    assert isinstance(reported, list)
    assert [address(data) for data in reported] == [
        ("EVSE", None, 2, None, "AvailabilityState", None)
    ]
    assert reported[0]["variableAttribute"][0]["value"] == "Faulted"
    # Enabled: the controllers that are enabled now.
    reported = report(csms, 12, componentCriteria=["Enabled"])
    assert isinstance(reported, list)
    assert "SmartChargingCtrlr" in {data["component"]["name"] for data in reported}
    assert cp.set_variable("SmartChargingCtrlr.Enabled", "false", csms.now) == "Accepted"
    reported = report(csms, 13, componentCriteria=["Enabled"])
    assert isinstance(reported, list)
    enabled = {data["component"]["name"] for data in reported}
    assert "SmartChargingCtrlr" not in enabled
    assert "ReservationCtrlr" in enabled


def test_B08_more_component_variables_than_items_per_message_is_rejected() -> None:
    _cp, csms = booted201(config_defaults={"DeviceDataCtrlr.ItemsPerMessage[GetReport]": "2"})
    wanted = [{"component": {"name": "OCPPCommCtrlr"}}] * 3
    response = csms.result("GetReport", {"requestId": 14, "componentVariable": wanted})
    assert response == {"status": "Rejected", "statusInfo": {"reasonCode": "TooManyElements"}}
    assert pages(csms, 14) == []
    response = csms.result("GetReport", {"requestId": 15, "componentVariable": wanted[:2]})
    assert response == {"status": "Accepted"}


def test_B08_a_request_over_bytes_per_message_is_rejected() -> None:
    _cp, csms = booted201(config_defaults={"DeviceDataCtrlr.BytesPerMessage[GetReport]": "100"})
    wanted = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}}]
    response = csms.result("GetReport", {"requestId": 16, "componentVariable": wanted * 2})
    assert response == {"status": "Rejected", "statusInfo": {"reasonCode": "TooLargeElement"}}
