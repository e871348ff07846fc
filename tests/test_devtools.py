"""devtools: static files, echo and the demo CSMS on one port (every CP-initiated action, both
versions, checked against the `ocpp` package's schemas with jsonschema), auth, ports, shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jsonschema
import ocpp
import pytest
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.v16 import call as v16_call
from ocpp.v201 import call as v201_call
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.headers import build_authorization_basic

from devtools.demo_csms import CsmsOptions
from devtools.server import DevServer, run_server

ROOT = Path(__file__).resolve().parent.parent
OCPP_PACKAGE = Path(ocpp.__file__).resolve().parent
TS = "2024-01-01T00:00:00Z"
TAG16 = "TAG1"
TOKEN = {"idToken": "TAG1", "type": "ISO14443"}
SCHEDULE = {
    "id": 1,
    "chargingRateUnit": "W",
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
}

# Minimal valid payloads for every action a charge point starts. Together with the CSMS-initiated
# sets below they must cover every schema the `ocpp` package ships (test_action_lists_...).
V16_REQUESTS: dict[str, dict[str, Any]] = {
    "Authorize": {"idTag": TAG16},
    "BootNotification": {"chargePointVendor": "Vendor", "chargePointModel": "Model"},
    "DataTransfer": {"vendorId": "com.example"},
    "DiagnosticsStatusNotification": {"status": "Idle"},
    "FirmwareStatusNotification": {"status": "Idle"},
    "Heartbeat": {},
    "MeterValues": {
        "connectorId": 1,
        "meterValue": [{"timestamp": TS, "sampledValue": [{"value": "10"}]}],
    },
    "StartTransaction": {"connectorId": 1, "idTag": TAG16, "meterStart": 0, "timestamp": TS},
    "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "status": "Charging"},
    "StopTransaction": {"transactionId": 0, "idTag": TAG16, "timestamp": TS, "meterStop": 42},
    "SecurityEventNotification": {"type": "StartupOfTheDevice", "timestamp": TS},
    "SignCertificate": {"csr": "-----BEGIN CERTIFICATE REQUEST-----"},
    "LogStatusNotification": {"status": "Idle"},
    "SignedFirmwareStatusNotification": {"status": "Idle"},
}
V16_CSMS_INITIATED = {
    "CancelReservation", "CertificateSigned", "ChangeAvailability", "ChangeConfiguration",
    "ClearCache", "ClearChargingProfile", "DeleteCertificate", "ExtendedTriggerMessage",
    "GetCompositeSchedule", "GetConfiguration", "GetDiagnostics", "GetInstalledCertificateIds",
    "GetLocalListVersion", "GetLog", "InstallCertificate", "RemoteStartTransaction",
    "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile",
    "SignedUpdateFirmware", "TriggerMessage", "UnlockConnector", "UpdateFirmware",
}  # fmt: skip

V201_REQUESTS: dict[str, dict[str, Any]] = {
    "Authorize": {"idToken": TOKEN},
    "BootNotification": {
        "reason": "PowerUp",
        "chargingStation": {"model": "Model", "vendorName": "Vendor"},
    },
    "ClearedChargingLimit": {"chargingLimitSource": "EMS"},
    "DataTransfer": {"vendorId": "com.example"},
    "FirmwareStatusNotification": {"status": "Idle"},
    "Get15118EVCertificate": {
        "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
        "action": "Install",
        "exiRequest": "AAAA",
    },
    "GetCertificateStatus": {
        "ocspRequestData": {
            "hashAlgorithm": "SHA256",
            "issuerNameHash": "aa",
            "issuerKeyHash": "bb",
            "serialNumber": "01",
            "responderURL": "http://ocsp.example",
        }
    },
    "Heartbeat": {},
    "LogStatusNotification": {"status": "Idle"},
    "MeterValues": {
        "evseId": 1,
        "meterValue": [{"timestamp": TS, "sampledValue": [{"value": 10.0}]}],
    },
    "NotifyChargingLimit": {"chargingLimit": {"chargingLimitSource": "EMS"}},
    "NotifyCustomerInformation": {
        "data": "none",
        "seqNo": 0,
        "generatedAt": TS,
        "requestId": 1,
    },
    "NotifyDisplayMessages": {"requestId": 1},
    "NotifyEVChargingNeeds": {
        "evseId": 1,
        "chargingNeeds": {"requestedEnergyTransfer": "AC_three_phase"},
    },
    "NotifyEVChargingSchedule": {"timeBase": TS, "evseId": 1, "chargingSchedule": SCHEDULE},
    "NotifyEvent": {
        "generatedAt": TS,
        "seqNo": 0,
        "eventData": [
            {
                "eventId": 1,
                "timestamp": TS,
                "trigger": "Alerting",
                "actualValue": "1",
                "eventNotificationType": "HardWiredNotification",
                "component": {"name": "EVSE"},
                "variable": {"name": "Available"},
            }
        ],
    },
    "NotifyMonitoringReport": {"requestId": 1, "seqNo": 0, "generatedAt": TS},
    "NotifyReport": {"requestId": 1, "generatedAt": TS, "seqNo": 0},
    "PublishFirmwareStatusNotification": {"status": "Idle"},
    "ReportChargingProfiles": {
        "requestId": 1,
        "chargingLimitSource": "CSO",
        "evseId": 1,
        "chargingProfile": [
            {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": [SCHEDULE],
            }
        ],
    },
    "ReservationStatusUpdate": {"reservationId": 1, "reservationUpdateStatus": "Expired"},
    "SecurityEventNotification": {"type": "StartupOfTheDevice", "timestamp": TS},
    "SignCertificate": {"csr": "-----BEGIN CERTIFICATE REQUEST-----"},
    "StatusNotification": {
        "timestamp": TS,
        "connectorStatus": "Occupied",
        "evseId": 1,
        "connectorId": 1,
    },
    "TransactionEvent": {
        "eventType": "Started",
        "timestamp": TS,
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "tx-1"},
        "idToken": TOKEN,
        "evse": {"id": 1, "connectorId": 1},
    },
}
V201_CSMS_INITIATED = {
    "CancelReservation", "CertificateSigned", "ChangeAvailability", "ClearCache",
    "ClearChargingProfile", "ClearDisplayMessage", "ClearVariableMonitoring", "CostUpdated",
    "CustomerInformation", "DeleteCertificate", "GetBaseReport", "GetChargingProfiles",
    "GetCompositeSchedule", "GetDisplayMessages", "GetInstalledCertificateIds",
    "GetLocalListVersion", "GetLog", "GetMonitoringReport", "GetReport", "GetTransactionStatus",
    "GetVariables", "InstallCertificate", "PublishFirmware", "RequestStartTransaction",
    "RequestStopTransaction", "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile",
    "SetDisplayMessage", "SetMonitoringBase", "SetMonitoringLevel", "SetNetworkProfile",
    "SetVariableMonitoring", "SetVariables", "TriggerMessage", "UnlockConnector",
    "UnpublishFirmware", "UpdateFirmware",
}  # fmt: skip


# -- helpers ----------------------------------------------------------------------------------


def schema(version: str, action: str, kind: str) -> dict[str, Any]:
    """The `ocpp` package's schema; kind is "request" or "response"."""
    if version == "1.6":
        name = f"{action}Response" if kind == "response" else action
        path = OCPP_PACKAGE / "v16" / "schemas" / f"{name}.json"
    else:
        suffix = "Response" if kind == "response" else "Request"
        path = OCPP_PACKAGE / "v201" / "schemas" / f"{action}{suffix}.json"
    return json.loads(path.read_text(encoding="utf-8-sig"))


def schema_actions(version_dir: str, request_suffix: str) -> set[str]:
    """Every action the package has a request schema for (the same set as the OCA's)."""
    names = {p.stem for p in (OCPP_PACKAGE / version_dir / "schemas").glob("*.json")}
    return {n.removesuffix(request_suffix) for n in names if not n.endswith("Response")}


def in_loop(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout=20))


@asynccontextmanager
async def serving(dist: Path, **options: Any) -> AsyncIterator[DevServer]:
    async with DevServer(dist, "127.0.0.1", 0, csms_options=CsmsOptions(**options)) as server:
        yield server


async def http(
    port: int, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP/1.1 request, path sent exactly as given; reads until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), parsed, body


async def rpc(ws: ClientConnection, msg_id: str, action: str, payload: dict[str, Any]) -> list:
    await ws.send(json.dumps([2, msg_id, action, payload]))
    return json.loads(await ws.recv())


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A dist dir beside a file that must never be served."""
    (tmp_path / "pyproject.toml").write_text("SECRET = true\n")
    root = tmp_path / "dist"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>sim</title>")
    (root / "pyodide.asm.wasm").write_bytes(b"\x00asm" + bytes(range(256)) * 40_000)  # ~10 MB
    (root / "pyodide.mjs").write_text("export const x = 1;")
    (root / "app.js").write_text("console.log(1);")
    (root / "style.css").write_text("body{}")
    (root / "pyodide-lock.json").write_text("{}")
    (root / "sim-0.1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04")
    (root / "pyscript.toml").write_text("packages = []\n")
    (root / "main.py").write_text("print(1)\n")
    (root / "sub" / "index.html").write_text("sub")
    return root


# -- the action lists match the spec ------------------------------------------------------------


def test_action_lists_cover_every_schema() -> None:
    v16 = schema_actions("v16", "")
    assert set(V16_REQUESTS) | V16_CSMS_INITIATED == v16
    assert not set(V16_REQUESTS) & V16_CSMS_INITIATED
    v201 = schema_actions("v201", "Request")
    assert set(V201_REQUESTS) | V201_CSMS_INITIATED == v201
    assert not set(V201_REQUESTS) & V201_CSMS_INITIATED
    assert len(V201_REQUESTS) == 25
    for action, payload in V16_REQUESTS.items():
        jsonschema.validate(payload, schema("1.6", action, "request"))
    for action, payload in V201_REQUESTS.items():
        jsonschema.validate(payload, schema("2.0.1", action, "request"))


# -- static files -------------------------------------------------------------------------------


def test_static_files_content_types_and_head(dist: Path) -> None:
    expected = {
        "/": "text/html; charset=utf-8",
        "/index.html": "text/html; charset=utf-8",
        "/pyodide.asm.wasm": "application/wasm",
        "/pyodide.mjs": "text/javascript; charset=utf-8",
        "/app.js": "text/javascript; charset=utf-8",
        "/style.css": "text/css; charset=utf-8",
        "/pyodide-lock.json": "application/json",
        "/sim-0.1.0-py3-none-any.whl": "application/zip",
        "/pyscript.toml": "application/toml",
        "/main.py": "text/x-python; charset=utf-8",
        "/sub/": "text/html; charset=utf-8",
        "/index.html?v=2": "text/html; charset=utf-8",
    }

    async def scenario() -> None:
        async with serving(dist) as server:
            for path, content_type in expected.items():
                status, headers, body = await http(server.port, path)
                assert (status, headers["content-type"]) == (200, content_type), path
                assert headers["cache-control"] == "no-cache"
                assert int(headers["content-length"]) == len(body)
            _, _, body = await http(server.port, "/")
            assert body == (dist / "index.html").read_bytes()
            status, headers, body = await http(server.port, "/pyodide.asm.wasm", "HEAD")
            size = (dist / "pyodide.asm.wasm").stat().st_size
            assert (status, int(headers["content-length"]), body) == (200, size, b"")
            status, headers, _ = await http(server.port, "/", "POST")
            assert (status, headers["allow"]) == (405, "GET, HEAD")

    in_loop(scenario)


@pytest.mark.parametrize(
    "path",
    [
        "/missing.js",
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/%2E%2E%2Fpyproject.toml",
        "/..%2fpyproject.toml",
        "/sub/../../pyproject.toml",
        "/%2e%2e%5cpyproject.toml",
        "//../pyproject.toml",
        "/index.html%00.js",
    ],
)
def test_static_refuses_missing_and_outside_paths(dist: Path, path: str) -> None:
    async def scenario() -> None:
        async with serving(dist) as server:
            status, _, body = await http(server.port, path)
            assert status == 404
            assert b"SECRET" not in body

    in_loop(scenario)


def test_static_large_parallel_and_rebuilt_files(dist: Path) -> None:
    wasm = (dist / "pyodide.asm.wasm").read_bytes()

    def fetch(url: str) -> bytes:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read()

    async def scenario() -> None:
        async with serving(dist) as server:
            urls = [server.page_url + "pyodide.asm.wasm"] * 6 + [server.page_url] * 20
            # Own threads: the server reads files on the loop's default executor.
            loop = asyncio.get_running_loop()
            with ThreadPoolExecutor(max_workers=len(urls)) as pool:
                bodies = await asyncio.gather(
                    *(loop.run_in_executor(pool, fetch, url) for url in urls)
                )
            assert all(body == wasm for body in bodies[:6])
            assert all(body.startswith(b"<!doctype") for body in bodies[6:])

            _, headers, _ = await http(server.port, "/index.html")
            status, _, body = await http(
                server.port, "/index.html", headers={"If-None-Match": headers["etag"]}
            )
            assert (status, body) == (304, b"")
            (dist / "index.html").write_text("rebuilt, longer than before")
            status, _, body = await http(
                server.port, "/index.html", headers={"If-None-Match": headers["etag"]}
            )
            assert (status, body) == (200, b"rebuilt, longer than before")

    in_loop(scenario)


def test_plain_get_on_websocket_paths_says_upgrade(dist: Path) -> None:
    async def scenario() -> None:
        async with serving(dist) as server:
            for path in ("/echo", "/ocpp/CP1"):
                status, _, _ = await http(server.port, path)
                assert status == 426

    in_loop(scenario)


# -- echo ------------------------------------------------------------------------------------


def test_echo_returns_text_and_binary(dist: Path) -> None:
    async def scenario() -> None:
        async with serving(dist) as server:
            async with connect(server.echo_url) as ws:
                assert ws.subprotocol is None
                await ws.send("hello")
                assert await ws.recv() == "hello"
                await ws.send(b"\x00\x01\x02")
                assert await ws.recv() == b"\x00\x01\x02"
            async with connect(server.echo_url, subprotocols=["ocpp1.6"]) as ws:
                assert ws.subprotocol == "ocpp1.6"
                await ws.send('[2,"1","Heartbeat",{}]')
                assert await ws.recv() == '[2,"1","Heartbeat",{}]'
            # A station appends its charge box id to the URL it is given.
            async with connect(f"{server.echo_url}/SIM-0001", subprotocols=["ocpp1.6"]) as ws:
                await ws.send("with an id")
                assert await ws.recv() == "with an id"

    in_loop(scenario)


# -- demo CSMS ---------------------------------------------------------------------------------


def test_ocpp16_answers_every_charge_point_action(dist: Path) -> None:
    async def scenario() -> None:
        async with serving(dist) as server:
            url = f"{server.csms_url}/CP16"
            async with connect(url, subprotocols=["ocpp1.6"]) as ws:
                assert ws.subprotocol == "ocpp1.6"
                transaction_id = None
                for n, (action, payload) in enumerate(V16_REQUESTS.items()):
                    if action == "StopTransaction":
                        payload = {**payload, "transactionId": transaction_id}
                    reply = await rpc(ws, f"m{n}", action, payload)
                    assert reply[:2] == [3, f"m{n}"], (action, reply)
                    jsonschema.validate(reply[2], schema("1.6", action, "response"))
                    if action == "StartTransaction":
                        transaction_id = reply[2]["transactionId"]
                        assert reply[2]["idTagInfo"] == {"status": "Accepted"}
                    if action == "BootNotification":
                        assert reply[2]["status"] == "Accepted"
                        assert reply[2]["interval"] == 300
                        assert reply[2]["currentTime"].endswith("Z")

                second = await rpc(
                    ws, "again", "StartTransaction", V16_REQUESTS["StartTransaction"]
                )
                assert second[2]["transactionId"] > transaction_id
                # a re-sent StartTransaction (same message id) is recognised: same transactionId
                start_id = f"m{list(V16_REQUESTS).index('StartTransaction')}"
                repeat = await rpc(
                    ws, start_id, "StartTransaction", V16_REQUESTS["StartTransaction"]
                )
                assert repeat[2]["transactionId"] == transaction_id

            station = server.csms.station("CP16")
            assert station is not None
            await server.csms.wait_for(lambda: not station.connected)
            assert station.protocol == "ocpp1.6"
            assert station.boot == {"charge_point_vendor": "Vendor", "charge_point_model": "Model"}
            assert station.connector_status == {(0, 1): "Charging"}
            record = station.transactions[transaction_id]
            assert (record.id_token, record.meter_start, record.meter_stop) == (TAG16, 0, 42)
            assert not record.active
            assert station.last_heartbeat_at is not None
            assert station.repeated_starts == 1
            stop_id = f"m{list(V16_REQUESTS).index('StopTransaction')}"
            assert station.stop_message_ids == {transaction_id: [stop_id]}

    in_loop(scenario)


def test_ocpp201_answers_every_charging_station_action(dist: Path) -> None:
    async def scenario() -> None:
        async with serving(dist, heartbeat_interval=60) as server:
            url = f"{server.csms_url}/CS201"
            async with connect(url, subprotocols=["ocpp2.0.1"]) as ws:
                assert ws.subprotocol == "ocpp2.0.1"
                for n, (action, payload) in enumerate(V201_REQUESTS.items()):
                    reply = await rpc(ws, f"m{n}", action, payload)
                    assert reply[:2] == [3, f"m{n}"], (action, reply)
                    jsonschema.validate(reply[2], schema("2.0.1", action, "response"))
                    if action == "BootNotification":
                        assert (reply[2]["status"], reply[2]["interval"]) == ("Accepted", 60)
                    if action in ("Authorize", "TransactionEvent"):
                        assert reply[2]["idTokenInfo"] == {"status": "Accepted"}

                station = server.csms.station("CS201")
                assert station is not None and station.connected
                assert station.connector_status == {(1, 1): "Occupied"}
                assert station.transactions["tx-1"].active
                ended = {
                    **V201_REQUESTS["TransactionEvent"],
                    "eventType": "Ended",
                    "seqNo": 1,
                    "triggerReason": "StopAuthorized",
                    "transactionInfo": {"transactionId": "tx-1", "stoppedReason": "Remote"},
                }
                reply = await rpc(ws, "end", "TransactionEvent", ended)
                assert reply[0] == 3
                assert station.transactions["tx-1"].stop_reason == "Remote"
                assert not station.transactions["tx-1"].active

    in_loop(scenario)


def test_invalid_payloads_get_callerrors_with_version_spelling(dist: Path) -> None:
    async def scenario() -> None:
        async with serving(dist) as server:
            async with connect(f"{server.csms_url}/CP1", subprotocols=["ocpp1.6"]) as ws:
                extra = {**V16_REQUESTS["BootNotification"], "colour": "red"}
                reply = await rpc(ws, "1", "BootNotification", extra)
                assert reply[:3] == [4, "1", "FormationViolation"]  # 1.6 spelling
                reply = await rpc(ws, "2", "BootNotification", {"chargePointVendor": "V"})
                assert reply[:2] == [4, "2"]
                reply = await rpc(ws, "3", "StatusNotification", {"connectorId": "one"})
                assert reply[:2] == [4, "3"]
                reply = await rpc(ws, "4", "Reset", {"type": "Hard"})  # a CSMS->CP action
                assert reply[:3] == [4, "4", "NotImplemented"]
                reply = await rpc(ws, "5", "NoSuchAction", {})
                assert reply[:3] == [4, "5", "NotSupported"]
            async with connect(f"{server.csms_url}/CS1", subprotocols=["ocpp2.0.1"]) as ws:
                extra = {**V201_REQUESTS["Heartbeat"], "colour": "red"}
                reply = await rpc(ws, "1", "Heartbeat", extra)
                assert reply[:3] == [4, "1", "FormatViolation"]

    in_loop(scenario)


def test_subprotocol_choice_and_refusal(dist: Path) -> None:
    async def scenario() -> None:
        async with serving(dist) as server:
            offered = ["ocpp2.0", "ocpp2.0.1", "ocpp1.6"]
            async with connect(f"{server.csms_url}/CP1", subprotocols=offered) as ws:
                assert ws.subprotocol == "ocpp2.0.1"
            for offered in (["ocpp1.5"], None):
                async with connect(f"{server.csms_url}/CP2", subprotocols=offered) as ws:
                    assert ws.subprotocol is None
                    with pytest.raises(ConnectionClosedError) as closed:
                        await ws.recv()
                    assert closed.value.rcvd is not None
                    assert closed.value.rcvd.code == 1002
                    assert "ocpp1.6" in closed.value.rcvd.reason

    in_loop(scenario)


def test_charge_box_id_is_last_segment_url_decoded(dist: Path) -> None:
    async def scenario() -> None:
        async with serving(dist) as server:
            url = f"{server.csms_url}/CP%2001"
            async with connect(url, subprotocols=["ocpp1.6"]) as ws:
                await rpc(ws, "1", "Heartbeat", {})
                assert server.csms.registry.connected_ids() == ["CP 01"]
            for path in ("/ocpp", "/ocpp/", "/nothing"):
                with pytest.raises(InvalidStatus) as refused:
                    await connect(f"ws://127.0.0.1:{server.port}{path}", subprotocols=["ocpp1.6"])
                assert refused.value.response.status_code == 404

    in_loop(scenario)


def test_basic_auth(dist: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    password, other = "s3cret-pass", "other-pass"
    good = build_authorization_basic("CP1", password)

    async def refused(url: str, **kwargs: Any) -> None:
        with pytest.raises(InvalidStatus) as error:
            await connect(url, subprotocols=["ocpp1.6"], **kwargs)
        assert error.value.response.status_code == 401
        assert error.value.response.headers["WWW-Authenticate"] == 'Basic realm="OCPP"'

    async def scenario() -> None:
        async with serving(dist, password=password, passwords={"CP2": other}) as server:
            base = f"127.0.0.1:{server.port}/ocpp"
            await refused(f"ws://{base}/CP1")
            await refused(f"ws://{base}/CP1", additional_headers={"Authorization": "Bearer x"})
            await refused(f"ws://CP1:wrong@{base}/CP1")
            await refused(f"ws://CP9:{password}@{base}/CP1")  # user is not the charge box id
            await refused(f"ws://CP2:{password}@{base}/CP2")  # CP2 has its own password
            async with connect(
                f"ws://{base}/CP1",
                subprotocols=["ocpp1.6"],
                additional_headers={"Authorization": good},
            ) as ws:
                assert (await rpc(ws, "1", "Heartbeat", {}))[0] == 3
            async with connect(f"ws://CP2:{other}@{base}/CP2", subprotocols=["ocpp1.6"]) as ws:
                assert (await rpc(ws, "1", "Heartbeat", {}))[0] == 3
            async with connect(f"ws://{base.replace('/ocpp', '/echo')}") as ws:
                await ws.send("no auth on echo")
                assert await ws.recv() == "no auth on echo"

    in_loop(scenario)
    # Only the server's records: the test's own websockets client logs what it sends.
    server_lines = [r.getMessage() for r in caplog.records if r.name.startswith("devtools")]
    logged = "\n".join(server_lines)
    assert "< Authorization: [redacted]" in logged
    assert password not in logged and other not in logged
    assert good.split()[1] not in logged


def test_frames_are_logged_one_line_each(dist: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="devtools.csms")

    async def scenario() -> None:
        async with (
            serving(dist) as server,
            connect(f"{server.csms_url}/CPLOG", subprotocols=["ocpp1.6"]) as ws,
        ):
            await rpc(ws, "h1", "Heartbeat", {})

    in_loop(scenario)
    lines = [r.getMessage() for r in caplog.records if r.name == "devtools.csms"]
    assert 'CPLOG recv [2, "h1", "Heartbeat", {}]' in lines
    assert any(line.startswith('CPLOG send [3,"h1",{"currentTime":') for line in lines)


def test_call_reaches_a_connected_station(dist: Path) -> None:
    async def scenario() -> None:
        async with serving(dist) as server:
            csms = server.csms
            with pytest.raises(LookupError):
                await csms.call("nobody", v16_call.RemoteStartTransaction(id_tag=TAG16))
            async with connect(f"{server.csms_url}/CP1", subprotocols=["ocpp1.6"]) as ws:
                await rpc(ws, "b", "BootNotification", V16_REQUESTS["BootNotification"])
                pending = asyncio.create_task(
                    csms.call("CP1", v16_call.RemoteStartTransaction(id_tag=TAG16, connector_id=1))
                )
                request = json.loads(await ws.recv())
                assert request[0] == 2 and request[2:] == [
                    "RemoteStartTransaction",
                    {"idTag": TAG16, "connectorId": 1},
                ]
                await ws.send(json.dumps([3, request[1], {"status": "Accepted"}]))
                assert (await pending).status == "Accepted"

                pending = asyncio.create_task(csms.call("CP1", v16_call.ClearCache()))
                request = json.loads(await ws.recv())
                await ws.send(json.dumps([4, request[1], "NotImplemented", "", {}]))
                with pytest.raises(OcppNotImplemented):
                    await pending

                pending = asyncio.create_task(csms.call("CP1", v16_call.ClearCache()))
                await ws.recv()
            with pytest.raises(ConnectionError):
                await pending

            async with connect(f"{server.csms_url}/CS1", subprotocols=["ocpp2.0.1"]) as ws:
                await csms.wait_for(lambda: "CS1" in csms.registry.connected_ids())
                pending = asyncio.create_task(csms.call("CS1", v201_call.Reset(type="Immediate")))
                request = json.loads(await ws.recv())
                await ws.send(json.dumps([3, request[1], {"status": "Accepted"}]))
                assert (await pending).status == "Accepted"

    in_loop(scenario)


def test_newer_connection_replaces_older_one(dist: Path) -> None:
    async def scenario() -> None:
        async with serving(dist) as server:
            url = f"{server.csms_url}/CPDUP"
            async with (
                connect(url, subprotocols=["ocpp1.6"]) as old,
                connect(url, subprotocols=["ocpp1.6"]) as new,
            ):
                await old.wait_closed()
                assert old.close_code == 1000
                assert (await rpc(new, "1", "Heartbeat", {}))[0] == 3
                assert server.csms.registry["CPDUP"].connected

    in_loop(scenario)


# -- ports and lifecycle ----------------------------------------------------------------------


def test_busy_port_raises_oserror_naming_the_address(dist: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]

        async def scenario() -> None:
            with pytest.raises(OSError, match=f"127.0.0.1:{port}"):
                async with DevServer(dist, "127.0.0.1", port):
                    pass

        in_loop(scenario)


def test_run_server_ready_then_cancel(dist: Path) -> None:
    async def scenario() -> None:
        ready = asyncio.Event()
        started: list[DevServer] = []
        task = asyncio.create_task(
            run_server("127.0.0.1", 0, dist, ready=ready, on_start=started.append)
        )
        await ready.wait()
        status, _, _ = await http(started[0].port, "/")
        assert status == 200
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    in_loop(scenario)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery to a child is POSIX-only")
def test_cli_prints_urls_and_stops_cleanly_on_ctrl_c(dist: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.server", "--dist", str(dist), "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("Page:  http://127.0.0.1:")
        port = int(lines[0].rstrip().rstrip("/").rsplit(":", 1)[1])
        assert lines[1:] == [
            f"CSMS:  ws://127.0.0.1:{port}/ocpp\n",
            f"Echo:  ws://127.0.0.1:{port}/echo\n",
        ]

        async def scenario() -> float:
            idle = await asyncio.open_connection("127.0.0.1", port)  # like a browser preconnect
            async with connect(f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=["ocpp1.6"]) as ws:
                await rpc(ws, "1", "Heartbeat", {})
                started = time.monotonic()
                process.send_signal(signal.SIGINT)
                await ws.wait_closed()
                assert ws.close_code == 1001
            await asyncio.to_thread(process.wait, 10)
            idle[1].close()
            return time.monotonic() - started

        duration = asyncio.run(scenario())
        _, stderr = process.communicate(timeout=5)
        assert process.returncode == 0
        assert "Traceback" not in stderr
        assert duration < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_cli_reports_busy_port(dist: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "devtools.server", "--dist", str(dist), "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=20,
        )
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
