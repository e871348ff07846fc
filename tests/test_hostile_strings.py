"""Strings a CSMS may send that UTF-8 cannot encode: lone surrogates (``"\\ud800A"`` is valid
JSON). Each entry point takes them frames in, frames out, on a FileStore; the store round-trips
them with JSON's escapes, and a kill (a new FileStore and engine on the same directory, nothing
closed) afterwards still finds every document, so a running transaction is stopped (PowerLoss).
"""

from __future__ import annotations

import importlib
import json
import sys
import types
from pathlib import Path

import pytest
from fake_csms import WALL_START
from tx_rig import Rig, start_session

from ocpp_core.clock import format_datetime
from ocpp_core.events import StoreFailed
from ocpp_core.store import FileStore

WEB = Path(__file__).resolve().parent.parent / "web"

A = "\ud800A"  # a lone high surrogate
B = "\udc00B"  # a lone low surrogate
C = "C\udfff"


def file_rig(tmp_path: Path, **options: object) -> Rig:
    return Rig(store=FileStore(tmp_path / "store"), **options)  # type: ignore[arg-type]


def kill(rig: Rig, tmp_path: Path) -> None:
    """A power cut: a fresh FileStore and engine on the same directory, at the same time."""
    rig.store = FileStore(tmp_path / "store")
    rig.restart()


def on_disk(tmp_path: Path, name: str) -> object:
    return FileStore(tmp_path / "store").load(name)


def assert_files_are_ascii(tmp_path: Path) -> None:
    files = list((tmp_path / "store").rglob("*.json"))
    assert files
    for path in files:
        assert path.read_bytes().isascii(), path


def assert_store_keeps_transactions(rig: Rig, tmp_path: Path) -> None:
    """Every later write still works: a transaction started now survives a kill as a Stop."""
    transaction_id = start_session(rig, "LATER", connector=2)
    kill(rig, tmp_path)
    stops = rig.payloads("StopTransaction")
    assert [(p["transactionId"], p["reason"]) for p in stops][-1] == (transaction_id, "PowerLoss")
    assert not rig.events_of(StoreFailed)


def test_remote_start_id_tag_and_parent_survive_a_kill(tmp_path: Path) -> None:
    """The issue's sequence: RemoteStartTransaction idTag "\\ud800A" -> Accepted ->
    StartTransaction confirmed -> kill -> the transaction is stopped with PowerLoss."""
    rig = file_rig(tmp_path)
    rig.csms.handlers["StartTransaction"] = lambda payload: {
        "transactionId": 4001,
        "idTagInfo": {"status": "Accepted", "parentIdTag": B},
    }
    assert rig.csms.result("RemoteStartTransaction", {"connectorId": 1, "idTag": A}) == {
        "status": "Accepted"
    }
    rig.plug()
    (start,) = rig.payloads("StartTransaction")
    assert start["idTag"] == A
    sent = [text for text in rig.csms.sent if '"StartTransaction"' in text]
    assert sent and all(text.isascii() for text in sent)  # JSON escapes on the wire
    (record,) = [on_disk(tmp_path, name) for name in rig.store.names("tx/")]
    assert isinstance(record, dict) and A in json.dumps(record, ensure_ascii=False)
    assert_files_are_ascii(tmp_path)

    kill(rig, tmp_path)
    (stop,) = rig.payloads("StopTransaction")
    assert stop["transactionId"] == 4001 and stop["reason"] == "PowerLoss"
    assert not rig.events_of(StoreFailed)
    assert_store_keeps_transactions(rig, tmp_path)


def test_parent_id_tag_from_authorize_reaches_the_cache_on_disk(tmp_path: Path) -> None:
    rig = file_rig(tmp_path, config={"LocalAuthorizeOffline": "true"})
    rig.csms.handlers["Authorize"] = lambda payload: {
        "idTagInfo": {"status": "Accepted", "parentIdTag": A}
    }
    rig.card(C)
    (authorize,) = rig.payloads("Authorize")
    assert authorize["idTag"] == C
    assert on_disk(tmp_path, "authcache") == [
        {"idTag": C, "idTagInfo": {"status": "Accepted", "parentIdTag": A}}
    ]
    kill(rig, tmp_path)
    rig.offline()
    rig.plug()
    rig.card(C)  # offline: the cached entry, read back from disk, authorizes it
    info = rig.cp.transaction(1)
    assert info is not None and info.id_tag == C
    assert_files_are_ascii(tmp_path)


def test_send_local_list_entries_survive_a_kill(tmp_path: Path) -> None:
    rig = file_rig(tmp_path)
    items = [
        {"idTag": A, "idTagInfo": {"status": "Accepted", "parentIdTag": B}},
        {"idTag": C, "idTagInfo": {"status": "Blocked"}},
    ]
    payload = {"listVersion": 3, "updateType": "Full", "localAuthorizationList": items}
    assert rig.csms.result("SendLocalList", payload) == {"status": "Accepted"}
    assert on_disk(tmp_path, "localauth") == {"listVersion": 3, "localAuthorizationList": items}
    kill(rig, tmp_path)
    assert rig.csms.result("GetLocalListVersion", {}) == {"listVersion": 3}
    assert_files_are_ascii(tmp_path)
    assert_store_keeps_transactions(rig, tmp_path)


def test_reserve_now_survives_a_kill(tmp_path: Path) -> None:
    rig = file_rig(tmp_path)
    payload = {
        "connectorId": 1,
        "expiryDate": format_datetime(WALL_START + 3600),
        "idTag": A,
        "parentIdTag": B,
        "reservationId": 7,
    }
    assert rig.csms.result("ReserveNow", payload) == {"status": "Accepted"}
    kill(rig, tmp_path)
    reservation = rig.cp.reservation(1)
    assert reservation is not None and reservation.id_tag == A
    assert reservation.parent_id_tag == B
    assert_files_are_ascii(tmp_path)
    assert_store_keeps_transactions(rig, tmp_path)


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        (A, "1", "NotSupported"),
        ("HeartbeatInterval", A, "Rejected"),
        ("MeterValuesSampledData", B, "Rejected"),
        ("AuthorizationKey", A, "Rejected"),
    ],
)
def test_change_configuration_with_lone_surrogates(
    tmp_path: Path, key: str, value: str, status: str
) -> None:
    rig = file_rig(tmp_path)
    reply = rig.csms.result("ChangeConfiguration", {"key": key, "value": value})
    assert reply == {"status": status}
    if status == "NotSupported":
        assert rig.csms.result("GetConfiguration", {"key": [key]})["unknownKey"] == [key]
    assert rig.csms.result("ChangeConfiguration", {"key": "ConnectionTimeOut", "value": "77"})
    kill(rig, tmp_path)
    assert rig.cp.get_configuration("ConnectionTimeOut") == "77"
    assert_store_keeps_transactions(rig, tmp_path)


def test_data_transfer_with_lone_surrogates(tmp_path: Path) -> None:
    rig = file_rig(tmp_path)
    payload = {"vendorId": A, "messageId": B, "data": C}
    assert rig.csms.result("DataTransfer", payload) == {"status": "UnknownVendorId"}
    assert_store_keeps_transactions(rig, tmp_path)


def test_charging_profile_fields_with_lone_surrogates_are_refused_cleanly(
    tmp_path: Path,
) -> None:
    rig = file_rig(tmp_path)
    good = {
        "chargingProfileId": 5,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    }
    hostile = [
        {**good, "chargingProfileId": A},  # an id as a string
        {**good, "validFrom": A},
        {**good, "chargingProfileKind": A},
        {**good, "chargingSchedule": {**good["chargingSchedule"], "chargingRateUnit": B}},
    ]
    for profile in hostile:
        reply = rig.csms.call(
            "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}
        )
        assert reply[0] == 4 and reply[2] in (
            "TypeConstraintViolation",
            "PropertyConstraintViolation",
            "FormationViolation",
        ), reply
    assert rig.csms.result(
        "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": good}
    ) == {"status": "Accepted"}
    kill(rig, tmp_path)
    assert rig.cp.charging_profiles() == [(1, good)]
    assert_store_keeps_transactions(rig, tmp_path)


def test_remote_start_with_a_charging_profile_and_a_hostile_id_tag(tmp_path: Path) -> None:
    rig = file_rig(tmp_path)
    profile = {
        "chargingProfileId": 9,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
        },
    }
    payload = {"connectorId": 1, "idTag": B, "chargingProfile": profile}
    assert rig.csms.result("RemoteStartTransaction", payload) == {"status": "Accepted"}
    rig.plug()
    (start,) = rig.payloads("StartTransaction")
    kill(rig, tmp_path)
    (stop,) = rig.payloads("StopTransaction")
    assert start["idTag"] == B and stop["reason"] == "PowerLoss"
    assert_files_are_ascii(tmp_path)


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("UpdateFirmware", {"location": f"http://{A}.example/fw.bin"}),
        ("UpdateFirmware", {"location": f"http://host.example/{B}.bin"}),
        ("GetDiagnostics", {"location": f"ftp://host.example/{C}"}),
    ],
)
def test_transfer_locations_with_lone_surrogates_are_refused_before_any_change(
    tmp_path: Path, action: str, payload: dict
) -> None:
    """A URI holds only RFC 3986 characters: the CALL is refused (OCPP-J §4.2.3), nothing is
    stored, and the station goes on."""
    rig = file_rig(tmp_path)
    if action == "UpdateFirmware":
        payload = {**payload, "retrieveDate": format_datetime(WALL_START + 600)}
    reply = rig.csms.call(action, payload)
    assert reply[:3] == [4, reply[1], "PropertyConstraintViolation"]
    assert "is not a valid uri" in reply[3]
    assert all(text.isascii() for text in rig.csms.sent)  # the description, escaped
    assert on_disk(tmp_path, "firmware") is None
    rig.advance(30)
    assert_store_keeps_transactions(rig, tmp_path)


# ---------------------------------------------------------------------- the page


class FakeNode:
    """What dom.py writes to: textContent and attributes."""

    def __init__(self) -> None:
        self.textContent = ""
        self.className = ""
        self.attributes: dict[str, str] = {}

    def setAttribute(self, name: str, value: str) -> None:  # the DOM's name
        self.attributes[name] = value


def test_the_page_shows_lone_surrogates_as_their_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    """dom.py is where Python text reaches the page: a lone surrogate shows as \\ud800, never as
    a replacement mark, and what reaches the browser is valid UTF-16 text."""
    js = types.ModuleType("js")
    js.document = types.SimpleNamespace(createElement=lambda tag: FakeNode())  # type: ignore[attr-defined]
    ffi = types.ModuleType("pyodide.ffi")
    ffi.create_proxy = lambda handler: handler  # type: ignore[attr-defined]
    ffi.jsnull = None  # type: ignore[attr-defined]
    pyodide = types.ModuleType("pyodide")
    pyodide.ffi = ffi  # type: ignore[attr-defined]
    for name, module in (("js", js), ("pyodide", pyodide), ("pyodide.ffi", ffi)):
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.syspath_prepend(str(WEB))
    monkeypatch.delitem(sys.modules, "control_center.dom", raising=False)
    dom = importlib.import_module("control_center.dom")
    monkeypatch.setitem(sys.modules, "control_center.dom", dom)  # gone again after the test

    node = FakeNode()
    binder = dom.Binder()
    binder.text(node, f"card {A} Accepted")
    binder.attr(node, "title", B)
    made = dom.make("li", "", f"idTag {C}")
    assert node.textContent == "card \\ud800A Accepted"
    assert node.attributes == {"title": "\\udc00B"}
    assert made.textContent == "idTag C\\udfff"
    binder.text(node, "Zoë")  # other text unchanged
    assert node.textContent == "Zoë"


def test_the_jsonl_export_escapes_lone_surrogates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(WEB))
    from control_center.messages import MessageLog

    log = MessageLog()
    text = '[2,"rs-1","RemoteStartTransaction",{"idTag":"\\ud800A","connectorId":1}]'
    log.add("in", text, "RemoteStartTransaction", 1_700_000_000.0)
    log.add("out", '[3,"rs-1",{"status":"Accepted"}]', "RemoteStartTransaction", 1_700_000_000.1)
    exported = log.export_jsonl()
    exported.encode("utf-8")  # a download is UTF-8: nothing may be replaced on the way
    first, _ = (json.loads(line) for line in exported.splitlines())
    assert first["frame"][3]["idTag"] == A and first["frame"] == json.loads(text)
