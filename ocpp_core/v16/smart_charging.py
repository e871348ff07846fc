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

Profiles persist (errata 3.37) and drive ``ConnectorIO.charging_limit`` (connector 0: the
ChargePointMaxProfile limit) as ``ocpp_core.profile_keeper`` says.

A running transaction whose limit is 0 (§7.7: the EVSE offers no energy "due to a smart
charging restriction") is SuspendedEVSE: the status block asks ``offers_energy``; a higher limit
returns it to Charging.

Phase switching is not offered
(ConnectorSwitch3to1PhaseSupported is not declared): numberPhases only converts units.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_core.block import CallRefused, on
from ocpp_core.clock import format_datetime
from ocpp_core.config import KeyDeclarer, R
from ocpp_core.log import logger
from ocpp_core.profile_keeper import DOCUMENT, ProfileKeeper
from ocpp_core.sessions import NO_SESSIONS, SmartChargingView
from ocpp_core.smart_charging import (
    AMPS,
    CHARGE_POINT_MAX,
    MAX_SECONDS,
    RELATIVE,
    TX,
    WATTS,
    Profile,
    parse_v16,
)

if TYPE_CHECKING:
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

_UNITS = {"Current": AMPS, "Power": WATTS}

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


class SmartChargingBlock(ProfileKeeper, SmartChargingView):
    """1.6 charging profiles: SetChargingProfile, ClearChargingProfile, GetCompositeSchedule."""

    __slots__ = ("sessions",)

    keys = tuple(_keys.keys)
    stored_fields = ("connectorId", "csChargingProfiles")

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        self.sessions: SessionView = NO_SESSIONS  # set by the wiring: the transaction block

    def parse(self, data: object, connector: int) -> Profile:
        return parse_v16(data, connector)

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

    # ------------------------------------------------------------------ internals

    def _transaction(self, connector: int) -> tuple[bool, int | str | None]:
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
