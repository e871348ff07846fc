"""The Control Center's plain-Python parts on CPython: log model, export, chart, formats, prefs.

The DOM-bound modules (dom, views, app) run only in the browser; the end-to-end tests cover them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parent.parent / "web"
sys.path.insert(0, str(WEB))

from control_center import chart, fmt  # noqa: E402
from control_center.messages import (  # noqa: E402
    LogFilter,
    MessageLog,
    Redactor,
    iso_timestamp,
    parse_envelope,
)
from control_center.prefs import (  # noqa: E402
    FormValues,
    Prefs,
    dump_prefs,
    load_prefs,
    parse_deep_link,
    station_settings_json,
)

from sim.settings import StationSettings  # noqa: E402

BOOT = '[2,"m1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
BOOT_OK = '[3,"m1",{"status":"Accepted","currentTime":"2025-01-01T00:00:00Z","interval":300}]'
ERROR = '[4,"m2","NotSupported","<img src=x onerror=alert(1)>",{}]'

# ------------------------------------------------------------------ page loader


def test_no_html_insertion_in_the_page_code() -> None:
    """Server text goes in as text: no innerHTML/outerHTML/insertAdjacentHTML anywhere."""
    sources = [*(WEB / "control_center").glob("*.py"), WEB / "main.py", WEB / "boot.js"]
    sources.append(WEB / "interpreter.mjs")
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert sink not in text, f"{path.name} uses {sink}"


# ------------------------------------------------------------------ envelope and entries


@pytest.mark.parametrize(
    ("text", "kind", "message_id"),
    [
        (BOOT, "CALL", "m1"),
        (BOOT_OK, "RESULT", "m1"),
        (ERROR, "ERROR", "m2"),
        ("not json", "INVALID", None),
        ("{}", "INVALID", None),
        ("[]", "INVALID", None),
        ("[9,1]", "INVALID", None),
        ("[true,1]", "INVALID", None),
        ("[" * 100_000, "INVALID", None),
    ],
)
def test_parse_envelope(text: str, kind: str, message_id: str | None) -> None:
    _, got_kind, got_id = parse_envelope(text)
    assert (got_kind, got_id) == (kind, message_id)


def test_log_entries_label_and_preview_frames() -> None:
    log = MessageLog()
    call = log.add("out", BOOT, None, 1_700_000_000.5)
    result = log.add("in", BOOT_OK, "BootNotification", 1_700_000_001.0)
    error = log.add("in", ERROR, "Heartbeat", 1_700_000_002.0)
    assert call.action == "BootNotification" and call.kind == "CALL"
    assert call.preview() == '{"chargePointVendor":"V","chargePointModel":"M"}'
    assert result.preview().startswith('{"status":"Accepted"')
    assert error.preview() == "NotSupported: <img src=x onerror=alert(1)>"
    assert json.loads(error.pretty()) == json.loads(ERROR)
    assert call.timestamp == "2023-11-14T22:13:20.500Z"
    assert log.actions() == ["BootNotification", "Heartbeat"]
    assert [e.seq for e in log.entries()] == [1, 2, 3]


def test_preview_is_one_bounded_line() -> None:
    log = MessageLog()
    entry = log.add(
        "in", '[2,"x","DataTransfer",{"vendorId":"a","data":"' + "y" * 999 + '"}]', None, 0
    )
    assert len(entry.preview()) == 240 and entry.preview().endswith("…")
    odd = log.add("in", "line one\nline two", None, 0)
    assert odd.preview() == "line one line two" and odd.kind == "INVALID"


def test_filters_by_action_and_direction() -> None:
    log = MessageLog()
    log.add("out", BOOT, None, 0)
    log.add("in", BOOT_OK, "BootNotification", 0)
    log.add("out", '[2,"h","Heartbeat",{}]', None, 0)
    assert len(log.entries(LogFilter(direction="out"))) == 2
    assert len(log.entries(LogFilter(action="boot"))) == 2
    assert len(log.entries(LogFilter(action="boot", direction="in"))) == 1
    assert not LogFilter().active and LogFilter(action=" x ").active


def test_capacity_drops_the_oldest_and_counts_them() -> None:
    log = MessageLog(capacity=3)
    for index in range(5):
        log.add("out", f'[2,"{index}","Heartbeat",{{}}]', None, 0)
    assert len(log) == 3 and log.dropped == 2 and log.total == 5
    assert [e.message_id for e in log.entries()] == ["2", "3", "4"]
    log.clear()
    assert len(log) == 0 and log.total == 0 and log.actions() == []


def test_jsonl_export_is_one_valid_object_per_line() -> None:
    log = MessageLog()
    log.add("out", BOOT, None, 1_700_000_000.0)
    log.add("in", "garbage ünïcode", None, 1_700_000_000.25)
    lines = log.export_jsonl().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["direction"] == "out" and first["timestamp"] == "2023-11-14T22:13:20.000Z"
    assert first["frame"] == json.loads(BOOT) and first["action"] == "BootNotification"
    assert second["frame"] is None and second["raw"] == "garbage ünïcode"
    assert log.export_jsonl().endswith("\n")
    assert MessageLog().export_jsonl() == ""


def test_iso_timestamp_rounds_milliseconds_up_to_the_next_second() -> None:
    assert iso_timestamp(59.9996) == "1970-01-01T00:01:00.000Z"


def test_redactor_masks_the_key_but_not_short_ones() -> None:
    redact = Redactor("s3cret-key")
    assert redact('{"value":"s3cret-key"}') == '{"value":"***"}'
    assert Redactor("ab")('{"a":"ab"}') == '{"a":"ab"}'
    assert Redactor(None)("text") == "text"


def test_nice_ceiling() -> None:
    assert [chart.nice_ceiling(v) for v in (0, 0.7, 1, 1.1, 2.2, 4, 7, 22_080)] == [
        1,
        1,
        1,
        2,
        2.5,
        5,
        10,
        25_000,
    ]


def test_axis_labels() -> None:
    assert chart.format_axis_kw(25_000) == "25 kW"
    assert chart.format_axis_kw(12_500) == "12.5 kW"
    assert chart.format_axis_kw(250) == "0.25 kW"


def test_series_keeps_the_window_plus_one_older_sample() -> None:
    series = chart.PowerSeries(window_s=10)
    for t in range(30):
        series.add(float(t), 100.0, None)
    samples = series.samples()
    assert samples[0].t == 18.0 and samples[-1].t == 29.0
    series.add(5.0, 1.0, None)  # time went backwards: start over
    assert len(series) == 1


def test_render_paths_stay_inside_the_box() -> None:
    samples = [chart.Sample(float(t), 11_000.0 if t > 5 else 0.0, 16 * 690.0) for t in range(10)]
    paths = chart.render(samples, 10.0)
    assert paths.window_s == 60.0 and paths.span_label == "\u22121 min"
    assert paths.y_max_w == 20_000.0
    numbers = [float(n) for part in paths.power[1:].split(" L") for n in part.split(",")]
    assert all(0 <= n <= chart.WIDTH for n in numbers[::2])
    assert all(0 <= n <= chart.HEIGHT for n in numbers[1::2])
    assert paths.area.endswith("Z") and paths.limit.startswith("M")
    assert "V" not in paths.limit  # a constant limit is one horizontal line


def test_render_limit_gaps_and_steps() -> None:
    samples = [
        chart.Sample(0.0, 0.0, 5000.0),
        chart.Sample(10.0, 0.0, None),
        chart.Sample(20.0, 0.0, 8000.0),
        chart.Sample(30.0, 0.0, 4000.0),
    ]
    paths = chart.render(samples, 40.0)
    assert paths.limit.count("M") == 2 and "V" in paths.limit


def test_render_empty_and_adaptive_span() -> None:
    assert chart.render([], 0.0).power == ""
    old = [chart.Sample(0.0, 1.0, None), chart.Sample(1000.0, 1.0, None)]
    assert chart.span_for(old, 1000.0) == 600.0
    assert chart.span_for(old[1:], 1100.0) == 120.0


# ------------------------------------------------------------------ formats


def test_value_formats_have_fixed_decimals() -> None:
    assert fmt.power(22_080.4) == "22.08 kW" and fmt.power(0) == "0.00 kW"
    assert fmt.energy(1234.5) == "1.234 kWh" or fmt.energy(1234.5) == "1.235 kWh"
    assert fmt.current([16.0, 16.0, 16.0]) == "16.0 A \u00d7 3"
    assert fmt.current([16.0, 0.0, 0.0]) == "16.0 / 0.0 / 0.0 A"
    assert fmt.current([]) == "—"
    assert fmt.voltage([230.4]) == "230 V"
    assert fmt.soc(None) == "—" and fmt.soc(42.04) == "42.0 %"
    assert fmt.limit(None) == "none"
    assert fmt.limit((16.0, "A")) == "16.0 A per phase"
    assert fmt.limit((11_000.0, "W")) == "11.00 kW"


def test_transaction_and_auth_texts() -> None:
    assert fmt.transaction(None, None) == "—"
    assert fmt.transaction(None, "TAG") == "starting (TAG)"
    assert fmt.transaction(42, "TAG") == "#42 · TAG"
    assert fmt.transaction(-1, "TAG") == "not accepted by the CSMS"
    assert fmt.auth_text(None) == ("—", "")
    assert fmt.auth_text(("TAG", "Accepted")) == ("Accepted · TAG", "ok")
    assert fmt.auth_text(("TAG", "Blocked")) == ("Blocked · TAG", "bad")


def test_reservation_text() -> None:
    assert fmt.reservation(None) == "—"
    shown = (7, 1, "TAG", "2026-12-02T14:05:00.000Z")
    assert fmt.reservation(shown) == "#7 · TAG until 14:05 UTC"
    assert fmt.reservation((8, 0, "TAG", "2026-12-02T14:05:00Z")) == (
        "#8 · TAG (any connector) until 14:05 UTC"
    )


def test_profile_and_schedule_texts() -> None:
    entry = {
        "connectorId": 0,
        "chargingProfileId": 3,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Daily",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}],
        },
    }
    assert fmt.profile(entry) == (
        "#3 TxDefaultProfile · stack 1 · Recurring Daily · 11.00 kW · whole station"
    )
    tx = {**entry, "connectorId": 1, "transactionId": 42, "chargingProfilePurpose": "TxProfile"}
    assert fmt.profile(tx).endswith("· tx #42")
    payload = {
        "status": "Accepted",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16, "numberPhases": 3},
                {"startPeriod": 930, "limit": 8.5},
            ],
        },
    }
    assert fmt.schedule(payload) == ["+0:00  16.0 A (3 phases)", "+0:15:30  8.5 A"]
    assert fmt.schedule({"status": "Rejected"}) == ["not available"]
    empty = {"status": "Accepted", "chargingSchedule": {"chargingSchedulePeriod": []}}
    assert fmt.schedule(empty) == ["no limit"]


def test_operation_texts() -> None:
    assert fmt.operation(None, "nothing yet") == ("Idle", None, "nothing yet", "")
    assert fmt.operation(("Downloading", 40, "40 %"), "") == ("Downloading", 40, "40 %", "")
    assert fmt.operation(("InstallationFailed", None, "x"), "")[3] == "bad"
    assert fmt.operation(("Uploaded", None, "done"), "")[3] == "ok"


def test_status_note() -> None:
    assert fmt.status_note("NoError", None, False, False) == ("No cable", "")
    assert fmt.status_note("NoError", None, True, True) == ("Cable plugged in, cable locked", "")
    text, tone = fmt.status_note("GroundFailure", ("GroundFailure", "leak", None), True, False)
    assert (text, tone) == ("Error: GroundFailure — leak", "error")


def test_connection_labels() -> None:
    assert fmt.connection_label("reconnect-wait") == "Reconnecting"
    assert fmt.connection_label("weird") == "Weird"


# ------------------------------------------------------------------ preferences and deep links


def test_prefs_round_trip_and_defaults() -> None:
    prefs = Prefs(FormValues(csms_url="ws://x/ocpp", auth_key="k"), connect_on_load=True)
    assert load_prefs(dump_prefs(prefs), "ws://default/ocpp") == prefs
    for broken in (None, "", "not json", "[]", '{"form": 3}'):
        assert load_prefs(broken, "ws://d/ocpp").form == FormValues(csms_url="ws://d/ocpp")
    partial = load_prefs('{"form": {"charge_box_id": "CB", "ocpp_version": "9", "x": 1}}', "ws://d")
    assert partial.form.charge_box_id == "CB" and partial.form.ocpp_version == "1.6"
    assert partial.connect_on_load is False


def test_form_repr_hides_the_key() -> None:
    assert "hunter2" not in repr(FormValues(auth_key="hunter2"))


def test_deep_link() -> None:
    link = parse_deep_link(
        {"url": " ws://h/ocpp ", "id": "CB-1", "ocpp": "ocpp1.6", "autoconnect": "1"}
    )
    assert (link.csms_url, link.charge_box_id, link.ocpp_version) == ("ws://h/ocpp", "CB-1", "1.6")
    assert link.autoconnect and link.problems == ()
    form = link.apply(FormValues(csms_url="ws://old", charge_box_id="OLD"))
    assert form.csms_url == "ws://h/ocpp" and form.charge_box_id == "CB-1"
    assert parse_deep_link({"ocpp": "2.0.1"}).ocpp_version == "2.0.1"
    bad = parse_deep_link({"ocpp": "3", "autoconnect": "0"})
    assert (
        bad.ocpp_version is None
        and not bad.autoconnect
        and "not an OCPP version" in bad.problems[0]
    )
    assert not parse_deep_link({}).any


def test_form_maps_onto_station_settings() -> None:
    form = FormValues(csms_url=" ws://h:9/ocpp ", charge_box_id="CB", auth_key="")
    settings = StationSettings.from_json(station_settings_json(form))
    assert settings.csms_url == "ws://h:9/ocpp" and settings.auth_key is None
    keyed = StationSettings.from_json(station_settings_json(FormValues(csms_url="", auth_key="k")))
    assert keyed.auth_key == "k"
