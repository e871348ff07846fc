"""The storm and fuzz tests' counts: printed at once and repeated in the pytest summary.

A conftest takes both names (``report_counts`` fixture, ``pytest_terminal_summary`` hook); the
unit and the end-to-end suites share this one module.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

_COUNTS = pytest.StashKey[list[str]]()


@pytest.fixture
def report_counts(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Print a storm's or fuzz run's counts now and again in the summary."""
    lines = request.config.stash.setdefault(_COUNTS, [])

    def report(line: str) -> None:
        lines.append(f"{request.node.name}: {line}")
        print(line)

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(_COUNTS, [])
    if lines:
        terminalreporter.section("storm and fuzz counts")
        for line in lines:
            terminalreporter.write_line(line)
