"""Locust users as stations (sim/locust.py): what each CALL reports, and real Locust runs.

The CallReporter (sim/locust_calls.py) is pure and tested here directly. Locust itself runs in
subprocesses only: importing it monkey-patches the standard library for gevent, which would
break the other tests of this process. The runs use examples/locustfile.py, a fast ATG profile
and a small CSMS on a loopback port (tests/locust_csms.py) that answers chosen actions with a
CALLERROR or a schema-breaking reply.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from locust_csms import LocustCsms

from ocpp_core import rpc
from sim.locust_calls import (
    CONNECT,
    OCPP,
    WEBSOCKET,
    CallErrorReply,
    CallReporter,
    ConnectFailed,
    ConnectionLost,
    InvalidReply,
    NoReply,
)
from sim.transport.base import ConnectionState

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "examples" / "locustfile.py"

# ------------------------------------------------------------------ the reporter, pure


class Rig:
    """A CallReporter on a hand-moved clock, its reports collected, a fake transport and link."""

    def __init__(self, version: str = "1.6", timeout: float = 30.0) -> None:
        self.now = 100.0
        self.reports: list[tuple[str, str, float, int, Exception | None]] = []
        self.reporter = CallReporter(
            lambda *report: self.reports.append(report),
            version=lambda: version,
            timeout_s=lambda: timeout,
            clock=lambda: self.now,
        )
        self.received: list[tuple[str, Any]] = []
        self.sent: list[str] = []
        self.listeners: list[Any] = []
        factory = self.reporter.factory(self._make)
        self.transport = factory(None, self._link_listener())  # type: ignore[arg-type]

    def _make(self, config: Any, listener: Any) -> Any:
        self.listeners.append(listener)
        rig = self

        class Fake:
            state = ConnectionState.CONNECTED

            def start(self) -> None: ...

            def stop(self) -> None: ...

            def set_offline(self, offline: bool) -> None: ...

            def send(self, text: str) -> bool:
                rig.sent.append(text)
                return True

        return Fake()

    def _link_listener(self) -> Any:
        rig = self

        class Link:
            def on_open(self, subprotocol: str) -> None:
                rig.received.append(("open", subprotocol))

            def on_message(self, text: str) -> None:
                rig.received.append(("message", text))

            def on_close(self, reason: str) -> None:
                rig.received.append(("close", reason))

            def on_state(self, state: ConnectionState, detail: str) -> None:
                rig.received.append(("state", state))

        return Link()

    @property
    def listener(self) -> Any:
        return self.listeners[-1]

    def call(self, message_id: str, action: str, payload: dict[str, Any] | None = None) -> None:
        assert self.transport.send(rpc.call_text(message_id, action, payload or {}))

    def reply(self, text: str, after: float = 0.0) -> None:
        self.now += after
        self.listener.on_message(text)


def test_a_valid_callresult_is_a_success_timed_from_send_to_reply() -> None:
    rig = Rig()
    rig.call("m1", "Heartbeat")
    reply = rpc.result_text("m1", {"currentTime": "2026-01-01T00:00:00Z"})
    rig.reply(reply, after=0.25)
    assert rig.reports == [(OCPP, "Heartbeat", pytest.approx(250.0), len(reply), None)]
    assert ("message", reply) in rig.received  # the station still gets the frame
    assert rig.reporter.deadline is None


def test_a_callerror_fails_with_its_code() -> None:
    rig = Rig()
    rig.call("m1", "Authorize", {"idTag": "T"})
    rig.reply(rpc.error_text("m1", "InternalError", "database down"), after=0.01)
    ((kind, name, _, _, problem),) = rig.reports
    assert (kind, name) == (OCPP, "Authorize")
    assert isinstance(problem, CallErrorReply)
    assert str(problem) == "CALLERROR InternalError: database down"


def test_a_reply_the_response_schema_rejects_fails() -> None:
    rig = Rig()
    rig.call("m1", "StartTransaction", {})
    rig.reply(rpc.result_text("m1", {"transactionId": "seven", "idTagInfo": {}}))
    ((_, name, _, _, problem),) = rig.reports
    assert name == "StartTransaction" and isinstance(problem, InvalidReply)
    assert "StartTransactionResponse" in str(problem)


def test_the_schema_is_the_one_of_the_engines_version() -> None:
    """1.6's Authorize.conf carries idTagInfo, 2.0.1's AuthorizeResponse idTokenInfo."""
    reply = rpc.result_text("m1", {"idTagInfo": {"status": "Accepted"}})
    outcomes = {}
    for version in ("1.6", "2.0.1"):
        rig = Rig(version)
        rig.call("m1", "Authorize", {"idTag": "T"})
        rig.reply(reply)
        outcomes[version] = type(rig.reports[0][4])
    assert outcomes == {"1.6": type(None), "2.0.1": InvalidReply}


def test_a_malformed_reply_fails() -> None:
    rig = Rig()
    rig.call("m1", "Heartbeat")
    rig.reply('[3,"m1"]')
    assert isinstance(rig.reports[0][4], InvalidReply)


def test_replies_to_other_ids_and_csms_calls_are_not_reports() -> None:
    rig = Rig()
    rig.call("m1", "Heartbeat")
    rig.reply(rpc.result_text("other", {}))
    rig.reply(rpc.call_text("m1", "Reset", {"type": "Soft"}))  # a CSMS CALL reusing the id
    assert rig.reports == []
    assert rig.transport.send(rpc.result_text("csms-1", {"status": "Accepted"}))  # our reply
    assert rig.reports == [] and rig.reporter.deadline == pytest.approx(130.0)


def test_no_reply_within_the_message_timeout_fails() -> None:
    rig = Rig(timeout=30.0)
    rig.call("m1", "Heartbeat")
    rig.now += 29.9
    rig.reporter.expire()
    assert rig.reports == []
    rig.now += 0.2
    rig.reporter.expire()
    ((_, name, millis, _, problem),) = rig.reports
    assert name == "Heartbeat" and isinstance(problem, NoReply)
    assert millis == pytest.approx(30100.0)
    rig.reply(rpc.result_text("m1", {"currentTime": "2026-01-01T00:00:00Z"}))  # too late
    assert len(rig.reports) == 1


def test_the_next_call_means_the_engine_gave_up_on_the_outstanding_one() -> None:
    """The engine sends a CALL only when none is outstanding: one sent earlier than our own
    deadline (Authorize waits less) or the same id again (a transaction message re-sent after
    its timeout) ends the outstanding one unanswered."""
    rig = Rig()
    rig.call("m1", "Authorize", {"idTag": "T"})
    rig.now += 20
    rig.call("m2", "StatusNotification")
    rig.now += 30
    rig.call("m2", "StatusNotification")
    assert [(r[1], type(r[4])) for r in rig.reports] == [
        ("Authorize", NoReply),
        ("StatusNotification", NoReply),
    ]


def test_a_connection_lost_before_the_reply_fails_unless_the_user_stops() -> None:
    rig = Rig()
    rig.call("m1", "MeterValues", {})
    rig.listener.on_close("closed by the server: code 1001 (going away)")
    ((_, name, _, _, problem),) = rig.reports
    assert name == "MeterValues" and isinstance(problem, ConnectionLost)
    assert "going away" in str(problem)
    rig.call("m2", "MeterValues", {})
    rig.reporter.stop()
    rig.listener.on_close("closed by the station (stopped)")
    rig.now += 60
    rig.reporter.expire()
    assert len(rig.reports) == 1


def test_connection_attempts_are_reported() -> None:
    rig = Rig()
    rig.listener.on_state(ConnectionState.CONNECTING, "connecting")
    rig.now += 0.004
    rig.listener.on_open("ocpp1.6")
    rig.listener.on_close("connection lost (no close frame from the server)")
    rig.listener.on_state(ConnectionState.CONNECTING, "connecting")
    rig.now += 1.0
    rig.listener.on_close("connection refused by 127.0.0.1:1: is the CSMS running on that port?")
    assert [(r[0], r[1], round(r[2]), type(r[4])) for r in rig.reports] == [
        (WEBSOCKET, CONNECT, 4, type(None)),
        (WEBSOCKET, CONNECT, 1000, ConnectFailed),
    ]
    assert ("open", "ocpp1.6") in rig.received  # the link heard everything


def test_a_replaced_transport_reports_nothing_more() -> None:
    rig = Rig()
    old = rig.listener
    rig.call("m1", "Heartbeat")
    rig.reporter.factory(rig._make)(None, rig._link_listener())  # type: ignore[arg-type]
    old.on_message(rpc.result_text("m1", {"currentTime": "2026-01-01T00:00:00Z"}))
    old.on_close("closed by the station (stopped)")
    assert rig.reports == [] and rig.reporter.deadline is None


# ------------------------------------------------------------------ gevent stays out


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_only_locust_runs_import_gevent() -> None:
    """sim/locust.py and the gevent transport are in the wheel for `pip install '.[locust]'`,
    but nothing the browser, the CLI or the core loads imports them (or gevent, or Locust)."""
    gevent_side = {ROOT / "sim" / "locust.py", ROOT / "sim" / "transport" / "gevent.py"}
    sources = [
        path
        for folder in ("ocpp_core", "sim", "web")
        for path in (ROOT / folder).rglob("*.py")
        if path not in gevent_side
    ]
    assert ROOT / "sim" / "locust_calls.py" in sources
    banned = ("gevent", "locust", "sim.locust", "sim.transport.gevent")
    for path in sources:
        for name in _imports(path):
            assert not name.startswith(banned) or name == "sim.locust_calls", (path, name)
    assert "gevent" not in sys.modules and "locust" not in sys.modules  # not in this process


# ------------------------------------------------------------------ Locust runs

needs_locust = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="Locust is not installed (.[locust])"
)

FAST_PROFILE = """\
seed = 16
id_tags = ["LOC-1", "LOC-2"]
sessions = 1
first_plug_s = [0, 0.5]
card_after_s = [0.1, 0.3]
charge_s = [0.5, 1.5]
unplug_after_s = [0.1, 0.3]
pause_s = [0.2, 0.5]
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _locust(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--only-summary", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(processes: list[subprocess.Popen[str]], timeout: float) -> list[tuple[str, str]]:
    """Wait for every process (killed on failure or overrun); their stdout and stderr."""
    outputs = []
    deadline = time.monotonic() + timeout
    try:
        for process in processes:
            left = max(deadline - time.monotonic(), 0.1)
            outputs.append(process.communicate(timeout=left))
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.communicate()
    return outputs


_STATS_ROW = re.compile(r"^(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\(")
_ERROR_ROW = re.compile(r"^(\d+)\s+(\S+) (\S+): (.+?)\s*$")


def _stats(summary: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(type, name) -> (requests, failures), from the summary Locust prints as it ends (its
    --csv files are written every second, so they may miss the last one)."""
    table = summary.split("Response time percentiles")[0]
    rows = (_STATS_ROW.match(line) for line in table.splitlines())
    return {(m[1], m[2]): (int(m[3]), int(m[4])) for m in rows if m and m[1] != "Aggregated"}


def _failures(summary: str) -> list[tuple[str, str]]:
    """(name, error) of each kind of failure, from the summary's error report."""
    if "Error report" not in summary:
        return []
    report = summary.split("Error report", 1)[1]
    rows = (_ERROR_ROW.match(line) for line in report.splitlines())
    return [(m[3], m[4]) for m in rows if m]


@needs_locust
def test_headless_run_reports_every_action_the_injected_failures_and_reconnects(
    tmp_path: Path,
) -> None:
    """Five stations for 8 s; the CSMS answers every Heartbeat with a CALLERROR and every
    StatusNotification with a reply its schema rejects, and drops all connections once the
    stations are charging: they reconnect and go on."""
    profile = tmp_path / "fast.toml"
    profile.write_text(FAST_PROFILE, encoding="utf-8")
    csms = LocustCsms(heartbeat_interval=1, callerror={"Heartbeat"}, invalid={"StatusNotification"})
    with csms:
        args = ["--headless", "-u", "5", "-r", "5", "--run-time", "8s", "--host", csms.url]
        args += ["--atg", str(profile), "--station-prefix", "T16-"]
        process = _locust(*args)
        try:
            deadline = time.monotonic() + 20
            while csms.snapshot()[1].get("StartTransaction", 0) < 5:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.05)
            csms.drop_all()
        finally:
            ((_, err),) = _finish([process], timeout=40)
        stations, calls = csms.snapshot()
    assert stations == {f"T16-0-{n:05d}" for n in range(1, 6)}, err[-2000:]
    assert csms.connections == 10  # each station once more after the drop
    stats = _stats(err)
    assert stats[WEBSOCKET, CONNECT] == (10, 0)
    assert stats[OCPP, "BootNotification"] == (5, 0)  # no reboot: the same engines go on
    failed = _failures(err)
    # A CALL outstanding when the connections dropped fails as lost; nothing else fails but the
    # injected failures: every Heartbeat got a CALLERROR, every StatusNotification a reply its
    # schema rejects.
    lost = {name for name, error in failed if error.startswith("ConnectionLost(")}
    assert {name for name, _ in failed} - lost <= {"Heartbeat", "StatusNotification"}, failed
    for action in ("Authorize", "StartTransaction", "StopTransaction"):
        count, failures = stats[OCPP, action]
        assert count > 0 and (failures == 0 or action in lost), (action, stats)
        assert action in lost or count <= calls[action]  # each one the CSMS answered, once
    for action in ("Heartbeat", "StatusNotification"):
        count, failures = stats[OCPP, action]
        assert count > 0 and failures == count, (action, stats)
    injected = repr(CallErrorReply("CALLERROR InternalError: injected by the test CSMS"))
    assert ("Heartbeat", injected) in failed, failed
    assert any(
        name == "StatusNotification" and "StatusNotificationResponse schema" in error
        for name, error in failed
    )


@needs_locust
def test_master_and_two_workers_both_run_stations(tmp_path: Path) -> None:
    profile = tmp_path / "fast.toml"
    profile.write_text(FAST_PROFILE, encoding="utf-8")
    port = _free_port()
    with LocustCsms() as csms:
        master = _locust(
            "--master", "--headless", "--expect-workers", "2",
            "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
            "-u", "4", "-r", "4", "--run-time", "5s",
            "--host", csms.url, "--atg", str(profile),
        )  # fmt: skip
        workers = [
            _locust("--worker", "--master-host", "127.0.0.1", "--master-port", str(port))
            for _ in range(2)
        ]
        outputs = _finish([master, *workers], timeout=45)
        stations, calls = csms.snapshot()
    err = outputs[0][1]
    assert master.returncode == 0, err[-3000:]
    # Each worker ran two stations, named after its index: both reported to the CSMS ...
    assert stations == {"LOCUST-0-00001", "LOCUST-0-00002", "LOCUST-1-00001", "LOCUST-1-00002"}
    # ... and to the master, whose statistics hold the requests of both.
    stats = _stats(err)
    assert stats[OCPP, "BootNotification"] == (4, 0) == (calls["BootNotification"], 0)
    assert stats[WEBSOCKET, CONNECT] == (4, 0)
    assert stats[OCPP, "StartTransaction"][0] > 0
    assert err.count("reported as ready") >= 2


@needs_locust
def test_stations_connect_over_tls_with_a_client_certificate(tmp_path: Path) -> None:
    """wss:// with the CA and a client certificate (security profile 3) from the command line;
    without the CA the attempts fail with the reason."""
    from tls_certs import make_pki, server_tls

    pki = make_pki(tmp_path)
    with LocustCsms(tls=server_tls(pki)) as csms:
        assert csms.url.startswith("wss://")
        tls = ["--ca-file", str(pki / "ca.pem"), "--client-cert", str(pki / "client.pem")]
        tls += ["--client-key", str(pki / "client.key")]
        run = ["--headless", "-u", "2", "-r", "2", "--run-time", "2s", "--host", csms.url]
        outputs = _finish(
            [_locust(*run, *tls), _locust(*run)],
            timeout=30,
        )
        _, calls = csms.snapshot()
    assert calls.get("BootNotification") == 2, outputs[0][1][-2000:]
    assert _stats(outputs[0][1])[OCPP, "BootNotification"] == (2, 0)
    assert _stats(outputs[0][1])[WEBSOCKET, CONNECT] == (2, 0)
    refused = _failures(outputs[1][1])
    assert {name for name, _ in refused} == {CONNECT}, outputs[1][1][-3000:]
    assert all("TLS certificate check failed" in error for _, error in refused)
