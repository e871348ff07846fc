"""The station and its runtime in real Pyodide (Python 3.14 under Node, from the built dist/):
the same code as on CPython, on the browser event loop, without websockets."""

from __future__ import annotations

import subprocess
import sys

from test_pyodide_node import run_in_pyodide

STATION_IN_PYODIDE = r"""
import json, sys
from ocpp_core import MemoryStore
from sim.runtime import Runtime
from sim.settings import StationSettings
from sim.station import Station
from sim.transport.base import ConnectionState


class Loopback:
    def __init__(self, config, listener):
        self.listener = listener
        self.sent = []

    def start(self):
        self.listener.on_state(ConnectionState.CONNECTED, "connected")
        self.listener.on_open("ocpp1.6")

    def stop(self):
        pass

    def set_offline(self, offline):
        pass

    def send(self, text):
        frame = json.loads(text)
        if frame[0] == 2:
            self.sent.append(frame[2])
            reply = {}
            if frame[2] == "BootNotification":
                reply = {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z",
                         "interval": 300}
            self.listener.on_message(json.dumps([3, frame[1], reply]))
        return True


made = []
station = Station(StationSettings("ws://csms.test/ocpp"), store=MemoryStore(),
                  transport_factory=lambda c, l: made.append(Loopback(c, l)) or made[-1])
runtime = Runtime([station], speed=50.0)
station.connect()
station.plug(1)
await runtime.run(until=20.0)
assert "websockets" not in sys.modules
print("registration", station.engine.registration)
print("sent", ",".join(made[0].sent))
print("status", station.snapshot(1).status)
"""


def test_station_boots_on_the_pyodide_event_loop() -> None:
    out = run_in_pyodide(STATION_IN_PYODIDE)
    assert "registration Accepted" in out
    assert "sent BootNotification,StatusNotification" in out
    assert "status Preparing" in out


def test_station_modules_import_without_websockets_or_js() -> None:
    code = (
        "import sys, sim.station, sim.runtime, sim.cli\n"
        "assert 'websockets' not in sys.modules, 'websockets imported'\n"
        "assert 'js' not in sys.modules and 'pyodide' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
