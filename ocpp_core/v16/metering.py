"""Metering (OCPP 1.6 §3.16, §4.7, §5.17 MeterValues trigger, §9.1 keys; errata 3.13-3.16, 3.89).

What is measured comes from the connectors' meter inputs (``ConnectorIO.add_meter_input``,
``energy_wh``, ``power_w``); what is reported, and when, from the configuration:

* sampled data: every MeterValueSampleInterval seconds from the start of a transaction on
  connectors 1..N (0 disables), context Sample.Periodic, MeterValuesSampledData measurands, sent
  as transaction-related MeterValues through the transaction block's journal (§3.7: queued
  offline, in order with StartTransaction/StopTransaction); StopTxnSampledData measurands go into
  the transaction's data. Connector 0, the main meter, is sampled at the same interval whenever it
  has an input for a configured measurand, as MicroOcpp does and §3.16.3's example shows; such
  values belong to no transaction (errata 3.16) and leave through the plain FIFO queue (kept
  while offline up to its limit, the oldest dropped; not persisted: they are not transaction
  data);
* clock-aligned data: at every multiple of ClockAlignedDataInterval seconds after midnight UTC,
  on every connector including 0, context Sample.Clock, MeterValuesAlignedData measurands: through
  the journal on a connector with a running transaction, else through the FIFO queue;
  StopTxnAlignedData measurands go into the transaction's data. Only with a clock set by the CSMS.
  When the clock jumps forward (a sync) past a boundary, that boundary is sampled if the reading
  is at most ALIGNED_LATENESS late, else skipped (MicroOcpp's rule: a later reading would not
  describe it); when it jumps back, the next boundary after the new time is awaited;
* transaction data: the Transaction.Begin and Transaction.End samples carry the measurands of
  StopTxnSampledData and StopTxnAlignedData together (errata 3.14: start and stop values of every
  configured measurand), kept with the periodic and aligned ones (see transaction_data);
* TriggerMessage(MeterValues): the current values of the MeterValuesSampledData measurands, context
  Trigger, for one connector or, without connectorId, every connector including 0. A triggered
  message is not transaction-related (§3.7 lists StartTransaction, StopTransaction and periodic or
  clock-aligned MeterValues) and asks for current data (§5.17), so it goes through the triggered
  queue, not the journal, with the transactionId of a running transaction when the CSMS has given
  one. Rejected for an unknown connector or when no selected input has a reading.

Measurand lists accept the 1.6 Measurand values, optionally with a phase (``Voltage.L1``,
§9.1.17), at most ``...MaxLength`` items, and only measurands with a meter input on some
connector (§3.16.4: else Rejected and nothing changes). That last check needs the station's
inputs, which are registered after the engine is built, so it applies to changes only: the
defaults, factory defaults and stored values stay valid without inputs, and an item without an
input simply reports nothing. ConnectorPhaseRotation items are ``<connectorId>.<rotation>``
(§9.1.7), at most one per connector including 0.

Readings are taken as numbers (sampling's ``Sample``): a transaction's MeterValues is journaled
with the energy register it reports as a number, and every MeterValues taken is told to the
application as a MeterSampled event (numbers, not the frame's text).

The transaction block tells this one when a transaction starts and stops (MeteringView); one it
resumes after a restart is found at the first poll through ``transaction_running``. The idle
tick costs three comparisons (configuration generation, connector 0's inputs, next due time) and
reads the clock only while ClockAlignedDataInterval is set.
"""

from __future__ import annotations

import json
from functools import partial
from typing import TYPE_CHECKING

from ocpp_core.block import Block, trigger
from ocpp_core.config import KeyDeclarer, R
from ocpp_core.connector import ENERGY_REGISTER, PHASES
from ocpp_core.events import MeterSampled, Sample
from ocpp_core.outbox import Request
from ocpp_core.sampling import ALIGNED_LATENESS, AlignedBoundary, realign
from ocpp_core.sessions import NO_SESSIONS, RUNNING, MeteringView
from ocpp_core.signed_readings import NEVER, PUBLIC_KEY_MODES, SignedReadings, meter_public_key
from ocpp_core.tx_data import TransactionData
from ocpp_core.v16.sampling import (
    BEGIN,
    CLOCK,
    END,
    MEASURANDS,
    PERIODIC,
    TRIGGER,
    Sampler,
    check_input,
    energy_register,
    items_of,
    meter_value,
    register_wh,
    selects,
    supported,
)
from ocpp_core.v16.transaction_data import MAX_METER_VALUES

if TYPE_CHECKING:
    from ocpp_core.connector import MeterInput
    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.sessions import SessionView

__all__ = ["ALIGNED_LATENESS", "KEYS", "MEASURANDS", "PHASES", "ROTATIONS", "MeteringBlock"]

_NEVER = float("inf")

_MEASURAND_ITEMS = MEASURANDS | frozenset(f"{m}.{p}" for m in MEASURANDS for p in PHASES)
ROTATIONS = frozenset({"NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR"})
MAX_MEASURANDS = 8
MAX_SIGNING_CONNECTORS = 99  # the most connectors a station has (StationSettings)


def _can_sign(value: object, ctx: BlockContext) -> bool:
    """Signing may be switched on only where a meter signs."""
    return value is False or any(io.meter_signer for io in ctx.connectors)


def _public_key(ctx: BlockContext, connector: int) -> str | None:
    """MeterPublicKey[n]: the meter's key, None (no such key) where no meter signs."""
    connectors = ctx.connectors
    return meter_public_key(connectors[connector]) if connector < len(connectors) else None


def _has_inputs(value: str, ctx: BlockContext) -> bool:
    """ChangeConfiguration of a measurand list: every item has an input somewhere (§3.16.4)."""
    inputs = [entry for io in ctx.connectors for entry in io.meter_inputs]
    return supported(value, inputs)


def _is_rotation(item: str) -> bool:
    """``<connectorId>.<rotation>``, e.g. ``1.RST`` (§9.1.7)."""
    connector, _, rotation = item.partition(".")
    return connector.isascii() and connector.isdigit() and rotation in ROTATIONS


_keys = KeyDeclarer(__name__)
_keys.integer("ClockAlignedDataInterval", 0)
_keys.integer("MeterValueSampleInterval", 60)
for _name, _default in (
    ("MeterValuesAlignedData", "Energy.Active.Import.Register"),
    ("MeterValuesSampledData", "Energy.Active.Import.Register"),
    ("StopTxnAlignedData", ""),
    ("StopTxnSampledData", ""),
):
    _keys.integer(f"{_name}MaxLength", MAX_MEASURANDS, access=R)
    _keys.csl(
        _name,
        _default,
        members=_MEASURAND_ITEMS,
        max_items=f"{_name}MaxLength",
        accept=_has_inputs,
    )
_keys.integer("StopTransactionMaxMeterValues", 0, access=R, compute=lambda ctx: MAX_METER_VALUES)
_keys.integer(
    "ConnectorPhaseRotationMaxLength", 0, access=R, compute=lambda ctx: len(ctx.connectors)
)
_keys.csl(
    "ConnectorPhaseRotation",
    "",
    members=_is_rotation,
    max_items="ConnectorPhaseRotationMaxLength",
)

# Signed meter values (calibration law), as the OCA note on signed meter values in 1.6 names the
# keys: Begin/End signed, periodic too, whether the public key goes along, and the public key of
# each connector's meter, MeterPublicKey[n] (read-only; listed only for a connector whose meter
# signs: a computed key with no value is not there).
for _name in ("SampledDataSignReadings", "SampledDataSignUpdatedReadings"):
    _keys.boolean(_name, False, accept=lambda value, ctx: _can_sign(value, ctx))
_keys.string("PublicKeyWithSignedMeterValue", NEVER, check=lambda value: value in PUBLIC_KEY_MODES)
for _n in range(1, MAX_SIGNING_CONNECTORS + 1):
    _keys.string(f"MeterPublicKey[{_n}]", "", access=R, compute=partial(_public_key, connector=_n))

KEYS = tuple(_keys.keys)


class MeteringBlock(Block, MeteringView):
    """Samples the meter inputs on schedule and on request (the transaction block's
    MeteringView)."""

    __slots__ = (
        "_aligned",
        "_aligned_interval",
        "_anchors",
        "_config",
        "_data",
        "_due",
        "_dues",
        "_generation",
        "_in_transaction",
        "_main",
        "_main_inputs",
        "_sample_interval",
        "_signing",
        "sessions",
    )

    keys = KEYS
    sends = ("MeterValues",)

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        count = len(ctx.connectors)
        for io in ctx.connectors:
            io.meter_check = check_input
        self._config = ctx.config
        self._main = ctx.connectors[0]  # the main meter: sampled outside transactions too
        self._data = TransactionData(ctx.store, count, MAX_METER_VALUES)
        # -1: the first tick reads the configuration and finds transactions resumed after a
        # restart (the transaction block resumes them in its tick, which runs before this one).
        self._generation = -1
        self._sample_interval = 0
        self._aligned_interval = 0
        self._in_transaction = [False] * count
        self._anchors: list[float | None] = [None] * count  # start of each periodic schedule
        self._dues: list[float | None] = [None] * count
        self._due = _NEVER  # the earliest of _dues: the idle tick compares only this
        self._main_inputs: tuple[MeterInput, ...] = ()  # connector 0's inputs when last scheduled
        self._aligned = AlignedBoundary()
        self._signing = SignedReadings(ctx)
        self.sessions: SessionView = NO_SESSIONS  # set by the wiring: the transaction block

    # ------------------------------------------------------------------ timing

    def tick(self, now: float) -> None:
        if self._config.generation != self._generation:
            self._configure(now)
        elif self._main.meter_inputs is not self._main_inputs:
            self._schedule(now)
        if now >= self._due:
            self._sample_periodic(now)
        if self._aligned_interval:
            self._check_aligned(now)

    def timer(self, now: float) -> float | None:
        earliest = self._due if self._due != _NEVER else None
        wall_due = self._aligned.next
        if self._aligned_interval and wall_due is not None:
            at = now + max(0.0, wall_due - self.ctx.clock.wall(now))
            if earliest is None or at < earliest:
                earliest = at
        return earliest

    def _configure(self, now: float) -> None:
        ctx = self.ctx
        config = ctx.config
        if self._generation < 0:
            running = self.sessions.transaction_running
            for connector in range(1, len(ctx.connectors)):
                if running(connector):
                    self._in_transaction[connector] = True
                    self._anchors[connector] = now
        self._generation = config.generation
        self._sample_interval = config.integer("MeterValueSampleInterval")
        aligned = config.integer("ClockAlignedDataInterval")
        if aligned != self._aligned_interval:
            self._aligned_interval = aligned
            self._aligned = AlignedBoundary()
        self._schedule(now)

    def _schedule(self, now: float) -> None:
        """Recompute every connector's next periodic sample from its schedule's anchor."""
        interval = self._sample_interval
        main = self._main_inputs = self._main.meter_inputs
        items = items_of(self.ctx.config.string("MeterValuesSampledData"))
        active = list(self._in_transaction)
        active[0] = selects(main, items)
        earliest = _NEVER
        for connector, on in enumerate(active):
            if interval <= 0 or not on:
                self._dues[connector] = None
                if connector == 0:
                    self._anchors[0] = None
                continue
            anchor = self._anchors[connector]
            if anchor is None:
                anchor = self._anchors[connector] = now
            due = self._dues[connector] = anchor + interval
            earliest = min(earliest, due)
        self._due = earliest

    def _sample_periodic(self, now: float) -> None:
        interval = self._sample_interval
        sessions = self.sessions
        for connector, due in enumerate(self._dues):
            if due is None or now < due:
                continue
            self._anchors[connector] = realign(due, interval, now)
            if connector and not sessions.transaction_running(connector):
                self._in_transaction[connector] = False  # ended without telling us
                self._anchors[connector] = None
                continue
            self._take_periodic(connector, now)
        self._schedule(now)

    def _check_aligned(self, now: float) -> None:
        clock = self.ctx.clock
        if not clock.is_synced:
            return
        if self._aligned.passed(clock.wall(now), self._aligned_interval):
            self._take_aligned(now)

    # ------------------------------------------------------------------ sampling

    def _take_periodic(self, connector: int, now: float) -> None:
        ctx = self.ctx
        io = ctx.connectors[connector]
        if not io.meter_inputs:
            return
        config = ctx.config
        sampler = Sampler(ctx.clock.timestamp(now))
        samples = sampler.samples(io, items_of(config.string("MeterValuesSampledData")), PERIODIC)
        if connector == 0:
            self._queue(0, sampler.timestamp, samples, now)
            return
        signed = config.boolean("SampledDataSignUpdatedReadings")
        self._journal(connector, sampler.timestamp, samples, now, signed)
        kept_items = items_of(config.string("StopTxnSampledData"))
        kept = meter_value(sampler.timestamp, sampler.samples(io, kept_items, PERIODIC))
        if kept is not None:
            self._data.add(connector, kept)

    def _take_aligned(self, now: float) -> None:
        ctx = self.ctx
        config = ctx.config
        sessions = self.sessions
        items = items_of(config.string("MeterValuesAlignedData"))
        kept_items = items_of(config.string("StopTxnAlignedData"))
        timestamp = ctx.clock.timestamp(now)
        for connector, io in enumerate(ctx.connectors):
            if not io.meter_inputs:
                continue
            sampler = Sampler(timestamp)
            samples = sampler.samples(io, items, CLOCK)
            if connector and sessions.transaction_running(connector):
                self._journal(connector, timestamp, samples, now)
                kept = meter_value(timestamp, sampler.samples(io, kept_items, CLOCK))
                if kept is not None:
                    self._data.add(connector, kept)
            else:
                self._queue(connector, timestamp, samples, now)

    def _journal(
        self,
        connector: int,
        timestamp: str,
        samples: tuple[Sample, ...],
        now: float,
        signed: bool = False,
    ) -> None:
        """A transaction's MeterValues: journaled with its energy register as a number."""
        sampled = meter_value(timestamp, samples)
        if signed:
            sampled = self._signed(connector, sampled, timestamp, PERIODIC, now)
        if sampled is None:
            return
        register = register_wh(samples)
        self.sessions.enqueue_transaction_meter_values(connector, [sampled], now, register)
        self._tell(connector, samples)

    def _queue(
        self, connector: int, timestamp: str, samples: tuple[Sample, ...], now: float
    ) -> None:
        """A MeterValues that belongs to no transaction: the plain FIFO (not journaled)."""
        sampled = meter_value(timestamp, samples)
        if sampled is None:
            return
        payload = {"connectorId": connector, "meterValue": [sampled]}
        self.ctx.queue.push(Request("MeterValues", payload), now)
        self._tell(connector, samples)

    def _tell(self, connector: int, samples: tuple[Sample, ...]) -> None:
        """The values of a MeterValues, as numbers, for the application (MeterSampled)."""
        ctx = self.ctx
        if ctx.watched:
            ctx.emit(MeterSampled(connector, samples))

    def _transaction_sample(self, connector: int, context: str, now: float) -> JsonObject | None:
        """The Begin/End sample: StopTxnSampledData and StopTxnAlignedData measurands."""
        ctx = self.ctx
        io = ctx.connectors[connector]
        if not io.meter_inputs:
            return None
        config = ctx.config
        items = items_of(config.string("StopTxnSampledData"))
        items += tuple(i for i in items_of(config.string("StopTxnAlignedData")) if i not in items)
        timestamp = ctx.clock.timestamp(now)
        value = meter_value(timestamp, Sampler(timestamp).samples(io, items, context))
        if config.boolean("SampledDataSignReadings"):
            value = self._signed(connector, value, timestamp, context, now)
        return value

    def _signed(
        self, connector: int, value: JsonObject | None, timestamp: str, context: str, now: float
    ) -> JsonObject | None:
        """``value`` with the register reading signed by the connector's meter: a SignedData
        sampledValue whose value is the SignedMeterValueType object as JSON (OCA note)."""
        mode = self.ctx.config.string("PublicKeyWithSignedMeterValue")
        result = self._signing.sign(connector, context, now, self.sessions.current(connector), mode)
        if result is None:
            return value
        _energy, signed = result
        text = json.dumps(
            {
                "signedMeterData": signed.signed_meter_data,
                "signingMethod": signed.signing_method,
                "encodingMethod": signed.encoding_method,
                "publicKey": signed.public_key,
            },
            separators=(",", ":"),
        )
        sampled = {
            "value": text,
            "context": context,
            "format": "SignedData",
            "measurand": ENERGY_REGISTER,
            "location": "Outlet",
            "unit": "Wh",
        }
        if value is None:
            return {"timestamp": timestamp, "sampledValue": [sampled]}
        value["sampledValue"].append(sampled)
        return value

    # ------------------------------------------------------------------ MeteringView

    def energy_wh(self, connector: int) -> int | None:
        return energy_register(self.ctx.connectors[connector])

    def transaction_started(self, connector: int, now: float) -> None:
        self._data.start(connector, self._transaction_sample(connector, BEGIN, now))
        self._in_transaction[connector] = True
        self._anchors[connector] = now
        self._schedule(now)

    def transaction_stopped(self, connector: int, now: float) -> list[JsonObject]:
        self._in_transaction[connector] = False
        self._anchors[connector] = None
        self._schedule(now)
        end = self._transaction_sample(connector, END, now)
        self._signing.transaction_ended(connector)
        return self._data.finish(connector, end)

    # ------------------------------------------------------------------ TriggerMessage

    @trigger("MeterValues")
    def send_triggered(self, connector_id: int | None, now: float) -> str:
        """TriggerMessage(MeterValues): current MeterValuesSampledData values (§5.17)."""
        ctx = self.ctx
        connectors = ctx.connectors
        if connector_id is None:
            targets: range | tuple[int, ...] = range(len(connectors))
        elif 0 <= connector_id < len(connectors):
            targets = (connector_id,)
        else:
            return "Rejected"
        sessions = self.sessions
        items = items_of(ctx.config.string("MeterValuesSampledData"))
        timestamp = ctx.clock.timestamp(now)
        accepted = "Rejected"
        for connector in targets:
            samples = Sampler(timestamp).samples(connectors[connector], items, TRIGGER)
            sampled = meter_value(timestamp, samples)
            if sampled is None:
                continue
            payload: JsonObject = {"connectorId": connector}
            info = sessions.current(connector) if connector else None
            if info is not None and info.state == RUNNING and info.transaction_id is not None:
                payload["transactionId"] = info.transaction_id
            payload["meterValue"] = [sampled]
            ctx.triggered.push(Request("MeterValues", payload), now)
            self._tell(connector, samples)
            accepted = "Accepted"
        return accepted
