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
    wheels = sorted((DIST / "wheels").glob("ocpp_station_simulator-*.whl"))
    if len(wheels) != 1:
        pytest.fail(f"{DIST} holds no built simulator wheel: run `python3 build.py build` first")
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


ENGINE_SMOKE = r"""
import json
from ocpp_core import ChargePoint, MemoryStore, StationIdentity

cp = ChargePoint(identity=StationIdentity(vendor="Acme", model="Sim"), store=MemoryStore())
cp.connected(0.0)
boot = json.loads(cp.poll(0.0)[0])
assert boot[2] == "BootNotification", boot
cp.receive(json.dumps([3, boot[1], {
    "status": "Accepted", "currentTime": "2026-01-01T00:00:00Z", "interval": 300}]), 0.1)
statuses = []
for _ in range(3):
    for text in cp.poll(0.2):
        frame = json.loads(text)
        statuses.append(frame[3])
        cp.receive(json.dumps([3, frame[1], {}]), 0.2)
assert [s["connectorId"] for s in statuses] == [0, 1, 2], statuses
# hostile input on Python 3.14: deep nesting, huge numbers, garbage, unknown action
for text in ["[" * 100000, '[2,"x","Reset",{"type":1e999}]', "\x00", '[2,"y","Nope",{}]']:
    cp.receive(text, 0.3)
replies = [json.loads(t) for t in cp.poll(0.3)]
print(sorted((r[0], r[2]) for r in replies))
"""


def test_engine_boots_and_survives_hostile_frames_in_pyodide() -> None:
    out = run_in_pyodide(ENGINE_SMOKE)
    assert "(4, 'FormationViolation'), (4, 'NotImplemented')" in out, out
