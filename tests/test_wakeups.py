"""Wake-ups lie in the future (issue 18.1): a property test over seeded random station lives.

A caller polls when input arrives or at ``next_wakeup(now)``. A wake-up at or before ``now`` after
a poll means "poll again at once" while nothing changed: the runtime would spin at full CPU (as a
Soft Reset waiting for an unanswered StopTransaction once did). Each seed drives one station with
random hardware inputs, CSMS calls (answered, refused, unanswered, late), disconnects, reboots and
time steps, and checks after every poll that the wake-up is None or strictly later than ``now``,
and that a loop polling at the returned wake-ups never polls twice at one instant.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import pytest
from fake_csms import IDENTITY, WALL_START

from ocpp_core import ChargePoint
from ocpp_core.clock import format_datetime
from ocpp_core.store import MemoryStore

SEEDS = range(int(os.environ.get("OCPP_WAKEUP_SEEDS", "100")))  # more for a longer local run
STEPS = 250
CONNECTORS = 2


def _csms_calls(rng: random.Random, wall: float) -> list[tuple[str, dict[str, Any]]]:
    """CSMS-initiated CALLs, valid per schema, that arm the blocks' timers."""
    connector = rng.randint(1, CONNECTORS)
    soon = format_datetime(wall + rng.choice([-5, 0, 1, 3, 30]))
    profile = {
        "chargingProfileId": rng.randint(1, 4),
        "stackLevel": rng.randint(0, 2),
        "chargingProfilePurpose": rng.choice(["TxDefaultProfile", "ChargePointMaxProfile"]),
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "startSchedule": soon,
            "duration": rng.choice([5, 60, 600]),
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": rng.choice([0, 6, 16])},
                {"startPeriod": rng.choice([1, 2, 20]), "limit": 10},
            ],
        },
    }
    target = 0 if profile["chargingProfilePurpose"] == "ChargePointMaxProfile" else connector
    keys = [
        ("HeartbeatInterval", rng.choice(["0", "1", "7", "300"])),
        ("MeterValueSampleInterval", rng.choice(["0", "1", "5", "60"])),
        ("ClockAlignedDataInterval", rng.choice(["0", "1", "15", "900"])),
        ("MinimumStatusDuration", rng.choice(["0", "2", "10"])),
        ("ConnectionTimeOut", rng.choice(["1", "5", "30"])),
        ("MessageTimeout", rng.choice(["1", "5", "30"])),
        ("TransactionMessageRetryInterval", rng.choice(["0", "1", "5"])),
        ("TransactionMessageAttempts", rng.choice(["1", "3"])),
        ("ResetRetries", rng.choice(["0", "1"])),
    ]
    key, value = rng.choice(keys)
    return [
        ("Reset", {"type": rng.choice(["Soft", "Hard"])}),
        ("RemoteStartTransaction", {"connectorId": connector, "idTag": "REMOTE"}),
        ("RemoteStopTransaction", {"transactionId": rng.randint(1001, 1006)}),
        ("ChangeConfiguration", {"key": key, "value": value}),
        ("TriggerMessage", {"requestedMessage": rng.choice(
            ["StatusNotification", "MeterValues", "Heartbeat", "BootNotification",
             "FirmwareStatusNotification", "DiagnosticsStatusNotification"])}),
        ("ReserveNow", {"connectorId": connector, "expiryDate": soon, "idTag": "RES",
                        "reservationId": rng.randint(1, 3)}),
        ("CancelReservation", {"reservationId": rng.randint(1, 3)}),
        ("SetChargingProfile", {"connectorId": target, "csChargingProfiles": profile}),
        ("ClearChargingProfile", {}),
        ("UpdateFirmware", {"location": "ftp://fw.test/fw-2.0.bin", "retrieveDate": soon,
                            "retries": rng.randint(0, 2), "retryInterval": rng.randint(0, 5)}),
        ("GetDiagnostics", {"location": "ftp://diag.test/up", "retries": rng.randint(0, 2),
                            "retryInterval": rng.randint(0, 5)}),
        ("ChangeAvailability", {"connectorId": rng.randint(0, CONNECTORS),
                                "type": rng.choice(["Inoperative", "Operative"])}),
        ("UnlockConnector", {"connectorId": connector}),
        ("ClearCache", {}),
        ("GetCompositeSchedule", {"connectorId": connector, "duration": 60}),
    ]  # fmt: skip


class Life:
    """One station on a MemoryStore, rebooted (a new ChargePoint) when its reset hook runs."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.store = MemoryStore()
        self.now = 0.0
        self.online = True
        self.hardware = {
            n: {"plugged": False, "ev_ready": True, "evse_ready": True, "error": None}
            for n in range(1, CONNECTORS + 1)
        }
        self.energy = 0.0
        self.reboot_kind: str | None = None
        self.held: list[str] = []  # CALLRESULTs the CSMS will send late
        self.tx_ids = iter(range(1001, 10**6))
        self.ids = iter(range(1, 10**6))
        self.polls: list[tuple[float, int]] = []  # (now, inputs seen so far) of every poll
        self.inputs = 0
        self.cp = self._boot()

    # ------------------------------------------------------------------ the station

    def _boot(self) -> ChargePoint:
        cp = ChargePoint(
            identity=IDENTITY,
            connectors=CONNECTORS,
            store=self.store,
            reset_handler=self._reset,
            resume_transactions_after_restart=self.rng.random() < 0.5,
        )
        for n, hw in self.hardware.items():
            io = cp.connector(n)
            io.plugged = lambda hw=hw: hw["plugged"]
            io.ev_ready = lambda hw=hw: hw["ev_ready"]
            io.evse_ready = lambda hw=hw: hw["evse_ready"]
            io.add_error_input(lambda hw=hw: hw["error"])
            io.energy_wh = lambda: self.energy
            io.power_w = lambda: 7000.0
        if self.online:
            cp.connected(self.now)
        return cp

    def _reset(self, kind: str) -> bool | None:
        if self.rng.random() < 0.2:
            return False  # a failed reset: retried later
        self.reboot_kind = kind
        return True

    def input(self) -> None:
        self.inputs += 1

    # ------------------------------------------------------------------ polling

    def poll(self) -> None:
        """Poll until the station is quiet at this instant; check the wake-up after each poll."""
        for _ in range(200):
            now = self.now
            self.polls.append((now, self.inputs))
            frames = self.cp.poll(now)
            wake = self.cp.next_wakeup(now)
            assert wake is None or wake > now, (
                f"seed {self.seed}: poll at {now!r}, wake-up at {wake!r}"
            )
            if self.reboot_kind is not None:
                self.reboot_kind = None
                self.cp = self._boot()
                self.input()
                continue
            inputs = self.inputs
            for text in frames:
                self._csms_handles(text)
            if self.inputs == inputs:
                return  # nothing new: the next poll is at the wake-up
        raise AssertionError("the station never went quiet")

    def _csms_handles(self, text: str) -> None:
        frame = json.loads(text)
        if frame[0] != 2:
            return
        _, message_id, action, _payload = frame
        fate = self.rng.random()
        if fate < 0.1:
            return  # never answered
        if fate < 0.15:
            reply = [4, message_id, "InternalError", "", {}]
        else:
            reply = [3, message_id, self._answer(action)]
        if fate < 0.22:
            self.held.append(json.dumps(reply))  # answered late
            return
        self.cp.receive(json.dumps(reply), self.now)
        self.input()

    def _answer(self, action: str) -> dict[str, Any]:
        wall = format_datetime(WALL_START + self.now)
        accepted = {"status": self.rng.choice(["Accepted", "Accepted", "Blocked", "Invalid"])}
        match action:
            case "BootNotification":
                status = self.rng.choice(["Accepted", "Accepted", "Pending", "Rejected"])
                return {
                    "status": status,
                    "currentTime": wall,
                    "interval": self.rng.choice([0, 2, 60]),
                }
            case "Heartbeat":
                return {"currentTime": wall}
            case "Authorize":
                return {"idTagInfo": accepted}
            case "StartTransaction":
                return {"transactionId": next(self.tx_ids), "idTagInfo": accepted}
            case "DataTransfer":
                return {"status": "Accepted"}
        return {}

    # ------------------------------------------------------------------ one random step

    def step(self) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.3:
            self.now += rng.choice([0.0, 0.001, 0.4, 1.0, 2.5, 7.0, 31.0, 120.0, rng.uniform(0, 9)])
        elif roll < 0.45:
            self._follow_wakeups(rng.randint(1, 20))
        elif roll < 0.6:
            hw = self.hardware[rng.randint(1, CONNECTORS)]
            field = rng.choice(["plugged", "plugged", "ev_ready", "evse_ready", "error"])
            if field == "error":
                hw["error"] = rng.choice([None, None, "GroundFailure", "OverVoltage"])
            else:
                hw[field] = not hw[field]
            self.input()
        elif roll < 0.7:
            connector = rng.randint(1, CONNECTORS)
            self.cp.present_card(connector, rng.choice(["TAG-A", "TAG-B"]), self.now)
            self.input()
        elif roll < 0.85 and self.online:
            action, payload = rng.choice(_csms_calls(rng, WALL_START + self.now))
            self.cp.receive(json.dumps([2, f"csms-{next(self.ids)}", action, payload]), self.now)
            self.input()
        elif roll < 0.9 and self.held and self.online:
            self.cp.receive(self.held.pop(0), self.now)
            self.input()
        elif roll < 0.95:
            self.online = not self.online
            if self.online:
                self.cp.connected(self.now)
            else:
                self.cp.disconnected(self.now)
                self.held.clear()
            self.input()
        self.energy += rng.choice([0.0, 1.5, 40.0])
        self.poll()

    def _follow_wakeups(self, rounds: int) -> None:
        """What a runtime does with no new input: poll at each wake-up; never twice at once."""
        for _ in range(rounds):
            wake = self.cp.next_wakeup(self.now)
            if wake is None:
                return
            assert wake > self.now
            self.now = wake
            before = len(self.polls)
            self.poll()
            at_this_instant = [p for p in self.polls[before:] if p[0] == wake]
            assert len({inputs for _, inputs in at_this_instant}) == len(at_this_instant), (
                "polled twice at one instant without new input"
            )


@pytest.mark.parametrize("seed", SEEDS)
def test_every_wakeup_after_a_poll_lies_in_the_future(seed: int) -> None:
    life = Life(seed)
    life.poll()
    for _ in range(STEPS):
        life.step()
    # Left alone, the station settles into future wake-ups only (a bounded number of polls).
    life._follow_wakeups(50)
    polled_at = [now for now, _ in life.polls]
    assert polled_at == sorted(polled_at)
