"""The simulated station: settings, wiring to the core, controls, offline switch, reboot, meters.

Stations run on an in-memory CSMS (station_fakes) and a Runtime on a VirtualClock, so every test
is deterministic and sleeps nowhere.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from station_fakes import URL, WALL, FakeBackend, Rig

from ocpp_core import FileStore, MemoryStore
from sim.connectors import METER_DOCUMENT
from sim.events import (
    ConnectionChanged,
    ConnectorSnapshot,
    FaultInfo,
    SnapshotChanged,
    StationRebooted,
)
from sim.settings import StationSettings
from sim.station import Station
from sim.transport.base import ConnectionState, TransportConfig, TransportListener

WSS = "wss://csms.test/ocpp"

# --- settings ---------------------------------------------------------------------------------


def test_settings_defaults_and_json_round_trip() -> None:
    settings = StationSettings(URL, auth_key="secret-key", connectors=3)
    data = settings.to_json()
    assert "auth_key" not in data
    assert data["connectors"] == 3 and data["vendor"] == "OpenSim"
    assert json.loads(json.dumps(data)) == data
    again = StationSettings.from_json(data)
    assert again.auth_key is None and again.connectors == 3
    full = StationSettings.from_json(settings.to_json(include_secret=True))
    assert full == settings


def test_settings_repr_masks_the_key() -> None:
    text = repr(StationSettings(URL, auth_key="hunter2-secret"))
    assert "hunter2" not in text and "auth_key='***'" in text
    assert "auth_key=None" in repr(StationSettings(URL))


def test_settings_from_json_accepts_whole_numbers_for_floats() -> None:
    settings = StationSettings.from_json({"csms_url": URL, "max_current_a": 16})
    assert settings.max_current_a == 16.0 and isinstance(settings.max_current_a, float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        ({}, "need csms_url"),
        ({"csms_url": URL, "colour": "red"}, "unknown station setting.*colour"),
        ({"csms_url": "http://h/ocpp"}, "must start with ws://"),
        ({"csms_url": URL, "connectors": 0}, "connectors must be from 1 to 99"),
        ({"csms_url": URL, "connectors": "2"}, "connectors must be a whole number"),
        ({"csms_url": URL, "connectors": True}, "connectors must be a whole number"),
        ({"csms_url": URL, "phases": 2}, "1 or 3 phases"),
        ({"csms_url": URL, "ev_soc_percent": 101}, "0..100"),
        ({"csms_url": URL, "ev_capacity_kwh": 0}, "capacity"),
        ({"csms_url": URL, "vendor": "x" * 21}, "vendor must be 1 to 20"),
        ({"csms_url": URL, "charge_box_id": ""}, "charge box id"),
        ({"csms_url": URL, "charge_box_id": "x" * 49}, "at most 48"),
        ({"csms_url": URL, "ocpp_version": "2.1"}, "unknown OCPP version"),
        ({"csms_url": URL, "auth_key": ""}, "authorization key is empty"),
        ({"csms_url": URL, "auth_key": "k", "charge_box_id": "a:b"}, "must not contain ':'"),
        ({"csms_url": URL, "max_current_a": float("nan")}, "must be a number"),
        ({"csms_url": WSS, "ca_file": 3}, "ca_file must be a string"),
        ({"csms_url": WSS, "client_cert_file": ""}, "client_cert_file is empty"),
        ({"csms_url": WSS, "client_key_file": "k.pem"}, "client_key_file needs client_cert_file"),
        ({"csms_url": URL, "ca_file": "ca.pem"}, "need a wss:// CSMS URL"),
    ],
)
def test_settings_explain_what_is_wrong(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StationSettings.from_json(data)


def test_tls_files_round_trip_and_reach_the_transport() -> None:
    settings = StationSettings(
        WSS, ca_file="/pki/ca.pem", client_cert_file="/pki/cp.pem", client_key_file="/pki/cp.key"
    )
    data = settings.to_json()
    assert data["ca_file"] == "/pki/ca.pem" and data["client_key_file"] == "/pki/cp.key"
    assert StationSettings.from_json(json.loads(json.dumps(data))) == settings
    plain = StationSettings(URL).to_json()
    assert plain["ca_file"] is None and plain["client_cert_file"] is None
    # A certificate file that holds its key too; an empty URL is not checked yet.
    assert StationSettings(WSS, client_cert_file="/pki/both.pem").client_key_file is None
    assert StationSettings("", ca_file="/pki/ca.pem").ca_file == "/pki/ca.pem"

    backend = FakeBackend()
    station = Station(settings, store=MemoryStore(), transport_factory=backend.transport_factory)
    station.connect()
    config = backend.transports[-1].config
    assert (config.ca_file, config.client_cert_file, config.client_key_file) == (
        "/pki/ca.pem", "/pki/cp.pem", "/pki/cp.key"
    )  # fmt: skip


def test_a_transport_refusing_the_settings_leaves_the_station_stopped() -> None:
    backend = FakeBackend()
    calls = []

    def factory(config: TransportConfig, listener: TransportListener) -> Any:
        calls.append(config)
        if len(calls) == 1:
            raise ValueError("cannot load the CA file /pki/ca.pem: No such file or directory")
        return backend.transport_factory(config, listener)

    settings = StationSettings(WSS, ca_file="/pki/ca.pem")
    station = Station(settings, store=MemoryStore(), transport_factory=factory)
    with pytest.raises(ValueError, match="cannot load the CA file"):
        station.connect()
    assert station.transport is None
    assert station.connection_state is ConnectionState.DISCONNECTED
    station.connect()  # not left "running" without a transport: this one starts
    assert station.transport is not None and len(calls) == 2


def test_an_empty_url_is_allowed_until_connect() -> None:
    station = Station(
        StationSettings(""), store=MemoryStore(), transport_factory=FakeBackend().transport_factory
    )
    with pytest.raises(ValueError, match="enter the CSMS URL"):
        station.connect()
    assert station.transport is None
    assert station.connection_state is ConnectionState.DISCONNECTED


def test_the_settings_version_chooses_the_engine() -> None:
    """1.6 and 2.0.1 run their own engine; 2.0.1 offers only ocpp2.0.1 (tests/test_sim_versions.py
    has negotiation, auto and the Store namespaces)."""
    for version in ("1.6", "2.0.1"):
        rig = Rig(FakeBackend(), ocpp_version=version).boot()
        assert rig.station.ocpp_version == version == rig.station.engine.version
        assert rig.backend.connections[-1].ocpp_version == version


# --- boot, identity, status -------------------------------------------------------------------


def test_boot_reports_the_identity_and_every_connector() -> None:
    rig = Rig(
        connectors=3,
        vendor="ACME",
        model="AC-11",
        serial="SN-42",
        firmware_version="9.9",
        meter_serial="M-1",
    ).boot()
    boot = rig.backend.payloads("BootNotification")[0]
    assert boot["chargePointVendor"] == "ACME"
    assert boot["chargePointModel"] == "AC-11"
    assert boot["chargePointSerialNumber"] == "SN-42"
    assert boot["firmwareVersion"] == "9.9"
    assert boot["meterSerialNumber"] == "M-1"
    connectors = [p["connectorId"] for p in rig.backend.payloads("StatusNotification")]
    assert sorted(connectors) == [0, 1, 2, 3]
    assert rig.station.connection_state is ConnectionState.CONNECTED
    states = [e.state for e in rig.events if isinstance(e, ConnectionChanged)]
    assert states == [ConnectionState.CONNECTING, ConnectionState.CONNECTED]
    snapshot = rig.station.snapshot(1)
    assert isinstance(snapshot, ConnectorSnapshot)
    assert snapshot.status == "Available" and snapshot.error_code == "NoError"
    assert not snapshot.plugged and snapshot.ev_ready and snapshot.evse_ready
    assert snapshot.power_w == 0 and snapshot.energy_wh == 0
    assert len(snapshot.current_a) == 3 and len(snapshot.voltage_v) == 3
    assert snapshot.soc_percent is None  # no car plugged in
    assert json.dumps(snapshot.to_json())


def test_the_clock_starts_at_the_given_wall_time_and_follows_the_csms() -> None:
    backend = FakeBackend()
    backend.up = False
    rig = Rig(backend)
    rig.station.connect()
    rig.run(5.0)
    assert rig.station.engine.clock.wall(rig.runtime.now()) == pytest.approx(WALL + 5.0)
    backend.wall = WALL + 1000.0
    backend.go_up()
    rig.run(0.0)
    assert rig.station.engine.clock.wall(rig.runtime.now()) == pytest.approx(WALL + 1000.0)


def test_connectors_are_checked() -> None:
    rig = Rig(connectors=2)
    for bad in (0, 3, "1", 1.0):
        with pytest.raises(ValueError, match="no connector"):
            rig.station.plug(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="idTag"):
        rig.station.present_card(1, "x" * 21)
    with pytest.raises(ValueError, match="idTag"):
        rig.station.present_card(1, "")


def test_plug_and_unplug_drive_the_status() -> None:
    rig = Rig().boot()
    rig.station.plug(2)
    rig.run(1.0)
    assert rig.station.snapshot(2).status == "Preparing"
    assert rig.station.snapshot(2).soc_percent == 20.0
    assert rig.backend.statuses(2)[-1] == "Preparing"
    rig.station.unplug(2)
    rig.run(1.0)
    assert rig.backend.statuses(2)[-1] == "Available"
    changed = [e.connector for e in rig.events if isinstance(e, SnapshotChanged)]
    assert 2 in changed


# --- faults -----------------------------------------------------------------------------------


def test_an_injected_fault_is_reported_with_info_and_vendor_code() -> None:
    rig = Rig(vendor="ACME").boot()
    rig.station.inject_fault(1, "GroundFailure", info="RCD tripped", vendor_error_code="E42")
    rig.run(1.0)
    last = rig.backend.payloads("StatusNotification")[-1]
    assert last["connectorId"] == 1 and last["status"] == "Faulted"
    assert last["errorCode"] == "GroundFailure"
    assert last["info"] == "RCD tripped"
    assert last["vendorErrorCode"] == "E42" and last["vendorId"] == "ACME"
    snapshot = rig.station.snapshot(1)
    assert snapshot.status == "Faulted" and snapshot.error_code == "GroundFailure"
    assert snapshot.fault == FaultInfo("GroundFailure", "RCD tripped", "E42")
    rig.station.clear_fault(1)
    rig.run(1.0)
    last = rig.backend.payloads("StatusNotification")[-1]
    assert (last["status"], last["errorCode"]) == ("Available", "NoError")
    assert rig.station.snapshot(1).fault is None


def test_ev_communication_error_is_a_warning_not_a_fault() -> None:
    rig = Rig().boot()
    rig.station.plug(1)
    rig.station.inject_fault(1, "EVCommunicationError")
    rig.run(1.0)
    last = rig.backend.payloads("StatusNotification")[-1]
    assert (last["status"], last["errorCode"]) == ("Preparing", "EVCommunicationError")


@pytest.mark.parametrize("code", ["NoError", "Bogus", ""])
def test_unknown_fault_codes_are_refused(code: str) -> None:
    with pytest.raises(ValueError, match="unknown error code"):
        Rig().station.inject_fault(1, code)


def test_fault_texts_are_bounded() -> None:
    with pytest.raises(ValueError, match="info must be"):
        Rig().station.inject_fault(1, "OtherError", info="x" * 51)
    with pytest.raises(ValueError, match="vendor_error_code must be"):
        Rig().station.inject_fault(1, "OtherError", vendor_error_code="x" * 51)


# --- outputs ----------------------------------------------------------------------------------


def test_the_lock_output_shows_in_the_snapshot() -> None:
    rig = Rig().boot()
    rig.station.engine.connector(1).lock(True)
    assert rig.station.snapshot(1).locked
    rig.station.engine.connector(1).lock(False)
    assert not rig.station.snapshot(1).locked


def test_the_charging_limit_output_reaches_the_meter() -> None:
    rig = Rig().boot()
    output = rig.station.engine.connector(1).charging_limit
    output(10.0)
    assert rig.station.snapshot(1).limit == (10.0, "A")
    assert rig.station.snapshot(2).limit is None
    output(None)
    assert rig.station.snapshot(1).limit is None


# --- connection -------------------------------------------------------------------------------


def test_offline_switch_disconnects_the_core_and_reconnects() -> None:
    rig = Rig().boot()
    rig.station.set_offline(True)
    rig.run(1.0)
    assert rig.station.connection_state is ConnectionState.OFFLINE
    assert not rig.station.engine.is_connected
    assert rig.station.offline
    rig.station.plug(1)  # the change happens while offline ...
    rig.run(10.0)
    assert "Preparing" not in rig.backend.statuses(1)
    rig.station.set_offline(False)
    rig.run(1.0)
    assert rig.station.connection_state is ConnectionState.CONNECTED
    assert rig.station.engine.is_connected
    assert rig.backend.statuses(1)[-1] == "Preparing"  # ... and is reported once back
    assert rig.backend.actions().count("BootNotification") == 1  # a reconnect is no reboot


def test_the_csms_going_away_and_coming_back() -> None:
    rig = Rig().boot()
    rig.backend.go_down()
    rig.run(1.0)
    assert rig.station.connection_state is ConnectionState.RECONNECT_WAIT
    assert "connection lost" in rig.station.connection_detail
    assert not rig.station.engine.is_connected
    rig.station.plug(1)
    rig.run(5.0)
    rig.backend.go_up()
    rig.run(1.0)
    assert rig.station.engine.is_connected
    assert rig.backend.statuses(1)[-1] == "Preparing"


def test_disconnect_closes_cleanly_and_saves_the_meters() -> None:
    store = MemoryStore()
    rig = Rig(store=store).boot()
    rig.station.disconnect()
    rig.run(1.0)
    assert rig.station.connection_state is ConnectionState.CLOSED
    assert not rig.station.engine.is_connected
    assert store.load(METER_DOCUMENT) == {"1": 0.0, "2": 0.0}


def test_the_auth_key_is_sent_and_a_wrong_one_is_refused() -> None:
    backend = FakeBackend(password="right-key")
    Rig(backend, auth_key="right-key").boot()
    assert backend.connections[-1].auth_key == "right-key"
    wrong = Rig(FakeBackend(password="right-key"), auth_key="wrong-key")
    wrong.station.connect()
    wrong.run(1.0)
    assert wrong.station.connection_state is ConnectionState.RECONNECT_WAIT
    assert "HTTP 401" in wrong.station.connection_detail
    assert "wrong-key" not in repr(wrong.events)


def test_a_new_authorization_key_from_the_csms_is_used_after_reconnecting() -> None:
    new_key = "0123456789abcdef0123456789abcdef"
    backend = FakeBackend()
    rig = Rig(backend, auth_key="old-key").boot()
    message_id = backend.call("ChangeConfiguration", {"key": "AuthorizationKey", "value": new_key})
    rig.run(0.0)
    assert backend.replies[message_id][2] == {"status": "Accepted"}
    assert backend.connections[-1].auth_key == "old-key"
    rig.run(2.0)
    assert len(backend.connections) == 2
    assert backend.connections[-1].auth_key == new_key
    assert rig.station.engine.is_connected
    assert new_key not in repr(rig.events)


def test_a_key_the_csms_set_is_used_by_the_next_run_without_one() -> None:
    new_key = "0123456789abcdef0123456789abcdef"
    store = MemoryStore()
    backend = FakeBackend()
    rig = Rig(backend, store=store).boot()
    backend.call("ChangeConfiguration", {"key": "AuthorizationKey", "value": new_key})
    rig.run(2.0)
    rig.station.disconnect()
    second = Rig(backend, store=store).boot()
    assert backend.connections[-1].auth_key == new_key
    assert second.station.engine.is_connected


# --- reset / reboot ---------------------------------------------------------------------------


def test_engine_setups_run_now_and_after_every_reboot() -> None:
    rig = Rig().boot()
    seen: list[object] = []
    rig.station.add_engine_setup(seen.append)
    assert seen == [rig.station.engine]
    rig.backend.call("Reset", {"type": "Hard"})
    rig.run(10.0)
    assert len(seen) == 2 and seen[1] is rig.station.engine and seen[0] is not seen[1]


@pytest.mark.parametrize("kind", ["Soft", "Hard"])
def test_reset_reboots_the_station_on_the_same_store(kind: str) -> None:
    store = MemoryStore()
    backend = FakeBackend()
    rig = Rig(backend, store=store).boot()
    rig.station.plug(1)
    backend.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "17"})
    rig.run(1.0)
    first_engine = rig.station.engine
    message_id = backend.call("Reset", {"type": kind})
    rig.run(10.0)
    assert backend.replies[message_id][2] == {"status": "Accepted"}
    assert rig.station.engine is not first_engine
    assert [e.kind for e in rig.events if isinstance(e, StationRebooted)] == [kind]
    assert backend.actions().count("BootNotification") == 2
    assert len(backend.connections) == 2
    assert rig.station.engine.is_connected
    assert rig.station.engine.registration == "Accepted"
    # Configuration survives (same Store), and so does the hardware: the car is still plugged.
    assert rig.station.engine.get_configuration("MeterValueSampleInterval") == "17"
    assert rig.station.snapshot(1).plugged
    assert backend.statuses(1)[-1] == "Preparing"
    assert any(type(e).__name__ == "ResetRequested" for e in rig.events)


def test_meter_registers_survive_a_new_station_on_the_same_store(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    store.save(METER_DOCUMENT, {"1": 1234.5, "2": "junk"})
    rig = Rig(store=FileStore(tmp_path))
    assert rig.station.snapshot(1).energy_wh == 1234.5
    assert rig.station.snapshot(2).energy_wh == 0.0


# --- events -----------------------------------------------------------------------------------


def test_subscribers_get_engine_and_station_events_and_can_unsubscribe() -> None:
    rig = Rig()
    seen: list[object] = []
    unsubscribe = rig.station.subscribe(seen.append)
    rig.boot()
    names = {type(e).__name__ for e in seen}
    assert {"FrameLogged", "StatusChanged", "BootAccepted", "ConnectionChanged"} <= names
    unsubscribe()
    count = len(seen)
    rig.station.plug(1)
    rig.run(1.0)
    assert len(seen) == count


def test_a_failing_subscriber_does_not_break_the_station() -> None:
    rig = Rig()

    def broken(event: object) -> None:
        raise RuntimeError("boom")

    rig.station.subscribe(broken)
    rig.boot()
    assert rig.station.engine.is_connected


# --- sessions: the RFID reader ----------------------------------------------------------------


def charging(rig: Rig, n: int = 1, tag: str = "TAG-1") -> None:
    rig.station.plug(n)
    rig.station.present_card(n, tag)
    rig.run(1.0)
    assert rig.station.snapshot(n).status == "Charging"


def test_a_card_starts_a_session_and_the_same_card_stops_it() -> None:
    rig = Rig().boot()
    rig.station.plug(1)
    rig.run(1.0)
    rig.station.present_card(1, "TAG-1")
    rig.run(1.0)
    assert rig.backend.payloads("Authorize") == [{"idTag": "TAG-1"}]
    start = rig.backend.payloads("StartTransaction")[0]
    assert start["connectorId"] == 1 and start["idTag"] == "TAG-1" and start["meterStart"] == 0
    snapshot = rig.station.snapshot(1)
    assert snapshot.status == "Charging"
    assert snapshot.transaction_id == 1 and snapshot.id_tag == "TAG-1"
    assert snapshot.last_auth == ("TAG-1", "Accepted")
    assert snapshot.locked  # the cable is locked while the transaction runs
    assert snapshot.power_w > 20_000 and snapshot.current_a == [32.0, 32.0, 32.0]
    rig.run(600.0)
    energy = rig.station.snapshot(1).energy_wh
    assert energy == pytest.approx(22_080 * 601 / 3600, rel=0.03)
    samples = [p for p in rig.backend.payloads("MeterValues") if p.get("transactionId") == 1]
    registers = [float(p["meterValue"][0]["sampledValue"][0]["value"]) for p in samples]
    assert len(registers) == 10 and registers == sorted(registers)  # every 60 s, growing
    rig.station.present_card(1, "TAG-1")
    rig.run(1.0)
    stop = rig.backend.payloads("StopTransaction")[0]
    assert stop["transactionId"] == 1 and stop["reason"] == "Local" and stop["idTag"] == "TAG-1"
    assert stop["meterStop"] == math.floor(rig.station.snapshot(1).energy_wh)  # whole Wh
    snapshot = rig.station.snapshot(1)
    assert snapshot.status == "Finishing" and snapshot.power_w == 0
    assert snapshot.transaction_id is None and snapshot.id_tag is None and not snapshot.locked
    rig.station.unplug(1)
    rig.run(1.0)
    assert rig.backend.statuses(1)[-1] == "Available"
    names = {type(e).__name__ for e in rig.events}
    assert {"SessionStarted", "SessionStopped", "AuthorizationResult"} <= names


def test_a_card_of_the_same_group_stops_the_session_another_does_not() -> None:
    backend = FakeBackend()
    groups = {"TAG-A": "FLEET", "TAG-B": "FLEET", "TAG-X": "OTHER"}

    def authorize(payload: dict) -> dict:
        return {"idTagInfo": {"status": "Accepted", "parentIdTag": groups[payload["idTag"]]}}

    backend.handlers["Authorize"] = authorize
    backend.handlers["StartTransaction"] = lambda payload: {
        "transactionId": 7,
        "idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET"},
    }
    rig = Rig(backend).boot()
    charging(rig, tag="TAG-A")
    rig.station.present_card(1, "TAG-X")
    rig.run(1.0)
    assert rig.station.snapshot(1).status == "Charging"
    assert not backend.payloads("StopTransaction")
    rig.station.present_card(1, "TAG-B")
    rig.run(1.0)
    stop = backend.payloads("StopTransaction")[0]
    assert stop["transactionId"] == 7 and stop["idTag"] == "TAG-B"
    assert rig.station.snapshot(1).status == "Finishing"


def test_a_refused_card_starts_nothing() -> None:
    backend = FakeBackend()
    backend.handlers["Authorize"] = lambda payload: {"idTagInfo": {"status": "Blocked"}}
    rig = Rig(backend).boot()
    rig.station.plug(1)
    rig.station.present_card(1, "BAD")
    rig.run(2.0)
    assert not backend.payloads("StartTransaction")
    snapshot = rig.station.snapshot(1)
    assert snapshot.last_auth == ("BAD", "Blocked")
    assert snapshot.status == "Preparing" and snapshot.power_w == 0


# --- the meter under the core -----------------------------------------------------------------


def test_energy_is_the_integral_of_power() -> None:
    rig = Rig().boot()
    charging(rig)
    seen: list[tuple[float, float]] = []
    start = rig.station.snapshot(1).energy_wh
    integral = 0.0
    previous_now, previous_power = rig.runtime.now(), rig.station.snapshot(1).power_w
    for _ in range(300):
        rig.run(1.0)
        now, snapshot = rig.runtime.now(), rig.station.snapshot(1)
        integral += previous_power * (now - previous_now) / 3600
        previous_now, previous_power = now, snapshot.power_w
        seen.append((now, snapshot.power_w))
    assert rig.station.snapshot(1).energy_wh - start == pytest.approx(integral, rel=1e-9)
    powers = {round(p) for _, p in seen}
    assert len(powers) > 10  # the voltage drifts, so does the power


def test_the_charging_limit_of_the_core_caps_the_current() -> None:
    rig = Rig().boot()
    charging(rig)
    profile = {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "startSchedule": "2020-01-01T00:00:00Z",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
        },
    }
    message_id = rig.backend.call(
        "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile}
    )
    rig.run(1.0)
    assert rig.backend.replies[message_id][2] == {"status": "Accepted"}
    snapshot = rig.station.snapshot(1)
    assert snapshot.limit == (10.0, "A")
    assert snapshot.current_a == [10.0, 10.0, 10.0]
    assert snapshot.power_w == pytest.approx(3 * 10 * 230, rel=0.03)
    rig.backend.call("ClearChargingProfile", {"id": 1})
    rig.run(1.0)
    assert rig.station.snapshot(1).limit is None
    assert rig.station.snapshot(1).current_a == [32.0, 32.0, 32.0]


def test_a_limit_of_zero_suspends_the_flow() -> None:
    rig = Rig().boot()
    charging(rig)
    rig.station.engine.connector(1).charging_limit(0.0)
    rig.run(1.0)
    assert rig.station.snapshot(1).power_w == 0


def test_a_full_battery_stops_charging() -> None:
    rig = Rig(ev_capacity_kwh=1.0, ev_soc_percent=99.0).boot()
    charging(rig)
    rig.run(10.0)  # 10 Wh at 22 kW take about 1.6 s
    snapshot = rig.station.snapshot(1)
    assert snapshot.soc_percent == 100.0
    assert snapshot.power_w == 0
    assert snapshot.status == "SuspendedEV"
    assert snapshot.energy_wh == pytest.approx(10.0, abs=0.01)
    rig.run(100.0)
    assert rig.station.snapshot(1).energy_wh == pytest.approx(10.0, abs=0.01)


def test_ev_and_evse_switches_suspend_the_flow() -> None:
    rig = Rig().boot()
    charging(rig)
    rig.station.set_ev_ready(1, False)
    rig.run(1.0)
    assert rig.station.snapshot(1).status == "SuspendedEV"
    assert rig.station.snapshot(1).power_w == 0
    rig.station.set_ev_ready(1, True)
    rig.station.set_evse_ready(1, False)
    rig.run(1.0)
    assert rig.station.snapshot(1).status == "SuspendedEVSE"
    assert rig.station.snapshot(1).power_w == 0
    rig.station.set_evse_ready(1, True)
    rig.run(1.0)
    assert rig.station.snapshot(1).status == "Charging"
    assert rig.station.snapshot(1).power_w > 0


def test_a_fault_stops_the_flow() -> None:
    rig = Rig().boot()
    charging(rig)
    rig.station.inject_fault(1, "OverCurrentFailure")
    rig.run(1.0)
    snapshot = rig.station.snapshot(1)
    assert snapshot.status == "Faulted" and snapshot.power_w == 0
    energy = snapshot.energy_wh
    rig.run(60.0)
    assert rig.station.snapshot(1).energy_wh == energy


def test_one_phase_car_on_a_three_phase_station() -> None:
    rig = Rig(ev_phases=1, ev_max_current_a=16.0).boot()
    charging(rig)
    snapshot = rig.station.snapshot(1)
    assert snapshot.current_a == [16.0, 0.0, 0.0]
    assert snapshot.power_w == pytest.approx(16 * 230, rel=0.03)


def test_meter_values_carry_current_voltage_and_soc_per_phase() -> None:
    rig = Rig().boot()
    measurands = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC"
    message_id = rig.backend.call(
        "ChangeConfiguration", {"key": "MeterValuesSampledData", "value": measurands}
    )
    rig.run(0.0)
    assert rig.backend.replies[message_id][2] == {"status": "Accepted"}
    charging(rig)
    rig.run(60.0)
    sampled = rig.backend.payloads("MeterValues")[-1]["meterValue"][0]["sampledValue"]
    found = {(s.get("measurand"), s.get("phase")): s for s in sampled}
    for phase in ("L1", "L2", "L3"):
        assert float(found["Current.Import", phase]["value"]) == 32.0
        assert found["Current.Import", phase]["unit"] == "A"
        assert 220 < float(found["Voltage", f"{phase}-N"]["value"]) < 240
    assert found["SoC", None]["unit"] == "Percent" and found["SoC", None]["location"] == "EV"
    assert 20 < float(found["SoC", None]["value"]) < 22
    assert float(found["Power.Active.Import", None]["value"]) > 20_000


# --- sessions and the network -----------------------------------------------------------------


def test_transaction_messages_queued_offline_are_delivered_in_order() -> None:
    rig = Rig().boot()
    charging(rig)
    rig.backend.go_down()
    rig.run(150.0)  # two periodic samples while the CSMS is away
    rig.station.present_card(1, "TAG-1")  # stopped locally, offline
    rig.run(1.0)
    assert rig.station.snapshot(1).status == "Finishing"
    assert rig.station.engine.queue_length() == 3
    before = len(rig.backend.calls)
    rig.backend.go_up()
    rig.run(5.0)
    delivered = [(a, p) for a, p in rig.backend.calls[before:] if a != "StatusNotification"]
    assert [a for a, _ in delivered] == ["MeterValues", "MeterValues", "StopTransaction"]
    stamps = [p["meterValue"][0]["timestamp"] for _, p in delivered[:2]]
    stamps.append(delivered[2][1]["timestamp"])
    assert stamps == sorted(stamps)
    assert rig.station.engine.queue_length() == 0


def test_the_offline_switch_during_a_session() -> None:
    rig = Rig().boot()
    charging(rig)
    rig.station.set_offline(True)
    rig.run(70.0)
    assert rig.station.snapshot(1).status == "Charging"  # charging goes on offline
    assert rig.station.engine.queue_length() == 1
    rig.station.set_offline(False)
    rig.run(1.0)
    assert rig.station.engine.queue_length() == 0
    assert rig.backend.payloads("MeterValues")[-1]["transactionId"] == 1


def test_a_soft_reset_stops_the_session_then_reboots() -> None:
    rig = Rig().boot()
    charging(rig)
    rig.backend.call("Reset", {"type": "Soft"})
    rig.run(10.0)
    stop = rig.backend.payloads("StopTransaction")[0]
    assert stop["reason"] == "SoftReset"
    assert rig.backend.actions().count("BootNotification") == 2
    assert rig.station.snapshot(1).power_w == 0
    assert rig.station.snapshot(1).plugged


@pytest.mark.parametrize("resume", [False, True])
def test_a_power_cut_during_a_session(resume: bool) -> None:
    store = MemoryStore()
    backend = FakeBackend()
    rig = Rig(backend, store=store, resume_transactions_after_restart=resume).boot()
    charging(rig)
    rig.run(60.0)
    rig.station.flush()  # what a real meter keeps; the station object just vanishes
    again = Rig(backend, store=store, resume_transactions_after_restart=resume)
    again.station.plug(1)
    again.boot()
    again.run(1.0)
    if resume:
        assert not backend.payloads("StopTransaction")
        assert again.station.snapshot(1).status == "Charging"
        assert again.station.snapshot(1).id_tag == "TAG-1"
    else:
        stop = backend.payloads("StopTransaction")[0]
        assert stop["reason"] == "PowerLoss"
        assert again.station.snapshot(1).status != "Charging"


def test_the_ping_interval_follows_websocket_ping_interval() -> None:
    backend = FakeBackend()
    Rig(backend).boot()
    assert backend.connections[-1].ping_interval_s is None  # 0: no pings (like a browser)
    station = Station(
        StationSettings(URL, charge_box_id="PING"),
        store=MemoryStore(),
        transport_factory=backend.transport_factory,
        config_defaults={"WebSocketPingInterval": "20"},
    )
    station.connect()
    assert backend.connections[-1].ping_interval_s == 20.0
    assert station.engine.get_configuration("WebSocketPingInterval") == "20"


def test_reconnecting_for_a_new_key_gives_back_the_unanswered_call() -> None:
    new_key = "0123456789abcdef0123456789abcdef"
    backend = FakeBackend()
    rig = Rig(backend).boot()
    backend.handlers["StatusNotification"] = lambda payload: None  # never answered
    rig.station.plug(1)
    rig.run(1.0)
    assert backend.statuses(1)[-1] == "Preparing"
    backend.call("ChangeConfiguration", {"key": "AuthorizationKey", "value": new_key})
    rig.run(0.0)
    del backend.handlers["StatusNotification"]
    rig.run(2.0)  # reconnected with the new key: the lost notification is sent again
    assert backend.connections[-1].auth_key == new_key
    assert backend.statuses(1)[-2:] == ["Preparing", "Preparing"]


def test_disconnect_then_connect_at_once() -> None:
    backend = FakeBackend()
    rig = Rig(backend).boot()
    rig.station.disconnect()
    rig.station.connect()
    rig.station.plug(1)
    rig.run(1.0)
    assert rig.station.engine.is_connected
    assert len(backend.connections) == 2
    assert backend.statuses(1)[-1] == "Preparing"
    assert backend.actions().count("BootNotification") == 1


# --- reservations, smart charging, firmware management, echo ---------------------------------


def test_a_reservation_shows_in_the_snapshot() -> None:
    rig = Rig().boot()
    expiry = "2099-01-01T12:30:00.000Z"
    payload = {"connectorId": 2, "expiryDate": expiry, "idTag": "HOLDER", "reservationId": 4}
    message_id = rig.backend.call("ReserveNow", payload)
    rig.run(1.0)
    assert rig.backend.replies[message_id][2] == {"status": "Accepted"}
    snapshot = rig.station.snapshot(2)
    assert snapshot.status == "Reserved"
    assert snapshot.reservation == (4, 2, "HOLDER", expiry)
    assert snapshot.to_json()["reservation"]["id_tag"] == "HOLDER"
    assert rig.station.snapshot(1).reservation is None
    rig.station.present_card(2, "SOMEONE")
    rig.run(1.0)
    assert rig.station.snapshot(2).last_auth == ("SOMEONE", "ReservationConflict")
    rig.station.plug(2)
    rig.station.present_card(2, "HOLDER")
    rig.run(1.0)
    assert rig.station.snapshot(2).status == "Charging"
    assert rig.station.snapshot(2).reservation is None
    starts = [payload for action, payload in rig.backend.calls if action == "StartTransaction"]
    assert starts[-1]["reservationId"] == 4


def test_profiles_and_the_composite_schedule_per_connector() -> None:
    rig = Rig(phases=1, max_current_a=16.0).boot()
    profile = {
        "chargingProfileId": 2,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "startSchedule": "2020-01-01T00:00:00Z",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 2300.0}],
        },
    }
    rig.backend.call("SetChargingProfile", {"connectorId": 0, "csChargingProfiles": profile})
    rig.run(1.0)
    assert rig.station.charging_profiles(1) == [{"connectorId": 0, **profile}]
    assert rig.station.charging_profiles(2) == [{"connectorId": 0, **profile}]
    schedule = rig.station.composite_schedule(1, 600)
    assert schedule["status"] == "Accepted"
    # 2300 W on the station's one phase at 230 V: 10 A (the supply reached the core)
    [period] = schedule["chargingSchedule"]["chargingSchedulePeriod"]
    assert period["limit"] == 10.0
    with pytest.raises(ValueError):
        rig.station.charging_profiles(3)


def test_transfer_failures_apply_and_survive_a_reboot() -> None:
    from sim.events import TransferFailures

    rig = Rig().boot()
    assert rig.station.transfer_failures == TransferFailures()
    rig.station.set_transfer_failures(TransferFailures(firmware_install=True))
    rig.backend.call(
        "UpdateFirmware",
        {"location": "ftp://fw.test/fw-9.9.bin", "retrieveDate": "2020-01-01T00:00:00Z",
         "retries": 0},
    )  # fmt: skip
    rig.run(30.0)
    statuses = [p["status"] for a, p in rig.backend.calls if a == "FirmwareStatusNotification"]
    assert statuses == ["Downloading", "Downloaded", "Installing", "InstallationFailed"]
    assert rig.station.firmware_progress.status == "InstallationFailed"
    rig.backend.call("Reset", {"type": "Soft"})
    rig.run(5.0)
    assert rig.of_type("StationRebooted")
    assert rig.station.transfer_failures == TransferFailures(firmware_install=True)


def test_the_diagnostics_file_holds_the_recent_frames_without_the_key() -> None:
    rig = Rig(auth_key="0123456789abcdef0123").boot()
    rig.backend.call(
        "ChangeConfiguration", {"key": "AuthorizationKey", "value": "fedcba9876543210fedc"}
    )
    rig.run(1.0)
    rig.backend.call("GetDiagnostics", {"location": "ftp://diag.test/upload"})
    rig.run(30.0)
    assert rig.station.diagnostics_progress.status == "Uploaded"
    _name, content = rig.station.engine.last_diagnostics
    text = content.decode()
    assert "BootNotification" in text and "ChangeConfiguration" in text
    assert "fedcba9876543210fedc" not in text and "0123456789abcdef0123" not in text


def test_an_echo_server_is_noticed_once_per_connection() -> None:
    backend = FakeBackend()
    rig = Rig(backend).boot()
    assert not rig.station.backend_echoes
    transport = backend.live
    # the backend sends the station's own last frame back
    sent = [t for t in rig.events if type(t).__name__ == "FrameLogged" and t.direction == "out"]
    last_sent = sent[-1].text
    transport.listener.on_message(last_sent)
    transport.listener.on_message(last_sent)
    rig.run(1.0)
    assert rig.station.backend_echoes
    assert len(rig.of_type("BackendEchoes")) == 1
    backend.go_down()
    rig.run(1.0)
    backend.go_up()
    rig.run(5.0)
    assert not rig.station.backend_echoes


def test_echo_detector() -> None:
    from sim.echo import EchoDetector

    echo = EchoDetector()
    boot = '[2,"1","BootNotification",{}]'
    assert not echo.observe("out", boot)
    assert not echo.observe("in", '[3,"1",{}]')
    assert echo.observe("in", boot)
    echo.reset()
    assert not echo.observe("in", boot)


def test_the_firmware_image_is_kept_after_the_reboot_and_forgotten_by_the_next_download() -> None:
    """What the GUI and the CLI show as ``firmware_image``: the size and SHA-256 the host
    reported for the image, through the reboot into it, until another download starts."""
    from sim.events import FirmwareImage

    rig = Rig().boot()
    locations: list[str] = []

    class RecordingHost:
        def start_download(self, location: str, now: float) -> None:
            locations.append(location)

        def start_upload(self, location: str, file_name: str, content: bytes, now: float) -> None:
            raise AssertionError("no upload expected")

    rig.station.add_engine_setup(lambda engine: engine.set_transfer_host(RecordingHost()))
    update = {
        "location": "http://fw.test/fw-2.0.bin", "retrieveDate": "2020-01-01T00:00:00Z",
        "retries": 0,
    }  # fmt: skip
    rig.backend.call("UpdateFirmware", update)
    rig.run(1.0)
    assert locations == ["http://fw.test/fw-2.0.bin"] and rig.station.firmware_image is None
    digest = "ab" * 32
    rig.station.engine.firmware_download_finished(True, "downloaded", 4096, digest, now=rig.clock())
    rig.runtime.wake(rig.station)  # as a real host does when its transfer ends
    rig.run(30.0)
    assert rig.of_type("StationRebooted")
    assert rig.station.firmware_progress.status == "Installed"
    assert rig.station.firmware_image == FirmwareImage(4096, digest)
    rig.backend.call("UpdateFirmware", update)
    rig.run(1.0)
    assert rig.station.firmware_progress.status == "Downloading"
    assert rig.station.firmware_image is None
