"""OCPPCommCtrlr variables no block acts on itself (part 2: the OCPP communication settings).

MessageTimeout is read by the engine (the Assembly's timeout key) for every CALL it sends.
"""

from __future__ import annotations

from ocpp_core.v201.variables import VariableDeclarer

__all__ = ["VARIABLES"]

_vars = VariableDeclarer(__name__, "OCPPCommCtrlr")
_vars.integer("MessageTimeout", 30, variable_instance="Default", minimum=1, unit="s")

VARIABLES = tuple(_vars.keys)
