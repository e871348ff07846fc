"""A storm of page reloads in Chromium around StartTransaction and StopTransaction (issue 11).

Seeded reload moments, spread from 0 to 3 s after presenting a card (around the
StartTransaction) and after presenting it again (around the StopTransaction), against the
in-process demo CSMS, which recognises a re-sent StartTransaction by its message id. Nothing waits
for the store. After each reload the station comes back; at the end every transactionId the CSMS
issued has exactly one StopTransaction: distinct message ids are counted, a frame re-sent under
the same id is a duplicate (counted and printed, not an error).

To keep it fast on a 2-core machine, two stations (two browser contexts, so two separate
storages) share the reloads: while one page boots Pyodide, the other waits for its moment. One
loop drives both, a step at a time, without blocking on either.

``OCPP_SIM_STORM_SEED`` picks the seed (default 11), ``OCPP_SIM_STORM_RELOADS`` the number of
reloads (default 30).
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pagekit import open_app
from playwright.sync_api import Browser, Error, Page

SEED = int(os.environ.get("OCPP_SIM_STORM_SEED", "11"))
RELOADS = int(os.environ.get("OCPP_SIM_STORM_RELOADS", "30"))
LANES = 2
WINDOW_S = 3.0
STUCK_S = 90.0
"""A lane that makes no progress for this long fails the test (Pyodide boots in ~3 s)."""

READY = """() => document.documentElement.dataset.app === "ready"
    && window.ocppSim.connectionState() === "connected"
    && document.getElementById("registration").textContent === "Accepted"
    && window.ocppSim.status(1) === "Available" """
CHARGING = """() => window.ocppSim.status(1) === "Charging"
    && window.ocppSim.snapshot(1).transaction_id !== null"""


def plan(seed: int, reloads: int) -> list[tuple[str, float]]:
    """(phase, delay) per reload: two thirds after the first card ("start"), a third after the
    second ("stop"). In each phase one random point per equal slot of [0, 1), cubed and scaled
    to [0, WINDOW_S): the moments reach 3 s but crowd the first few hundred milliseconds, where
    Authorize, StartTransaction or StopTransaction and their answers cross (locally 10-100 ms
    after the click) and where a write's IndexedDB flush used to be still running."""
    rng = random.Random(seed)
    rounds = []
    for phase, count in (("start", reloads - reloads // 3), ("stop", reloads // 3)):
        rounds += [(phase, ((i + rng.random()) / count) ** 3 * WINDOW_S) for i in range(count)]
    rng.shuffle(rounds)
    return rounds


@dataclass
class Lane:
    """One station in its own browser context, going through its share of the rounds."""

    page: Page
    charge_box_id: str
    rounds: list[tuple[str, float]]
    state: str = "loading"
    deadline: float = 0.0
    since: float = field(default_factory=time.monotonic)
    replayed: int = 0  # reloads after which the log held writes IndexedDB did not have yet
    number: int = 0

    def check(self, script: str) -> bool:
        try:
            return bool(self.page.evaluate(script))
        except Error:  # the page is navigating: not yet
            return False

    def move(self, state: str) -> None:
        self.state, self.since = state, time.monotonic()

    def step(self) -> None:
        """Advance by at most one state; never blocks for long."""
        if self.state == "done":
            return
        now = time.monotonic()
        assert now - self.since < STUCK_S, f"{self.charge_box_id} stuck in {self.state}"
        if self.state == "loading" and self.check(READY):
            if self.number:
                self.replayed += bool(self.page.evaluate("window.ocppSim.storeStats().replayed"))
            if not self.rounds:
                self.move("done")
                return
            self.number += 1
            self.page.get_by_test_id("connector-1-plug").click()
            self.page.get_by_test_id("connector-1-idtag").fill(f"STORM-{self.number}")
            self.page.get_by_test_id("connector-1-present-card").click()
            phase, delay = self.rounds[0]
            self.deadline = now + delay
            self.move("charging" if phase == "stop" else "waiting")
        elif self.state == "charging" and self.check(CHARGING):
            self.page.get_by_test_id("connector-1-present-card").click()  # the stop
            self.deadline = time.monotonic() + self.rounds[0][1]
            self.move("waiting")
        elif self.state == "waiting" and now >= self.deadline:
            self.page.reload(wait_until="commit")
            self.rounds.pop(0)
            self.move("loading")


def test_reload_storm_loses_no_transaction(
    browser: Browser, page: Page, csms, report_counts: Callable[[str], None]
) -> None:
    rounds = plan(SEED, RELOADS)
    second = browser.new_context()
    try:
        lanes = [
            Lane(lane_page, f"E2E-STORM-{n}", rounds[n - 1 :: LANES])
            for n, lane_page in enumerate((page, second.new_page()), 1)
        ]
        errors: list[str] = []
        for lane in lanes:
            lane.page.on("pageerror", lambda error: errors.append(str(error)))
            open_app(lane.page, csms.page, url=csms.csms, id=lane.charge_box_id, autoconnect="1")
        while any(lane.state != "done" for lane in lanes):
            for lane in lanes:
                lane.step()
            time.sleep(0.01)
        # Let each station finish: every message journaled before its last reload delivered.
        for lane in lanes:
            lane.page.wait_for_function(
                "() => document.getElementById('queue-length').textContent === '0'",
                timeout=60_000,
            )
        ids = [lane.charge_box_id for lane in lanes]

        def all_stopped() -> bool:
            registry = csms.server.csms.registry
            return all(
                name in registry
                and all(tx in registry[name].stop_message_ids for tx in registry[name].transactions)
                for name in ids
            )

        with contextlib.suppress(TimeoutError):  # the assertions below say which stayed open
            csms.wait_for(all_stopped, timeout=20)
        transactions = duplicates = resent = 0
        for name in ids:
            state = csms.station(name)
            assert state is not None
            stops = state.stop_message_ids
            never = sorted(tx for tx in state.transactions if tx not in stops)
            assert not never, f"{name}: transactions never stopped: {never}"
            twice = {tx: sent for tx, sent in stops.items() if len(set(sent)) != 1}
            assert not twice, f"{name}: transactions stopped more than once: {twice}"
            assert set(stops) == set(state.transactions), f"{name}: a stop for an unknown tx"
            transactions += len(state.transactions)
            duplicates += sum(len(sent) - len(set(sent)) for sent in stops.values())
            resent += state.repeated_starts
        flush = [lane.page.evaluate("window.ocppSim.storeStats().indexedDbMs") for lane in lanes]
        report_counts(
            f"reload storm (seed {SEED}): {len(rounds)} reloads"
            f" ({sum(p == 'start' for p, _ in rounds)} after the first card,"
            f" {sum(p == 'stop' for p, _ in rounds)} after the second), {transactions}"
            f" transactions, each stopped exactly once; {duplicates} duplicate StopTransaction"
            f" frames; {resent} re-sent StartTransaction recognised by the CSMS;"
            f" {sum(lane.replayed for lane in lanes)} reloads found writes only the"
            f" localStorage log held; IndexedDB flush after a write (last pages): {flush}"
        )
        assert transactions > 0
        assert errors == []
    finally:
        second.close()
