"""OCPPCommCtrlr variables no block acts on itself (part 2: the OCPP communication settings).

MessageTimeout is read by the engine (the Assembly's timeout key) for every CALL it sends; it is
ReadOnly (part 6 TC_B_39: the network connection profile sets it). The station (sim) reads
WebSocketPingInterval when it connects, and the status block OfflineThreshold (B04). The station
has a single network connection profile, in slot 1: NetworkConfigurationPriority can only name
it, and a change applies at the next boot (RebootRequired, as B10 describes); with one profile,
NetworkProfileConnectionAttempts has nothing to switch to. HeartbeatInterval,
ResetRetries, MessageAttempts/MessageAttemptInterval[TransactionEvent] and
UnlockOnEVSideDisconnect are declared by the blocks that act on them.
"""

from __future__ import annotations

from ocpp_core.v201.variables import VariableDeclarer

__all__ = ["VARIABLES"]

# FileTransferProtocols: what the station's transfer hosts speak (sim/transfer.py).
FILE_TRANSFER_PROTOCOLS = ("HTTP", "HTTPS")

_vars = VariableDeclarer(__name__, "OCPPCommCtrlr")
_vars.integer(
    "MessageTimeout", 30, variable_instance="Default", minimum=1, unit="s", mutability="ReadOnly"
)
_vars.members(
    "FileTransferProtocols",
    ",".join(FILE_TRANSFER_PROTOCOLS),
    FILE_TRANSFER_PROTOCOLS,
    mutability="ReadOnly",
)
_vars.sequence("NetworkConfigurationPriority", "1", ("1",), reboot=True)
_vars.integer("NetworkProfileConnectionAttempts", 3, minimum=1)
_vars.integer("OfflineThreshold", 300, unit="s")
_vars.integer("WebSocketPingInterval", 0, unit="s")

VARIABLES = tuple(_vars.keys)
