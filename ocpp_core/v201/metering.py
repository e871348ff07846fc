"""Metering (OCPP 2.0.1 J01 clock-aligned, J02 sampled, F06 triggered meter values).

What is measured comes from the EVSEs' meter inputs (``ConnectorIO``: EVSE n is connector n, 0 the
station's main meter); what is reported, and when, from SampledDataCtrlr and AlignedDataCtrlr:

* Transaction.Begin: TxStartedMeasurands, in the TransactionEvent that starts the transaction
  (the transaction block asks ``transaction_started``);
* Sample.Periodic in Updated events: TxUpdatedMeasurands every TxUpdatedInterval seconds from the
  start (0 disables), journaled by the transaction block (triggerReason MeterValuePeriodic);
* the Ended event's meterValue (``transaction_stopped``): TxEndedMeasurands every TxEndedInterval
  seconds from the start (Sample.Periodic), AlignedDataCtrlr.TxEndedMeasurands at every multiple of
  its TxEndedInterval (Sample.Clock), then Transaction.End with TxEndedMeasurands. They are kept in
  the Store while the transaction runs (``ocpp_core.tx_data``, ``txdata/<evse>``), at most
  MAX_ENDED_VALUES: the oldest closest-spaced intermediate goes first, Transaction.End never;
* clock-aligned data: AlignedDataCtrlr.Measurands at every multiple of its Interval after midnight
  UTC (0 disables; only once the CSMS set the clock): for an EVSE with a transaction in an Updated
  event (triggerReason MeterValueClock, J01.FR.14's note), for the others and evseId 0 in a
  MeterValuesRequest through the plain FIFO queue (not transaction data: not journaled). With
  SendDuringIdle, no clock-aligned values at all while any transaction runs (TC_J_06);
* TriggerMessage(MeterValues): AlignedDataCtrlr.Measurands now, context Trigger, for one EVSE or
  every EVSE including 0 (F06), through the triggered queue.

A measurand selects every input of it, on every phase and location (J01.FR.14), except that
RegisterValuesWithoutPhases reports only the overall Energy.Active.Import.Register. A measurand
list may only name measurands some EVSE has an input for (a SetVariables naming another is
Rejected; the defaults stay valid without inputs). SampledDataCtrlr.Enabled false: no sampled data
(Begin, Updated, Ended); AlignedDataCtrlr.Enabled false: no clock-aligned data.

Readings are ``ocpp_core.sampling`` Samples: the sampledValue's ``value`` is the Sample's number
(2.0.1 sends numbers), the journal gets the energy register as a number, and the application a
MeterSampled event for every message sent. A SignedReading is reported with its plain number and
its signed data as signedMeterValue (signing method, encoding and public key are left empty until
the meter signs itself, issue 15); one without a plain number cannot be reported in 2.0.1 (value is
required) and is left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ocpp_core.block import Block, trigger
from ocpp_core.connector import ENERGY_REGISTER
from ocpp_core.events import MeterSampled, Sample
from ocpp_core.outbox import Request
from ocpp_core.sampling import (
    BEGIN,
    CLOCK,
    END,
    PERIODIC,
    TRIGGER,
    AlignedBoundary,
    Item,
    Sampler,
    covered,
    energy_register,
    realign,
    register_wh,
)
from ocpp_core.signed_readings import PUBLIC_KEY_MODES, SignedReadings
from ocpp_core.tx_data import TransactionData
from ocpp_core.v201.tx_views import MeteringView
from ocpp_core.v201.variables import VariableDeclarer

if TYPE_CHECKING:
    from ocpp_core.connector import MeterInput
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.sessions import TransactionInfo

__all__ = [
    "MAX_ENDED_VALUES",
    "MEASURANDS",
    "MeteringBlock",
    "TransactionEvents",
    "check_input",
    "meter_value",
]

# MeasurandEnumType (2.0.1 has no RPM or Temperature, and adds Net and Apparent energies).
MEASURANDS = (
    "Current.Export",
    "Current.Import",
    "Current.Offered",
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval",
    "Energy.Active.Net",
    "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval",
    "Energy.Reactive.Net",
    "Energy.Apparent.Net",
    "Energy.Apparent.Import",
    "Energy.Apparent.Export",
    "Frequency",
    "Power.Active.Export",
    "Power.Active.Import",
    "Power.Factor",
    "Power.Offered",
    "Power.Reactive.Export",
    "Power.Reactive.Import",
    "SoC",
    "Voltage",
)
_MEASURAND_SET = frozenset(MEASURANDS)
_UNIT_LENGTH = 20  # UnitOfMeasureType.unit
MAX_ENDED_VALUES = 48  # meterValue elements an Ended event keeps (8 h at a 10-minute interval)
_NEVER = float("inf")
_PHASE_CURRENTS: tuple[Item, ...] = (("Current.Import", None),)

SAMPLED = "SampledDataCtrlr"
ALIGNED = "AlignedDataCtrlr"


def check_input(entry: MeterInput) -> None:
    """ConnectorIO.meter_check for 2.0.1: only measurands and units 2.0.1 can carry."""
    if entry.measurand not in _MEASURAND_SET:
        raise ValueError(f"OCPP 2.0.1 has no measurand {entry.measurand!r}")
    if entry.unit is not None and len(entry.unit) > _UNIT_LENGTH:
        raise ValueError(f"OCPP 2.0.1 units have at most {_UNIT_LENGTH} characters")


def _items(value: str) -> tuple[Item, ...]:
    """The items of a MemberList of measurands (2.0.1 names no phase: every phase is reported)."""
    return tuple((measurand, None) for measurand in value.split(",")) if value else ()


def _has_inputs(value: str, ctx: BlockContext) -> bool:
    """A SetVariables of a measurand list: every measurand has an input on some EVSE."""
    return covered(_items(value), [entry for io in ctx.connectors for entry in io.meter_inputs])


def _can_sign(value: object, ctx: BlockContext) -> bool:
    """SignReadings may be true only where a meter signs (else the station cannot comply)."""
    return value in (False, "false") or any(io.meter_signer for io in ctx.connectors)


def _sampled_value(sample: Sample) -> JsonObject | None:
    """A SampledValueType, or None for a signed reading without a plain number."""
    if sample.value is None:
        return None
    value: JsonObject = {"value": sample.value, "context": sample.context}
    value["measurand"] = sample.measurand
    if sample.phase is not None:
        value["phase"] = sample.phase
    value["location"] = sample.location
    if sample.unit is not None:
        value["unitOfMeasure"] = {"unit": sample.unit}
    if sample.signed:
        value["signedMeterValue"] = {
            "signedMeterData": sample.text,
            "signingMethod": "",
            "encodingMethod": "",
            "publicKey": "",
        }
    return value


def meter_value(timestamp: str, samples: tuple[Sample, ...]) -> JsonObject | None:
    """The MeterValueType of ``samples`` taken at ``timestamp`` (None: nothing to report)."""
    sampled = [value for value in map(_sampled_value, samples) if value is not None]
    return {"timestamp": timestamp, "sampledValue": sampled} if sampled else None


_sampled = VariableDeclarer(__name__, SAMPLED)
_sampled.boolean("Enabled", True)
_sampled.boolean("Available", True, mutability="ReadOnly")
_aligned = VariableDeclarer(__name__, ALIGNED)
_aligned.boolean("Enabled", True)
_aligned.boolean("Available", True, mutability="ReadOnly")
for _declarer, _name in (
    (_sampled, "TxStartedMeasurands"),
    (_sampled, "TxUpdatedMeasurands"),
    (_sampled, "TxEndedMeasurands"),
    (_aligned, "Measurands"),
    (_aligned, "TxEndedMeasurands"),
):
    _declarer.members(_name, ENERGY_REGISTER, MEASURANDS, accept=_has_inputs)
_sampled.integer("TxUpdatedInterval", 60, unit="s")
for _declarer in (_sampled, _aligned):
    _declarer.boolean("SignReadings", False, accept=lambda value, ctx: _can_sign(value, ctx))
_comm = VariableDeclarer(__name__, "OCPPCommCtrlr")
_comm.option("PublicKeyWithSignedMeterValue", "Never", PUBLIC_KEY_MODES)
_sampled.integer("TxEndedInterval", 0, unit="s")
_sampled.boolean("RegisterValuesWithoutPhases", False)
_aligned.integer("Interval", 0, unit="s")
_aligned.integer("TxEndedInterval", 0, unit="s")
_aligned.boolean("SendDuringIdle", False)

VARIABLES = (*_sampled.keys, *_aligned.keys, *_comm.keys)


class TransactionEvents(Protocol):
    """What metering asks of the transaction block (D's TransactionBlock); the bodies are the
    default's (``_NoTransactions``) until the wiring sets the block: no transaction anywhere."""

    def transaction_running(self, evse: int) -> bool:
        """A transaction runs on the EVSE."""
        return False

    def enqueue_transaction_meter_values(
        self,
        evse: int,
        meter_values: list[JsonObject],
        now: float,
        register_wh: int | None = None,
        trigger: str = "MeterValuePeriodic",
    ) -> None:
        """Journal an Updated event of the EVSE's transaction with these values and trigger
        reason (MeterValuePeriodic / MeterValueClock); ``register_wh``: the energy it reports."""
        return None

    def current(self, evse: int) -> TransactionInfo | None:
        """The EVSE's transaction (whose idToken a signed reading names)."""
        return None


class _NoTransactions(TransactionEvents):
    """The default peer: the protocol's own bodies."""

    __slots__ = ()


class _Schedule:
    """A periodic sampling schedule per EVSE, counted from the start of its transaction."""

    __slots__ = ("anchors", "due", "interval")

    def __init__(self, count: int) -> None:
        self.anchors: list[float | None] = [None] * count  # None: no transaction
        self.interval = 0
        self.due = _NEVER  # the earliest next sample of any EVSE

    def plan(self) -> None:
        interval = self.interval
        starts = [a for a in self.anchors if a is not None] if interval > 0 else []
        self.due = min(starts) + interval if starts else _NEVER

    def take(self, now: float) -> list[int]:
        """The EVSEs due now; their schedules move on, keeping their phase."""
        interval = self.interval
        due = []
        for evse, anchor in enumerate(self.anchors):
            if anchor is not None and anchor + interval <= now:
                self.anchors[evse] = realign(anchor + interval, interval, now)
                due.append(evse)
        self.plan()
        return due


class MeteringBlock(Block, MeteringView):
    """Samples the meter inputs for transactions, on the clock and on request."""

    __slots__ = (
        "_aligned",
        "_aligned_ended",
        "_data",
        "_ended",
        "_generation",
        "_intervals",
        "_signing",
        "_updated",
        "sessions",
    )

    keys = VARIABLES
    sends = ("MeterValues",)

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        count = len(ctx.connectors)
        for io in ctx.connectors:
            io.meter_check = check_input
        self._data = TransactionData(ctx.store, count, MAX_ENDED_VALUES)
        self._updated = _Schedule(count)  # TxUpdatedInterval
        self._ended = _Schedule(count)  # SampledDataCtrlr.TxEndedInterval
        self._aligned = AlignedBoundary()  # AlignedDataCtrlr.Interval
        self._aligned_ended = AlignedBoundary()  # AlignedDataCtrlr.TxEndedInterval
        self._intervals = (0, 0)  # the two clock-aligned intervals in force (0: off)
        self._signing = SignedReadings(ctx)
        # -1: the first tick reads the configuration and finds transactions resumed after a
        # restart (the transaction block resumes them in its tick, which runs before this one).
        self._generation = -1
        self.sessions: TransactionEvents = _NoTransactions()  # the wiring sets the transactions

    # ------------------------------------------------------------------ timing

    def tick(self, now: float) -> None:
        if self.ctx.config.generation != self._generation:
            self._configure(now)
        if now >= self._updated.due:
            for evse in self._updated.take(now):
                self._take_updated(evse, now)
        if now >= self._ended.due:
            for evse in self._ended.take(now):
                self._take_ended(evse, now)
        if self._intervals != (0, 0):
            self._check_aligned(now)

    def timer(self, now: float) -> float | None:
        earliest = min(self._updated.due, self._ended.due)
        if self._intervals != (0, 0):
            clock = self.ctx.clock
            for boundary in (self._aligned.next, self._aligned_ended.next):
                if boundary is not None:
                    earliest = min(earliest, now + max(0.0, boundary - clock.wall(now)))
        return None if earliest == _NEVER else earliest

    def _configure(self, now: float) -> None:
        ctx = self.ctx
        config = ctx.config
        if self._generation < 0:
            running = self.sessions.transaction_running
            for evse in range(1, len(ctx.connectors)):
                if running(evse):
                    self._updated.anchors[evse] = self._ended.anchors[evse] = now
        self._generation = config.generation
        self._updated.interval = config.integer(f"{SAMPLED}.TxUpdatedInterval")
        self._ended.interval = config.integer(f"{SAMPLED}.TxEndedInterval")
        self._updated.plan()
        self._ended.plan()
        intervals = (0, 0)
        if config.boolean(f"{ALIGNED}.Enabled"):
            intervals = (
                config.integer(f"{ALIGNED}.Interval"),
                config.integer(f"{ALIGNED}.TxEndedInterval"),
            )
        if intervals[0] != self._intervals[0]:
            self._aligned = AlignedBoundary()
        if intervals[1] != self._intervals[1]:
            self._aligned_ended = AlignedBoundary()
        self._intervals = intervals

    def _check_aligned(self, now: float) -> None:
        clock = self.ctx.clock
        if not clock.is_synced:
            return
        wall = clock.wall(now)
        interval, ended_interval = self._intervals
        if interval and self._aligned.passed(wall, interval):
            self._take_aligned(now)
        if ended_interval and self._aligned_ended.passed(wall, ended_interval):
            self._take_aligned_ended(now)

    # ------------------------------------------------------------------ sampling

    def _samples(
        self, sampler: Sampler, evse: int, variable: str, context: str
    ) -> tuple[Sample, ...]:
        """The EVSE's readings of a measurand list now (RegisterValuesWithoutPhases applied)."""
        config = self.ctx.config
        samples = sampler.samples(
            self.ctx.connectors[evse], _items(config.string(variable)), context
        )
        if config.boolean(f"{SAMPLED}.RegisterValuesWithoutPhases"):
            samples = tuple(s for s in samples if s.measurand != ENERGY_REGISTER or s.phase is None)
        return samples

    def _sampled_on(self) -> bool:
        return self.ctx.config.boolean(f"{SAMPLED}.Enabled")

    def _running(self, evse: int) -> bool:
        """The EVSE's transaction still runs; if it ended unannounced, its schedules stop."""
        if self.sessions.transaction_running(evse):
            return True
        self._updated.anchors[evse] = self._ended.anchors[evse] = None
        return False

    def _take_updated(self, evse: int, now: float) -> None:
        if not self._running(evse) or not self._sampled_on():
            return
        sampler = Sampler(self.ctx.clock.timestamp(now))
        samples = self._samples(sampler, evse, f"{SAMPLED}.TxUpdatedMeasurands", PERIODIC)
        self._journal(evse, sampler.timestamp, samples, "MeterValuePeriodic", now, SAMPLED)

    def _take_ended(self, evse: int, now: float) -> None:
        if not self._running(evse) or not self._sampled_on():
            return
        sampler = Sampler(self.ctx.clock.timestamp(now))
        samples = self._samples(sampler, evse, f"{SAMPLED}.TxEndedMeasurands", PERIODIC)
        self._keep(evse, sampler.timestamp, samples)

    def _take_aligned(self, now: float) -> None:
        ctx = self.ctx
        running = [evse > 0 and self._running(evse) for evse in range(len(ctx.connectors))]
        if any(running) and ctx.config.boolean(f"{ALIGNED}.SendDuringIdle"):
            return
        timestamp = ctx.clock.timestamp(now)
        for evse, in_transaction in enumerate(running):
            samples = self._samples(Sampler(timestamp), evse, f"{ALIGNED}.Measurands", CLOCK)
            if in_transaction:
                self._journal(evse, timestamp, samples, "MeterValueClock", now, ALIGNED)
            else:
                self._queue(evse, timestamp, samples, now, ALIGNED)

    def _take_aligned_ended(self, now: float) -> None:
        timestamp = self.ctx.clock.timestamp(now)
        for evse in range(1, len(self.ctx.connectors)):
            if self.sessions.transaction_running(evse):
                variable = f"{ALIGNED}.TxEndedMeasurands"
                self._keep(
                    evse, timestamp, self._samples(Sampler(timestamp), evse, variable, CLOCK)
                )

    def _keep(self, evse: int, timestamp: str, samples: tuple[Sample, ...]) -> None:
        """A value for the Ended event, kept in the Store until the transaction ends."""
        value = meter_value(timestamp, samples)
        if value is not None:
            self._data.add(evse, value)

    def _journal(
        self,
        evse: int,
        timestamp: str,
        samples: tuple[Sample, ...],
        reason: str,
        now: float,
        controller: str,
    ) -> None:
        """An Updated event of the EVSE's transaction, journaled with its energy register."""
        context = PERIODIC if controller == SAMPLED else CLOCK
        value = self._signed(evse, meter_value(timestamp, samples), timestamp, context, now)
        if value is None:
            return
        self.sessions.enqueue_transaction_meter_values(
            evse, [value], now, register_wh(samples), trigger=reason
        )
        self._tell(evse, samples)

    def _queue(
        self,
        evse: int,
        timestamp: str,
        samples: tuple[Sample, ...],
        now: float,
        controller: str | None = None,
    ) -> None:
        """A MeterValuesRequest that belongs to no transaction: the plain FIFO (not journaled)."""
        value = meter_value(timestamp, samples)
        if controller is not None and evse:
            value = self._signed(evse, value, timestamp, CLOCK, now)
        if value is None:
            return
        self.ctx.queue.push(Request("MeterValues", {"evseId": evse, "meterValue": [value]}), now)
        self._tell(evse, samples)

    def _tell(self, evse: int, samples: tuple[Sample, ...]) -> None:
        """The values of a message, as numbers, for the application (MeterSampled)."""
        ctx = self.ctx
        if ctx.watched:
            ctx.emit(MeterSampled(evse, samples))

    def _transaction_value(
        self, evse: int, variable: str, context: str, now: float
    ) -> JsonObject | None:
        if not self._sampled_on():
            return None
        sampler = Sampler(self.ctx.clock.timestamp(now))
        value = meter_value(sampler.timestamp, self._samples(sampler, evse, variable, context))
        if context in (BEGIN, END):
            value = self._signed(evse, value, sampler.timestamp, context, now)
        return value

    def _signed(
        self, evse: int, value: JsonObject | None, timestamp: str, context: str, now: float
    ) -> JsonObject | None:
        """``value`` with the register reading signed, when the controller's SignReadings is
        on and the EVSE's meter signs: on the register's sampledValue of that context, or a
        register sampledValue added for it (the signature covers the register)."""
        config = self.ctx.config
        controller = ALIGNED if context == CLOCK else SAMPLED
        if not config.boolean(f"{controller}.SignReadings"):
            return value
        mode = config.string("OCPPCommCtrlr.PublicKeyWithSignedMeterValue")
        result = self._signing.sign(evse, context, now, self.sessions.current(evse), mode)
        if result is None:
            return value
        energy, signed = result
        signed_value = {
            "signedMeterData": signed.signed_meter_data,
            "signingMethod": signed.signing_method,
            "encodingMethod": signed.encoding_method,
            "publicKey": signed.public_key,
        }
        if value is None:
            value = {"timestamp": timestamp, "sampledValue": []}
        for sampled in value["sampledValue"]:
            if sampled.get("measurand") == ENERGY_REGISTER and "phase" not in sampled:
                sampled["signedMeterValue"] = signed_value
                return value
        value["sampledValue"].append(
            {
                "value": energy,
                "context": context,
                "measurand": ENERGY_REGISTER,
                "location": "Outlet",
                "unitOfMeasure": {"unit": "Wh"},
                "signedMeterValue": signed_value,
            }
        )
        return value

    # ------------------------------------------------------------------ MeteringView

    def energy_wh(self, evse: int) -> int | None:
        return energy_register(self.ctx.connectors[evse])

    def phases(self, evse: int) -> int | None:
        """The phases with current now, else those metered (None: no per-phase current input)."""
        samples = Sampler("").samples(self.ctx.connectors[evse], _PHASE_CURRENTS, PERIODIC)
        metered = [s for s in samples if s.phase in ("L1", "L2", "L3")]
        flowing = [s for s in metered if s.value]
        return len(flowing or metered) or None

    def transaction_started(self, evse: int, now: float) -> list[JsonObject]:
        self._data.start(evse, None)
        self._updated.anchors[evse] = self._ended.anchors[evse] = now
        self._updated.plan()
        self._ended.plan()
        begin = self._transaction_value(evse, f"{SAMPLED}.TxStartedMeasurands", BEGIN, now)
        return [] if begin is None else [begin]

    def transaction_stopped(self, evse: int, now: float) -> list[JsonObject]:
        self._updated.anchors[evse] = self._ended.anchors[evse] = None
        self._updated.plan()
        self._ended.plan()
        end = self._transaction_value(evse, f"{SAMPLED}.TxEndedMeasurands", END, now)
        self._signing.transaction_ended(evse)
        return self._data.finish(evse, end)

    def triggered_values(self, evse: int, now: float) -> list[JsonObject]:
        """TriggerMessage(TransactionEvent): the transaction's TxUpdatedMeasurands now, context
        Trigger, for the triggered Updated event ([]: none; TC_F_13/F_14)."""
        value = self._transaction_value(evse, f"{SAMPLED}.TxUpdatedMeasurands", TRIGGER, now)
        return [] if value is None else [value]

    # ------------------------------------------------------------------ TriggerMessage

    @trigger("MeterValues")
    def send_triggered(self, evse: int | None, now: float) -> str:
        """TriggerMessage(MeterValues): AlignedDataCtrlr.Measurands now, context Trigger (F06)."""
        ctx = self.ctx
        count = len(ctx.connectors)
        if evse is None:
            targets: range | tuple[int, ...] = range(count)
        elif 0 <= evse < count:
            targets = (evse,)
        else:
            return "Rejected"
        timestamp = ctx.clock.timestamp(now)
        accepted = "Rejected"
        for target in targets:
            samples = self._samples(Sampler(timestamp), target, f"{ALIGNED}.Measurands", TRIGGER)
            value = meter_value(timestamp, samples)
            if value is None:
                continue
            payload: JsonObject = {"evseId": target, "meterValue": [value]}
            ctx.triggered.push(Request("MeterValues", payload), now)
            self._tell(target, samples)
            accepted = "Accepted"
        return accepted
