"""Smart Charging (OCPP 2.0.1 K01-K10, K15-K17 as far as a simulated AC station goes).

SetChargingProfile (K01) installs a ChargingStationMaxProfile (evseId 0 only), a TxDefaultProfile
(evseId 0: every EVSE; n: that EVSE, which overrules 0's at the same level) or a TxProfile (an EVSE
with a running transaction; bound to its transactionId). Rejected, with a statusInfo reasonCode:
an unknown EVSE (UnknownEvse); a profile the station cannot use (InvalidProfile /
InvalidSchedule: see ``smart_charging.parse_v201`` — ChargingStationExternalConstraints, more than
one schedule, phaseToUse, a first startPeriod other than 0 (K01.FR.31), periods not ascending,
validFrom not before validTo); a ChargingStationMaxProfile off EVSE 0 or Relative (K01.FR.38); a
TxProfile on EVSE 0, without a transaction or naming another one (TxNotFound); a rate unit
SmartChargingCtrlr.RateUnit does not list, a stackLevel above ProfileStackLevel, more periods
than PeriodsPerSchedule, more profiles than Entries' maxLimit; a second profile of the same
purpose, stack level and EVSE whose validity overlaps (DuplicateProfile); SmartChargingCtrlr.Enabled
false (NotEnabled). A profile with the same id replaces the old one.

GetChargingProfiles (K09): the criteria (evseId, purpose, stackLevel, chargingProfileId list,
chargingLimitSource list — every profile here came from the CSMS, source "CSO") are ANDed; none
matching: NoProfiles; else Accepted and the profiles follow in ReportChargingProfiles pages, one
EVSE per page, at most ``REPORT_PAGE_PROFILES`` each, ``tbc`` on all but the last.
ClearChargingProfile (K10): by chargingProfileId alone, else by the AND of the criteria given,
none: all; Unknown when nothing matched. GetCompositeSchedule (K08): EVSE 0 is the station's
total, n the EVSE; periods merged in A or W (``smart_charging.ProfileSet.composite``).

Transactions (K01, F01.FR.12): the block follows each EVSE's transaction through the session view
in its tick: a new transaction gets the chargingProfile its RequestStartTransaction carried as
its TxProfile, Relative schedules count from its start, and its TxProfiles end with it.
Profiles persist in the ``charging_profiles`` document (``profile_keeper``), as received plus the
transactionId a TxProfile was bound to, so they survive a restart with their transaction.
The limit goes to ``ConnectorIO.charging_limit`` exactly as in 1.6 (``profile_keeper``).

External limits (K11-K14: ``set_external_limit``, the simulated station's local energy manager, per
EVSE or on 0 for the station) cap the limit and GetCompositeSchedule. Setting one sends
NotifyChargingLimit (chargingLimitSource EMS, isGridCritical, the limit as a chargingSchedule
when SmartChargingCtrlr.NotifyChargingLimitWithSchedules is true; K12) unless it moved by less
than LimitChangeSignificance percent; releasing one sends ClearedChargingLimit (K13). With
ExternalControlSignalsEnabled false a limit is ignored and those in force are released. Each
change of an EVSE's output goes to the transaction block (``limits``): a 0 limit suspends the
transaction (SuspendedEVSE), and an external limit moving a running transaction's rate by at
least LimitChangeSignificance is reported as ChargingRateChanged (K11.FR.04, K13.FR.03).
GetChargingProfiles and ClearChargingProfile never see or touch an external limit: it is no
charging profile the CSMS set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Protocol

from ocpp_core.block import on
from ocpp_core.clock import format_datetime, parse_datetime
from ocpp_core.log import logger
from ocpp_core.outbox import Request
from ocpp_core.profile_keeper import ProfileKeeper
from ocpp_core.sessions import NO_SESSIONS, RUNNING, SessionView
from ocpp_core.smart_charging import (
    CHARGE_POINT_MAX,
    MAX_SECONDS,
    RELATIVE,
    TX,
    Profile,
    json_tenth,
    parse_v201,
)
from ocpp_core.v201.components import (
    PERIODS_PER_SCHEDULE,
    PROFILES_INSTALLED_MAX,
    STACK_LEVEL_MAX,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject
    from ocpp_core.v201.payloads import (
        ChargingProfileType,
        ChargingRateUnitEnumType,
        ChargingSchedulePeriodType,
        ClearChargingProfileRequest,
        ClearChargingProfileResponse,
        ClearedChargingLimitRequest,
        GetChargingProfilesRequest,
        GetChargingProfilesResponse,
        GetCompositeScheduleRequest,
        GetCompositeScheduleResponse,
        NotifyChargingLimitRequest,
        ReportChargingProfilesRequest,
        SetChargingProfileRequest,
        SetChargingProfileResponse,
    )

__all__ = ["NO_LIMIT_LISTENER", "REPORT_PAGE_PROFILES", "LimitListener", "SmartChargingBlock"]

REPORT_PAGE_PROFILES = 8  # profiles per ReportChargingProfiles page
SOURCE: Final = "CSO"  # ChargingLimitSourceEnumType of what a CSMS sets
EXTERNAL_SOURCE: Final = "EMS"  # the source of the simulated local energy manager's limits
EXTERNAL_ENABLED = "SmartChargingCtrlr.ExternalControlSignalsEnabled"
WITH_SCHEDULES = "SmartChargingCtrlr.NotifyChargingLimitWithSchedules"
SIGNIFICANCE = "SmartChargingCtrlr.LimitChangeSignificance"
_RATE_UNITS: dict[str, ChargingRateUnitEnumType] = {"A": "A", "W": "W"}
_PURPOSES = {"ChargingStationMaxProfile": CHARGE_POINT_MAX}  # 2.0.1 name -> neutral purpose
_INTEGERS = frozenset({"id", "stackLevel", "startPeriod", "numberPhases", "phaseToUse", "duration"})


class LimitListener(Protocol):
    """Who hears of each change of an EVSE's limit: the transaction block."""

    def charging_limit_changed(
        self, evse: int, offered: bool, rate_changed: bool, now: float
    ) -> None: ...


class _NoListener:
    def charging_limit_changed(
        self, evse: int, offered: bool, rate_changed: bool, now: float
    ) -> None:
        return None


NO_LIMIT_LISTENER: LimitListener = _NoListener()


class SmartChargingBlock(ProfileKeeper):
    """2.0.1 charging profiles and the limits they impose."""

    __slots__ = ("_followed", "_moved", "_swept", "limits", "sessions")

    sends = ("NotifyChargingLimit", "ClearedChargingLimit")

    stored_fields = ("evseId", "chargingProfile")

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        self.sessions: SessionView = NO_SESSIONS  # late peer: the transaction block
        self._followed: dict[int, str] = {}  # EVSE -> the transactionId seen running there
        self._swept = False  # stored TxProfiles of transactions that did not resume: dropped
        self.limits: LimitListener = NO_LIMIT_LISTENER  # late peer: the transaction block
        self._moved: set[int] = set()  # EVSEs an external limit changed since the last tick

    def parse(self, data: object, connector: int) -> Profile:
        return parse_v201(data, connector)

    # ------------------------------------------------------------------ CSMS requests

    @on("SetChargingProfile")
    def set_charging_profile(
        self, payload: SetChargingProfileRequest, now: float
    ) -> SetChargingProfileResponse:
        evse = int(payload["evseId"])
        data: JsonObject = _whole(dict(payload["chargingProfile"]))
        if not self.ctx.config.boolean("SmartChargingCtrlr.Enabled"):
            return _rejected("NotEnabled", "SmartChargingCtrlr.Enabled is false")
        if not 0 <= evse < len(self.ctx.connectors):
            return _rejected("UnknownEvse", f"no EVSE {evse}")
        try:
            profile = parse_v201(data, evse)
        except ValueError as exc:
            return _rejected("InvalidProfile", str(exc))
        if profile.purpose == CHARGE_POINT_MAX and evse != 0:
            return _rejected("InvalidProfile", "a ChargingStationMaxProfile is for evseId 0")
        if profile.purpose == TX:
            if evse == 0:
                return _rejected("InvalidProfile", "a TxProfile is for an EVSE, not evseId 0")
            running = self._running(evse)
            if running is None or profile.transaction_id not in (None, running):
                return _rejected("TxNotFound", "no such transaction runs on the EVSE")
            if profile.transaction_id is None:
                profile = profile._replace(transaction_id=running)
                data = {**data, "transactionId": running}
        problem = self._install(profile, data)
        if problem is not None:
            return _rejected(*problem)
        return {"status": "Accepted"}

    @on("GetChargingProfiles")
    def get_charging_profiles(
        self, payload: GetChargingProfilesRequest, now: float
    ) -> GetChargingProfilesResponse:
        criteria = payload["chargingProfile"]
        evse = payload.get("evseId")
        ids = criteria.get("chargingProfileId")
        wanted_ids = None if ids is None else {int(i) for i in ids}
        purpose = criteria.get("chargingProfilePurpose")
        stack_level = criteria.get("stackLevel")
        sources = criteria.get("chargingLimitSource")

        def matches(p: Profile) -> bool:
            return (
                (evse is None or p.connector == int(evse))
                and (wanted_ids is None or p.id in wanted_ids)
                and (purpose is None or p.purpose == _PURPOSES.get(purpose, purpose))
                and (stack_level is None or p.stack_level == int(stack_level))
                and (sources is None or SOURCE in sources)
            )

        found = [p for p in self._profiles.profiles if matches(p)]
        if not found:
            return {"status": "NoProfiles"}
        pages: list[ReportChargingProfilesRequest] = []
        for where in sorted({p.connector for p in found}):
            mine = [p for p in found if p.connector == where]
            for first in range(0, len(mine), REPORT_PAGE_PROFILES):
                chunk = mine[first : first + REPORT_PAGE_PROFILES]
                profiles: list[ChargingProfileType] = [self._raw[p.id] for p in chunk]  # type: ignore[misc]
                pages.append(
                    {
                        "requestId": int(payload["requestId"]),
                        "chargingLimitSource": SOURCE,
                        "evseId": where,
                        "chargingProfile": profiles,
                        "tbc": True,
                    }
                )
        del pages[-1]["tbc"]  # the last page: tbc false, its default
        for page in pages:
            self.ctx.queue.push(Request("ReportChargingProfiles", page), now)
        return {"status": "Accepted"}

    @on("ClearChargingProfile")
    def clear_charging_profile(
        self, payload: ClearChargingProfileRequest, now: float
    ) -> ClearChargingProfileResponse:
        profile_id = payload.get("chargingProfileId")
        criteria = payload.get("chargingProfileCriteria") or {}
        matches: Callable[[Profile], bool]
        if profile_id is not None:  # an id alone decides, as in 1.6 (errata 3.26)
            wanted = int(profile_id)

            def matches(p: Profile) -> bool:
                return p.id == wanted

        else:
            evse = criteria.get("evseId")
            purpose = criteria.get("chargingProfilePurpose")
            stack_level = criteria.get("stackLevel")

            def matches(p: Profile) -> bool:
                return (
                    (evse is None or p.connector == int(evse))
                    and (purpose is None or p.purpose == _PURPOSES.get(purpose, purpose))
                    and (stack_level is None or p.stack_level == int(stack_level))
                )

        if not self._remove(matches, refusable=True):
            return {"status": "Unknown"}
        return {"status": "Accepted"}

    @on("GetCompositeSchedule")
    def get_composite_schedule(
        self, payload: GetCompositeScheduleRequest, now: float
    ) -> GetCompositeScheduleResponse:
        duration = int(payload["duration"])
        evse = int(payload["evseId"])
        unit = payload.get("chargingRateUnit")
        if not 0 <= evse < len(self.ctx.connectors):
            return {"status": "Rejected", "statusInfo": {"reasonCode": "UnknownEvse"}}
        if not 0 <= duration <= MAX_SECONDS:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidValue"}}
        if unit is not None and unit not in self._allowed_units():
            return {"status": "Rejected", "statusInfo": {"reasonCode": "UnsupportedRateUnit"}}
        return self.composite_payload(evse, duration, unit, now)

    def composite_payload(
        self, connector: int, duration: int, unit: str | None, now: float
    ) -> GetCompositeScheduleResponse:
        """GetCompositeScheduleResponse for EVSE ``connector`` (also what the station shows).

        Without a unit: the only allowed one, else the unit of the binding limit."""
        if unit is None:
            allowed = self._allowed_units()
            if len(allowed) == 1:
                unit = allowed[0]
        composite = self.composite_schedule(connector, duration, unit, now)
        periods: list[ChargingSchedulePeriodType] = []
        for period in composite.periods:
            entry: ChargingSchedulePeriodType = {"startPeriod": period.start, "limit": period.limit}
            if period.phases is not None:  # always set in a composite
                entry["numberPhases"] = period.phases
            periods.append(entry)
        return {
            "status": "Accepted",
            "schedule": {
                "evseId": connector,
                "duration": composite.duration,
                "scheduleStart": format_datetime(composite.start),
                "chargingRateUnit": _RATE_UNITS[composite.unit],
                "chargingSchedulePeriod": periods,
            },
        }

    # ------------------------------------------------------------------ external limits (K11-K14)

    def set_external_limit(
        self, connector: int, limit: float, unit: str, now: float, *, grid_critical: bool = False
    ) -> bool:
        """The local energy manager limits EVSE ``connector`` (0: the station) to ``limit`` A or
        W: applied and notified (K12); False, ignored, while ExternalControlSignalsEnabled is
        false (ValueError: see ``ProfileKeeper.set_external_limit``)."""
        if not self.ctx.config.boolean(EXTERNAL_ENABLED):
            self._check_connector(connector)
            logger().info("external charging limit ignored: %s is false", EXTERNAL_ENABLED)
            return False
        previous = self.external_limit(connector)
        super().set_external_limit(connector, limit, unit, now, grid_critical=grid_critical)
        if self._significant(previous, (float(limit), unit)):
            self._moved.update(
                range(1, len(self.ctx.connectors)) if connector == 0 else (connector,)
            )
            payload: NotifyChargingLimitRequest = {
                "chargingLimit": {
                    "chargingLimitSource": EXTERNAL_SOURCE,
                    "isGridCritical": grid_critical,
                }
            }
            if connector:
                payload["evseId"] = connector
            if self.ctx.config.boolean(WITH_SCHEDULES):
                payload["chargingSchedule"] = [
                    {
                        "id": connector,
                        "startSchedule": format_datetime(self.ctx.clock.wall(now)),
                        "chargingRateUnit": _RATE_UNITS[unit],
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": json_tenth(limit)}],
                    }
                ]
            self.ctx.queue.push(Request("NotifyChargingLimit", payload), now)
        return True

    def clear_external_limit(self, connector: int, now: float) -> bool:
        """The local energy manager releases its limit on ``connector``: ClearedChargingLimit
        (K13.FR.02); False when there was none."""
        if not super().clear_external_limit(connector, now):
            return False
        self._moved.update(range(1, len(self.ctx.connectors)) if connector == 0 else (connector,))
        payload: ClearedChargingLimitRequest = {"chargingLimitSource": EXTERNAL_SOURCE}
        if connector:
            payload["evseId"] = connector
        self.ctx.queue.push(Request("ClearedChargingLimit", payload), now)
        return True

    def limit_changed(
        self, connector: int, previous: float | None, amps: float | None, now: float
    ) -> None:
        if connector == 0:
            return
        moved = connector in self._moved and self._significant(
            None if previous is None else (previous, "A"), None if amps is None else (amps, "A")
        )
        self.limits.charging_limit_changed(connector, amps is None or amps > 0, moved, now)

    def _significant(
        self, previous: tuple[float, str] | None, limit: tuple[float, str] | None
    ) -> bool:
        """A change from ``previous`` to ``limit`` reaching LimitChangeSignificance percent."""
        if previous == limit:
            return False
        if previous is None or limit is None or previous[1] != limit[1] or previous[0] == 0:
            return True
        change = abs(limit[0] - previous[0]) / previous[0] * 100
        try:
            threshold = float(self.ctx.config.string(SIGNIFICANCE))
        except ValueError:
            threshold = 0.0
        return change >= threshold

    # ------------------------------------------------------------------ following transactions

    def tick(self, now: float) -> None:
        self._follow(now)
        if self._external and not self.ctx.config.boolean(EXTERNAL_ENABLED):
            for connector in sorted(self._external):  # switched off: released (K13)
                self.clear_external_limit(connector, now)
        super().tick(now)
        self._moved.clear()

    def _follow(self, now: float) -> None:
        """Notice transactions that started or ended on each EVSE since the last tick."""
        followed = self._followed
        if not self._swept:  # the first tick, after the transaction block's own
            self._swept = True
            self._remove(
                lambda p: p.purpose == TX and p.transaction_id != self._running(p.connector)
            )
        for evse in range(1, len(self.ctx.connectors)):
            info = self.sessions.current(evse)
            running = None
            if info is not None and info.state == RUNNING and isinstance(info.transaction_id, str):
                running = info.transaction_id
            if running == followed.get(evse):
                continue
            if followed.pop(evse, None) is not None:
                self.transaction_stopped(evse, now)
            if running is None or info is None:
                continue
            followed[evse] = running
            if info.charging_profile is not None and not self._has_tx_profile(evse, running):
                self._remote_start_profile(evse, running, info.charging_profile)
            self.transaction_started(evse, running, now, at=_wall(info.start))

    def _remote_start_profile(self, evse: int, transaction_id: str, data: JsonObject) -> None:
        """F01.FR.12 / K05: a RequestStartTransaction's chargingProfile becomes the TxProfile of
        the transaction it started (remote_control checked purpose and transactionId)."""
        data = {**_whole(dict(data)), "transactionId": transaction_id}
        try:
            profile = parse_v201(data, evse)
        except ValueError as exc:
            logger().info("RequestStartTransaction profile refused: %s", exc)
            return
        if profile.purpose != TX:
            logger().info("RequestStartTransaction profile refused: not a TxProfile")
            return
        problem = self._install(profile, data, refusable=False)
        if problem is not None:
            logger().info("RequestStartTransaction profile %s refused: %s", profile.id, problem[1])

    def _has_tx_profile(self, evse: int, transaction_id: str) -> bool:
        return any(
            p.purpose == TX and p.connector == evse and p.transaction_id == transaction_id
            for p in self._profiles.profiles
        )

    # ------------------------------------------------------------------ internals

    def _running(self, evse: int) -> str | None:
        """The transactionId running on the EVSE, if any."""
        info = self.sessions.current(evse)
        if info is None or info.state != RUNNING or not isinstance(info.transaction_id, str):
            return None
        return info.transaction_id

    def _allowed_units(self) -> list[str]:
        return [u for u in self.ctx.config.string("SmartChargingCtrlr.RateUnit").split(",") if u]

    def _install(
        self, profile: Profile, data: JsonObject, *, refusable: bool = True
    ) -> tuple[str, str] | None:
        """Add (or replace by id) ``profile``; (reasonCode, why) when it cannot be taken."""
        if profile.unit not in self._allowed_units():
            return "UnsupportedRateUnit", f"unit {profile.unit} is not in RateUnit"
        if profile.stack_level > STACK_LEVEL_MAX:
            return "InvalidStackLevel", f"stackLevel above {STACK_LEVEL_MAX}"
        if len(profile.periods) > PERIODS_PER_SCHEDULE:
            return "InvalidSchedule", f"more than {PERIODS_PER_SCHEDULE} periods"
        if profile.purpose == CHARGE_POINT_MAX and profile.kind == RELATIVE:
            return "InvalidProfile", "a ChargingStationMaxProfile cannot be Relative"
        kept = [p for p in self._profiles.profiles if p.id != profile.id]
        if any(_clash(p, profile) for p in kept):
            return "DuplicateProfile", "same purpose, stackLevel and EVSE with overlapping validity"
        if len(kept) >= PROFILES_INSTALLED_MAX:
            return "OutOfStorage", f"{PROFILES_INSTALLED_MAX} profiles installed"
        raw = {p.id: self._raw[p.id] for p in kept}
        raw[profile.id] = data
        self._commit([*kept, profile], raw, refusable=refusable)
        return None


def _clash(a: Profile, b: Profile) -> bool:
    """Two profiles that may not coexist: same purpose, level and EVSE (for TxProfiles: the same
    transaction) with overlapping validity periods."""
    if (a.purpose, a.stack_level, a.connector) != (b.purpose, b.stack_level, b.connector):
        return False
    if a.purpose == TX and a.transaction_id != b.transaction_id:
        return False
    a_from = -1.0 if a.valid_from is None else a.valid_from
    b_from = -1.0 if b.valid_from is None else b.valid_from
    a_to = float("inf") if a.valid_to is None else a.valid_to
    b_to = float("inf") if b.valid_to is None else b.valid_to
    return a_from < b_to and b_from < a_to


def _rejected(reason: str, detail: str) -> SetChargingProfileResponse:
    logger().info("SetChargingProfile rejected: %s", detail)
    return {"status": "Rejected", "statusInfo": {"reasonCode": reason, "additionalInfo": detail}}


def _whole(value: JsonObject) -> JsonObject:
    """The profile with its integer fields as ints: the draft-06 schemas let 1.0 through."""
    result: JsonObject = {}
    for key, item in value.items():
        if isinstance(item, float) and key in _INTEGERS and item.is_integer():
            item = int(item)
        elif isinstance(item, dict):
            item = _whole(item)
        elif isinstance(item, list):
            item = [_whole(x) if isinstance(x, dict) else x for x in item]
        result[key] = item
    return result


def _wall(timestamp: str | None) -> float | None:
    """A transaction's start as wall time (None: unknown or unreadable)."""
    if timestamp is None:
        return None
    try:
        return parse_datetime(timestamp)
    except ValueError:
        return None
