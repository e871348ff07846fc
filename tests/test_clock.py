"""Date-time parsing/formatting as CSMSs send it, and the monotonic-to-wall-time Clock."""

from __future__ import annotations

import ast
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocpp_core.clock import (
    DEFAULT_EPOCH,
    SYNC_MAX,
    SYNC_MIN,
    Clock,
    format_datetime,
    parse_datetime,
)

# 2024-03-10T12:34:56Z
BASE = 1710074096.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-10T12:34:56Z", BASE),
        ("2024-03-10T12:34:56z", BASE),
        ("2024-03-10t12:34:56Z", BASE),
        ("2024-03-10 12:34:56Z", BASE),
        ("2024-03-10T12:34:56+00:00", BASE),
        ("2024-03-10T12:34:56-00:00", BASE),
        ("2024-03-10T13:34:56+01:00", BASE),
        ("2024-03-10T13:34:56+0100", BASE),
        ("2024-03-10T13:34:56+01", BASE),
        ("2024-03-10T07:04:56-0530", BASE),
        ("2024-03-10T07:04:56-05:30", BASE),
        ("2024-03-11T02:34:56+14:00", BASE),
        ("2024-03-10T12:34:56", BASE),  # no offset: UTC
        ("2024-03-10 12:34:56", BASE),
        ("2024-03-10T12:34:56.5Z", BASE + 0.5),
        ("2024-03-10T12:34:56.12Z", BASE + 0.12),
        ("2024-03-10T12:34:56.123Z", BASE + 0.123),
        ("2024-03-10T12:34:56.1234Z", BASE + 0.1234),
        ("2024-03-10T12:34:56.123456Z", BASE + 0.123456),
        ("2024-03-10T12:34:56.1234567Z", BASE + 0.1234567),
        ("2024-03-10T12:34:56.123456789Z", BASE + 0.123456789),
        ("2024-03-10T12:34:56.000000000+00:00", BASE),
        ("2024-03-10T12:34:56,25Z", BASE + 0.25),
        ("2024-03-10T13:34:56.250+01:00", BASE + 0.25),
        ("1970-01-01T00:00:00Z", 0.0),
        ("1969-12-31T23:59:59Z", -1.0),
        ("2016-12-31T23:59:60Z", 1483228800.0),  # leap second: the next second, as POSIX
        ("2024-02-29T00:00:00Z", 1709164800.0),
        ("2000-01-01T00:00:00+23:59", 946684800.0 - 23 * 3600 - 59 * 60),
        ("9999-12-31T23:59:59Z", 253402300799.0),
    ],
)
def test_parse(text: str, expected: float) -> None:
    assert parse_datetime(text) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "2024-03-10",
        "12:34:56",
        "2024-03-10T12:34Z",
        "2024-03-10T12:34:56.Z",
        "2024-03-10T12:34:56.1234567890Z",
        "2024-3-10T12:34:56Z",
        "24-03-10T12:34:56Z",
        "2024-03-10X12:34:56Z",
        "2024-03-10T12:34:56ZZ",
        "2024-03-10T12:34:56+1",
        "2024-03-10T12:34:56+01:0",
        "2024-03-10T12:34:56+01:00:00",
        "2024-03-10T12:34:56 +01:00",
        " 2024-03-10T12:34:56Z",
        "2024-03-10T12:34:56Z ",
        "2024-13-10T12:34:56Z",
        "2024-00-10T12:34:56Z",
        "2023-02-29T12:34:56Z",
        "2024-04-31T12:34:56Z",
        "0000-01-01T00:00:00Z",
        "2024-03-10T24:00:00Z",
        "2024-03-10T12:60:00Z",
        "2024-03-10T12:34:61Z",
        "2024-03-10T12:34:56+24:00",
        "2024-03-10T12:34:56+01:60",
        "\uff12\uff10\uff12\uff14-03-10T12:34:56Z",  # fullwidth (non-ASCII) digits
        "2024-03-10T12:34:56UTC",
    ],
)
def test_parse_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match=r"date-time|date|time|offset"):
        parse_datetime(text)


@pytest.mark.parametrize("value", [None, 1710074096, b"2024-03-10T12:34:56Z"])
def test_parse_rejects_non_strings_with_value_error(value: object) -> None:
    with pytest.raises(ValueError):
        parse_datetime(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (BASE, "2024-03-10T12:34:56.000Z"),
        (BASE + 0.123, "2024-03-10T12:34:56.123Z"),
        (BASE + 0.1234, "2024-03-10T12:34:56.123Z"),
        (BASE + 0.9996, "2024-03-10T12:34:57.000Z"),  # rounds into the next second
        (0.0, "1970-01-01T00:00:00.000Z"),
        (-0.001, "1969-12-31T23:59:59.999Z"),
        (DEFAULT_EPOCH, "2020-01-01T00:00:00.000Z"),
        (253402300799.999, "9999-12-31T23:59:59.999Z"),
        (-62135596800.0, "0001-01-01T00:00:00.000Z"),
        (-30610224001.0, "0999-12-31T23:59:59.000Z"),
    ],
)
def test_format(epoch: float, expected: str) -> None:
    assert format_datetime(epoch) == expected


@pytest.mark.parametrize("epoch", [math.nan, math.inf, -math.inf, 1e20, -1e20])
def test_format_rejects_unrepresentable(epoch: float) -> None:
    with pytest.raises(ValueError):
        format_datetime(epoch)


def test_format_matches_stdlib() -> None:
    expected = datetime(2024, 3, 10, 12, 34, 56, 789000, tzinfo=UTC).timestamp()
    assert format_datetime(expected) == "2024-03-10T12:34:56.789Z"


EPOCHS = st.floats(min_value=-62135596800.0, max_value=253402300799.0, allow_nan=False)


@given(EPOCHS)
def test_round_trip_keeps_milliseconds(epoch: float) -> None:
    text = format_datetime(epoch)
    assert round(parse_datetime(text) * 1000) == round(epoch * 1000)
    assert format_datetime(parse_datetime(text)) == text


# ISO 8601 offsets have minute precision and stay within +-23:59 (no tz database needed).
OFFSETS = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS)
)
def test_parse_agrees_with_stdlib_for_any_offset(moment: datetime) -> None:
    assert parse_datetime(moment.isoformat()) == pytest.approx(moment.timestamp(), abs=1e-4)


# --- Clock ---------------------------------------------------------------------------------------


def test_unsynced_default_clock() -> None:
    clock = Clock()
    assert not clock.is_synced
    assert clock.wall(0.0) == DEFAULT_EPOCH
    assert clock.wall(90.5) == DEFAULT_EPOCH + 90.5
    assert clock.timestamp(1.25) == "2020-01-01T00:00:01.250Z"


def test_default_epoch_is_documented_date() -> None:
    assert parse_datetime("2020-01-01T00:00:00Z") == DEFAULT_EPOCH


def test_start_wall_time() -> None:
    clock = Clock(wall_at_start=BASE, mono_at_start=1000.0)
    assert not clock.is_synced  # the host's clock is not the CSMS's
    assert clock.wall(1000.0) == BASE
    assert clock.wall(1060.0) == BASE + 60


def test_sync_sets_wall_time_and_flag() -> None:
    clock = Clock(mono_at_start=5.0)
    clock.sync(BASE, now=100.0)
    assert clock.is_synced
    assert clock.wall(100.0) == BASE
    assert clock.wall(130.25) == BASE + 30.25
    clock.sync(BASE - 10, now=200.0)  # a later sync may move wall time backwards
    assert clock.wall(200.0) == BASE - 10


def test_sync_from_csms_text() -> None:
    clock = Clock()
    clock.sync(parse_datetime("2024-03-10T13:34:56.500+01:00"), now=7.0)
    assert clock.timestamp(8.0) == "2024-03-10T12:34:57.500Z"


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_times_rejected(bad: float) -> None:
    with pytest.raises(ValueError):
        Clock(wall_at_start=bad)
    with pytest.raises(ValueError):
        Clock(mono_at_start=bad)
    clock = Clock()
    with pytest.raises(ValueError):
        clock.sync(bad, now=0.0)
    with pytest.raises(ValueError):
        clock.sync(BASE, now=bad)
    assert not clock.is_synced


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59.999Z",
        "9000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "1970-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
    ],
)
def test_sync_refuses_a_time_outside_years_2000_to_8999(text: str, caplog) -> None:
    clock = Clock(wall_at_start=BASE)
    assert clock.sync(parse_datetime(text), now=5.0) is False
    assert not clock.is_synced
    assert clock.wall(5.0) == BASE + 5.0  # the old offset stays
    assert "clock not set" in caplog.text
    clock.sync(BASE, now=0.0)
    assert clock.sync(parse_datetime(text), now=5.0) is False
    assert clock.is_synced  # an earlier good sync is kept too
    assert clock.wall(5.0) == BASE + 5.0


@pytest.mark.parametrize("text", ["2000-01-01T00:00:00Z", "8999-12-31T23:59:59.999Z"])
def test_sync_accepts_the_edges_of_the_sane_range(text: str) -> None:
    clock = Clock()
    assert clock.sync(parse_datetime(text), now=0.0) is True
    assert clock.timestamp(0.0) == format_datetime(parse_datetime(text))
    assert SYNC_MIN <= parse_datetime(text) < SYNC_MAX


@pytest.mark.parametrize(
    ("now", "expected"),
    [(1e300, "9999-12-31T23:59:59.000Z"), (-1e300, "0001-01-01T00:00:00.000Z")],
)
def test_timestamp_never_raises_for_an_absurd_now(now: float, expected: str) -> None:
    clock = Clock()
    assert clock.timestamp(now) == expected
    assert format_datetime(clock.wall(now)) == expected


def test_core_never_reads_the_wall_clock() -> None:
    """The sans-IO contract: time only ever comes from the caller."""
    banned = {("time", "time"), ("time", "time_ns"), ("datetime", "now"), ("datetime", "utcnow")}
    banned |= {("datetime", "today"), ("date", "today")}
    core = Path(__file__).resolve().parent.parent / "ocpp_core"
    for source in core.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert (node.value.id, node.attr) not in banned, f"{source}:{node.lineno}"
            if isinstance(node, ast.ImportFrom) and node.module == "time":
                names = {alias.name for alias in node.names}
                assert not names & {"time", "time_ns"}, f"{source}:{node.lineno}"


def test_core_opens_no_sockets_starts_no_threads_and_never_sleeps() -> None:
    """The sans-IO contract beyond the clock: no network, event loop, process or timer module,
    and the one threading use is a lock (schemas compile lazily, maybe from several threads)."""
    banned_modules = {
        "socket", "ssl", "asyncio", "select", "selectors", "subprocess", "time", "sched",
        "urllib", "http", "signal", "multiprocessing", "concurrent",
    }  # fmt: skip
    core = Path(__file__).resolve().parent.parent / "ocpp_core"
    for source in core.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    assert top not in banned_modules, f"{source}:{node.lineno} imports {top}"
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                top = node.module.split(".")[0]
                assert top not in banned_modules, f"{source}:{node.lineno} imports {top}"
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "threading"
            ):
                assert node.attr == "Lock", f"{source}:{node.lineno} threading.{node.attr}"
