"""The real CLI against hostile-but-valid input and a failing disk.

* A CSMS sends lone surrogates (``"\\ud800A"``, valid JSON) and a deeply nested frame: every frame
  is in the ``--log`` output (verbatim text when it cannot be parsed), stdout stays valid UTF-8,
  and after a SIGKILL the next run on the same ``--store`` stops the transaction (PowerLoss).
* The store's writes fail (ENOSPC): the run goes on, prints an error line, and says when the
  store took the kept writes.
"""

from __future__ import annotations

import asyncio
import errno
import io
import itertools
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from test_cli import ROOT, cli, poll, received_calls, run_with_server
from websockets.asyncio.server import ServerConnection, serve

from devtools.server import DevServer
from ocpp_core.store import FileStore
from sim.cli import run

HOSTILE = "\ud800A"
DEPTH = 5000  # nested far deeper than json.loads can follow (RecursionError)


class ScriptedCsms:
    """A minimal OCPP 1.6 CSMS on the websockets library: answers the station's CALLs validly
    (transactionIds from 4001), records every frame both ways and sends the raw CALL text a
    test gives it."""

    def __init__(self) -> None:
        self.url = ""
        self.frames: list[tuple[str, str]] = []  # ("recv" | "sent", text)
        self.connection: ServerConnection | None = None
        self.transaction_ids = itertools.count(4001)

    async def handle(self, connection: ServerConnection) -> None:
        self.connection = connection
        async for message in connection:
            assert isinstance(message, str)
            self.frames.append(("recv", message))
            frame = json.loads(message)
            if frame[0] != 2:
                continue
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            action, payload = frame[2], {}
            if action == "BootNotification":
                payload = {"status": "Accepted", "currentTime": now, "interval": 300}
            elif action == "Heartbeat":
                payload = {"currentTime": now}
            elif action == "StartTransaction":
                payload = {
                    "transactionId": next(self.transaction_ids),
                    "idTagInfo": {"status": "Accepted"},
                }
            elif action == "Authorize":
                payload = {"idTagInfo": {"status": "Accepted"}}
            await self.send(json.dumps([3, frame[1], payload]))

    async def send(self, text: str) -> None:
        assert self.connection is not None
        self.frames.append(("sent", text))
        await self.connection.send(text)

    def received(self) -> list[list]:
        """The frames the station sent (all of them parse: it sends only valid frames)."""
        return [json.loads(text) for direction, text in list(self.frames) if direction == "recv"]

    def calls(self, action: str) -> list[dict]:
        return [f[3] for f in self.received() if f[0] == 2 and f[2] == action]

    def reply_to(self, message_id: str) -> list | None:
        replies = [f for f in self.received() if f[0] in (3, 4) and f[1] == message_id]
        return replies[0] if replies else None

    def forget_connection(self) -> None:
        self.connection = None


@asynccontextmanager
async def scripted_csms() -> AsyncIterator[ScriptedCsms]:
    csms = ScriptedCsms()
    async with serve(csms.handle, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:
        csms.url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
        yield csms


async def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    await poll(predicate, timeout)


async def start_cli(*argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sim", *argv,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


def test_lone_surrogate_id_tag_then_a_kill_ends_with_a_power_loss_stop(tmp_path: Path) -> None:
    """The issue's sequence end to end: RemoteStartTransaction {"connectorId":1,"idTag":
    "\\ud800A"} -> Accepted -> StartTransaction confirmed -> SIGKILL of python -m sim -> a restart
    on the same --store stops that transaction with PowerLoss. The --log of the first run holds
    every frame, the too-deep one verbatim, and is valid UTF-8."""
    store = str(tmp_path / "store")
    common = ["--id", "HOSTILE-1", "--store", store, "--plugged", "1", "--speed", "10"]
    deep = '[2,"deep-1","DataTransfer",' + "[" * DEPTH + "]" * DEPTH + "]"

    async def scenario() -> tuple[Any, ...]:
        async with scripted_csms() as csms:
            first = await start_cli("--url", csms.url, *common, "--log")
            try:
                await wait_until(lambda: len(csms.calls("StatusNotification")) >= 2)
                remote = '[2,"rs-1","RemoteStartTransaction",{"connectorId":1,"idTag":"\\ud800A"}]'
                await csms.send(remote)
                await wait_until(lambda: bool(csms.calls("StartTransaction")))
                await wait_until(
                    lambda: any(
                        d == "sent" and '"transactionId"' in t for d, t in list(csms.frames)
                    )
                )
                # Frames are handled in order: the answer to this one means the station has
                # taken the StartTransaction's answer (and stored its transactionId).
                await csms.send(deep)
                await wait_until(lambda: csms.reply_to("deep-1") is not None)
            finally:
                first.send_signal(signal.SIGKILL)  # a power cut: nothing is closed or flushed
                log, errors = await first.communicate()
            started = csms.calls("StartTransaction")
            first_run = list(csms.frames)
            csms.forget_connection()
            second = await start_cli("--url", csms.url, *common)
            try:
                await wait_until(lambda: bool(csms.calls("StopTransaction")))
            finally:
                second.send_signal(signal.SIGKILL)
                await second.communicate()
            return log, errors, started, first_run, csms

    log, errors, started, first_run, csms = asyncio.run(scenario())
    (start,) = started
    assert start["idTag"] == HOSTILE
    assert csms.reply_to("rs-1") == [3, "rs-1", {"status": "Accepted"}]
    (stop, *_) = csms.calls("StopTransaction")
    assert stop["transactionId"] == 4001 and stop["reason"] == "PowerLoss"

    text = log.decode("utf-8")  # strict: no lone surrogate reached the output raw
    records = [json.loads(line) for line in text.splitlines()]
    frames = [(r["direction"], r["frame"]) for r in records]
    assert ("in", deep) in frames  # verbatim: it nests too deeply to be parsed
    (reply,) = [f for d, f in frames if d == "out" and isinstance(f, list) and f[1] == "deep-1"]
    assert reply[:3] == [4, "deep-1", "FormationViolation"]
    remote_in = [f for d, f in frames if d == "in" and isinstance(f, list) and f[1] == "rs-1"]
    assert remote_in == [
        [2, "rs-1", "RemoteStartTransaction", {"connectorId": 1, "idTag": HOSTILE}]
    ]
    start_out = [f for d, f in frames if d == "out" and f[2:3] == ["StartTransaction"]]
    assert start_out and start_out[0][3]["idTag"] == HOSTILE
    # Every frame of the first run is in its log: what the CSMS received, and what it sent
    # before the last reply it got.
    logged_out = [f for d, f in frames if d == "out"]
    logged_in = [f if isinstance(f, str) else json.dumps(f) for d, f in frames if d == "in"]
    received = [json.loads(t) for d, t in first_run if d == "recv"]
    assert received and all(frame in logged_out for frame in received)
    last_answered = max(i for i, (d, _) in enumerate(first_run) if d == "recv")
    sent = [t for d, t in first_run[:last_answered] if d == "sent"]
    assert all((t if t == deep else json.dumps(json.loads(t))) in logged_in for t in sent), (
        "a frame the station answered is missing from its --log"
    )
    assert b"Traceback" not in errors, errors.decode(errors="replace")[-2000:]


def test_log_lines_on_an_ascii_only_stdout_stay_json() -> None:
    """A terminal that cannot encode non-ASCII gets JSON's escapes, never a lost line."""

    async def scenario() -> tuple[int, str, str]:
        async with scripted_csms() as csms:
            raw = io.BytesIO()
            out = io.TextIOWrapper(raw, encoding="ascii", write_through=True)
            err = io.StringIO()
            stop = asyncio.Event()
            task = asyncio.ensure_future(
                run(["--url", csms.url, "--id", "ASCII-1", "--log"], out=out, err=err, stop=stop)
            )
            await wait_until(lambda: len(csms.calls("StatusNotification")) >= 2)
            await csms.send('[2,"dt-1","DataTransfer",{"vendorId":"Zoë","data":"\\ud800A"}]')
            await wait_until(lambda: csms.reply_to("dt-1") is not None)
            stop.set()
            code = await task
            return code, raw.getvalue().decode("ascii"), err.getvalue()

    code, out, err = asyncio.run(scenario())
    assert code == 0, err
    frames = [json.loads(line)["frame"] for line in out.splitlines()]
    assert [2, "dt-1", "DataTransfer", {"vendorId": "Zoë", "data": HOSTILE}] in frames
    assert [3, "dt-1", {"status": "UnknownVendorId"}] in frames


def test_a_full_disk_prints_an_error_line_and_the_recovery(
    tmp_path: Path, monkeypatch: Any
) -> None:
    failing = {"on": True}
    save, delete = FileStore.save, FileStore.delete

    def check() -> None:
        if failing["on"]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def failing_save(self: FileStore, name: str, value: Any) -> None:
        check()
        save(self, name, value)

    def failing_delete(self: FileStore, name: str) -> None:
        check()
        delete(self, name)

    monkeypatch.setattr(FileStore, "save", failing_save)
    monkeypatch.setattr(FileStore, "delete", failing_delete)
    store = tmp_path / "store"

    async def scenario(server: DevServer) -> tuple[int, str, str, Any]:
        out, err = io.StringIO(), io.StringIO()
        stop = asyncio.Event()
        argv = ["--url", server.csms_url, "--id", "FULL-1", "--store", str(store),
                "--plugged", "1", "--idtag", "CARD-F", "--speed", "10"]  # fmt: skip
        task = asyncio.ensure_future(run(argv, out=out, err=err, stop=stop))

        def started() -> bool:
            state = server.csms.station("FULL-1")
            return state is not None and any(
                action == "StartTransaction" for action, _ in received_calls(state)
            )

        await server.csms.wait_for(started, timeout=20)
        failing["on"] = False  # the disk has room again
        await poll(lambda: "the store takes writes again" in out.getvalue())
        stop.set()
        code = await task
        return code, out.getvalue(), err.getvalue(), server.csms.station("FULL-1")

    code, out, err, state = run_with_server(tmp_path, scenario)
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("error: FULL-1: could not write")]
    assert len(lines) == 1, err
    assert "No space left on device" in lines[0] and "kept in memory and retried" in lines[0]
    assert any("the store takes writes again" in line for line in out.splitlines())
    actions = [a for a, _ in received_calls(state) if a in ("StartTransaction", "StopTransaction")]
    assert actions == ["StartTransaction", "StopTransaction"]
    assert FileStore(store / "FULL-1").load("txseq") is not None


def test_a_disk_that_never_recovers_says_what_is_lost_at_the_end(
    tmp_path: Path, monkeypatch: Any
) -> None:
    def full(self: FileStore, *args: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(FileStore, "save", full)
    monkeypatch.setattr(FileStore, "delete", full)

    async def scenario(server: DevServer) -> tuple[int, str, str, Any]:
        code, out, err = await cli(
            ["--url", server.csms_url, "--id", "FULL-2", "--store", str(tmp_path / "store"),
             "--plugged", "1", "--idtag", "CARD-G", "--duration", "30", "--speed", "30"]
        )  # fmt: skip
        return code, out, err, server.csms.station("FULL-2")

    code, _, err, state = run_with_server(tmp_path, scenario)
    assert code == 0, err
    actions = [a for a, _ in received_calls(state) if a in ("StartTransaction", "StopTransaction")]
    assert actions == ["StartTransaction", "StopTransaction"]  # the session ran all the same
    lines = err.splitlines()
    assert sum("could not write" in line for line in lines) == 1, err
    (lost,) = [line for line in lines if "store writes could not be made" in line]
    assert lost.startswith("error: FULL-2: ") and "lost with this run" in lost
