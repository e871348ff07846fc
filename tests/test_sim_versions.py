"""Protocol negotiation (``--ocpp auto|1.6|2.0.1``), each version's Store namespace and the CLI
against CSMSs that speak one version only (issue 13).

Station tests run on the in-memory CSMS of station_fakes (which speaks the subprotocols it is
given, 2.0.1 too) and a VirtualClock; the CLI tests on real sockets against minimal servers
built on the websockets library alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from station_fakes import FakeBackend, Rig
from websockets.asyncio.server import ServerConnection, serve

from ocpp_core import FileStore, MemoryStore
from sim.cli import run
from sim.cli_args import build_parser
from sim.engines import PROTOCOL_DOCUMENT, Engines
from sim.events import ProtocolSelected
from sim.settings import SETTINGS, StationSettings, setting_named
from sim.transport.base import TransportConfig
from sim.transport.lifecycle import Lifecycle
from sim.versions import (
    CHOICES,
    NamespacedStore,
    id_tag_length,
    offered_subprotocols,
    version_of,
    version_store,
)

URL = "ws://csms.test/ocpp"
V16_ONLY = ("ocpp1.6",)
V201_ONLY = ("ocpp2.0.1",)

# --- the choices and what is offered ----------------------------------------------------------


def test_the_settings_table_offers_auto_16_and_201_default_16() -> None:
    row = setting_named("ocpp_version")
    assert row.default == "1.6"
    assert row.cli is not None and row.cli.choices == CHOICES == ("auto", "1.6", "2.0.1")
    assert build_parser().parse_args([]).ocpp == "1.6"
    assert build_parser().parse_args(["--ocpp", "auto"]).ocpp == "auto"
    for choice in CHOICES:
        assert StationSettings(URL, ocpp_version=choice).ocpp_version == choice
    with pytest.raises(ValueError, match=r"use auto, 1\.6 or 2\.0\.1"):
        StationSettings(URL, ocpp_version="2.0")
    assert any(item.form and item.form.element_id == "ocpp-version" for item in SETTINGS)


def test_part4_3_1_2_auto_offers_201_first_then_16() -> None:
    """OCPP-J part 4 §3.1.2: the client lists its subprotocols in order of preference
    (the example offers exactly `ocpp2.0.1, ocpp1.6`)."""
    assert offered_subprotocols("auto") == ("ocpp2.0.1", "ocpp1.6")
    assert offered_subprotocols("1.6") == ("ocpp1.6",)
    assert offered_subprotocols("2.0.1") == ("ocpp2.0.1",)
    config = TransportConfig(URL, "CP1", ocpp_version="auto")
    assert config.subprotocols == ("ocpp2.0.1", "ocpp1.6") and config.subprotocol == "ocpp2.0.1"
    assert config.offered == "ocpp2.0.1, ocpp1.6"
    assert version_of("ocpp1.6") == "1.6" and version_of("ocpp2.0.1") == "2.0.1"
    assert version_of("ocpp2.0") is None and version_of("") is None


def test_the_handshake_accepts_any_subprotocol_offered_and_nothing_else() -> None:
    class Silent:
        def __getattr__(self, name: str) -> Any:
            return lambda *args: None

    auto = Lifecycle(TransportConfig(URL, "CP1", ocpp_version="auto"), Silent())
    assert auto.subprotocol_problem("ocpp1.6") is None
    assert auto.subprotocol_problem("ocpp2.0.1") is None
    assert auto.subprotocol_problem(None) == (
        "server did not accept subprotocols ocpp2.0.1, ocpp1.6 (it picked none)"
    )
    only = Lifecycle(TransportConfig(URL, "CP1", ocpp_version="2.0.1"), Silent())
    assert only.subprotocol_problem("ocpp1.6") == (
        "server did not accept subprotocol ocpp2.0.1 (it picked 'ocpp1.6')"
    )


def test_an_idtag_fits_every_version_the_choice_may_run() -> None:
    assert id_tag_length("1.6") == 20
    assert id_tag_length("2.0.1") == 36
    assert id_tag_length("auto") == 20


# --- the Store namespaces ---------------------------------------------------------------------


def test_a_namespaced_store_sees_only_its_own_documents(tmp_path: Path) -> None:
    root = FileStore(tmp_path)
    root.save("config", {"v": "1.6"})
    root.save("txmsg/1", {"a": 1})
    view = NamespacedStore(root, "v201/")
    assert view.load("config") is None and view.names() == []
    view.save("config", {"v": "2.0.1"})
    view.save("txmsg/7", {"b": 2})
    assert view.load("config") == {"v": "2.0.1"}
    assert view.names() == ["config", "txmsg/7"] and view.names("txmsg/") == ["txmsg/7"]
    assert root.load("config") == {"v": "1.6"}
    assert root.names("txmsg/") == ["txmsg/1"]
    assert (tmp_path / "v201" / "config.json").is_file()
    view.delete("config")
    assert root.load("config") == {"v": "1.6"} and root.load("v201/config") is None
    with pytest.raises(ValueError):
        view.load("../config")
    with pytest.raises(ValueError):
        NamespacedStore(root, "v201")
    assert version_store(root, "1.6") is root
    assert isinstance(version_store(root, "2.0.1"), NamespacedStore)


def test_16_keeps_its_document_names_so_existing_stores_still_load(tmp_path: Path) -> None:
    """A store written before issue 13 (1.6 documents at the top level) is the 1.6 state."""
    before = FileStore(tmp_path)
    before.save("config", {"HeartbeatInterval": 123})
    rig = Rig(FakeBackend(), store=FileStore(tmp_path), ocpp_version="1.6")
    assert rig.station.engine.get_configuration("HeartbeatInterval") == "123"
    rig = Rig(FakeBackend(), store=FileStore(tmp_path), ocpp_version="2.0.1")
    assert rig.station.engine.get_configuration("OCPPCommCtrlr.HeartbeatInterval") != "123"


def _files(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*.json"))
    }


def test_switching_version_never_corrupts_the_others_state(tmp_path: Path) -> None:
    """1.6 charges and stops, 2.0.1 then charges on the same Store (killed mid-transaction),
    1.6 runs again: every 1.6 document is as 1.6 left it, and the 2.0.1 transaction that was
    cut short is still there, ended (PowerLoss) by the next 2.0.1 run with the same id."""
    v16 = Rig(FakeBackend(), store=FileStore(tmp_path), ocpp_version="1.6").boot()
    v16.station.plug(1)
    v16.station.present_card(1, "CARD-16")
    v16.run(30)
    v16.station.present_card(1, "CARD-16")
    v16.run(5)
    v16.station.unplug(1)
    assert v16.station.set_variable("MeterValueSampleInterval", "77") == "Accepted"
    v16.run(1)
    v16.station.disconnect()
    v16.run(1)
    assert v16.backend.payloads("StopTransaction")
    state_16 = {k: v for k, v in _files(tmp_path).items() if not k.startswith("sim-")}

    v201 = Rig(FakeBackend(), store=FileStore(tmp_path), ocpp_version="2.0.1").boot()
    v201.station.plug(2)
    v201.station.present_card(2, "CARD-201")
    v201.run(30)
    started = v201.station.snapshot(2)
    assert started.transaction_id is not None and isinstance(started.transaction_id, str)
    assert v201.station.set_variable("SampledDataCtrlr.TxUpdatedInterval", "99") == "Accepted"
    # killed: nothing more happens to this station

    after = {k: v for k, v in _files(tmp_path).items() if not k.startswith(("sim-", "v201/"))}
    assert after == state_16
    assert any(name.startswith("v201/") for name in _files(tmp_path))

    again16 = Rig(FakeBackend(), store=FileStore(tmp_path), ocpp_version="1.6").boot()
    assert again16.station.engine.get_configuration("MeterValueSampleInterval") == "77"
    assert again16.station.snapshot(1).transaction_id is None
    assert "StopTransaction" not in again16.backend.actions()  # nothing of 2.0.1 leaked

    again201 = Rig(FakeBackend(), store=FileStore(tmp_path), ocpp_version="2.0.1").boot()
    again201.run(5)
    ended = [p for p in again201.backend.payloads("TransactionEvent") if p["eventType"] == "Ended"]
    assert [p["transactionInfo"]["transactionId"] for p in ended] == [started.transaction_id]
    assert ended[0]["transactionInfo"]["stoppedReason"] == "PowerLoss"
    got = again201.station.engine.get_configuration("SampledDataCtrlr.TxUpdatedInterval")
    assert got == "99"


# --- auto on a Station ------------------------------------------------------------------------


def test_auto_runs_16_when_the_csms_only_speaks_16() -> None:
    rig = Rig(FakeBackend(subprotocols=V16_ONLY), ocpp_version="auto").boot()
    assert rig.station.ocpp_version == "1.6"
    assert rig.backend.actions()[0] == "BootNotification"
    assert "chargePointVendor" in rig.backend.payloads("BootNotification")[0]  # a 1.6 boot
    assert rig.of_type("ProtocolSelected") == [ProtocolSelected("1.6", "ocpp1.6")]
    assert rig.store.load(PROTOCOL_DOCUMENT) == {"version": "1.6"}


def test_auto_runs_201_when_the_csms_only_speaks_201() -> None:
    rig = Rig(FakeBackend(subprotocols=V201_ONLY), ocpp_version="auto").boot()
    assert rig.station.ocpp_version == "2.0.1"
    boot = rig.backend.payloads("BootNotification")[0]
    assert boot["reason"] == "PowerUp" and "chargingStation" in boot  # a 2.0.1 boot
    assert rig.of_type("ProtocolSelected") == [ProtocolSelected("2.0.1", "ocpp2.0.1")]


def test_auto_prefers_201_when_the_csms_speaks_both() -> None:
    rig = Rig(FakeBackend(subprotocols=("ocpp1.6", "ocpp2.0.1")), ocpp_version="auto").boot()
    assert rig.station.ocpp_version == "2.0.1"


def test_auto_starts_with_the_version_selected_last() -> None:
    store = MemoryStore()
    Rig(FakeBackend(subprotocols=V16_ONLY), store=store, ocpp_version="auto").boot()
    rig = Rig(FakeBackend(subprotocols=V16_ONLY), store=store, ocpp_version="auto")
    assert rig.station.ocpp_version == "1.6"  # before it connects
    rig.boot()
    assert rig.station.ocpp_version == "1.6"


def test_part4_3_2_a_csms_that_selects_none_is_a_clear_failure() -> None:
    rig = Rig(FakeBackend(subprotocols=V16_ONLY), ocpp_version="2.0.1")
    rig.station.connect()
    rig.run(0)
    assert rig.station.engine.registration is None
    assert rig.station.connection_detail.startswith(
        "server did not accept subprotocol ocpp2.0.1 (it picked none)"
    )
    assert rig.backend.calls == []


def test_config_defaults_per_version() -> None:
    settings = StationSettings(URL, ocpp_version="auto")
    with pytest.raises(ValueError, match="per version"):
        Engines(settings, MemoryStore(), {"WebSocketPingInterval": "20"})
    engines = Engines(
        settings,
        MemoryStore(),
        {
            "1.6": {"WebSocketPingInterval": "20"},
            "2.0.1": {"OCPPCommCtrlr.WebSocketPingInterval": "7"},
        },
    )
    assert engines.first_version() == "2.0.1"


# --- the CLI against one-version CSMSs --------------------------------------------------------


@asynccontextmanager
async def one_version_csms(subprotocol: str) -> AsyncIterator[Any]:
    """A CSMS on the websockets library alone that speaks only ``subprotocol``: it accepts the
    boot (both versions have the same BootNotification answer) and answers the rest with {}."""
    seen: dict[str, list[Any]] = {"opened": [], "calls": []}

    async def handle(connection: ServerConnection) -> None:
        seen["opened"].append(connection.subprotocol)
        async for message in connection:
            frame = json.loads(message)
            if frame[0] != 2:
                continue
            seen["calls"].append(frame)
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            payload: dict[str, Any] = {}
            if frame[2] == "BootNotification":
                payload = {"status": "Accepted", "currentTime": now, "interval": 300}
            elif frame[2] == "Heartbeat":
                payload = {"currentTime": now}
            await connection.send(json.dumps([3, frame[1], payload]))

    def select(_connection: ServerConnection, offered: Any) -> str | None:
        # OCPP-J: a CSMS that speaks none of the offered subprotocols completes the handshake
        # without one (some refuse the upgrade instead: see the HTTP 400 test).
        return subprotocol if subprotocol in offered else None

    async with serve(handle, "127.0.0.1", 0, select_subprotocol=select) as server:
        port = server.sockets[0].getsockname()[1]
        seen["url"] = [f"ws://127.0.0.1:{port}/ocpp"]
        yield seen


async def _cli(argv: list[str], seen: dict[str, list[Any]]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    stop = asyncio.Event()
    task = asyncio.ensure_future(run(argv, out=out, err=err, stop=stop))
    async with asyncio.timeout(20):
        while not task.done() and not any(c[2] == "BootNotification" for c in seen["calls"]):
            await asyncio.sleep(0.02)
    stop.set()
    return await task, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("offered", "speaks", "boot_field"),
    [
        ("auto", "ocpp1.6", "chargePointVendor"),
        ("auto", "ocpp2.0.1", "chargingStation"),
        ("2.0.1", "ocpp2.0.1", "chargingStation"),
    ],
)
def test_the_cli_boots_with_the_subprotocol_the_csms_selected(
    offered: str, speaks: str, boot_field: str, tmp_path: Path
) -> None:
    async def scenario() -> tuple[Any, ...]:
        async with one_version_csms(speaks) as seen:
            argv = ["--url", seen["url"][0], "--id", "NEG-1", "--ocpp", offered]
            result = await _cli([*argv, "--store", str(tmp_path)], seen)
            return result, seen["opened"], seen["calls"]

    (code, out, err), opened, calls = asyncio.run(scenario())
    assert code == 0, err
    assert opened == [speaks]
    assert calls[0][2] == "BootNotification" and boot_field in calls[0][3]
    assert "boot accepted" in out


@pytest.mark.parametrize(
    ("offered", "speaks", "message"),
    [
        ("2.0.1", "ocpp1.6", "server did not accept subprotocol ocpp2.0.1 (it picked none)"),
        ("1.6", "ocpp2.0.1", "server did not accept subprotocol ocpp1.6 (it picked none)"),
    ],
)
def test_part4_3_2_the_cli_exits_1_when_the_csms_selects_none(
    offered: str, speaks: str, message: str
) -> None:
    async def scenario() -> tuple[Any, ...]:
        async with one_version_csms(speaks) as seen:
            result = await _cli(["--url", seen["url"][0], "--id", "NEG-2", "--ocpp", offered], seen)
            return result, seen["calls"]

    (code, _out, err), calls = asyncio.run(scenario())
    assert code == 1
    assert err == f"error: {message}\n"
    assert calls == []


def test_a_csms_refusing_the_upgrade_for_the_subprotocol_says_so() -> None:
    """The websockets library's own server answers HTTP 400 when no subprotocol is common:
    the reason names the subprotocols, not the URL path."""

    async def handle(connection: ServerConnection) -> None:
        await connection.wait_closed()

    async def scenario() -> tuple[int, str, str]:
        async with serve(handle, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:
            url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
            return await _cli(["--url", url, "--id", "NEG-3", "--ocpp", "2.0.1"], {"calls": []})

    code, _out, err = asyncio.run(scenario())
    assert code == 1
    assert err.startswith("error: server did not accept subprotocol ocpp2.0.1 (HTTP 400: ")
    assert "expected one of ocpp1.6" in err


def test_the_demo_csms_can_speak_one_version_only() -> None:
    from devtools.demo_csms import choose_subprotocol

    both = ("ocpp2.0.1", "ocpp1.6")
    assert choose_subprotocol(both) == "ocpp2.0.1"
    assert choose_subprotocol(both, ("ocpp1.6",)) == "ocpp1.6"
    assert choose_subprotocol(("ocpp2.0.1",), ("ocpp1.6",)) is None
    assert choose_subprotocol(("ocpp1.6",), ("ocpp2.0.1",)) is None


class _States:
    def __init__(self) -> None:
        self.details: list[str] = []

    def on_open(self, subprotocol: str) -> None: ...

    def on_message(self, text: str) -> None: ...

    def on_close(self, reason: str) -> None: ...

    def on_state(self, state: Any, detail: str) -> None:
        self.details.append(detail)


def test_part4_3_2_the_browser_probe_explains_a_refused_subprotocol(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Chromium fails a handshake answered without a subprotocol like a refused connection; one
    probe offering none tells the two apart, once per failure streak."""
    from test_transport import FakeBrowser

    from sim.transport.browser import BrowserTransport

    fake = FakeBrowser()
    fake.install(monkeypatch)
    states = _States()
    config = TransportConfig(URL, "CP1", ocpp_version="2.0.1", backoff_jitter=0.0)
    transport = BrowserTransport(config, states, probe_subprotocols=True)
    transport.start()
    assert fake.sockets[0].protocols == ["ocpp2.0.1"]
    fake.sockets[0].drop(1006)  # what Chromium reports
    probe = fake.sockets[1]
    assert probe.protocols == [] and probe.url == fake.sockets[0].url
    probe.accept("")
    assert probe.closed == (1000, "subprotocol probe")
    assert transport.detail == (
        "server did not accept subprotocol ocpp2.0.1 (it picked none); reconnecting"
    )
    fake.fire_timer()
    fake.sockets[2].drop(1006)
    assert len(fake.sockets) == 3  # one probe per failure streak
    assert probe.onopen is None and probe.onclose is None
    assert len(fake.live_proxies()) == 1  # the reconnect timer's; the probe's are destroyed

    unreachable = FakeBrowser()
    unreachable.install(monkeypatch)
    other = BrowserTransport(config, _States(), probe_subprotocols=True)
    other.start()
    unreachable.sockets[0].drop(1006)
    unreachable.sockets[1].drop(1006)  # the probe fails too: the server is not reachable
    assert other.detail.startswith("could not connect to ws://csms.test/ocpp/CP1")
    plain = FakeBrowser()
    plain.install(monkeypatch)
    BrowserTransport(config, _States()).start()
    plain.sockets[0].drop(1006)
    assert len(plain.sockets) == 1  # no probe unless asked


def test_the_demo_csms_serves_a_201_cli_session(tmp_path: Path) -> None:
    """`build.py serve`'s demo CSMS handles 2.0.1 as it does 1.6: a CLI session (card, charge,
    card at the end) is answered without one CALLERROR and recorded with its events."""
    from test_cli import cli, run_with_server

    argv = ["--id", "DEMO-201", "--ocpp", "2.0.1", "--plugged", "1", "--idtag", "CARD-D",
            "--duration", "120", "--speed", "60", "--store", str(tmp_path / "store")]  # fmt: skip

    async def scenario(server: Any) -> tuple[Any, ...]:
        code, out, err = await cli(["--url", server.csms_url, *argv])
        return code, out, err, server.csms.station("DEMO-201")

    code, out, err, state = run_with_server(tmp_path, scenario)
    assert code == 0, err
    assert state is not None and state.protocol == "ocpp2.0.1" and state.boot_count == 1
    [record] = state.transactions.values()
    assert record.id_token == "CARD-D" and record.stop_reason == "Local"
    kinds = [kind for kind, _, _ in record.events]
    assert kinds[0] == "Started" and kinds[-1] == "Ended" and "Updated" in kinds
    assert [seq for _, seq, _ in record.events] == list(range(len(record.events)))
    answers = [json.loads(text) for direction, text in state.frames if direction == "send"]
    assert answers and all(frame[0] == 3 for frame in answers)  # no CALLERROR, no CALL
    assert "session started" in out and "session stopped" in out
