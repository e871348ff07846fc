"""A fleet of N stations in one process against a fast CSMS sink on loopback.

Usage: ``python bench/bench_fleet.py [--quick] [--counts 1000,5000,10000] [--ramp 250]
[--window 60] [--sim-root DIR]``.

Two processes besides this one: the CSMS sink (this file run with ``--sink``: a websockets
server answering every station CALL at once with a valid result, and sending CSMS-initiated
CALLs, GetConfiguration in 1.6 / GetVariables in 2.0.1, at ``--call-rate`` per second to a random
connected station to time the round trip) and the fleet, ``python -m sim --count N --plugged 1,2
--idtag T --ramp R`` (every connector charging, MeterValues every 60 s, heartbeat 60 s).

Printed per N: the boot time (fleet start to the last BootNotification), the time until every
connector charges, messages/s the CSMS received, the station process's CPU share (of one core)
and resident memory per station over a ``--window`` seconds steady state, and the p50/p99 of the
CSMS -> station round trips in that window. ``--sim-root`` runs the fleet from another checkout
(e.g. ``git worktree add /tmp/fleet_before 8758e7a``) to compare; a checkout whose CLI has no
``--ramp`` connects all stations at once.

Targets (issue 16): 10,000 stations booted within 60 s, round trip p99 <= 200 ms, <= 40 KB RSS
per station, station process below half a core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

HEARTBEAT_S = 60
FD_HEADROOM = 256


def raise_nofile(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` (within the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


# ---------------------------------------------------------------------- the CSMS sink


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Sink:
    """Answers station CALLs, sends timed CSMS CALLs, counts what it saw."""

    def __init__(self, call_rate: float) -> None:
        self.call_rate = call_rate
        self.open: dict[int, Any] = {}  # id(ws) -> connection
        self.ids = itertools.count(1)
        self.pending: dict[str, tuple[float, str]] = {}
        self.reset()
        self.boots = 0
        self.first_boot: float | None = None
        self.last_boot: float | None = None
        self.started = 0
        self.stopped = 0
        self.connects = 0
        self.tx_ids = itertools.count(1)

    def reset(self) -> None:
        self.received = 0
        self.by_action: dict[str, int] = {}
        self.rtt_ms: list[float] = []
        self.calls_sent = 0
        self.unanswered = 0
        self.window_start = time.monotonic()

    def answer(self, action: str, payload: dict[str, Any], v201: bool) -> dict[str, Any]:
        if action == "BootNotification":
            now = time.monotonic()
            self.boots += 1
            self.first_boot = self.first_boot or now
            self.last_boot = now
            return {"status": "Accepted", "currentTime": _now_iso(), "interval": HEARTBEAT_S}
        if action == "Heartbeat":
            return {"currentTime": _now_iso()}
        if action == "Authorize":
            return (
                {"idTokenInfo": {"status": "Accepted"}}
                if v201
                else {"idTagInfo": {"status": "Accepted"}}
            )
        if action == "StartTransaction":
            self.started += 1
            return {"transactionId": next(self.tx_ids), "idTagInfo": {"status": "Accepted"}}
        if action == "StopTransaction":
            self.stopped += 1
            return {"idTagInfo": {"status": "Accepted"}}
        if action == "TransactionEvent":
            kind = payload.get("eventType")
            if kind == "Started":
                self.started += 1
            elif kind == "Ended":
                self.stopped += 1
            return {"idTokenInfo": {"status": "Accepted"}} if "idToken" in payload else {}
        if action == "DataTransfer":
            return {"status": "Accepted"}
        return {}

    async def handler(self, ws: Any) -> None:
        key = id(ws)
        self.open[key] = ws
        self.connects += 1
        v201 = ws.subprotocol == "ocpp2.0.1"
        try:
            async for text in ws:
                self.received += 1
                try:
                    frame = json.loads(text)
                except ValueError:
                    continue
                if frame[0] == 2:
                    action = frame[2]
                    self.by_action[action] = self.by_action.get(action, 0) + 1
                    reply = self.answer(action, frame[3], v201)
                    await ws.send(json.dumps([3, frame[1], reply]))
                elif frame[0] in (3, 4):
                    sent = self.pending.pop(frame[1], None)
                    if sent is not None:
                        self.rtt_ms.append((time.monotonic() - sent[0]) * 1000.0)
        except Exception:
            pass
        finally:
            self.open.pop(key, None)

    async def caller(self) -> None:
        """CSMS-initiated CALLs at a fixed rate to random connected stations."""
        if self.call_rate <= 0:
            return
        period = 1.0 / self.call_rate
        rng = random.Random(16)
        next_at = time.monotonic()
        while True:
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if not self.open:
                continue
            now = time.monotonic()
            for uid, (sent, _) in list(self.pending.items()):
                if now - sent > 30:
                    del self.pending[uid]
                    self.unanswered += 1
            ws = rng.choice(list(self.open.values()))
            uid = f"c{next(self.ids)}"
            if ws.subprotocol == "ocpp2.0.1":
                get = {
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
                frame = [2, uid, "GetVariables", {"getVariableData": [get]}]
            else:
                frame = [2, uid, "GetConfiguration", {"key": ["HeartbeatInterval"]}]
            self.pending[uid] = (now, str(id(ws)))
            self.calls_sent += 1
            with contextlib.suppress(Exception):
                await ws.send(json.dumps(frame))

    def stats(self) -> dict[str, Any]:
        return {
            "open": len(self.open),
            "connects": self.connects,
            "boots": self.boots,
            "first_boot": self.first_boot,
            "last_boot": self.last_boot,
            "started": self.started,
            "stopped": self.stopped,
            "received": self.received,
            "by_action": self.by_action,
            "window_s": time.monotonic() - self.window_start,
            "calls_sent": self.calls_sent,
            "rtt_ms": self.rtt_ms,
            "unanswered": self.unanswered + len(self.pending),
        }


async def sink_main(call_rate: float) -> None:
    from websockets.asyncio.server import serve

    raise_nofile(1 << 20)
    sink = Sink(call_rate)
    async with serve(
        sink.handler,
        "127.0.0.1",
        0,
        subprotocols=["ocpp1.6", "ocpp2.0.1"],  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
        max_queue=4,
        backlog=4096,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        caller = asyncio.ensure_future(sink.caller())
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = (await reader.readline()).decode().strip()
            if not line or line == "quit":
                return
            if line == "reset":
                sink.reset()
                print("{}", flush=True)
            elif line == "stats":
                print(json.dumps(sink.stats()), flush=True)
        caller.cancel()


# ---------------------------------------------------------------------- the bench


class SinkProcess:
    def __init__(self, call_rate: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--sink", "--call-rate", str(call_rate)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the sink did not start: {line!r}")
        self.port = int(line.split()[1])

    def ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline()))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _supports_ramp(python: str, cwd: Path) -> bool:
    out = subprocess.run(
        [python, "-m", "sim", "--help"], cwd=cwd, capture_output=True, text=True, check=False
    ).stdout
    return "--ramp" in out


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_fleet(n: int, args: argparse.Namespace) -> dict[str, Any]:
    sim_root = Path(args.sim_root).resolve()
    python = args.python or sys.executable
    ramp = ["--ramp", str(args.ramp)] if _supports_ramp(python, sim_root) else []
    wanted_fds = n + FD_HEADROOM * 4
    raise_nofile(wanted_fds)  # inherited by both children
    sink = SinkProcess(args.call_rate)
    err = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in the finally below
    result: dict[str, Any] = {"n": n, "ramp": args.ramp if ramp else None}
    command = [
        python, "-m", "sim", "--url", f"ws://127.0.0.1:{sink.port}/ocpp", "--id", "B",
        "--count", str(n), "--plugged", "1,2", "--idtag", "T", "--ocpp", args.ocpp, *ramp,
    ]  # fmt: skip
    start = time.monotonic()
    out = open(args.fleet_log, "w") if args.fleet_log else subprocess.DEVNULL  # noqa: SIM115
    fleet = subprocess.Popen(command, cwd=sim_root, stdout=out, stderr=err)
    try:
        deadline = start + args.boot_timeout
        stats = sink.ask("stats")
        while stats["boots"] < n or stats["started"] < 2 * n:
            if fleet.poll() is not None:
                err.seek(0)
                raise RuntimeError(f"the fleet ended ({fleet.returncode}): {err.read()[-2000:]}")
            if time.monotonic() > deadline:
                result["timeout"] = f"{stats['boots']} booted, {stats['started']} charging"
                break
            time.sleep(0.25)
            stats = sink.ask("stats")
        if stats["last_boot"] is not None:
            result["boot_s"] = stats["last_boot"] - start
        result["charging_s"] = time.monotonic() - start
        result["boot_cpu_s"] = _cpu_s(fleet.pid)
        time.sleep(args.settle)
        sink.ask("reset")
        cpu0, t0 = _cpu_s(fleet.pid), time.monotonic()
        time.sleep(args.window)
        cpu1, t1 = _cpu_s(fleet.pid), time.monotonic()
        stats = sink.ask("stats")
        rss = _rss_kb(fleet.pid)
        result.update(
            msgs_per_s=stats["received"] / stats["window_s"],
            by_action={k: round(v / stats["window_s"], 1) for k, v in stats["by_action"].items()},
            cpu_share=(cpu1 - cpu0) / (t1 - t0),
            rss_mb=rss / 1024,
            hwm_mb=_rss_kb(fleet.pid, "VmHWM") / 1024,
            rss_per_station_kb=rss / n,
            rtt_count=len(stats["rtt_ms"]),
            rtt_p50_ms=_percentile(stats["rtt_ms"], 0.50),
            rtt_p99_ms=_percentile(stats["rtt_ms"], 0.99),
            rtt_max_ms=max(stats["rtt_ms"], default=float("nan")),
            unanswered=stats["unanswered"],
            open=stats["open"],
        )
        # The end: Ctrl-C stops every session with the card and disconnects.
        stop_at = time.monotonic()
        fleet.send_signal(signal.SIGINT)
        try:
            fleet.wait(args.stop_timeout)
            result["stop_s"] = time.monotonic() - stop_at
        except subprocess.TimeoutExpired:
            result["stop_s"] = None
        result["stopped"] = sink.ask("stats")["stopped"]
        return result
    finally:
        if fleet.poll() is None:
            fleet.kill()
            fleet.wait()
        sink.close()
        err.close()


def _fmt(value: Any, spec: str) -> str:
    if value is None:
        return "-"
    return format(value, spec)


def report(r: dict[str, Any]) -> None:
    parts = [
        f"N={r['n']:>6}  ramp={r['ramp'] or 'none':>5}",
        f"boot {_fmt(r.get('boot_s'), '.1f')} s (all charging {_fmt(r.get('charging_s'), '.1f')} s,"
        f" boot CPU {_fmt(r.get('boot_cpu_s'), '.1f')} s)",
        f"{_fmt(r.get('msgs_per_s'), '.0f')} msgs/s",
        f"CPU {_fmt(100 * r.get('cpu_share', 0), '.1f')} % of a core",
        f"RSS {_fmt(r.get('rss_mb'), '.0f')} MB = {_fmt(r.get('rss_per_station_kb'), '.1f')}"
        " KB/station",
        f"CSMS->station p50 {_fmt(r.get('rtt_p50_ms'), '.1f')} ms"
        f" p99 {_fmt(r.get('rtt_p99_ms'), '.1f')} ms (max {_fmt(r.get('rtt_max_ms'), '.0f')} ms,"
        f" n={r.get('rtt_count')}, unanswered {r.get('unanswered')})",
        f"stop {_fmt(r.get('stop_s'), '.1f')} s, {r.get('stopped')}/{2 * r['n']} stopped",
    ]
    if "timeout" in r:
        parts.append(f"TIMEOUT: {r['timeout']}")
    print("  ".join(parts), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="N = 1,000 only")
    parser.add_argument("--counts", default="1000,5000,10000")
    parser.add_argument("--ramp", type=float, default=250.0, help="connections per second")
    parser.add_argument("--window", type=float, default=60.0, help="steady-state seconds measured")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after all charge")
    parser.add_argument("--call-rate", type=float, default=20.0, help="CSMS CALLs per second")
    parser.add_argument("--ocpp", default="1.6", choices=("1.6", "2.0.1"))
    parser.add_argument("--boot-timeout", type=float, default=300.0)
    parser.add_argument("--stop-timeout", type=float, default=180.0)
    parser.add_argument("--sim-root", default=str(ROOT), help="checkout whose sim runs the fleet")
    parser.add_argument("--python", default=None, help="interpreter for the fleet")
    parser.add_argument("--json", action="store_true", help="also print each result as JSON")
    parser.add_argument("--fleet-log", help="write the fleet's readable lines to this file")
    args = parser.parse_args()
    if args.sink:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(sink_main(args.call_rate))
        return
    counts = [1000] if args.quick else [int(c) for c in args.counts.split(",")]
    print(
        f"fleet bench: {os.cpu_count()} CPUs, sim from {args.sim_root}, {args.call_rate:g} CSMS"
        f" CALLs/s, window {args.window:g} s, OCPP {args.ocpp}",
        flush=True,
    )
    for n in counts:
        result = run_fleet(n, args)
        report(result)
        if args.json:
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
