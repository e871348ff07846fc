"""Heartbeat (OCPP 1.6 §4.6, §9.1.10; MicroOcpp §4.9)."""

from __future__ import annotations

from fake_csms import SILENT, WALL_START, booted

from ocpp_core.clock import format_datetime


def heartbeat_times(csms) -> list[float]:
    return [now for _, action, _, now in csms.calls if action == "Heartbeat"]


def test_heartbeat_every_interval_from_the_boot_response() -> None:
    _cp, csms = booted()  # interval 300, accepted at t=0
    csms.advance(1000, step=10)
    assert heartbeat_times(csms) == [300, 600, 900]


def test_heartbeat_response_sets_the_clock() -> None:
    cp, csms = booted()
    csms.handlers["Heartbeat"] = lambda payload: {"currentTime": "2030-01-01T00:00:00Z"}
    csms.advance(300)
    assert format_datetime(cp.clock.wall(csms.now)) == "2030-01-01T00:00:00.000Z"


def test_unusable_current_time_leaves_the_clock_alone() -> None:
    cp, csms = booted()
    csms.handlers["Heartbeat"] = lambda payload: {"currentTime": "soon"}
    csms.advance(300)
    assert cp.clock.wall(csms.now) == WALL_START + 300
    csms.handlers["Heartbeat"] = lambda payload: {"currentTime": csms.wall_text()}
    csms.advance(300)
    assert len(heartbeat_times(csms)) == 2


def test_interval_zero_disables_heartbeats() -> None:
    cp, csms = booted()
    assert cp.change_configuration("HeartbeatInterval", "0") == "Accepted"
    csms.advance(100_000, step=1000)
    assert heartbeat_times(csms) == []
    assert cp.next_wakeup(csms.now) is None


def test_changed_interval_applies_at_once() -> None:
    _cp, csms = booted()
    csms.advance(100)
    csms.result("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "30"})
    csms.advance(100)
    assert heartbeat_times(csms) == [100, 130, 160, 190]


def test_any_other_call_resets_the_timer() -> None:
    cp, csms = booted()
    csms.advance(200)
    cp.send_data_transfer("v", now=csms.now)
    csms.pump()
    csms.advance(400)
    assert heartbeat_times(csms) == [500]


def test_calls_from_the_csms_do_not_reset_the_timer() -> None:
    _cp, csms = booted()
    csms.advance(200)
    csms.result("GetConfiguration", {"key": ["HeartbeatInterval"]})
    csms.advance(100)
    assert heartbeat_times(csms) == [300]


def test_overdue_heartbeat_goes_out_after_reconnect_and_is_not_resent() -> None:
    cp, csms = booted()
    csms.advance(299)
    csms.disconnect()
    csms.advance(1000, step=100)
    csms.connect()
    assert heartbeat_times(csms) == [1299]
    cp.poll(csms.now)  # nothing outstanding is lost: a heartbeat cut off is simply dropped


def test_unanswered_heartbeat_does_not_stop_the_next_ones() -> None:
    _cp, csms = booted()
    csms.handlers["Heartbeat"] = lambda payload: SILENT
    csms.advance(700, step=10)
    assert heartbeat_times(csms) == [300, 600]


def test_next_wakeup_is_the_heartbeat_due_time() -> None:
    cp, csms = booted()
    assert cp.next_wakeup(csms.now) == 300
    csms.advance(300)
    assert cp.next_wakeup(csms.now) == 600


def test_absurd_current_time_in_a_heartbeat_keeps_the_clock_and_timestamps_work() -> None:
    cp, csms = booted()
    csms.handlers["Heartbeat"] = lambda payload: {"currentTime": "9999-12-31T23:59:59Z"}
    csms.advance(300)
    assert len(heartbeat_times(csms)) == 1
    assert cp.clock.wall(csms.now) == WALL_START + 300  # refused: the old offset stays
    cp.connector(1).plugged = lambda: True
    csms.advance(2)
    preparing = csms.payloads("StatusNotification")[-1]
    assert preparing["status"] == "Preparing"
    assert preparing["timestamp"] == format_datetime(WALL_START + 301)


def test_heartbeat_interval_is_bounded_to_a_32_bit_integer() -> None:
    cp, csms = booted()
    assert cp.change_configuration("HeartbeatInterval", str(2**31)) == "Rejected"
    assert cp.change_configuration("HeartbeatInterval", str(2**31 - 1)) == "Accepted"
    assert cp.next_wakeup(csms.now) == 2**31 - 1
    csms.advance(10)
    assert heartbeat_times(csms) == []
