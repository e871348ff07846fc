"""A connector's hardware as the engine sees it: inputs it samples, outputs it drives.

The station assigns plain callables; the engine calls inputs during ``poll`` (so an input must be
cheap and must not call back into the engine) and outputs when OCPP decides something.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ERROR_CODES", "ConnectorIO", "ErrorRecord"]

# OCPP 1.6 ChargePointErrorCode (§7.6) without NoError.
ERROR_CODES = frozenset(
    {
        "ConnectorLockFailure",
        "EVCommunicationError",
        "GroundFailure",
        "HighTemperature",
        "InternalError",
        "LocalListConflict",
        "OtherError",
        "OverCurrentFailure",
        "OverVoltage",
        "PowerMeterFailure",
        "PowerSwitchFailure",
        "ReaderFailure",
        "ResetFailure",
        "UnderVoltage",
        "WeakSignal",
    }
)


class ErrorRecord(NamedTuple):
    """An error with the optional StatusNotification details.

    ``faulted`` False makes it a warning: reported in StatusNotification.errorCode while the
    status stays what it is (OCPP 1.6 §4.9: "when the status field is not Faulted, the condition
    should be considered a warning").
    """

    code: str
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    faulted: bool = True


class ConnectorIO:
    """Inputs and outputs of one connector (0 is the charge point as a whole).

    Inputs (None = not fitted): ``plugged`` (cable connected), ``ev_ready`` (EV asks for energy),
    ``evse_ready`` (EVSE offers energy), ``occupied`` (bay occupied without a plug),
    ``energy_wh`` (meter register, Wh), ``power_w`` (W). Error inputs return None / "" /
    "NoError" when fine, else a ChargePointErrorCode (faulted, except EVCommunicationError which
    §7.6 calls a warning) or an ErrorRecord. Outputs: ``charging_limit`` receives the limit set by
    smart charging, ``lock`` receives True/False to lock/unlock the cable.
    """

    __slots__ = (
        "charging_limit",
        "energy_wh",
        "errors",
        "ev_ready",
        "evse_ready",
        "lock",
        "occupied",
        "plugged",
        "power_w",
    )

    def __init__(self) -> None:
        self.plugged: Callable[[], bool] | None = None
        self.ev_ready: Callable[[], bool] | None = None
        self.evse_ready: Callable[[], bool] | None = None
        self.occupied: Callable[[], bool] | None = None
        self.energy_wh: Callable[[], float] | None = None
        self.power_w: Callable[[], float] | None = None
        self.errors: tuple[Callable[[], str | ErrorRecord | None], ...] = ()
        self.charging_limit: Callable[[float | None], None] | None = None
        self.lock: Callable[[bool], None] | None = None

    def add_error_input(self, source: Callable[[], str | ErrorRecord | None]) -> None:
        """Add an error input; the first faulted error wins, else the first warning."""
        self.errors = (*self.errors, source)
