"""A connector's hardware as the engine sees it: inputs it samples, outputs it drives.

The station assigns plain callables; the engine calls inputs during ``poll`` (so an input must be
cheap and must not call back into the engine) and outputs when OCPP decides something.

Meter inputs form a registry per connector (like MicroOcpp's addMeterValueInput): each names what
it measures (measurand, phase, location, unit), and the metering block reports those the CSMS
configured. ``energy_wh`` and ``power_w`` are shorthands that register the two usual ones.

The inputs are application code, so the engine never calls them directly: ``read`` samples a
boolean input and ``sample`` any other. An input that raises, or gives a value the engine cannot
use, is logged once (with the traceback when it raised) and counts as not fitted (no reading, no
error) until it works again, which is logged once too. Nothing an input does leaves ``poll``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Protocol, overload

from ocpp_core.log import logger

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    Converted = TypeVar("Converted")


__all__ = [
    "ACTIVE_POWER",
    "ENERGY_REGISTER",
    "ERROR_CODES",
    "LOCATIONS",
    "PHASES",
    "ConnectorIO",
    "ErrorRecord",
    "MeterInput",
    "MeterSigner",
    "ReadingToSign",
    "SignedMeterData",
    "SignedReading",
    "UnusableValue",
]

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

# Where a value is measured and which phase(s) it concerns: the same in OCPP 1.6 (§7.30, §7.34)
# and 2.0.1, so they are checked here; measurands and units are the protocol version's business.
LOCATIONS = frozenset({"Body", "Cable", "EV", "Inlet", "Outlet"})
PHASES = frozenset({"L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1"})

ENERGY_REGISTER = "Energy.Active.Import.Register"
ACTIVE_POWER = "Power.Active.Import"


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


class SignedReading(NamedTuple):
    """A reading the meter signed itself: reported with format SignedData, passed through as is.

    OCPP 1.6 carries the signed block in the sampledValue's ``value`` (§7.43: "Raw" number or
    "SignedData", hex-encoded per §7.49), so ``signed_data`` is exactly what the CSMS receives.
    ``value`` is the plain reading, when the meter also gives one: it feeds meterStart/meterStop
    when the input is the energy register, which a signed block cannot.
    """

    signed_data: str
    value: float | None = None


class ReadingToSign(NamedTuple):
    """A reading of the energy register the meter is asked to sign (``MeterSigner.sign``):
    its context (Transaction.Begin, Transaction.End, Sample.Periodic, Sample.Clock), when
    (wall epoch seconds; ``synchronised``: the CSMS set the clock), the register in Wh, and the
    idTag / idToken of the transaction it belongs to (None: none)."""

    context: str
    wall_time: float
    synchronised: bool
    energy_wh: float
    id_token: str | None
    id_token_type: str | None


class SignedMeterData(NamedTuple):
    """A signed reading as OCPP carries it (2.0.1 SignedMeterValueType; 1.6 sends the same
    object as the JSON value of a SignedData sampledValue)."""

    signed_meter_data: str
    signing_method: str
    encoding_method: str
    public_key: str


class MeterSigner(Protocol):
    """A meter that signs its readings (calibration law); ``ConnectorIO.meter_signer``."""

    def sign(self, reading: ReadingToSign) -> SignedMeterData:
        """The signed form of ``reading`` (raises on failure: the reading goes unsigned)."""
        ...

    def public_key(self) -> str:
        """The key a verifier needs, in the form ``SignedMeterData.public_key`` has."""
        ...


class MeterInput(NamedTuple):
    """One registered meter input: what it measures and how to read it."""

    measurand: str
    read: Callable[[], float | SignedReading | None]
    phase: str | None = None
    location: str = "Outlet"
    unit: str | None = None


class UnusableValue(ValueError):
    """Raised by a ``ConnectorIO.sample`` converter: the input gave a value that cannot be used.

    Logged once per input without a traceback (the message says why); the input counts as not
    fitted until it gives a usable value.
    """


class ConnectorIO:
    """Inputs and outputs of one connector (0 is the charge point as a whole).

    Inputs (None = not fitted): ``plugged`` (cable connected), ``ev_ready`` (EV asks for energy),
    ``evse_ready`` (EVSE offers energy), ``occupied`` (bay occupied without a plug),
    ``energy_wh`` (meter register, Wh: Energy.Active.Import.Register, also meterStart/meterStop),
    ``power_w`` (W: Power.Active.Import), more meter inputs with ``add_meter_input``,
    ``temperature`` (connector 0 only: the station's temperature in Celsius). Meter
    inputs return a number, a SignedReading, or None (no reading now). Error inputs return None,
    "" or "NoError" when fine, else a ChargePointErrorCode (faulted, except EVCommunicationError
    which §7.6 calls a warning) or an ErrorRecord. Outputs: ``charging_limit`` receives the limit
    set by smart charging, ``lock`` receives True/False to lock/unlock the cable
    (``lock_failed``: the last drive of it failed).

    The engine samples inputs through ``read`` and ``sample`` only (see the module docstring).
    """

    __slots__ = (
        "_added_inputs",
        "_energy_input",
        "_failing",
        "_power_input",
        "charging_limit",
        "errors",
        "ev_ready",
        "evse_ready",
        "lock",
        "lock_failed",
        "meter_check",
        "meter_inputs",
        "meter_signer",
        "number",
        "occupied",
        "plugged",
        "temperature",
    )

    def __init__(self, number: int) -> None:
        self.number = number  # the connector id, for log lines
        self.plugged: Callable[[], bool] | None = None
        self.ev_ready: Callable[[], bool] | None = None
        self.evse_ready: Callable[[], bool] | None = None
        self.occupied: Callable[[], bool] | None = None
        # Connector 0: the station's enclosure temperature (Celsius), for 2.0.1 monitoring.
        self.temperature: Callable[[], float | None] | None = None
        self._energy_input: MeterInput | None = None
        self._power_input: MeterInput | None = None
        self._added_inputs: tuple[MeterInput, ...] = ()
        # Every meter input, the shorthands first; rebuilt on change, read when sampling.
        self.meter_inputs: tuple[MeterInput, ...] = ()
        # Set by the protocol version's metering block: raises ValueError for an input whose
        # measurand or unit that version cannot report, so the station learns it at once.
        self.meter_check: Callable[[MeterInput], None] | None = None
        self.errors: tuple[Callable[[], str | ErrorRecord | None], ...] = ()
        # A meter that signs readings of its energy register (None: readings are not signed).
        self.meter_signer: MeterSigner | None = None
        self.charging_limit: Callable[[float | None], None] | None = None
        self.lock: Callable[[bool], bool | None] | None = None
        self.lock_failed = False  # the last drive_lock failed (2.0.1 G05: a NotifyEvent)
        # Inputs whose last sample failed (key -> the input, kept so its id stays unique);
        # None while every input works, so the idle path tests one attribute.
        self._failing: dict[object, object] | None = None

    # ------------------------------------------------------------------ sampling

    def read(self, name: str) -> bool | None:
        """Sample a boolean input (``plugged``, ``occupied``, ``ev_ready``, ``evse_ready``).

        None when it is not fitted, or raised (logged once, then treated as not fitted until it
        works again); otherwise what it returned as a bool.
        """
        source = getattr(self, name)
        if source is None:
            return None
        # ``sample`` inlined: this runs several times per connector on every poll.
        try:
            value = source()
            if value is not True and value is not False:
                value = bool(value)
        except Exception:
            self._failed(name, None)
            return None
        if self._failing is not None:
            self._works(name)
        return value

    @overload
    def sample(self, key: object, source: Callable[[], object]) -> object: ...

    @overload
    def sample(
        self, key: object, source: Callable[[], object], convert: Callable[[object], Converted]
    ) -> Converted | None: ...

    def sample(
        self,
        key: object,
        source: Callable[[], object],
        convert: Callable[[object], object] | None = None,
    ) -> object:
        """Call any input and ``convert`` what it returned; None when either fails.

        ``convert`` also gets None (an input's "nothing now"). ``key`` identifies the input for
        the log-once bookkeeping: its name, the MeterInput, or the error input itself (none needs
        to be hashable). ``convert`` raises UnusableValue for a value that cannot be used; any
        other exception from either is logged with its traceback.
        """
        try:
            value = source()
            if convert is not None:
                value = convert(value)
        except UnusableValue as exc:
            self._failed(key, str(exc))
            return None
        except Exception:
            self._failed(key, None)
            return None
        if self._failing is not None:
            self._works(key)
        return value

    def drive_lock(self, locked: bool) -> bool:
        """Drive the cable lock output: True if it worked or none is fitted, False if it
        returned False or raised (logged with the traceback)."""
        output = self.lock
        if output is None:
            return True
        try:
            worked = output(locked) is not False
        except Exception:
            logger().exception("lock output of connector %d failed", self.number)
            worked = False
        self.lock_failed = not worked
        return worked

    def _failed(self, key: object, reason: str | None) -> None:
        """Log a failing input once, with the traceback (from an except block) or the reason."""
        failing = self._failing
        slot = key if type(key) is str else id(key)
        if failing is None:
            failing = self._failing = {}
        elif slot in failing:
            return
        failing[slot] = key
        if reason is None:
            logger().exception(
                "%s input failed; treated as not fitted until it works again", self._label(key)
            )
        else:
            logger().warning(
                "%s input gave an unusable value (%s); ignored until it works again",
                self._label(key),
                reason,
            )

    def _works(self, key: object) -> None:
        failing = self._failing
        slot = key if type(key) is str else id(key)
        if failing is None or failing.pop(slot, None) is None:
            return
        if not failing:
            self._failing = None
        logger().warning("%s input works again", self._label(key))

    def _label(self, key: object) -> str:
        """How an input is named in log lines: connector, kind, measurand."""
        if type(key) is str:
            what = key
        elif isinstance(key, MeterInput):
            phase = "" if key.phase is None else f".{key.phase}"
            what = f"meter ({key.measurand}{phase}, {key.location})"
        else:
            what = "error"
        return f"connector {self.number} {what}"

    # ------------------------------------------------------------------ registration

    def add_error_input(self, source: Callable[[], str | ErrorRecord | None]) -> None:
        """Add an error input; the first faulted error wins, else the first warning."""
        self.errors = (*self.errors, source)

    @property
    def energy_wh(self) -> Callable[[], float | SignedReading | None] | None:
        """The energy register input (Wh), or None."""
        entry = self._energy_input
        return None if entry is None else entry.read

    @energy_wh.setter
    def energy_wh(self, read: Callable[[], float | SignedReading | None] | None) -> None:
        self._energy_input = None if read is None else MeterInput(ENERGY_REGISTER, read, unit="Wh")
        self._rebuild()

    @property
    def power_w(self) -> Callable[[], float | SignedReading | None] | None:
        """The active power input (W), or None."""
        entry = self._power_input
        return None if entry is None else entry.read

    @power_w.setter
    def power_w(self, read: Callable[[], float | SignedReading | None] | None) -> None:
        self._power_input = None if read is None else MeterInput(ACTIVE_POWER, read, unit="W")
        self._rebuild()

    def add_meter_input(
        self,
        measurand: str,
        read: Callable[[], float | SignedReading | None],
        *,
        phase: str | None = None,
        location: str = "Outlet",
        unit: str | None = None,
    ) -> None:
        """Register a meter input (ValueError if the engine could never report it).

        Several inputs may share a measurand (one per phase or location): a configured
        measurand reports all of them (OCPP 1.6 §3.16.3), ``Voltage.L1`` only the L1 one.
        """
        if not isinstance(measurand, str) or not measurand:
            raise ValueError("measurand must be a non-empty string")
        if not callable(read):
            raise ValueError("read must be callable")
        if phase is not None and phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}")
        if location not in LOCATIONS:
            raise ValueError(f"unknown location {location!r}")
        if unit is not None and (not isinstance(unit, str) or not unit):
            raise ValueError("unit must be None or a non-empty string")
        entry = MeterInput(measurand, read, phase, location, unit)
        if self.meter_check is not None:
            self.meter_check(entry)
        self._added_inputs = (*self._added_inputs, entry)
        self._rebuild()

    def _rebuild(self) -> None:
        shorthands = tuple(e for e in (self._energy_input, self._power_input) if e is not None)
        self.meter_inputs = shorthands + self._added_inputs
