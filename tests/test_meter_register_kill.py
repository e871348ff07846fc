"""A real `python -m sim` killed (SIGKILL: a power cut) while it charges, then restarted on the
same --store: every register the CSMS received for the connector, before and after, never falls
(OCPP 1.6 §7.31), with --resume-transactions (the same transaction runs on) and without (it is
stopped with PowerLoss and the card starts a new one).

The station runs against the demo CSMS over loopback (as in test_cli.py); the registers are
read from the frames the CSMS received, in arrival order.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from test_cli import ROOT, cli, received_calls, run_with_server
from test_meter_register import registers_reported

from devtools.server import DevServer


@pytest.mark.parametrize("resume", [True, False])
def test_7_31_registers_never_fall_across_a_kill_of_the_cli(tmp_path: Path, resume: bool) -> None:
    store = tmp_path / "store"
    station_id = f"REGISTER-{int(resume)}"
    common = ["--id", station_id, "--store", str(store), "--plugged", "1", "--idtag", "CARD-R"]

    async def scenario(server: DevServer) -> tuple[Any, ...]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sim", "--url", server.csms_url, *common, "--speed", "60",
            cwd=ROOT, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:

            def moved() -> bool:  # the register moved: two samples of the transaction
                state = server.csms.station(station_id)
                return state is not None and len(registers_reported(received_calls(state))) >= 3

            await server.csms.wait_for(moved, timeout=30)
        finally:
            process.kill()  # SIGKILL: nothing is saved, stopped or closed
            await process.wait()
        state = server.csms.station(station_id)
        await server.csms.wait_for(lambda: not state.connected, timeout=10)
        before = registers_reported(received_calls(state))
        extra = ["--resume-transactions"] if resume else []
        code, _, err = await cli(
            ["--url", server.csms_url, *common, "--duration", "150", "--speed", "60", *extra]
        )
        return code, err, before, received_calls(state)

    code, err, before, calls = run_with_server(tmp_path, scenario)
    assert code == 0, err
    reported = registers_reported(calls)
    starts = [p for a, p in calls if a == "StartTransaction"]
    stops = [p for a, p in calls if a == "StopTransaction"]
    print(f"\nregisters reported (resume={resume}): {reported}")
    assert len(reported) > len(before) + 2  # the restarted run reported more
    assert reported == sorted(reported)  # never lower than any value already reported
    assert before[-1] > 0
    if resume:
        assert len(starts) == 1 and [s["reason"] for s in stops] == ["Local"]
    else:
        assert len(starts) == 2 and [s["reason"] for s in stops] == ["PowerLoss", "Local"]
        assert stops[0]["meterStop"] >= max(before)
