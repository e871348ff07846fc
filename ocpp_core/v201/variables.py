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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.config import BOOL, CSL, INT, RW, STR, KeyDef, R, W

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Unpack

    from ocpp_core.config import KeyOptions

__all__ = [
    "MUTABILITY",
    "VariableDeclarer",
    "VariableDef",
    "variable_key",
]

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
    name = component if component_instance is None else f"{component}({component_instance})"
    if evse is not None:
        name += f"/{evse}"
        if connector is not None:
            name += f"/{connector}"
    name += f".{variable}"
    if variable_instance is not None:
        name += f"[{variable_instance}]"
    if attribute != "Actual":
        name += f"#{attribute}"
    return name


class VariableDef(KeyDef):
    """One attribute of a device-model variable, stored as a configuration key.

    ``data_type`` is part 2's DataEnumType (string, decimal, integer, dateTime, boolean,
    OptionList, SequenceList, MemberList); ``values_list`` the allowed values of a list type;
    ``unit`` the characteristics' unit; ``minimum``/``maximum`` double as minLimit/maxLimit.
    """

    __slots__ = (
        "attribute",
        "component",
        "component_instance",
        "connector",
        "data_type",
        "evse",
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
        **options: Unpack[KeyOptions],
    ) -> None:
        kind = _KEY_TYPES[data_type]
        if values_list is not None and "members" not in options:
            if kind == CSL:
                options["members"] = frozenset(values_list)
            elif data_type == "OptionList":
                allowed = frozenset(values_list)
                options.setdefault("check", allowed.__contains__)
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

    @property
    def mutability(self) -> str:
        """part 2 MutabilityEnumType: ReadOnly, ReadWrite or WriteOnly."""
        return _ACCESS_MUTABILITY[self.access]


def _decimal(text: object) -> bool:
    if not isinstance(text, str):
        return False
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")


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
            options["check"] = _decimal
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

    def boolean(self, variable: str, default: bool, **options: Any) -> VariableDef:
        """A boolean variable."""
        return self.declare(variable, "boolean", default, **options)

    def string(self, variable: str, default: str, **options: Any) -> VariableDef:
        """A string variable."""
        return self.declare(variable, "string", default, **options)

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


def computed(compute: Callable[[Any], object]) -> dict[str, Any]:
    """Options of a ReadOnly variable whose Actual value is derived from the engine's context."""
    return {"mutability": "ReadOnly", "compute": compute}
