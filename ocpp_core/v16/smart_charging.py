"""Smart Charging (OCPP 1.6 §3.13, §5.5, §5.7, §5.16, §9.4 and the errata): charging profiles.

SetChargingProfile, in this order: a connectorId outside 0..N, a profile that breaks its data
types (see ``smart_charging.parse_v16``), a ChargePointMaxProfile off connector 0 or a TxProfile
on it are PropertyConstraintViolation (errata 3.38/3.39, §3.13.1). What the station cannot take is
Rejected: a unit ChargingScheduleAllowedChargingRateUnit does not list, a stackLevel above
ChargeProfileMaxStackLevel, more periods than ChargingScheduleMaxPeriods, a Relative
ChargePointMaxProfile (there is no transaction to be relative to), a TxProfile without a running
transaction on its connector or with another transactionId (§3.13.1), and more than
MaxChargingProfilesInstalled profiles. A profile with the same id, or the same purpose, stack level
and connector, is replaced (§3.13.2, §5.16.3). A TxProfile set without transactionId is bound to
the running transaction. ClearChargingProfile follows errata 3.25/3.26 (id alone, else the AND of
the given fields; Unknown when nothing matched). GetCompositeSchedule: a negative duration (or one
above MAX_SECONDS) is a PropertyConstraintViolation, an unknown connector Rejected (§5.7); see
``ProfileSet.composite``;
the schedule has no startSchedule (errata 3.57), periods count from ``scheduleStart``, the moment
the request arrived rounded down to the second; the limit in force at that moment counts from
offset 0 (a TxProfile installed earlier in the same second included), later changes from the
next whole second. Limits are multiples of 0.1 that float-based validators accept too
(``smart_charging.json_tenth``: at most 0.2 below the limit in force, never above).

Profiles persist in the Store document ``charging_profiles`` (errata 3.37), as received, so they
parse again after a reboot; a corrupt document or entry is logged and left out.

A running transaction whose limit is 0 (§7.7: the EVSE offers no energy "due to a smart
charging restriction") is SuspendedEVSE: the status block asks ``offers_energy``; a higher limit
returns it to Charging.

Output: whenever a connector's effective limit changes, ``ConnectorIO.charging_limit`` receives the
current per phase in A (a W limit converted with the nominal voltage and the phases in use), or
None when no profile limits it; connector 0 receives the ChargePointMaxProfile limit. The limit is
recomputed only when a profile, a transaction or the supply changed, or at the precomputed time of
its next change: the idle poll reads the clock and compares (nothing at all without profiles). A
clock the CSMS sets back is noticed too. Phase switching is not offered
(ConnectorSwitch3to1PhaseSupported is not declared): numberPhases only converts units.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ocpp_core.block import Block, CallRefused, on
from ocpp_core.clock import format_datetime
from ocpp_core.config import KeyDeclarer, R
from ocpp_core.log import logger
from ocpp_core.sessions import NO_SESSIONS, SmartChargingView
from ocpp_core.smart_charging import (
    AMPS,
    CHARGE_POINT_MAX,
    MAX_SECONDS,
    RELATIVE,
    TX,
    WATTS,
    Composite,
    Limit,
    Profile,
    ProfileSet,
    Supply,
    floor_tenth,
    parse_v16,
)
from ocpp_core.store import write

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.sessions import SessionView
    from ocpp_core.v16.payloads import (
        ChargingScheduleChargingRateUnit,
        ChargingSchedulePeriod,
        ClearChargingProfileRequest,
        ClearChargingProfileResponse,
        GetCompositeScheduleRequest,
        GetCompositeScheduleResponse,
        SetChargingProfileRequest,
        SetChargingProfileResponse,
    )

__all__ = ["DOCUMENT", "SmartChargingBlock"]

# The composite's unit as the frame's enumeration (a lookup the type checker follows).
_RATE_UNITS: dict[str, ChargingScheduleChargingRateUnit] = {AMPS: "A", WATTS: "W"}


DOCUMENT = "charging_profiles"

_UNITS = {"Current": AMPS, "Power": WATTS}
_NEVER = math.inf

_keys = KeyDeclarer(__name__)
_keys.integer("ChargeProfileMaxStackLevel", 8, access=R)
_keys.csl(
    "ChargingScheduleAllowedChargingRateUnit",
    "Current,Power",
    access=R,
    members=frozenset(_UNITS),
)
_keys.integer("ChargingScheduleMaxPeriods", 24, access=R, minimum=1)
_keys.integer("MaxChargingProfilesInstalled", 10, access=R, minimum=1)


class SmartChargingBlock(Block, SmartChargingView):
    """Installed charging profiles, the limits they impose and the output that applies them."""

    __slots__ = (
        "_active",
        "_checked",
        "_due",
        "_limits",
        "_profiles",
        "_raw",
        "_started",
        "_supply",
        "sessions",
    )

    keys = tuple(_keys.keys)

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        self._supply = Supply()
        self._raw: dict[int, JsonObject] = {}  # profile id -> the profile's JSON, as persisted
        self._profiles = ProfileSet(self._load())
        self._started: dict[int, tuple[int | None, float]] = {}  # connector -> (tx id, wall start)
        self._limits: list[Limit | None] = [None] * len(self.ctx.connectors)
        self._checked = -_NEVER  # wall time of the last evaluation
        self._due = _NEVER  # wall time of the next possible change (-inf: evaluate now)
        self._active = False  # False: no profile and no limit, so the idle poll skips the clock
        self._invalidate()
        self.sessions: SessionView = NO_SESSIONS  # set by the wiring: the transaction block

    # ------------------------------------------------------------------ CSMS requests

    @on("SetChargingProfile")
    def set_charging_profile(
        self, payload: SetChargingProfileRequest, now: float
    ) -> SetChargingProfileResponse:
        connector = self._connector(payload["connectorId"])
        data: JsonObject = dict(payload["csChargingProfiles"])  # kept as received
        try:
            profile = parse_v16(data, connector)
        except ValueError as exc:
            raise CallRefused(f"csChargingProfiles: {exc}", kind="property") from None
        if profile.purpose == CHARGE_POINT_MAX and connector != 0:
            raise CallRefused("a ChargePointMaxProfile is set on connector 0", kind="property")
        if profile.purpose == TX and connector == 0:
            raise CallRefused("a TxProfile is set on a connector > 0", kind="property")
        if profile.purpose == TX:
            running, transaction_id = self._transaction(connector)
            if not running:
                return self._rejected(profile, "no transaction runs on the connector")
            if profile.transaction_id is None:
                profile = profile._replace(transaction_id=transaction_id)
                if transaction_id is not None:
                    data = {**data, "transactionId": transaction_id}
            elif profile.transaction_id != transaction_id:
                return self._rejected(profile, "the transactionId is not the running one")
        problem = self._install(profile, data)
        return {"status": "Accepted"} if problem is None else self._rejected(profile, problem)

    @on("ClearChargingProfile")
    def clear_charging_profile(
        self, payload: ClearChargingProfileRequest, now: float
    ) -> ClearChargingProfileResponse:
        profile_id = payload.get("id")
        if profile_id is not None:  # errata 3.26: with an id "all other fields are ignored"

            def matches(p: Profile) -> bool:
                return p.id == profile_id

        else:
            connector = payload.get("connectorId")
            purpose = payload.get("chargingProfilePurpose")
            stack_level = payload.get("stackLevel")

            def matches(p: Profile) -> bool:
                return (
                    (connector is None or p.connector == connector)
                    and (purpose is None or p.purpose == purpose)
                    and (stack_level is None or p.stack_level == stack_level)
                )

        if not self._remove(matches, refusable=True):
            return {"status": "Unknown"}
        return {"status": "Accepted"}

    @on("GetCompositeSchedule")
    def get_composite_schedule(
        self, payload: GetCompositeScheduleRequest, now: float
    ) -> GetCompositeScheduleResponse:
        duration = payload["duration"]
        if duration < 0:
            raise CallRefused("duration is negative", kind="property")
        if duration > MAX_SECONDS:
            raise CallRefused(f"duration is above {MAX_SECONDS} s", kind="property")
        connector = payload["connectorId"]
        if not 0 <= connector < len(self.ctx.connectors):
            return {"status": "Rejected"}  # §5.7: "for instance if the connectorId is unknown"
        return self.composite_payload(connector, duration, payload.get("chargingRateUnit"), now)

    def composite_payload(
        self, connector: int, duration: int, unit: str | None, now: float
    ) -> GetCompositeScheduleResponse:
        """GetCompositeSchedule.conf for ``connector`` (also what the station shows).

        Without a unit, the only allowed one, else the unit the profiles use.
        """
        if unit is None:
            allowed = self._allowed_units()
            if len(allowed) == 1:
                unit = allowed[0]
        composite = self.composite_schedule(connector, duration, unit, now)
        periods: list[ChargingSchedulePeriod] = []
        for period in composite.periods:
            entry: ChargingSchedulePeriod = {"startPeriod": period.start, "limit": period.limit}
            if period.phases is not None:  # always set in a composite
                entry["numberPhases"] = period.phases
            periods.append(entry)
        return {
            "status": "Accepted",
            "connectorId": connector,
            "scheduleStart": format_datetime(composite.start),
            "chargingSchedule": {
                "duration": composite.duration,
                "chargingRateUnit": _RATE_UNITS[composite.unit],
                "chargingSchedulePeriod": periods,
            },
        }

    # ------------------------------------------------------------------ SmartChargingView

    def install_remote_start_profile(self, connector: int, profile: JsonObject, now: float) -> bool:
        if not 1 <= connector < len(self.ctx.connectors):
            logger().info("RemoteStartTransaction profile refused: no connector %s", connector)
            return False
        try:
            parsed = parse_v16(profile, connector)
        except ValueError as exc:
            logger().info("RemoteStartTransaction profile refused: %s", exc)
            return False
        if parsed.purpose != TX or parsed.transaction_id is not None:
            # §5.16.2 / errata 3.41: a TxProfile, and "the transactionId SHALL NOT be set".
            logger().info("RemoteStartTransaction profile refused: not a TxProfile without id")
            return False
        if self._transaction(connector)[0]:
            logger().info("RemoteStartTransaction profile refused: connector %s busy", connector)
            return False
        # No transaction runs on the connector, so any TxProfile there is a leftover.
        self._remove(lambda p: p.purpose == TX and p.connector == connector)
        problem = self._install(parsed, profile)
        if problem is not None:
            logger().info("RemoteStartTransaction profile %s refused: %s", parsed.id, problem)
        return problem is None

    def transaction_started(self, connector: int, transaction_id: int | None, now: float) -> None:
        previous = self._started.get(connector)
        if previous is not None and previous[0] in (None, transaction_id):
            start = previous[1]  # the CSMS assigned the id later: the same transaction
        else:
            start = self.ctx.clock.wall(now)
        self._started[connector] = (transaction_id, start)
        if transaction_id is not None:
            self._bind(connector, transaction_id)
        self._invalidate()

    def transaction_stopped(self, connector: int, now: float) -> None:
        self._started.pop(connector, None)
        # §3.13.1 / §7.10: a TxProfile "SHALL cease to be valid when the transaction terminates".
        self._remove(lambda p: p.purpose == TX and p.connector == connector)
        self._invalidate()

    def limit(self, connector: int, now: float) -> tuple[float, str] | None:
        limit = self._limit_at(connector, self.ctx.clock.wall(now))[0]
        return None if limit is None else (floor_tenth(limit.value), limit.unit)

    def offers_energy(self, connector: int, now: float) -> bool:
        """False while the connector's limit is 0: a 0 A / 0 W period, or one below the
        prevailing profile's minChargingRate (see ``smart_charging``). The status block asks
        while it derives, which may come before this block's tick in the poll: the tick is run
        here first (it does nothing when nothing is due), so a limit and the SuspendedEVSE it
        causes come in the same poll."""
        if not self._active:
            return True  # no profile and no limit
        self.tick(now)
        limit = self._limits[connector]
        return limit is None or limit.amps > 0

    def installed(self) -> list[tuple[int, JsonObject]]:
        """Every installed profile as ``(connectorId, csChargingProfiles)``, as received."""
        return [(p.connector, self._raw[p.id]) for p in self._profiles.profiles]

    def composite_schedule(
        self, connector: int, duration: int, unit: str | None, now: float
    ) -> Composite:
        at = self.ctx.clock.wall(now)
        supply = self._supply
        if connector == 0:
            ceiling = supply.max_current * (len(self.ctx.connectors) - 1)
            return self._profiles.composite(0, at, duration, unit, supply, ceiling=ceiling)
        return self._profiles.composite(
            connector,
            at,
            duration,
            unit,
            supply,
            tx_start=self._tx_start(connector),
            share=self._share(connector),
        )

    def set_supply(self, voltage_v: float, phases: int, max_current_a: float) -> None:
        if not (voltage_v > 0 and phases in (1, 2, 3) and max_current_a >= 0):
            raise ValueError("the supply needs a voltage > 0, 1 to 3 phases and a current >= 0")
        self._supply = Supply(float(voltage_v), phases, float(max_current_a))
        self._invalidate()

    # ------------------------------------------------------------------ driving the output

    def tick(self, now: float) -> None:
        if not self._active:
            return
        wall = self.ctx.clock.wall(now)
        if self._checked <= wall < self._due:
            return
        due = _NEVER
        for connector, io in enumerate(self.ctx.connectors):
            limit, until = self._limit_at(connector, wall)
            due = min(due, until)
            previous = self._limits[connector]
            if limit == previous:
                continue
            self._limits[connector] = limit
            amps = None if limit is None else limit.amps
            if amps != (None if previous is None else previous.amps):
                _apply(io.charging_limit, amps, connector)
        self._checked, self._due = wall, due
        self._active = len(self._profiles) > 0

    def timer(self, now: float) -> float | None:
        due = self._due
        if not self._active or due == _NEVER:
            return None
        wall = self.ctx.clock.wall(now)
        return now if wall < self._checked else now + max(0.0, due - wall)

    # ------------------------------------------------------------------ internals

    def _invalidate(self) -> None:
        """Evaluate at the next poll, unless no profile limits anything, now or before."""
        if len(self._profiles) or any(limit is not None for limit in self._limits):
            self._active = True
            self._due = -_NEVER

    def _limit_at(self, connector: int, wall: float) -> tuple[Limit | None, float]:
        if connector == 0:
            return self._profiles.limit(0, wall, self._supply)
        return self._profiles.limit(
            connector,
            wall,
            self._supply,
            tx_start=self._tx_start(connector),
            share=self._share(connector),
        )

    def _tx_start(self, connector: int) -> float | None:
        started = self._started.get(connector)
        return None if started is None else started[1]

    def _share(self, connector: int) -> int:
        """Connectors sharing the ChargePointMaxProfile: those charging, plus this one."""
        started = self._started
        return len(started) + (connector not in started)

    def _transaction(self, connector: int) -> tuple[bool, int | None]:
        """Whether a transaction runs on the connector, and its id (None: not known yet)."""
        info = self.sessions.current(connector)
        if info is not None:
            transaction_id = info.transaction_id
            # A 1.6 transactionId is the CSMS's integer (a 2.0.1 string id never reaches here).
            known = transaction_id if isinstance(transaction_id, int) else None
            return getattr(info, "state", "running") == "running", known
        started = self._started.get(connector)
        return (False, None) if started is None else (True, started[0])

    def _connector(self, value: int) -> int:
        if not 0 <= value < len(self.ctx.connectors):
            raise CallRefused(f"connectorId {value} is not a connector", kind="property")
        return value

    def _allowed_units(self) -> list[str]:
        text = self.ctx.config.string("ChargingScheduleAllowedChargingRateUnit")
        return [_UNITS[name] for name in text.split(",") if name]

    def _rejected(self, profile: Profile, reason: str) -> SetChargingProfileResponse:
        logger().info("SetChargingProfile %s rejected: %s", profile.id, reason)
        return {"status": "Rejected"}

    def _install(self, profile: Profile, data: JsonObject) -> str | None:
        """Add (or replace with) ``profile``; the reason it cannot be taken, or None."""
        config = self.ctx.config
        if profile.unit not in self._allowed_units():
            return f"unit {profile.unit} is not allowed"
        if profile.stack_level > config.integer("ChargeProfileMaxStackLevel"):
            return "stackLevel above ChargeProfileMaxStackLevel"
        if len(profile.periods) > config.integer("ChargingScheduleMaxPeriods"):
            return "more periods than ChargingScheduleMaxPeriods"
        if profile.purpose == CHARGE_POINT_MAX and profile.kind == RELATIVE:
            return "a ChargePointMaxProfile cannot be Relative"
        slot = (profile.purpose, profile.stack_level, profile.connector)
        kept = [
            p
            for p in self._profiles.profiles
            if p.id != profile.id and (p.purpose, p.stack_level, p.connector) != slot
        ]
        if len(kept) >= config.integer("MaxChargingProfilesInstalled"):
            return "MaxChargingProfilesInstalled reached"
        raw = {p.id: self._raw[p.id] for p in kept}
        raw[profile.id] = data
        self._commit([*kept, profile], raw, refusable=True)
        return None

    def _bind(self, connector: int, transaction_id: int) -> None:
        """Tie the connector's TxProfiles to its transaction; drop those of an earlier one (a
        transaction that did not resume after a reboot), so they never apply to this one."""
        profiles, raw = [], {}
        for p in self._profiles.profiles:
            data = self._raw[p.id]
            if p.purpose == TX and p.connector == connector:
                if p.transaction_id not in (None, transaction_id):
                    continue
                if p.transaction_id is None:
                    p = p._replace(transaction_id=transaction_id)
                    data = {**data, "transactionId": transaction_id}
            profiles.append(p)
            raw[p.id] = data
        if profiles != list(self._profiles.profiles):
            self._commit(profiles, raw)

    def _remove(self, matches: Callable[[Profile], bool], *, refusable: bool = False) -> bool:
        """Remove the profiles that match; whether there were any."""
        kept = [p for p in self._profiles.profiles if not matches(p)]
        if len(kept) == len(self._profiles):
            return False
        self._commit(kept, {p.id: self._raw[p.id] for p in kept}, refusable=refusable)
        return True

    def _commit(
        self, profiles: list[Profile], raw: dict[int, JsonObject], *, refusable: bool = False
    ) -> None:
        """Persist first, so a failing Store leaves the installed profiles as they were. A
        ``refusable`` change (a CSMS's CALL) is refused if the Store cannot take it now; the
        station's own (a transaction began or ended) is kept by the Store for later if need be.
        """
        document = [{"connectorId": p.connector, "csChargingProfiles": raw[p.id]} for p in profiles]
        write(self.ctx.store, DOCUMENT, document or None, refusable=refusable)
        self._profiles = ProfileSet(profiles)
        self._raw = raw
        self._invalidate()

    def _load(self) -> list[Profile]:
        stored = self.ctx.store.load(DOCUMENT)
        if stored is None:
            return []
        if not isinstance(stored, list):
            logger().warning("stored charging profiles are not a list; none installed")
            return []
        profiles = []
        count = len(self.ctx.connectors)
        for entry in stored:
            try:
                connector = entry["connectorId"]
                if type(connector) is not int or not 0 <= connector < count:
                    raise ValueError("no such connector")
                profile = parse_v16(entry["csChargingProfiles"], connector)
                if profile.id in self._raw:
                    raise ValueError(f"profile {profile.id} stored twice")
            except (ValueError, KeyError, TypeError) as exc:
                logger().warning("a stored charging profile is unusable (%s); left out", exc)
                continue
            profiles.append(profile)
            self._raw[profile.id] = entry["csChargingProfiles"]
        return profiles


def _apply(output: Callable[[float | None], None] | None, amps: float | None, at: int) -> None:
    """Call a connector's charging-limit output; a raising station callback is only logged."""
    if output is None:
        return
    try:
        output(amps)
    except Exception:
        logger().exception("charging_limit output of connector %s failed", at)
