"""OCPP 2.0.1: one module per functional block, assembled into the version's static tables.

``wiring.py`` builds one engine's blocks and orders their work (``wire``); its BLOCK_TYPES are
the order of handlers in the routing table. Configuration is the device model: each block
declares the variables it owns (``variables.VariableDeclarer``), stored as configuration keys.
``payloads.py`` (generated, type checker only) types the handlers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.assembly import Assembly
from ocpp_core.v201.wiring import BLOCK_TYPES, EXTRA_VARIABLES, wire

if TYPE_CHECKING:
    from ocpp_core.config import KeyTable
    from ocpp_core.rpc import JsonObject

__all__ = ["MESSAGE_TIMEOUT", "assembly", "mask"]

# OCPPCommCtrlr.MessageTimeout (instance Default): how long a CALL waits for its answer.
MESSAGE_TIMEOUT = "OCPPCommCtrlr.MessageTimeout[Default]"

_MASK = "********"


def mask(action: str, payload: JsonObject, keys: KeyTable) -> JsonObject | None:
    """The payload with write-only variable values hidden, or None if it carries none."""
    if action != "SetVariables":
        return None
    items = payload.get("setVariableData")
    if not isinstance(items, list):
        return None
    hidden = False
    masked: list[object] = []
    for item in items:
        if isinstance(item, dict) and _is_secret(item, keys):
            masked.append({**item, "attributeValue": _MASK})
            hidden = True
        else:
            masked.append(item)
    return {**payload, "setVariableData": masked} if hidden else None


def _is_secret(item: dict[str, object], keys: KeyTable) -> bool:
    component, variable = item.get("component"), item.get("variable")
    if not isinstance(component, dict) or not isinstance(variable, dict):
        return False
    name = variable.get("name")
    if not isinstance(name, str):
        return False
    # Any write-only variable of that name, wherever it sits: a wrong address still hides it.
    lowered = name.lower()
    return any(getattr(key, "variable", "").lower() == lowered for key in keys.secrets)


def assembly() -> Assembly:
    """Build the OCPP 2.0.1 tables (the caller caches the result)."""
    return Assembly(
        "2.0.1",
        BLOCK_TYPES,
        EXTRA_VARIABLES,
        {},  # 2.0.1 has no SupportedFeatureProfiles key
        wire=wire,
        timeout_key=MESSAGE_TIMEOUT,
        mask=mask,
    )
