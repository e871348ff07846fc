"""Installed charging profiles: kept, persisted, bound to transactions and turned into the limit
each connector's output receives. What both versions' smart-charging blocks share.

A version's block subclasses ``ProfileKeeper``: it answers its own messages, says how a stored
profile parses (``parse``) and under which field names it is stored (``stored_fields``), and
reports transactions (``transaction_started`` / ``transaction_stopped``). The rest is here.

Profiles persist in the Store document ``charging_profiles`` as received, so they parse again
after a reboot; a corrupt document or entry is logged and left out.

Output: whenever a connector's effective limit changes, ``ConnectorIO.charging_limit`` receives the
current per phase in A (a W limit converted with the nominal voltage and the phases in use), or
None when no profile limits it; connector 0 receives the station-wide maximum profile's limit. The
limit is recomputed only when a profile, a transaction or the supply changed, or at the
precomputed time of its next change: the idle poll reads the clock and compares (nothing at all
without profiles). A clock the CSMS sets back is noticed too.

External limits (``set_external_limit``: a local energy manager's, per connector or, on 0, for the
station, in A or W) cap the limit and the composite schedule as a ChargePointMaxProfile would;
they persist in the ``external_charging_limits`` document. ``limit_changed`` tells a subclass
each change of a connector's output (2.0.1: ChargingRateChanged, SuspendedEVSE).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from ocpp_core.block import Block
from ocpp_core.log import logger
from ocpp_core.smart_charging import (
    AMPS,
    MAX_RATE,
    TX,
    WATTS,
    Composite,
    External,
    Limit,
    Profile,
    ProfileSet,
    Supply,
    floor_tenth,
)
from ocpp_core.store import write

if TYPE_CHECKING:
    from collections.abc import Callable

    from ocpp_core.context import BlockContext
    from ocpp_core.rpc import JsonObject

__all__ = ["DOCUMENT", "EXTERNAL_DOCUMENT", "ProfileKeeper"]

DOCUMENT = "charging_profiles"
EXTERNAL_DOCUMENT = "external_charging_limits"
_NEVER = math.inf


class ProfileKeeper(Block):
    """Installed charging profiles, the limits they impose and the output that applies them."""

    __slots__ = (
        "_active",
        "_checked",
        "_due",
        "_external",
        "_limits",
        "_profiles",
        "_raw",
        "_started",
        "_supply",
    )

    # (where, profile): the field names of a stored entry, as the version's request names them.
    stored_fields: ClassVar[tuple[str, str]]

    def __init__(self, ctx: BlockContext) -> None:
        super().__init__(ctx)
        self._supply = Supply()
        self._raw: dict[int, JsonObject] = {}  # profile id -> the profile's JSON, as persisted
        self._profiles = ProfileSet(self._load())
        self._external: dict[int, tuple[float, str]] = self._load_external()  # connector -> limit
        # connector -> (transaction id, wall start)
        self._started: dict[int, tuple[int | str | None, float]] = {}
        self._limits: list[Limit | None] = [None] * len(self.ctx.connectors)
        self._checked = -_NEVER  # wall time of the last evaluation
        self._due = _NEVER  # wall time of the next possible change (-inf: evaluate now)
        self._active = False  # False: no profile and no limit, so the idle poll skips the clock
        self._invalidate()

    def parse(self, data: object, connector: int) -> Profile:
        """The version's profile JSON as a Profile (ValueError: unusable)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ what the station asks

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

    def external_limit(self, connector: int) -> tuple[float, str] | None:
        """The external limit set on ``connector`` (0: the station) as (limit, unit), if any."""
        return self._external.get(connector)

    def set_external_limit(
        self, connector: int, limit: float, unit: str, now: float, *, grid_critical: bool = False
    ) -> bool:
        """A local energy manager limits ``connector`` (0: the whole station) to ``limit`` A or
        W, until cleared (ValueError: no such connector, unit or limit). True: applied.
        ``grid_critical`` is for the version's notification (2.0.1 isGridCritical)."""
        self._check_connector(connector)
        if unit not in (AMPS, WATTS):
            raise ValueError(f"unit must be 'A' or 'W', got {unit!r}")
        if isinstance(limit, bool) or not isinstance(limit, (int, float)):
            raise ValueError(f"limit must be a number, got {limit!r}")
        if not 0 <= limit <= MAX_RATE:
            raise ValueError(f"limit must be between 0 and {MAX_RATE:g}, got {limit!r}")
        self._external[connector] = (float(limit), unit)
        self._save_external()
        return True

    def clear_external_limit(self, connector: int, now: float) -> bool:
        """The local energy manager releases its limit on ``connector``; whether there was one."""
        self._check_connector(connector)
        if self._external.pop(connector, None) is None:
            return False
        self._save_external()
        return True

    def limit_changed(
        self, connector: int, previous: float | None, amps: float | None, now: float
    ) -> None:
        """The output of ``connector`` changed from ``previous`` to ``amps`` A per phase (None:
        unlimited). For the version's block; nothing by default."""

    def installed(self) -> list[tuple[int, JsonObject]]:
        """Every installed profile as ``(connector, profile)``, as received."""
        return [(p.connector, self._raw[p.id]) for p in self._profiles.profiles]

    def composite_schedule(
        self, connector: int, duration: int, unit: str | None, now: float
    ) -> Composite:
        at = self.ctx.clock.wall(now)
        supply = self._supply
        if connector == 0:
            ceiling = supply.max_current * (len(self.ctx.connectors) - 1)
            return self._profiles.composite(
                0, at, duration, unit, supply, ceiling=ceiling, external=self._externals(0, 1)
            )
        share = self._share(connector)
        return self._profiles.composite(
            connector,
            at,
            duration,
            unit,
            supply,
            tx_start=self._tx_start(connector),
            share=share,
            external=self._externals(connector, share),
        )

    @property
    def supply(self) -> Supply:
        """The station's nominal voltage, phases and maximum current per connector."""
        return self._supply

    def set_supply(self, voltage_v: float, phases: int, max_current_a: float) -> None:
        if not (voltage_v > 0 and phases in (1, 2, 3) and max_current_a >= 0):
            raise ValueError("the supply needs a voltage > 0, 1 to 3 phases and a current >= 0")
        self._supply = Supply(float(voltage_v), phases, float(max_current_a))
        self._invalidate()

    # ------------------------------------------------------------------ transactions

    def transaction_started(
        self, connector: int, transaction_id: int | str | None, now: float, at: float | None = None
    ) -> None:
        """A transaction runs on ``connector`` (again, once the CSMS assigned its id); ``at``:
        its wall start if known (a transaction resumed after a restart), else now."""
        previous = self._started.get(connector)
        if previous is not None and previous[0] in (None, transaction_id):
            start = previous[1]  # the CSMS assigned the id later: the same transaction
        else:
            start = self.ctx.clock.wall(now) if at is None else at
        self._started[connector] = (transaction_id, start)
        if transaction_id is not None:
            self._bind(connector, transaction_id)
        self._invalidate()

    def transaction_stopped(self, connector: int, now: float) -> None:
        self._started.pop(connector, None)
        # A TxProfile ceases to be valid when its transaction ends (1.6 §3.13.1, 2.0.1 K01).
        self._remove(lambda p: p.purpose == TX and p.connector == connector)
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
            before = None if previous is None else previous.amps
            if amps != before:
                _apply(io.charging_limit, amps, connector)
                self.limit_changed(connector, before, amps, now)
        self._checked, self._due = wall, due
        self._active = len(self._profiles) > 0 or bool(self._external)

    def timer(self, now: float) -> float | None:
        due = self._due
        if not self._active or due == _NEVER:
            return None
        wall = self.ctx.clock.wall(now)
        return now if wall < self._checked else now + max(0.0, due - wall)

    # ------------------------------------------------------------------ internals

    def _invalidate(self) -> None:
        """Evaluate at the next poll, unless no profile limits anything, now or before."""
        if (
            len(self._profiles)
            or self._external
            or any(limit is not None for limit in self._limits)
        ):
            self._active = True
            self._due = -_NEVER

    def _limit_at(self, connector: int, wall: float) -> tuple[Limit | None, float]:
        if connector == 0:
            return self._profiles.limit(0, wall, self._supply, external=self._externals(0, 1))
        share = self._share(connector)
        return self._profiles.limit(
            connector,
            wall,
            self._supply,
            tx_start=self._tx_start(connector),
            share=share,
            external=self._externals(connector, share),
        )

    def _externals(self, connector: int, share: int) -> tuple[External, ...]:
        """The external limits on ``connector``: the station's (shared), then its own."""
        found = []
        station = self._external.get(0)
        if station is not None:
            found.append(External(*station, share=share))
        own = self._external.get(connector) if connector else None
        if own is not None:
            found.append(External(*own))
        return tuple(found)

    def _check_connector(self, connector: int) -> None:
        if type(connector) is not int or not 0 <= connector < len(self.ctx.connectors):
            raise ValueError(f"no connector {connector!r}")

    def _save_external(self) -> None:
        document = [
            {"connector": c, "limit": limit, "unit": unit}
            for c, (limit, unit) in sorted(self._external.items())
        ]
        write(self.ctx.store, EXTERNAL_DOCUMENT, document or None, refusable=False)
        self._invalidate()

    def _load_external(self) -> dict[int, tuple[float, str]]:
        stored = self.ctx.store.load(EXTERNAL_DOCUMENT)
        found: dict[int, tuple[float, str]] = {}
        for entry in stored if isinstance(stored, list) else ():
            try:
                connector, limit, unit = entry["connector"], entry["limit"], entry["unit"]
                if type(connector) is not int or not 0 <= connector < len(self.ctx.connectors):
                    raise ValueError("no such connector")
                if unit not in (AMPS, WATTS) or type(limit) not in (int, float):
                    raise ValueError("not a limit")
                if not 0 <= limit <= MAX_RATE:
                    raise ValueError("not a limit")
            except (ValueError, KeyError, TypeError) as exc:
                logger().warning("a stored external charging limit is unusable (%s)", exc)
                continue
            found[connector] = (float(limit), unit)
        return found

    def _tx_start(self, connector: int) -> float | None:
        started = self._started.get(connector)
        return None if started is None else started[1]

    def _share(self, connector: int) -> int:
        """Connectors sharing the station-wide maximum: those charging, plus this one."""
        started = self._started
        return len(started) + (connector not in started)

    def _bind(self, connector: int, transaction_id: int | str) -> None:
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
        where, field = self.stored_fields
        document = [{where: p.connector, field: raw[p.id]} for p in profiles]
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
        where, field = self.stored_fields
        profiles = []
        count = len(self.ctx.connectors)
        for entry in stored:
            try:
                connector = entry[where]
                if type(connector) is not int or not 0 <= connector < count:
                    raise ValueError("no such connector")
                profile = self.parse(entry[field], connector)
                if profile.id in self._raw:
                    raise ValueError(f"profile {profile.id} stored twice")
            except (ValueError, KeyError, TypeError) as exc:
                logger().warning("a stored charging profile is unusable (%s); left out", exc)
                continue
            profiles.append(profile)
            self._raw[profile.id] = entry[field]
        return profiles


def _apply(output: Callable[[float | None], None] | None, amps: float | None, at: int) -> None:
    """Call a connector's charging-limit output; a raising station callback is only logged."""
    if output is None:
        return
    try:
        output(amps)
    except Exception:
        logger().exception("charging_limit output of connector %s failed", at)
