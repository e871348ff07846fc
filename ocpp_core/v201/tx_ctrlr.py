"""The device-model variables the 2.0.1 transaction block acts on (part 2: TxCtrlr, and the
OCPPCommCtrlr settings of TransactionEvent retries and the cable lock).

TxStartPoint / TxStopPoint list the conditions a transaction starts with (the first that
becomes true) and ends with (the first that was true and is no longer). A simulated station
has no parking-bay sensor: the bay counts as occupied while the cable is plugged in (EVDetected
and EVDeparted are then what plugging and unplugging report). DataSigned is not offered: the
simulated meter does not sign its readings (the security issue brings signed meter values).
"""

from __future__ import annotations

from ocpp_core.v201.variables import VariableDeclarer

__all__ = [
    "ATTEMPTS",
    "EV_CONNECTION_TIMEOUT",
    "INTERVAL",
    "MAX_ENERGY_ON_INVALID_ID",
    "POINTS",
    "START_POINT",
    "STOP_ON_EV_SIDE_DISCONNECT",
    "STOP_ON_INVALID_ID",
    "STOP_POINT",
    "TX_BEFORE_ACCEPTED",
    "UNLOCK_ON_EV_SIDE_DISCONNECT",
    "VARIABLES",
]

# TxStartPointValues / TxStopPointValues this station can observe.
BAY, CONNECTED, AUTHORIZED, POWER_PATH, ENERGY = (
    "ParkingBayOccupancy",
    "EVConnected",
    "Authorized",
    "PowerPathClosed",
    "EnergyTransfer",
)
POINTS = (BAY, CONNECTED, AUTHORIZED, POWER_PATH, ENERGY)

_tx = VariableDeclarer(__name__, "TxCtrlr")
EV_CONNECTION_TIMEOUT = _tx.integer("EVConnectionTimeOut", 120, unit="s").name
STOP_ON_EV_SIDE_DISCONNECT = _tx.boolean("StopTxOnEVSideDisconnect", True).name
STOP_ON_INVALID_ID = _tx.boolean("StopTxOnInvalidId", True).name
MAX_ENERGY_ON_INVALID_ID = _tx.integer("MaxEnergyOnInvalidId", 0, unit="Wh").name
TX_BEFORE_ACCEPTED = _tx.boolean("TxBeforeAcceptedEnabled", False).name
START_POINT = _tx.members("TxStartPoint", POWER_PATH, POINTS).name
STOP_POINT = _tx.members("TxStopPoint", f"{CONNECTED},{AUTHORIZED}", POINTS).name

_comm = VariableDeclarer(__name__, "OCPPCommCtrlr")
ATTEMPTS = _comm.integer("MessageAttempts", 3, variable_instance="TransactionEvent", minimum=1).name
INTERVAL = _comm.integer(
    "MessageAttemptInterval", 60, variable_instance="TransactionEvent", unit="s"
).name
UNLOCK_ON_EV_SIDE_DISCONNECT = _comm.boolean("UnlockOnEVSideDisconnect", True).name

VARIABLES = (*_tx.keys, *_comm.keys)
