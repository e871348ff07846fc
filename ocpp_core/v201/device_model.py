"""GetVariables and SetVariables (OCPP 2.0.1 B05, B06): the device model, one variable at a time.

Every variable attribute of the engine is a VariableDef: the configuration keys the blocks
declared, plus the station's live components (``components.station_variables``). A request item
names a component (name, instance, EVSE id, connector id) and a variable (name, instance) and an
attribute type (Actual when omitted); names and instances match ignoring case (they are case
insensitive), every other part exactly. The item's answer, in order:

* no such component -> UnknownComponent (B05.FR.04, B06.FR.06); no such variable of it ->
  UnknownVariable (B05.FR.05, B06.FR.07); no such attribute type -> NotSupportedAttributeType
  (B05.FR.06, B06.FR.08);
* Get: a WriteOnly variable -> Rejected (reasonCode WriteOnly); else Accepted with the value;
* Set: ReadOnly -> Rejected (ReadOnly, B05.FR.09); a badly formatted value -> Rejected
  (InvalidValue, B05.FR.07), out of range -> Rejected (ValueOutOfRange); the Store refusing the
  write -> Rejected (OutOfStorage); else stored before the answer leaves, Accepted or
  RebootRequired when the change takes effect at the next boot.

DeviceDataCtrlr limits (TC_B_08 names the two answers a station may give): the items beyond
``ItemsPerMessage[<message>]`` are Rejected (TooManyElements) and not looked at; a request whose
payload is over ``BytesPerMessage[<message>]`` bytes (compact UTF-8 JSON) has every item Rejected
(TooLargeElement). Write-only values are never read back, reported or logged; the frame log masks
them (``ocpp_core.v201.mask``).

The block also serves the version-neutral device-model view (``rows``/``set``, for
ChargePoint.variables and set_variable) and the reports block (``entries``, ``text``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from ocpp_core.authorization_list import document_size
from ocpp_core.block import Block, on
from ocpp_core.config import INT, R
from ocpp_core.log import logger
from ocpp_core.operations import VariableRow
from ocpp_core.v201.components import station_variables
from ocpp_core.v201.variables import VariableDef, value_text

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ocpp_core.config import KeyTable
    from ocpp_core.context import BlockContext
    from ocpp_core.smart_charging import Supply
    from ocpp_core.v201.payloads import (
        ComponentType,
        GetVariableDataType,
        GetVariableResultType,
        GetVariablesRequest,
        GetVariablesResponse,
        SetVariableDataType,
        SetVariableResultType,
        SetVariablesRequest,
        SetVariablesResponse,
        VariableType,
    )

__all__ = ["NO_STATUS", "NO_SUPPLY", "DeviceModelBlock", "StatusView", "SupplyView"]


class StatusView(Protocol):
    """The status block, as AvailabilityState reads it."""

    def status_of(self, connector: int, now: float) -> str:
        """ConnectorStatusEnumType of EVSE 1..n; 0: the station."""
        ...


class SupplyView(Protocol):
    """Who knows the station's electrical supply and its installed charging profiles."""

    @property
    def supply(self) -> Supply: ...

    def installed(self) -> list[tuple[int, dict[str, object]]]:
        """Installed charging profiles as ``(evse, profile)``."""
        ...


class _NoStatus:
    """Until a status block is wired: every EVSE and the station Available."""

    def status_of(self, connector: int, now: float) -> str:
        return "Available"


class _NoSupply:
    """Until smart charging is wired: the default supply, no profiles."""

    @property
    def supply(self) -> Supply:
        from ocpp_core.smart_charging import Supply  # only when a live value asks for it

        return Supply()

    def installed(self) -> list[tuple[int, dict[str, object]]]:
        return []


NO_STATUS: StatusView = _NoStatus()
NO_SUPPLY: SupplyView = _NoSupply()

# (name, instance) of a component or variable, lower case; a component also has (evse, connector).
_ComponentKey = tuple[str, str | None, int | None, int | None]
_VariableKey = tuple[str, str | None]


class _Index:
    """Every variable attribute of one KeyTable and station size, in report order, by address.

    Static per (table, number of EVSEs), so built once per process and shared by engines.
    """

    __slots__ = ("by_name", "components", "order")

    def __init__(self, table: KeyTable, evses: int) -> None:
        keyed = [key for key in table.by_name.values() if isinstance(key, VariableDef)]
        self.order: tuple[VariableDef, ...] = (*station_variables(evses), *keyed)
        self.by_name = {definition.name.lower(): definition for definition in self.order}
        self.components: dict[_ComponentKey, dict[_VariableKey, dict[str, VariableDef]]] = {}
        for definition in self.order:
            component = (
                definition.component.lower(),
                _lower(definition.component_instance),
                definition.evse,
                definition.connector,
            )
            variable = (definition.variable.lower(), _lower(definition.variable_instance))
            attributes = self.components.setdefault(component, {}).setdefault(variable, {})
            attributes[definition.attribute] = definition


_INDEXES: dict[tuple[int, int], _Index] = {}


def _index(table: KeyTable, evses: int) -> _Index:
    key = (id(table), evses)
    found = _INDEXES.get(key)
    if found is None:
        found = _INDEXES[key] = _Index(table, evses)
    return found


def _lower(text: str | None) -> str | None:
    return None if text is None else text.lower()


class DeviceModelBlock(Block):
    """GetVariables / SetVariables, and the device model's values for reports and the GUI."""

    __slots__ = ("_index", "monitoring", "smart_charging", "status")

    def __init__(
        self,
        ctx: BlockContext,
        *,
        status: StatusView = NO_STATUS,
        smart_charging: SupplyView = NO_SUPPLY,
    ) -> None:
        super().__init__(ctx)
        self.status = status
        self.smart_charging = smart_charging
        self._index = _index(ctx.config.table, len(ctx.connectors) - 1)
        self.monitoring: object = None  # the monitoring block, whose book MonitoringCtrlr reads

    # ------------------------------------------------------------------ live state (LiveState)

    def status_of(self, connector: int, now: float) -> str:
        """ConnectorStatusEnumType of EVSE 1..n; 0: the station."""
        return self.status.status_of(connector, now)

    @property
    def supply(self) -> Supply:
        """The station's nominal voltage, phases and maximum current per EVSE."""
        return self.smart_charging.supply

    def profiles_installed(self) -> int:
        """How many charging profiles are installed."""
        return len(self.smart_charging.installed())

    # ------------------------------------------------------------------ values

    def entries(self) -> tuple[VariableDef, ...]:
        """Every variable attribute, in report order (station, EVSEs, then the controllers)."""
        return self._index.order

    def value(self, definition: VariableDef, now: float) -> object:
        """The typed value of an attribute (None: a live value that could not be read)."""
        live = definition.live
        if live is None:
            config = self.ctx.config
            if config.table.by_name.get(definition.name) is definition:
                return config.get(definition.name)
            return definition.default  # a fixed property of the station's own components
        try:
            return live(self, definition, now)
        except Exception:
            logger().exception("reading %s failed", definition.name)
            return None

    def text(self, definition: VariableDef, now: float) -> str | None:
        """An attribute's value as reported (None: write-only, or unreadable now)."""
        if definition.secret:
            return None
        value = self.value(definition, now)
        return None if value is None else value_text(value)

    def find(
        self, component: ComponentType, variable: VariableType, attribute: str
    ) -> tuple[str, VariableDef | None]:
        """The attribute an item names, or the status saying which part is unknown."""
        evse = component.get("evse")
        key = (
            component["name"].lower(),
            _lower(component.get("instance")),
            None if evse is None else evse["id"],
            None if evse is None else evse.get("connectorId"),
        )
        variables = self._index.components.get(key)
        if variables is None:
            return "UnknownComponent", None
        attributes = variables.get((variable["name"].lower(), _lower(variable.get("instance"))))
        if attributes is None:
            return "UnknownVariable", None
        definition = attributes.get(attribute)
        if definition is None:
            return "NotSupportedAttributeType", None
        return "Accepted", definition

    # ------------------------------------------------------------------ GetVariables (B06)

    @on("GetVariables")
    def get_variables(self, payload: GetVariablesRequest, now: float) -> GetVariablesResponse:
        items = payload["getVariableData"]
        refusal = self._over_limits("GetVariables", payload)
        results: list[GetVariableResultType] = []
        for index, item in enumerate(items):
            refused = refusal(index)
            results.append(self._get(item, now) if refused is None else _got(item, *refused))
        return {"getVariableResult": results}

    def _get(self, item: GetVariableDataType, now: float) -> GetVariableResultType:
        status, definition = self.find(
            item["component"], item["variable"], item.get("attributeType", "Actual")
        )
        if definition is None:
            return _got(item, status)
        if definition.secret:
            return _got(item, "Rejected", "WriteOnly")
        text = self.text(definition, now)
        if text is None:
            return _got(item, "Rejected", "InternalError")
        result = _got(item, "Accepted")
        result["attributeValue"] = text
        return result

    # ------------------------------------------------------------------ SetVariables (B05)

    @on("SetVariables")
    def set_variables(self, payload: SetVariablesRequest, now: float) -> SetVariablesResponse:
        items = payload["setVariableData"]
        refusal = self._over_limits("SetVariables", payload)
        results: list[SetVariableResultType] = []
        for index, item in enumerate(items):
            refused = refusal(index)
            if refused is None:
                status, reason = self._set(item)
            else:
                status, reason = refused
            results.append(_set_result(item, status, reason))
        return {"setVariableResult": results}

    def _set(self, item: SetVariableDataType) -> tuple[str, str | None]:
        status, definition = self.find(
            item["component"], item["variable"], item.get("attributeType", "Actual")
        )
        if definition is None:
            return status, None
        return self._apply(definition, item["attributeValue"])

    def _apply(self, definition: VariableDef, text: str) -> tuple[str, str | None]:
        """Set an attribute from its text: (SetVariableStatus, reasonCode or None)."""
        if definition.access == R:
            return "Rejected", "ReadOnly"
        config = self.ctx.config
        try:
            value = definition.parse(text, config)
        except ValueError as exc:
            logger().info("SetVariables of %s rejected: %s", definition.name, exc)
            return "Rejected", _invalid_reason(definition, text)
        accept = definition.accept
        if accept is not None and not accept(value, self.ctx):
            logger().info("SetVariables of %s rejected: not supported here", definition.name)
            return "Rejected", "InvalidValue"
        try:
            config.set(definition.name, value, refusable=True)
        except OSError:
            logger().warning("SetVariables of %s rejected: the store failed", definition.name)
            return "Rejected", "OutOfStorage"
        return ("RebootRequired" if definition.reboot else "Accepted"), None

    # ------------------------------------------------------------------ DeviceDataCtrlr limits

    def _over_limits(self, message: str, payload: Mapping[str, object]) -> _Refusal:
        """Which items of a request its limits refuse (TC_B_08's answers)."""
        config = self.ctx.config
        if document_size(payload) > config.integer(f"DeviceDataCtrlr.BytesPerMessage[{message}]"):
            return _Refusal(0, "TooLargeElement")
        return _Refusal(config.integer(f"DeviceDataCtrlr.ItemsPerMessage[{message}]"))

    # ------------------------------------------------------------------ version-neutral view

    def rows(self, now: float) -> list[VariableRow]:
        """Every variable attribute as the station's GUI lists it."""
        return [
            VariableRow(
                definition.name,
                definition.component_label,
                definition.variable_label,
                definition.attribute,
                self.text(definition, now),
                definition.mutability,
                definition.data_type,
                definition.unit,
                definition.values_list,
            )
            for definition in self._index.order
        ]

    def set(self, address: str, value: str, now: float) -> str:
        """Set the attribute at ``address`` (a row's address) by the rules of SetVariables."""
        if not isinstance(address, str) or not isinstance(value, str):
            raise TypeError("address and value must be strings")
        definition = self._index.by_name.get(address.lower())
        if definition is None:
            return self._unknown(address.lower())
        return self._apply(definition, value)[0]

    def _unknown(self, address: str) -> str:
        """Which part of an unknown address is unknown (as SetVariables would say)."""
        variable_part = address.partition("#")[0]
        if variable_part != address and variable_part in self._index.by_name:
            return "NotSupportedAttributeType"
        component = variable_part.partition(".")[0]
        known = any(entry.component_label.lower() == component for entry in self._index.order)
        return "UnknownVariable" if known else "UnknownComponent"


class _Refusal:
    """The items a request's limits refuse: every one from ``first`` on, for ``reason``."""

    __slots__ = ("first", "reason")

    def __init__(self, first: int, reason: str = "TooManyElements") -> None:
        self.first = first
        self.reason = reason

    def __call__(self, index: int) -> tuple[str, str] | None:
        return ("Rejected", self.reason) if index >= self.first else None


def _invalid_reason(definition: VariableDef, text: str) -> str:
    """ValueOutOfRange for a well-formed number outside the limits, else InvalidValue."""
    if definition.type == INT:
        stripped = text.strip()
        digits = stripped[1:] if stripped.startswith("-") else stripped
        return "ValueOutOfRange" if digits.isascii() and digits.isdigit() else "InvalidValue"
    if definition.data_type == "decimal":
        try:
            number = float(text)
        except ValueError:
            return "InvalidValue"
        low, high = definition.min_limit, definition.max_limit
        if (low is not None and number < low) or (isinstance(high, float) and number > high):
            return "ValueOutOfRange"
    return "InvalidValue"


def _got(
    item: GetVariableDataType, status: str, reason: str | None = None
) -> GetVariableResultType:
    """An item's result: its attribute type (Actual if omitted), component and variable as
    asked, the status and the reason code if any."""
    result: GetVariableResultType = {
        "attributeStatus": status,  # type: ignore[typeddict-item]
        "attributeType": item.get("attributeType", "Actual"),
        "component": item["component"],
        "variable": item["variable"],
    }
    if reason is not None:
        result["attributeStatusInfo"] = {"reasonCode": reason}
    return result


def _set_result(
    item: SetVariableDataType, status: str, reason: str | None
) -> SetVariableResultType:
    """A SetVariableResult: the same fields as a GetVariableResult without a value."""
    return cast("SetVariableResultType", _got(cast("GetVariableDataType", item), status, reason))
