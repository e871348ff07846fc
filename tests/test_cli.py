"""The headless CLI (``python -m sim``) against the demo CSMS over real loopback sockets.

Most runs call ``sim.cli.run`` in the test's own event loop, beside an in-process DevServer whose
registry tells what the CSMS saw; the entry point, Ctrl-C and the temporary store are checked in
a subprocess.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call as v16_call

from devtools.demo_csms import CsmsOptions
from devtools.server import DevServer
from sim.cli import build_parser, describe_meter_values, run

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
    """Run the CLI in this loop; with ``until``, end it (like Ctrl-C) once the CSMS sees that."""
    out, err = io.StringIO(), io.StringIO()
    stop = asyncio.Event()
    task = asyncio.ensure_future(run(argv, out=out, err=err, stop=stop))
    if until is not None:
        assert server is not None
        waiting = asyncio.ensure_future(server.csms.wait_for(until, timeout=20))
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if waiting.done():
            waiting.result()  # a timeout fails the test here
        waiting.cancel()
        stop.set()
    code = await task
    return code, out.getvalue(), err.getvalue()


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
        "--idtag", "--duration", "--log", "--speed", "--count",
    ):  # fmt: skip
        assert option in text
    assert "simulated" in text  # --duration counts simulated seconds
    assert "deleted at exit" in text  # the default store
    assert "exit status" in text


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
        (["--ocpp", "2.0.1"], "OCPP 2.0.1 is not supported by the station engine yet"),
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
        [sys.executable, "-m", "sim", "--ocpp", "2.0.1"],
        capture_output=True, text=True, check=False, cwd=ROOT, timeout=30,
    )  # fmt: skip
    assert result.returncode == 2
    assert "OCPP 2.0.1 is not supported" in result.stderr
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


def test_meter_values_line() -> None:
    frame = [
        2, "1", "MeterValues",
        {"connectorId": 1, "meterValue": [{"timestamp": "t", "sampledValue": [
            {"value": "1234.5"},
            {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"},
            {"value": "10", "measurand": "Current.Import", "phase": "L1"},
        ]}]},
    ]  # fmt: skip
    assert describe_meter_values(frame) == "connector 1: meter 1234.5 Wh, 7000 W"
    assert describe_meter_values([2, "1", "MeterValues", {}]) is None


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
