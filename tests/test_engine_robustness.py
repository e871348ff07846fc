"""The engine's public entry points against bad caller input: non-finite or non-numeric ``now``,
broken hardware inputs, absurd times, non-callable subscribers (audit 3)."""

from __future__ import annotations

import json
import logging
import math

import pytest
from fake_csms import booted

from ocpp_core.engine import check_now

NON_FINITE = [math.nan, math.inf, -math.inf]


def _entry_points(cp, csms):
    return {
        "receive": lambda now: cp.receive('[2,"n1","Reset",{"type":"Soft"}]', now),
        "poll": cp.poll,
        "next_wakeup": cp.next_wakeup,
        "connected": cp.connected,
        "disconnected": cp.disconnected,
    }


@pytest.mark.parametrize("bad", NON_FINITE)
@pytest.mark.parametrize("entry", ["receive", "poll", "next_wakeup", "connected", "disconnected"])
def test_non_finite_now_is_a_value_error_and_changes_nothing(entry: str, bad: float) -> None:
    cp, csms = booted()
    with pytest.raises(ValueError, match="finite"):
        _entry_points(cp, csms)[entry](bad)
    assert cp.is_connected
    # Time runs normally afterwards: the Heartbeat is due 300 s after the boot, as ever.
    csms.advance(301, step=10)
    assert csms.actions() == ["Heartbeat"]
    assert [c[3] for c in csms.calls] == [300]
    assert csms.replies == {}  # the refused Reset was never taken in


@pytest.mark.parametrize("bad", ["5", None, b"1", [1.0], True, 1j])
@pytest.mark.parametrize("entry", ["receive", "poll", "next_wakeup", "connected"])
def test_now_that_is_not_a_number_is_a_type_error(entry: str, bad: object) -> None:
    cp, csms = booted()
    with pytest.raises(TypeError, match="now must be a number"):
        _entry_points(cp, csms)[entry](bad)


def test_check_now_accepts_ints_and_floats() -> None:
    assert check_now(0) == 0
    assert check_now(-1.5) == -1.5
    assert check_now(1e300) == 1e300


def test_a_raising_input_does_not_stop_poll(caplog) -> None:
    cp, csms = booted()
    broken = True

    def plugged() -> bool:
        if broken:
            raise RuntimeError("sensor")
        return True

    cp.connector(1).plugged = plugged
    with caplog.at_level(logging.DEBUG, logger="ocpp_core"):
        csms.advance(301, step=10)  # every poll samples the broken input
        assert csms.result("Reset", {"type": "Soft"}) == {"status": "Rejected"}
    assert "Heartbeat" in csms.actions()  # requests still go out
    tracebacks = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert len(tracebacks) == 1  # logged once until it recovers
    assert "connector 1 plugged input failed" in tracebacks[0].getMessage()
    broken = False
    with caplog.at_level(logging.WARNING, logger="ocpp_core"):
        csms.advance(2)
    assert "works again" in caplog.text
    assert csms.payloads("StatusNotification")[-1]["status"] == "Preparing"


@pytest.mark.parametrize("value", [42, 1.5, object()])
def test_an_error_input_of_the_wrong_type_does_not_stop_poll(value: object) -> None:
    cp, csms = booted()
    cp.connector(1).add_error_input(lambda: value)
    csms.advance(301, step=10)
    assert csms.actions() == ["Heartbeat"]
    assert csms.result("Reset", {"type": "Soft"}) == {"status": "Rejected"}


def test_an_absurd_now_still_gives_formattable_timestamps() -> None:
    cp, csms = booted()
    csms.now = 1e13  # ~317,000 years of uptime: the wall time saturates at year 9999
    cp.connector(1).plugged = lambda: True
    csms.pump()
    status = csms.payloads("StatusNotification")[-1]
    assert status["status"] == "Preparing"
    assert status["timestamp"] == "9999-12-31T23:59:59.000Z"


def test_subscriber_must_be_callable() -> None:
    cp, csms = booted()
    with pytest.raises(TypeError, match="callable"):
        cp.subscribe(5)
    assert csms.result("Reset", {"type": "Soft"}) == {"status": "Rejected"}


def test_frames_out_stay_valid_json_after_all_that() -> None:
    cp, csms = booted()
    for bad in NON_FINITE:
        with pytest.raises(ValueError):
            cp.poll(bad)
    csms.advance(300)
    assert all(json.loads(text) for text in csms.sent)


@pytest.mark.parametrize("now", [math.nan, math.inf, "0"])
def test_the_facade_refuses_a_bad_now_everywhere(now: object) -> None:
    cp, _csms = booted()
    calls = (
        lambda: cp.status(1, now),
        lambda: cp.present_card(1, "TAG", now),
        lambda: cp.begin_transaction(1, "TAG", now),
        lambda: cp.end_transaction(1, now),
        lambda: cp.composite_schedule(1, 60, now),
        lambda: cp.firmware_download_progress(1, 2, now=now),
        lambda: cp.firmware_download_finished(True, now=now),
        lambda: cp.diagnostics_upload_finished(True, now=now),
    )
    for call in calls:
        with pytest.raises((TypeError, ValueError)):
            call()
