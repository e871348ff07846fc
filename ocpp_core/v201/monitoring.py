"""Advanced Device Management (OCPP 2.0.1 N02-N08): variable monitors and the events they raise.

* SetVariableMonitoring (N04): per item, in order: unknown component -> UnknownComponent, unknown
  variable -> UnknownVariable (N04.FR.03/04); a variable no monitor can watch, or a threshold on a
  value that is no number -> UnsupportedMonitorType (N04.FR.05); a threshold outside the
  variable's limits, a negative Delta, a period under one second -> Rejected (N04.FR.06/14); an
  ``id`` no monitor has, an id of another variable or of a hard-wired monitor -> Rejected
  (N04.FR.13/16/18); another monitor of the same variable, type and severity -> Duplicate
  (N04.FR.10); else Accepted with the new id (N04.FR.11) or the monitor replaced (N04.FR.12).
  More items than ``MonitoringCtrlr.ItemsPerMessage[SetVariableMonitoring]`` -> CALLERROR
  OccurrenceConstraintViolation, over its BytesPerMessage -> FormatViolation (N04.FR.09).
* ClearVariableMonitoring (N06): Accepted, Rejected for a hard-wired monitor, NotFound; the same
  limits (N06.FR.06/07).
* SetMonitoringBase (N03, monitor_book.py), SetMonitoringLevel (N05: 0-9, else Rejected).
* GetMonitoringReport (N02): monitors matching ``componentVariable`` (as GetReport matches them)
  and ``monitoringCriteria``; none -> EmptyResultSet (N02.FR.10); else NotifyMonitoringReport
  pages of REPORT_PAGE_ITEMS variables (seqNo, tbc, the request's requestId).
* Events (N07, N08): an UpperThreshold trips when the value goes above the monitor's value,
  a LowerThreshold when it goes below (N07.FR.16/17), with trigger Alerting, and clears (cleared
  true) when it is back; a Delta fires when a number moved more than the value from the last
  reported one, any other value on every change (N07.FR.18/19); Periodic every value seconds,
  PeriodicClockAligned at the wall clock's multiples of value seconds (N08.FR.06/07). An event
  is sent only while ``MonitoringCtrlr.Enabled`` and when its severity is at most the active
  MonitoringLevel (N05.FR.03); a ``transaction`` monitor watches only while its EVSE (any EVSE for
  a station component) has a transaction. monitor_events.py queues, pages and persists them.
* The station's own notifications (``NOTIFIED``): a change of one of these variables is reported
  whatever the monitors, as eventNotificationType HardWiredNotification, trigger Delta, without a
  variableMonitoringId, neither MonitoringCtrlr.Enabled nor the MonitoringLevel holding it back:
  the cable lock's failure, ConnectorPlugRetentionLock Problem true (G05, part 6 TC_G_20), and
  false again once a drive of the lock works.

Cost: a poll reads each watched variable once (a few live values, no I/O) and compares; ``timer``
is the next periodic monitor's time, None without one, so an idle station never wakes for it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ocpp_core.authorization_list import document_size
from ocpp_core.block import Block, CallRefused, on
from ocpp_core.log import logger
from ocpp_core.operations import MonitorEventRow, MonitorRow
from ocpp_core.outbox import PRIORITY_CALLS, SEND_PRE_BOOT, Request, RequestSource
from ocpp_core.sessions import NO_SESSIONS
from ocpp_core.v201.components import declare_limits, routed
from ocpp_core.v201.monitor_book import (
    BASES,
    THRESHOLDS,
    Monitor,
    MonitorBook,
    is_hard_wired,
)
from ocpp_core.v201.monitor_events import EventQueue
from ocpp_core.v201.reports import REPORT_PAGE_ITEMS, component_of, named, variable_of
from ocpp_core.v201.variables import VariableDeclarer, value_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from ocpp_core.context import BlockContext
    from ocpp_core.outbox import CallFailure
    from ocpp_core.sessions import SessionView
    from ocpp_core.v201.device_model import DeviceModelBlock
    from ocpp_core.v201.payloads import (
        ClearMonitoringResultType,
        ClearVariableMonitoringRequest,
        ClearVariableMonitoringResponse,
        EventDataType,
        GetMonitoringReportRequest,
        GetMonitoringReportResponse,
        MonitoringDataType,
        NotifyMonitoringReportRequest,
        SetMonitoringBaseRequest,
        SetMonitoringBaseResponse,
        SetMonitoringDataType,
        SetMonitoringLevelRequest,
        SetMonitoringLevelResponse,
        SetMonitoringResultType,
        SetVariableMonitoringRequest,
        SetVariableMonitoringResponse,
    )
    from ocpp_core.v201.variables import VariableDef

__all__ = ["NOTIFIED", "MonitorEvent", "MonitorReports", "MonitoringBlock"]

MAX_PENDING_REPORTS = 4
ITEMS_PER_MESSAGE = 16  # SetVariableMonitoring and ClearVariableMonitoring each
BYTES_PER_MESSAGE = 8192
MAX_REPORTING_VALUE = 2500  # EventDataType.actualValue's longest
_CRITERIA = {
    "ThresholdMonitoring": THRESHOLDS,
    "DeltaMonitoring": frozenset({"Delta"}),
    "PeriodicMonitoring": frozenset({"Periodic", "PeriodicClockAligned"}),
}
_PERIODIC = _CRITERIA["PeriodicMonitoring"]
# (component, variable) the station reports by itself when the value changes (the module doc).
NOTIFIED = frozenset({("ConnectorPlugRetentionLock", "Problem")})
NOTIFICATION_SEVERITY = 1  # a hardware failure: queued offline (OfflineQueuingSeverity)
_LIMITED = ("SetVariableMonitoring", "ClearVariableMonitoring")


def _block(state: object) -> MonitoringBlock | None:
    found = getattr(state, "monitoring", None)
    return found if isinstance(found, MonitoringBlock) else None


def _base(state: object, definition: object, now: float) -> str:
    block = _block(state)
    return "All" if block is None else block.book.base


def _level(state: object, definition: object, now: float) -> int:
    block = _block(state)
    return 9 if block is None else block.book.level


_vars = VariableDeclarer(__name__, "MonitoringCtrlr")
_vars.boolean("Available", False, live=routed("SetVariableMonitoring"))
_vars.boolean("Enabled", True)
for _message in _LIMITED:
    declare_limits(_vars, _message, ITEMS_PER_MESSAGE, BYTES_PER_MESSAGE)
_vars.option("MonitoringBase", "All", BASES, live=_base)
_vars.integer("MonitoringLevel", 9, live=_level, maximum=9)
_vars.option("ActiveMonitoringBase", "All", BASES, live=_base)
_vars.integer("ActiveMonitoringLevel", 9, live=_level, maximum=9)
_vars.integer("OfflineQueuingSeverity", 4, maximum=9)
_vars.integer("ReportingValueSize", MAX_REPORTING_VALUE, minimum=1, maximum=MAX_REPORTING_VALUE)


class MonitorEvent:
    """What the GUI lists of a raised event (the last RECENT_EVENTS)."""

    __slots__ = ("data", "sent")

    def __init__(self, data: EventDataType, sent: bool) -> None:
        self.data = data.copy()  # the queued one is sent (and may be changed)
        self.sent = sent  # queued to be sent (False: filtered by level or dropped offline)


RECENT_EVENTS = 20


class _Watch:
    """A monitor's run-time state: the last value reported (Delta), the next period's time."""

    __slots__ = ("due", "reference")

    def __init__(self) -> None:
        self.reference: object = None
        self.due: float | None = None


class MonitorReports(RequestSource):
    """NotifyMonitoringReport pages of the reports asked for, one report after the other."""

    __slots__ = ("_given_back", "_reports", "ctx")

    priority = PRIORITY_CALLS
    clearance = SEND_PRE_BOOT

    def __init__(self, ctx: BlockContext) -> None:
        self.ctx = ctx
        # (requestId, generatedAt, pages, pages sent)
        self._reports: list[tuple[int, str, list[list[MonitoringDataType]], list[int]]] = []
        self._given_back: list[Request] = []

    def busy(self) -> bool:
        return len(self._reports) >= MAX_PENDING_REPORTS

    def queue(self, request_id: int, data: list[MonitoringDataType], now: float) -> None:
        pages = [data[n : n + REPORT_PAGE_ITEMS] for n in range(0, len(data), REPORT_PAGE_ITEMS)]
        self._reports.append((request_id, self.ctx.clock.timestamp(now), pages, [0]))

    def take(self, now: float) -> Request | None:
        if self._given_back:
            return self._given_back.pop(0)
        if not self._reports:
            return None
        request_id, generated_at, pages, sent = self._reports[0]
        seq_no = sent[0]
        sent[0] += 1
        if sent[0] >= len(pages):
            self._reports.pop(0)
        page: NotifyMonitoringReportRequest = {
            "requestId": request_id,
            "generatedAt": generated_at,
            "seqNo": seq_no,
            "monitor": pages[seq_no],
        }
        if sent[0] < len(pages):
            page["tbc"] = True
        return Request("NotifyMonitoringReport", page, on_failure=_page_failed)

    def give_back(self, request: Request, now: float) -> None:
        self._given_back.insert(0, request)

    def wakeup(self, now: float) -> float | None:
        return now if self._reports or self._given_back else None


def _page_failed(failure: CallFailure, now: float) -> None:
    logger().warning("a NotifyMonitoringReport page got no answer (%s)", failure.kind)


class MonitoringBlock(Block):
    """The monitors in force, the CSMS messages that change them, and their evaluation."""

    __slots__ = (
        "_known",
        "_notified",
        "_watches",
        "book",
        "device_model",
        "events",
        "recent",
        "reports",
        "sessions",
    )

    keys = tuple(_vars.keys)
    sends = ("NotifyEvent", "NotifyMonitoringReport")

    def __init__(self, ctx: BlockContext, *, device_model: DeviceModelBlock) -> None:
        super().__init__(ctx)
        self.device_model = device_model
        device_model.monitoring = self  # the MonitoringCtrlr live values read the book
        self._known: dict[str, VariableDef] = {
            entry.name: entry for entry in device_model.entries() if entry.monitored
        }
        self.book = MonitorBook(ctx.store, self._known)
        # NOTIFIED variables and the value last reported of each (at first their default).
        self._notified: dict[VariableDef, object] = {
            entry: entry.default
            for entry in self._known.values()
            if (entry.component, entry.variable) in NOTIFIED
        }
        self.events = EventQueue(ctx)
        self.reports = MonitorReports(ctx)
        self.sessions: SessionView = NO_SESSIONS  # set by the wiring: the transaction block
        self.recent: list[MonitorEvent] = []
        self._watches: dict[int, _Watch] = {}

    # ------------------------------------------------------------------ SetVariableMonitoring

    @on("SetVariableMonitoring")
    def set_variable_monitoring(
        self, payload: SetVariableMonitoringRequest, now: float
    ) -> SetVariableMonitoringResponse:
        items = payload["setMonitoringData"]
        self._limits("SetVariableMonitoring", payload, len(items))
        results = [self._set(item, now) for item in items]
        self.book.save()
        return {"setMonitoringResult": results}

    def _set(self, item: SetMonitoringDataType, now: float) -> SetMonitoringResultType:
        result: SetMonitoringResultType = {
            "status": "Accepted",
            "type": item["type"],
            "severity": item["severity"],
            "component": item["component"],
            "variable": item["variable"],
        }
        status, reason, definition = self._check(item)
        if definition is not None:
            monitor_id = item.get("id")
            if monitor_id is None:
                monitor_id = self.book.new_id()
            monitor = Monitor(
                monitor_id,
                definition.name,
                item["type"],
                float(item["value"]),
                item["severity"],
                item.get("transaction", False),
            )
            old = self.book.get(monitor_id)
            self.book.put(monitor)
            if old is None or old.type != monitor.type:
                self.book.tripped.discard(monitor_id)
                self._watches.pop(monitor_id, None)
            result["id"] = monitor_id
            return result
        result["status"] = status  # type: ignore[typeddict-item]
        if reason is not None:
            result["statusInfo"] = {"reasonCode": reason}
        return result

    def _check(self, item: SetMonitoringDataType) -> tuple[str, str | None, VariableDef | None]:
        """(SetMonitoringStatusEnumType, reasonCode, the variable when Accepted)."""
        status, definition = self.device_model.find(item["component"], item["variable"], "Actual")
        if definition is None:
            if status == "NotSupportedAttributeType":
                return "UnknownVariable", None, None
            return status, None, None
        kind, value = item["type"], item["value"]
        if not definition.monitored:
            return "UnsupportedMonitorType", "NotMonitorable", None
        numeric = definition.data_type in ("decimal", "integer")
        if kind in THRESHOLDS:
            if not numeric:
                return "UnsupportedMonitorType", "NotNumeric", None
            low, high = definition.min_limit, definition.max_limit
            if callable(high):
                high = high(self.device_model, definition)
            if (low is not None and value < low) or (high is not None and value > high):
                return "Rejected", "ValueOutOfRange", None
        elif kind == "Delta" and value < 0:
            return "Rejected", "NegativeDelta", None
        elif kind in _PERIODIC and value < 1:
            return "Rejected", "InvalidPeriod", None
        monitor_id = item.get("id")
        if monitor_id is not None:
            existing = self.book.get(monitor_id)
            if existing is None:
                return "Rejected", "UnknownMonitorId", None
            if is_hard_wired(monitor_id):
                return "Rejected", "HardWiredMonitor", None
            if existing.key != definition.name:
                return "Rejected", "OtherVariable", None
        for other in self.book.in_force():
            if (
                other.key == definition.name
                and other.type == kind
                and other.severity == item["severity"]
                and other.id != monitor_id
            ):
                return "Duplicate", None, None
        if monitor_id is None and self.book.custom_count() >= 100:
            return "Rejected", "TooManyMonitors", None
        return "Accepted", None, definition

    def _limits(self, message: str, payload: Mapping[str, object], items: int) -> None:
        """MonitoringCtrlr's ItemsPerMessage/BytesPerMessage of a request (N04.FR.09, N06)."""
        config = self.ctx.config
        if items > config.integer(f"MonitoringCtrlr.ItemsPerMessage[{message}]"):
            raise CallRefused(f"more items than ItemsPerMessage[{message}]", kind="occurrence")
        if document_size(payload) > config.integer(f"MonitoringCtrlr.BytesPerMessage[{message}]"):
            raise CallRefused(f"over BytesPerMessage[{message}]", kind="format")

    # ------------------------------------------------------------------ Clear, base, level

    @on("ClearVariableMonitoring")
    def clear_variable_monitoring(
        self, payload: ClearVariableMonitoringRequest, now: float
    ) -> ClearVariableMonitoringResponse:
        ids = payload["id"]
        self._limits("ClearVariableMonitoring", payload, len(ids))
        results: list[ClearMonitoringResultType] = []
        for monitor_id in ids:
            status = self.book.clear(monitor_id)
            if status == "Accepted":
                self._watches.pop(monitor_id, None)
            results.append({"id": monitor_id, "status": status})  # type: ignore[typeddict-item]
        self.book.save()
        return {"clearMonitoringResult": results}

    @on("SetMonitoringBase")
    def set_monitoring_base(
        self, payload: SetMonitoringBaseRequest, now: float
    ) -> SetMonitoringBaseResponse:
        self.book.set_base(payload["monitoringBase"])
        self.book.save()
        live = {monitor.id for monitor in self.book.in_force()}
        self._watches = {n: watch for n, watch in self._watches.items() if n in live}
        return {"status": "Accepted"}

    @on("SetMonitoringLevel")
    def set_monitoring_level(
        self, payload: SetMonitoringLevelRequest, now: float
    ) -> SetMonitoringLevelResponse:
        severity = payload["severity"]
        if not 0 <= severity <= 9:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "OutOfRange"}}
        self.book.level = severity
        self.book.save()
        return {"status": "Accepted"}

    # ------------------------------------------------------------------ GetMonitoringReport

    @on("GetMonitoringReport")
    def get_monitoring_report(
        self, payload: GetMonitoringReportRequest, now: float
    ) -> GetMonitoringReportResponse:
        wanted = payload.get("componentVariable", [])
        config = self.ctx.config
        if len(wanted) > config.integer("DeviceDataCtrlr.ItemsPerMessage[GetReport]"):
            return {"status": "Rejected", "statusInfo": {"reasonCode": "TooManyElements"}}
        if self.reports.busy():
            return {"status": "Rejected", "statusInfo": {"reasonCode": "OutOfMemory"}}
        criteria = payload.get("monitoringCriteria")
        types: frozenset[str] | None = None
        if criteria:
            types = frozenset().union(*(_CRITERIA[name] for name in criteria))
        data = self._report_data(
            monitor
            for monitor in self.book.in_force()
            if (types is None or monitor.type in types)
            and (not wanted or any(named(self._known[monitor.key], item) for item in wanted))
        )
        if not data:
            return {"status": "EmptyResultSet"}
        self.reports.queue(payload["requestId"], data, now)
        return {"status": "Accepted"}

    def _report_data(self, monitors: Iterable[Monitor]) -> list[MonitoringDataType]:
        """One MonitoringData per variable with its monitors, in device-model order."""
        by_key: dict[str, MonitoringDataType] = {}
        for monitor in monitors:
            definition = self._known.get(monitor.key)
            if definition is None:
                continue
            found = by_key.get(monitor.key)
            if found is None:
                found = by_key[monitor.key] = {
                    "component": component_of(definition),
                    "variable": variable_of(definition),
                    "variableMonitoring": [],
                }
            found["variableMonitoring"].append(
                {
                    "id": monitor.id,
                    "transaction": monitor.transaction,
                    "value": monitor.value,
                    "type": monitor.type,  # type: ignore[typeddict-item]
                    "severity": monitor.severity,
                }
            )
        order = {name: n for n, name in enumerate(self._known)}
        return [by_key[key] for key in sorted(by_key, key=order.__getitem__)]

    # ------------------------------------------------------------------ evaluation

    def timer(self, now: float) -> float | None:
        """The next periodic monitor's time (None without one: value monitors are read on the
        host's polls, which follow every change of an input)."""
        due = [watch.due for watch in self._watches.values() if watch.due is not None]
        return min(due) if due else None

    def tick(self, now: float) -> None:
        enabled = self.ctx.config.get("MonitoringCtrlr.Enabled") is True
        values: dict[str, object] = {}  # each watched variable read once per poll
        changed = False
        for monitor in self.book.in_force():
            definition = self._known.get(monitor.key)
            if definition is None or (monitor.transaction and not self._in_transaction(definition)):
                self._watches.pop(monitor.id, None)  # starts afresh with the next transaction
                continue
            watch = self._watches.get(monitor.id)
            if watch is None:
                watch = self._watches[monitor.id] = _Watch()
            if monitor.type in _PERIODIC:
                self._period(monitor, definition, watch, enabled, now)
                continue
            if monitor.key not in values:
                values[monitor.key] = self.device_model.value(definition, now)
            value = values[monitor.key]
            if value is not None:
                changed |= self._evaluate(monitor, definition, watch, value, enabled, now)
        if changed:
            self.book.save()
        notified = self._notified
        for definition, reported in notified.items():
            value = self.device_model.value(definition, now)
            if value is not None and value != reported:
                notified[definition] = value
                self._raise(None, definition, "Delta", value, False, True, now)

    def _in_transaction(self, definition: VariableDef) -> bool:
        if definition.evse is not None:
            return self.sessions.transaction_running(definition.evse)
        return any(self.sessions.transaction_running(n) for n in range(1, len(self.ctx.connectors)))

    def _period(
        self, monitor: Monitor, definition: VariableDef, watch: _Watch, enabled: bool, now: float
    ) -> None:
        """A periodic monitor: its first time once set, an event at each time (N08)."""
        if watch.due is None:
            watch.due = self._first_period(monitor, now)
        elif now >= watch.due:
            watch.due = self._first_period(monitor, now)
            value = self.device_model.value(definition, now)
            self._raise(monitor, definition, "Periodic", value, False, enabled, now)

    def _evaluate(
        self,
        monitor: Monitor,
        definition: VariableDef,
        watch: _Watch,
        value: object,
        enabled: bool,
        now: float,
    ) -> bool:
        """A threshold or Delta monitor on the value now; True when a threshold's tripped
        state changed (the book is to be saved)."""
        if monitor.type == "Delta":
            reference = watch.reference
            watch.reference = reference if reference is not None else value
            if reference is not None and _moved(reference, value, monitor.value):
                watch.reference = value
                self._raise(monitor, definition, "Delta", value, False, enabled, now)
            return False
        number = _number(value)
        if number is None:
            return False
        over = (
            number > monitor.value if monitor.type == "UpperThreshold" else number < monitor.value
        )
        tripped = self.book.tripped
        if over == (monitor.id in tripped):
            return False
        if over:
            tripped.add(monitor.id)
        else:
            tripped.discard(monitor.id)
        self._raise(monitor, definition, "Alerting", value, not over, enabled, now)
        return True

    def _first_period(self, monitor: Monitor, now: float) -> float:
        """When a periodic monitor next fires: value seconds on, or the next aligned instant."""
        if monitor.type == "Periodic":
            return now + monitor.value
        wall = self.ctx.clock.wall(now)
        return now + (math.floor(wall / monitor.value) + 1) * monitor.value - wall

    def _raise(
        self,
        monitor: Monitor | None,
        definition: VariableDef,
        trigger: str,
        value: object,
        cleared: bool,
        enabled: bool,
        now: float,
    ) -> None:
        """An event of ``monitor``: queued when monitoring is on and its severity reported;
        without a monitor, the station's own notification of a NOTIFIED variable."""
        text = "" if definition.secret or value is None else value_text(value)
        size = self.ctx.config.integer("MonitoringCtrlr.ReportingValueSize")
        data: EventDataType = {
            "eventId": 0,  # numbered when queued
            "timestamp": self.ctx.clock.timestamp(now),
            "trigger": trigger,  # type: ignore[typeddict-item]
            "actualValue": text[:size],
            "component": component_of(definition),
            "variable": variable_of(definition),
            "eventNotificationType": "HardWiredNotification",
        }
        if monitor is None:
            severity, sent = NOTIFICATION_SEVERITY, True
        else:
            data["variableMonitoringId"] = monitor.id
            data["eventNotificationType"] = monitor.kind  # type: ignore[typeddict-item]
            severity = monitor.severity
            sent = enabled and severity <= self.book.level
            if monitor.kind == "HardWiredMonitor" and not cleared:
                data["techCode"] = "OverTemperature"
        if cleared:
            data["cleared"] = True
        if sent:
            sent = self.events.raise_event(data, severity, now)
        self.recent = [*self.recent[1 - RECENT_EVENTS :], MonitorEvent(data, sent)]

    # ------------------------------------------------------------------ GUI (Monitoring)

    def monitor_rows(self) -> list[MonitorRow]:
        """The monitors in force, in the book's order."""
        return [
            MonitorRow(
                monitor.id,
                definition.component_label,
                definition.variable_label,
                monitor.type,
                monitor.value,
                monitor.severity,
                monitor.kind,
                monitor.transaction,
                monitor.id in self.book.tripped,
            )
            for monitor in self.book.in_force()
            if (definition := self._known.get(monitor.key)) is not None
        ]

    def event_rows(self) -> list[MonitorEventRow]:
        """The last RECENT_EVENTS events raised, oldest first."""
        rows = []
        for event in self.recent:
            data = event.data
            component, variable = data["component"], data["variable"]
            evse = component.get("evse")
            label = component["name"]
            if evse is not None:
                label += f"/{evse['id']}"
                if "connectorId" in evse:
                    label += f"/{evse['connectorId']}"
            rows.append(
                MonitorEventRow(
                    data["eventId"] if event.sent else 0,
                    data["timestamp"],
                    data.get("variableMonitoringId", 0),
                    label,
                    variable["name"],
                    data["trigger"],
                    data["actualValue"],
                    data.get("cleared", False),
                    data["eventNotificationType"],
                    event.sent,
                )
            )
        return rows


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _moved(reference: object, value: object, step: float) -> bool:
    """A Delta monitor's test: a number moved more than ``step``; anything else changed."""
    old, new = _number(reference), _number(value)
    if old is None or new is None:
        return reference != value
    return abs(new - old) > step
