"""The headless CLI (``python -m sim``) against the demo CSMS over real loopback sockets.

Most runs call ``sim.cli.run`` in the test's own event loop, beside an in-process DevServer whose
registry tells what the CSMS saw; the entry point, Ctrl-C and the temporary store are checked in
a subprocess.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from file_server import IMAGE, serving
from ocpp.v16 import call as v16_call
from tls_certs import make_pki, server_tls
from websockets.asyncio.server import ServerConnection, basic_auth, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from devtools.demo_csms import CsmsOptions, DemoCsms, choose_subprotocol
from devtools.server import DevServer
from ocpp_core.events import MeterSampled, Sample
from sim.cli import run
from sim.cli_args import build_parser
from sim.cli_output import describe_meter_values

ROOT = Path(__file__).resolve().parent.parent
HEX_KEY = "00112233445566778899aabbccddeeff"


def run_with_server(
    tmp_path: Path,
    scenario: Callable[[DevServer], Awaitable[Any]],
    options: CsmsOptions | None = None,
) -> Any:
    async def main() -> Any:
        async with DevServer(tmp_path, port=0, csms_options=options) as server:
            return await scenario(server)

    return asyncio.run(main())


async def cli(
    argv: list[str], until: Callable[[], bool] | None = None, server: DevServer | None = None
) -> tuple[int, str, str]:
    """Run the CLI in this loop; with ``until``, end it (like Ctrl-C) once the CSMS sees that
    (``server``'s CSMS, or without one a server that is polled)."""
    out, err = io.StringIO(), io.StringIO()
    stop = asyncio.Event()
    task = asyncio.ensure_future(run(argv, out=out, err=err, stop=stop))
    if until is not None:
        seen = server.csms.wait_for(until, timeout=20) if server is not None else poll(until)
        waiting = asyncio.ensure_future(seen)
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if waiting.done():
            waiting.result()  # a timeout fails the test here
        waiting.cancel()
        stop.set()
    code = await task
    return code, out.getvalue(), err.getvalue()


async def poll(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait until ``predicate()`` holds, for servers that do not signal changes."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def reported(server: DevServer, station_id: str, statuses: int = 3) -> Callable[[], bool]:
    """The CSMS has the station's boot and a status for each of its connectors 0..N."""

    def check() -> bool:
        state = server.csms.station(station_id)
        return state is not None and len(state.connector_status) == statuses

    return check


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- arguments --------------------------------------------------------------------------------


def test_help_lists_every_option_and_the_decisions() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sim", "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0
    text = result.stdout
    for option in (
        "--url", "--id", "--ocpp", "--auth-key", "--store", "--connectors", "--plugged",
        "--idtag", "--duration", "--log", "--speed", "--count", "--resume-transactions",
        "--ca-file", "--client-cert", "--client-key",
    ):  # fmt: skip
        assert option in text
    assert "simulated" in text  # --duration counts simulated seconds
    assert "deleted at exit" in text  # the default store
    assert "exit status" in text
    assert "security profiles 2 and 3" in text and "PowerLoss" in text


def test_the_console_script_entry_point_is_main() -> None:
    import sim.__main__

    assert callable(sim.__main__.main)
    assert build_parser().parse_args([]).url == "ws://127.0.0.1:8000/ocpp"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--url", "http://127.0.0.1:1/ocpp"], "--url: the CSMS URL must start with ws://"),
        (["--url", "ws://host:99999/ocpp"], "--url: the CSMS URL is malformed"),
        (["--url", "ws://h/ocpp?x=1"], "must not contain a query"),
        (["--ocpp", "2.0.1", "--plugged", "1", "--idtag", "x" * 37], "1 to 36 characters"),
        (["--ocpp", "auto", "--plugged", "1", "--idtag", "x" * 21], "1 to 20 characters"),
        (["--plugged", "3"], "--plugged: '3' is not a connector from 1 to 2"),
        (["--connectors", "0"], "connectors must be from 1 to 99"),
        (["--speed", "0"], "--speed must be a positive number"),
        (["--duration", "-1"], "--duration must be 0"),
        (["--idtag", "x" * 21], "--idtag must be 1 to 20 characters"),
        (["--count", "0"], "--count must be from 1 to 10000"),
        (["--idtag", "CARD"], "--idtag needs --plugged"),
        (["--vendor", "v" * 21], "vendor must be 1 to 20 characters"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(argv: list[str], message: str) -> None:
    code, _, err = asyncio.run(cli(argv))
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_bad_arguments_from_the_command_line_are_not_tracebacks() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sim", "--ocpp", "2.0"],
        capture_output=True, text=True, check=False, cwd=ROOT, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert "argument --ocpp: invalid choice: '2.0' (choose from 'auto', '1.6', '2.0.1')" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


# --- connecting -------------------------------------------------------------------------------


def test_a_refused_connection_exits_1_with_the_reason() -> None:
    port = free_port()
    code, out, err = asyncio.run(cli(["--url", f"ws://127.0.0.1:{port}/ocpp"]))
    assert code == 1
    assert f"error: connection refused by 127.0.0.1:{port}" in err
    assert "reconnecting" not in out  # the run ends instead of retrying


def test_boot_statuses_and_identity_reach_the_csms(tmp_path: Path) -> None:
    async def scenario(server: DevServer) -> tuple[Any, ...]:
        code, out, err = await cli(
            ["--url", server.csms_url, "--id", "CLI 1/ä", "--connectors", "3", "--speed", "10",
             "--vendor", "ACME", "--serial", "SN-7"],
            reported(server, "CLI 1/ä", 4), server,
        )  # fmt: skip
        return code, out, err, server.csms.station("CLI 1/ä")

    code, out, err, state = run_with_server(tmp_path, scenario)
    assert code == 0, err
    assert state is not None and state.boot_count == 1
    assert state.boot["charge_point_vendor"] == "ACME"
    assert state.boot["charge_point_serial_number"] == "SN-7"
    assert state.connector_status == {(0, c): "Available" for c in range(4)}
    assert not state.connected  # closed cleanly at the end
    lines = out.splitlines()
    assert any("connected: connected to" in line for line in lines)
    assert any("boot accepted" in line for line in lines)
    assert any("connector 3: Available" in line for line in lines)
    assert any("closed: closed by the station" in line for line in lines)


def test_log_lines_are_json_and_mask_the_authorization_key(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()

    async def scenario(server: DevServer) -> int:
        stop = asyncio.Event()
        task = asyncio.ensure_future(
            run(["--url", server.csms_url, "--id", "LOG-1", "--log"], out=out, err=err, stop=stop)
        )
        await server.csms.wait_for(reported(server, "LOG-1"), timeout=20)
        result = await server.csms.call(
            "LOG-1", v16_call.ChangeConfiguration(key="AuthorizationKey", value=HEX_KEY)
        )
        assert result.status == "Accepted"
        stop.set()
        return await task

    code = run_with_server(tmp_path, scenario)
    assert code == 0, err.getvalue()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records and all(set(r) == {"time", "station", "direction", "frame"} for r in records)
    assert records[0]["direction"] == "out" and records[0]["frame"][2] == "BootNotification"
    assert records[1]["direction"] == "in" and records[1]["frame"][0] == 3
    assert all(r["time"].endswith("Z") and r["time"][10] == "T" for r in records)
    change = [r for r in records if r["frame"][0] == 2 and r["frame"][2] == "ChangeConfiguration"]
    assert change and change[0]["direction"] == "in"
    assert HEX_KEY not in out.getvalue() and HEX_KEY not in err.getvalue()
    assert "boot accepted" in err.getvalue()  # the readable lines moved to stderr


# --- security profile 1 -----------------------------------------------------------------------


def test_basic_auth_right_key_connects_and_wrong_key_is_refused(tmp_path: Path) -> None:
    options = CsmsOptions(password="pw-right-123")

    async def scenario(server: DevServer) -> tuple[Any, ...]:
        good = await cli(
            ["--url", server.csms_url, "--id", "SEC-1", "--auth-key", "pw-right-123"],
            reported(server, "SEC-1"), server,
        )  # fmt: skip
        bad = await cli(
            ["--url", server.csms_url, "--id", "SEC-2", "--auth-key", "pw-wrong-456"]
        )  # fmt: skip
        none = await cli(["--url", server.csms_url, "--id", "SEC-3"])
        return good, bad, none, server.csms.station("SEC-1"), server.csms.station("SEC-2")

    good, bad, none, state, refused = run_with_server(tmp_path, scenario, options)
    assert good[0] == 0, good[2]
    assert state is not None and state.boot_count == 1
    assert bad[0] == 1
    assert "error: handshake failed: HTTP 401: check the authorization key" in bad[2]
    assert refused is None  # never got past the handshake
    assert none[0] == 1 and "HTTP 401" in none[2]
    for _, out, err in (good, bad, none):
        assert "pw-right-123" not in out + err and "pw-wrong-456" not in out + err


@asynccontextmanager
async def bare_csms(**serve_options: Any) -> AsyncIterator[types.SimpleNamespace]:
    """A minimal OCPP 1.6 server built on the websockets library alone (not the demo CSMS), so
    the CLI meets that library's own handshake checks. It records each opened connection (the
    authenticated user, the subprotocol) and the CALLs received, and accepts the boot."""
    seen = types.SimpleNamespace(url="", opened=[], calls=[])

    async def handle(connection: ServerConnection) -> None:
        seen.opened.append((getattr(connection, "username", None), connection.subprotocol))
        async for message in connection:
            frame = json.loads(message)
            if frame[0] != 2:
                continue
            seen.calls.append(frame)
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            payload: dict[str, Any] = {}
            if frame[2] == "BootNotification":
                payload = {"status": "Accepted", "currentTime": now, "interval": 300}
            elif frame[2] == "Heartbeat":
                payload = {"currentTime": now}
            await connection.send(json.dumps([3, frame[1], payload]))

    serve_options.setdefault("subprotocols", ["ocpp1.6"])
    async with serve(handle, "127.0.0.1", 0, **serve_options) as server:
        seen.url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
        yield seen


def test_basic_auth_against_the_websockets_library_check() -> None:
    """Another CSMS's Basic auth check, not only the demo CSMS's own: websockets' basic_auth
    wants the charge box id as the user and --auth-key as the password."""
    station_id, key = "SEC-WS", "pw-right-123"

    def booted(seen: types.SimpleNamespace) -> Callable[[], bool]:
        return lambda: any(call[2] == "BootNotification" for call in seen.calls)

    async def scenario() -> tuple[Any, ...]:
        check = basic_auth(credentials=(station_id, key))
        async with bare_csms(process_request=check) as seen:
            common = ["--url", seen.url, "--id", station_id]
            good = await cli([*common, "--auth-key", key], booted(seen))
            opened = list(seen.opened)
            bad = await cli([*common, "--auth-key", "pw-wrong-456"])
            none = await cli(common)
            return good, bad, none, opened, list(seen.opened), list(seen.calls)

    good, bad, none, opened, opened_in_all, calls = asyncio.run(scenario())
    assert good[0] == 0, good[2]
    assert opened == [(station_id, "ocpp1.6")]  # the library authenticated the charge box id
    boot = calls[0]
    assert boot[2] == "BootNotification" and boot[3]["chargeBoxSerialNumber"] == station_id
    assert any("boot accepted" in line for line in good[1].splitlines())
    wrong = (
        "error: handshake failed: HTTP 401: check the authorization key"
        " (the Basic auth user is the charge box id)\n"
    )
    missing = (
        "error: handshake failed: HTTP 401: the CSMS asks for credentials:"
        " give the authorization key (--auth-key)\n"
    )
    for (code, out, err), expected in ((bad, wrong), (none, missing)):
        assert code == 1 and err == expected
        assert "reconnecting" not in out  # the run ends instead of retrying
    assert opened_in_all == opened  # the refused attempts never reached the handler
    for _, out, err in (good, bad, none):
        assert key not in out + err and "pw-wrong-456" not in out + err


def _not_found(_connection: ServerConnection, _request: Request) -> Response:
    return Response(404, "Not Found", Headers(), b"no such station\n")


@pytest.mark.parametrize(
    ("serve_options", "message", "opened"),
    [
        ({"subprotocols": None},
         "server did not accept subprotocol ocpp1.6 (it picked none)", [(None, None)]),
        ({"process_request": _not_found},
         "handshake failed: HTTP 404: not found: check the URL path and the charge box id", []),
    ],
    ids=["no-subprotocol", "http-404"],
)  # fmt: skip
def test_a_failed_handshake_exits_1_with_the_reason(
    serve_options: dict[str, Any], message: str, opened: list[tuple[None, None]]
) -> None:
    """A WebSocket the server opens without ocpp1.6 is no OCPP connection: like an HTTP error on
    the upgrade, the first attempt fails and the run ends with the reason."""

    async def scenario() -> tuple[Any, ...]:
        async with bare_csms(**serve_options) as seen:
            result = await cli(["--url", seen.url, "--id", "HS-1"])
            if opened:  # the server runs its handler a moment after the upgrade
                await poll(lambda: len(seen.opened) == len(opened), timeout=5)
            return result, list(seen.opened), list(seen.calls)

    (code, out, err), really_opened, calls = asyncio.run(scenario())
    assert code == 1
    assert err == f"error: {message}\n"
    assert "reconnecting" not in out and "boot accepted" not in out
    assert really_opened == opened and calls == []  # not one OCPP frame was sent


# --- several stations, the store --------------------------------------------------------------


def test_count_runs_several_stations(tmp_path: Path) -> None:
    async def scenario(server: DevServer) -> tuple[Any, ...]:
        code, out, err = await cli(
            ["--url", server.csms_url, "--id", "LOAD", "--count", "3",
             "--store", str(tmp_path / "store")],
            lambda: all(reported(server, f"LOAD-{n}")() for n in (1, 2, 3)), server,
        )  # fmt: skip
        return code, out, err, [server.csms.station(f"LOAD-{n}") for n in (1, 2, 3)]

    code, out, err, states = run_with_server(tmp_path, scenario)
    assert code == 0, err
    for n, state in enumerate(states, 1):
        assert state is not None and state.boot_count == 1
        assert state.boot["charge_point_serial_number"] == f"LOAD-{n}"
        assert len(state.connector_status) == 3
        assert (tmp_path / "store" / f"LOAD-{n}").is_dir()
    assert server_lines_for(out, "LOAD-2")


def server_lines_for(out: str, station_id: str) -> list[str]:
    return [line for line in out.splitlines() if f" {station_id} " in line]


def test_the_store_keeps_state_across_runs(tmp_path: Path) -> None:
    store = tmp_path / "store"

    async def scenario(server: DevServer) -> None:
        stop = asyncio.Event()
        out, err = io.StringIO(), io.StringIO()
        task = asyncio.ensure_future(
            run(["--url", server.csms_url, "--id", "KEEP", "--store", str(store)],
                out=out, err=err, stop=stop)
        )  # fmt: skip
        await server.csms.wait_for(reported(server, "KEEP"), timeout=20)
        result = await server.csms.call(
            "KEEP", v16_call.ChangeConfiguration(key="MeterValueSampleInterval", value="17")
        )
        assert result.status == "Accepted"
        stop.set()
        assert await task == 0, err.getvalue()

    run_with_server(tmp_path, scenario)
    saved = json.loads((store / "KEEP" / "config.json").read_text())
    assert saved["MeterValueSampleInterval"] == 17
    assert (store / "KEEP" / "sim-meters.json").exists()


# --- the real command -------------------------------------------------------------------------


def test_ctrl_c_stops_cleanly_and_the_temporary_store_is_removed(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()

    async def scenario(server: DevServer) -> tuple[int, str, str, Any]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sim", "--url", server.csms_url, "--id", "INT-1",
            cwd=ROOT, env={**os.environ, "TMPDIR": str(temp)},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        lines = []
        while True:
            line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
            assert line, "the CLI ended early"
            lines.append(line)
            if "boot accepted" in line:
                break
        assert any(p.name.startswith("ocpp-sim-") for p in temp.iterdir())
        process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), 20)
        state = server.csms.station("INT-1")
        return process.returncode, "".join(lines) + out.decode(), err.decode(), state

    code, out, err, state = run_with_server(tmp_path, scenario)
    assert code == 0, err
    assert "stopping" in out
    assert "closed: closed by the station (stopped)" in out
    assert "Traceback" not in err
    assert state is not None and not state.connected
    assert list(temp.iterdir()) == []


P = "Sample.Periodic"


def test_meter_values_line() -> None:
    event = MeterSampled(1, (
        Sample("Energy.Active.Import.Register", 1234.5, "1234.5", None, None, "Outlet", P),
        Sample("Power.Active.Import", 7000, "7000", "W", None, "Outlet", P),
        Sample("Current.Import", 10, "10", "A", "L1", "Outlet", P),
    ))  # fmt: skip
    assert describe_meter_values(event) == "connector 1: meter 1234.5 Wh, 7000 W"
    assert describe_meter_values(MeterSampled(1, ())) is None


# --- sessions ---------------------------------------------------------------------------------


def meter_registers(state: Any, transaction_id: int) -> list[float]:
    values = []
    for direction, text in state.frames:
        frame = json.loads(text)
        if direction == "recv" and frame[0] == 2 and frame[2] == "MeterValues":
            payload = frame[3]
            if payload.get("transactionId") == transaction_id:
                values.append(float(payload["meterValue"][0]["sampledValue"][0]["value"]))
    return values


def test_a_whole_session_runs_unattended(tmp_path: Path) -> None:
    async def scenario(server: DevServer) -> tuple[Any, ...]:
        code, out, err = await cli(
            ["--url", server.csms_url, "--id", "RUN-1", "--plugged", "1", "--idtag", "CARD-7",
             "--duration", "400", "--speed", "100"]
        )  # fmt: skip
        return code, out, err, server.csms.station("RUN-1")

    code, out, err, state = run_with_server(tmp_path, scenario)
    assert code == 0, err
    (transaction,) = state.transactions.values()
    assert transaction.id_token == "CARD-7" and transaction.evse_id == 1
    assert transaction.meter_start == 0
    assert transaction.stop_reason == "Local"
    # 22 kW for about 400 simulated seconds (less what booting took, plus what stopping took):
    # about 2.4 kWh (at speed 100 a busy machine shifts both ends by simulated seconds)
    assert 1000 < transaction.meter_stop < 3500
    registers = meter_registers(state, transaction.transaction_id)
    assert len(registers) >= 3 and registers == sorted(registers) and registers[0] > 0
    assert registers[-1] <= transaction.meter_stop
    assert state.connector_status[(0, 1)] in ("Finishing", "Preparing")
    lines = out.splitlines()
    assert any("connector 1: card CARD-7 Accepted" in line for line in lines)
    assert any("connector 1: Charging" in line for line in lines)
    assert any("session started" in line for line in lines)
    assert any("session stopped" in line and "Local" in line for line in lines)
    assert any("connector 1: meter" in line and " Wh" in line for line in lines)
    assert not any("not delivered" in line for line in lines)


def test_plugged_without_a_card_waits_in_preparing(tmp_path: Path) -> None:
    async def scenario(server: DevServer) -> tuple[Any, ...]:
        code, _, err = await cli(
            ["--url", server.csms_url, "--id", "PREP", "--plugged", "1,2"],
            lambda: (
                reported(server, "PREP")()
                and server.csms.station("PREP").connector_status[(0, 2)] == "Preparing"
                and server.csms.station("PREP").connector_status[(0, 1)] == "Preparing"
            ),
            server,
        )
        return code, err, server.csms.station("PREP")

    code, err, state = run_with_server(tmp_path, scenario)
    assert code == 0, err
    assert state.connector_status[(0, 1)] == "Preparing"
    assert state.connector_status[(0, 2)] == "Preparing"
    assert not state.transactions


def test_count_three_stations_each_run_a_session(tmp_path: Path) -> None:
    async def scenario(server: DevServer) -> tuple[Any, ...]:
        code, _, err = await cli(
            ["--url", server.csms_url, "--id", "FLEET", "--count", "3", "--plugged", "1,2",
             "--idtag", "FLEET-CARD", "--duration", "120", "--speed", "60"]
        )  # fmt: skip
        return code, err, [server.csms.station(f"FLEET-{n}") for n in (1, 2, 3)]

    code, err, states = run_with_server(tmp_path, scenario)
    assert code == 0, err
    for state in states:
        assert len(state.transactions) == 2
        for transaction in state.transactions.values():
            assert transaction.stop_reason == "Local" and transaction.meter_stop > 0


def test_count_three_201_stations_each_run_a_session_per_evse(tmp_path: Path) -> None:
    """--count works the same in OCPP 2.0.1: every station of the fleet boots with ocpp2.0.1 and
    runs one transaction per EVSE, Started at seqNo 0, Ended (Local), seqNos contiguous."""

    async def scenario(server: DevServer) -> tuple[Any, ...]:
        code, _, err = await cli(
            ["--url", server.csms_url, "--id", "FLEET201", "--count", "3", "--ocpp", "2.0.1",
             "--plugged", "1,2", "--idtag", "FLEET-CARD", "--duration", "120", "--speed", "60"]
        )  # fmt: skip
        return code, err, [server.csms.station(f"FLEET201-{n}") for n in (1, 2, 3)]

    code, err, states = run_with_server(tmp_path, scenario)
    assert code == 0, err
    for state in states:
        assert state.protocol == "ocpp2.0.1"
        assert sorted(t.evse_id for t in state.transactions.values()) == [1, 2]
        for transaction in state.transactions.values():
            assert transaction.stop_reason == "Local" and not transaction.active
            seq_nos = [seq_no for _, seq_no, _ in transaction.events]
            assert seq_nos == list(range(len(seq_nos))) and len(seq_nos) >= 2
            assert transaction.events[0][0] == "Started" and transaction.events[-1][0] == "Ended"


def test_log_times_never_go_backwards_when_the_csms_sets_the_clock(tmp_path: Path) -> None:
    """At --speed 100 the station's clock runs ahead of the CSMS's until the boot reply sets it
    back: the frames carry that clock, the log lines one that never decreases."""

    async def scenario(server: DevServer) -> tuple[int, str, str]:
        return await cli(
            ["--url", server.csms_url, "--id", "LOG-T", "--log", "--plugged", "1",
             "--idtag", "CARD-T", "--duration", "200", "--speed", "100"]
        )  # fmt: skip

    code, out, err = run_with_server(tmp_path, scenario)
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    times = [record["time"] for record in records]
    assert len(times) > 10 and times == sorted(times)
    actions = [r["frame"][2] for r in records if r["frame"][0] == 2]
    assert "StartTransaction" in actions and "StopTransaction" in actions


# --- TLS: security profiles 2 and 3 -------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


@asynccontextmanager
async def tls_csms(pki: Path, *, client_certificate: bool) -> AsyncIterator[Any]:
    """The demo CSMS behind wss:// on a free port, its certificate from the private CA; with
    ``client_certificate`` it requires one signed by that CA (security profile 3)."""
    csms = DemoCsms()

    async def handle(connection: ServerConnection) -> None:
        path = connection.request.path  # type: ignore[union-attr]
        await csms.handle(connection, unquote(path.rsplit("/", 1)[-1]))

    async with serve(
        handle,
        "127.0.0.1",
        0,
        ssl=server_tls(pki, client_certificate=client_certificate),
        select_subprotocol=lambda _connection, offered: choose_subprotocol(offered),
    ) as server:
        port = server.sockets[0].getsockname()[1]
        yield types.SimpleNamespace(csms=csms, csms_url=f"wss://127.0.0.1:{port}/ocpp")


def test_wss_with_a_private_ca_needs_ca_file(pki: Path) -> None:
    async def scenario() -> tuple[Any, ...]:
        async with tls_csms(pki, client_certificate=False) as server:
            trusted = await cli(
                ["--url", server.csms_url, "--id", "TLS-1", "--ca-file", str(pki / "ca.pem")],
                reported(server, "TLS-1"), server,
            )  # fmt: skip
            untrusted = await cli(["--url", server.csms_url, "--id", "TLS-2"])
            return trusted, untrusted, server.csms.station("TLS-1"), server.csms.station("TLS-2")

    trusted, untrusted, state, refused = asyncio.run(scenario())
    assert trusted[0] == 0, trusted[2]
    assert state is not None and state.boot_count == 1 and not state.connected
    assert any("boot accepted" in line for line in trusted[1].splitlines())
    code, out, err = untrusted
    assert code == 1 and refused is None
    assert err.startswith("error: TLS certificate check failed (")
    assert "--ca-file PATH" in err and "Traceback" not in err
    assert "reconnecting" not in out


def test_wss_requiring_a_client_certificate(pki: Path) -> None:
    ca = ["--ca-file", str(pki / "ca.pem")]
    client = ["--client-cert", str(pki / "client.pem"), "--client-key", str(pki / "client.key")]

    async def scenario() -> tuple[Any, ...]:
        async with tls_csms(pki, client_certificate=True) as server:
            good = await cli(
                ["--url", server.csms_url, "--id", "MTLS-1", *ca, *client],
                reported(server, "MTLS-1"), server,
            )  # fmt: skip
            anonymous = await cli(["--url", server.csms_url, "--id", "MTLS-2", *ca])
            return good, anonymous, server.csms.station("MTLS-1"), server.csms.station("MTLS-2")

    good, anonymous, state, refused = asyncio.run(scenario())
    assert good[0] == 0, good[2]
    assert state is not None and state.boot_count == 1
    code, _, err = anonymous
    assert code == 1 and refused is None
    assert err.startswith("error: ") and "Traceback" not in err
    assert "requires a client certificate" in err and "--client-cert PATH" in err


@pytest.mark.parametrize(
    ("files", "url", "message"),
    [
        ({"--ca-file": "missing.pem"}, "wss", "--ca-file: cannot read {dir}/missing.pem: No such"),
        ({"--ca-file": "."}, "wss", "--ca-file: cannot read {dir}: Is a directory"),
        ({"--client-cert": "client.pem", "--client-key": "nope.key"}, "wss",
         "--client-key: cannot read {dir}/nope.key"),
        ({"--client-key": "client.key"}, "wss", "--client-key needs --client-cert"),
        ({"--ca-file": "ca.pem"}, "ws", "--ca-file: TLS files need a wss:// --url"),
        ({"--ca-file": "client.ext"}, "wss", "cannot load the CA file {dir}/client.ext"),
        ({"--client-cert": "client.pem", "--client-key": "server.key"}, "wss",
         "cannot load the client certificate"),
    ],
)  # fmt: skip
def test_unusable_tls_files_exit_2_before_connecting(
    pki: Path, files: dict[str, str], url: str, message: str
) -> None:
    argv = ["--url", f"{url}://127.0.0.1:{free_port()}/ocpp"]
    for flag, name in files.items():
        argv += [flag, str(pki / name)]
    code, out, err = asyncio.run(cli(argv))
    assert code == 2, err
    assert err.startswith("error: ") and message.format(dir=pki) in err
    assert "Traceback" not in err and "connecting" not in out


# --- restarts on the same store -----------------------------------------------------------------


def received_calls(state: Any, first: int = 0) -> list[tuple[str, dict]]:
    """(action, payload) of the CALLs the CSMS received, from frame number ``first`` on."""
    calls = []
    for direction, text in list(state.frames)[first:]:
        frame = json.loads(text)
        if direction == "recv" and frame[0] == 2:
            calls.append((frame[2], frame[3]))
    return calls


@pytest.mark.parametrize("resume", [False, True])
def test_a_session_cut_by_a_kill_is_stopped_or_resumed_by_the_next_run(
    tmp_path: Path, resume: bool
) -> None:
    store = tmp_path / "store"
    station_id = f"CUT-{int(resume)}"
    common = ["--id", station_id, "--store", str(store), "--plugged", "1", "--idtag", "CARD-C"]

    async def scenario(server: DevServer) -> tuple[Any, ...]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sim", "--url", server.csms_url, *common, "--speed", "60",
            cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:

            def metering() -> bool:
                state = server.csms.station(station_id)
                return state is not None and any(
                    action == "MeterValues" and "transactionId" in payload
                    for action, payload in received_calls(state)
                )

            await server.csms.wait_for(metering, timeout=20)
        finally:
            process.kill()  # SIGKILL: a power cut, nothing is stopped or closed
            await process.wait()
        state = server.csms.station(station_id)
        await server.csms.wait_for(lambda: not state.connected, timeout=10)
        first = len(state.frames)
        (cut,) = state.active_transactions()
        extra = ["--resume-transactions"] if resume else []
        code, out, err = await cli(
            ["--url", server.csms_url, *common, "--duration", "150", "--speed", "60", *extra]
        )
        return code, out, err, cut, state, received_calls(state, first)

    code, _, err, cut, state, calls = run_with_server(tmp_path, scenario)
    assert code == 0, err
    tx_calls = [
        (action, payload)
        for action, payload in calls
        if action in ("StartTransaction", "MeterValues", "StopTransaction")
    ]
    # (A MeterValues the first run sent but saw no answer to is sent again first.)
    starts_and_stops = [(a, p) for a, p in tx_calls if a != "MeterValues"]
    action, payload = starts_and_stops[0]
    assert action == "StopTransaction" and payload["transactionId"] == cut.transaction_id
    stopped = state.transactions[cut.transaction_id]
    if not resume:
        # Stopped at once with PowerLoss, then the card starts a new session, stopped at the end.
        assert payload["reason"] == "PowerLoss" and stopped.stop_reason == "PowerLoss"
        assert [a for a, _ in starts_and_stops] == [
            "StopTransaction", "StartTransaction", "StopTransaction"
        ]  # fmt: skip
        (new,) = [tx for tx in state.transactions.values() if tx is not stopped]
        assert new.id_token == "CARD-C" and new.stop_reason == "Local"
    else:
        # The same transaction runs on: metered further, then stopped with the card at the end.
        assert len(starts_and_stops) == 1 and payload["reason"] == "Local"
        assert all(p["transactionId"] == cut.transaction_id for _, p in tx_calls)
        assert tx_calls[-1][0] == "StopTransaction"
        before = max(meter_registers_in(received_calls(state)[: -len(calls)]))
        after = meter_registers_in(calls)
        assert after and max(after) > before
        assert stopped.stop_reason == "Local" and stopped.meter_stop >= max(after)
        assert len(state.transactions) == 1


def meter_registers_in(calls: list[tuple[str, dict]]) -> list[float]:
    """The energy registers of the transaction MeterValues among ``calls``."""
    values = []
    for action, payload in calls:
        if action == "MeterValues" and "transactionId" in payload:
            for sampled in payload["meterValue"][0]["sampledValue"]:
                if (
                    sampled.get("measurand", "Energy.Active.Import.Register")
                    == ("Energy.Active.Import.Register")
                    and "phase" not in sampled
                ):
                    values.append(float(sampled["value"]))
    return values


# --- firmware management ----------------------------------------------------------------------


def _firmware_statuses(server: DevServer, station_id: str) -> list[str]:
    statuses = []
    for direction, text in server.csms.station(station_id).frames:
        frame = json.loads(text)
        if direction == "recv" and frame[0] == 2 and frame[2] == "FirmwareStatusNotification":
            statuses.append(frame[3]["status"])
    return statuses


def run_firmware_update(
    tmp_path: Path, station_id: str, location: str, flags: list[str], final: str
) -> tuple[int, str, list[str]]:
    """The CLI against the demo CSMS, which asks it to UpdateFirmware from ``location``: its exit
    code, its output and the FirmwareStatusNotification statuses, once ``final`` arrived."""

    async def scenario(server: DevServer) -> tuple[int, str, list[str]]:
        out, err = io.StringIO(), io.StringIO()
        stop = asyncio.Event()
        argv = ["--url", server.csms_url, "--id", station_id, "--speed", "50", *flags]
        task = asyncio.ensure_future(run(argv, out=out, err=err, stop=stop))
        await server.csms.wait_for(reported(server, station_id), timeout=20)
        update = v16_call.UpdateFirmware(
            location=location, retrieve_date="2020-01-01T00:00:00Z", retries=0
        )
        assert await server.csms.call(station_id, update) is not None
        await server.csms.wait_for(
            lambda: final in _firmware_statuses(server, station_id), timeout=20
        )
        stop.set()
        return await task, out.getvalue() + err.getvalue(), _firmware_statuses(server, station_id)

    return run_with_server(tmp_path, scenario)


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (None, ["Downloading", "Downloaded", "Installing", "Installed"]),
        ("--fail-firmware-download", ["Downloading", "DownloadFailed"]),
        (
            "--fail-firmware-install",
            ["Downloading", "Downloaded", "Installing", "InstallationFailed"],
        ),
    ],
)
def test_firmware_update_with_failure_injection(
    tmp_path: Path, flag: str | None, expected: list[str]
) -> None:
    """UpdateFirmware from the CSMS runs the simulated update; the flags make it fail."""
    code, output, statuses = run_firmware_update(
        tmp_path,
        "FW-" + (flag or "ok").strip("-"),
        "ftp://fw.example/fw-2.0.0.bin",
        [flag] if flag else [],
        expected[-1],
    )
    assert code == 0, output
    assert statuses == expected
    assert f"firmware {expected[-1]}" in output


def test_a_real_firmware_download_prints_the_image_size_and_sha256(tmp_path: Path) -> None:
    """An http(s) location is really fetched; the CLI says what it got, for the user to check."""
    with serving() as files:
        code, output, statuses = run_firmware_update(
            tmp_path, "FW-HTTP", f"{files.base}/fw-2.0.0.bin", [], "Installed"
        )
    assert code == 0, output
    assert statuses == ["Downloading", "Downloaded", "Installing", "Installed"]
    digest = hashlib.sha256(IMAGE).hexdigest()
    assert f"(image {len(IMAGE):,} bytes, SHA-256 {digest})" in output
