"""docs/ocpp201-coverage.md stays true: the tests it names exist, and it accounts for every
part-6 station test case of the blocks issues 13, 14 and 15 implement (covered, or left out with
a reason)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ocpp201-coverage.md"
PART6 = ROOT.parent / "shared" / "spec" / "ocpp201" / "OCPP-2.0.1_part6_test_cases.txt"

# "tests/x.py::name" and the "::other" names that follow it in the same cell.
_REFERENCE = re.compile(r"((?:tests|e2e)/[\w/]+\.py)?::(\w+)")


def _references() -> list[tuple[str, str]]:
    found = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        path = None
        for match in _REFERENCE.finditer(line):
            path = match.group(1) or path
            if path is not None:
                found.append((path, match.group(2)))
    return found


def _functions(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_test_the_coverage_table_names_exists() -> None:
    references = _references()
    assert len(references) > 200
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not (ROOT / path).is_file() or name not in _functions(path)
    ]
    assert missing == []


def test_every_part6_station_case_of_the_core_blocks_is_accounted_for() -> None:
    if not PART6.is_file():
        pytest.skip("the OCPP 2.0.1 part 6 text is not beside the repository (../shared)")
    cases = set(re.findall(r"TC_[ABCEFGJPKLMN]_\d+_CS\b", PART6.read_text(encoding="utf-8")))
    assert len(cases) > 150
    doc = DOC.read_text(encoding="utf-8")
    assert sorted(case for case in cases if not re.search(rf"\b{case}\b", doc)) == []
