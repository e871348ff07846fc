"""Suite-wide guard: every frame any ChargePoint sends in any test is checked against the official
OCPP schemas by an independent validator (see ocpp_schema_check.py).

A test that really wants the engine to send garbage opts out with
``@pytest.mark.allow_invalid_frames``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest
from count_report import pytest_terminal_summary, report_counts  # noqa: F401  (fixture, hook)
from ocpp_schema_check import FrameGuard, engine_class

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "allow_invalid_frames: the test makes the engine send invalid frames on purpose;"
        " skip the suite-wide OCPP frame check",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item so the guard's teardown can see how the test went."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(autouse=True)
def _check_engine_frames(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FrameGuard | None]:
    """Wrap ChargePoint.poll/receive for this test; do nothing while the engine does not exist."""
    cls = engine_class()
    if cls is None or request.node.get_closest_marker("allow_invalid_frames"):
        yield None
        return
    guard = FrameGuard()
    guard.install(monkeypatch, cls)
    yield guard
    problem = guard.report()
    call = request.node.stash.get(_REPORTS, {}).get("call")
    # A test that already failed shows the error itself; only a passing one hid (swallowed) it.
    if problem is not None and call is not None and call.passed:
        pytest.fail(problem, pytrace=False)
