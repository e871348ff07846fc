"""GetBaseReport and GetReport (OCPP 2.0.1 B07, B08), answered by paged NotifyReport messages.

The answer says whether a report follows; the report itself is taken at that moment (every value
and ``generatedAt`` as of the request) and sent as NotifyReport pages of REPORT_PAGE_ITEMS
variables: the same ``requestId``, ``seqNo`` 0, 1, ... and ``tbc`` true on every page but the
last. Pages go out after the answer, also while the registration is Pending (B02 lets the CSMS
read the device model then), one report after the other; at most MAX_PENDING_REPORTS wait, a
request beyond them is Rejected. A page the CSMS fails to answer is not sent again (a report is
no transaction message); a lost connection re-sends the outstanding page first.

Each reportData is one variable with its attributes (type, value, mutability, persistent,
constant) and variableCharacteristics (dataType, unit, limits, valuesList). A WriteOnly
attribute is listed without a value: its value never leaves the station.

Base reports (B07): FullInventory is every variable; ConfigurationInventory every attribute a
CSMS can set (ReadWrite, WriteOnly); SummaryInventory the state of each component (its
AvailabilityState, Available, Enabled, Active, Problem and Tripped variables).

GetReport (B08) reports the variables that match any ``componentVariable`` (a component part
left out matches every value: no EVSE -> all EVSEs and the top level, an EVSE without connector
-> all its connectors, no instance -> every instance; no variable -> all variables of the
component) and whose component meets any ``componentCriteria`` (it has that variable — Active,
Available, Enabled or Problem — and it is true now); both absent -> everything. Nothing matching
-> EmptyResultSet and no report. More componentVariable entries than
``DeviceDataCtrlr.ItemsPerMessage[GetReport]``, or a request over its BytesPerMessage -> Rejected
(TooManyElements / TooLargeElement).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.authorization_list import document_size
from ocpp_core.block import Block, on
from ocpp_core.log import logger
from ocpp_core.outbox import PRIORITY_CALLS, SEND_PRE_BOOT, Request, RequestSource

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ocpp_core.context import BlockContext
    from ocpp_core.outbox import CallFailure
    from ocpp_core.v201.device_model import DeviceModelBlock
    from ocpp_core.v201.payloads import (
        ComponentType,
        ComponentVariableType,
        GetBaseReportRequest,
        GetBaseReportResponse,
        GetReportRequest,
        GetReportResponse,
        NotifyReportRequest,
        ReportDataType,
        VariableAttributeType,
        VariableType,
    )
    from ocpp_core.v201.variables import VariableDef

__all__ = ["MAX_PENDING_REPORTS", "REPORT_PAGE_ITEMS", "ReportsBlock"]

REPORT_PAGE_ITEMS = 20
MAX_PENDING_REPORTS = 4
# The variables that sum up a component's state (SummaryInventory, componentCriteria).
_SUMMARY = frozenset({"availabilitystate", "available", "enabled", "active", "problem", "tripped"})


class _Report:
    """One report being sent: its pages, built when it was asked for."""

    __slots__ = ("generated_at", "pages", "request_id", "sent")

    def __init__(self, request_id: int, generated_at: str, data: list[ReportDataType]) -> None:
        self.request_id = request_id
        self.generated_at = generated_at
        self.pages = [
            data[start : start + REPORT_PAGE_ITEMS]
            for start in range(0, len(data), REPORT_PAGE_ITEMS)
        ]
        self.sent = 0


class ReportsBlock(Block, RequestSource):
    """GetBaseReport / GetReport, and the NotifyReport pages that answer them."""

    __slots__ = ("_given_back", "_reports", "device_model")

    priority = PRIORITY_CALLS
    clearance = SEND_PRE_BOOT  # the CSMS may ask for reports while the registration is Pending

    def __init__(self, ctx: BlockContext, *, device_model: DeviceModelBlock) -> None:
        super().__init__(ctx)
        self.device_model = device_model
        self._reports: list[_Report] = []
        self._given_back: list[Request] = []

    # ------------------------------------------------------------------ requests

    @on("GetBaseReport")
    def get_base_report(self, payload: GetBaseReportRequest, now: float) -> GetBaseReportResponse:
        if len(self._reports) >= MAX_PENDING_REPORTS:
            return _refused("Rejected", "OutOfMemory")
        base = payload["reportBase"]
        pick: Callable[[VariableDef], bool]
        if base == "ConfigurationInventory":
            pick = _settable
        elif base == "SummaryInventory":
            pick = _summary
        else:
            pick = _anything
        entries = [entry for entry in self.device_model.entries() if pick(entry)]
        self._queue(payload["requestId"], entries, now)
        return {"status": "Accepted"}

    @on("GetReport")
    def get_report(self, payload: GetReportRequest, now: float) -> GetReportResponse:
        config = self.ctx.config
        wanted = payload.get("componentVariable", [])
        if document_size(payload) > config.integer("DeviceDataCtrlr.BytesPerMessage[GetReport]"):
            return _refused("Rejected", "TooLargeElement")
        if len(wanted) > config.integer("DeviceDataCtrlr.ItemsPerMessage[GetReport]"):
            return _refused("Rejected", "TooManyElements")
        if len(self._reports) >= MAX_PENDING_REPORTS:
            return _refused("Rejected", "OutOfMemory")
        entries = list(self.device_model.entries())
        if wanted:
            entries = [entry for entry in entries if any(_named(entry, item) for item in wanted)]
        criteria = payload.get("componentCriteria")
        if criteria:
            meeting = self._meeting({name.lower() for name in criteria}, now)
            entries = [entry for entry in entries if _place(entry) in meeting]
        if not entries:
            return {"status": "EmptyResultSet"}
        self._queue(payload["requestId"], entries, now)
        return {"status": "Accepted"}

    def _meeting(self, criteria: set[str], now: float) -> set[tuple[object, ...]]:
        """The components having a criterion variable (no instance, Actual) that is true now."""
        model = self.device_model
        return {
            _place(entry)
            for entry in model.entries()
            if entry.variable.lower() in criteria
            and entry.variable_instance is None
            and entry.attribute == "Actual"
            and entry.data_type == "boolean"
            and model.value(entry, now) is True
        }

    def _queue(self, request_id: int, entries: Iterable[VariableDef], now: float) -> None:
        """Take the report now and queue its pages."""
        data = self._report_data(entries, now)
        self._reports.append(_Report(request_id, self.ctx.clock.timestamp(now), data))

    def _report_data(self, entries: Iterable[VariableDef], now: float) -> list[ReportDataType]:
        """One reportData per variable, its attributes in the order they come."""
        model = self.device_model
        by_variable: dict[tuple[object, ...], ReportDataType] = {}
        for entry in entries:
            key = (*_place(entry), entry.variable, entry.variable_instance)
            attribute: VariableAttributeType = {
                "type": entry.attribute,  # type: ignore[typeddict-item]
                "mutability": entry.mutability,  # type: ignore[typeddict-item]
                "persistent": entry.persist,
                "constant": entry.mutability == "ReadOnly" and entry.live is None,
            }
            text = model.text(entry, now)
            if text is not None:
                attribute["value"] = text
            found = by_variable.get(key)
            if found is None:
                by_variable[key] = {
                    "component": _component(entry),
                    "variable": _variable(entry),
                    "variableAttribute": [attribute],
                    "variableCharacteristics": entry.characteristics(model),
                }
            else:
                found["variableAttribute"].append(attribute)
        return list(by_variable.values())

    # ------------------------------------------------------------------ NotifyReport pages

    def take(self, now: float) -> Request | None:
        if self._given_back:
            return self._given_back.pop(0)
        if not self._reports:
            return None
        report = self._reports[0]
        seq_no = report.sent
        report.sent += 1
        last = report.sent >= len(report.pages)
        if last:
            self._reports.pop(0)
        page: NotifyReportRequest = {
            "requestId": report.request_id,
            "generatedAt": report.generated_at,
            "seqNo": seq_no,
            "reportData": report.pages[seq_no],
        }
        if not last:
            page["tbc"] = True
        return Request("NotifyReport", page, on_failure=_page_failed)

    def give_back(self, request: Request, now: float) -> None:
        self._given_back.insert(0, request)

    def wakeup(self, now: float) -> float | None:
        return now if self._reports or self._given_back else None


def _page_failed(failure: CallFailure, now: float) -> None:
    logger().warning("a NotifyReport page got no answer (%s); the report goes on", failure.kind)


def _refused(status: str, reason: str) -> GetBaseReportResponse:
    return {"status": status, "statusInfo": {"reasonCode": reason}}  # type: ignore[typeddict-item]


def _anything(entry: VariableDef) -> bool:
    return True


def _settable(entry: VariableDef) -> bool:
    return entry.mutability != "ReadOnly"


def _summary(entry: VariableDef) -> bool:
    return entry.variable.lower() in _SUMMARY


def _place(entry: VariableDef) -> tuple[object, ...]:
    """The component an entry belongs to."""
    return (entry.component, entry.component_instance, entry.evse, entry.connector)


def _same(wanted: str | None, actual: str | None) -> bool:
    """An instance or name part: absent in the request matches anything; else ignoring case."""
    return wanted is None or (actual is not None and wanted.lower() == actual.lower())


def _named(entry: VariableDef, item: ComponentVariableType) -> bool:
    """Whether a componentVariable entry names this variable attribute (B08.FR.22-25)."""
    component = item["component"]
    if component["name"].lower() != entry.component.lower():
        return False
    if not _same(component.get("instance"), entry.component_instance):
        return False
    evse = component.get("evse")
    if evse is not None:
        if entry.evse != evse["id"]:
            return False
        connector = evse.get("connectorId")
        if connector is not None and entry.connector != connector:
            return False
    variable = item.get("variable")
    if variable is None:
        return True
    return variable["name"].lower() == entry.variable.lower() and _same(
        variable.get("instance"), entry.variable_instance
    )


def _component(entry: VariableDef) -> ComponentType:
    component: ComponentType = {"name": entry.component}
    if entry.component_instance is not None:
        component["instance"] = entry.component_instance
    if entry.evse is not None:
        component["evse"] = {"id": entry.evse}
        if entry.connector is not None:
            component["evse"]["connectorId"] = entry.connector
    return component


def _variable(entry: VariableDef) -> VariableType:
    variable: VariableType = {"name": entry.variable}
    if entry.variable_instance is not None:
        variable["instance"] = entry.variable_instance
    return variable


# What GetMonitoringReport (monitoring.py) shares: componentVariable matching, the addresses.
named = _named
component_of = _component
variable_of = _variable
