"""Device-model variables (OCPP 2.0.1 part 2 appendices): one per component, variable and place.

A 2.0.1 variable is addressed by its component (name, optional instance, optional EVSE and
connector) and its variable (name, optional instance), and has attributes (Actual, Target,
MinSet, MaxSet) with a mutability and characteristics (dataType, unit, valuesList, min/max).
Each is a VariableDef: a configuration KeyDef (so the engine's Configuration stores, persists,
checks and reports it exactly as 1.6 keys) that also carries that address and those
characteristics. Its key name is ``variable_key(...)``: ``OCPPCommCtrlr.HeartbeatInterval``,
``OCPPCommCtrlr.MessageTimeout[Default]``, ``EVSE/1.Power``, ``Connector/1/1.ConnectorType``;
an attribute other than Actual is its own VariableDef named with ``#MaxSet`` (etc.) appended.

A block declares the variables it owns with a VariableDeclarer per component, the way 1.6
blocks declare keys: ``_vars = VariableDeclarer(__name__, "OCPPCommCtrlr")``.

A *live* variable (``live=``) is a ReadOnly value read from the engine's state when asked (an
EVSE's AvailabilityState, the clock's DateTime): never stored, and not a configuration key when
it belongs to a component that exists once per EVSE or connector (``components.py`` makes those
per station). Its getter gets the device model's ``LiveState`` (device_model.py), itself and
``now``; so may a ``max_limit`` that depends on the station (an EVSE's maximum power).
A ``monitored`` variable supports variable monitoring (SetVariableMonitoring, monitoring.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.clock import parse_datetime
from ocpp_core.config import BOOL, CSL, INT, MAX_INTEGER, MIN_INTEGER, RW, STR, KeyDef, R, W

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeAlias, Unpack

    from ocpp_core.config import KeyOptions
    from ocpp_core.v201.payloads import VariableCharacteristicsType

    # live(state, definition, now) -> the typed value; a live limit likewise, without now.
    Live: TypeAlias = Callable[[Any, "VariableDef", float], object]
    Limit: TypeAlias = float | Callable[[Any, "VariableDef"], float] | None

__all__ = [
    "ATTRIBUTES",
    "MUTABILITY",
    "VariableDeclarer",
    "VariableDef",
    "component_label",
    "value_text",
    "variable_key",
]

# part 2 AttributeEnumType, in report order.
ATTRIBUTES = ("Actual", "Target", "MinSet", "MaxSet")

# part 2 MutabilityEnumType -> the KeyDef access it is stored with.
MUTABILITY = {"ReadOnly": R, "ReadWrite": RW, "WriteOnly": W}
_ACCESS_MUTABILITY = {access: name for name, access in MUTABILITY.items()}


def variable_key(
    component: str,
    variable: str,
    *,
    component_instance: str | None = None,
    variable_instance: str | None = None,
    evse: int | None = None,
    connector: int | None = None,
    attribute: str = "Actual",
) -> str:
    """The configuration key name of one attribute of a device-model variable."""
    name = component_label(component, component_instance, evse, connector) + f".{variable}"
    if variable_instance is not None:
        name += f"[{variable_instance}]"
    if attribute != "Actual":
        name += f"#{attribute}"
    return name


def component_label(
    component: str, instance: str | None, evse: int | None, connector: int | None
) -> str:
    """A component as key names write it: ``OCPPCommCtrlr``, ``EVSE/1``, ``Connector/1/1``."""
    name = component if instance is None else f"{component}({instance})"
    if evse is not None:
        name += f"/{evse}"
        if connector is not None:
            name += f"/{connector}"
    return name


class VariableDef(KeyDef):
    """One attribute of a device-model variable, stored as a configuration key.

    ``data_type`` is part 2's DataEnumType (string, decimal, integer, dateTime, boolean,
    OptionList, SequenceList, MemberList); ``values_list`` the allowed values of a list type;
    ``unit`` the characteristics' unit. ``min_limit``/``max_limit`` are the characteristics'
    limits: an integer's ``minimum``/``maximum`` unless given, a text's or list's longest length
    (``max_length``: maxLimit is a length for those types), a decimal's allowed range (a
    ``max_limit`` may be live: ``max_limit(state, definition)``). ``live`` makes it a ReadOnly
    value read from the engine (see the module docstring).
    """

    __slots__ = (
        "attribute",
        "component",
        "component_instance",
        "connector",
        "data_type",
        "evse",
        "live",
        "max_limit",
        "min_limit",
        "monitored",
        "unit",
        "values_list",
        "variable",
        "variable_instance",
    )

    def __init__(
        self,
        component: str,
        variable: str,
        data_type: str,
        default: object,
        *,
        owner: str,
        component_instance: str | None = None,
        variable_instance: str | None = None,
        evse: int | None = None,
        connector: int | None = None,
        attribute: str = "Actual",
        unit: str | None = None,
        values_list: tuple[str, ...] | None = None,
        min_limit: float | None = None,
        max_limit: Limit = None,
        live: Live | None = None,
        monitored: bool = False,
        **options: Unpack[KeyOptions],
    ) -> None:
        if attribute not in ATTRIBUTES:
            raise ValueError(f"unknown attribute type {attribute!r}")
        kind = _KEY_TYPES[data_type]
        if values_list is not None and "members" not in options:
            if kind == CSL:
                options["members"] = frozenset(values_list)
            elif data_type == "OptionList":
                allowed = frozenset(values_list)
                options.setdefault("check", allowed.__contains__)
        if live is not None:
            options["access"] = R
            options["persist"] = False
        name = variable_key(
            component,
            variable,
            component_instance=component_instance,
            variable_instance=variable_instance,
            evse=evse,
            connector=connector,
            attribute=attribute,
        )
        super().__init__(name, kind, default, owner=owner, **options)
        self.component = component
        self.component_instance = component_instance
        self.variable = variable
        self.variable_instance = variable_instance
        self.evse = evse
        self.connector = connector
        self.attribute = attribute
        self.data_type = data_type
        self.unit = unit
        self.values_list = values_list
        self.live = live
        self.monitored = monitored  # variable monitors may watch it (v201/monitoring.py)
        if kind == INT:
            if min_limit is None and self.minimum != MIN_INTEGER:
                min_limit = self.minimum
            if max_limit is None and self.maximum != MAX_INTEGER:
                max_limit = self.maximum
        elif max_limit is None and data_type in _TEXTS:
            max_limit = self.max_length  # maxLimit of a text or list: its longest (CSV) string
        self.min_limit = min_limit
        self.max_limit = max_limit

    @property
    def mutability(self) -> str:
        """part 2 MutabilityEnumType: ReadOnly, ReadWrite or WriteOnly."""
        return _ACCESS_MUTABILITY[self.access]

    @property
    def component_label(self) -> str:
        """The component as the key name writes it: ``EVSE/1``, ``Connector/1/1``."""
        return component_label(self.component, self.component_instance, self.evse, self.connector)

    @property
    def variable_label(self) -> str:
        """The variable as the key name writes it: ``MessageTimeout[Default]``."""
        if self.variable_instance is None:
            return self.variable
        return f"{self.variable}[{self.variable_instance}]"

    def characteristics(self, state: object) -> VariableCharacteristicsType:
        """The report's variableCharacteristics (limits of a live maximum read from ``state``)."""
        result: VariableCharacteristicsType = {
            "dataType": self.data_type,  # type: ignore[typeddict-item]
            "supportsMonitoring": self.monitored,
        }
        if self.unit is not None:
            result["unit"] = self.unit
        if self.min_limit is not None:
            result["minLimit"] = self.min_limit
        maximum = self.max_limit
        if callable(maximum):
            maximum = maximum(state, self)
        if maximum is not None:
            result["maxLimit"] = maximum
        if self.values_list is not None:
            result["valuesList"] = ",".join(self.values_list)
        return result


def value_text(value: object) -> str:
    """A typed value as 2.0.1 writes an attributeValue (booleans ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}" if value.is_integer() else f"{value:.3f}".rstrip("0")
    return str(value)


def _decimal_in(low: float | None, high: float | None) -> Callable[[object], bool]:
    """The check of a decimal variable's text: a finite number within [low, high]."""

    def check(text: object) -> bool:
        if not isinstance(text, str) or text.strip().lower().lstrip("+-") in _NOT_FINITE:
            return False
        try:
            number = float(text)
        except ValueError:
            return False
        return (low is None or number >= low) and (high is None or number <= high)

    return check


_NOT_FINITE = frozenset({"nan", "inf", "infinity"})


def _date_time(text: object) -> bool:
    """The check of a dateTime variable's text: an RFC 3339 date-time."""
    try:
        parse_datetime(text)  # type: ignore[arg-type]
    except ValueError:
        return False
    return True


# The data types whose maxLimit is a length (VariableCharacteristicsType.maxLimit).
_TEXTS = frozenset({"string", "OptionList", "SequenceList", "MemberList"})

# DataEnumType -> the KeyDef type its values are stored as (decimal and dateTime as text).
_KEY_TYPES = {
    "string": STR,
    "decimal": STR,
    "integer": INT,
    "dateTime": STR,
    "boolean": BOOL,
    "OptionList": STR,
    "SequenceList": CSL,
    "MemberList": CSL,
}


class VariableDeclarer:
    """What a 2.0.1 block module uses to declare the variables of one component it owns."""

    __slots__ = ("component", "keys", "owner")

    def __init__(self, owner: str, component: str) -> None:
        self.owner = owner
        self.component = component
        self.keys: list[VariableDef] = []

    def declare(
        self,
        variable: str,
        data_type: str,
        default: object,
        *,
        mutability: str = "ReadWrite",
        **options: Any,
    ) -> VariableDef:
        """Declare one variable attribute of this component (see VariableDef for options)."""
        if data_type == "decimal" and "check" not in options:
            high = options.get("max_limit")
            options["check"] = _decimal_in(
                options.get("min_limit"), None if callable(high) else high
            )
        elif data_type == "dateTime" and "check" not in options:
            options["check"] = _date_time
        if data_type == "integer":
            options.setdefault("minimum", 0)
        definition = VariableDef(
            self.component,
            variable,
            data_type,
            default,
            owner=self.owner,
            access=MUTABILITY[mutability],
            **options,
        )
        self.keys.append(definition)
        return definition

    def integer(self, variable: str, default: int, **options: Any) -> VariableDef:
        """An integer variable (minimum 0 unless given)."""
        return self.declare(variable, "integer", default, **options)

    def decimal(self, variable: str, default: str, **options: Any) -> VariableDef:
        """A decimal variable, stored as its text (``min_limit``/``max_limit`` bound it)."""
        return self.declare(variable, "decimal", default, **options)

    def boolean(self, variable: str, default: bool, **options: Any) -> VariableDef:
        """A boolean variable."""
        return self.declare(variable, "boolean", default, **options)

    def string(self, variable: str, default: str, **options: Any) -> VariableDef:
        """A string variable."""
        return self.declare(variable, "string", default, **options)

    def date_time(self, variable: str, default: str, **options: Any) -> VariableDef:
        """A dateTime variable (RFC 3339 text; empty while unset)."""
        return self.declare(variable, "dateTime", default, **options)

    def option(
        self, variable: str, default: str, values: tuple[str, ...], **options: Any
    ) -> VariableDef:
        """An OptionList variable: one of ``values``."""
        return self.declare(variable, "OptionList", default, values_list=values, **options)

    def members(
        self, variable: str, default: str, values: tuple[str, ...], **options: Any
    ) -> VariableDef:
        """A MemberList variable: a comma-separated set drawn from ``values``."""
        return self.declare(variable, "MemberList", default, values_list=values, **options)

    def sequence(
        self, variable: str, default: str, values: tuple[str, ...], **options: Any
    ) -> VariableDef:
        """A SequenceList variable: an ordered comma-separated list drawn from ``values``."""
        return self.declare(variable, "SequenceList", default, values_list=values, **options)
