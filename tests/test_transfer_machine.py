"""The version-neutral transfer state machine (ocpp_core/transfer_machine.py) on its own.

A recording owner stands in for a block of either protocol version: the machine reports phases
and details, never status names, and the owner decides what the CSMS hears.
"""

from __future__ import annotations

import pytest

from ocpp_core.transfer import HOST_TRANSFER_LIMIT, TransferHost
from ocpp_core.transfer_machine import (
    TRANSFERRED,
    TRANSFERRING,
    WAITING,
    TransferMachine,
)


class Clock:
    """Wall time = monotonic time + an offset the test moves (as a CSMS's clock sync does)."""

    def __init__(self) -> None:
        self.offset = 1000.0

    def wall(self, now: float) -> float:
        return now + self.offset


class Host:
    def __init__(self, fails: bool = False) -> None:
        self.fails = fails
        self.started: list[tuple[str, float]] = []

    def start_download(self, location: str, now: float) -> None:
        if self.fails:
            raise OSError("no route")
        self.started.append((location, now))

    def start_upload(self, location: str, file_name: str, content: bytes, now: float) -> None:
        raise AssertionError("this owner downloads")


class Owner:
    """Records what the machine tells it, in order."""

    def __init__(self, host: TransferHost | None = None) -> None:
        self.host = host
        self.duration = 5.0
        self.fails = False
        self.calls: list[tuple] = []

    def attempt_starts(self, via_host: bool, now: float) -> str:
        self.calls.append(("starts", via_host, now))
        return "on the host" if via_host else "simulated"

    def start_on_host(self, host: TransferHost, location: str, now: float) -> None:
        host.start_download(location, now)

    def simulated_transfer(self) -> tuple[float, bool]:
        return self.duration, self.fails

    def transferred(self, detail: str, now: float) -> None:
        self.calls.append(("transferred", detail, now))

    def attempt_failed(self, phase: str, detail: str, now: float) -> None:
        self.calls.append(("failed", phase, detail, now))

    def progress(self, percent: int | None, detail: str) -> None:
        self.calls.append(("progress", percent, detail))

    def outcomes(self) -> list[tuple]:
        return [call for call in self.calls if call[0] != "progress"]


def machine(owner: Owner, clock: Clock | None = None) -> TransferMachine:
    return TransferMachine(owner, "download", clock or Clock())


def run(m: TransferMachine, until: float, now: float = 0.0) -> float:
    """Tick at every wake-up the machine asks for, up to ``until``; returns the last moment."""
    while True:
        due = m.timer(now)
        if due is None or due > until:
            return now
        assert due >= now
        now = due
        m.tick(now)


def test_a_job_waits_for_its_due_wall_time_then_a_simulated_transfer_runs() -> None:
    owner, clock = Owner(), Clock()
    m = machine(owner, clock)
    m.schedule("ftp://files.example/image.bin", clock.wall(0) + 10, 0, 0)
    assert m.phase == WAITING
    assert m.timer(0) == 10
    m.tick(9.5)
    assert owner.calls == []
    run(m, until=100)
    assert owner.outcomes() == [("starts", False, 10), ("transferred", "simulated", 15)]
    percents = [call[1] for call in owner.calls if call[0] == "progress"]
    assert percents == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    assert m.phase == TRANSFERRED
    assert m.timer(15) is None  # the owner's steps follow
    m.finish()
    assert m.phase is None
    assert m.timer(15) is None


def test_the_due_time_is_a_wall_time_that_follows_the_clock() -> None:
    owner, clock = Owner(), Clock()
    m = machine(owner, clock)
    m.schedule("ftp://x/y", clock.wall(0) + 3600, 0, 0)
    clock.offset += 3000  # the CSMS set the clock 50 minutes ahead
    assert m.timer(0) == 600
    m.tick(600)
    assert owner.outcomes() == [("starts", False, 600)]


def test_an_injected_failure_is_retried_after_the_interval_until_no_retries_remain() -> None:
    owner, clock = Owner(), Clock()
    owner.fails = True
    m = machine(owner, clock)
    m.schedule("ftp://x/y", clock.wall(0), 1, 30)
    run(m, until=1000)
    assert owner.outcomes() == [
        ("starts", False, 0),
        ("failed", TRANSFERRING, "download failed (failure injected); next attempt in 30 s", 5),
        ("starts", False, 35),
        ("failed", TRANSFERRING, "download failed (failure injected); no attempts left", 40),
    ]
    assert m.phase is None


def test_an_http_location_goes_to_the_host_which_reports_the_result() -> None:
    host = Host()
    owner = Owner(host)
    m = machine(owner)
    m.schedule("https://fw.example/fw-2.bin", 0, 0, 0)
    m.tick(1)
    assert host.started == [("https://fw.example/fw-2.bin", 1)]
    assert m.awaits_host
    assert m.timer(1) == 1 + HOST_TRANSFER_LIMIT
    assert m.host_finished(True, "2 MB, sha256 ab12", 4) is True
    assert owner.outcomes() == [("starts", True, 1), ("transferred", "2 MB, sha256 ab12", 4)]
    assert not m.awaits_host
    assert m.host_finished(True, "late", 5) is False  # none awaited: ignored


def test_a_location_the_host_cannot_reach_is_simulated() -> None:
    host = Host()
    owner = Owner(host)
    m = machine(owner)
    m.schedule("ftp://files.example/fw.bin", 0, 0, 0)
    m.tick(0)
    assert host.started == []
    assert owner.outcomes() == [("starts", False, 0)]
    assert m.host_finished(True, "not expected", 1) is False


def test_a_host_that_never_answers_fails_the_attempt_at_the_deadline() -> None:
    owner = Owner(Host())
    m = machine(owner)
    m.schedule("http://fw.example/fw.bin", 0, 0, 0)
    run(m, until=HOST_TRANSFER_LIMIT + 10)
    limit = f"no result from the transfer host within {HOST_TRANSFER_LIMIT:.0f} s"
    assert owner.outcomes()[-1] == (
        "failed",
        TRANSFERRING,
        f"{limit}; no attempts left",
        HOST_TRANSFER_LIMIT,
    )


def test_a_host_that_cannot_start_fails_the_attempt_at_once() -> None:
    owner = Owner(Host(fails=True))
    m = machine(owner)
    m.schedule("https://fw.example/fw.bin", 0, 2, 60)
    m.tick(0)
    assert owner.outcomes() == [
        ("starts", True, 0),
        ("failed", TRANSFERRING, "the transfer host failed: no route; next attempt in 60 s", 0),
    ]
    assert m.phase == WAITING
    assert m.retries == 1


def test_the_owner_fails_its_own_step_after_the_transfer_and_the_job_is_retried() -> None:
    owner, clock = Owner(), Clock()
    owner.duration = 0
    m = machine(owner, clock)
    m.schedule("ftp://x/y", clock.wall(0), 1, 10)
    run(m, until=0)
    assert m.phase == TRANSFERRED
    m.fail("installation failed", 2)  # e.g. a firmware installation
    assert owner.outcomes()[-1] == (
        "failed",
        TRANSFERRED,
        "installation failed; next attempt in 10 s",
        2,
    )
    assert m.phase == WAITING
    assert m.timer(2) == 12


@pytest.mark.parametrize("transferred", [False, True])
def test_a_job_resumed_after_a_reboot(transferred: bool) -> None:
    owner, clock = Owner(), Clock()
    m = machine(owner, clock)
    m.schedule("ftp://x/y", clock.wall(0) + 5, 3, 7, transferred=transferred)
    assert (m.location, m.retries, m.retry_interval) == ("ftp://x/y", 3, 7)
    assert m.phase == (TRANSFERRED if transferred else WAITING)
    assert m.timer(0) == (None if transferred else 5)
