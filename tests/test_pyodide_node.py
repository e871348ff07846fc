"""Our wheel in real Pyodide (Python 3.14) under Node: micropip installs it from the built dist/.

This is the fast check that the browser pipeline's Python half works — the lock's micropip hash, the
wheel, and that the packages import on Pyodide's Python — without starting a browser.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("OCPP_SIM_DIST", ROOT / "dist"))
RUNNER = Path(__file__).resolve().parent / "pyodide_node" / "run.mjs"


def run_in_pyodide(code: str) -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node not found: install Node.js to run the Pyodide checks")
    wheels = sorted((DIST / "wheels").glob("*.whl"))
    if len(wheels) != 1:
        pytest.fail(f"{DIST} holds no built wheel: run `python3 build.py build` first")
    result = subprocess.run(
        [node, str(RUNNER), str(DIST), str(wheels[0]), code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_wheel_installs_and_imports_in_pyodide() -> None:
    out = run_in_pyodide(
        "import sys, ocpp_core, sim\n"
        "print(sys.version_info[:2], ocpp_core.__version__, sim.__version__)\n"
    )
    assert "(3, 14) 0.1.0 0.1.0" in out
