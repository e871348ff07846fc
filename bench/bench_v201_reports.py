"""OCPP 2.0.1 device model: GetBaseReport and GetVariables cost, and the variables view.

Usage: ``python bench/bench_v201_reports.py [--quick]``. A 2.0.1 station (2 EVSEs, and 12 for a
bigger device model) gets GetBaseReport FullInventory; the time runs from receiving the request
to the last NotifyReport page answered, with the CSMS reduced to prebuilt empty replies (every
frame the engine sends is still built and schema-checked as usual). Prints the median of the runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ocpp_core import ChargePoint, StationIdentity  # noqa: E402

CURRENT_TIME = "2024-01-01T00:00:00.000Z"


def station(evses: int) -> ChargePoint:
    """A connected 2.0.1 station whose start-up traffic (if any) is answered."""
    cp = ChargePoint(
        identity=StationIdentity(vendor="Bench", model="B-2"), connectors=evses, version="2.0.1"
    )
    cp.connected(0.0)
    answer_all(cp)
    return cp


def answer_all(cp: ChargePoint) -> int:
    """Answer every CALL the station sends until it is quiet; the number of frames it sent."""
    sent = 0
    while frames := cp.poll(0.0):
        for text in frames:
            sent += 1
            frame = json.loads(text)
            if frame[0] != 2:
                continue
            if frame[2] == "BootNotification":
                reply = {"status": "Accepted", "currentTime": CURRENT_TIME, "interval": 300}
            elif frame[2] == "Heartbeat":
                reply = {"currentTime": CURRENT_TIME}
            else:
                reply = {}
            cp.receive(json.dumps([3, frame[1], reply]), 0.0)
    return sent


def base_report(cp: ChargePoint, request_id: int) -> tuple[float, int]:
    """Seconds from GetBaseReport FullInventory to the last page answered; frames sent."""
    request = json.dumps(
        [
            2,
            f"r{request_id}",
            "GetBaseReport",
            {"requestId": request_id, "reportBase": "FullInventory"},
        ]
    )
    start = time.perf_counter()
    cp.receive(request, 0.0)
    frames = answer_all(cp)
    return time.perf_counter() - start, frames


def get_variables(cp: ChargePoint, count: int) -> float:
    """Seconds per GetVariables of 10 items (answered, not sent over a wire)."""
    items = [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "OfflineThreshold"}},
        {
            "component": {"name": "EVSE", "evse": {"id": 1}},
            "variable": {"name": "AvailabilityState"},
        },
    ] * 5
    start = time.perf_counter()
    for n in range(count):
        cp.receive(json.dumps([2, f"g{n}", "GetVariables", {"getVariableData": items}]), 0.0)
        cp.poll(0.0)
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    runs = 5 if parser.parse_args().quick else 25
    for evses in (2, 12):
        cp = station(evses)
        variables = len(cp.variables(0.0))
        times, frames = [], 0
        for request_id in range(runs):
            seconds, frames = base_report(cp, request_id)
            times.append(seconds)
        print(
            f"GetBaseReport FullInventory, {evses} EVSEs, {variables} variables, "
            f"{frames - 1} NotifyReport pages: "
            f"{statistics.median(times) * 1000:.2f} ms (median of {runs})"
        )
        start = time.perf_counter()
        for _ in range(runs):
            cp.variables(0.0)
        print(
            f"ChargePoint.variables(), {evses} EVSEs: "
            f"{(time.perf_counter() - start) / runs * 1000:.3f} ms"
        )
    cp = station(2)
    per_call = get_variables(cp, runs * 40)
    print(f"GetVariables of 10 items: {per_call * 1e6:.0f} µs each, {1 / per_call:.0f}/s")


if __name__ == "__main__":
    main()
