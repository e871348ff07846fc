"""A booted station with simulated hardware on every connector, for the transaction tests.

``Rig`` wraps a ChargePoint and a FakeCsms: plug and unplug, a meter register per connector, EV
and EVSE readiness, a recorded cable lock, every event — and ``restart`` to build a new engine
on the same Store (a reboot, or a page reload in the browser) with the hardware as it was.
"""

from __future__ import annotations

import itertools
from typing import Any

from fake_csms import IDENTITY, FakeCsms

from ocpp_core import ChargePoint
from ocpp_core.store import MemoryStore, Store

TX_ACTIONS = ("StartTransaction", "StopTransaction", "MeterValues")


class Rig:
    """One station, its hardware, its CSMS and what it emitted (a protocol version's rig sets
    the version, its CSMS and its factory configuration)."""

    version = "1.6"
    csms_type = FakeCsms
    base_config = {"MeterValueSampleInterval": "0"}  # noqa: RUF012 (read, never changed)

    def __init__(
        self,
        *,
        connectors: int = 2,
        store: Store | None = None,
        config: dict[str, str] | None = None,
        boot: bool = True,
        meter: bool = True,
        **options: Any,
    ) -> None:
        self.store = MemoryStore() if store is None else store
        self.connectors = connectors
        self.config = {**self.base_config, **(config or {})}
        self.options = options
        self.meter = meter
        self.plugged = [False] * (connectors + 1)
        self.ev_ready = [True] * (connectors + 1)
        self.evse_ready = [True] * (connectors + 1)
        self.energy = [1000.0] * (connectors + 1)
        self.lock_fitted = True
        self.lock_result: bool | None = None
        self.locks: list[tuple[int, bool]] = []
        self.events: list[object] = []
        self.transaction_ids = itertools.count(1001)
        self.cp, self.csms = self._build(0.0)
        if boot:
            self.csms.connect()
            self.csms.clear()

    def _build(self, now: float) -> tuple[ChargePoint, FakeCsms]:
        cp = ChargePoint(
            identity=IDENTITY,
            connectors=self.connectors,
            store=self.store,
            version=self.version,
            config_defaults=self.config,
            **self.options,
        )
        for connector in range(1, self.connectors + 1):
            io = cp.connector(connector)
            io.plugged = lambda c=connector: self.plugged[c]
            io.ev_ready = lambda c=connector: self.ev_ready[c]
            io.evse_ready = lambda c=connector: self.evse_ready[c]
            if self.meter:
                io.energy_wh = lambda c=connector: self.energy[c]
            if self.lock_fitted:
                io.lock = lambda locked, c=connector: self._lock(c, locked)
        cp.subscribe(self.events.append)
        csms = self.csms_type(cp, now=now)
        csms.transaction_ids = self.transaction_ids
        self._default_handlers = dict(csms.handlers)  # bound to this CSMS and its clock
        return cp, csms

    def _lock(self, connector: int, locked: bool) -> bool | None:
        self.locks.append((connector, locked))
        return self.lock_result

    def restart(self, *, connect: bool = True, **options: Any) -> None:
        """A new engine on the same Store, at the same time, with the same hardware."""
        previous = self.csms
        # The answers a test set stay; the defaults are the new CSMS's own (on its clock).
        custom = {
            action: handler
            for action, handler in previous.handlers.items()
            if self._default_handlers.get(action) is not handler
        }
        self.options.update(options)
        self.cp, self.csms = self._build(previous.now)
        self.csms.handlers.update(custom)
        self.csms.calls, self.csms.sent = previous.calls, previous.sent  # one history
        self.csms.dedupe, self.csms.answered = previous.dedupe, previous.answered  # one CSMS
        self.csms.repeats = previous.repeats
        if connect:
            self.csms.connect()

    # ------------------------------------------------------------------ hardware

    @property
    def now(self) -> float:
        return self.csms.now

    def pump(self) -> list[str]:
        return self.csms.pump()

    def plug(self, connector: int = 1) -> None:
        self.plugged[connector] = True
        self.pump()

    def unplug(self, connector: int = 1) -> None:
        self.plugged[connector] = False
        self.pump()

    def card(self, id_tag: str, connector: int = 1) -> None:
        self.cp.present_card(connector, id_tag, self.now)
        self.pump()

    def advance(self, seconds: float, *, charging_w: float = 0.0) -> None:
        """Time passes; connectors with a running transaction meter ``charging_w``."""
        end = self.now + seconds
        while self.now < end:
            step = min(1.0, end - self.now)
            for connector in range(1, self.connectors + 1):
                info = self.cp.transaction(connector)
                if info is not None and info.state == "running":
                    self.energy[connector] += charging_w * step / 3600
            self.csms.advance(step)

    def offline(self) -> None:
        self.csms.disconnect()

    def online(self) -> None:
        self.csms.connect()

    # ------------------------------------------------------------------ inspection

    def tx_messages(self) -> list[tuple[str, dict]]:
        """The transaction-related CALLs the CSMS received, in order."""
        return [(a, p) for _, a, p, _ in self.csms.calls if a in TX_ACTIONS]

    def actions(self) -> list[str]:
        return self.csms.actions()

    def payloads(self, action: str) -> list[dict]:
        return self.csms.payloads(action)

    def statuses(self, connector: int = 1) -> list[str]:
        return [
            p["status"]
            for p in self.csms.payloads("StatusNotification")
            if p["connectorId"] == connector
        ]

    def events_of(self, kind: type) -> list:
        return [event for event in self.events if isinstance(event, kind)]

    def documents(self, prefix: str) -> list[str]:
        return self.store.names(prefix)

    def clear(self) -> None:
        self.csms.clear()
        self.events.clear()
        self.locks.clear()


def start_session(rig: Rig, id_tag: str = "TAG1", connector: int = 1) -> int:
    """Plug in and present a card; the transaction runs. Returns its transactionId."""
    rig.plug(connector)
    rig.card(id_tag, connector)
    info = rig.cp.transaction(connector)
    assert info is not None and info.state == "running", info
    assert info.transaction_id is not None
    return info.transaction_id
