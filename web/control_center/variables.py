"""The device-model panel's model: the station's variables grouped by component, which are shown
and how each is edited. No DOM here (tested on CPython); control_center/device_panel.py draws it.

Rows come from ``Station.variables()`` (``ocpp_core.VariableRow``). Write-only variables (the
Basic auth password) are never shown, not even as a mask; every value is shown as text.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["CONFIGURATION", "Shown", "editor", "group_rows", "status_tone"]

CONFIGURATION = "Configuration"
"""The heading of 1.6's configuration keys (they belong to no component)."""


class Shown(NamedTuple):
    """One variable as the panel shows it."""

    address: str  # what Station.set_variable takes
    label: str  # "HeartbeatInterval", "MessageTimeout[Default]", "Power (MaxSet)"
    value: str  # the value as text ("" when it has none)
    editor: str | None  # "text", "select" or None (read-only)
    options: tuple[str, ...]  # a select's choices
    meta: str  # "ReadWrite · integer · s"


def editor(row: Any) -> tuple[str | None, tuple[str, ...]]:
    """How a row is edited: (None, ()) read-only, ("select", choices) or ("text", ())."""
    if row.mutability == "ReadOnly":
        return None, ()
    if row.data_type == "boolean":
        return "select", ("true", "false")
    if row.data_type == "OptionList" and row.values_list:
        return "select", tuple(row.values_list)
    return "text", ()


def _shown(row: Any) -> Shown:
    kind, options = editor(row)
    label = row.variable if row.attribute == "Actual" else f"{row.variable} ({row.attribute})"
    value = "" if row.value is None else str(row.value)
    if kind == "select" and value not in options:
        options = (value, *options)  # a stored value outside the list still shows as it is
    meta = " · ".join(part for part in (row.mutability, row.data_type, row.unit) if part)
    return Shown(row.address, label, value, kind, options, meta)


def group_rows(rows: list[Any], query: str = "") -> list[tuple[str, list[Shown]]]:
    """The rows to show, grouped by component in the station's order: write-only rows left
    out, and with a ``query`` only those whose component or variable contains it (any case)."""
    needle = query.strip().casefold()
    groups: dict[str, list[Shown]] = {}
    for row in rows:
        if row.mutability == "WriteOnly":
            continue
        component = row.component or CONFIGURATION
        if needle and needle not in f"{component} {row.variable}".casefold():
            continue
        groups.setdefault(component, []).append(_shown(row))
    return list(groups.items())


def status_tone(status: str) -> str:
    """The tone of a set_variable status: "ok" (Accepted), "warn" (RebootRequired) or "bad"."""
    if status == "Accepted":
        return "ok"
    return "warn" if status == "RebootRequired" else "bad"
